/* cppo-notify — what both store implementations share: string lists as
 * JSON arrays, SQL text from field tables and
 * the tables store_count() knows (store_internal.h). */
#include "store_internal.h"

#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/pack.h"
#include "cppo/strlist.h"

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

bool store_field_packed(const struct field *f)
{
        return f->packed && (f->type == FIELD_STR || f->type == FIELD_BLOB);
}

/* A FIELD_BLOB is a char * immediately followed by its length (model.h). */
static size_t *blob_len(void *p)
{
        return (void *)((char *)p + sizeof(char *));
}

int store_pack_field(const struct field *f, const void *rec, const void **bytes, size_t *len,
                     uint8_t **owned)
{
        const void *p = (const char *)rec + f->offset;
        const char *v = *(char *const *)p;
        size_t n = f->type == FIELD_BLOB ? *blob_len((void *)(uintptr_t)p) : v ? strlen(v) : 0;
        size_t packed_len;
        int r;

        *owned = NULL;
        *bytes = v;
        *len = n;
        if (v == NULL && f->type == FIELD_BLOB)
                *bytes = ""; /* a blob without bytes is empty, never NULL */
        if (v == NULL)
                return 0;
        r = pack(v, n, owned, &packed_len);
        if (r == 0 && *owned) {
                *bytes = *owned;
                *len = packed_len;
        }
        return r;
}

int store_unpack_field(const struct field *f, void *rec, const void *data, size_t n)
{
        void *p = (char *)rec + f->offset;
        size_t len;
        char *doc;
        int r;

        if (data == NULL && f->type == FIELD_STR)
                return 0;
        r = unpack(data ? data : "", data ? n : 0, &doc, &len);
        if (r == -EINVAL)
                return -EIO; /* a value this program never wrote */
        if (r < 0)
                return r;
        *(char **)p = doc;
        if (f->type == FIELD_BLOB)
                *blob_len(p) = len;
        return 0;
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
