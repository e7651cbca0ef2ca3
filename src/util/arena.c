/* cppo-notify — string arena (see include/cppo/arena.h). */
#include "cppo/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE 4096

struct arena_block {
        struct arena_block *next;
        size_t used;
        size_t cap;
        alignas(max_align_t) char data[];
};

void arena_init(struct arena *a, size_t max)
{
        a->head = NULL;
        a->used = 0;
        a->max = max;
}

void arena_deinit(struct arena *a)
{
        struct arena_block *b = a->head;

        while (b) {
                struct arena_block *next = b->next;
                free(b);
                b = next;
        }
        arena_init(a, a->max);
}

void arena_reset(struct arena *a)
{
        struct arena_block *last = a->head;

        if (last == NULL)
                return;
        /* Keep the oldest block (the standard size one); free the rest. */
        while (last->next) {
                struct arena_block *b = last;
                last = last->next;
                free(b);
        }
        last->used = 0;
        a->head = last;
        a->used = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
        size_t need = (n + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
        struct arena_block *b = a->head;

        if (need < n || need > a->max || a->used > a->max - need)
                return NULL;
        if (b == NULL || b->cap - b->used < need) {
                size_t cap = need > ARENA_BLOCK_SIZE ? need : ARENA_BLOCK_SIZE;
                b = malloc(sizeof *b + cap);
                if (b == NULL)
                        return NULL;
                b->cap = cap;
                b->used = 0;
                b->next = a->head;
                a->head = b;
        }
        b->used += need;
        a->used += need;
        return b->data + b->used - need;
}

const char *arena_strndup(struct arena *a, const char *s, size_t n)
{
        char *p;

        if (n == SIZE_MAX)
                return NULL;
        p = arena_alloc(a, n + 1);
        if (p == NULL)
                return NULL;
        if (n)
                memcpy(p, s, n);
        p[n] = '\0';
        return p;
}

const char *arena_strdup(struct arena *a, const char *s)
{
        return arena_strndup(a, s, strlen(s));
}
