/* Unit tests: the delivery records (delivery.c) and the deliveries part of
 * the store (src/store/store_*_deliveries.c): SQLite, or PostgreSQL when
 * CPPO_TEST_PG_URL is set (tmpstore.h; the meson test delivery-pg). */
#undef NDEBUG
#include "cppo/delivery.h"
#include "cppo/store.h"

#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "tmpstore.h"

/* A payload with CRLF line ends, UTF-8, control and high bytes, no NUL. */
static const char binaryish[] = "Subject: =?UTF-8?B?w6lsw6h2ZQ==?=\r\n"
                                "To: \"Zoë Ω\" <zoe@example.com>\r\n\r\n"
                                "line\tone \x01\x1f\x7f \xff\xfe caf\xc3\xa9 \xe2\x82\xac\r\n.\r\n";

/* A delivery with owned strings; the caller delivery_clear()s it. */
static void make(struct delivery *d, const char *key, const char *receiver, int64_t created,
                 int64_t next_at)
{
        memset(d, 0, sizeof *d);
        d->key = strdup(key);
        d->notification_key = strdup("new_order/agmt-1");
        d->kind = strdup("new_order");
        d->receiver = strdup(receiver);
        d->channel = strdup("email");
        d->rule = strdup("all-orders");
        d->payload = strdup("hello");
        d->payload_len = 5;
        d->created_at_ms = created;
        d->updated_at_ms = created;
        d->next_at_ms = next_at;
        assert_non_null(d->key);
        assert_non_null(d->notification_key);
        assert_non_null(d->kind);
        assert_non_null(d->receiver);
        assert_non_null(d->channel);
        assert_non_null(d->rule);
        assert_non_null(d->payload);
}

static void add(struct store *s, const char *key, const char *receiver, int64_t created,
                int64_t next_at)
{
        struct delivery d;

        make(&d, key, receiver, created, next_at);
        assert_int_equal(store_delivery_add(s, &d), 1);
        delivery_clear(&d);
}

static struct delivery get(struct store *s, const char *key)
{
        struct delivery d = { 0 };

        assert_int_equal(store_delivery_get(s, key, &d), 0);
        return d;
}

static enum delivery_status status_of(struct store *s, const char *key)
{
        struct delivery d = get(s, key);
        enum delivery_status st = d.status;

        delivery_clear(&d);
        return st;
}

/* Collects delivery keys in callback order, "a,b,c". */
struct keys {
        char text[256];
        struct store *claim_with; /* when set, claims each delivery seen */
};

static int on_delivery(void *ctx, const struct delivery *d)
{
        struct keys *k = ctx;
        size_t len = strlen(k->text);

        snprintf(k->text + len, sizeof k->text - len, "%s%s", len ? "," : "", d->key);
        if (k->claim_with)
                assert_int_equal(store_delivery_claim(k->claim_with, d->key, 1), 1);
        return 0;
}

static const char *due(struct store *s, const char *receiver, int64_t now, int64_t limit,
                       struct keys *k)
{
        k->text[0] = '\0';
        assert_int_equal(store_delivery_due(s, receiver, now, limit, on_delivery, k), 0);
        return k->text;
}

static const char *listed(struct store *s, bool failed_only, int64_t limit, struct keys *k)
{
        k->text[0] = '\0';
        assert_int_equal(store_delivery_list(s, failed_only, limit, on_delivery, k), 0);
        return k->text;
}

static void finish(struct store *s, const char *key, const char *outcome, int code,
                   const char *error, enum delivery_status st, int64_t at, int64_t next_at)
{
        struct delivery_attempt a = { key, at, outcome, code, 12, error, NULL };

        assert_int_equal(store_delivery_finish(s, &a, st, next_at), 0);
}

