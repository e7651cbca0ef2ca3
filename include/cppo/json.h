/* cppo-notify — the one JSON writer: small steps over a yajl generator.
 *
 * A document is written as a run of steps and checked once, when it is taken
 * (json_take): a yajl generator that failed stays in its error state, so the
 * steps are not CPPO_MUST_CHECK (scripts/lint lists them as such). Each step
 * still returns its yajl_gen_status (0 is yajl_gen_status_ok) for callers
 * that stop early. Strings are written with their strlen; NULL is null.
 */
#ifndef CPPO_JSON_H
#define CPPO_JSON_H

#include "cppo/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

struct strlist;

/* A compact generator (yajl defaults), or NULL when out of memory. */
yajl_gen json_new(void);
/* Accepts NULL. */
void json_free(yajl_gen g);

/* The text written so far, as a NUL-terminated string the caller frees.
 * 0, -EIO when the generator refuses to hand it out, -ENOMEM. The generator
 * stays the caller's. */
CPPO_MUST_CHECK int json_take(yajl_gen g, char **text);

/* A string value, or null when s is NULL (also used for map keys). */
int json_str(yajl_gen g, const char *s);
/* key: value-or-null. */
int json_string(yajl_gen g, const char *key, const char *value);
int json_bool(yajl_gen g, const char *key, bool value);
int json_int(yajl_gen g, const char *key, int64_t value);
/* key: [v[0], ...]; key NULL writes the bare array (an array element or a
 * whole document). */
int json_strv(yajl_gen g, const char *key, const char *const *v, size_t n);
/* The same for a strlist (strlist.h); NULL is the empty list. */
int json_strlist(yajl_gen g, const char *key, const struct strlist *l);

#endif
