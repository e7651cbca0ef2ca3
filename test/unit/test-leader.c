/* Leader election with fencing (leader.h), against a real PostgreSQL server
 * (test/unit/store-pg.sh starts it; each test gets a fresh database from
 * tmpstore.h). Without CPPO_TEST_PG_URL every test says it needs one. */
#include "tmpstore.h"

#include "cppo/leader.h"

#include <errno.h>

/* A standby's options on the test database; takeover 4 s, poll 1 s. */
static struct leader *new_leader(const char *identity)
{
        struct leader_options o = {
                .target = path, .identity = identity, .takeover_s = 4, .poll_s = 1
        };
        struct leader *l = NULL;
        char err[CPPO_ERRLEN] = "";

        assert_int_equal(leader_new(&l, &o, err, sizeof err), 0);
        return l;
}

/* The store, created and migrated (ha_leader exists). */
static struct store *schema(void)
{
        return open_rw();
}

static int64_t db_epoch(void)
{
        PGconn *c = PQconnectdb(path);
        PGresult *res = PQexec(c, "SELECT epoch FROM ha_leader WHERE id = 1");
        int64_t e = PQresultStatus(res) == PGRES_TUPLES_OK
                        ? strtoll(PQgetvalue(res, 0, 0), NULL, 10)
                        : -1;

        PQclear(res);
        PQfinish(c);
        return e;
}

#define LEADER_LOCK_GRANTED                                                                        \
        "locktype = 'advisory' AND classid = " LEADER_LOCK_CLASSID                                 \
        " AND objid = " LEADER_LOCK_OBJID " AND granted"

#define NEED_PG()                                                                                  \
        do {                                                                                       \
                if (!pg_admin_url()) {                                                             \
                        print_message("# needs PostgreSQL (run through store-pg.sh)\n");           \
                        return;                                                                    \
                }                                                                                  \
        } while (0)

/* Ends the leader's lock connection from another session, as an operator
 * (or a network failure) would; wait: until its server process is gone
 * (the lock released). */
static void terminate_lock_connection(bool wait)
{
        assert_int_equal(pg_admin_sql(path, wait ? "SELECT pg_terminate_backend(pid, 10000) "
                                                   "FROM pg_locks WHERE " LEADER_LOCK_GRANTED
                                                 : "SELECT pg_terminate_backend(pid) "
                                                   "FROM pg_locks WHERE " LEADER_LOCK_GRANTED),
                         0);
}

/* leader_check until it reports the loss, at most ~10 s (bounded: the
 * server ends a terminated backend at once, so this takes milliseconds). */
static int check_until_lost(struct leader *l)
{
        int r = 0;

        for (int i = 0; i < 200 && (r = leader_check(l)) == 0; i++)
                usleep(50 * 1000);
        return r;
}

static void exactly_one_of_two_wins_and_epochs_increase(void **state)
{
        struct store *s;
        struct leader *a, *b;
        int64_t first;

        (void)state;
        NEED_PG();
        s = schema();
        a = new_leader("host-a:1");
        b = new_leader("host-b:2");
        assert_int_equal(leader_epoch(a), 0);
        assert_int_equal(leader_try(a), 1);
        assert_int_equal(leader_try(b), 0);
        assert_int_equal(leader_try(b), 0); /* asking again changes nothing */
        first = leader_epoch(a);
        assert_true(first > 0);
        assert_int_equal(db_epoch(), first);
        assert_int_equal(leader_epoch(b), 0);
        assert_int_equal(leader_check(a), 0);
        assert_int_equal(leader_check(b), -ENOLCK); /* never was */
        assert_true(leader_fd(a) >= 0);

        leader_free(a); /* a clean stop gives the lock back at once */
        assert_int_equal(leader_try(b), 1);
        assert_int_equal(leader_epoch(b), first + 1);
        assert_int_equal(db_epoch(), first + 1);
        assert_int_equal(leader_check(b), 0);
        leader_free(b);
        store_close(s);
}

