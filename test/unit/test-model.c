/* Unit tests: domain record helpers. */
#undef NDEBUG
#include "cppo/model.h"

#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "recordfill.h"

static void strlist_add_unique_and_copy(void **state)
{
        struct strlist a = { 0 }, b = { 0 };

        assert_int_equal(strlist_add_unique(&a, "x"), 0);
        assert_int_equal(strlist_add_unique(&a, "y"), 0);
        assert_int_equal(strlist_add_unique(&a, "x"), 0);
        assert_int_equal(a.n, 2);
        assert_true(strlist_contains(&a, "y"));
        assert_false(strlist_contains(&a, "z"));
        assert_int_equal(strlist_add(&b, "old"), 0);
        assert_int_equal(strlist_copy(&b, &a), 0);
        assert_int_equal(b.n, 2);
        assert_string_equal(b.v[1], "y");
        strlist_clear(&a);
        strlist_clear(&b);
        strlist_clear(&b);
}

static void link_names_round_trip(void **state)
{
        enum link_strength s;

        for (int i = LINK_NONE; i <= LINK_EVENT; i++) {
                assert_int_equal(link_strength_parse(link_strength_name((enum link_strength)i), &s),
                                 0);
                assert_int_equal(s, i);
        }
        assert_int_equal(link_strength_parse("strong", &s), -EINVAL);
        assert_true(LINK_EVENT > LINK_REGISTERED && LINK_REGISTERED > LINK_MANUAL &&
                    LINK_MANUAL > LINK_INFERRED);
}

static void clear_frees_everything(void **state)
{
        struct authorization a = { 0 };
        struct offer o = { 0 };
        struct agreement g = { 0 };
        struct hold h = { 0 };
        struct notification n = { 0 };

        assert_int_equal(str_assign(&a.id, "resaleauthz-1"), 0);
        assert_int_equal(str_assign(&a.id, "resaleauthz-2"), 0);
        assert_string_equal(a.id, "resaleauthz-2");
        assert_int_equal(strlist_add(&a.offer_ids, "offer-1"), 0);
        assert_int_equal(str_assign(&o.id, "offer-1"), 0);
        assert_int_equal(str_assign(&g.status, "ACTIVE"), 0);
        assert_int_equal(str_assign(&h.offer_id, "offer-1"), 0);
        assert_int_equal(str_assign(&n.key, "new_order/agmt-1"), 0);
        assert_int_equal(str_assign(&n.key, NULL), 0);
        assert_null(n.key);
        authorization_clear(&a);
        offer_clear(&o);
        agreement_clear(&g);
        hold_clear(&h);
        notification_clear(&n);
        assert_null(a.id);
        authorization_clear(&a);
}

static void changeset_replaces_by_key_and_merges(void **state)
{
        struct changeset a = { 0 }, b = { 0 };
        struct offer o = { 0 };
        struct hold h = { 0 };
        struct notification n = { 0 };

        assert_int_equal(str_assign(&o.id, "offer-1"), 0);
        assert_int_equal(str_assign(&o.name, "first"), 0);
        assert_int_equal(changeset_add_offer(&a, &o), 0);
        assert_int_equal(str_assign(&o.name, "second"), 0);
        assert_int_equal(changeset_add_offer(&a, &o), 0);
        assert_int_equal(a.n_offers, 1);
        assert_string_equal(a.offers[0].name, "second");

        assert_int_equal(str_assign(&h.offer_id, "offer-1"), 0);
        assert_int_equal(changeset_add_hold(&a, &h), 0);
        assert_int_equal(changeset_release_hold(&a, "offer-1"), 0);
        assert_int_equal(a.n_holds, 0);
        assert_int_equal(a.released_holds.n, 1);
        assert_int_equal(changeset_add_hold(&a, &h), 0);
        assert_int_equal(a.n_holds, 1);
        assert_int_equal(a.released_holds.n, 0);

        assert_int_equal(str_assign(&n.key, "new_order/agmt-1"), 0);
        assert_int_equal(changeset_add_notification(&b, &n), 0);
        assert_int_equal(str_assign(&o.name, "third"), 0);
        assert_int_equal(changeset_add_offer(&b, &o), 0);
        assert_int_equal(changeset_merge(&a, &b), 0);
        assert_int_equal(b.n_offers, 0);
        assert_int_equal(a.n_offers, 1);
        assert_string_equal(a.offers[0].name, "third");
        assert_int_equal(a.n_notifications, 1);
        assert_string_equal(a.notifications[0].key, "new_order/agmt-1");

        changeset_clear(&a);
        changeset_clear(&b);
        offer_clear(&o);
        hold_clear(&h);
        notification_clear(&n);
}

