/* cppo-notify — the SQLite store's ledger: one row per event key seen,
 * keyed by the key's digest (store_internal.h), so a duplicate delivery of
 * an event is dropped. */
#include "store_sqlite_internal.h"

#include "cppo/error.h"

#include <sqlite3.h>

int sqlite_ledger_add(struct store *base, const char *key, const struct mp_coord *c, int64_t now)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st = s->ledger_insert;
        uint8_t digest[LEDGER_DIGEST];

        if (st == NULL)
                return -EROFS; /* a reader (prepare() in store_sqlite.c) */
        store_ledger_digest(key, strlen(key), digest);
        sqlite3_bind_blob(st, 1, digest, sizeof digest, SQLITE_TRANSIENT);
        bind_coord(st, 2, c);
        sqlite3_bind_int64(st, 5, now);
        if (step_done(st) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 1 : 0;
}