static void status_names_and_copy(void **state)
{
        struct delivery d, c = { 0 };

        assert_string_equal(delivery_status_name(DELIVERY_QUEUED), "queued");
        assert_string_equal(delivery_status_name(DELIVERY_SENDING), "sending");
        assert_string_equal(delivery_status_name(DELIVERY_SENT), "sent");
        assert_string_equal(delivery_status_name(DELIVERY_DEAD), "dead");
        assert_string_equal(delivery_status_name((enum delivery_status)9), "unknown");
        make(&d, "k", "alice", 1, 2);
        free(d.payload);
        d.payload = strdup(binaryish);
        assert_non_null(d.payload);
        d.payload_len = sizeof binaryish - 1;
        assert_int_equal(strlist_add(&d.recipients, "a@example.com"), 0);
        d.last_code = 451;
        assert_int_equal(delivery_copy(&c, &d), 0);
        assert_string_equal(c.key, "k");
        assert_null(c.opportunity_id);
        assert_int_equal(c.payload_len, d.payload_len);
        assert_memory_equal(c.payload, binaryish, sizeof binaryish); /* with the NUL */
        assert_int_equal(c.recipients.n, 1);
        assert_string_equal(c.recipients.v[0], "a@example.com");
        assert_int_equal(c.last_code, 451);
        assert_int_equal(c.next_at_ms, 2);
        delivery_clear(&d);
        delivery_clear(&c);
        delivery_clear(&c); /* a cleared record clears again */
}

static void schema_is_version_2_with_the_new_tables(void **state)
{
        struct store *s = open_rw();
        int v = 0;

        assert_int_equal(store_schema_version(s, &v), 0);
        assert_true(v >= 2); /* the delivery tables came with 2 */
        assert_int_equal(count(s, "deliveries"), 0);
        assert_int_equal(count(s, "attempts"), 0);
        assert_int_equal(count(s, "unrouted"), 0);
        store_close(s);
}

static void add_is_idempotent_by_key(void **state)
{
        struct store *s = open_rw();
        struct delivery d;

        make(&d, "n/alice", "alice", 10, 10);
        assert_int_equal(store_delivery_add(s, &d), 1);
        d.status = DELIVERY_DEAD; /* a second add changes nothing */
        assert_int_equal(store_delivery_add(s, &d), 0);
        assert_int_equal(count(s, "deliveries"), 1);
        assert_int_equal(status_of(s, "n/alice"), DELIVERY_QUEUED);
        free(d.receiver);
        d.receiver = NULL;
        free(d.key);
        d.key = strdup("n/nobody");
        assert_int_equal(store_delivery_add(s, &d), -EINVAL);
        delivery_clear(&d);
        assert_int_equal(count(s, "deliveries"), 1);
        store_close(s);
}

static void due_orders_by_due_time_and_filters_by_receiver(void **state)
{
        struct store *s = open_rw();
        struct keys k = { 0 };

        add(s, "d1", "alice", 1, 300);
        add(s, "d2", "bob", 2, 100);
        add(s, "d3", "alice", 3, 200);
        add(s, "d4", "alice", 4, 500);
        assert_string_equal(due(s, NULL, 300, 0, &k), "d2,d3,d1");
        assert_string_equal(due(s, "alice", 300, 0, &k), "d3,d1");
        assert_string_equal(due(s, "carol", 300, 0, &k), "");
        assert_string_equal(due(s, NULL, 300, 2, &k), "d2,d3");
        assert_string_equal(due(s, NULL, 99, 0, &k), "");
        assert_string_equal(due(s, NULL, 500, 0, &k), "d2,d3,d1,d4");
        store_close(s);
}

static void claim_succeeds_once_even_from_the_due_callback(void **state)
{
        struct store *s = open_rw();
        struct keys k = { 0 };

        add(s, "d1", "alice", 1, 10);
        add(s, "d2", "alice", 2, 20);
        assert_int_equal(store_delivery_claim(s, "d1", 30), 1);
        assert_int_equal(store_delivery_claim(s, "d1", 31), 0);
        assert_int_equal(store_delivery_claim(s, "nope", 31), 0);
        assert_int_equal(status_of(s, "d1"), DELIVERY_SENDING);
        assert_string_equal(due(s, NULL, 100, 0, &k), "d2");
        k.claim_with = s; /* the dispatcher's pattern: claim what due returns */
        assert_string_equal(due(s, NULL, 100, 0, &k), "d2");
        k.claim_with = NULL;
        assert_string_equal(due(s, NULL, 100, 0, &k), "");
        assert_int_equal(status_of(s, "d2"), DELIVERY_SENDING);
        store_close(s);
}

struct attempts_seen {
        int n;
        char outcomes[64];
        int codes[4];
        int64_t at[4];
        int errors; /* attempts with an error text */
};

