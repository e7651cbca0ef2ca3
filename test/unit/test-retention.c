/* Unit tests: retention (store_prune and friends) on the store the
 * environment names: SQLite by default, PostgreSQL when CPPO_TEST_PG_URL
 * is set (tmpstore.h; the meson test retention-pg). Every age is given as
 * a time, so the store is aged by the test's own clock. */
#undef NDEBUG
#include "cppo/delivery.h"
#include "cppo/raw_message.h"
#include "cppo/store.h"
#include "tmpstore.h"

#include <string.h>

#define DAY 86400
#define T0  1700000000 /* the store's "long ago" */

static void add_ledger(struct store *s, const char *key, int64_t at)
{
        struct mp_coord c = { "mp", 0, 1 };

        assert_int_equal(store_ledger_add(s, key, &c, at), 1);
}

static void add_rejected(struct store *s, int64_t offset, int64_t at)
{
        struct raw_message m = { "{", 1, { "mp", 0, offset }, at, 0, 0 };

        assert_int_equal(store_reject(s, &m, "invalid_json", "unexpected end"), 0);
}

/* A delivery created at t seconds, then finished with status at t. */
static void add_delivery(struct store *s, const char *key, int64_t t, enum delivery_status st)
{
        struct delivery d = { 0 };
        struct delivery_attempt a = { .delivery_key = key, .at_ms = t * 1000, .code = 250 };

        d.key = (char *)key;
        d.notification_key = (char *)"n/1";
        d.kind = (char *)"new_order";
        d.receiver = (char *)"ops";
        d.channel = (char *)"email";
        d.payload = (char *)"Subject: x\r\n\r\nbody";
        d.payload_len = strlen(d.payload);
        d.created_at_ms = d.updated_at_ms = d.next_at_ms = t * 1000;
        assert_int_equal(store_delivery_add(s, &d), 1);
        if (st == DELIVERY_QUEUED)
                return;
        a.outcome = st == DELIVERY_SENT ? "sent" : "dead";
        assert_int_equal(store_delivery_finish(s, &a, st, 0), 0);
}

static int64_t pending(struct store *s, enum store_prune k, int64_t cutoff)
{
        int64_t n = -1;

        assert_int_equal(store_prune_count(s, k, cutoff, &n), 0);
        return n;
}

/* Prunes kind k in batches of `batch` until a batch comes back short;
 * returns the rows removed and checks no batch exceeded its size. */
static int64_t prune_all(struct store *s, enum store_prune k, int64_t cutoff, int64_t batch)
{
        int64_t total = 0, got;

        for (int i = 0; i < 100; i++) {
                assert_int_equal(store_prune(s, k, cutoff, batch, &got), 0);
                assert_true(got <= batch);
                total += got;
                if (got < batch)
                        return total;
        }
        fail_msg("prune of %s never finished", store_prune_name(k));
        return total;
}

/* Old ledger entries, rejected inputs and consumed inbox entries go in
 * batches; recent ones, and inbox entries not yet consumed, stay. */
static void prunes_old_rows_in_batches(void **state)
{
        struct store *s = open_rw();
        char key[32];
        int64_t id;

        (void)state;
        assert_int_equal(store_begin(s), 0);
        for (int i = 0; i < 25; i++) {
                snprintf(key, sizeof key, "old/%d", i);
                add_ledger(s, key, T0 + i);
                add_rejected(s, i, T0 + i);
        }
        for (int i = 0; i < 5; i++) {
                snprintf(key, sizeof key, "new/%d", i);
                add_ledger(s, key, T0 + 60 * DAY);
                add_rejected(s, 100 + i, T0 + 60 * DAY);
        }
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(store_inbox_add(s, "{\"a\":1}", T0, &id), 0);
        assert_int_equal(store_inbox_add(s, "{\"a\":2}", T0, &id), 0);

        const int64_t cutoff = T0 + 30 * DAY;
        assert_int_equal(pending(s, STORE_PRUNE_LEDGER, cutoff), 25);
        assert_int_equal(pending(s, STORE_PRUNE_REJECTED, cutoff), 25);
        assert_int_equal(pending(s, STORE_PRUNE_INBOX, cutoff), 0); /* not consumed */
        assert_int_equal(prune_all(s, STORE_PRUNE_LEDGER, cutoff, 10), 25);
        assert_int_equal(prune_all(s, STORE_PRUNE_REJECTED, cutoff, 7), 25);
        assert_int_equal(count(s, "ledger"), 5);
        assert_int_equal(count(s, "rejected"), 5);
        assert_int_equal(pending(s, STORE_PRUNE_LEDGER, cutoff), 0);
        /* what is gone is gone from dedupe too: the key is new again */
        assert_int_equal(store_ledger_add(s, "old/3", NULL, cutoff), 1);
        assert_int_equal(store_ledger_add(s, "new/3", NULL, cutoff), 0);
        assert_int_equal(store_inbox_pending(s, &id), 0);
        assert_int_equal(id, 2);
        store_close(s);
}

