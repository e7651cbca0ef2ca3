/* cppo-notify — the PostgreSQL store's ledger: one row per event key seen,
 * keyed by the key's digest (store_internal.h), so a duplicate delivery of
 * an event is dropped. */
#include "store_pg_internal.h"

#include "cppo/error.h"

/* 1 new, 0 already there: ON CONFLICT DO NOTHING touches no row for a
 * duplicate, also one the open transaction inserted. */
int pg_ledger_add(struct store *base, const char *key, const struct mp_coord *c, int64_t now)
{
        struct pg_params p = { 0 };
        uint8_t digest[LEDGER_DIGEST];
        int64_t rows = 0;
        int r;

        store_ledger_digest(key, strlen(key), digest);
        pg_param_bytes(&p, digest, sizeof digest);
        pg_param_text(&p, c ? c->origin : NULL);
        pg_param_int(&p, c ? c->partition : -1);
        pg_param_int(&p, c ? c->offset : 0);
        pg_param_int(&p, now);
        r = pg_run(impl(base), PG_ST_LEDGER_ADD,
                   "INSERT INTO ledger (key_digest, origin, partition, \"offset\", processed_at) "
                   "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                   &p, NULL, &rows);
        return r < 0 ? r : rows == 1 ? 1 : 0;
}
