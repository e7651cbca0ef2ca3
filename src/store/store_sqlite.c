/* cppo-notify — the SQLite store (see include/cppo/store.h): the connection.
 *
 * WAL journal so CLI readers never block the writer; synchronous=FULL by
 * default so a committed batch survives power loss before its Kafka offsets
 * are stored; foreign keys on; a busy timeout for concurrent access. This
 * file opens, configures, checks and closes the connection, holds the ops
 * table and the helpers every table group shares; the groups live in
 * store_sqlite_<group>.c (store_sqlite_internal.h).
 */
#include "store_sqlite_internal.h"

#include "cppo/error.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* What an operator does about a damaged database file; part of every
 * message that reports damage. */
#define RECOVERY_HINT                                                                              \
        "recover it with `sqlite3 '%s' .recover | sqlite3 NEW.db`, check NEW.db and move it "      \
        "into place, or restore the latest backup"

/* err: what failed, SQLite's words, and for damage what to do. code is
 * the caller's default; a damaged file is -EBADMSG whatever it says. */
int sqlite_db_error(struct store_sqlite *s, int code, char *err, size_t errlen, const char *what)
{
        int rc = sqlite3_errcode(s->db) & 0xff;

        if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
                return error_set(err, errlen, -EBADMSG, "%s: %s; " RECOVERY_HINT, what,
                                 sqlite3_errmsg(s->db), s->path ? s->path : "STORE");
        return error_set(err, errlen, code, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* An SQLite result code as this project's error (error.h), so callers can
 * tell what to do: -EBADMSG the file is damaged (never retried: the store
 * needs recovery), -EBUSY another writer held the lock past the busy
 * timeout, -ENOSPC the disk is full, -EROFS the file cannot be written,
 * -EIO anything else. SQLite's own words stay on the connection
 * (store_last_error()). */
int sqlite_code(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE: return 0;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB: return -EBADMSG;
        case SQLITE_BUSY:
        case SQLITE_LOCKED: return -EBUSY;
        case SQLITE_FULL: return -ENOSPC;
        case SQLITE_READONLY:
        case SQLITE_CANTOPEN: return -EROFS;
        case SQLITE_NOMEM: return -ENOMEM;
        default: return -EIO;
        }
}

int sqlite_exec(struct store_sqlite *s, const char *sql)
{
        return sqlite_code(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

static int configure(struct store_sqlite *s, const struct store_options *o, char *err,
                     size_t errlen)
{
        char pragmas[256];

        sqlite3_busy_timeout(s->db, o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000);
        snprintf(pragmas, sizeof pragmas, "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s;",
                 o->synchronous_normal ? "NORMAL" : "FULL");
        if (sqlite_exec(s, pragmas) < 0)
                return sqlite_db_error(s, -EIO, err, errlen, "cannot configure the database");
        if (o->read_only)
                return 0;
        /* Free pages go back to the file system in small steps
         * (store_reclaim) rather than by a VACUUM that rewrites it all. It
         * takes effect only on a database without tables yet: an older
         * store converts once with `cppo-notifyctl store vacuum`. */
        if (sqlite_exec(s, "PRAGMA auto_vacuum=INCREMENTAL;") < 0)
                return sqlite_db_error(s, -EIO, err, errlen, "cannot configure the database");
        if (sqlite_exec(s, "PRAGMA journal_mode=WAL;") < 0)
                return sqlite_db_error(s, -EIO, err, errlen, "cannot enable WAL");
        /* A writer's batch touches pages all over the ledger (its keys are
         * random) and the record tables: with SQLite's 2 MB page cache a
         * store of a few hundred MB was read back page by page, and the
         * checkpoint every 1,000 WAL pages (4 MB, about every commit) copied
         * the same pages again and again, inside the COMMIT call. 16 MB of
         * cache at most (it grows as used) and a checkpoint every 10,000
         * pages (the WAL reaches 40 MB): a 400k-event replay 19 -> 10.5 s. */
        if (sqlite_exec(s, "PRAGMA cache_size=-16384; PRAGMA wal_autocheckpoint=10000;") < 0)
                return sqlite_db_error(s, -EIO, err, errlen, "cannot configure the database");
        return sqlite_migrate(s, err, errlen);
}

/* A reader does not prepare the ledger insert: it does not migrate, and
 * the ledger of an older schema has other columns (its ledger_add is
 * -EROFS). */
static int prepare(struct store_sqlite *s, bool read_only, char *err, size_t errlen)
{
        if ((!read_only &&
             sqlite3_prepare_v3(s->db,
                                "INSERT OR IGNORE INTO ledger (key_digest, origin, partition, "
                                "offset, processed_at) VALUES (?, ?, ?, ?, ?)",
                                -1, SQLITE_PREPARE_PERSISTENT, &s->ledger_insert,
                                NULL) != SQLITE_OK) ||
            sqlite3_prepare_v3(
                s->db,
                "INSERT OR IGNORE INTO rejected (reason, message, origin, partition, offset, "
                "received_at, truncated, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                -1, SQLITE_PREPARE_PERSISTENT, &s->reject_insert, NULL) != SQLITE_OK)
                return sqlite_db_error(s, -EIO, err, errlen, "cannot prepare statements");
        return 0;
}

static void sqlite_close(struct store *base)
{
        struct store_sqlite *s = impl(base);

        sqlite3_finalize(s->ledger_insert);
        sqlite3_finalize(s->reject_insert);
        for (int i = 0; i < DL_N; i++)
                sqlite3_finalize(s->dl[i]);
        for (int i = 0; i < N_PUT_SQL; i++)
                sqlite3_finalize(s->put[i]);
        sqlite3_close(s->db);
        if (s->watch_fd >= 0)
                (void)close(s->watch_fd);
        free(s->path);
        free(s);
}

static int sqlite_begin(struct store *s)
{
        /* IMMEDIATE: take the write lock now, not at the first write. */
        return sqlite_exec(impl(s), "BEGIN IMMEDIATE");
}

static int sqlite_commit(struct store *s)
{
        return sqlite_exec(impl(s), "COMMIT");
}

static int sqlite_rollback(struct store *s)
{
        return sqlite_exec(impl(s), "ROLLBACK");
}

/* The single integer a SELECT COUNT(*) ... returns. */
int sqlite_count_sql(struct store_sqlite *s, const char *sql, int64_t *out)
{
        sqlite3_stmt *st;
        int r = -EIO;

        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        if (step_row(st) > 0) {
                *out = sqlite3_column_int64(st, 0);
                r = 0;
        }
        sqlite3_finalize(st);
        return r;
}

static int sqlite_count(struct store *base, const char *table, int64_t *out)
{
        char sql[96];
        int r = store_count_query(table, sql, sizeof sql);

        return r < 0 ? r : sqlite_count_sql(impl(base), sql, out);
}

/* Binds text values as ?1.., then ints after them, and runs st once. The
 * text can be SQLITE_STATIC: step_done() clears the bindings before the
 * caller's strings go away. */
int sqlite_bind_run(sqlite3_stmt *st, const char *const *text, int n_text, const int64_t *ints,
                    int n_ints)
{
        for (int i = 0; i < n_text; i++)
                sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
        for (int i = 0; i < n_ints; i++)
                sqlite3_bind_int64(st, n_text + i + 1, ints[i]);
        return step_done(st);
}

/* A statement run once (CLI commands, rare updates). */
int sqlite_run_stmt(struct store_sqlite *s, const char *sql, const char *const *text, int n_text,
                    const int64_t *ints, int n_ints)
{
        sqlite3_stmt *st;
        int r;

        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        r = sqlite_bind_run(st, text, n_text, ints, n_ints);
        sqlite3_finalize(st);
        return r;
}

/* ---- health: what the daemon checks before trusting the store ---- */

static void sqlite_last_error(struct store *base, char *buf, size_t len)
{
        struct store_sqlite *s = impl(base);
        int code = sqlite3_extended_errcode(s->db);

        if (code == SQLITE_OK)
                snprintf(buf, len, "%s", "");
        else
                snprintf(buf, len, "%s (sqlite %d)", sqlite3_errmsg(s->db), code);
}

/* Remembers which file the connection opened (see struct store_sqlite). */
static int watch_file(struct store_sqlite *s, const char *path, char *err, size_t errlen)
{
        struct stat st;

        s->watch_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->watch_fd < 0 || fstat(s->watch_fd, &st) != 0)
                return error_set(err, errlen, -EIO, "cannot watch the store '%s': %s", path,
                                 strerror(errno));
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        return 0;
}

static int sqlite_verify(struct store *base, char *err, size_t errlen)
{
        struct store_sqlite *s = impl(base);
        struct stat held, named;

        if (s->watch_fd < 0) /* in-memory or not watched */
                return 0;
        if (fstat(s->watch_fd, &held) != 0 || held.st_nlink == 0)
                return error_set(err, errlen, -ESTALE, "the store '%s' was deleted while open",
                                 s->path);
        if (stat(s->path, &named) != 0)
                return error_set(err, errlen, -ESTALE, "the store '%s' is gone: %s", s->path,
                                 strerror(errno));
        if (named.st_dev != s->dev || named.st_ino != s->ino)
                return error_set(err, errlen, -ESTALE,
                                 "the store '%s' was replaced by another file while open", s->path);
        if (!sqlite3_db_readonly(s->db, "main") && access(s->path, W_OK) != 0)
                return error_set(err, errlen, -EROFS, "the store '%s' is not writable: %s", s->path,
                                 strerror(errno));
        return 0;
}

/* PRAGMA quick_check: every page and index entry read once; "ok" or a list
 * of problems, of which the first is reported. */
static int sqlite_integrity(struct store *base, char *err, size_t errlen)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0, rc;

        rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sqlite_db_error(s, sqlite_code(rc), err, errlen,
                                       "the store cannot be checked");
        rc = step_row(st);
        if (rc > 0) {
                const char *what = (const char *)sqlite3_column_text(st, 0);
                if (what == NULL || strcmp(what, "ok") != 0)
                        r = error_set(err, errlen, -EBADMSG,
                                      "the store is damaged (%s); " RECOVERY_HINT,
                                      what ? what : "?", s->path ? s->path : "STORE");
        } else {
                r = sqlite_db_error(s, rc == 0 ? -EIO : rc, err, errlen,
                                    "the store cannot be checked");
        }
        sqlite3_finalize(st);
        return r;
}

/* One SQLite file has one writer by its own lock: nothing to fence. */
static int sqlite_fence(struct store *s, const struct store_fence_token *t)
{
        (void)s;
        (void)t;
        return 0;
}

static const struct store_ops sqlite_ops = {
        .name = "sqlite",
        .close = sqlite_close,
        .begin = sqlite_begin,
        .commit = sqlite_commit,
        .rollback = sqlite_rollback,
        .ledger_add = sqlite_ledger_add,
        .reject = sqlite_reject,
        .count = sqlite_count,
        .list_rejected = sqlite_list_rejected,
        .inbox_add = sqlite_inbox_add,
        .inbox_pending = sqlite_inbox_pending,
        .inbox_take = sqlite_inbox_take,
        .list_authorizations = sqlite_list_authorizations,
        .get_authorization = sqlite_get_authorization,
        .list_offers = sqlite_list_offers,
        .list_holds = sqlite_list_holds,
        .get_offer = sqlite_get_offer,
        .list_agreements = sqlite_list_agreements,
        .schema_version = sqlite_schema_version,
        .apply = sqlite_apply,
        .load = sqlite_load,
        .notifications_unrouted = sqlite_notifications_unrouted,
        .notification_routed = sqlite_notification_routed,
        .delivery_add = sqlite_delivery_add,
        .delivery_due = sqlite_delivery_due,
        .delivery_claim = sqlite_delivery_claim,
        .delivery_finish = sqlite_delivery_finish,
        .delivery_requeue_inflight = sqlite_delivery_requeue_inflight,
        .delivery_list = sqlite_delivery_list,
        .delivery_attempts = sqlite_delivery_attempts,
        .delivery_retry = sqlite_delivery_retry,
        .delivery_counts = sqlite_delivery_counts,
        .delivery_get = sqlite_delivery_get,
        .notifications_unmatched = sqlite_notifications_unmatched,
        .notification_backfill = sqlite_notification_backfill,
        .notifications_backfill_pending = sqlite_notifications_backfill_pending,
        .get_rejected = sqlite_get_rejected,
        .rejected_requeue = sqlite_rejected_requeue,
        .rejected_requeue_of = sqlite_rejected_requeue_of,
        .rejected_settle = sqlite_rejected_settle,
        .list_link_changes = sqlite_list_link_changes,
        .delivery_defer = sqlite_delivery_defer,
        .receiver_health_put = sqlite_receiver_health_put,
        .receiver_list = sqlite_receiver_list,
        .last_error = sqlite_last_error,
        .verify = sqlite_verify,
        .integrity = sqlite_integrity,
        .aws_get = sqlite_aws_get,
        .aws_put = sqlite_aws_put,
        .aws_refresh_pending = sqlite_aws_refresh_pending,
        .aws_refresh_done = sqlite_aws_refresh_done,
        .aws_holds_to_check = sqlite_aws_holds_to_check,
        .aws_lookup_put = sqlite_aws_lookup_put,
        .aws_lookup_get = sqlite_aws_lookup_get,
        .aws_source_counts = sqlite_aws_source_counts,
        .fence = sqlite_fence,
        .prune = sqlite_prune,
        .prune_count = sqlite_prune_count,
        .reclaim = sqlite_reclaim,
        .compact = sqlite_compact,
        .table_stats = sqlite_table_stats,
};

int store_sqlite_open(struct store **out, const char *path, const struct store_options *o,
                      char *err, size_t errlen)
{
        struct store_sqlite *s = calloc(1, sizeof *s);
        int flags = o->read_only ? SQLITE_OPEN_READONLY
                                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        int r;

        if (s == NULL)
                return -ENOMEM;
        s->base.ops = &sqlite_ops;
        s->watch_fd = -1;
        s->path = strdup(path);
        if (s->path == NULL) {
                free(s);
                return -ENOMEM;
        }
        if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
                r = error_set(err, errlen, -EIO, "cannot open the store '%s': %s", path,
                              s->db ? sqlite3_errmsg(s->db) : "out of memory");
                goto fail;
        }
        r = configure(s, o, err, errlen);
        if (r == 0)
                r = prepare(s, o->read_only, err, errlen);
        if (r == 0)
                r = watch_file(s, path, err, errlen);
        if (r < 0)
                goto fail;
        *out = &s->base;
        return 0;
fail:
        sqlite_close(&s->base);
        return r;
}