/* Bodies of sent deliveries are emptied, their rows and status kept; a
 * dead delivery keeps its body (it may be retried) and a queued one is
 * untouched; attempts of finished deliveries go. */
static void empties_old_bodies_and_attempts(void **state)
{
        struct store *s = open_rw();
        struct delivery d = { 0 };
        const int64_t cutoff = T0 + 90 * DAY;

        (void)state;
        add_delivery(s, "n/1/sent-old", T0, DELIVERY_SENT);
        add_delivery(s, "n/1/dead-old", T0, DELIVERY_DEAD);
        add_delivery(s, "n/1/queued-old", T0, DELIVERY_QUEUED);
        add_delivery(s, "n/1/sent-new", T0 + 100 * DAY, DELIVERY_SENT);
        assert_int_equal(pending(s, STORE_PRUNE_BODIES, cutoff), 1);
        assert_int_equal(pending(s, STORE_PRUNE_ATTEMPTS, cutoff), 2);
        assert_int_equal(prune_all(s, STORE_PRUNE_BODIES, cutoff, 1), 1);
        assert_int_equal(prune_all(s, STORE_PRUNE_ATTEMPTS, cutoff, 1), 2);
        assert_int_equal(count(s, "deliveries"), 4);
        assert_int_equal(store_delivery_get(s, "n/1/sent-old", &d), 0);
        assert_int_equal(d.status, DELIVERY_SENT);
        assert_int_equal(d.payload_len, 0);
        assert_int_equal(d.attempts, 1); /* the count stays with the row */
        delivery_clear(&d);
        assert_int_equal(store_delivery_get(s, "n/1/dead-old", &d), 0);
        assert_true(d.payload_len > 0);
        delivery_clear(&d);
        assert_int_equal(store_delivery_get(s, "n/1/sent-new", &d), 0);
        assert_true(d.payload_len > 0);
        delivery_clear(&d);
        assert_int_equal(pending(s, STORE_PRUNE_BODIES, cutoff), 0);
        store_close(s);
}

static int on_stat(void *ctx, const struct store_table_stat *t)
{
        int64_t *found = ctx;

        if (strcmp(t->table, "ledger") == 0)
                found[0] = t->rows;
        if (strcmp(t->table, "(free)") == 0)
                found[1] = 1;
        else
                assert_true(t->bytes > 0); /* even an empty table has its root page */
        return 0;
}

/* Stats name every table with its rows; freed pages go back to the file
 * system on SQLite (the file shrinks). */
static void stats_and_reclaim(void **state)
{
        struct store *s = open_rw();
        int64_t found[2] = { -1, 0 }, freed = -1, removed = 0;
        char key[48], pad[600];

        (void)state;
        memset(pad, 'x', sizeof pad - 1);
        pad[sizeof pad - 1] = '\0';
        assert_int_equal(store_begin(s), 0);
        for (int i = 0; i < 2000; i++) {
                snprintf(key, sizeof key, "%.20s/%d", pad, i);
                add_ledger(s, key, T0);
                struct raw_message m = { pad, sizeof pad - 1, { "mp", 1, i }, T0, 0, 0 };
                assert_int_equal(store_reject(s, &m, "invalid_json", "x"), 0);
        }
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(store_table_stats(s, on_stat, found), 0);
        assert_int_equal(found[0], 2000);
        assert_int_equal(found[1], 1);
        for (int i = 0; i < 10 && (i == 0 || removed == 1000); i++)
                assert_int_equal(store_prune(s, STORE_PRUNE_REJECTED, T0 + 1, 1000, &removed), 0);
        assert_int_equal(count(s, "rejected"), 0);
        assert_int_equal(store_reclaim(s, 100000, &freed), 0);
        if (pg_admin_url() == NULL)
                assert_true(freed > 100); /* ~1.2 MB of rejected rows */
        else
                assert_int_equal(freed, 0);
        store_close(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(prunes_old_rows_in_batches, setup, teardown),
                cmocka_unit_test_setup_teardown(empties_old_bodies_and_attempts, setup, teardown),
                cmocka_unit_test_setup_teardown(stats_and_reclaim, setup, teardown),
        };
        return tmpstore_run("retention", tests, sizeof tests / sizeof tests[0]);
}
