/* cppo-notify — the SQLite store's deliveries: one row per notification
 * and receiver with its exact payload, the attempts made, and each
 * receiver's health. */
#include "store_sqlite_internal.h"

#include "cppo/error.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdlib.h>

/* A delivery's columns are delivery_record (core/delivery.c), which
 * the statements, the binder and the row reader all walk. */

/* "SELECT <delivery columns> FROM deliveries <tail>", prepared to run once. */
static int prepare_deliveries(struct store_sqlite *s, const char *tail, sqlite3_stmt **st)
{
        char sql[SQL_MAX];

        if (store_select_sql(&delivery_record, "deliveries", tail, sql) < 0)
                return -E2BIG;
        return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -EIO;
}

static sqlite3_stmt *dl_stmt(struct store_sqlite *s, int which, const char *sql)
{
        if (s->dl[which] == NULL && sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                                       &s->dl[which], NULL) != SQLITE_OK)
                return NULL;
        return s->dl[which];
}

/* Joins the caller's open transaction (as a savepoint, so a failure here
 * undoes only this call) or runs one of its own. */
static int tx_enter(struct store_sqlite *s, bool *own)
{
        *own = sqlite3_get_autocommit(s->db) != 0;
        return sqlite_exec(s, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT delivery");
}

static int tx_leave(struct store_sqlite *s, bool own, int r)
{
        if (r >= 0 && sqlite_exec(s, own ? "COMMIT" : "RELEASE delivery") == 0)
                return r;
        (void)sqlite_exec(s, own ? "ROLLBACK" : "ROLLBACK TO delivery; RELEASE delivery");
        return r < 0 ? r : -EIO;
}

/* Streams the rows of st to fn (which must not write to the store). */
static int each_delivery(sqlite3_stmt *st, int (*fn)(void *ctx, const struct delivery *d),
                         void *ctx)
{
        int r = 0;

        while (scan_row(st, &r)) {
                struct delivery d = { 0 };
                r = sqlite_read_record(st, &delivery_record, &d);
                if (r == 0)
                        r = fn(ctx, &d);
                delivery_clear(&d);
        }
        return r;
}

/* Reads up to cap rows of st into v (zeroed, cap long); *n rows read. */
static int read_deliveries(sqlite3_stmt *st, struct delivery *v, size_t cap, size_t *n)
{
        int r = 0;

        *n = 0;
        while (*n < cap && scan_row(st, &r))
                r = sqlite_read_record(st, &delivery_record, &v[(*n)++]);
        return r;
}

/* The dispatcher's query, prepared on first use and kept. */
static sqlite3_stmt *due_stmt(struct store_sqlite *s)
{
        char sql[SQL_MAX];

        if (s->dl[DL_DUE])
                return s->dl[DL_DUE];
        if (store_select_sql(&delivery_record, "deliveries",
                             "WHERE status = 0 AND next_at_ms <= ?1 AND "
                             "(?2 IS NULL OR receiver = ?2) ORDER BY next_at_ms, rowid LIMIT ?3",
                             sql) < 0)
                return NULL;
        return dl_stmt(s, DL_DUE, sql);
}

int sqlite_delivery_due(struct store *base, const char *receiver, int64_t now_ms, int64_t limit,
                        int (*fn)(void *ctx, const struct delivery *d), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st = due_stmt(s);
        size_t cap = batch_size(limit), n = 0;
        struct delivery *v;
        int r;

        if (st == NULL)
                return -EIO;
        v = calloc(cap, sizeof *v);
        if (v == NULL)
                return -ENOMEM;
        sqlite3_bind_int64(st, 1, now_ms);
        sqlite3_bind_text(st, 2, receiver, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)cap);
        r = read_deliveries(st, v, cap, &n);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = fn(ctx, &v[i]);
        for (size_t i = 0; i < cap; i++)
                delivery_clear(&v[i]);
        free(v);
        return r;
}

int sqlite_delivery_claim(struct store *base, const char *key, int64_t now_ms)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st = dl_stmt(s, DL_CLAIM,
                                   "UPDATE deliveries SET status = 1, "
                                   "updated_at_ms = ?2 WHERE key = ?1 AND status = 0");

        if (st == NULL)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now_ms);
        if (step_done(st) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 1 : 0;
}

static int finish_update(struct store_sqlite *s, const struct delivery_attempt *a,
                         enum delivery_status status, int64_t next_at_ms)
{
        sqlite3_stmt *st = dl_stmt(s, DL_FINISH,
                                   "UPDATE deliveries SET status = ?2, "
                                   "attempts = attempts + 1, next_at_ms = CASE WHEN ?2 = 0 "
                                   "THEN ?3 ELSE next_at_ms END, last_code = ?4, "
                                   "last_error = ?5, updated_at_ms = ?6 WHERE key = ?1");

