/* Unit tests: the store, against SQLite, or against PostgreSQL when
 * CPPO_TEST_PG_URL is set (tmpstore.h; the meson test store-pg). */
#undef NDEBUG
#include "cppo/store.h"

#include "cppo/error.h"
#include "cppo/model.h"
#include "cppo/corr_load.h"
#include "cppo/sha256.h"
#include "cppo/source.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "recordfill.h"
#include "tmpstore.h"

static void creates_schema_and_reopens(void **state)
{
        struct store *s = open_rw();
        int v = 0;

        assert_int_equal(store_schema_version(s, &v), 0);
        assert_int_equal(v, 9);
        assert_int_equal(count(s, "ledger"), 0);
        assert_int_equal(count(s, "notifications"), 0);
        int64_t n;
        assert_int_equal(store_count(s, "sqlite_master; DROP TABLE x", &n), -EINVAL);
        store_close(s);
        s = open_rw(); /* second open: no migration runs twice */
        assert_int_equal(store_schema_version(s, &v), 0);
        assert_int_equal(v, 9);
        store_close(s);
        store_close(NULL);
}

static void ledger_detects_duplicates_within_and_across_transactions(void **state)
{
        struct store *s = open_rw();
        struct mp_coord c = { "mp", 2, 77 };

        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_ledger_add(s, "k1", &c, 100), 1);
        assert_int_equal(store_ledger_add(s, "k1", &c, 100), 0);
        assert_int_equal(store_ledger_add(s, "k2", &c, 100), 1);
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_ledger_add(s, "k2", NULL, 101), 0);
        assert_int_equal(store_ledger_add(s, "k3", NULL, 101), 1);
        assert_int_equal(store_rollback(s), 0);
        assert_int_equal(count(s, "ledger"), 2); /* k3 rolled back */
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_ledger_add(s, "k3", NULL, 102), 1);
        assert_int_equal(store_commit(s), 0);
        store_close(s);
}

struct seen {
        int n;
        char reason[32];
        unsigned char raw[16];
        size_t raw_len;
        int64_t offset;
        bool truncated;
};

static int on_rejected(void *ctx, const struct store_rejected *r)
{
        struct seen *s = ctx;

        if (s->n++ == 0) {
                snprintf(s->reason, sizeof s->reason, "%s", r->reason);
                s->raw_len = r->raw_len < sizeof s->raw ? r->raw_len : sizeof s->raw;
                if (s->raw_len > 0) /* no bytes may come as NULL */
                        memcpy(s->raw, r->raw, s->raw_len);
                s->offset = r->offset;
                s->truncated = r->truncated;
        }
        return 0;
}

static void rejected_inputs_keep_exact_bytes(void **state)
{
        struct store *s = open_rw();
        const char raw[] = { '{', '\0', '\xff', '\xfe', '"', 'x' };
        struct raw_message m = { raw, sizeof raw, { "mp", 1, 42 }, 1700000000, 1, 0 };
        struct seen seen = { 0 };

        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_reject(s, &m, "invalid_utf8", "invalid UTF-8 at byte 2"), 0);
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(store_list_rejected(s, 10, on_rejected, &seen), 0);
        assert_int_equal(seen.n, 1);
        assert_string_equal(seen.reason, "invalid_utf8");
        assert_int_equal(seen.raw_len, sizeof raw);
        assert_memory_equal(seen.raw, raw, sizeof raw);
        assert_int_equal(seen.offset, 42);
        assert_true(seen.truncated);
        store_close(s);
}

struct requeue_seen {
        int64_t id, inbox_id;
        char outcome[16], error[32];
        size_t raw_len;
};

static int on_requeue(void *ctx, const struct store_rejected *r)
{
        struct requeue_seen *s = ctx;

        s->id = r->id;
        s->inbox_id = r->requeue_inbox_id;
        snprintf(s->outcome, sizeof s->outcome, "%s",
                 r->requeue_outcome ? r->requeue_outcome : "-");
        snprintf(s->error, sizeof s->error, "%s", r->requeue_error ? r->requeue_error : "-");
        s->raw_len = r->raw_len;
        return 0;
}

/* A rejected input is kept once per coordinates and reason, listed newest
 * first within the limit, and its requeue goes pending -> settled. */
static void rejected_requeue_round_trips(void **state)
{
        struct store *s = open_rw();
        struct raw_message m = { "{}", 2, { "mp", 0, 5 }, 1700000000, 0, 0 };
        struct seen seen = { 0 };
        struct requeue_seen got = { 0 };
        int64_t id = -1;

        assert_int_equal(store_reject(s, &m, "invalid_json", "bad"), 0);
        assert_int_equal(store_reject(s, &m, "invalid_json", "bad"), 0); /* redelivered */
        m.coord.offset = 6;
        m.data = "";
        m.len = 0;
        assert_int_equal(store_reject(s, &m, "empty", "no bytes"), 0);
        assert_int_equal(count(s, "rejected"), 2);
        assert_int_equal(store_list_rejected(s, 1, on_rejected, &seen), 0);
        assert_int_equal(seen.n, 1);
        assert_string_equal(seen.reason, "empty"); /* newest first */
        assert_int_equal(seen.raw_len, 0);
        seen.n = 0;
        assert_int_equal(store_list_rejected(s, 0, on_rejected, &seen), 0);
        assert_int_equal(seen.n, 2);
        assert_int_equal(store_get_rejected(s, 999, on_requeue, &got), -ENOENT);
        assert_int_equal(store_rejected_requeue(s, 999, 1, 10), -ENOENT);
        assert_int_equal(store_rejected_settle(s, 999, NULL), -ENOENT);
        assert_int_equal(store_rejected_requeue_of(s, 41, &id), 0);
        assert_int_equal(id, 0);

        assert_int_equal(store_list_rejected(s, 0, on_requeue, &got), 0); /* the oldest last */
        assert_int_equal(store_rejected_requeue(s, got.id, 41, 10), 0);
        assert_int_equal(store_rejected_requeue_of(s, 41, &id), 0);
        assert_int_equal(id, got.id);
        assert_int_equal(store_get_rejected(s, got.id, on_requeue, &got), 0);
        assert_string_equal(got.outcome, "pending");
        assert_int_equal(got.inbox_id, 41);
        assert_int_equal(got.raw_len, 2);
        assert_int_equal(store_rejected_settle(s, got.id, "still bad"), 0);
        assert_int_equal(store_get_rejected(s, got.id, on_requeue, &got), 0);
        assert_string_equal(got.outcome, "rejected");
        assert_string_equal(got.error, "still bad");
        assert_int_equal(store_rejected_requeue_of(s, 41, &id), 0);
        assert_int_equal(id, 0); /* settled: no longer pending */
        assert_int_equal(store_rejected_settle(s, got.id, NULL), 0);
        assert_int_equal(store_get_rejected(s, got.id, on_requeue, &got), 0);
        assert_string_equal(got.outcome, "accepted");
        assert_string_equal(got.error, "-");
        store_close(s);
}

struct taken {
        int n;
        int64_t ids[8];
        char payload[8][16];
        int fail_at;          /* 1-based; 0 never */
        struct store *commit; /* committed while the first entry is handled */
};

static int on_entry(void *ctx, const struct store_inbox_entry *e)
{
        struct taken *t = ctx;

        assert_true(t->n < 8);
        t->ids[t->n] = e->id;
        snprintf(t->payload[t->n], sizeof t->payload[t->n], "%s", e->payload);
        if (t->commit)
                assert_int_equal(store_commit(t->commit), 0);
        t->commit = NULL;
        return ++t->n == t->fail_at ? -ECANCELED : 0;
}

/* Inbox entries are taken oldest first within the limit and consumed with
 * the batch: a batch rolled back leaves them pending. */
static void inbox_entries_are_taken_in_order_with_the_batch(void **state)
{
        struct store *s = open_rw();
        struct taken t = { 0 };
        int64_t ids[3], n = -1;

        for (int i = 0; i < 3; i++) {
                char payload[16];
                snprintf(payload, sizeof payload, "{\"n\":%d}", i);
                assert_int_equal(store_inbox_add(s, payload, 100 + i, &ids[i]), 0);
        }
        assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
        assert_int_equal(store_inbox_pending(s, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_inbox_take(s, 2, 200, on_entry, &t), 2);
        assert_int_equal(store_rollback(s), 0);
        assert_int_equal(store_inbox_pending(s, &n), 0);
        assert_int_equal(n, 3); /* rolled back with the batch */
        t = (struct taken){ .fail_at = 2 };
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_inbox_take(s, 0, 200, on_entry, &t), -ECANCELED);
        assert_int_equal(store_rollback(s), 0);
        t = (struct taken){ 0 };
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_inbox_take(s, 2, 200, on_entry, &t), 2);
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(t.ids[0], ids[0]);
        assert_int_equal(t.ids[1], ids[1]);
        assert_string_equal(t.payload[1], "{\"n\":1}");
        assert_int_equal(store_inbox_pending(s, &n), 0);
        assert_int_equal(n, 1);
        t = (struct taken){ 0 };
        assert_int_equal(store_inbox_take(s, 0, 300, on_entry, &t), 1);
        assert_int_equal(t.ids[0], ids[2]);
        assert_int_equal(count(s, "inbox"), 3); /* consumed, kept */
        assert_int_equal(store_inbox_take(s, 0, 300, on_entry, &t), 0);
        store_close(s);
}

static void reader_sees_committed_data_while_writer_works(void **state)
{
        struct store *w = open_rw(), *r = NULL;
        struct store_options ro = { .read_only = true, .busy_timeout_ms = 1000 };
        char err[CPPO_ERRLEN];

        assert_int_equal(store_begin(w), 0);
        assert_int_equal(store_ledger_add(w, "a", NULL, 1), 1);
        assert_int_equal(store_commit(w), 0);
        assert_int_equal(store_open(&r, path, &ro, err, sizeof err), 0);
        assert_int_equal(store_begin(w), 0);
        assert_int_equal(store_ledger_add(w, "b", NULL, 2), 1);
        assert_int_equal(count(r, "ledger"), 1); /* uncommitted b is invisible, no blocking */
        assert_int_equal(store_commit(w), 0);
        assert_int_equal(count(r, "ledger"), 2);
        store_close(r);
        store_close(w);
}

