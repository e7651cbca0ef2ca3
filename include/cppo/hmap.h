/* cppo-notify — string-keyed hash map (open addressing, linear probing).
 *
 * Keys are copied; values are opaque pointers the map frees with the
 * function given at hmap_new() (or never, when NULL). Iteration order is
 * unspecified. Grows at 70 % load; capped at HMAP_MAX_ENTRIES.
 */
#ifndef CPPO_HMAP_H
#define CPPO_HMAP_H

#include "cppo/error.h"

#include <stddef.h>

#define HMAP_MAX_ENTRIES (1u << 26)

struct hmap;

CPPO_MUST_CHECK int hmap_new(struct hmap **out, void (*free_value)(void *));
void hmap_free(struct hmap *m);

/* The value under key, or NULL. */
void *hmap_get(const struct hmap *m, const char *key);

/* Stores value under key, freeing a previous value. 0, -ENOMEM, -E2BIG. */
CPPO_MUST_CHECK int hmap_put(struct hmap *m, const char *key, void *value);

/* Removes key (freeing its value). 1 when it was there, else 0. */
int hmap_del(struct hmap *m, const char *key);

size_t hmap_size(const struct hmap *m);

/* Calls fn for every entry until it returns non-zero, which is returned. */
int hmap_each(const struct hmap *m, int (*fn)(void *ctx, const char *key, void *value), void *ctx);

#endif
