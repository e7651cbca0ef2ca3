/* cppo-notify — the PostgreSQL store's rejected inputs: the raw bytes
 * (BYTEA, exact) and why, kept; and their requeues through the inbox. */
#include "store_pg_internal.h"

#include "cppo/error.h"

#include <stdlib.h>

int pg_reject(struct store *base, const struct raw_message *m, const char *reason,
              const char *message)
{
        struct pg_params p = { 0 };

        pg_param_text(&p, reason);
        pg_param_text(&p, message);
        pg_param_text(&p, m->coord.origin);
        pg_param_int(&p, m->coord.partition);
        pg_param_int(&p, m->coord.offset);
        pg_param_int(&p, m->received_at);
        pg_param_bool(&p, m->truncated != 0);
        pg_param_bytes(&p, m->data, m->len);
        /* a message re-delivered after a crash is not kept twice
         * (rejected_once) */
        return pg_run(impl(base), PG_ST_REJECT,
                      "INSERT INTO rejected (reason, message, origin, partition, \"offset\", "
                      "received_at, truncated, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                      "ON CONFLICT DO NOTHING",
                      &p, NULL, NULL);
}

#define REJECTED_COLUMNS                                                                           \
        "SELECT id, reason, message, origin, partition, \"offset\", received_at, truncated, "      \
        "raw, requeue_inbox_id, requeued_at, requeue_outcome, requeue_error FROM rejected "

/* Row i of a REJECTED_COLUMNS query to fn; the raw bytes unescaped for
 * the call. */
static int each_rejected(const PGresult *res, int (*fn)(void *ctx, const struct store_rejected *r),
                         void *ctx)
{
        int r = 0;

        for (int i = 0; r == 0 && i < PQntuples(res); i++) {
                struct store_rejected row = {
                        .id = pg_col_int(res, i, 0),
                        .reason = pg_col_text(res, i, 1),
                        .message = pg_col_text(res, i, 2),
                        .origin = pg_col_text(res, i, 3),
                        .partition = (int32_t)pg_col_int(res, i, 4),
                        .offset = pg_col_int(res, i, 5),
                        .received_at = pg_col_int(res, i, 6),
                        .truncated = pg_col_bool(res, i, 7),
                        .requeue_inbox_id = pg_col_int(res, i, 9),
                        .requeued_at = pg_col_int(res, i, 10),
                        .requeue_outcome = pg_col_text(res, i, 11),
                        .requeue_error = pg_col_text(res, i, 12),
                };
                char *raw = NULL;
                r = pg_col_bytes(res, i, 8, &raw, &row.raw_len);
                row.raw = raw;
                if (r == 0)
                        r = fn(ctx, &row);
                free(raw);
        }
        return r;
}

int pg_list_rejected(struct store *base, int64_t limit,
                     int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        struct pg_params p = { 0 };
        PGresult *res;
        int r;

        /* LIMIT NULL is no limit */
        if (limit > 0)
                pg_param_int(&p, limit);
        else
                pg_param_text(&p, NULL);
        r = pg_query(impl(base), REJECTED_COLUMNS "ORDER BY id DESC LIMIT $1::BIGINT", &p, &res);
        if (r < 0)
                return r;
        r = each_rejected(res, fn, ctx);
        PQclear(res);
        return r;
}

int pg_get_rejected(struct store *base, int64_t id,
                    int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        struct pg_params p = { 0 };
        PGresult *res;
        int r;

        pg_param_int(&p, id);
        r = pg_query(impl(base), REJECTED_COLUMNS "WHERE id = $1", &p, &res);
        if (r < 0)
                return r;
        r = PQntuples(res) == 0 ? -ENOENT : each_rejected(res, fn, ctx);
        PQclear(res);
        return r;
}

int pg_rejected_requeue(struct store *base, int64_t id, int64_t inbox_id, int64_t now)
{
        struct pg_params p = { 0 };
        int64_t rows = 0;
        int r;

        pg_param_int(&p, id);
        pg_param_int(&p, inbox_id);
        pg_param_int(&p, now);
        r = pg_exec_count(impl(base),
                          "UPDATE rejected SET requeue_inbox_id = $2, requeued_at = $3, "
                          "requeue_outcome = 'pending', requeue_error = NULL WHERE id = $1",
                          &p, &rows);
        return r < 0 ? r : rows == 1 ? 0 : -ENOENT;
}

int pg_rejected_requeue_of(struct store *base, int64_t inbox_id, int64_t *id)
{
        struct pg_params p = { 0 };
        PGresult *res;
        int r;

        *id = 0;
        pg_param_int(&p, inbox_id);
        /* the writer asks for every inbox entry it takes: prepared */
        r = pg_run(impl(base), PG_ST_REQUEUE_OF,
                   "SELECT id FROM rejected WHERE requeue_inbox_id = $1 AND "
                   "requeue_outcome = 'pending' LIMIT 1",
                   &p, &res, NULL);
        if (r < 0)
                return r;
        if (PQntuples(res) > 0)
                *id = pg_col_int(res, 0, 0);
        PQclear(res);
        return 0;
}

int pg_rejected_settle(struct store *base, int64_t id, const char *error)
{
        struct pg_params p = { 0 };
        int64_t rows = 0;
        int r;

        pg_param_text(&p, error ? "rejected" : "accepted");
        pg_param_text(&p, error);
        pg_param_int(&p, id);
        r = pg_run(impl(base), PG_ST_REJECTED_SETTLE,
                   "UPDATE rejected SET requeue_outcome = $1, requeue_error = $2 WHERE id = $3", &p,
                   NULL, &rows);
        return r < 0 ? r : rows == 1 ? 0 : -ENOENT;
}
