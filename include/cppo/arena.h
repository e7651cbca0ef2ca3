/* cppo-notify — string arena.
 *
 * Many small strings with one lifetime (the fields of one decoded event)
 * are copied into blocks owned by the arena; pointers stay valid until
 * arena_reset() or arena_deinit(). Total content is capped at `max` bytes.
 * Embedded by value: arena_init()/arena_deinit().
 */
#ifndef CPPO_ARENA_H
#define CPPO_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
        struct arena_block *head; /* newest block first */
        size_t used;              /* bytes handed out since the last reset */
        size_t max;               /* cap on `used` */
};

void arena_init(struct arena *a, size_t max);
void arena_deinit(struct arena *a);

/* Forgets every string; keeps the first block for reuse. */
void arena_reset(struct arena *a);

/* Copies s[0..n) plus a NUL into the arena. NULL when the cap would be
 * passed or memory runs out. */
const char *arena_strndup(struct arena *a, const char *s, size_t n);
const char *arena_strdup(struct arena *a, const char *s);

/* Uninitialised, pointer-aligned room for n bytes; NULL as above. */
void *arena_alloc(struct arena *a, size_t n);

#endif