static int on_attempt(void *ctx, const struct delivery_attempt *a)
{
        struct attempts_seen *seen = ctx;
        size_t len = strlen(seen->outcomes);

        snprintf(seen->outcomes + len, sizeof seen->outcomes - len, "%s%s", len ? "," : "",
                 a->outcome);
        if (seen->n < 4) {
                seen->codes[seen->n] = a->code;
                seen->at[seen->n] = a->at_ms;
        }
        seen->errors += a->error != NULL;
        assert_int_equal(a->latency_ms, 12);
        seen->n++;
        return 0;
}

static void finish_records_attempts_and_moves_status(void **state)
{
        struct store *s = open_rw();
        struct attempts_seen seen = { 0 };
        struct keys k = { 0 };
        struct delivery d;

        add(s, "d1", "alice", 1, 10);
        add(s, "d2", "alice", 2, 10);
        assert_int_equal(store_delivery_claim(s, "d1", 20), 1);
        finish(s, "d1", "retry", 451, "451 4.7.1 try later", DELIVERY_QUEUED, 25, 1000);
        d = get(s, "d1");
        assert_int_equal(d.status, DELIVERY_QUEUED);
        assert_int_equal(d.attempts, 1);
        assert_int_equal(d.next_at_ms, 1000);
        assert_int_equal(d.last_code, 451);
        assert_string_equal(d.last_error, "451 4.7.1 try later");
        assert_int_equal(d.updated_at_ms, 25);
        delivery_clear(&d);
        assert_string_equal(due(s, NULL, 999, 0, &k), "d2");
        assert_string_equal(due(s, NULL, 1000, 0, &k), "d2,d1");
        assert_int_equal(store_delivery_claim(s, "d1", 1000), 1);
        finish(s, "d1", "sent", 250, NULL, DELIVERY_SENT, 1001, 0);
        d = get(s, "d1");
        assert_int_equal(d.status, DELIVERY_SENT);
        assert_int_equal(d.attempts, 2);
        assert_int_equal(d.next_at_ms, 1000); /* only a QUEUED state takes next_at */
        assert_int_equal(d.last_code, 250);
        assert_null(d.last_error);
        delivery_clear(&d);
        finish(s, "d2", "dead", 550, "550 no such user", DELIVERY_DEAD, 1002, 0);
        assert_int_equal(status_of(s, "d2"), DELIVERY_DEAD);
        assert_int_equal(store_delivery_attempts(s, "d1", on_attempt, &seen), 0);
        assert_int_equal(seen.n, 2);
        assert_string_equal(seen.outcomes, "retry,sent");
        assert_int_equal(seen.codes[0], 451);
        assert_int_equal(seen.codes[1], 250);
        assert_int_equal(seen.at[0], 25);
        assert_int_equal(seen.at[1], 1001);
        assert_int_equal(seen.errors, 1);
        assert_int_equal(count(s, "attempts"), 3);
        store_close(s);
}

static void finish_is_atomic_and_joins_an_open_transaction(void **state)
{
        struct store *s = open_rw();
        struct delivery_attempt a = { "nope", 5, "sent", 250, 1, NULL, NULL };

        add(s, "d1", "alice", 1, 10);
        /* unknown key: neither the update nor the attempt happens */
        assert_int_equal(store_delivery_finish(s, &a, DELIVERY_SENT, 0), -ENOENT);
        assert_int_equal(count(s, "attempts"), 0);
        /* inside the caller's transaction: rolled back with it */
        assert_int_equal(store_begin(s), 0);
        finish(s, "d1", "sent", 250, NULL, DELIVERY_SENT, 6, 0);
        assert_int_equal(store_delivery_finish(s, &a, DELIVERY_SENT, 0), -ENOENT);
        assert_int_equal(count(s, "attempts"), 1); /* the failed call undid only itself */
        assert_int_equal(store_rollback(s), 0);
        assert_int_equal(count(s, "attempts"), 0);
        assert_int_equal(status_of(s, "d1"), DELIVERY_QUEUED);
        assert_int_equal(store_begin(s), 0);
        finish(s, "d1", "sent", 250, NULL, DELIVERY_SENT, 7, 0);
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(count(s, "attempts"), 1);
        assert_int_equal(status_of(s, "d1"), DELIVERY_SENT);
        store_close(s);
}