static void refuses_a_newer_schema_and_bad_paths(void **state)
{
        struct store *s = open_rw();
        char err[CPPO_ERRLEN] = "";

        assert_int_equal(store_begin(s), 0);
        store_close(s); /* an open transaction is rolled back by closing */
        assert_int_equal(tmpstore_sql("INSERT INTO schema_version VALUES (99, 0)"), 0);
        assert_int_equal(store_open(&s, path, NULL, err, sizeof err), -EPROTO);
        assert_string_equal(err, "database schema 99 is newer than this program (9)");
        assert_int_equal(store_open(&s, "/nonexistent/dir/state.db", NULL, err, sizeof err), -EIO);
        assert_non_null(strstr(err, "/nonexistent/dir/state.db"));
}

/* Both kinds: a store's target is printed without its password. */
static void targets_are_printed_without_passwords(void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "/var/lib/cppo/state.db", "/var/lib/cppo/state.db" },
                { "postgresql://cppo@db:5432/cppo", "postgresql://cppo@db:5432/cppo" },
                { "postgresql://cppo:s3cr%40t@db:5432/cppo", "postgresql://cppo:***@db:5432/cppo" },
                { "postgres://u:p:q@h/d?sslmode=require", "postgres://u:***@h/d?sslmode=require" },
                { "POSTGRESQL://u:pw@h", "POSTGRESQL://u:***@h" },
                { "postgresql://h/d?password=pw&sslmode=require",
                  "postgresql://h/d?password=***&sslmode=require" },
                { "postgresql://u@h/d?sslmode=disable&password=pw",
                  "postgresql://u@h/d?sslmode=disable&password=***" },
        };
        char buf[128];

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                store_target_redact(cases[i].in, buf, sizeof buf);
                assert_string_equal(buf, cases[i].out);
        }
        store_target_redact("postgresql://u:secret@host/db", buf, 12);
        assert_string_equal(buf, "postgresql:");
        assert_true(store_target_is_pg("postgres://h"));
        assert_false(store_target_is_pg("state.db"));
        assert_false(store_target_is_pg("postgresql:/h")); /* a file name, odd but allowed */
}

/* ---- PostgreSQL only ---- */

/* The converse of SKIP_ON_PG (tmpstore.h). */
#define SKIP_ON_SQLITE()                                                                           \
        do {                                                                                       \
                if (!pg_admin_url()) {                                                             \
                        print_message("# skipped: needs PostgreSQL (CPPO_TEST_PG_URL)\n");         \
                        return;                                                                    \
                }                                                                                  \
        } while (0)

static void *open_in_thread(void *arg)
{
        struct store *s = NULL;
        char err[CPPO_ERRLEN];

        *(int *)arg = store_open(&s, path, NULL, err, sizeof err);
        store_close(s);
        return NULL;
}

/* Two instances starting together on an empty database: both open, the
 * schema is made once (the migration lock). */
static void pg_racing_opens_migrate_once(void **state)
{
        pthread_t t[4];
        int rc[4] = { 1, 1, 1, 1 };
        struct store *s;

        SKIP_ON_SQLITE();
        for (int i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&t[i], NULL, open_in_thread, &rc[i]), 0);
        for (int i = 0; i < 4; i++) {
                assert_int_equal(pthread_join(t[i], NULL), 0);
                assert_int_equal(rc[i], 0);
        }
        s = open_rw();
        assert_int_equal(count(s, "ledger"), 0);
        store_close(s);
        /* versions 7 (the first script), 8 and 9, each stamped once */
        assert_int_equal(tmpstore_sql("DO $$ BEGIN IF (SELECT COUNT(*) FROM schema_version) <> 3 "
                                      "OR (SELECT COUNT(*) FROM ha_leader) <> 1 THEN RAISE "
                                      "'schema made more than once'; END IF; END $$"),
                         0);
}

/* The password option opens without PGPASSWORD; a wrong one is refused and
 * appears in no message. */
static void pg_password_option_and_errors(void **state)
{
        struct store_options o = { .busy_timeout_ms = 1000 };
        char err[CPPO_ERRLEN] = "", url[300], *pw;
        struct store *s = NULL;
        const char *at;

        SKIP_ON_SQLITE();
        pw = getenv("PGPASSWORD") ? strdup(getenv("PGPASSWORD")) : NULL;
        assert_non_null(pw);
        assert_int_equal(unsetenv("PGPASSWORD"), 0);
        o.password = "wrong-Secret-123";
        assert_int_equal(store_open(&s, path, &o, err, sizeof err), -EIO);
        assert_null(strstr(err, "wrong-Secret-123"));
        assert_non_null(strstr(err, pg_db));
        /* in the URL itself: redacted in the message */
        at = strstr(path, "@");
        assert_non_null(at);
        snprintf(url, sizeof url, "%.*s:wrong-Secret-123%s", (int)(at - path), path, at);
        assert_int_equal(store_open(&s, url, NULL, err, sizeof err), -EIO);
        assert_null(strstr(err, "wrong-Secret-123"));
        assert_non_null(strstr(err, ":***@"));
        o.password = pw;
        assert_int_equal(store_open(&s, path, &o, err, sizeof err), 0);
        assert_int_equal(store_verify(s, err, sizeof err), 0);
        assert_int_equal(store_integrity(s, err, sizeof err), 0);
        store_close(s);
        assert_int_equal(setenv("PGPASSWORD", pw, 1), 0);
        free(pw);
}

/* A fenced store commits while ha_leader holds its epoch; after another
 * instance took over (the epoch moved on) the commit rolls back with
 * -ENOLCK and says why. */
static void pg_fenced_commit_fails_after_a_takeover(void **state)
{
        struct store_options o = { .busy_timeout_ms = 1000, .fence = { .epoch = 3 } };
        char err[CPPO_ERRLEN], why[256];
        struct store *s = NULL;

        SKIP_ON_SQLITE();
        s = open_rw();
        store_close(s);
        assert_int_equal(tmpstore_sql("UPDATE ha_leader SET epoch = 3"), 0);
        assert_int_equal(store_open(&s, path, &o, err, sizeof err), 0);
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_ledger_add(s, "k1", NULL, 1), 1);
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(tmpstore_sql("UPDATE ha_leader SET epoch = 4"), 0);
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_ledger_add(s, "k2", NULL, 2), 1);
        assert_int_equal(store_commit(s), -ENOLCK);
        store_last_error(s, why, sizeof why);
        assert_non_null(strstr(why, "leadership lost: epoch 3 is no longer current"));
        assert_int_equal(count(s, "ledger"), 1); /* k2 was rolled back */
        assert_int_equal(store_fence(s, &(struct store_fence_token){ .epoch = 4 }), 0); /* anew */
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_ledger_add(s, "k2", NULL, 2), 1);
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(store_fence(s, NULL), 0); /* unfenced: no check */
        assert_int_equal(tmpstore_sql("UPDATE ha_leader SET epoch = 9"), 0);
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_ledger_add(s, "k3", NULL, 3), 1);
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(count(s, "ledger"), 3);
        store_close(s);
}

/* A statement that fails inside a batch aborts the whole transaction in
 * PostgreSQL: the commit then reports the failure (its COMMIT answers
 * ROLLBACK) instead of passing, and nothing of the batch is kept. */
static void pg_commit_of_a_failed_batch_fails(void **state)
{
        struct store *s;
        char why[256];

        SKIP_ON_SQLITE();
        s = open_rw();
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_ledger_add(s, "k1", NULL, 1), 1);
        assert_int_equal(store_inbox_add(s, "{\"bad\": \"\xff\"}", 1, NULL), -EIO); /* not UTF-8 */
        assert_int_equal(store_commit(s), -EIO);
        store_last_error(s, why, sizeof why);
        assert_non_null(strstr(why, "rolled back"));
        assert_int_equal(count(s, "ledger"), 0);
        store_close(s);
}

/* PostgreSQL draws an id before its entry commits: an entry with a lower
 * id that commits after a take saw higher ones stays pending. */
static void pg_inbox_take_leaves_a_late_lower_id_pending(void **state)
{
        struct store *a, *b, *w;
        struct taken t = { 0 };
        int64_t late, early, n = -1;

        SKIP_ON_SQLITE();
        a = open_rw();
        b = open_rw();
        w = open_rw();
        assert_int_equal(store_begin(a), 0);
        assert_int_equal(store_inbox_add(a, "{\"late\":1}", 1, &late), 0);
        assert_int_equal(store_inbox_add(b, "{\"early\":1}", 1, &early), 0);
        assert_true(late < early);
        assert_int_equal(store_begin(w), 0);
        t.commit = a; /* lands after the take read, before it marks */
        assert_int_equal(store_inbox_take(w, 0, 5, on_entry, &t), 1);
        assert_int_equal(t.ids[0], early);
        assert_int_equal(store_commit(w), 0);
        assert_int_equal(store_inbox_pending(w, &n), 0);
        assert_int_equal(n, 1);
        t = (struct taken){ 0 };
        assert_int_equal(store_inbox_take(w, 0, 6, on_entry, &t), 1);
        assert_int_equal(t.ids[0], late);
        store_close(a);
        store_close(b);
        store_close(w);
}

/* What the daemon checks: a read-only store refuses writes with -EROFS, a
 * lost connection is -EIO with the reason, an unknown schema version is
 * damage. */
