/* Unit tests: the pipeline's inbox (CLI commands applied in the batch
 * transaction) and the store's CLI queries, on a real SQLite file. */
#undef NDEBUG
#include "cppo/pipeline.h"

#include "cppo/error.h"
#include "cppo/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tmpstore.h"

static const char registration[] =
    "{\"version\":\"0\",\"id\":\"reg-1\",\"detail-type\":\"Resale Authorization Registered\","
    "\"source\":\"cppo-notify\",\"time\":\"2025-03-01T00:00:00Z\",\"detail\":{"
    "\"resaleAuthorizationId\":\"ra-1\",\"name\":\"Contoso 12m\",\"productId\":\"prod-1\","
    "\"resellerAccountId\":\"444455556666\",\"buyerAccountIds\":[\"777788889999\"],"
    "\"notify\":[\"ae@example.com\"],\"offerIds\":[\"offer-named\"],"
    "\"metadata\":{\"crm\":\"OPP-1\"}}}";

static const char associated[] =
    "{\"version\":\"0\",\"id\":\"assoc-1\",\"detail-type\":\"Offer Associated\","
    "\"source\":\"cppo-notify\",\"time\":\"2025-03-02T00:00:00Z\",\"detail\":{"
    "\"resaleAuthorizationId\":\"ra-1\",\"offerId\":\"offer-held\"}}";

/* A partner offer for other buyers: no inference, held. */
static const char released[] =
    "{\"version\":\"0\",\"id\":\"or-1\",\"detail-type\":\"Offer Released\","
    "\"source\":\"aws.marketplacecatalog\",\"account\":\"111122223333\","
    "\"time\":\"2025-03-01T12:00:00Z\",\"detail\":{\"offer\":{\"id\":\"offer-held\"},"
    "\"product\":{\"id\":\"prod-1\"},\"manufacturer\":{\"accountId\":\"111122223333\"},"
    "\"sellerOfRecord\":{\"accountId\":\"444455556666\"},"
    "\"targetedBuyerAccountIds\":[\"123412341234\"]}}";

static struct store *open_store(bool read_only)
{
        struct store_options o = { .read_only = read_only, .busy_timeout_ms = 2000 };
        struct store *s = NULL;
        char err[CPPO_ERRLEN];

        assert_int_equal(store_open(&s, path, &o, err, sizeof err), 0);
        return s;
}

static struct pipeline *new_pipeline(struct store *s)
{
        struct pipeline_options o = { .store = s, .event_clock = true };
        struct pipeline *p = NULL;
        char err[CPPO_ERRLEN];

        assert_int_equal(pipeline_new(&p, &o, err, sizeof err), 0);
        return p;
}

static int64_t pending(struct store *s)
{
        int64_t n = -1;

        assert_int_equal(store_inbox_pending(s, &n), 0);
        return n;
}

static void feed(struct pipeline *p, const char *json, int64_t offset)
{
        struct raw_message m = { .data = json,
                                 .len = strlen(json),
                                 .coord = { .origin = "test", .partition = -1, .offset = offset } };

        assert_int_equal(pipeline_handle(p, &m), 0);
}

static void inbox_is_consumed_with_its_batch(void **state)
{
        struct store *s = open_store(false), *reader;
        struct authorization a = { 0 };
        struct pipeline *p;
        int64_t id = 0, n = 0;

        assert_int_equal(store_inbox_add(s, registration, 100, &id), 0);
        assert_int_equal(id, 1);
        assert_int_equal(store_inbox_add(s, associated, 101, &id), 0);
        assert_int_equal(id, 2);
        reader = open_store(true);
        p = new_pipeline(s);
        assert_int_equal(pipeline_drain_inbox(p, 200), 2);
        /* taken, not committed: a reader still sees both pending, no record */
        assert_int_equal(pending(reader), 2);
        assert_int_equal(store_get_authorization(reader, "ra-1", &a), -ENOENT);
        assert_int_equal(pipeline_commit(p, 200), 0);
        assert_int_equal(pending(reader), 0);
        assert_int_equal(store_get_authorization(reader, "ra-1", &a), 0);
        assert_string_equal(a.name, "Contoso 12m");
        assert_true(a.registered);
        assert_true(strlist_contains(&a.offer_ids, "offer-held"));
        assert_int_equal(store_count(reader, "ledger", &n), 0);
        assert_int_equal(n, 2);
        /* nothing pending: no transaction at all */
        assert_int_equal(pipeline_drain_inbox(p, 300), 0);
        assert_int_equal(pipeline_commit(p, 300), 0);
        assert_int_equal(pipeline_stats(p)->commits, 1);
        assert_int_equal(pipeline_stats(p)->events, 2);
        authorization_clear(&a);
        pipeline_free(p);
        store_close(reader);
        store_close(s);
}