        if (st == NULL)
                return -EIO;
        sqlite3_bind_text(st, 1, a->delivery_key, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)status);
        sqlite3_bind_int64(st, 3, next_at_ms);
        sqlite3_bind_int(st, 4, a->code);
        sqlite3_bind_text(st, 5, a->error, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, a->at_ms);
        if (step_done(st) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

static int attempt_insert(struct store_sqlite *s, const struct delivery_attempt *a)
{
        sqlite3_stmt *st = dl_stmt(s, DL_ATTEMPT,
                                   "INSERT INTO attempts (delivery_key, at_ms, "
                                   "outcome, code, latency_ms, error, refused) "
                                   "VALUES (?,?,?,?,?,?,?)");

        if (st == NULL)
                return -EIO;
        sqlite3_bind_text(st, 1, a->delivery_key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, a->at_ms);
        sqlite3_bind_text(st, 3, a->outcome ? a->outcome : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, a->code);
        sqlite3_bind_int64(st, 5, a->latency_ms);
        sqlite3_bind_text(st, 6, a->error, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, a->refused, -1, SQLITE_STATIC);
        return step_done(st);
}

int sqlite_delivery_finish(struct store *base, const struct delivery_attempt *a,
                           enum delivery_status status, int64_t next_at_ms)
{
        struct store_sqlite *s = impl(base);
        bool own;
        int r;

        if (a->delivery_key == NULL || (unsigned)status > DELIVERY_DEAD)
                return -EINVAL;
        if (tx_enter(s, &own) < 0)
                return -EIO;
        r = finish_update(s, a, status, next_at_ms);
        if (r == 0)
                r = attempt_insert(s, a);
        return tx_leave(s, own, r);
}

int sqlite_delivery_add(struct store *base, const struct delivery *d)
{
        struct store_sqlite *s = impl(base);
        char sql[SQL_MAX];
        sqlite3_stmt *st;
        int r;

        if (!d->key || !d->notification_key || !d->receiver || !d->channel)
                return -EINVAL;
        /* ON CONFLICT, not OR IGNORE: a NULL in a NOT NULL column stays an error. */
        if (sqlite_insert_sql(&delivery_record, "INSERT", "deliveries",
                              "ON CONFLICT(key) DO NOTHING", sql) < 0)
                return -E2BIG;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        r = sqlite_bind_record(st, &delivery_record, d);
        if (r == 0)
                r = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) == 1 : -EIO;
        sqlite3_finalize(st);
        return r;
}

int sqlite_delivery_requeue_inflight(struct store *base, int64_t now_ms)
{
        struct store_sqlite *s = impl(base);

        if (sqlite_run_stmt(s,
                            "UPDATE deliveries SET status = 0, next_at_ms = ?1, updated_at_ms = ?1 "
                            "WHERE status = 1",
                            NULL, 0, &now_ms, 1) < 0)
                return -EIO;
        return sqlite3_changes(s->db);
}

int sqlite_delivery_retry(struct store *base, const char *key, int64_t now_ms)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { key };
        int r;

        if (key)
                r = sqlite_run_stmt(
                    s,
                    "UPDATE deliveries SET status = 0, attempts = 0, next_at_ms = ?2, "
                    "updated_at_ms = ?2 WHERE status = 3 AND key = ?1",
                    text, 1, &now_ms, 1);
        else
                r = sqlite_run_stmt(
                    s,
                    "UPDATE deliveries SET status = 0, attempts = 0, next_at_ms = ?1, "
                    "updated_at_ms = ?1 WHERE status = 3",
                    NULL, 0, &now_ms, 1);
        if (r < 0)
                return r;
        r = sqlite3_changes(s->db);
        return key && r == 0 ? -ENOENT : r;
}

int sqlite_delivery_list(struct store *base, bool failed_only, int64_t limit,
                         int (*fn)(void *ctx, const struct delivery *d), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r;

        if (prepare_deliveries(s,
                               "WHERE (?1 = 0 OR status = 3) "
                               "ORDER BY created_at_ms DESC, rowid DESC LIMIT ?2",
                               &st) < 0)
                return -EIO;
        sqlite3_bind_int(st, 1, failed_only ? 1 : 0);
        sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
        r = each_delivery(st, fn, ctx);
        sqlite3_finalize(st);
        return r;
}

int sqlite_delivery_get(struct store *base, const char *key, struct delivery *out)
{
        struct store_sqlite *s = impl(base);
        struct delivery d = { 0 };
        sqlite3_stmt *st;
        int rc, r;

        if (prepare_deliveries(s, "WHERE key = ?", &st) < 0)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = step_row(st);
        r = rc > 0 ? sqlite_read_record(st, &delivery_record, &d) : rc == 0 ? -ENOENT : -EIO;
        sqlite3_finalize(st);
        if (r < 0) {
                delivery_clear(&d);
                return r;
        }
        delivery_clear(out);
        *out = d;
        return 0;
}