static void pg_health_and_error_mapping(void **state)
{
        struct store_options ro = { .read_only = true, .busy_timeout_ms = 1000 };
        char err[CPPO_ERRLEN], why[256];
        struct store *s, *r = NULL;

        SKIP_ON_SQLITE();
        s = open_rw();
        assert_int_equal(store_verify(s, err, sizeof err), 0);
        assert_int_equal(store_open(&r, path, &ro, err, sizeof err), 0);
        assert_int_equal(store_verify(r, err, sizeof err), 0);
        assert_int_equal(store_ledger_add(r, "k", NULL, 1), -EROFS);
        store_close(r);
        assert_int_equal(tmpstore_sql("UPDATE schema_version SET version = version - 6"), 0);
        assert_int_equal(store_integrity(s, err, sizeof err), -EBADMSG);
        assert_non_null(strstr(err, "schema version 3"));
        assert_int_equal(tmpstore_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = current_database() AND pid <> "
                                      "pg_backend_pid()"),
                         0);
        assert_int_equal(store_ledger_add(s, "k", NULL, 1), -EIO);
        store_last_error(s, why, sizeof why);
        assert_non_null(strstr(why, "connection lost"));
        assert_int_equal(store_verify(s, err, sizeof err), -EIO);
        assert_non_null(strstr(err, "connection lost"));
        store_close(s);
}

/* A delivery due at 1, added at 1 (issue 15's claim test). */
static void add_due(struct store *s, const char *key)
{
        char payload[] = "x";
        struct delivery d = { .key = (char *)key,
                              .notification_key = (char *)key,
                              .receiver = (char *)"audit",
                              .channel = (char *)"file",
                              .payload = payload,
                              .payload_len = 1,
                              .created_at_ms = 1,
                              .updated_at_ms = 1,
                              .next_at_ms = 1 };

        assert_int_equal(store_delivery_add(s, &d), 1);
}

static enum delivery_status delivery_state(struct store *s, const char *key, int64_t *updated)
{
        struct delivery d = { 0 };
        enum delivery_status st;

        assert_int_equal(store_delivery_get(s, key, &d), 0);
        st = d.status;
        if (updated)
                *updated = d.updated_at_ms;
        delivery_clear(&d);
        return st;
}

/* Runs sql on an open libpq connection; fails the test unless it worked. */
static void pg_conn_sql(PGconn *c, const char *sql)
{
        PGresult *res = PQexec(c, sql);

        assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
        PQclear(res);
}

/* Issue 15: an instance that asks second cannot claim a delivery again.
 * PostgreSQL: a fenced claim needs ha_leader to hold its epoch (a claim
 * while a takeover is open waits for it; after it, a deposed leader claims
 * nothing and changes nothing), and a new leader's requeue returns what
 * older epochs left in flight, never its own claims. */
static void delivery_claim_once_and_fenced_by_the_leader_epoch(void **state)
{
        struct store_options o = { .busy_timeout_ms = 500, .fence = { .epoch = 3 } };
        struct store *a = open_rw(), *b = open_rw(), *old = NULL, *next = NULL;
        char err[CPPO_ERRLEN], why[256];
        PGconn *takeover;
        int64_t at = 0;

        add_due(a, "d1");
        assert_int_equal(store_delivery_claim(a, "d1", 5), 1);
        assert_int_equal(store_delivery_claim(b, "d1", 6), 0); /* the other one: too late */
        assert_int_equal(delivery_state(b, "d1", &at), DELIVERY_SENDING);
        assert_int_equal(at, 5);
        store_close(b);
        store_close(a);
        if (!pg_admin_url()) {
                print_message("# skipped the fencing part: it needs PostgreSQL (ha_leader)\n");
                return;
        }
        assert_int_equal(tmpstore_sql("UPDATE ha_leader SET epoch = 3"), 0);
        assert_int_equal(store_open(&old, path, &o, err, sizeof err), 0);
        add_due(old, "d2");
        add_due(old, "d3");
        assert_int_equal(store_delivery_claim(old, "d2", 7), 1);

        /* a takeover not yet committed: the claim waits for it (until
         * lock_timeout here) instead of reading the old epoch */
        takeover = PQconnectdb(path);
        assert_int_equal(PQstatus(takeover), CONNECTION_OK);
        pg_conn_sql(takeover, "BEGIN");
        pg_conn_sql(takeover, "UPDATE ha_leader SET epoch = 4");
        assert_int_equal(store_delivery_claim(old, "d3", 8), -EBUSY);
        pg_conn_sql(takeover, "COMMIT");
        PQfinish(takeover);

        /* after it the deposed leader claims nothing and changes nothing */
        assert_int_equal(store_delivery_claim(old, "d3", 9), -ENOLCK);
        store_last_error(old, why, sizeof why);
        assert_non_null(strstr(why, "leadership lost: epoch 3 is no longer current (now 4)"));
        assert_int_equal(delivery_state(old, "d3", &at), DELIVERY_QUEUED);
        assert_int_equal(at, 1);
        assert_int_equal(store_delivery_requeue_inflight(old, 9), -ENOLCK);
        assert_int_equal(delivery_state(old, "d2", NULL), DELIVERY_SENDING);

        o.fence.epoch = 4;
        assert_int_equal(store_open(&next, path, &o, err, sizeof err), 0);
        assert_int_equal(store_delivery_claim(next, "d3", 10), 1);
        assert_int_equal(store_delivery_claim(next, "d3", 11), 0); /* a second claim */
        /* d1 (claimed unfenced) and d2 (epoch 3) were left in flight */
        assert_int_equal(store_delivery_requeue_inflight(next, 12), 2);
        assert_int_equal(delivery_state(next, "d1", &at), DELIVERY_QUEUED);
        assert_int_equal(at, 12);
        assert_int_equal(delivery_state(next, "d2", NULL), DELIVERY_QUEUED);
        assert_int_equal(delivery_state(next, "d3", NULL), DELIVERY_SENDING); /* its own */
        assert_int_equal(store_delivery_requeue_inflight(next, 13), 0);
        store_close(next);
        store_close(old);
}

/* Authorizations a-00000 .. a-<n-1>, each with a long name so that the table
 * spans many pages. */
static void add_authorizations(struct store *s, int n)
{
        struct changeset cs = { 0 };
        char id[32], name[300];

        memset(name, 'n', sizeof name - 1);
        name[sizeof name - 1] = '\0';
        for (int i = 0; i < n; i++) {
                struct authorization a = { 0 };

                snprintf(id, sizeof id, "a-%05d", i);
                a.id = id;
                a.name = name;
                assert_int_equal(changeset_add_authorization(&cs, &a), 0);
        }
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_apply(s, &cs, NULL), 0);
        assert_int_equal(store_commit(s), 0);
        changeset_clear(&cs);
}

/* Overwrites the b-tree header of the page that holds `needle` (its first
 * occurrence in the file) with bytes no page type has. */
static void corrupt_page_holding(const char *needle)
{
        FILE *f = fopen(path, "r+b");
        long size, at = -1;
        char *all;
        size_t len = strlen(needle);
        const long page = 4096;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        size = ftell(f);
        all = malloc((size_t)size);
        assert_non_null(all);
        rewind(f);
        assert_int_equal(fread(all, 1, (size_t)size, f), (size_t)size);
        for (long i = 0; at < 0 && i + (long)len <= size; i++)
                if (memcmp(all + i, needle, len) == 0)
                        at = i;
        assert_true(at > page); /* not on page 1 */
        assert_int_equal((unsigned char)all[16] * 256 + (unsigned char)all[17], page);
        assert_int_equal(fseek(f, at / page * page, SEEK_SET), 0);
        assert_int_equal(fwrite("\xff\xff\xff\xff\xff\xff\xff\xff", 1, 8, f), 8);
        assert_int_equal(fclose(f), 0);
        free(all);
}

static int count_authorization(void *ctx, const struct authorization *a)
{
        (void)a;
        ++*(int *)ctx;
        return 0;
}

/* A step that fails in the middle of a scan (here: a damaged page reached
 * after hundreds of good rows) fails the whole load: start-up refuses
 * rather than run on half a state. */
static void a_scan_that_fails_midway_fails_the_load(void **state)
{
        SKIP_ON_PG("damages a page of the SQLite file");
        struct store *s = open_rw();
        struct corr_state *cs = NULL;
        struct store_load_cb cb = { 0 };
        int rows = 0;

        add_authorizations(s, 2000);
        assert_int_equal(corr_state_load(s, &cs), 0); /* intact: loads */
        assert_non_null(corr_state_authorization(cs, "a-01999"));
        corr_state_free(cs);
        cs = NULL;
        store_close(s); /* checkpoints the WAL into the file */

        corrupt_page_holding("a-01500");
        s = open_rw();
        cb.authorization = count_authorization;
        assert_int_equal(store_load(s, &cb, &rows), -EBADMSG);
        assert_true(rows >= 1000 && rows < 2000); /* it did stop half way */
        assert_int_equal(corr_state_load(s, &cs), -EBADMSG);
        assert_null(cs);
        store_close(s);
}

struct history {
        int n;
        struct link_change rows[4];
};

static int keep_change(void *ctx, const struct link_change *l)
{
        struct history *h = ctx;

        assert_true(h->n < 4);
        return link_change_copy(&h->rows[h->n++], l);
}

/* An offer's link history goes in with the batch and comes back in order,
 * every field intact. */