static void requeue_inflight_at_start(void **state)
{
        struct store *s = open_rw();
        struct delivery d;

        add(s, "d1", "alice", 1, 10);
        add(s, "d2", "alice", 2, 10);
        add(s, "d3", "alice", 3, 10);
        assert_int_equal(store_delivery_claim(s, "d1", 20), 1);
        assert_int_equal(store_delivery_claim(s, "d2", 20), 1);
        store_close(s); /* the process died while sending */
        s = open_rw();
        assert_int_equal(store_delivery_requeue_inflight(s, 500), 2);
        d = get(s, "d1");
        assert_int_equal(d.status, DELIVERY_QUEUED);
        assert_int_equal(d.next_at_ms, 500);
        assert_int_equal(d.attempts, 0);
        delivery_clear(&d);
        assert_int_equal(status_of(s, "d2"), DELIVERY_QUEUED);
        d = get(s, "d3");
        assert_int_equal(d.next_at_ms, 10); /* a queued one is left as it was */
        delivery_clear(&d);
        assert_int_equal(store_delivery_requeue_inflight(s, 600), 0);
        store_close(s);
}

static void list_failed_only_and_retry(void **state)
{
        struct store *s = open_rw();
        struct keys k = { 0 };
        struct delivery d;

        add(s, "d1", "alice", 100, 10);
        add(s, "d2", "bob", 300, 10);
        add(s, "d3", "alice", 200, 10);
        add(s, "d4", "bob", 400, 10);
        finish(s, "d1", "dead", 550, "550 rejected", DELIVERY_DEAD, 20, 0);
        finish(s, "d3", "dead", 404, "404 no_service", DELIVERY_DEAD, 21, 0);
        finish(s, "d4", "sent", 200, NULL, DELIVERY_SENT, 22, 0);
        assert_string_equal(listed(s, false, 0, &k), "d4,d2,d3,d1");
        assert_string_equal(listed(s, false, 2, &k), "d4,d2");
        assert_string_equal(listed(s, true, 0, &k), "d3,d1");
        assert_int_equal(store_delivery_retry(s, "d2", 50), -ENOENT); /* queued, not dead */
        assert_int_equal(store_delivery_retry(s, "d4", 50), -ENOENT); /* sent */
        assert_int_equal(store_delivery_retry(s, "nope", 50), -ENOENT);
        assert_int_equal(store_delivery_retry(s, "d1", 50), 1);
        d = get(s, "d1");
        assert_int_equal(d.status, DELIVERY_QUEUED);
        assert_int_equal(d.next_at_ms, 50);
        assert_int_equal(d.attempts, 0);
        assert_int_equal(d.last_code, 550); /* kept for the operator */
        delivery_clear(&d);
        assert_string_equal(listed(s, true, 0, &k), "d3");
        assert_int_equal(store_delivery_retry(s, "d1", 60), -ENOENT); /* not dead any more */
        finish(s, "d2", "dead", 500, "x", DELIVERY_DEAD, 23, 0);
        assert_int_equal(store_delivery_retry(s, NULL, 70), 2);
        assert_int_equal(store_delivery_retry(s, NULL, 80), 0);
        assert_string_equal(listed(s, true, 0, &k), "");
        assert_string_equal(due(s, NULL, 70, 0, &k), "d1,d2,d3");
        assert_int_equal(count(s, "attempts"), 4); /* history survives a retry */
        store_close(s);
}

static void counts_per_status_and_receiver(void **state)
{
        struct store *s = open_rw();
        int64_t c[4] = { -1, -1, -1, -1 };

        add(s, "d1", "alice", 1, 10);
        add(s, "d2", "alice", 2, 10);
        add(s, "d3", "bob", 3, 10);
        add(s, "d4", "bob", 4, 10);
        add(s, "d5", "alice", 5, 10);
        assert_int_equal(store_delivery_claim(s, "d2", 20), 1);
        finish(s, "d3", "sent", 250, NULL, DELIVERY_SENT, 21, 0);
        finish(s, "d4", "dead", 550, "no", DELIVERY_DEAD, 22, 0);
        finish(s, "d5", "dead", 550, "no", DELIVERY_DEAD, 23, 0);
        assert_int_equal(store_delivery_counts(s, NULL, c), 0);
        assert_int_equal(c[DELIVERY_QUEUED], 1);
        assert_int_equal(c[DELIVERY_SENDING], 1);
        assert_int_equal(c[DELIVERY_SENT], 1);
        assert_int_equal(c[DELIVERY_DEAD], 2);
        assert_int_equal(store_delivery_counts(s, "alice", c), 0);
        assert_int_equal(c[DELIVERY_QUEUED], 1);
        assert_int_equal(c[DELIVERY_SENDING], 1);
        assert_int_equal(c[DELIVERY_SENT], 0);
        assert_int_equal(c[DELIVERY_DEAD], 1);
        assert_int_equal(store_delivery_counts(s, "carol", c), 0);
        assert_int_equal(c[0] + c[1] + c[2] + c[3], 0);
        store_close(s);
}