static void a_batch_rolled_back_leaves_the_inbox_pending(void **state)
{
        struct store *s = open_store(false);
        struct pipeline *p = new_pipeline(s);

        assert_int_equal(store_inbox_add(s, registration, 100, NULL), 0);
        assert_int_equal(pipeline_drain_inbox(p, 200), 1);
        pipeline_free(p); /* a crash before the commit */
        assert_int_equal(pending(s), 1);
        p = new_pipeline(s);
        assert_int_equal(pipeline_drain_inbox(p, 200), 1);
        assert_int_equal(pipeline_commit(p, 200), 0);
        assert_int_equal(pending(s), 0);
        assert_int_equal(pipeline_stats(p)->duplicates, 0);
        pipeline_free(p);
        store_close(s);
}

struct seen {
        int n;
        char ids[4][64];
        bool flag[4];
};

static int seen_auth(void *ctx, const struct authorization *a)
{
        struct seen *x = ctx;

        snprintf(x->ids[x->n], sizeof x->ids[0], "%s", a->id);
        x->flag[x->n++] = a->registered;
        return 0;
}

static int seen_offer(void *ctx, const struct offer *o)
{
        struct seen *x = ctx;

        snprintf(x->ids[x->n], sizeof x->ids[0], "%s", o->id);
        x->flag[x->n++] = o->link == LINK_MANUAL;
        return 0;
}

static int seen_hold(void *ctx, const struct hold *h)
{
        struct seen *x = ctx;

        snprintf(x->ids[x->n], sizeof x->ids[0], "%s", h->offer_id);
        x->flag[x->n++] = h->deadline == h->created_at + 72 * 3600;
        return 0;
}

static void queries_show_what_the_pipeline_stored(void **state)
{
        struct store *s = open_store(false), *reader;
        struct pipeline *p = new_pipeline(s);
        struct seen auths = { 0 }, offers = { 0 }, holds = { 0 }, after = { 0 };
        struct authorization a = { 0 };
        struct offer o = { 0 };

        feed(p, registration, 1);
        feed(p, released, 2);
        assert_int_equal(pipeline_commit(p, 0), 0);
        reader = open_store(true);
        assert_int_equal(store_list_authorizations(reader, seen_auth, &auths), 0);
        assert_int_equal(auths.n, 1);
        assert_string_equal(auths.ids[0], "ra-1");
        assert_true(auths.flag[0]);
        assert_int_equal(store_list_holds(reader, seen_hold, &holds), 0);
        assert_int_equal(holds.n, 1);
        assert_string_equal(holds.ids[0], "offer-held");
        assert_true(holds.flag[0]);
        /* the manual association, through the inbox, releases the hold */
        assert_int_equal(store_inbox_add(s, associated, 0, NULL), 0);
        assert_int_equal(pipeline_drain_inbox(p, 0), 1);
        assert_int_equal(pipeline_commit(p, 0), 0);
        assert_int_equal(pipeline_stats(p)->notifications, 1);
        assert_int_equal(store_list_holds(reader, seen_hold, &after), 0);
        assert_int_equal(after.n, 0);
        assert_int_equal(store_list_offers(reader, "ra-1", seen_offer, &offers), 0);
        assert_int_equal(offers.n, 2); /* by id: the held one, the one registered */
        assert_string_equal(offers.ids[0], "offer-held");
        assert_true(offers.flag[0]);
        assert_string_equal(offers.ids[1], "offer-named");
        assert_false(offers.flag[1]);
        assert_int_equal(store_get_offer(reader, "offer-held", &o), 0);
        assert_string_equal(o.authorization_id, "ra-1");
        assert_true(o.late);
        assert_string_equal(o.seller_of_record_account_id, "444455556666");
        assert_int_equal(store_get_offer(reader, "offer-none", &o), -ENOENT);
        assert_null(o.id);
        assert_int_equal(store_get_authorization(reader, "ra-none", &a), -ENOENT);
        pipeline_free(p);
        store_close(reader);
        store_close(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(inbox_is_consumed_with_its_batch, setup, teardown),
                cmocka_unit_test_setup_teardown(a_batch_rolled_back_leaves_the_inbox_pending, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(queries_show_what_the_pipeline_stored, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