static void offer_link_history_round_trips(void **state)
{
        struct store *s = open_rw();
        struct changeset cs = { 0 };
        struct link_change a = { .offer_id = (char *)"offer-1",
                                 .to_authorization_id = (char *)"ra-a",
                                 .to_link = LINK_INFERRED,
                                 .actor = (char *)"cppo-notify",
                                 .at = 10 };
        struct link_change b = { .offer_id = (char *)"offer-1",
                                 .from_authorization_id = (char *)"ra-a",
                                 .to_authorization_id = (char *)"ra-b",
                                 .from_link = LINK_INFERRED,
                                 .to_link = LINK_MANUAL,
                                 .actor = (char *)"alice",
                                 .reason = (char *)"wrong deal",
                                 .event_key = (char *)"id:e2",
                                 .correction_key = (char *)"link_corrected/offer-1/1",
                                 .at = 20 };
        struct history h = { 0 };

        assert_int_equal(changeset_add_link_change(&cs, &a), 0);
        assert_int_equal(changeset_add_link_change(&cs, &b), 0);
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_apply(s, &cs, NULL), 0);
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(store_list_link_changes(s, "offer-1", keep_change, &h), 0);
        assert_int_equal(h.n, 2);
        assert_null(h.rows[0].from_authorization_id);
        assert_string_equal(h.rows[0].to_authorization_id, "ra-a");
        assert_int_equal(h.rows[0].to_link, LINK_INFERRED);
        assert_string_equal(h.rows[1].actor, "alice");
        assert_string_equal(h.rows[1].reason, "wrong deal");
        assert_string_equal(h.rows[1].correction_key, "link_corrected/offer-1/1");
        assert_int_equal(h.rows[1].from_link, LINK_INFERRED);
        assert_int_equal(h.rows[1].at, 20);
        for (int i = 0; i < h.n; i++)
                link_change_clear(&h.rows[i]);
        changeset_clear(&cs);
        store_close(s);
}

static int count_one(void *ctx, const struct notification *n)
{
        (void)n;
        ++*(int *)ctx;
        return 0;
}

/* The backfill mark (its statement kept prepared on SQLite) on several
 * notifications over two batches: each is marked once, a second mark or an
 * unknown key is -ENOENT, and the marks are there after the commits. */
static void backfill_marks_each_notification_once_across_batches(void **state)
{
        struct store *s = open_rw();
        static const char *const keys[] = { "new_order/agmt-1", "new_order/agmt-2",
                                            "new_order/agmt-3" };
        int pending = 0;

        (void)state;
        for (int batch = 0; batch < 2; batch++) {
                struct changeset cs = { 0 };
                for (int i = batch; i < 1 + 2 * batch; i++) {
                        struct notification n = { .kind = (char *)"new_order",
                                                  .key = (char *)keys[i],
                                                  .context_json = (char *)"{}",
                                                  .created_at = 10 + i };
                        assert_int_equal(changeset_add_notification(&cs, &n), 0);
                }
                assert_int_equal(store_begin(s), 0);
                assert_int_equal(store_apply(s, &cs, NULL), 0);
                for (int i = batch; i < 1 + 2 * batch; i++)
                        assert_int_equal(store_notification_backfill(s, keys[i]), 0);
                assert_int_equal(store_notification_backfill(s, keys[batch]), -ENOENT);
                assert_int_equal(store_notification_backfill(s, "new_order/none"), -ENOENT);
                assert_int_equal(store_commit(s), 0);
                changeset_clear(&cs);
        }
        assert_int_equal(store_notifications_backfill_pending(s, 100, count_one, &pending), 0);
        assert_int_equal(pending, 3);
        store_close(s);
}

static int keep_id(void *ctx, const char *offer_id)
{
        return strlist_add(ctx, offer_id);
}

static int keep_refresh(void *ctx, const struct store_aws_refresh *e)
{
        return strlist_add(ctx, e->change_set_id);
}

static int keep_lookup(void *ctx, const struct store_aws_lookup *l)
{
        return str_assign(ctx, l->outcome);
}

/* Migration 6: an authorization's AWS status, revision and field sources
 * round-trip; change set requests are kept once while pending; held offers
 * to look up are those never looked up or looked up before the sweep. */
static void aws_sync_records_round_trip(void **state)
{
        struct store *s = open_rw();
        struct authorization a = { 0 }, back = { 0 };
        struct changeset cs = { 0 };
        char offer1[] = "offer-1";
        struct hold h = { .offer_id = offer1, .created_at = 1, .deadline = 2 };
        struct strlist got = { 0 };
        struct store_aws_lookup l = { "offer-1", "not_visible", NULL, "AccessDeniedException", 50 };
        char buf[64];
        char *outcome = NULL;
        int64_t by[STORE_AWS_SOURCES];

        assert_int_equal(str_assign(&a.id, "ra-1"), 0);
        assert_int_equal(str_assign(&a.aws_status, "Restricted"), 0);
        a.aws_modified = 1709285400;
        a.sources[AUTH_F_NAME] = AUTH_SRC_AWS;
        a.sources[AUTH_F_COMPANY] = AUTH_SRC_REGISTERED;
        assert_int_equal(changeset_add_authorization(&cs, &a), 0);
        assert_int_equal(changeset_add_hold(&cs, &h), 0);
        assert_int_equal(strlist_add(&cs.aws_refresh, "cs-1"), 0);
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_apply(s, &cs, NULL), 0);
        assert_int_equal(store_apply(s, &cs, NULL), 0); /* the same request again: once */
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(store_get_authorization(s, "ra-1", &back), 0);
        assert_string_equal(back.aws_status, "Restricted");
        assert_int_equal(back.aws_modified, 1709285400);
        assert_int_equal(authorization_source(&back, AUTH_F_NAME), AUTH_SRC_AWS);
        assert_int_equal(authorization_source(&back, AUTH_F_COMPANY), AUTH_SRC_REGISTERED);
        assert_int_equal(authorization_source(&back, AUTH_F_PRODUCT), AUTH_SRC_NONE);
        assert_int_equal(store_aws_source_counts(s, by), 0);
        assert_int_equal(by[STORE_AWS_SOURCE_AWS], 1);

        assert_int_equal(store_aws_refresh_pending(s, 0, keep_refresh, &got), 0);
        assert_int_equal(got.n, 1);
        assert_string_equal(got.v[0], "cs-1");
        assert_int_equal(store_aws_refresh_done(s, 1, "refreshed 1", 60), 0);
        strlist_clear(&got);
        assert_int_equal(store_aws_refresh_pending(s, 0, keep_refresh, &got), 0);
        assert_int_equal(got.n, 0);

        assert_int_equal(store_aws_get(s, "last_sync", buf, sizeof buf), -ENOENT);
        assert_int_equal(store_aws_put(s, "last_sync", "2024-03-01T09:30:00Z", 70), 0);
        assert_int_equal(store_aws_get(s, "last_sync", buf, sizeof buf), 0);
        assert_string_equal(buf, "2024-03-01T09:30:00Z");

        assert_int_equal(store_aws_holds_to_check(s, 0, 0, keep_id, &got), 0);
        assert_int_equal(got.n, 1); /* never looked up */
        strlist_clear(&got);
        assert_int_equal(store_aws_lookup_put(s, &l), 0);
        assert_int_equal(store_aws_holds_to_check(s, 50, 0, keep_id, &got), 0);
        assert_int_equal(got.n, 0); /* remembered */
        assert_int_equal(store_aws_holds_to_check(s, 51, 0, keep_id, &got), 0);
        assert_int_equal(got.n, 1); /* the sweep checks it again */
        assert_int_equal(store_aws_lookup_get(s, "offer-1", keep_lookup, &outcome), 0);
        assert_string_equal(outcome, "not_visible");
        assert_int_equal(store_aws_lookup_get(s, "offer-2", keep_lookup, &outcome), -ENOENT);
        free(outcome);
        strlist_clear(&got);
        authorization_clear(&a);
        authorization_clear(&back);
        changeset_clear(&cs);
        store_close(s);
}

/* The records read back, one of each type, copied by their tables. */
struct read_back {
        struct agreement agreement;
        struct hold hold;
        struct notification notification;
        struct link_change link_change;
};

static int keep_agreement(void *ctx, const struct agreement *g)
{
        return agreement_copy(&((struct read_back *)ctx)->agreement, g);
}

static int keep_hold(void *ctx, const struct hold *h)
{
        return hold_copy(&((struct read_back *)ctx)->hold, h);
}

static int keep_notification(void *ctx, const struct notification *n)
{
        return notification_copy(&((struct read_back *)ctx)->notification, n);
}

static int keep_link_change(void *ctx, const struct link_change *l)
{
        return link_change_copy(&((struct read_back *)ctx)->link_change, l);
}

/* Every field of every record table goes through store_apply() and comes
 * back from the readers unchanged: the column lists, binders and row
 * readers all walk the one table per record. */
/* The sync's own tables, written as the sync writes them, whatever wrote
 * the records they refer to (rows put in with SQL both stores take). */
static void aws_sync_state_round_trips(void **state)
{
        struct store *s = open_rw();
        struct store_aws_lookup l = { "offer-b", "found", "ra-9", NULL, 40 };
        struct strlist got = { 0 };
        char buf[8], *outcome = NULL;
        int64_t by[STORE_AWS_SOURCES];

        assert_int_equal(
            tmpstore_sql("INSERT INTO holds (offer_id, created_at, deadline) VALUES "
                         "('offer-b', 2, 9), ('offer-a', 1, 9);"
                         "INSERT INTO aws_refresh (change_set_id, created_at) VALUES "
                         "('cs-1', 1), ('cs-2', 2);"
                         "INSERT INTO authorizations (id, aws_status, registered) VALUES "
                         "('a1', 'Active', true), ('a2', 'Active', false), ('a3', NULL, true), "
                         "('a4', NULL, false), ('a5', NULL, false)"),
            0);
        assert_int_equal(store_aws_source_counts(s, by), 0);
        assert_int_equal(by[STORE_AWS_SOURCE_EVENT], 2);
        assert_int_equal(by[STORE_AWS_SOURCE_AWS], 1);
        assert_int_equal(by[STORE_AWS_SOURCE_REGISTERED], 1);
        assert_int_equal(by[STORE_AWS_SOURCE_BOTH], 1);

        assert_int_equal(store_aws_put(s, "last_sync", "x", 1), 0);
        assert_int_equal(store_aws_put(s, "last_sync", "2024-03-01", 2), 0); /* replaced */
        assert_int_equal(store_aws_get(s, "last_sync", buf, sizeof buf), -E2BIG);
        assert_int_equal(store_aws_put(s, "last_sync", "1234567", 3), 0);
        assert_int_equal(store_aws_get(s, "last_sync", buf, sizeof buf), 0);
        assert_string_equal(buf, "1234567");

        assert_int_equal(store_aws_refresh_pending(s, 1, keep_refresh, &got), 0);
        assert_int_equal(got.n, 1); /* the limit */
        assert_string_equal(got.v[0], "cs-1");
        strlist_clear(&got);
        assert_int_equal(store_aws_refresh_pending(s, 0, keep_refresh, &got), 0);
        assert_int_equal(got.n, 2);
        strlist_clear(&got);

        assert_int_equal(store_aws_holds_to_check(s, 0, 0, keep_id, &got), 0);
        assert_int_equal(got.n, 2);
        assert_string_equal(got.v[0], "offer-a"); /* oldest hold first */
        strlist_clear(&got);
        assert_int_equal(store_aws_lookup_put(s, &l), 0);
        l.outcome = "not_visible";
        l.authorization_id = NULL;
        l.checked_at = 45;
        assert_int_equal(store_aws_lookup_put(s, &l), 0); /* replaced */
        assert_int_equal(store_aws_holds_to_check(s, 45, 0, keep_id, &got), 0);
        assert_int_equal(got.n, 1);
        assert_string_equal(got.v[0], "offer-a");
        assert_int_equal(store_aws_lookup_get(s, "offer-b", keep_lookup, &outcome), 0);
        assert_string_equal(outcome, "not_visible");
        free(outcome);
        strlist_clear(&got);
        store_close(s);
}