static void add_notification(struct changeset *cs, const char *kind, const char *key,
                             int64_t created)
{
        char *k = strdup(kind), *ky = strdup(key), *ctx = strdup("{\"x\":1}");
        struct notification n = {
                .kind = k, .key = ky, .context_json = ctx, .created_at = created, .late = true
        };

        assert_non_null(k);
        assert_non_null(ky);
        assert_non_null(ctx);
        assert_int_equal(changeset_add_notification(cs, &n), 0);
        notification_clear(&n);
}

struct routed_ctx {
        struct store *s;
        char keys[256];
        int n;
};

/* Routes the first one seen, marks the others unrouted: writes from
 * within the callback, as the router does. */
static int on_unrouted(void *ctx, const struct notification *n)
{
        struct routed_ctx *rc = ctx;
        size_t len = strlen(rc->keys);

        snprintf(rc->keys + len, sizeof rc->keys - len, "%s%s", len ? "," : "", n->key);
        assert_string_equal(n->context_json, "{\"x\":1}");
        assert_true(n->late);
        if (rc->s)
                assert_int_equal(store_notification_routed(rc->s, n->key, rc->n == 0), 0);
        rc->n++;
        return 0;
}

static void unrouted_notifications_oldest_first_and_marked(void **state)
{
        struct store *s = open_rw();
        struct changeset cs = { 0 };
        struct routed_ctx rc = { 0 };

        add_notification(&cs, "new_order", "new_order/a1", 100);
        add_notification(&cs, "amended_offer", "amended_offer/a1", 101);
        add_notification(&cs, "order_ended", "order_ended/a1", 102);
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_apply(s, &cs, NULL), 0);
        assert_int_equal(store_commit(s), 0);
        changeset_clear(&cs);
        assert_int_equal(store_notifications_unrouted(s, 0, on_unrouted, &rc), 0);
        assert_string_equal(rc.keys, "new_order/a1,amended_offer/a1,order_ended/a1");
        rc = (struct routed_ctx){ .s = s };
        assert_int_equal(store_notifications_unrouted(s, 2, on_unrouted, &rc), 0);
        assert_string_equal(rc.keys, "new_order/a1,amended_offer/a1");
        assert_int_equal(count(s, "unrouted"), 1);
        rc = (struct routed_ctx){ 0 };
        assert_int_equal(store_notifications_unrouted(s, 0, on_unrouted, &rc), 0);
        assert_string_equal(rc.keys, "order_ended/a1");
        assert_int_equal(store_notification_routed(s, "order_ended/a1", false), 0);
        assert_int_equal(store_notification_routed(s, "nope", true), -ENOENT);
        assert_int_equal(count(s, "unrouted"), 2);
        rc = (struct routed_ctx){ 0 };
        assert_int_equal(store_notifications_unrouted(s, 0, on_unrouted, &rc), 0);
        assert_int_equal(rc.n, 0);
        /* the ones no rule matched, newest first */
        assert_int_equal(store_notifications_unmatched(s, 0, on_unrouted, &rc), 0);
        assert_string_equal(rc.keys, "order_ended/a1,amended_offer/a1");
        rc = (struct routed_ctx){ 0 };
        assert_int_equal(store_notifications_unmatched(s, 1, on_unrouted, &rc), 0);
        assert_string_equal(rc.keys, "order_ended/a1");
        store_close(s);
}

/* Issue 11 item 3: history is marked in the writer's transaction, listed
 * apart from pending notifications, and its BACKFILLED deliveries are never
 * due, never claimed, never counted as queued or dead, and not retried. */