static const struct record_type *const all_records[] = {
        &authorization_record, &offer_record,        &agreement_record,
        &hold_record,          &notification_record, &link_change_record,
};

/* Each table names every member of its record: sorted by offset, fields
 * never overlap and leave no gap wider than alignment padding, so a member
 * missing from its table (never copied, cleared or stored) fails here. */
/* Many records saved again and again in one set (a batch), holds released
 * from the middle (the last one takes the place): each key stays once, at
 * the place it was first added, with its newest copy. */
static void changeset_keeps_each_key_once_through_releases(void **state)
{
        struct changeset c = { 0 };
        char id[32], name[32];

        (void)state;
        for (int round = 0; round < 3; round++)
                for (int i = 0; i < 300; i++) {
                        struct offer o = { .id = id, .name = name };
                        snprintf(id, sizeof id, "offer-%d", i);
                        snprintf(name, sizeof name, "round %d", round);
                        assert_int_equal(changeset_add_offer(&c, &o), 0);
                }
        assert_int_equal(c.n_offers, 300);
        assert_string_equal(c.offers[0].id, "offer-0");
        assert_string_equal(c.offers[299].id, "offer-299");
        assert_string_equal(c.offers[123].name, "round 2");
        for (int i = 0; i < 5; i++) {
                struct hold h = { .offer_id = id, .created_at = i };
                snprintf(id, sizeof id, "offer-%d", i);
                assert_int_equal(changeset_add_hold(&c, &h), 0);
        }
        assert_int_equal(changeset_release_hold(&c, "offer-1"), 0); /* offer-4 moves to [1] */
        assert_int_equal(c.n_holds, 4);
        assert_string_equal(c.holds[1].offer_id, "offer-4");
        {
                struct hold again = { .offer_id = (char *)"offer-4", .created_at = 40 };
                assert_int_equal(changeset_add_hold(&c, &again), 0); /* found where it moved */
        }
        assert_int_equal(c.n_holds, 4);
        assert_int_equal(c.holds[1].created_at, 40);
        assert_int_equal(changeset_release_hold(&c, "offer-4"), 0); /* offer-3 moves to [1] */
        assert_int_equal(changeset_release_hold(&c, "offer-3"), 0); /* offer-2 moves to [1] */
        assert_int_equal(changeset_release_hold(&c, "offer-9"), 0); /* not there: recorded */
        assert_int_equal(c.n_holds, 2);
        assert_string_equal(c.holds[0].offer_id, "offer-0");
        assert_string_equal(c.holds[1].offer_id, "offer-2");
        assert_true(strlist_contains(&c.released_holds, "offer-9"));
        {
                struct hold back = { .offer_id = (char *)"offer-1", .created_at = 11 };
                assert_int_equal(changeset_add_hold(&c, &back), 0); /* released, then held again */
        }
        assert_int_equal(c.n_holds, 3);
        assert_string_equal(c.holds[2].offer_id, "offer-1");
        assert_false(strlist_contains(&c.released_holds, "offer-1"));
        changeset_clear(&c);
        assert_int_equal(c.n_offers, 0);
        /* a cleared set is reusable */
        {
                struct offer o = { .id = (char *)"offer-0" };
                assert_int_equal(changeset_add_offer(&c, &o), 0);
                assert_int_equal(changeset_add_offer(&c, &o), 0);
        }
        assert_int_equal(c.n_offers, 1);
        changeset_clear(&c);
}

static void record_tables_cover_every_member(void **state)
{
        for (size_t k = 0; k < sizeof all_records / sizeof all_records[0]; k++) {
                const struct record_type *t = all_records[k];
                size_t end = 0;
                for (size_t done = 0; done < t->n_fields; done++) {
                        const struct field *next = NULL;
                        for (size_t i = 0; i < t->n_fields; i++)
                                if (t->fields[i].offset >= end &&
                                    (next == NULL || t->fields[i].offset < next->offset))
                                        next = &t->fields[i];
                        if (next == NULL) {
                                fail();
                                return;
                        }
                        assert_true(next->offset - end < sizeof(int64_t));
                        end = next->offset + field_size(next->type);
                }
                assert_true(end <= t->size && t->size - end < sizeof(int64_t));
        }
}

