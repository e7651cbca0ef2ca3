/* cppo-notify — retention on SQLite: batches of what ages out, free pages
 * given back (incremental vacuum), and the size of each table (dbstat). */
#include "store_sqlite_internal.h"

#include <stdio.h>
#include <stdlib.h>

#define PRUNE_SQL_MAX 512
#define STATS_MAX     64 /* tables reported; this schema has 16 */

int sqlite_prune(struct store *base, enum store_prune k, int64_t cutoff, int64_t limit,
                 int64_t *removed)
{
        struct store_sqlite *s = impl(base);
        char sql[PRUNE_SQL_MAX];
        sqlite3_stmt *st;
        int r = store_prune_sql(k, false, "X''", sql, sizeof sql);

        if (r < 0)
                return r;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return sqlite_code(sqlite3_errcode(s->db));
        sqlite3_bind_int64(st, 1, cutoff);
        sqlite3_bind_int64(st, 2, limit);
        r = step_done(st);
        if (r == 0)
                *removed = sqlite3_changes64(s->db);
        sqlite3_finalize(st);
        return r;
}

int sqlite_prune_count(struct store *base, enum store_prune k, int64_t cutoff, int64_t *out)
{
        struct store_sqlite *s = impl(base);
        char sql[PRUNE_SQL_MAX];
        sqlite3_stmt *st;
        int r = store_prune_sql(k, true, "X''", sql, sizeof sql);

        if (r < 0)
                return r;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return sqlite_code(sqlite3_errcode(s->db));
        sqlite3_bind_int64(st, 1, cutoff);
        r = step_row(st);
        if (r > 0) {
                *out = sqlite3_column_int64(st, 0);
                r = 0;
        } else if (r == 0) {
                r = -EIO; /* COUNT(*) always has a row */
        }
        sqlite3_finalize(st);
        return r;
}

/* A single-integer pragma ("freelist_count", "page_size"). */
static int pragma_int(struct store_sqlite *s, const char *name, int64_t *out)
{
        char sql[64];

        snprintf(sql, sizeof sql, "PRAGMA %s", name);
        return sqlite_count_sql(s, sql, out);
}

int sqlite_reclaim(struct store *base, int64_t max_pages, int64_t *freed)
{
        struct store_sqlite *s = impl(base);
        int64_t before = 0, after = 0;
        char sql[64];
        int r = pragma_int(s, "freelist_count", &before);

        /* a store made before auto_vacuum=INCREMENTAL (see configure())
         * keeps its free pages: the pragma then does nothing */
        snprintf(sql, sizeof sql, "PRAGMA incremental_vacuum(%lld)", (long long)max_pages);
        if (r == 0 && max_pages > 0)
                r = sqlite_exec(s, sql);
        if (r == 0)
                r = pragma_int(s, "freelist_count", &after);
        if (r == 0)
                *freed = before > after ? before - after : 0;
        return r;
}

int sqlite_compact(struct store *base)
{
        /* the pragma only records the mode on a store with tables; the
         * VACUUM that follows rebuilds the file in it */
        return sqlite_exec(impl(base), "PRAGMA auto_vacuum=INCREMENTAL; VACUUM;");
}

struct table_row {
        char *name;
        int64_t rows, bytes;
};

static int by_bytes_desc(const void *a, const void *b)
{
        const struct table_row *x = a, *y = b;

        return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/* Every table's name and bytes, indexes included (dbstat: -1 when this
 * SQLite was built without it). */
static int read_tables(struct store_sqlite *s, struct table_row *t, size_t *n)
{
        static const char *const with_bytes =
            "SELECT m.tbl_name, SUM(d.pgsize) FROM sqlite_schema m JOIN dbstat d"
            " ON d.name = m.name GROUP BY m.tbl_name";
        static const char *const names_only =
            "SELECT name, -1 FROM sqlite_schema WHERE type = 'table'";
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db, with_bytes, -1, &st, NULL) != SQLITE_OK &&
            sqlite3_prepare_v2(s->db, names_only, -1, &st, NULL) != SQLITE_OK)
                return sqlite_code(sqlite3_errcode(s->db));
        while (scan_row(st, &r) && *n < STATS_MAX) {
                t[*n].name = col_dup(st, 0);
                t[*n].bytes = sqlite3_column_int64(st, 1);
                r = t[*n].name ? 0 : -ENOMEM;
                *n += t[*n].name != NULL;
        }
        sqlite3_finalize(st);
        return r;
}

static int count_rows(struct store_sqlite *s, struct table_row *t)
{
        char *sql = sqlite3_mprintf("SELECT COUNT(*) FROM \"%w\"", t->name);
        int r;

        if (sql == NULL)
                return -ENOMEM;
        r = sqlite_count_sql(s, sql, &t->rows);
        sqlite3_free(sql);
        return r;
}

int sqlite_table_stats(struct store *base, int (*fn)(void *ctx, const struct store_table_stat *t),
                       void *ctx)
{
        struct store_sqlite *s = impl(base);
        struct table_row t[STATS_MAX] = { 0 };
        size_t n = 0;
        int64_t free_pages = 0, page_size = 0;
        int r = read_tables(s, t, &n);

        for (size_t i = 0; r == 0 && i < n; i++)
                r = count_rows(s, &t[i]);
        if (r == 0)
                r = pragma_int(s, "freelist_count", &free_pages);
        if (r == 0)
                r = pragma_int(s, "page_size", &page_size);
        qsort(t, n, sizeof t[0], by_bytes_desc);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = fn(ctx, &(struct store_table_stat){ t[i].name, t[i].rows, t[i].bytes });
        if (r == 0)
                r = fn(ctx, &(struct store_table_stat){ "(free)", 0, free_pages * page_size });
        for (size_t i = 0; i < n; i++)
                free(t[i].name);
        return r;
}