static void every_record_field_round_trips(void **state)
{
        struct store *s = open_rw();
        struct changeset cs = { 0 };
        struct authorization a = { 0 }, a2 = { 0 };
        struct offer o = { 0 }, o2 = { 0 };
        struct agreement g = { 0 };
        struct hold h = { 0 };
        struct notification n = { 0 };
        struct link_change l = { 0 };
        struct read_back got = { 0 };

        fill_record(&authorization_record, &a);
        fill_record(&offer_record, &o);
        fill_record(&agreement_record, &g);
        fill_record(&hold_record, &h);
        fill_record(&notification_record, &n);
        fill_record(&link_change_record, &l);
        assert_int_equal(changeset_add_authorization(&cs, &a), 0);
        assert_int_equal(changeset_add_offer(&cs, &o), 0);
        assert_int_equal(changeset_add_agreement(&cs, &g), 0);
        assert_int_equal(changeset_add_hold(&cs, &h), 0);
        assert_int_equal(changeset_add_notification(&cs, &n), 0);
        assert_int_equal(changeset_add_link_change(&cs, &l), 0);
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_apply(s, &cs, NULL), 0);
        assert_int_equal(store_commit(s), 0);

        assert_int_equal(store_get_authorization(s, a.id, &a2), 0);
        assert_same_record(&authorization_record, &a, &a2);
        assert_int_equal(store_get_offer(s, o.id, &o2), 0);
        assert_same_record(&offer_record, &o, &o2);
        assert_int_equal(store_list_agreements(s, g.authorization_id, keep_agreement, &got), 0);
        assert_same_record(&agreement_record, &g, &got.agreement);
        assert_int_equal(store_list_holds(s, keep_hold, &got), 0);
        assert_same_record(&hold_record, &h, &got.hold);
        assert_int_equal(store_notifications_unrouted(s, 10, keep_notification, &got), 0);
        assert_same_record(&notification_record, &n, &got.notification);
        assert_int_equal(store_list_link_changes(s, l.offer_id, keep_link_change, &got), 0);
        assert_same_record(&link_change_record, &l, &got.link_change);

        authorization_clear(&a);
        authorization_clear(&a2);
        offer_clear(&o);
        offer_clear(&o2);
        agreement_clear(&g);
        agreement_clear(&got.agreement);
        hold_clear(&h);
        hold_clear(&got.hold);
        notification_clear(&n);
        notification_clear(&got.notification);
        link_change_clear(&l);
        link_change_clear(&got.link_change);
        changeset_clear(&cs);
        store_close(s);
}

/* ---- the records group: puts, lists, the load, notification routing ---- */

/* What a list handed over, in order, as "a,b,c" (ids or keys). */
struct order {
        char got[2048];
        struct store *store; /* for callbacks that read the store */
        int reads;
};

static int add_to_order(struct order *o, const char *id)
{
        size_t n = strlen(o->got);

        snprintf(o->got + n, sizeof o->got - n, "%s%s", n ? "," : "", id);
        return 0;
}

static int order_authorization(void *ctx, const struct authorization *a)
{
        return add_to_order(ctx, a->id);
}

static int order_offer(void *ctx, const struct offer *o)
{
        return add_to_order(ctx, o->id);
}

static int order_agreement(void *ctx, const struct agreement *g)
{
        return add_to_order(ctx, g->id);
}

static int order_hold(void *ctx, const struct hold *h)
{
        return add_to_order(ctx, h->offer_id);
}

static int order_notification(void *ctx, const struct notification *n)
{
        return add_to_order(ctx, n->key);
}

/* Applies cs in its own batch and clears it. */
static void apply_batch(struct store *s, struct changeset *cs, struct strlist *new_keys)
{
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_apply(s, cs, new_keys), 0);
        assert_int_equal(store_commit(s), 0);
        changeset_clear(cs);
}

static void add_authorization(struct changeset *cs, const char *id, int64_t updated_at,
                              const char *product_id)
{
        struct authorization a = { .id = (char *)id,
                                   .name = (char *)id,
                                   .product_id = (char *)product_id,
                                   .updated_at = updated_at };

        assert_int_equal(changeset_add_authorization(cs, &a), 0);
}

static void add_offer(struct changeset *cs, const char *id, const char *authorization_id)
{
        struct offer o = { .id = (char *)id, .authorization_id = (char *)authorization_id };

        assert_int_equal(changeset_add_offer(cs, &o), 0);
}

static void add_agreement(struct changeset *cs, const char *id, const char *acceptance_time)
{
        struct agreement g = { .id = (char *)id,
                               .authorization_id = (char *)"ra-1",
                               .acceptance_time = (char *)acceptance_time };

        assert_int_equal(changeset_add_agreement(cs, &g), 0);
}

static void add_hold(struct changeset *cs, const char *offer_id, int64_t created_at, bool sent)
{
        struct hold h = { .offer_id = (char *)offer_id,
                          .created_at = created_at,
                          .deadline = created_at + 10,
                          .attention_sent = sent };

        assert_int_equal(changeset_add_hold(cs, &h), 0);
}

/* Ids chosen so byte order (SQLite's) differs from a locale's: "O3" <
 * "o-2" < "o1" by bytes; a locale ignoring '-' or case would not say so. */
static void put_ordered_records(struct store *s)
{
        struct changeset cs = { 0 };

        add_authorization(&cs, "ra-1", 5, "prod-1");
        add_authorization(&cs, "ra-3", 7, NULL);
        add_authorization(&cs, "ra-2", 7, NULL);
        add_offer(&cs, "o1", "ra-1");
        add_offer(&cs, "o-2", "ra-1");
        add_offer(&cs, "O3", "ra-1");
        add_offer(&cs, "o-x", "ra-2");
        add_agreement(&cs, "g1", "2024-03-02T00:00:00Z");
        add_agreement(&cs, "g2", "2024-03-01T00:00:00Z");
        add_agreement(&cs, "g3", NULL); /* no acceptance yet: first, as SQLite sorts NULL */
        add_hold(&cs, "offer-b", 2, false);
        add_hold(&cs, "offer-a", 2, false);
        add_hold(&cs, "offer-c", 1, false);
        apply_batch(s, &cs, NULL);
}

/* The CLI's lists in their documented orders (ties by id, bytewise). */
static void assert_record_orders(struct store *s, const char *authorizations, const char *holds)
{
        struct order o = { 0 };

        assert_int_equal(store_list_authorizations(s, order_authorization, &o), 0);
        assert_string_equal(o.got, authorizations);
        o = (struct order){ 0 };
        assert_int_equal(store_list_offers(s, "ra-1", order_offer, &o), 0);
        assert_string_equal(o.got, "O3,o-2,o1");
        o = (struct order){ 0 };
        assert_int_equal(store_list_agreements(s, "ra-1", order_agreement, &o), 0);
        assert_string_equal(o.got, "g3,g2,g1");
        o = (struct order){ 0 };
        assert_int_equal(store_list_holds(s, order_hold, &o), 0);
        assert_string_equal(o.got, holds);
}

/* A put replaces the whole record (a column the new copy leaves NULL is
 * NULL after), a released hold goes, a missing id is -ENOENT, and the
 * lists keep their orders. */
static void records_are_replaced_and_listed_in_order(void **state)
{
        struct store *s = open_rw();
        struct changeset cs = { 0 };
        struct authorization a = { 0 };
        struct offer o = { 0 };
        struct order got = { 0 };

        put_ordered_records(s);
        assert_record_orders(s, "ra-2,ra-3,ra-1", "offer-c,offer-a,offer-b");

        add_authorization(&cs, "ra-1", 9, NULL); /* renamed below, product dropped */
        cs.authorizations[0].name[0] = 'R';
        add_offer(&cs, "o-2", "ra-2"); /* moved */
        add_hold(&cs, "offer-b", 2, true);
        assert_int_equal(strlist_add(&cs.released_holds, "offer-a"), 0);
        apply_batch(s, &cs, NULL);

        assert_int_equal(store_get_authorization(s, "ra-1", &a), 0);
        assert_string_equal(a.name, "Ra-1");
        assert_null(a.product_id);
        assert_int_equal(a.updated_at, 9);
        assert_int_equal(store_list_authorizations(s, order_authorization, &got), 0);
        assert_string_equal(got.got, "ra-1,ra-2,ra-3");
        got = (struct order){ 0 };
        assert_int_equal(store_list_offers(s, "ra-2", order_offer, &got), 0);
        assert_string_equal(got.got, "o-2,o-x");
        assert_int_equal(store_get_offer(s, "o-2", &o), 0);
        assert_string_equal(o.authorization_id, "ra-2");
        got = (struct order){ 0 };
        assert_int_equal(store_list_holds(s, order_hold, &got), 0);
        assert_string_equal(got.got, "offer-c,offer-b");
        assert_int_equal(count(s, "holds"), 2);

        assert_int_equal(store_get_authorization(s, "ra-9", &a), -ENOENT);
        assert_null(a.id);
        assert_int_equal(store_get_offer(s, "o-9", &o), -ENOENT);
        assert_null(o.id);
        got = (struct order){ 0 };
        assert_int_equal(store_list_offers(s, "ra-9", order_offer, &got), 0);
        assert_string_equal(got.got, "");
        store_close(s);
}