static void backfilled_history_is_never_due(void **state)
{
        struct store *s = open_rw();
        struct changeset cs = { 0 };
        struct routed_ctx rc = { 0 };
        struct keys k = { 0 };
        struct delivery d;
        int64_t c[4];

        assert_string_equal(delivery_status_name(DELIVERY_BACKFILLED), "backfilled");
        add_notification(&cs, "new_order", "new_order/h1", 100);
        add_notification(&cs, "new_order", "new_order/live", 101);
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_apply(s, &cs, NULL), 0);
        assert_int_equal(store_notification_backfill(s, "new_order/h1"), 0);
        assert_int_equal(store_commit(s), 0);
        changeset_clear(&cs);
        assert_int_equal(store_notification_backfill(s, "new_order/h1"), -ENOENT); /* once */
        assert_int_equal(store_notifications_unrouted(s, 0, on_unrouted, &rc), 0);
        assert_string_equal(rc.keys, "new_order/live");
        rc = (struct routed_ctx){ .s = s }; /* routes it: off the history list */
        assert_int_equal(store_notifications_backfill_pending(s, 0, on_unrouted, &rc), 0);
        assert_string_equal(rc.keys, "new_order/h1");
        rc = (struct routed_ctx){ 0 };
        assert_int_equal(store_notifications_backfill_pending(s, 0, on_unrouted, &rc), 0);
        assert_int_equal(rc.n, 0);

        make(&d, "new_order/h1/alice", "alice", 1, 1);
        d.status = DELIVERY_BACKFILLED;
        assert_int_equal(store_delivery_add(s, &d), 1);
        delivery_clear(&d);
        add(s, "new_order/live/alice", "alice", 2, 2);
        assert_string_equal(due(s, NULL, 1000, 0, &k), "new_order/live/alice");
        assert_int_equal(store_delivery_claim(s, "new_order/h1/alice", 5), 0);
        assert_int_equal(store_delivery_retry(s, "new_order/h1/alice", 5), -ENOENT);
        assert_int_equal(store_delivery_retry(s, NULL, 5), 0);
        assert_int_equal(store_delivery_counts(s, NULL, c), 0);
        assert_int_equal(
            c[DELIVERY_QUEUED] + c[DELIVERY_SENDING] + c[DELIVERY_SENT] + c[DELIVERY_DEAD], 1);
        assert_int_equal(count(s, "backfilled"), 1);
        assert_int_equal(status_of(s, "new_order/h1/alice"), DELIVERY_BACKFILLED);
        store_close(s);
}

static void check_payload(const struct delivery *d)
{
        assert_int_equal(d->payload_len, sizeof binaryish - 1);
        assert_memory_equal(d->payload, binaryish, sizeof binaryish); /* NUL-terminated */
        assert_int_equal(d->recipients.n, 3);
        assert_string_equal(d->recipients.v[0], "zoë@example.com");
        assert_string_equal(d->recipients.v[1], "\"odd\\name\"@example.com");
        assert_string_equal(d->recipients.v[2], "b@example.com");
}

static int on_payload(void *ctx, const struct delivery *d)
{
        check_payload(d);
        ++*(int *)ctx;
        return 0;
}

static void payload_and_recipients_round_trip_exactly(void **state)
{
        struct store *s = open_rw();
        struct delivery d, back = { 0 };
        int seen = 0;

        make(&d, "n/alice", "alice", 1, 10);
        free(d.payload);
        d.payload = strdup(binaryish);
        assert_non_null(d.payload);
        d.payload_len = sizeof binaryish - 1;
        assert_int_equal(strlist_add(&d.recipients, "zoë@example.com"), 0);
        assert_int_equal(strlist_add(&d.recipients, "\"odd\\name\"@example.com"), 0);
        assert_int_equal(strlist_add(&d.recipients, "b@example.com"), 0);
        assert_int_equal(store_delivery_add(s, &d), 1);
        delivery_clear(&d);
        assert_int_equal(store_delivery_get(s, "n/alice", &back), 0);
        check_payload(&back);
        assert_string_equal(back.rule, "all-orders");
        assert_null(back.opportunity_id);
        assert_int_equal(store_delivery_get(s, "nope", &back), -ENOENT);
        check_payload(&back); /* left alone on failure */
        delivery_clear(&back);
        assert_int_equal(store_delivery_due(s, NULL, 10, 0, on_payload, &seen), 0);
        assert_int_equal(store_delivery_list(s, false, 0, on_payload, &seen), 0);
        assert_int_equal(seen, 2);
        store_close(s);
}

static void empty_payload_round_trips(void **state)
{
        struct store *s = open_rw();
        struct delivery d, back = { 0 };

        make(&d, "n/alice", "alice", 1, 10);
        free(d.payload);
        d.payload = NULL;
        d.payload_len = 0;
        assert_int_equal(store_delivery_add(s, &d), 1);
        delivery_clear(&d);
        assert_int_equal(store_delivery_get(s, "n/alice", &back), 0);
        assert_int_equal(back.payload_len, 0);
        assert_non_null(back.payload);
        assert_string_equal(back.payload, "");
        assert_int_equal(back.recipients.n, 0);
        delivery_clear(&back);
        store_close(s);
}

