/* cppo-notify — the SQLite store's inbox: CLI commands waiting for the
 * writer, taken in id order inside its batch. */
#include "store_sqlite_internal.h"

#include "cppo/error.h"

#include <sqlite3.h>

int sqlite_inbox_add(struct store *base, const char *payload, int64_t now, int64_t *id)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { payload };
        const int64_t ints[] = { now };
        int r = sqlite_run_stmt(s, "INSERT INTO inbox (payload, created_at) VALUES (?, ?)", text, 1,
                                ints, 1);

        if (r == 0 && id)
                *id = sqlite3_last_insert_rowid(s->db);
        return r;
}

int sqlite_inbox_pending(struct store *base, int64_t *out)
{
        return sqlite_count_sql(impl(base), "SELECT COUNT(*) FROM inbox WHERE consumed_at IS NULL",
                                out);
}

int sqlite_inbox_take(struct store *base, int64_t limit, int64_t now,
                      int (*fn)(void *ctx, const struct store_inbox_entry *e), void *ctx)
{
        struct store_sqlite *s = impl(base);
        int64_t last = 0, taken = 0;
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db,
                               "SELECT id, payload, created_at FROM inbox WHERE consumed_at "
                               "IS NULL ORDER BY id LIMIT ?",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
        while (scan_row(st, &r)) {
                struct store_inbox_entry e = { .id = sqlite3_column_int64(st, 0),
                                               .payload = col_text(st, 1),
                                               .created_at = sqlite3_column_int64(st, 2) };
                r = e.payload ? fn(ctx, &e) : 0;
                last = e.id;
                taken++;
        }
        sqlite3_finalize(st);
        if (r == 0 && taken) {
                /* ids ascend and the batch holds the write lock: exactly the
                 * entries handed over */
                const int64_t ints[] = { now, last };
                r = sqlite_run_stmt(s,
                                    "UPDATE inbox SET consumed_at = ? WHERE consumed_at IS NULL "
                                    "AND id <= ?",
                                    NULL, 0, ints, 2);
        }
        return r < 0 ? r : (int)(taken > 0x7fffffff ? 0x7fffffff : taken);
}
