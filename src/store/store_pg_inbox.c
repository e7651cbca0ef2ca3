/* cppo-notify — the PostgreSQL store's inbox: CLI commands waiting for
 * the writer, taken in id order inside its batch. */
#include "store_pg_internal.h"

#include "cppo/error.h"

int pg_inbox_add(struct store *base, const char *payload, int64_t now, int64_t *id)
{
        struct pg_params p = { 0 };
        PGresult *res;
        int r;

        pg_param_text(&p, payload);
        pg_param_int(&p, now);
        r = pg_run(impl(base), PG_ST_INBOX_ADD,
                   "INSERT INTO inbox (payload, created_at) VALUES ($1, $2) RETURNING id", &p, &res,
                   NULL);
        if (r < 0)
                return r;
        if (id)
                *id = PQntuples(res) == 1 ? pg_col_int(res, 0, 0) : 0;
        PQclear(res);
        return 0;
}

int pg_inbox_pending(struct store *base, int64_t *out)
{
        return pg_count_sql(impl(base), "SELECT COUNT(*) FROM inbox WHERE consumed_at IS NULL",
                            NULL, out);
}

/* Marks one entry handed over consumed. By its id, not "every id up to the
 * last": another session's entry with a lower id may commit after the
 * SELECT saw the higher ones (ids are drawn before commit), and it must
 * stay pending for the next batch. */
static int consume(struct store_pg *s, int64_t id, int64_t now)
{
        struct pg_params p = { 0 };

        pg_param_int(&p, now);
        pg_param_int(&p, id);
        return pg_run(s, PG_ST_INBOX_CONSUME,
                      "UPDATE inbox SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL", &p,
                      NULL, NULL);
}

int pg_inbox_take(struct store *base, int64_t limit, int64_t now,
                  int (*fn)(void *ctx, const struct store_inbox_entry *e), void *ctx)
{
        struct store_pg *s = impl(base);
        struct pg_params p = { 0 };
        PGresult *res;
        int64_t taken = 0;
        int r;

        if (limit > 0)
                pg_param_int(&p, limit);
        else
                pg_param_text(&p, NULL); /* LIMIT NULL: all */
        r = pg_run(s, PG_ST_INBOX_TAKE,
                   "SELECT id, payload, created_at FROM inbox WHERE consumed_at IS NULL "
                   "ORDER BY id LIMIT $1::BIGINT",
                   &p, &res, NULL);
        if (r < 0)
                return r;
        /* the whole result is in memory: fn may write to the store */
        for (int i = 0; r == 0 && i < PQntuples(res); i++) {
                struct store_inbox_entry e = { .id = pg_col_int(res, i, 0),
                                               .payload = pg_col_text(res, i, 1),
                                               .created_at = pg_col_int(res, i, 2) };
                r = e.payload ? fn(ctx, &e) : 0;
                if (r == 0)
                        r = consume(s, e.id, now);
                taken++;
        }
        PQclear(res);
        return r < 0 ? r : (int)(taken > 0x7fffffff ? 0x7fffffff : taken);
}