/* Every column of a delivery goes in with store_delivery_add() and comes
 * back from store_delivery_get() as it was: the statement, the binder and
 * the row reader all walk the store's one table of delivery columns. */
static void every_delivery_column_round_trips(void **state)
{
        struct store *s = open_rw();
        struct delivery d, back = { 0 };

        make(&d, "n/every", "alice", 11, 13);
        d.opportunity_id = strdup("resaleauthz-9");
        d.last_error = strdup("452 mailbox full");
        assert_non_null(d.opportunity_id);
        assert_non_null(d.last_error);
        d.status = DELIVERY_DEAD;
        d.attempts = 7;
        d.updated_at_ms = 12;
        d.last_code = 452;
        assert_int_equal(strlist_add(&d.recipients, "a@example.com"), 0);
        assert_int_equal(store_delivery_add(s, &d), 1);
        assert_int_equal(store_delivery_get(s, "n/every", &back), 0);
        assert_string_equal(back.key, d.key);
        assert_string_equal(back.notification_key, d.notification_key);
        assert_string_equal(back.kind, d.kind);
        assert_string_equal(back.receiver, d.receiver);
        assert_string_equal(back.channel, d.channel);
        assert_string_equal(back.rule, d.rule);
        assert_string_equal(back.opportunity_id, "resaleauthz-9");
        assert_int_equal(back.status, DELIVERY_DEAD);
        assert_int_equal(back.attempts, 7);
        assert_int_equal(back.created_at_ms, 11);
        assert_int_equal(back.updated_at_ms, 12);
        assert_int_equal(back.next_at_ms, 13);
        assert_int_equal(back.last_code, 452);
        assert_string_equal(back.last_error, "452 mailbox full");
        assert_int_equal(back.payload_len, d.payload_len);
        assert_memory_equal(back.payload, d.payload, d.payload_len + 1);
        assert_int_equal(back.recipients.n, 1);
        assert_string_equal(back.recipients.v[0], "a@example.com");
        delivery_clear(&d);
        delivery_clear(&back);
        store_close(s);
}

/* The schema as version 1 of the program created it (frozen: migration 1
 * of store_sqlite.c at the time), with one notification. */
static const char v1_schema[] =
    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);"
    "INSERT INTO schema_version VALUES (1, 0);"
    "CREATE TABLE ledger (event_key TEXT PRIMARY KEY, origin TEXT, partition INTEGER,"
    " offset INTEGER, processed_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE rejected (id INTEGER PRIMARY KEY, reason TEXT NOT NULL,"
    " message TEXT NOT NULL, origin TEXT, partition INTEGER, offset INTEGER,"
    " received_at INTEGER NOT NULL, truncated INTEGER NOT NULL DEFAULT 0, raw BLOB NOT NULL);"
    "CREATE UNIQUE INDEX rejected_once ON rejected(origin, partition, offset, reason, message);"
    "CREATE TABLE authorizations (id TEXT PRIMARY KEY, name TEXT, product_id TEXT,"
    " product_title TEXT, reseller_account_id TEXT, reseller_name TEXT,"
    " buyer_company_name TEXT, buyer_account_ids TEXT NOT NULL DEFAULT '[]',"
    " expires_at TEXT, renewal INTEGER NOT NULL DEFAULT 0, notify TEXT NOT NULL DEFAULT '[]',"
    " metadata TEXT, offer_ids TEXT NOT NULL DEFAULT '[]',"
    " registered INTEGER NOT NULL DEFAULT 0, withdrawn INTEGER NOT NULL DEFAULT 0,"
    " source_event_key TEXT, updated_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE offers (id TEXT PRIMARY KEY, name TEXT, expiration TEXT, product_id TEXT,"
    " product_title TEXT, manufacturer_account_id TEXT, manufacturer_name TEXT,"
    " seller_of_record_account_id TEXT, seller_of_record_name TEXT,"
    " targeted_buyer_account_ids TEXT NOT NULL DEFAULT '[]', authorization_id TEXT,"
    " link TEXT NOT NULL DEFAULT 'none', link_event_key TEXT,"
    " released_seen INTEGER NOT NULL DEFAULT 0, late INTEGER NOT NULL DEFAULT 0,"
    " updated_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX offers_authorization ON offers(authorization_id);"
    "CREATE TABLE agreements (id TEXT PRIMARY KEY, intent TEXT, status TEXT,"
    " acceptance_time TEXT, start_time TEXT, end_time TEXT, offer_id TEXT,"
    " authorization_id TEXT, acceptor_account_id TEXT, proposer_account_id TEXT,"
    " previous_agreement_id TEXT, product_id TEXT, last_event_time INTEGER NOT NULL DEFAULT 0,"
    " updated_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX agreements_authorization ON agreements(authorization_id);"
    "CREATE TABLE holds (offer_id TEXT PRIMARY KEY, event_key TEXT,"
    " created_at INTEGER NOT NULL, deadline INTEGER NOT NULL,"
    " attention_sent INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE notifications (id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
    " key TEXT NOT NULL UNIQUE, context TEXT NOT NULL, source_event_key TEXT,"
    " opportunity_id TEXT, offer_id TEXT, agreement_id TEXT,"
    " late INTEGER NOT NULL DEFAULT 0, registered INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE inbox (id INTEGER PRIMARY KEY, payload TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, consumed_at INTEGER);"
    "INSERT INTO notifications (kind, key, context, late, created_at)"
    " VALUES ('new_order', 'new_order/old', '{\"x\":1}', 1, 5);";

