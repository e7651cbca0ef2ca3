/* cppo-notify — the SQLite store's records by their field tables
 * (model.h): the column lists of their statements, their binders and
 * their row readers, so no record's columns are written out by hand. */
#include "store_sqlite_internal.h"

#include "cppo/error.h"
#include "cppo/model.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sqlite_insert_sql(const struct record_type *rec, const char *verb, const char *table,
                      const char *tail, char *buf)
{
        size_t used = 0;
        int r = store_sql_add(buf, &used, verb, " INTO ");

        if (r == 0)
                r = store_sql_add(buf, &used, table, " (");
        if (r == 0)
                r = store_sql_columns(rec, buf, &used);
        for (size_t i = 0; r == 0 && i < rec->n_fields; i++)
                r = store_sql_add(buf, &used, i ? "," : ") VALUES (", "?");
        if (r == 0)
                r = store_sql_add(buf, &used, ") ", tail);
        return r;
}

/* A FIELD_BLOB (model.h) as ?i: its bytes, or none when it has none (the
 * column stays NOT NULL). */
static int bind_blob(sqlite3_stmt *st, int i, const void *p)
{
        const char *data = *(char *const *)p;
        const size_t *len = (const void *)((const char *)p + sizeof(char *));

        if (data == NULL)
                return sqlite3_bind_zeroblob(st, i, 0);
        return sqlite3_bind_blob64(st, i, data, *len, SQLITE_STATIC);
}

/* Column i into a FIELD_BLOB: a NUL-terminated copy (never NULL, "" for no
 * bytes) and its length. 0 or -ENOMEM. */
static int read_blob(sqlite3_stmt *st, int i, void *p)
{
        const void *data = sqlite3_column_blob(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        char *copy = malloc(n + 1);
        size_t *len = (void *)((char *)p + sizeof(char *));

        if (copy == NULL)
                return -ENOMEM;
        if (n > 0)
                memcpy(copy, data, n);
        copy[n] = '\0';
        *(char **)p = copy;
        *len = n;
        return 0;
}

/* Binds one field of rec as ?i. Strings are bound SQLITE_STATIC (the
 * caller's record outlives the step; step_done() clears the bindings); a
 * list's JSON text is handed to SQLite, which frees it. 0, -ENOMEM, or
 * what sqlite_code() makes of a refused binding. */
static int bind_field(sqlite3_stmt *st, int i, const struct field *f, const void *rec)
{
        const void *p = (const char *)rec + f->offset;
        char sources[256], *json;
        int rc;

        switch (f->type) {
        case FIELD_STR: rc = sqlite3_bind_text(st, i, *(char *const *)p, -1, SQLITE_STATIC); break;
        case FIELD_LIST:
                json = store_strlist_json(p);
                if (json == NULL)
                        return -ENOMEM;
                rc = sqlite3_bind_text(st, i, json, -1, free);
                break;
        case FIELD_BOOL: rc = sqlite3_bind_int64(st, i, *(const bool *)p); break;
        case FIELD_INT: rc = sqlite3_bind_int64(st, i, *(const int *)p); break;
        case FIELD_I64: rc = sqlite3_bind_int64(st, i, *(const int64_t *)p); break;
        case FIELD_LINK:
                rc = sqlite3_bind_text(st, i, link_strength_name(*(const enum link_strength *)p),
                                       -1, SQLITE_STATIC);
                break;
        case FIELD_SOURCES:
                authorization_sources_format(rec, sources, sizeof sources);
                rc = sqlite3_bind_text(st, i, sources[0] ? sources : NULL, -1, SQLITE_TRANSIENT);
                break;
        case FIELD_BLOB: rc = bind_blob(st, i, p); break;
        default: return -EINVAL;
        }
        return sqlite_code(rc);
}

/* Sets one field of rec (zeroed) from column i. 0, -ENOMEM, or -EIO for a
 * value this program never writes. */
static int read_field(sqlite3_stmt *st, int i, const struct field *f, void *rec)
{
        void *p = (char *)rec + f->offset;
        const char *text;

        switch (f->type) {
        case FIELD_STR:
                if (sqlite3_column_type(st, i) == SQLITE_NULL)
                        return 0;
                return (*(char **)p = col_dup(st, i)) ? 0 : -ENOMEM;
        case FIELD_LIST: return store_json_strlist(col_text(st, i), p);
        case FIELD_BOOL: *(bool *)p = sqlite3_column_int(st, i) != 0; return 0;
        case FIELD_INT: *(int *)p = sqlite3_column_int(st, i); return 0;
        case FIELD_I64: *(int64_t *)p = sqlite3_column_int64(st, i); return 0;
        case FIELD_LINK:
                text = col_text(st, i);
                return text && link_strength_parse(text, p) < 0 ? -EIO : 0;
        case FIELD_SOURCES: authorization_sources_parse(rec, col_text(st, i)); return 0;
        case FIELD_BLOB: return read_blob(st, i, p);
        }
        return -EINVAL;
}

/* A packed document (store_field_packed()) as ?i: its packed bytes as a
 * BLOB (handed to SQLite, which frees them), or, when packing saves
 * nothing, the value bound as its field type binds it. A BLOB in the TEXT
 * column of a context needs no migration: SQLite keeps a value's own type. */
static int bind_packed(sqlite3_stmt *st, int i, const struct field *f, const void *rec)
{
        const void *bytes;
        uint8_t *owned;
        size_t len;
        int r = store_pack_field(f, rec, &bytes, &len, &owned);

        if (r < 0)
                return r;
        if (owned == NULL)
                return bind_field(st, i, f, rec);
        return sqlite_code(sqlite3_bind_blob64(st, i, owned, len, free));
}

/* Column i into a packed document: plain text (an older store, or a value
 * packing did not shrink) reads as it is, packed bytes unpacked. */
static int read_packed(sqlite3_stmt *st, int i, const struct field *f, void *rec)
{
        /* the type first: it is undefined once a conversion happened */
        int type = sqlite3_column_type(st, i);
        const void *data = sqlite3_column_blob(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i);

        if (type == SQLITE_NULL)
                return store_unpack_field(f, rec, NULL, 0);
        if (data == NULL && n > 0)
                return -ENOMEM;
        return store_unpack_field(f, rec, data ? data : "", n); /* no bytes: a NULL pointer */
}

int sqlite_read_record(sqlite3_stmt *st, const struct record_type *t, void *rec)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < t->n_fields; i++)
                r = store_field_packed(&t->fields[i]) ? read_packed(st, (int)i, &t->fields[i], rec)
                                                      : read_field(st, (int)i, &t->fields[i], rec);
        return r;
}

int sqlite_bind_record(sqlite3_stmt *st, const struct record_type *t, const void *rec)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < t->n_fields; i++)
                r = store_field_packed(&t->fields[i])
                        ? bind_packed(st, (int)i + 1, &t->fields[i], rec)
                        : bind_field(st, (int)i + 1, &t->fields[i], rec);
        if (r < 0)
                sqlite3_clear_bindings(st);
        return r;
}