static void record_copy_and_clear_walk_every_field(void **state)
{
        for (size_t k = 0; k < sizeof all_records / sizeof all_records[0]; k++) {
                const struct record_type *t = all_records[k];
                /* aligned as any record: the tests walk them by offset */
                _Alignas(16) char src[512] = { 0 }, dst[512] = { 0 };
                char zero[512] = { 0 };
                assert_true(t->size <= sizeof src);
                fill_record(t, src);
                assert_int_equal(record_copy(t, dst, src), 0);
                assert_same_record(t, src, dst);
                record_clear(t, src);
                record_clear(t, dst);
                assert_memory_equal(dst, zero, t->size);
        }
}

/* A copy over a record that holds its own copies: the strings and lists it
 * already holds equal are kept (the same allocations), the others are
 * replaced, a NULL or empty source clears them (the kept allocations fail
 * while every field is freed and copied). */
static void record_copy_over_a_copy_keeps_what_is_equal(void **state)
{
        struct authorization a = { 0 }, b = { 0 };
        char *kept_name, *kept_notify;

        (void)state;
        assert_int_equal(str_assign(&a.id, "ra-1"), 0);
        assert_int_equal(str_assign(&a.name, "Contoso"), 0);
        assert_int_equal(str_assign(&a.product_id, "prod-1"), 0);
        assert_int_equal(strlist_add(&a.notify, "a@example.com"), 0);
        assert_int_equal(strlist_add(&a.buyer_account_ids, "111122223333"), 0);
        a.registered = true;
        assert_int_equal(authorization_copy(&b, &a), 0);
        kept_name = b.name;
        kept_notify = b.notify.v[0];
        assert_int_equal(str_assign(&a.id, "ra-2"), 0);
        free(a.product_id);
        a.product_id = NULL;
        assert_int_equal(strlist_add(&a.buyer_account_ids, "444455556666"), 0);
        a.registered = false;
        assert_int_equal(authorization_copy(&b, &a), 0);
        assert_ptr_equal(b.name, kept_name);
        assert_ptr_equal(b.notify.v[0], kept_notify);
        assert_string_equal(b.id, "ra-2");
        assert_null(b.product_id);
        assert_int_equal(b.buyer_account_ids.n, 2);
        assert_string_equal(b.buyer_account_ids.v[1], "444455556666");
        assert_false(b.registered);
        strlist_clear(&a.notify);
        assert_int_equal(authorization_copy(&b, &a), 0);
        assert_int_equal(b.notify.n, 0);
        assert_null(b.notify.v);
        authorization_clear(&a);
        authorization_clear(&b);
}

/* What authorization_sources_format wrote with snprintf: the reference. */
static void sources_by_snprintf(const struct authorization *a, char *buf, size_t len)
{
        size_t used = 0;

        buf[0] = '\0';
        for (int f = 0; f < AUTH_F_COUNT; f++) {
                int n;
                if (a->sources[f] == AUTH_SRC_NONE)
                        continue;
                n = snprintf(buf + used, len - used, "%s%s=%s", used ? "," : "",
                             auth_field_name((enum auth_field)f),
                             auth_source_name((enum auth_source)a->sources[f]));
                if (n < 0 || (size_t)n >= len - used) {
                        buf[used] = '\0';
                        return;
                }
                used += (size_t)n;
        }
}

/* The sources text is what the snprintf version wrote, for several mixes of
 * sources and every buffer size from 1 up (a pair that does not fit whole
 * is left out, and so are all after it). */
static void sources_format_matches_snprintf(void **state)
{
        struct authorization a = { 0 };
        char got[256], want[256];

        (void)state;
        for (int mix = 0; mix < 4 * AUTH_F_COUNT; mix++) {
                for (int f = 0; f < AUTH_F_COUNT; f++)
                        a.sources[f] = (unsigned char)((mix + f * (mix % 3 + 1)) % 4);
                for (size_t len = 1; len <= sizeof got; len++) {
                        memset(got, 'x', sizeof got);
                        authorization_sources_format(&a, got, len);
                        sources_by_snprintf(&a, want, len);
                        assert_string_equal(got, want);
                }
        }
        a.sources[0] = AUTH_SRC_AWS;
        authorization_sources_format(&a, got, 0); /* writes nothing */
}