int sqlite_delivery_attempts(struct store *base, const char *key,
                             int (*fn)(void *ctx, const struct delivery_attempt *a), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db,
                               "SELECT delivery_key, at_ms, outcome, code, latency_ms, "
                               "error, refused FROM attempts WHERE delivery_key = ? "
                               "ORDER BY id",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        while (scan_row(st, &r)) {
                struct delivery_attempt a = {
                        .delivery_key = col_text(st, 0),
                        .at_ms = sqlite3_column_int64(st, 1),
                        .outcome = col_text(st, 2),
                        .code = sqlite3_column_int(st, 3),
                        .latency_ms = sqlite3_column_int64(st, 4),
                        .error = col_text(st, 5),
                        .refused = col_text(st, 6),
                };
                r = fn(ctx, &a);
        }
        sqlite3_finalize(st);
        return r;
}

int sqlite_delivery_counts(struct store *base, const char *receiver, int64_t out[4])
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        for (int i = 0; i < 4; i++)
                out[i] = 0;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT status, COUNT(*) FROM deliveries "
                               "WHERE (?1 IS NULL OR receiver = ?1) GROUP BY status",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, receiver, -1, SQLITE_STATIC);
        while (scan_row(st, &r)) {
                int status = sqlite3_column_int(st, 0);
                if (status >= 0 && status < 4)
                        out[status] = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
        return r;
}

/* ---- receiver health ---- */

int sqlite_delivery_defer(struct store *base, const struct delivery_attempt *a, int64_t next_at_ms)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { a->delivery_key, a->error };
        const int64_t ints[] = { next_at_ms, a->code, a->at_ms };
        bool own;
        int r;

        if (a->delivery_key == NULL)
                return -EINVAL;
        if (tx_enter(s, &own) < 0)
                return -EIO;
        r = sqlite_run_stmt(s,
                            "UPDATE deliveries SET status = 0, next_at_ms = ?3, last_code = ?4, "
                            "last_error = ?2, updated_at_ms = ?5 WHERE key = ?1",
                            text, 2, ints, 3);
        if (r == 0 && sqlite3_changes(s->db) != 1)
                r = -ENOENT;
        if (r == 0)
                r = attempt_insert(s, a);
        return tx_leave(s, own, r);
}

int sqlite_receiver_health_put(struct store *base, const struct store_receiver_health *h,
                               bool replace)
{
        const char *text[] = { h->receiver, h->last_error };
        const int64_t ints[] = { h->up ? 1 : 0, h->since_ms, h->failures, h->updated_at_ms };

        if (h->receiver == NULL)
                return -EINVAL;
        return sqlite_run_stmt(
            impl(base),
            replace ? "INSERT OR REPLACE INTO receiver_health (receiver, last_error, "
                      "up, since_ms, failures, updated_at_ms) VALUES (?,?,?,?,?,?)"
                    : "INSERT OR IGNORE INTO receiver_health (receiver, last_error, "
                      "up, since_ms, failures, updated_at_ms) VALUES (?,?,?,?,?,?)",
            text, 2, ints, 4);
}

/* Columns: receiver, known, up, since_ms, failures, last_error,
 * updated_at_ms, then the count of each delivery status 0..3. */
#define RECEIVER_SQL                                                                               \
        "SELECT n.receiver, h.receiver IS NOT NULL, COALESCE(h.up, 1), COALESCE(h.since_ms, 0), "  \
        "COALESCE(h.failures, 0), h.last_error, COALESCE(h.updated_at_ms, 0), "                    \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 0), "     \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 1), "     \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 2), "     \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 3) "      \
        "FROM (SELECT receiver FROM receiver_health UNION SELECT DISTINCT receiver "               \
        "FROM deliveries) n LEFT JOIN receiver_health h ON h.receiver = n.receiver "               \
        "ORDER BY n.receiver"

int sqlite_receiver_list(struct store *base, int (*fn)(void *ctx, const struct store_receiver *r),
                         void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db, RECEIVER_SQL, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        while (scan_row(st, &r)) {
                struct store_receiver v = {
                        .health = { .receiver = col_text(st, 0),
                                    .up = sqlite3_column_int(st, 2) != 0,
                                    .since_ms = sqlite3_column_int64(st, 3),
                                    .failures = sqlite3_column_int64(st, 4),
                                    .last_error = col_text(st, 5),
                                    .updated_at_ms = sqlite3_column_int64(st, 6) },
                        .known = sqlite3_column_int(st, 1) != 0,
                };
                for (int i = 0; i < 4; i++)
                        v.counts[i] = sqlite3_column_int64(st, 7 + i);
                r = fn(ctx, &v);
        }
        sqlite3_finalize(st);
        return r;
}
#undef RECEIVER_SQL
