/* cppo-notify — what both store implementations share (store_fields.c):
 * the stored form of string lists, the delivery's field table, the SQL
 * text built from a record's field table, and the tables store_count()
 * knows. Only src/store files include this header. */
#ifndef CPPO_STORE_INTERNAL_H
#define CPPO_STORE_INTERNAL_H

#include "cppo/delivery.h"
#include "cppo/error.h"
#include "cppo/model.h"
#include "cppo/sha256.h"
#include "cppo/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The size of the statement buffers built from field tables; the widest
 * record has 20 columns, and PostgreSQL's upsert names each twice more
 * ("c = EXCLUDED.c"). */
#define SQL_MAX 2048

/* A string list as the JSON array text the store keeps (malloc'd), or
 * NULL on -ENOMEM; and back, appending to out (NULL json: nothing; text
 * that is no array of strings adds nothing). */
char *store_strlist_json(const struct strlist *l);
CPPO_MUST_CHECK int store_json_strlist(const char *json, struct strlist *out);

/* Whether field f is a packed document (model.h: field.packed; pack.h): a
 * notification's context and a delivery's payload are stored packed and
 * read unpacked here, in the field layer, so every reader sees the bytes
 * it always saw. Only FIELD_STR and FIELD_BLOB fields can be. */
bool store_field_packed(const struct field *f);
/* The value of packed-document field f of rec as stored: *bytes and *len;
 * *owned is the packed copy they point into (the caller frees it) or NULL
 * when the value is stored as it is (*bytes then points into rec; NULL for
 * a NULL string). 0, -ENOMEM, or -E2BIG for a document over PACK_MAX. */
CPPO_MUST_CHECK int store_pack_field(const struct field *f, const void *rec, const void **bytes,
                                     size_t *len, uint8_t **owned);
/* Sets packed-document field f of rec (zeroed) from n stored bytes at data
 * (NULL: SQL NULL), packed or plain (older stores). A FIELD_BLOB is never
 * NULL ("" for no bytes). 0, -ENOMEM, -E2BIG, or -EIO for a packed value
 * this program cannot read. */
CPPO_MUST_CHECK int store_unpack_field(const struct field *f, void *rec, const void *data,
                                       size_t n);

/* Appends a then b to buf (SQL_MAX bytes, *used of them taken). 0 or
 * -E2BIG. */
CPPO_MUST_CHECK int store_sql_add(char *buf, size_t *used, const char *a, const char *b);
/* "a, b, c": the record's columns in field order, appended. */
CPPO_MUST_CHECK int store_sql_columns(const struct record_type *rec, char *buf, size_t *used);
/* "SELECT <columns> FROM <table> <tail>" into buf (SQL_MAX bytes), the
 * columns in the order of rec's fields. 0 or -E2BIG. The same text for
 * both dialects. */
CPPO_MUST_CHECK int store_select_sql(const struct record_type *rec, const char *table,
                                     const char *tail, char *buf);

/* The ledger keeps the first LEDGER_DIGEST bytes of the SHA-256 of each
 * event key, not its text (~85 bytes): it only answers "seen before?".
 * 128 bits are enough: the chance that any two of n keys share a digest is
 * about n^2 / 2^129, 1.5e-21 for a billion keys. A collision would make a
 * new event look like a duplicate (dropped), never the reverse. Both
 * stores' schema 9 migrations compute the same bytes in SQL. */
#define LEDGER_DIGEST 16

static inline void store_ledger_digest(const void *key, size_t len, uint8_t out[LEDGER_DIGEST])
{
        struct sha256 h;
        uint8_t full[32];

        sha256_init(&h);
        sha256_update(&h, key, len);
        sha256_final(&h, full);
        memcpy(out, full, LEDGER_DIGEST);
}

/* The query store_count() runs for table ("ledger", "unrouted", ...) into
 * buf: only known names reach SQL text. 0, -EINVAL for an unknown name,
 * -E2BIG. The same text for both dialects. */
CPPO_MUST_CHECK int store_count_query(const char *table, char *buf, size_t len);

/* The statement of one retention kind (store_retention.c) into buf: with
 * count, "SELECT COUNT(*) ..." of what it would remove; else one batch,
 * $1 the cutoff (Unix seconds) and $2 the batch size. empty_blob is the
 * dialect's empty byte string (a body is emptied, its row kept). 0,
 * -EINVAL for an unknown kind, -E2BIG. */
CPPO_MUST_CHECK int store_prune_sql(enum store_prune k, bool count, const char *empty_blob,
                                    char *buf, size_t len);

#endif