static void add_notification(struct changeset *cs, const char *key, const char *context)
{
        struct notification n = { .kind = (char *)"new_order",
                                  .key = (char *)key,
                                  .context_json = (char *)context,
                                  .created_at = 1 };

        assert_int_equal(changeset_add_notification(cs, &n), 0);
}

static void assert_keys(const struct strlist *l, const char *want)
{
        struct order o = { 0 };

        for (size_t i = 0; i < l->n; i++)
                assert_int_equal(add_to_order(&o, l->v[i]), 0);
        assert_string_equal(o.got, want);
}

static int first_context(void *ctx, const struct notification *n)
{
        struct order *o = ctx;

        if (o->got[0] == '\0')
                snprintf(o->got, sizeof o->got, "%s", n->context_json);
        return 0;
}

/* What the router does: writes from inside the callback. */
static int route_it(void *ctx, const struct notification *n)
{
        struct order *o = ctx;

        add_to_order(o, n->key);
        return store_notification_routed(o->store, n->key, true);
}

/* Notifications are stored once per key (the first row stays, only new
 * keys are reported), then move through their routing states. */
static void notifications_are_kept_once_and_routed(void **state)
{
        struct store *s = open_rw();
        struct changeset cs = { 0 };
        struct strlist keys = { 0 };
        struct order o = { .store = s };

        add_notification(&cs, "k1", "{\"v\":1}");
        add_notification(&cs, "k2", "{}");
        apply_batch(s, &cs, &keys);
        assert_keys(&keys, "k1,k2");
        strlist_clear(&keys);
        add_notification(&cs, "k1", "{\"v\":2}");
        add_notification(&cs, "k3", "{}");
        apply_batch(s, &cs, &keys);
        assert_keys(&keys, "k3");
        strlist_clear(&keys);
        assert_int_equal(count(s, "notifications"), 3);
        assert_int_equal(store_notifications_unrouted(s, 0, first_context, &o), 0);
        assert_string_equal(o.got, "{\"v\":1}");

        o = (struct order){ .store = s };
        assert_int_equal(store_notifications_unrouted(s, 2, order_notification, &o), 0);
        assert_string_equal(o.got, "k1,k2");
        assert_int_equal(store_notification_routed(s, "k1", true), 0);
        assert_int_equal(store_notification_routed(s, "k2", false), 0);
        assert_int_equal(store_notification_routed(s, "k9", true), -ENOENT);
        add_notification(&cs, "k4", "{}");
        apply_batch(s, &cs, NULL);
        assert_int_equal(store_notification_routed(s, "k4", false), 0);
        o = (struct order){ .store = s };
        assert_int_equal(store_notifications_unmatched(s, 0, order_notification, &o), 0);
        assert_string_equal(o.got, "k4,k2"); /* newest first */
        o = (struct order){ .store = s };
        assert_int_equal(store_notifications_unmatched(s, 1, order_notification, &o), 0);
        assert_string_equal(o.got, "k4");
        assert_int_equal(count(s, "unrouted"), 2);

        /* history: only an unrouted one can be marked */
        assert_int_equal(store_notification_backfill(s, "k3"), 0);
        assert_int_equal(store_notification_backfill(s, "k3"), -ENOENT);
        assert_int_equal(store_notification_backfill(s, "k1"), -ENOENT);
        assert_int_equal(store_notification_backfill(s, "k9"), -ENOENT);
        o = (struct order){ .store = s };
        assert_int_equal(store_notifications_unrouted(s, 0, order_notification, &o), 0);
        assert_string_equal(o.got, "");
        assert_int_equal(store_notifications_backfill_pending(s, 0, route_it, &o), 0);
        assert_string_equal(o.got, "k3");
        o = (struct order){ .store = s };
        assert_int_equal(store_notifications_backfill_pending(s, 0, order_notification, &o), 0);
        assert_string_equal(o.got, "");

        /* the router writes from its callback */
        add_notification(&cs, "k5", "{}");
        add_notification(&cs, "k6", "{}");
        apply_batch(s, &cs, NULL);
        assert_int_equal(store_notifications_unrouted(s, 0, route_it, &o), 0);
        assert_string_equal(o.got, "k5,k6");
        o = (struct order){ .store = s };
        assert_int_equal(store_notifications_unrouted(s, 0, order_notification, &o), 0);
        assert_string_equal(o.got, "");
        store_close(s);
}

struct loaded {
        int authorizations, offers, agreements, holds, keys;
        int fail_at; /* the authorization whose callback fails (0: none) */
};

static int load_authorization(void *ctx, const struct authorization *a)
{
        struct loaded *l = ctx;

        (void)a;
        return ++l->authorizations == l->fail_at ? -ECANCELED : 0;
}

static int load_offer(void *ctx, const struct offer *o)
{
        (void)o;
        ((struct loaded *)ctx)->offers++;
        return 0;
}

static int load_agreement(void *ctx, const struct agreement *g)
{
        (void)g;
        ((struct loaded *)ctx)->agreements++;
        return 0;
}

static int load_hold(void *ctx, const struct hold *h)
{
        (void)h;
        ((struct loaded *)ctx)->holds++;
        return 0;
}

static int load_key(void *ctx, const char *key)
{
        (void)key;
        ((struct loaded *)ctx)->keys++;
        return 0;
}

/* The load hands every record and key over (more rows than one fetch),
 * stops at a callback's error and leaves the store usable, inside a
 * transaction or not. */
static void load_reads_every_record_and_key(void **state)
{
        static const struct store_load_cb cb = { load_authorization, load_offer, load_agreement,
                                                 load_hold, load_key };
        struct store *s = open_rw();
        struct changeset cs = { 0 };
        struct loaded l = { 0 };

        add_authorizations(s, 2100);
        put_ordered_records(s); /* 3 more authorizations */
        add_notification(&cs, "k1", "{}");
        add_notification(&cs, "k2", "{}");
        apply_batch(s, &cs, NULL);
        assert_int_equal(store_load(s, &cb, &l), 0);
        assert_int_equal(l.authorizations, 2103);
        assert_int_equal(l.offers, 4);
        assert_int_equal(l.agreements, 3);
        assert_int_equal(l.holds, 3);
        assert_int_equal(l.keys, 2);

        l = (struct loaded){ .fail_at = 1500 };
        assert_int_equal(store_load(s, &cb, &l), -ECANCELED);
        assert_int_equal(l.authorizations, 1500);
        assert_int_equal(l.offers, 0);
        assert_int_equal(store_begin(s), 0); /* nothing left open */
        l = (struct loaded){ .fail_at = 2 };
        assert_int_equal(store_load(s, &cb, &l), -ECANCELED);
        l = (struct loaded){ 0 };
        assert_int_equal(store_load(s, &cb, &l), 0); /* again, same transaction */
        assert_int_equal(l.keys, 2);
        assert_int_equal(store_ledger_add(s, "k", NULL, 1), 1);
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(count(s, "ledger"), 1);
        store_close(s);
}

/* What `cppo-notifyctl holds` does: reads each held offer from inside the
 * holds list's callback. */
static int hold_with_offer(void *ctx, const struct hold *h)
{
        struct order *o = ctx;
        struct offer offer = { 0 };
        int r = store_get_offer(o->store, h->offer_id, &offer);

        o->reads += r == 0;
        offer_clear(&offer);
        return r == -ENOENT ? add_to_order(o, h->offer_id) : r;
}

static void a_list_callback_may_read_the_store(void **state)
{
        struct store *s = open_rw();
        struct changeset cs = { 0 };
        struct order o = { .store = s };

        put_ordered_records(s);
        add_offer(&cs, "offer-a", NULL);
        apply_batch(s, &cs, NULL);
        assert_int_equal(store_list_holds(s, hold_with_offer, &o), 0);
        assert_int_equal(o.reads, 1);
        assert_string_equal(o.got, "offer-c,offer-b");
        store_close(s);
}

/* The AWS sync's holds to look up: oldest first, ties by offer id
 * bytewise (as SQLite), so that a batch cut by its limit holds the same
 * offers on either store. */
static void assert_holds_to_check_in_byte_order(struct store *s)
{
        struct strlist got = { 0 };

        assert_int_equal(tmpstore_sql("INSERT INTO holds (offer_id, created_at, deadline) VALUES "
                                      "('offer-d', 0, 9), ('Offer-E', 0, 9)"),
                         0);
        assert_int_equal(store_aws_holds_to_check(s, 0, 2, keep_id, &got), 0);
        assert_int_equal(got.n, 2);
        assert_string_equal(got.v[0], "Offer-E");
        assert_string_equal(got.v[1], "offer-d");
        strlist_clear(&got);
}

/* PostgreSQL compares text by the column's collation, which a database
 * created under another locale (or ICU) sets: the lists still order by
 * bytes, as SQLite does. */
