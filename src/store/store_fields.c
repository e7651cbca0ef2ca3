/* cppo-notify — what both store implementations share: string lists as
 * JSON arrays, SQL text from field tables and
 * the tables store_count() knows (store_internal.h). */
#include "store_internal.h"

#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/strlist.h"

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* String lists are stored as JSON arrays of strings. */
char *store_strlist_json(const struct strlist *l)
{
        yajl_gen g = json_new();
        char *out = NULL;

        if (g == NULL)
                return NULL;
        json_strlist(g, NULL, l);
        (void)json_take(g, &out); /* out stays NULL when it fails */
        json_free(g);
        return out;
}

int store_json_strlist(const char *json, struct strlist *out)
{
        yajl_val v = json ? yajl_tree_parse(json, NULL, 0) : NULL;
        int r = 0;

        for (size_t i = 0; r == 0 && YAJL_IS_ARRAY(v) && i < v->u.array.len; i++)
                if (YAJL_IS_STRING(v->u.array.values[i]))
                        r = strlist_add(out, YAJL_GET_STRING(v->u.array.values[i]));
        yajl_tree_free(v);
        return r;
}

int store_sql_add(char *buf, size_t *used, const char *a, const char *b)
{
        int n = snprintf(buf + *used, SQL_MAX - *used, "%s%s", a, b);

        if (n < 0 || (size_t)n >= SQL_MAX - *used)
                return -E2BIG;
        *used += (size_t)n;
        return 0;
}

int store_sql_columns(const struct record_type *rec, char *buf, size_t *used)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < rec->n_fields; i++)
                r = store_sql_add(buf, used, i ? ", " : "", rec->fields[i].name);
        return r;
}

int store_select_sql(const struct record_type *rec, const char *table, const char *tail, char *buf)
{
        size_t used = 0;
        int r = store_sql_add(buf, &used, "SELECT ", "");

        if (r == 0)
                r = store_sql_columns(rec, buf, &used);
        if (r == 0)
                r = store_sql_add(buf, &used, " FROM ", table);
        return r == 0 ? store_sql_add(buf, &used, " ", tail) : r;
}

/* The tables store_count() counts whole, and the named subsets. */
static const char *const counted_tables[] = {
        "ledger",
        "rejected",
        "authorizations",
        "offers",
        "agreements",
        "holds",
        "notifications",
        "inbox",
        "deliveries",
        "attempts",
        "receiver_health",
        "aws_refresh",
        "aws_offer_lookups",
};

static const struct {
        const char *name;
        const char *sql;
} counted_subsets[] = {
        { "unrouted", "SELECT COUNT(*) FROM notifications WHERE routed = 2" },
        { "backfilled", "SELECT COUNT(*) FROM deliveries WHERE status = 4" },
};

int store_count_query(const char *table, char *buf, size_t len)
{
        const char *sql = NULL, *name = NULL;
        int n;

        for (size_t i = 0; i < sizeof counted_subsets / sizeof counted_subsets[0]; i++)
                if (strcmp(table, counted_subsets[i].name) == 0)
                        sql = counted_subsets[i].sql;
        for (size_t i = 0; !sql && i < sizeof counted_tables / sizeof counted_tables[0]; i++)
                if (strcmp(table, counted_tables[i]) == 0)
                        name = counted_tables[i];
        if (sql == NULL && name == NULL)
                return -EINVAL; /* only known names reach the SQL text */
        n = sql ? snprintf(buf, len, "%s", sql)
                : snprintf(buf, len, "SELECT COUNT(*) FROM %s", name);
        return n >= 0 && (size_t)n < len ? 0 : -E2BIG;
}
