/* cppo-notify — the PostgreSQL store's records by their field tables
 * (model.h, store_internal.h): the INSERT text, the parameters and the row
 * readers, so no record's columns are written out by hand. */
#include "store_pg_internal.h"

#include "cppo/error.h"
#include "cppo/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "INSERT INTO <table> (<columns>) VALUES ($1, ..., $n)". */
static int insert_head(const struct record_type *rec, const char *table, char *buf, size_t *used)
{
        char num[24];
        int r = store_sql_add(buf, used, "INSERT INTO ", table);

        if (r == 0)
                r = store_sql_add(buf, used, " (", "");
        if (r == 0)
                r = store_sql_columns(rec, buf, used);
        for (size_t i = 0; r == 0 && i < rec->n_fields; i++) {
                snprintf(num, sizeof num, "$%zu", i + 1);
                r = store_sql_add(buf, used, i ? ", " : ") VALUES (", num);
        }
        return r == 0 ? store_sql_add(buf, used, ")", "") : r;
}

int pg_insert_sql(const struct record_type *rec, const char *table, const char *tail, char *buf)
{
        size_t used = 0;
        int r = insert_head(rec, table, buf, &used);

        return r == 0 ? store_sql_add(buf, &used, " ", tail) : r;
}

int pg_upsert_sql(const struct record_type *rec, const char *table, const char *key, char *buf)
{
        size_t used = 0;
        bool first = true;
        int r = insert_head(rec, table, buf, &used);

        if (r == 0)
                r = store_sql_add(buf, &used, " ON CONFLICT (", key);
        if (r == 0)
                r = store_sql_add(buf, &used, ") DO UPDATE SET ", "");
        for (size_t i = 0; r == 0 && i < rec->n_fields; i++) {
                const char *c = rec->fields[i].name;
                if (strcmp(c, key) == 0)
                        continue;
                r = store_sql_add(buf, &used, first ? "" : ", ", c);
                if (r == 0)
                        r = store_sql_add(buf, &used, " = EXCLUDED.", c);
                first = false;
        }
        return r;
}

/* Keeps text the builder made (freed by pg_params_free()) as the next
 * parameter. -ENOMEM when text is NULL (its allocation failed). */
static int param_owned(struct pg_params *p, char *text)
{
        if (text == NULL)
                return -ENOMEM;
        if (p->n_owned >= PG_PARAMS_MAX || p->n >= PG_PARAMS_MAX) {
                free(text);
                p->overflow = true;
                return -E2BIG;
        }
        p->owned[p->n_owned++] = text;
        pg_param_text(p, text);
        return 0;
}

/* One field of rec as the next parameter. */
static int param_field(struct pg_params *p, const struct field *f, const void *rec)
{
        const void *v = (const char *)rec + f->offset;
        char sources[256];

        switch (f->type) {
        case FIELD_STR: pg_param_text(p, *(char *const *)v); return 0;
        case FIELD_LIST: return param_owned(p, store_strlist_json(v));
        case FIELD_BOOL: pg_param_bool(p, *(const bool *)v); return 0;
        case FIELD_INT: pg_param_int(p, *(const int *)v); return 0;
        case FIELD_I64: pg_param_int(p, *(const int64_t *)v); return 0;
        case FIELD_LINK:
                pg_param_text(p, link_strength_name(*(const enum link_strength *)v));
                return 0;
        case FIELD_SOURCES:
                authorization_sources_format(rec, sources, sizeof sources);
                if (sources[0] == '\0') {
                        pg_param_text(p, NULL);
                        return 0;
                }
                return param_owned(p, strdup(sources));
        case FIELD_BLOB:
                /* char * then its size_t length (model.h) */
                pg_param_bytes(p, *(char *const *)v,
                               *(const size_t *)(const void *)((const char *)v + sizeof(char *)));
                return 0;
        }
        return -EINVAL;
}

/* A packed document (store_field_packed()) as the next parameter: always
 * BYTEA (migration 8 made a context one), its packed bytes when packing
 * saves some (owned), else the value's own bytes; a NULL string as NULL. */
static int param_packed(struct pg_params *p, const struct field *f, const void *rec)
{
        const void *bytes;
        uint8_t *owned;
        size_t len;
        int r = store_pack_field(f, rec, &bytes, &len, &owned);

        if (r < 0)
                return r;
        if (bytes == NULL) {
                pg_param_text(p, NULL);
                return 0;
        }
        if (owned && (p->n_owned >= PG_PARAMS_MAX || p->n >= PG_PARAMS_MAX)) {
                free(owned);
                p->overflow = true;
                return -E2BIG;
        }
        if (owned)
                p->owned[p->n_owned++] = (char *)owned;
        pg_param_bytes(p, bytes, len);
        return 0;
}

int pg_params_record(struct pg_params *p, const struct record_type *t, const void *rec)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < t->n_fields; i++)
                r = store_field_packed(&t->fields[i]) ? param_packed(p, &t->fields[i], rec)
                                                      : param_field(p, &t->fields[i], rec);
        return r == 0 && p->overflow ? -E2BIG : r;
}

/* Sets one field of rec (zeroed) from column c of row r. */
static int read_field(const PGresult *res, int r, int c, const struct field *f, void *rec)
{
        void *v = (char *)rec + f->offset;
        const char *text = pg_col_text(res, r, c);

        switch (f->type) {
        case FIELD_STR:
                if (text == NULL)
                        return 0;
                return (*(char **)v = strdup(text)) ? 0 : -ENOMEM;
        case FIELD_LIST: return store_json_strlist(text, v);
        case FIELD_BOOL: *(bool *)v = pg_col_bool(res, r, c); return 0;
        case FIELD_INT: *(int *)v = (int)pg_col_int(res, r, c); return 0;
        case FIELD_I64: *(int64_t *)v = pg_col_int(res, r, c); return 0;
        case FIELD_LINK: return text && link_strength_parse(text, v) < 0 ? -EIO : 0;
        case FIELD_SOURCES: authorization_sources_parse(rec, text); return 0;
        case FIELD_BLOB:
                return pg_col_bytes(res, r, c, (char **)v,
                                    (size_t *)(void *)((char *)v + sizeof(char *)));
        }
        return -EINVAL;
}

/* Column c of row r (BYTEA) into a packed document: packed bytes
 * unpacked, plain ones (rows written before packing) as they are. */
static int read_packed(const PGresult *res, int r, int c, const struct field *f, void *rec)
{
        char *raw;
        size_t n;
        int rc;

        if (pg_col_text(res, r, c) == NULL)
                return store_unpack_field(f, rec, NULL, 0);
        rc = pg_col_bytes(res, r, c, &raw, &n);
        if (rc < 0)
                return rc;
        rc = store_unpack_field(f, rec, raw, n);
        free(raw);
        return rc;
}

int pg_read_record(const PGresult *res, int r, int first, const struct record_type *t, void *rec)
{
        int rc = 0;

        if (PQnfields(res) < first + (int)t->n_fields)
                return -EIO;
        for (size_t i = 0; rc == 0 && i < t->n_fields; i++)
                rc = store_field_packed(&t->fields[i])
                         ? read_packed(res, r, first + (int)i, &t->fields[i], rec)
                         : read_field(res, r, first + (int)i, &t->fields[i], rec);
        return rc;
}