static void pg_lists_order_by_bytes_under_any_collation(void **state)
{
        struct store *s;

        SKIP_ON_SQLITE();
        s = open_rw();
        assert_int_equal(tmpstore_sql("ALTER TABLE authorizations ALTER COLUMN id TYPE TEXT "
                                      "COLLATE \"und-x-icu\";"
                                      "ALTER TABLE offers ALTER COLUMN id TYPE TEXT "
                                      "COLLATE \"und-x-icu\";"
                                      "ALTER TABLE agreements ALTER COLUMN acceptance_time TYPE "
                                      "TEXT COLLATE \"und-x-icu\";"
                                      "ALTER TABLE holds ALTER COLUMN offer_id TYPE TEXT "
                                      "COLLATE \"und-x-icu\""),
                         0);
        put_ordered_records(s);
        assert_record_orders(s, "ra-2,ra-3,ra-1", "offer-c,offer-a,offer-b");
        assert_holds_to_check_in_byte_order(s);
        store_close(s);
}

/* A put the database refuses (here: a trigger) fails the apply, whatever
 * was sent beside it; the batch rolls back and the next one, on the same
 * connection, puts every record type again (its statements still usable).
 * Batches of hundreds report exactly their new keys. */
static void a_failed_put_fails_the_batch_and_the_next_one_works(void **state)
{
        struct store *s = open_rw();
        struct changeset cs = { 0 };
        struct strlist keys = { 0 };
        struct link_change l = { .offer_id = (char *)"offer-1", .at = 1 };
        char key[32];

        assert_int_equal(
            tmpstore_sql(pg_admin_url()
                             ? "CREATE FUNCTION no_bad() RETURNS trigger LANGUAGE plpgsql AS $$ "
                               "BEGIN IF NEW.key = 'bad' THEN RAISE 'bad key'; END IF; "
                               "RETURN NEW; END $$;"
                               "CREATE TRIGGER no_bad BEFORE INSERT ON notifications FOR EACH "
                               "ROW EXECUTE FUNCTION no_bad()"
                             : "CREATE TRIGGER no_bad BEFORE INSERT ON notifications WHEN "
                               "NEW.key = 'bad' BEGIN SELECT RAISE(ABORT, 'bad key'); END"),
            0);
        add_authorization(&cs, "ra-1", 1, NULL);
        add_notification(&cs, "k1", "{}");
        add_notification(&cs, "bad", "{}");
        assert_int_equal(changeset_add_link_change(&cs, &l), 0);
        assert_int_equal(store_begin(s), 0);
        assert_true(store_apply(s, &cs, NULL) < 0);
        assert_int_equal(store_rollback(s), 0);
        changeset_clear(&cs);
        assert_int_equal(count(s, "notifications"), 0);
        assert_int_equal(count(s, "authorizations"), 0);

        put_ordered_records(s);
        for (int i = 0; i < 300; i++) {
                snprintf(key, sizeof key, "k-%03d", i);
                add_notification(&cs, key, "{}");
        }
        assert_int_equal(changeset_add_link_change(&cs, &l), 0);
        apply_batch(s, &cs, &keys);
        assert_int_equal(keys.n, 300);
        assert_string_equal(keys.v[299], "k-299");
        strlist_clear(&keys);
        for (int i = 250; i < 350; i++) {
                snprintf(key, sizeof key, "k-%03d", i);
                add_notification(&cs, key, "{}");
        }
        apply_batch(s, &cs, &keys);
        assert_int_equal(keys.n, 50);
        assert_string_equal(keys.v[0], "k-300");
        strlist_clear(&keys);
        assert_int_equal(count(s, "notifications"), 350);
        assert_int_equal(count(s, "authorizations"), 3);
        store_close(s);
}

/* A context as corr_context.c writes it, and an e-mail: what is packed. */
static const char packed_context[] =
    "{\"kind\":\"new_order\",\"key\":\"new_order/agmt-p1\",\"opportunity\":{\"id\":"
    "\"resaleauthz-p1\",\"name\":\"Deal p1\",\"buyer_company_name\":\"Buyer p1 GmbH\","
    "\"metadata\":{\"region\":\"EMEA\"},\"notify\":[\"rep@example.com\"],\"registered\":true,"
    "\"expires_at\":null},\"partner\":{\"account_id\":\"444400000001\",\"name\":\"Partner 1\"},"
    "\"buyer\":{\"account_ids\":[\"777700000001\"]},\"product\":{\"id\":\"prod-p1\",\"title\":"
    "\"Product p1\"},\"offer\":{\"id\":\"offer-p1\",\"name\":\"Deal p1 offer\",\"expiration\":"
    "\"2027-01-01T00:00:00Z\",\"link\":\"registered\",\"late\":false,\"late_reason\":null},"
    "\"agreement\":{\"id\":\"agmt-p1\",\"intent\":\"NEW\",\"status\":\"ACTIVE\","
    "\"acceptance_time\":\"2026-05-17T00:04:50Z\",\"start_time\":\"2026-05-17T00:04:50Z\","
    "\"end_time\":\"2027-01-01T00:00:00Z\",\"previous_agreement_id\":null,\"renewal\":false},"
    "\"reason\":null,\"source_event_keys\":[\"111122223333|Purchase Agreement Created - "
    "Manufacturer|98d546f4-a747-436e-a486-cb24be8544f7\"]}";
static const char packed_mail[] =
    "Subject: New order: Buyer p1 GmbH bought Product p1\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative;\r\n boundary=\"=_cppo_0123456789abcdef\"\r\n\r\n"
    "--=_cppo_0123456789abcdef\r\nContent-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\nA buyer accepted.\r\n"
    "--=_cppo_0123456789abcdef--\r\n";

/* The ledger as schemas 1..8 made it: keyed by the event key's text. */
#define SQLITE_LEDGER_V8                                                                           \
        "DROP TABLE ledger; CREATE TABLE ledger (event_key TEXT PRIMARY KEY, origin TEXT, "        \
        "partition INTEGER, offset INTEGER, processed_at INTEGER NOT NULL) WITHOUT ROWID;"
#define PG_LEDGER_V8                                                                               \
        "DROP TABLE ledger; CREATE TABLE ledger (event_key TEXT PRIMARY KEY, origin TEXT, "        \
        "partition BIGINT, \"offset\" BIGINT, processed_at BIGINT NOT NULL);"

/* The store as a version before packing left it (schema 7): on
 * PostgreSQL notifications.context was TEXT; the rows are plain text, as
 * main's build wrote them. */
static void make_legacy_store(void)
{
        static const char *const sqlite_sql = SQLITE_LEDGER_V8
            "DELETE FROM schema_version WHERE version > 7;"
            "INSERT INTO notifications (kind, key, context, created_at) VALUES "
            "('new_order', 'k-old', '{\"legacy\":true}', 1);"
            "INSERT INTO deliveries (key, notification_key, receiver, channel, created_at_ms, "
            "updated_at_ms, payload) VALUES ('k-old/mail', 'k-old', 'mail', 'email', 1, 1, "
            "CAST('Subject: old' AS BLOB));";
        static const char *const pg_sql = PG_LEDGER_V8
            "DELETE FROM schema_version WHERE version > 7;"
            "ALTER TABLE notifications ALTER COLUMN context TYPE TEXT "
            "USING convert_from(context, 'UTF8');"
            "INSERT INTO notifications (kind, key, context, created_at) VALUES "
            "('new_order', 'k-old', '{\"legacy\":true}', 1);"
            "INSERT INTO deliveries (key, notification_key, receiver, channel, created_at_ms, "
            "updated_at_ms, payload) VALUES ('k-old/mail', 'k-old', 'mail', 'email', 1, 1, "
            "convert_to('Subject: old', 'UTF8'));";

        store_close(open_rw()); /* the tables, at the newest version */
        assert_int_equal(tmpstore_sql(pg_admin_url() ? pg_sql : sqlite_sql), 0);
}

/* Every context the store reads, "key=context;" in key order. */
static int all_contexts(void *ctx, const struct notification *n)
{
        struct order *o = ctx;
        size_t used = strlen(o->got);

        snprintf(o->got + used, sizeof o->got - used, "%s=%s;", n->key, n->context_json);
        return 0;
}

/* A context and a payload are stored packed (pack.h: 0x00 0x01 first,
 * shorter than the document) and read back exactly; rows an older
 * version wrote as plain text read unchanged beside them, after the
 * migrations from schema 7 (8, PostgreSQL: context TEXT -> BYTEA). */
/* A payload is bytes: one that starts with NUL (the packed form's
 * marker) is stored and read back exactly, short or long. */
static void payloads_starting_with_nul_round_trip(void **state)
{
        static char shortp[] = "\0abc", longp[] = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0xyz";
        struct store *s = open_rw();
        struct delivery d = { .key = (char *)"d1",
                              .notification_key = (char *)"n1",
                              .receiver = (char *)"audit",
                              .channel = (char *)"file",
                              .payload = shortp,
                              .payload_len = sizeof shortp - 1,
                              .next_at_ms = 1 };
        struct delivery got = { 0 };

        (void)state;
        assert_int_equal(store_delivery_add(s, &d), 1);
        d.key = (char *)"d2", d.payload = longp, d.payload_len = sizeof longp - 1;
        assert_int_equal(store_delivery_add(s, &d), 1);
        assert_int_equal(store_delivery_get(s, "d1", &got), 0);
        assert_int_equal(got.payload_len, sizeof shortp - 1);
        assert_memory_equal(got.payload, shortp, sizeof shortp - 1);
        delivery_clear(&got);
        assert_int_equal(store_delivery_get(s, "d2", &got), 0);
        assert_int_equal(got.payload_len, sizeof longp - 1);
        assert_memory_equal(got.payload, longp, sizeof longp - 1);
        delivery_clear(&got);
        store_close(s);
}