/* A record with bytes (FIELD_BLOB, as the store's deliveries have): the
 * copy keeps every byte, a NUL among them, and the length after them. */
struct with_blob {
        char *name;
        char *bytes;
        size_t len;
};

static const struct field with_blob_fields[] = {
        { .name = "name", .type = FIELD_STR, .offset = offsetof(struct with_blob, name) },
        { .name = "bytes", .type = FIELD_BLOB, .offset = offsetof(struct with_blob, bytes) },
};

static const struct record_type with_blob_record = {
        "with_blob",
        with_blob_fields,
        2,
        sizeof(struct with_blob),
};

static void record_copy_keeps_blob_bytes(void **state)
{
        struct with_blob a = { 0 }, b = { 0 };

        fill_record(&with_blob_record, &a);
        assert_int_equal(record_copy(&with_blob_record, &b, &a), 0);
        assert_same_record(&with_blob_record, &a, &b);
        assert_int_equal(b.len, 5);
        assert_memory_equal(b.bytes, "bl\0ob", 6);
        record_clear(&with_blob_record, &a);
        record_clear(&with_blob_record, &b);
        assert_null(b.bytes);
        assert_int_equal(b.len, 0);
}

/* The arrays grow by doubling and their capacity follows from their
 * length: releases that shrink the holds below a doubling and adds that
 * grow them past it again, and link changes past several doublings, keep
 * every entry (an ASan run catches a write past a wrongly assumed room). */
static void changeset_arrays_grow_and_shrink_across_doublings(void **state)
{
        struct changeset c = { 0 };
        char id[32];

        (void)state;
        for (int i = 0; i < 17; i++) {
                struct hold h = { .offer_id = id, .created_at = i };
                snprintf(id, sizeof id, "offer-%d", i);
                assert_int_equal(changeset_add_hold(&c, &h), 0);
        }
        for (int i = 0; i < 10; i++) {
                snprintf(id, sizeof id, "offer-%d", i);
                assert_int_equal(changeset_release_hold(&c, id), 0);
        }
        assert_int_equal(c.n_holds, 7);
        for (int i = 100; i < 120; i++) {
                struct hold h = { .offer_id = id, .created_at = i };
                snprintf(id, sizeof id, "offer-%d", i);
                assert_int_equal(changeset_add_hold(&c, &h), 0);
        }
        assert_int_equal(c.n_holds, 27);
        for (size_t i = 0; i < c.n_holds; i++) {
                int at = (int)strtol(c.holds[i].offer_id + 6, NULL, 10);
                assert_int_equal(c.holds[i].created_at, at);
                assert_true((at >= 10 && at < 17) || (at >= 100 && at < 120));
        }
        assert_string_equal(c.holds[26].offer_id, "offer-119");
        for (int i = 0; i < 40; i++) {
                struct link_change l = { .offer_id = id, .at = i };
                snprintf(id, sizeof id, "offer-%d", i);
                assert_int_equal(changeset_add_link_change(&c, &l), 0);
        }
        assert_int_equal(c.n_link_changes, 40);
        for (int i = 0; i < 40; i++)
                assert_int_equal(c.link_changes[i].at, i);
        changeset_clear(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(strlist_add_unique_and_copy),
                cmocka_unit_test(link_names_round_trip),
                cmocka_unit_test(clear_frees_everything),
                cmocka_unit_test(changeset_replaces_by_key_and_merges),
                cmocka_unit_test(changeset_keeps_each_key_once_through_releases),
                cmocka_unit_test(changeset_arrays_grow_and_shrink_across_doublings),
                cmocka_unit_test(record_tables_cover_every_member),
                cmocka_unit_test(record_copy_and_clear_walk_every_field),
                cmocka_unit_test(record_copy_keeps_blob_bytes),
                cmocka_unit_test(record_copy_over_a_copy_keeps_what_is_equal),
                cmocka_unit_test(sources_format_matches_snprintf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