static void terminated_lock_connection_loses_the_lead(void **state)
{
        struct store *s;
        struct leader *a, *b;
        int64_t first;

        (void)state;
        NEED_PG();
        s = schema();
        a = new_leader("host-a:1");
        b = new_leader("host-b:2");
        assert_int_equal(leader_try(a), 1);
        first = leader_epoch(a);
        assert_int_equal(leader_try(b), 0);
        /* What an operator (or a network failure) does to the leader. */
        terminate_lock_connection(false);
        assert_int_equal(check_until_lost(a), -ENOLCK);
        assert_int_equal(leader_epoch(a), 0);
        assert_string_not_equal(leader_error(a), "");
        assert_int_equal(leader_try(a), -ENOLCK); /* fail-stop: never leader again */
        assert_int_equal(leader_try(b), 1);
        assert_int_equal(leader_epoch(b), first + 1);
        leader_free(a);
        leader_free(b);
        store_close(s);
}

/* An operator deposes the leader by bumping the epoch by hand: the next
 * round trip (at most once per poll) sees it. */
static void epoch_moved_by_hand_loses_the_lead(void **state)
{
        struct store *s;
        struct leader *a;

        (void)state;
        NEED_PG();
        s = schema();
        a = new_leader("host-a:1");
        assert_int_equal(leader_try(a), 1);
        assert_int_equal(tmpstore_sql("UPDATE ha_leader SET epoch = epoch + 1"), 0);
        usleep(1100 * 1000); /* past the poll interval: the next check asks the server */
        assert_int_equal(leader_check(a), -ENOLCK);
        assert_non_null(strstr(leader_error(a), "no longer current"));
        leader_free(a);
        store_close(s);
}

static void store_fenced_with_an_old_epoch_cannot_commit(void **state)
{
        struct store_fence_token token;
        struct store *s, *w;
        struct leader *a, *b;
        char buf[256];

        (void)state;
        NEED_PG();
        s = schema();
        w = open_rw();
        a = new_leader("host-a:1");
        b = new_leader("host-b:2");
        assert_int_equal(leader_try(a), 1);
        token = leader_token(a);
        assert_int_equal(store_fence(w, &token), 0);
        assert_int_equal(store_begin(w), 0);
        assert_int_equal(store_commit(w), 0); /* the current epoch commits */

        leader_free(a);
        assert_int_equal(leader_try(b), 1);
        assert_int_equal(store_begin(w), 0);
        assert_int_equal(store_commit(w), -ENOLCK);
        store_last_error(w, buf, sizeof buf);
        assert_non_null(strstr(buf, "leadership lost"));
        token = leader_token(b);
        assert_int_equal(store_fence(w, &token), 0);
        assert_int_equal(store_begin(w), 0);
        assert_int_equal(store_commit(w), 0);
        leader_free(b);
        store_close(w);
        store_close(s);
}

/* Between the end of the leader's lock connection and a standby's epoch
 * bump the epoch is still ours, but the lock is not: a store fenced with
 * the token commits and claims nothing from the moment the server process
 * holding the lock is gone, even before this process read the news. */