static int has_index(const char *name)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int found;

        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT 1 FROM sqlite_master WHERE type = 'index' "
                                            "AND name = ?",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        sqlite3_close(db);
        return found;
}

static void migrates_a_version_1_database(void **state)
{
        struct store *s;
        struct routed_ctx rc = { 0 };
        sqlite3 *db = NULL;
        int v = 0;

        SKIP_ON_PG("a version 1 database is an SQLite file");
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        assert_false(has_index("deliveries_due"));
        s = open_rw();
        assert_int_equal(store_schema_version(s, &v), 0);
        assert_true(v >= 2);
        assert_int_equal(store_notifications_unrouted(s, 0, on_unrouted, &rc), 0);
        assert_string_equal(rc.keys, "new_order/old"); /* an old notification is pending */
        add(s, "new_order/old/alice", "alice", 1, 1);
        assert_int_equal(count(s, "deliveries"), 1);
        store_close(s);
        assert_true(has_index("deliveries_due"));
        assert_true(has_index("deliveries_receiver"));
        assert_true(has_index("attempts_delivery"));
        assert_true(has_index("notifications_routed"));
        s = open_rw(); /* and opens again without migrating twice */
        assert_int_equal(store_schema_version(s, &v), 0);
        assert_true(v >= 2);
        store_close(s);
}

static void read_only_reader_lists_while_writer_works(void **state)
{
        struct store *w = open_rw(), *r = NULL;
        struct store_options ro = { .read_only = true, .busy_timeout_ms = 1000 };
        char err[CPPO_ERRLEN];
        struct keys k = { 0 };

        add(w, "d1", "alice", 1, 10);
        assert_int_equal(store_open(&r, path, &ro, err, sizeof err), 0);
        assert_int_equal(store_begin(w), 0);
        add(w, "d2", "alice", 2, 10);
        assert_string_equal(listed(r, false, 0, &k), "d1");
        assert_int_equal(store_commit(w), 0);
        assert_string_equal(listed(r, false, 0, &k), "d2,d1");
        store_close(r);
        store_close(w);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(status_names_and_copy),
                T(schema_is_version_2_with_the_new_tables),
                T(add_is_idempotent_by_key),
                T(due_orders_by_due_time_and_filters_by_receiver),
                T(claim_succeeds_once_even_from_the_due_callback),
                T(finish_records_attempts_and_moves_status),
                T(finish_is_atomic_and_joins_an_open_transaction),
                T(requeue_inflight_at_start),
                T(list_failed_only_and_retry),
                T(counts_per_status_and_receiver),
                T(unrouted_notifications_oldest_first_and_marked),
                T(backfilled_history_is_never_due),
                T(payload_and_recipients_round_trip_exactly),
                T(empty_payload_round_trips),
                T(every_delivery_column_round_trips),
                T(migrates_a_version_1_database),
                T(read_only_reader_lists_while_writer_works),
        };
        return tmpstore_run("delivery", tests, sizeof tests / sizeof tests[0]);
}
