/* cppo-notify — the PostgreSQL store's deliveries: one row per
 * notification and receiver with its exact payload (BYTEA), the attempts
 * made, and each receiver's health. The same behaviour as
 * store_sqlite_deliveries.c, plus what two instances on one database need
 * (issue 15):
 *
 * - The claim is one statement that moves a row from QUEUED to SENDING only
 *   if it is still QUEUED, so two dispatchers never both send one delivery.
 *   On a fenced store (impl(s)->epoch > 0) the same statement also requires
 *   ha_leader to hold our epoch, under a share lock on that row: a takeover
 *   (which updates the row) waits for a claim in progress, and a claim after
 *   it sees the new epoch and changes nothing (-ENOLCK).
 * - The claiming epoch is kept on the row (claim_epoch), so a new leader's
 *   requeue_inflight returns to QUEUED what older epochs left in flight and
 *   never what it claimed itself.
 * - The tie-breaker of equal times is seq (a BIGSERIAL), the insertion
 *   order SQLite's rowid gives; names sort byte-wise (COLLATE "C") as in
 *   SQLite, whatever the database's collation.
 *
 * The due query reads without row locks: in autocommit they would be
 * released as the statement ends, so FOR UPDATE SKIP LOCKED would only add
 * a write per row read; the claim is what decides. */
#include "store_pg_internal.h"