static void store_fenced_by_a_lost_lock_stops_before_any_takeover(void **state)
{
        char payload[] = "x", buf[256];
        struct delivery d = { .key = (char *)"d1",
                              .notification_key = (char *)"n1",
                              .receiver = (char *)"audit",
                              .channel = (char *)"file",
                              .payload = payload,
                              .payload_len = 1,
                              .next_at_ms = 1 };
        struct store_fence_token token;
        struct store *s, *w;
        struct leader *a;
        int64_t pruned = -1, rows = 0;

        (void)state;
        NEED_PG();
        s = schema();
        w = open_rw();
        a = new_leader("host-a:1");
        assert_int_equal(leader_try(a), 1);
        token = leader_token(a);
        assert_true(token.epoch > 0 && token.lock_pid > 0);
        /* an unknown lock process fails closed, even while the lock is held */
        assert_int_equal(store_fence(w, &(struct store_fence_token){ token.epoch, -1 }), 0);
        assert_int_equal(store_begin(w), 0);
        assert_int_equal(store_commit(w), -ENOLCK);
        assert_int_equal(store_fence(w, &token), 0);
        assert_int_equal(store_delivery_add(w, &d), 1);
        assert_int_equal(store_begin(w), 0);
        assert_int_equal(store_ledger_add(w, "k1", NULL, 1), 1);
        assert_int_equal(store_commit(w), 0); /* while the lock is held */

        /* ended, and waited for: the lock is released, nobody took over */
        terminate_lock_connection(true);
        assert_int_equal(db_epoch(), token.epoch);
        assert_int_equal(store_delivery_claim(w, "d1", 2), -ENOLCK);
        store_last_error(w, buf, sizeof buf);
        assert_non_null(strstr(buf, "is no longer granted to server process"));
        assert_int_equal(store_begin(w), 0);
        assert_int_equal(store_commit(w), -ENOLCK);
        assert_int_equal(store_delivery_requeue_inflight(w, 3), -ENOLCK);
        /* retention too: a batch removes nothing once the lead is lost */
        assert_int_equal(store_prune(w, STORE_PRUNE_LEDGER, INT64_MAX / 1000, 100, &pruned),
                         -ENOLCK);
        assert_int_equal(pruned, 0);
        assert_int_equal(store_count(w, "ledger", &rows), 0);
        assert_int_equal(rows, 1);
        assert_int_equal(store_fence(w, NULL), 0); /* unfenced: it claims */
        assert_int_equal(store_delivery_claim(w, "d1", 4), 1);
        leader_free(a);
        store_close(w);
        store_close(s);
}

/* A newer program does not upgrade the schema under a running (older)
 * leader: the upgrade would change what that leader's statements read and
 * write. It says who leads and what to do. */
static void no_schema_upgrade_while_an_instance_leads(void **state)
{
        struct store_options o = { .busy_timeout_ms = 1000 };
        struct store *s, *again = NULL;
        struct leader *a;
        char err[CPPO_ERRLEN] = "";

        (void)state;
        NEED_PG();
        s = schema();
        a = new_leader("host-a:1");
        assert_int_equal(leader_try(a), 1);
        /* the store as the previous version left it */
        assert_int_equal(tmpstore_sql("DELETE FROM schema_version WHERE version = "
                                      "(SELECT MAX(version) FROM schema_version)"),
                         0);
        assert_int_equal(store_open(&again, path, &o, err, sizeof err), -EBUSY);
        assert_null(again);
        assert_non_null(strstr(err, "holds the leader lock): stop every instance"));
        leader_free(a);
        store_close(s);
}

static void refuses_sqlite_and_bad_timing(void **state)
{
        struct leader_options o = {
                .target = "/tmp/state.db", .identity = "h:1", .takeover_s = 10, .poll_s = 1
        };
        struct leader *l = (struct leader *)&o; /* overwritten with NULL */
        char err[CPPO_ERRLEN] = "";

        (void)state;
        assert_int_equal(leader_new(&l, &o, err, sizeof err), -EINVAL);
        assert_null(l);
        assert_non_null(strstr(err, "postgresql://"));
        o.target = "postgresql://127.0.0.1:1/x";
        o.poll_s = 10;
        assert_int_equal(leader_new(&l, &o, err, sizeof err), -EINVAL);
        leader_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(exactly_one_of_two_wins_and_epochs_increase, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(terminated_lock_connection_loses_the_lead, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(epoch_moved_by_hand_loses_the_lead, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(store_fenced_with_an_old_epoch_cannot_commit, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                    store_fenced_by_a_lost_lock_stops_before_any_takeover, setup, teardown),
                cmocka_unit_test_setup_teardown(no_schema_upgrade_while_an_instance_leads, setup,
                                                teardown),
                cmocka_unit_test(refuses_sqlite_and_bad_timing),
        };

        return tmpstore_run("leader", tests, sizeof tests / sizeof tests[0]);
}
