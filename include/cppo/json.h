/* cppo-notify — the one JSON writer: small steps over a yajl generator.
 *
 * A document is written as a run of steps whose order is the program's own
 * (a map key before each value), so the steps are not CPPO_MUST_CHECK
 * (scripts/lint lists them as such). yajl refuses a misplaced step by its
 * status but does not remember the refusal, so each step returns its
 * yajl_gen_status (0 is yajl_gen_status_ok) for callers that build from
 * data and must stop early; json_take and json_print fail only when yajl
 * will not hand out its buffer. Strings are written with their strlen;
 * NULL is null.
 */
#ifndef CPPO_JSON_H
#define CPPO_JSON_H

#include "cppo/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* Writes the text so far to f and a newline: one line of a command's --json
 * output. 0, or -EIO when the generator failed or f refused. */
CPPO_MUST_CHECK int json_print(yajl_gen g, FILE *f);
/* The same for an object left open: its text, then `,"key":` and json (text
 * that is already JSON, such as a stored context, spliced in rather than
 * re-parsed), then after (more members, or NULL), the closing brace and a
 * newline. */
CPPO_MUST_CHECK int json_print_splice(yajl_gen g, FILE *f, const char *key, const char *json,
                                      const char *after);

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