#include "cppo/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* The dispatcher's and the router's statements, prepared once per
 * connection (store_pg_internal.h: this file's range). */
enum {
        DL_DUE = PG_ST_DELIVERIES,
        DL_CLAIM,
        DL_CLAIM_FENCED,
        DL_FINISH,
        DL_DEFER,
        DL_ADD,
        DL_GET,
        DL_END
};
_Static_assert(DL_END <= PG_ST_DELIVERIES + 32, "store_pg_deliveries.c has 32 statements");

/* ---- reading deliveries ---- */

/* Every row of res (a store_select_sql() query of delivery_record)
 * to fn, in order. The result is in memory: fn may write to the store. */
static int each_delivery(const PGresult *res, int (*fn)(void *ctx, const struct delivery *d),
                         void *ctx)
{
        int r = 0;

        for (int i = 0; r == 0 && i < PQntuples(res); i++) {
                struct delivery d = { 0 };
                r = pg_read_record(res, i, 0, &delivery_record, &d);
                if (r == 0)
                        r = fn(ctx, &d);
                delivery_clear(&d);
        }
        return r;
}

/* Runs "SELECT <delivery columns> FROM deliveries <tail>" (prepared as
 * stmt unless PG_ST_NONE) and hands its rows to fn. */
static int query_deliveries(struct store_pg *s, int stmt, const char *tail,
                            const struct pg_params *p,
                            int (*fn)(void *ctx, const struct delivery *d), void *ctx)
{
        char sql[SQL_MAX];
        PGresult *res;
        int r;

        if (store_select_sql(&delivery_record, "deliveries", tail, sql) < 0)
                return -E2BIG;
        r = pg_run(s, stmt, sql, p, &res, NULL);
        if (r < 0)
                return r;
        r = each_delivery(res, fn, ctx);
        PQclear(res);
        return r;
}

int pg_delivery_due(struct store *base, const char *receiver, int64_t now_ms, int64_t limit,
                    int (*fn)(void *ctx, const struct delivery *d), void *ctx)
{
        struct pg_params p = { 0 };

        pg_param_int(&p, now_ms);
        pg_param_text(&p, receiver);
        pg_param_int(&p, pg_batch_size(limit));
        return query_deliveries(impl(base), DL_DUE,
                                "WHERE status = 0 AND next_at_ms <= $1 AND "
                                "($2::TEXT IS NULL OR receiver = $2) ORDER BY next_at_ms, seq "
                                "LIMIT $3",
                                &p, fn, ctx);
}

int pg_delivery_list(struct store *base, bool failed_only, int64_t limit,
                     int (*fn)(void *ctx, const struct delivery *d), void *ctx)
{
        struct pg_params p = { 0 };

        pg_param_bool(&p, failed_only);
        if (limit > 0)
                pg_param_int(&p, limit);
        else
                pg_param_text(&p, NULL); /* LIMIT NULL: all */
        return query_deliveries(impl(base), PG_ST_NONE,
                                "WHERE (NOT $1::BOOLEAN OR status = 3) "
                                "ORDER BY created_at_ms DESC, seq DESC LIMIT $2::BIGINT",
                                &p, fn, ctx);
}

/* Keeps the one row read (the callback of pg_delivery_get()). */
static int keep_delivery(void *ctx, const struct delivery *d)
{
        return delivery_copy(ctx, d);
}

int pg_delivery_get(struct store *base, const char *key, struct delivery *out)
{
        struct pg_params p = { 0 };
        struct delivery d = { 0 };
        int r;

        pg_param_text(&p, key);
        r = query_deliveries(impl(base), DL_GET, "WHERE key = $1", &p, keep_delivery, &d);
        if (r == 0 && d.key == NULL)
                r = -ENOENT;
        if (r < 0) {
                delivery_clear(&d);
                return r;
        }
        delivery_clear(out);
        *out = d;
        return 0;
}

/* ---- adding and claiming ---- */

int pg_delivery_add(struct store *base, const struct delivery *d)
{
        struct pg_params p = { 0 };
        char sql[SQL_MAX];
        int64_t rows = 0;
        int r;

        if (!d->key || !d->notification_key || !d->receiver || !d->channel)
                return -EINVAL;
        /* ON CONFLICT: a second add of a key changes nothing and, unlike an
         * error, leaves the caller's transaction usable */
        if (pg_insert_sql(&delivery_record, "deliveries", "ON CONFLICT (key) DO NOTHING", sql) < 0)
                return -E2BIG;
        r = pg_params_record(&p, &delivery_record, d);
        if (r == 0)
                r = pg_run(impl(base), DL_ADD, sql, &p, NULL, &rows);
        pg_params_free(&p);
        return r < 0 ? r : rows == 1;
}

/* A fenced update: `update` (a WHERE clause last, $1 our epoch, `pid` the
 * parameter of our lock_pid) changes rows only while we lead
 * (PG_FENCE_LEADER). The statement answers the epoch it found, whether
 * the lock was held, and the rows it changed. */
#define FENCED(update, pid)                                                                        \
        "WITH leader AS (" PG_FENCE_LEADER(                                                        \
            pid) "), done AS (" update                                                             \
                 " AND EXISTS (SELECT 1 FROM leader WHERE epoch = $1 AND held) RETURNING 1) "      \
                 "SELECT (SELECT epoch FROM leader), (SELECT held FROM leader), (SELECT COUNT(*) " \
                 "FROM done)"

/* Runs a FENCED() statement: the rows changed in *rows, or -ENOLCK (with
 * the reason in last_error) when we no longer lead. */
static int run_fenced(struct store_pg *s, int stmt, const char *sql, const struct pg_params *p,
                      int64_t *rows)
{
        PGresult *res;
        int64_t now;
        bool held;
        int r = pg_run(s, stmt, sql, p, &res, NULL);

        if (r < 0)
                return r;
        if (PQntuples(res) != 1 || PQnfields(res) != 3) {
                PQclear(res);
                return -EIO;
        }
        now = pg_col_text(res, 0, 0) ? pg_col_int(res, 0, 0) : -1;
        held = pg_col_text(res, 0, 1) && pg_col_bool(res, 0, 1);
        *rows = pg_col_int(res, 0, 2);
        PQclear(res);
        return pg_fence_check(s, now, held);
}

#define CLAIM_SQL                                                                                  \
        "UPDATE deliveries SET status = 1, updated_at_ms = $3, claim_epoch = $1 "                  \
        "WHERE key = $2 AND status = 0"

int pg_delivery_claim(struct store *base, const char *key, int64_t now_ms)
{
        struct store_pg *s = impl(base);
        struct pg_params p = { 0 };
        int64_t rows = 0;
        int r;

        pg_param_int(&p, s->epoch);
        pg_param_text(&p, key);
        pg_param_int(&p, now_ms);
        if (s->epoch > 0) {
                pg_param_int(&p, s->lock_pid);
                r = run_fenced(s, DL_CLAIM_FENCED, FENCED(CLAIM_SQL, "$4"), &p, &rows);
        } else {
                r = pg_run(s, DL_CLAIM, CLAIM_SQL, &p, NULL, &rows);
        }
        return r < 0 ? r : rows == 1 ? 1 : 0;
}

int pg_delivery_requeue_inflight(struct store *base, int64_t now_ms)
{
        struct store_pg *s = impl(base);
        struct pg_params p = { 0 };
        int64_t rows = 0;
        int r;

        if (s->epoch > 0) {
                /* what older epochs left in flight; never our own claims */
                pg_param_int(&p, s->epoch);
                pg_param_int(&p, now_ms);
                pg_param_int(&p, s->lock_pid);
                r = run_fenced(s, PG_ST_NONE,
                               FENCED("UPDATE deliveries SET status = 0, next_at_ms = $2, "
                                      "updated_at_ms = $2 WHERE status = 1 AND claim_epoch < $1",
                                      "$3"),
                               &p, &rows);
        } else {
                pg_param_int(&p, now_ms);
                r = pg_exec_count(s,
                                  "UPDATE deliveries SET status = 0, next_at_ms = $1, "
                                  "updated_at_ms = $1 WHERE status = 1",
                                  &p, &rows);
        }
        if (r < 0)
                return r;
        return rows > INT32_MAX ? INT32_MAX : (int)rows;
}

/* ---- attempts: the state change and its attempt in one statement ---- */

/* The attempt's parameters $1..$7: delivery_key, at_ms, outcome, code,
 * latency_ms, error, refused. */
static void attempt_params(struct pg_params *p, const struct delivery_attempt *a)
{
        pg_param_text(p, a->delivery_key);
        pg_param_int(p, a->at_ms);
        pg_param_text(p, a->outcome ? a->outcome : "");
        pg_param_int(p, a->code);
        pg_param_int(p, a->latency_ms);
        pg_param_text(p, a->error);
        pg_param_text(p, a->refused);
}

/* `update` (of the row keyed $1, RETURNING key) and the insert of its
 * attempt, which happens only when the update found the row: atomic
 * without a transaction of its own, and an unknown key changes nothing
 * (no error aborts the caller's transaction). */
#define WITH_ATTEMPT(update)                                                                       \
        "WITH d AS (" update " WHERE key = $1 RETURNING key) "                                     \
        "INSERT INTO attempts (delivery_key, at_ms, outcome, code, latency_ms, error, refused) "   \
        "SELECT key, $2::BIGINT, $3::TEXT, $4::BIGINT, $5::BIGINT, $6::TEXT, $7::TEXT FROM d"

int pg_delivery_finish(struct store *base, const struct delivery_attempt *a,
                       enum delivery_status status, int64_t next_at_ms)
{
        struct pg_params p = { 0 };
        int64_t rows = 0;
        int r;

        if (a->delivery_key == NULL || (unsigned)status > DELIVERY_DEAD)
                return -EINVAL;
        attempt_params(&p, a);
        pg_param_int(&p, (int64_t)status);
        pg_param_int(&p, next_at_ms);
        r = pg_run(impl(base), DL_FINISH,
                   WITH_ATTEMPT("UPDATE deliveries SET status = $8::BIGINT, "
                                "attempts = attempts + 1, next_at_ms = CASE WHEN $8::BIGINT = 0 "
                                "THEN $9::BIGINT ELSE next_at_ms END, last_code = $4::BIGINT, "
                                "last_error = $6::TEXT, updated_at_ms = $2::BIGINT"),
                   &p, NULL, &rows);
        return r < 0 ? r : rows == 1 ? 0 : -ENOENT;
}

int pg_delivery_defer(struct store *base, const struct delivery_attempt *a, int64_t next_at_ms)
{
        struct pg_params p = { 0 };
        int64_t rows = 0;
        int r;

        if (a->delivery_key == NULL)
                return -EINVAL;
        attempt_params(&p, a);
        pg_param_int(&p, next_at_ms);
        /* QUEUED again; the attempts column (the budget) unchanged */
        r = pg_run(impl(base), DL_DEFER,
                   WITH_ATTEMPT("UPDATE deliveries SET status = 0, next_at_ms = $8::BIGINT, "
                                "last_code = $4::BIGINT, last_error = $6::TEXT, "
                                "updated_at_ms = $2::BIGINT"),
                   &p, NULL, &rows);
        return r < 0 ? r : rows == 1 ? 0 : -ENOENT;
}

int pg_delivery_attempts(struct store *base, const char *key,
                         int (*fn)(void *ctx, const struct delivery_attempt *a), void *ctx)
{
        struct pg_params p = { 0 };
        PGresult *res;
        int r;

        pg_param_text(&p, key);
        r = pg_query(impl(base),
                     "SELECT delivery_key, at_ms, outcome, code, latency_ms, error, refused "
                     "FROM attempts WHERE delivery_key = $1 ORDER BY id",
                     &p, &res);
        if (r < 0)
                return r;
        for (int i = 0; r == 0 && i < PQntuples(res); i++) {
                struct delivery_attempt a = {
                        .delivery_key = pg_col_text(res, i, 0),
                        .at_ms = pg_col_int(res, i, 1),
                        .outcome = pg_col_text(res, i, 2),
                        .code = (int)pg_col_int(res, i, 3),
                        .latency_ms = pg_col_int(res, i, 4),
                        .error = pg_col_text(res, i, 5),
                        .refused = pg_col_text(res, i, 6),
                };
                r = fn(ctx, &a);
        }
        PQclear(res);
        return r;
}

/* ---- the operator's side: retry and counts ---- */

int pg_delivery_retry(struct store *base, const char *key, int64_t now_ms)
{
        struct pg_params p = { 0 };
        int64_t rows = 0;
        int r;

        /* key NULL: every DEAD delivery */
        pg_param_text(&p, key);
        pg_param_int(&p, now_ms);
        r = pg_exec_count(impl(base),
                          "UPDATE deliveries SET status = 0, attempts = 0, next_at_ms = $2, "
                          "updated_at_ms = $2 WHERE status = 3 AND ($1::TEXT IS NULL OR key = $1)",
                          &p, &rows);
        if (r < 0)
                return r;
        if (key && rows == 0)
                return -ENOENT;
        return rows > INT32_MAX ? INT32_MAX : (int)rows;
}

int pg_delivery_counts(struct store *base, const char *receiver, int64_t out[4])
{
        struct pg_params p = { 0 };
        PGresult *res;
        int r;

        for (int i = 0; i < 4; i++)
                out[i] = 0;
        pg_param_text(&p, receiver);
        r = pg_query(impl(base),
                     "SELECT status, COUNT(*) FROM deliveries "
                     "WHERE ($1::TEXT IS NULL OR receiver = $1) GROUP BY status",
                     &p, &res);
        if (r < 0)
                return r;
        for (int i = 0; i < PQntuples(res); i++) {
                int64_t status = pg_col_int(res, i, 0);
                if (status >= 0 && status < 4)
                        out[status] = pg_col_int(res, i, 1);
        }
        PQclear(res);
        return 0;
}

/* ---- receiver health ---- */

int pg_receiver_health_put(struct store *base, const struct store_receiver_health *h, bool replace)
{
        struct pg_params p = { 0 };

        if (h->receiver == NULL)
                return -EINVAL;
        pg_param_text(&p, h->receiver);
        pg_param_text(&p, h->last_error);
        pg_param_bool(&p, h->up);
        pg_param_int(&p, h->since_ms);
        pg_param_int(&p, h->failures);
        pg_param_int(&p, h->updated_at_ms);
        return pg_exec(impl(base),
                       replace ? "INSERT INTO receiver_health (receiver, last_error, up, since_ms, "
                                 "failures, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6) "
                                 "ON CONFLICT (receiver) DO UPDATE SET last_error = "
                                 "EXCLUDED.last_error, up = EXCLUDED.up, since_ms = "
                                 "EXCLUDED.since_ms, failures = EXCLUDED.failures, "
                                 "updated_at_ms = EXCLUDED.updated_at_ms"
                               : "INSERT INTO receiver_health (receiver, last_error, up, since_ms, "
                                 "failures, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6) "
                                 "ON CONFLICT (receiver) DO NOTHING",
                       &p);
}

/* Columns: receiver, known, up, since_ms, failures, last_error,
 * updated_at_ms, then the count of each delivery status 0..3. */
#define RECEIVER_SQL                                                                               \
        "SELECT n.receiver, h.receiver IS NOT NULL, COALESCE(h.up, true), "                        \
        "COALESCE(h.since_ms, 0), COALESCE(h.failures, 0), h.last_error, "                         \
        "COALESCE(h.updated_at_ms, 0), "                                                           \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 0), "     \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 1), "     \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 2), "     \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 3) "      \
        "FROM (SELECT receiver FROM receiver_health UNION SELECT DISTINCT receiver "               \
        "FROM deliveries) n LEFT JOIN receiver_health h ON h.receiver = n.receiver "               \
        "ORDER BY n.receiver COLLATE \"C\""

int pg_receiver_list(struct store *base, int (*fn)(void *ctx, const struct store_receiver *r),
                     void *ctx)
{
        PGresult *res;
        int r = pg_query(impl(base), RECEIVER_SQL, NULL, &res);

        if (r < 0)
                return r;
        for (int i = 0; r == 0 && i < PQntuples(res); i++) {
                struct store_receiver v = {
                        .health = { .receiver = pg_col_text(res, i, 0),
                                    .up = pg_col_bool(res, i, 2),
                                    .since_ms = pg_col_int(res, i, 3),
                                    .failures = pg_col_int(res, i, 4),
                                    .last_error = pg_col_text(res, i, 5),
                                    .updated_at_ms = pg_col_int(res, i, 6) },
                        .known = pg_col_bool(res, i, 1),
                };
                for (int k = 0; k < 4; k++)
                        v.counts[k] = pg_col_int(res, i, 7 + k);
                r = fn(ctx, &v);
        }
        PQclear(res);
        return r;
}
#undef RECEIVER_SQL
