/* cppo-notify — the PostgreSQL store's ledger: one row per event key seen,
 * so a duplicate delivery of an event is dropped. */
#include "store_pg_internal.h"

#include "cppo/error.h"

/* 1 new, 0 already there: ON CONFLICT DO NOTHING touches no row for a
 * duplicate, also one the open transaction inserted. */
int pg_ledger_add(struct store *base, const char *key, const struct mp_coord *c, int64_t now)
{
        struct pg_params p = { 0 };
        int64_t rows = 0;
        int r;

        pg_param_text(&p, key);
        pg_param_text(&p, c ? c->origin : NULL);
        pg_param_int(&p, c ? c->partition : -1);
        pg_param_int(&p, c ? c->offset : 0);
        pg_param_int(&p, now);
        r = pg_run(impl(base), PG_ST_LEDGER_ADD,
                   "INSERT INTO ledger (event_key, origin, partition, \"offset\", processed_at) "
                   "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                   &p, NULL, &rows);
        return r < 0 ? r : rows == 1 ? 1 : 0;
}
