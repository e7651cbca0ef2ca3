/* cppo-notify — retention on PostgreSQL: the same batches as SQLite (the
 * statements come from store_retention.c), no reclaim step (autovacuum
 * makes freed space reusable on its own), and each table's size from the
 * catalog. */
#include "store_pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRUNE_SQL_MAX 512

int pg_prune(struct store *base, enum store_prune k, int64_t cutoff, int64_t limit,
             int64_t *removed)
{
        struct store_pg *s = impl(base);
        /* fenced: a transaction of its own, whose commit checks the fence
         * (a deposed leader removes nothing) */
        bool own = s->epoch > 0 && !pg_in_transaction(s);
        struct pg_params p = { 0 };
        char sql[PRUNE_SQL_MAX];
        int r = store_prune_sql(k, false, "''::bytea", sql, sizeof sql);

        *removed = 0;
        if (r < 0 || (own && (r = store_begin(base)) < 0))
                return r;
        pg_param_int(&p, cutoff);
        pg_param_int(&p, limit);
        r = pg_exec_count(s, sql, &p, removed);
        if (own && r < 0)
                (void)store_rollback(base);
        else if (own)
                r = store_commit(base);
        if (r < 0)
                *removed = 0;
        return r;
}

int pg_prune_count(struct store *base, enum store_prune k, int64_t cutoff, int64_t *out)
{
        struct pg_params p = { 0 };
        char sql[PRUNE_SQL_MAX];
        int r = store_prune_sql(k, true, "''::bytea", sql, sizeof sql);

        pg_param_int(&p, cutoff);
        return r < 0 ? r : pg_count_sql(impl(base), sql, &p, out);
}

int pg_reclaim(struct store *base, int64_t max_pages, int64_t *freed)
{
        (void)base;
        (void)max_pages;
        *freed = 0;
        return 0;
}

int pg_compact(struct store *base)
{
        return pg_exec_script(impl(base), "VACUUM");
}

/* The rows of one table, counted exactly (reltuples is an estimate). */
static int count_rows(struct store_pg *s, const char *table, int64_t *out)
{
        char *id = PQescapeIdentifier(s->conn, table, strlen(table));
        char sql[160];
        int r;

        if (id == NULL)
                return -ENOMEM;
        r = snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", id) < (int)sizeof sql
                ? pg_count_sql(s, sql, NULL, out)
                : -E2BIG;
        PQfreemem(id);
        return r;
}

int pg_table_stats(struct store *base, int (*fn)(void *ctx, const struct store_table_stat *t),
                   void *ctx)
{
        struct store_pg *s = impl(base);
        PGresult *res = NULL;
        int r = pg_query(s,
                         "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
                         " JOIN pg_namespace n ON n.oid = c.relnamespace"
                         " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                         " ORDER BY 2 DESC, 1",
                         NULL, &res);

        for (int i = 0; r == 0 && i < PQntuples(res); i++) {
                struct store_table_stat t = { .table = pg_col_text(res, i, 0),
                                              .bytes = pg_col_int(res, i, 1) };

                r = count_rows(s, t.table, &t.rows);
                if (r == 0)
                        r = fn(ctx, &t);
        }
        PQclear(res);
        /* free space inside PostgreSQL's files is its own business */
        return r == 0 ? fn(ctx, &(struct store_table_stat){ "(free)", 0, -1 }) : r;
}
