/* cppo-notify — the PostgreSQL store's AWS Catalog sync tables: the
 * sync's own state, change sets to describe again, and the lookups of held
 * offers. */
#include "store_pg_internal.h"

#include "cppo/error.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A change set to describe, once per id while pending. created_at is the
 * wall clock: the daemon's batch has no other. */
int pg_aws_refresh_add(struct store_pg *s, const char *change_set_id)
{
        struct pg_params p = { 0 };

        pg_param_text(&p, change_set_id);
        pg_param_int(&p, (int64_t)time(NULL));
        return pg_run(s, PG_ST_AWS_REFRESH_ADD,
                      "INSERT INTO aws_refresh (change_set_id, created_at) SELECT $1, $2 "
                      "WHERE NOT EXISTS (SELECT 1 FROM aws_refresh WHERE change_set_id = $1 "
                      "AND done_at IS NULL)",
                      &p, NULL, NULL);
}

int pg_aws_get(struct store *base, const char *key, char *buf, size_t len)
{
        struct pg_params p = { 0 };
        PGresult *res;
        const char *v;
        int r;

        pg_param_text(&p, key);
        r = pg_query(impl(base), "SELECT value FROM aws_state WHERE key = $1", &p, &res);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0) {
                r = -ENOENT;
        } else {
                v = pg_col_text(res, 0, 0);
                r = snprintf(buf, len, "%s", v ? v : "") < (int)len ? 0 : -E2BIG;
        }
        PQclear(res);
        return r;
}

int pg_aws_put(struct store *base, const char *key, const char *value, int64_t now)
{
        struct pg_params p = { 0 };

        pg_param_text(&p, key);
        pg_param_text(&p, value);
        pg_param_int(&p, now);
        return pg_exec(impl(base),
                       "INSERT INTO aws_state (key, value, updated_at) VALUES ($1, $2, $3) "
                       "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
                       "updated_at = EXCLUDED.updated_at",
                       &p);
}

int pg_aws_refresh_pending(struct store *base, int64_t limit,
                           int (*fn)(void *ctx, const struct store_aws_refresh *e), void *ctx)
{
        struct pg_params p = { 0 };
        PGresult *res;
        int r;

        pg_param_int(&p, pg_batch_size(limit));
        r = pg_query(impl(base),
                     "SELECT id, change_set_id FROM aws_refresh WHERE done_at IS NULL "
                     "ORDER BY id LIMIT $1",
                     &p, &res);
        if (r < 0)
                return r;
        /* the whole result is in memory: fn may write (mark it done) */
        for (int i = 0; r == 0 && i < PQntuples(res); i++) {
                struct store_aws_refresh e = { .id = pg_col_int(res, i, 0),
                                               .change_set_id = pg_col_text(res, i, 1) };
                r = fn(ctx, &e);
        }
        PQclear(res);
        return r;
}

int pg_aws_refresh_done(struct store *base, int64_t id, const char *outcome, int64_t now)
{
        struct pg_params p = { 0 };

        pg_param_text(&p, outcome);
        pg_param_int(&p, now);
        pg_param_int(&p, id);
        return pg_exec(impl(base),
                       "UPDATE aws_refresh SET outcome = $1, done_at = $2 WHERE id = $3", &p);
}

int pg_aws_holds_to_check(struct store *base, int64_t checked_before, int64_t limit,
                          int (*fn)(void *ctx, const char *offer_id), void *ctx)
{
        struct pg_params p = { 0 };
        PGresult *res;
        int r;

        pg_param_int(&p, checked_before);
        pg_param_int(&p, pg_batch_size(limit));
        r = pg_query(impl(base),
                     "SELECT h.offer_id FROM holds h LEFT JOIN aws_offer_lookups l "
                     "ON l.offer_id = h.offer_id WHERE l.offer_id IS NULL OR l.checked_at < $1 "
                     "ORDER BY h.created_at, h.offer_id COLLATE \"C\" LIMIT $2",
                     &p, &res);
        if (r < 0)
                return r;
        for (int i = 0; r == 0 && i < PQntuples(res); i++)
                r = fn(ctx, pg_col_text(res, i, 0));
        PQclear(res);
        return r;
}

int pg_aws_lookup_put(struct store *base, const struct store_aws_lookup *l)
{
        struct pg_params p = { 0 };

        pg_param_text(&p, l->offer_id);
        pg_param_text(&p, l->outcome);
        pg_param_text(&p, l->authorization_id);
        pg_param_text(&p, l->detail);
        pg_param_int(&p, l->checked_at);
        return pg_exec(impl(base),
                       "INSERT INTO aws_offer_lookups (offer_id, outcome, authorization_id, "
                       "detail, checked_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (offer_id) "
                       "DO UPDATE SET outcome = EXCLUDED.outcome, "
                       "authorization_id = EXCLUDED.authorization_id, detail = EXCLUDED.detail, "
                       "checked_at = EXCLUDED.checked_at",
                       &p);
}

int pg_aws_lookup_get(struct store *base, const char *offer_id,
                      int (*fn)(void *ctx, const struct store_aws_lookup *l), void *ctx)
{
        struct pg_params p = { 0 };
        PGresult *res;
        int r;

        pg_param_text(&p, offer_id);
        r = pg_query(impl(base),
                     "SELECT offer_id, outcome, authorization_id, detail, checked_at "
                     "FROM aws_offer_lookups WHERE offer_id = $1",
                     &p, &res);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0) {
                r = -ENOENT;
        } else {
                struct store_aws_lookup l = { pg_col_text(res, 0, 0), pg_col_text(res, 0, 1),
                                              pg_col_text(res, 0, 2), pg_col_text(res, 0, 3),
                                              pg_col_int(res, 0, 4) };
                r = fn(ctx, &l);
        }
        PQclear(res);
        return r;
}

int pg_aws_source_counts(struct store *base, int64_t out[STORE_AWS_SOURCES])
{
        PGresult *res;
        int r;

        memset(out, 0, STORE_AWS_SOURCES * sizeof out[0]);
        r = pg_query(impl(base),
                     "SELECT (aws_status IS NOT NULL)::INT + 2 * registered::INT, COUNT(*) "
                     "FROM authorizations GROUP BY 1",
                     NULL, &res);
        if (r < 0)
                return r;
        for (int i = 0; i < PQntuples(res); i++) {
                int64_t k = pg_col_int(res, i, 0);
                if (k >= 0 && k < STORE_AWS_SOURCES)
                        out[k] = pg_col_int(res, i, 1);
        }
        PQclear(res);
        return 0;
}
