/* cppo-notify — an owned list of owned strings (ids, addresses). */
#ifndef CPPO_STRLIST_H
#define CPPO_STRLIST_H

#include "cppo/error.h"

#include <stdbool.h>
#include <stddef.h>

/* An owned list of owned strings. */
struct strlist {
        char **v;
        size_t n;
};

void strlist_clear(struct strlist *l);
/* Appends a copy of s. 0 or -ENOMEM. */
CPPO_MUST_CHECK int strlist_add(struct strlist *l, const char *s);
/* Appends a copy of s unless an equal string is there. 0 or -ENOMEM. */
CPPO_MUST_CHECK int strlist_add_unique(struct strlist *l, const char *s);
bool strlist_contains(const struct strlist *l, const char *s);
/* Drops s from l if present (order not kept). */
void strlist_remove(struct strlist *l, const char *s);
/* Replaces dst with a copy of src. 0 or -ENOMEM (dst then unchanged). */
CPPO_MUST_CHECK int strlist_copy(struct strlist *dst, const struct strlist *src);

#endif
