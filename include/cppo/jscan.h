/* cppo-notify — capture selected paths from a JSON document in one
 * streaming pass (yajl's event parser), checking their types.
 *
 * The caller declares the paths it needs once (a table of dotted paths,
 * "Records[].body" for a field of every element of an array of objects);
 * jscan_run() then parses a document and records every value found at one
 * of them, in document order, copied into the scanner's arena. Everything
 * else is skipped without allocation. A value of the wrong JSON type at a
 * declared path stops the parse with JSCAN_WRONG_TYPE; null at a declared
 * path counts as absent.
 */
#ifndef CPPO_JSCAN_H
#define CPPO_JSCAN_H

#include "cppo/error.h"

#include "cppo/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jscan_type {
        JSCAN_OBJECT = 1,   /* intermediate objects: implied by deeper paths */
        JSCAN_STRING,       /* a string */
        JSCAN_BOOL,         /* true or false */
        JSCAN_STRING_ARRAY, /* an array of strings: one value per element */
        JSCAN_OBJECT_ARRAY, /* an array of objects: implied by "x[].y" paths */
        JSCAN_STRING_MAP,   /* an object of strings: one value per member, with its key */
};

struct jscan_path {
        const char *path; /* "detail.offer.id", "Records[].body" */
        enum jscan_type type;
        int field; /* caller's id, >= 0 */
};

struct jscan_value {
        int field;
        int32_t elem;    /* index in the enclosing object array, or -1 */
        const char *key; /* JSCAN_STRING_MAP member name, else NULL */
        const char *str; /* NUL-terminated; NULL for booleans */
        size_t len;
        bool boolean;
};

enum jscan_status {
        JSCAN_OK = 0,
        JSCAN_INVALID_JSON,
        JSCAN_WRONG_TYPE,
        JSCAN_TOO_DEEP,
        JSCAN_TOO_LARGE, /* arena or value list cap */
};

struct jscan;

/* Builds the path tree. -EINVAL for a malformed or conflicting table. */
CPPO_MUST_CHECK int jscan_new(struct jscan **out, const struct jscan_path *paths, size_t n,
                              size_t max_depth, size_t arena_max);
void jscan_free(struct jscan *s);

/* Parses one complete JSON document. Values stay valid until the next run.
 * Returns a status; on failure jscan_error() says why ("expected a string at
 * detail.offer.id"). -ENOMEM is returned as a negative errno. */
CPPO_MUST_CHECK int jscan_run(struct jscan *s, const char *json, size_t len);
const char *jscan_error(const struct jscan *s);

/* On by default: plain documents are walked without yajl, with the same
 * outcome (see jscan.c). Off: every document goes through yajl, for tests
 * that compare the two. */
void jscan_set_fast(struct jscan *s, bool on);
/* How many documents the fast path decided so far (tests, benchmarks). */
size_t jscan_fast_count(const struct jscan *s);

size_t jscan_count(const struct jscan *s);
const struct jscan_value *jscan_value(const struct jscan *s, size_t i);

/* The last value recorded for `field` outside any array element, or NULL. */
const struct jscan_value *jscan_find(const struct jscan *s, int field);

#endif