static void documents_are_packed_and_legacy_rows_read(void **state)
{
        struct store *s;
        struct changeset cs = { 0 };
        struct order o = { 0 };
        struct delivery d = { .key = (char *)"k-new/mail",
                              .notification_key = (char *)"k-new",
                              .receiver = (char *)"mail",
                              .channel = (char *)"email",
                              .payload = (char *)packed_mail,
                              .payload_len = sizeof packed_mail - 1,
                              .created_at_ms = 2,
                              .updated_at_ms = 2 },
                        back = { 0 };
        char check[1024];
        int v = 0;

        make_legacy_store();
        s = open_rw();
        assert_int_equal(store_schema_version(s, &v), 0);
        assert_int_equal(v, 9);
        add_notification(&cs, "k-new", packed_context);
        apply_batch(s, &cs, NULL);
        assert_int_equal(store_delivery_add(s, &d), 1);
        /* as stored: packed, and smaller (SQLite: json('') fails the
         * statement; PostgreSQL: RAISE) */
        snprintf(check, sizeof check,
                 pg_admin_url()
                     ? "DO $$ BEGIN IF (SELECT substring(context FROM 1 FOR 2) = '\\x0001'::bytea "
                       "AND length(context) < %zu FROM notifications WHERE key = 'k-new') AND "
                       "(SELECT substring(payload FROM 1 FOR 2) = '\\x0001'::bytea AND "
                       "length(payload) < %zu FROM deliveries WHERE key = 'k-new/mail') "
                       "THEN RETURN; END IF; RAISE 'not packed'; END $$"
                     : "SELECT CASE WHEN (SELECT hex(substr(context, 1, 2)) = '0001' AND "
                       "length(context) < %zu FROM notifications WHERE key = 'k-new') AND "
                       "(SELECT hex(substr(payload, 1, 2)) = '0001' AND length(payload) < %zu "
                       "FROM deliveries WHERE key = 'k-new/mail') THEN 1 ELSE json('') END",
                 sizeof packed_context - 1, sizeof packed_mail - 1);
        assert_int_equal(tmpstore_sql(check), 0);
        /* read: the documents as written, old and new */
        assert_int_equal(store_notifications_unrouted(s, 0, all_contexts, &o), 0);
        assert_int_equal(snprintf(check, sizeof check, "k-old={\"legacy\":true};k-new=%s;",
                                  packed_context) < (int)sizeof check,
                         1);
        assert_string_equal(o.got, check);
        assert_int_equal(store_delivery_get(s, "k-new/mail", &back), 0);
        assert_int_equal(back.payload_len, sizeof packed_mail - 1);
        assert_memory_equal(back.payload, packed_mail, sizeof packed_mail - 1);
        delivery_clear(&back);
        assert_int_equal(store_delivery_get(s, "k-old/mail", &back), 0);
        assert_int_equal(back.payload_len, strlen("Subject: old"));
        assert_string_equal(back.payload, "Subject: old");
        delivery_clear(&back);
        store_close(s);
}

static const char v8_key[] = "444400000039|Purchase Agreement Created - Proposer|"
                             "d866c2d3-0c5e-4a55-9d7e-1b5c2b7e3f01";

/* Fails (SQLite: json(''); PostgreSQL: RAISE) unless the ledger holds n
 * rows, each a 16-byte digest, one of them v8_key's with its coordinates
 * and time (origin "mp-events", partition 2, offset 7, at 5). */
static void assert_ledger_digests(int n)
{
        char hex[65], check[1024];

        sha256_hex(v8_key, strlen(v8_key), hex);
        hex[32] = '\0'; /* the first 16 bytes */
        snprintf(
            check, sizeof check,
            pg_admin_url()
                ? "DO $$ BEGIN IF (SELECT COUNT(*) FROM ledger WHERE encode(key_digest, 'hex') "
                  "= '%s' AND origin = 'mp-events' AND partition = 2 AND \"offset\" = 7 AND "
                  "processed_at = 5) = 1 AND (SELECT COUNT(*) FROM ledger WHERE "
                  "length(key_digest) = 16) = %d THEN RETURN; END IF; RAISE 'ledger'; END $$"
                : "SELECT CASE WHEN (SELECT COUNT(*) FROM ledger WHERE lower(hex(key_digest)) "
                  "= '%s' AND origin = 'mp-events' AND partition = 2 AND offset = 7 AND "
                  "processed_at = 5) = 1 AND (SELECT COUNT(*) FROM ledger WHERE "
                  "typeof(key_digest) = 'blob' AND length(key_digest) = 16) = %d "
                  "THEN 1 ELSE json('') END",
            hex, n);
        assert_int_equal(tmpstore_sql(check), 0);
}

/* A store at schema 8, its ledger keyed by text: the migration to schema 9
 * keeps every row as its key's digest with the rest of the row, so those
 * keys are still duplicates and others are new; it runs once. */
static void ledger_of_schema_8_migrates_to_digests(void **state)
{
        struct store_options ro = { .read_only = true, .busy_timeout_ms = 1000 };
        char err[CPPO_ERRLEN] = "";
        struct store *s;
        char sql[1024];
        int v = 0;

        store_close(open_rw()); /* the tables, at the newest version */
        snprintf(sql, sizeof sql,
                 "%s DELETE FROM schema_version WHERE version > 8;"
                 "INSERT INTO ledger VALUES ('%s', 'mp-events', 2, 7, 5), "
                 "('k-old', NULL, NULL, NULL, 6);",
                 pg_admin_url() ? PG_LEDGER_V8 : SQLITE_LEDGER_V8, v8_key);
        assert_int_equal(tmpstore_sql(sql), 0);
        /* a reader (the CLI's counts) reads the old schema, migrating
         * nothing */
        assert_int_equal(store_open(&s, path, &ro, err, sizeof err), 0);
        assert_int_equal(count(s, "ledger"), 2);
        assert_int_equal(store_schema_version(s, &v), 0);
        assert_int_equal(v, 8);
        store_close(s);
        s = open_rw();
        assert_int_equal(store_schema_version(s, &v), 0);
        assert_int_equal(v, 9);
        assert_ledger_digests(2);
        assert_int_equal(store_ledger_add(s, v8_key, NULL, 10), 0);
        assert_int_equal(store_ledger_add(s, "k-old", NULL, 10), 0);
        assert_int_equal(store_ledger_add(s, "k-new", NULL, 10), 1);
        assert_int_equal(store_ledger_add(s, "k-new", NULL, 11), 0);
        store_close(s);
        s = open_rw(); /* nothing runs twice */
        assert_int_equal(count(s, "ledger"), 3);
        assert_ledger_digests(3);
        assert_int_equal(store_ledger_add(s, v8_key, NULL, 12), 0);
        store_close(s);
}

/* As SQLite's INSERT OR IGNORE has it: a notification without a kind or a
 * context is skipped, not stored and not reported new; the batch goes on. */
static void a_notification_without_context_is_skipped(void **state)
{
        struct store *s = open_rw();
        struct changeset cs = { 0 };
        struct strlist keys = { 0 };

        add_notification(&cs, "k1", "{}");
        add_notification(&cs, "k2", "{}");
        add_notification(&cs, "k3", "{}");
        free(cs.notifications[1].context_json);
        cs.notifications[1].context_json = NULL;
        free(cs.notifications[2].kind);
        cs.notifications[2].kind = NULL;
        apply_batch(s, &cs, &keys);
        assert_keys(&keys, "k1");
        strlist_clear(&keys);
        assert_int_equal(count(s, "notifications"), 1);
        store_close(s);
}

/* A batch whose connection is gone fails with -EIO and says so (no hang
 * waiting for replies that never come). */
static void pg_apply_on_a_lost_connection_fails(void **state)
{
        struct store *s;
        struct changeset cs = { 0 };
        char why[256];

        SKIP_ON_SQLITE();
        s = open_rw();
        add_authorization(&cs, "ra-1", 1, NULL);
        add_notification(&cs, "k1", "{}");
        assert_int_equal(tmpstore_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = current_database() AND pid <> "
                                      "pg_backend_pid()"),
                         0);
        assert_int_equal(store_apply(s, &cs, NULL), -EIO);
        store_last_error(s, why, sizeof why);
        assert_non_null(strstr(why, "connection lost"));
        changeset_clear(&cs);
        store_close(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(creates_schema_and_reopens, setup, teardown),
                cmocka_unit_test_setup_teardown(
                    ledger_detects_duplicates_within_and_across_transactions, setup, teardown),
                cmocka_unit_test_setup_teardown(rejected_inputs_keep_exact_bytes, setup, teardown),
                cmocka_unit_test_setup_teardown(rejected_requeue_round_trips, setup, teardown),
                cmocka_unit_test_setup_teardown(inbox_entries_are_taken_in_order_with_the_batch,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(reader_sees_committed_data_while_writer_works,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(refuses_a_newer_schema_and_bad_paths, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_scan_that_fails_midway_fails_the_load, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(offer_link_history_round_trips, setup, teardown),
                cmocka_unit_test_setup_teardown(
                    backfill_marks_each_notification_once_across_batches, setup, teardown),
                cmocka_unit_test_setup_teardown(aws_sync_records_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(aws_sync_state_round_trips, setup, teardown),
                cmocka_unit_test_setup_teardown(every_record_field_round_trips, setup, teardown),
                cmocka_unit_test_setup_teardown(records_are_replaced_and_listed_in_order, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(notifications_are_kept_once_and_routed, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(load_reads_every_record_and_key, setup, teardown),
                cmocka_unit_test_setup_teardown(a_list_callback_may_read_the_store, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(pg_lists_order_by_bytes_under_any_collation, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_failed_put_fails_the_batch_and_the_next_one_works,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(pg_apply_on_a_lost_connection_fails, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_notification_without_context_is_skipped, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(payloads_starting_with_nul_round_trip, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(documents_are_packed_and_legacy_rows_read, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(ledger_of_schema_8_migrates_to_digests, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(targets_are_printed_without_passwords, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(pg_racing_opens_migrate_once, setup, teardown),
                cmocka_unit_test_setup_teardown(pg_password_option_and_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(pg_fenced_commit_fails_after_a_takeover, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(pg_health_and_error_mapping, setup, teardown),
                cmocka_unit_test_setup_teardown(pg_inbox_take_leaves_a_late_lower_id_pending, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(pg_commit_of_a_failed_batch_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(delivery_claim_once_and_fenced_by_the_leader_epoch,
                                                setup, teardown),
        };
        return tmpstore_run("store", tests, sizeof tests / sizeof tests[0]);
}
