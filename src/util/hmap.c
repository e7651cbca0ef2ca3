/* cppo-notify — string-keyed hash map (see include/cppo/hmap.h). */
#include "cppo/hmap.h"

#include "cppo/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
        char *key; /* NULL: empty */
        void *value;
        uint64_t hash;
};

struct hmap {
        struct slot *slots;
        size_t cap; /* power of two */
        size_t n;
        void (*free_value)(void *);
};

static uint64_t hash(const char *s)
{
        uint64_t h = 1469598103934665603ull; /* FNV-1a */

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ull;
        return h;
}

int hmap_new(struct hmap **out, void (*free_value)(void *))
{
        struct hmap *m = calloc(1, sizeof *m);

        if (m == NULL)
                return -ENOMEM;
        m->cap = 64;
        m->slots = calloc(m->cap, sizeof *m->slots);
        if (m->slots == NULL) {
                free(m);
                return -ENOMEM;
        }
        m->free_value = free_value;
        *out = m;
        return 0;
}

void hmap_free(struct hmap *m)
{
        if (m == NULL)
                return;
        for (size_t i = 0; i < m->cap; i++) {
                if (m->slots[i].key == NULL)
                        continue;
                free(m->slots[i].key);
                if (m->free_value)
                        m->free_value(m->slots[i].value);
        }
        free(m->slots);
        free(m);
}

static struct slot *find(const struct hmap *m, const char *key, uint64_t h)
{
        size_t i = (size_t)h & (m->cap - 1);

        while (m->slots[i].key && (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
                i = (i + 1) & (m->cap - 1);
        return &m->slots[i];
}

void *hmap_get(const struct hmap *m, const char *key)
{
        struct slot *s = find(m, key, hash(key));

        return s->key ? s->value : NULL;
}

static int grow(struct hmap *m)
{
        struct slot *old = m->slots;
        size_t old_cap = m->cap;

        if (m->cap * 2 > HMAP_MAX_ENTRIES * 2)
                return -E2BIG;
        m->slots = calloc(m->cap * 2, sizeof *m->slots);
        if (m->slots == NULL) {
                m->slots = old;
                return -ENOMEM;
        }
        m->cap *= 2;
        for (size_t i = 0; i < old_cap; i++)
                if (old[i].key)
                        *find(m, old[i].key, old[i].hash) = old[i];
        free(old);
        return 0;
}

int hmap_put(struct hmap *m, const char *key, void *value)
{
        uint64_t h = hash(key);
        struct slot *s;
        int r;

        if ((m->n + 1) * 10 > m->cap * 7 && (r = grow(m)) < 0)
                return r;
        s = find(m, key, h);
        if (s->key) {
                if (m->free_value && s->value != value)
                        m->free_value(s->value);
                s->value = value;
                return 0;
        }
        s->key = strdup(key);
        if (s->key == NULL)
                return -ENOMEM;
        s->hash = h;
        s->value = value;
        m->n++;
        return 0;
}

/* Backward-shift deletion keeps every probe chain unbroken, no tombstones. */
int hmap_del(struct hmap *m, const char *key)
{
        struct slot *s = find(m, key, hash(key));
        size_t i = (size_t)(s - m->slots), j = i;

        if (s->key == NULL)
                return 0;
        free(s->key);
        if (m->free_value)
                m->free_value(s->value);
        for (;;) {
                m->slots[i].key = NULL;
                for (;;) {
                        j = (j + 1) & (m->cap - 1);
                        if (m->slots[j].key == NULL) {
                                m->n--;
                                return 1;
                        }
                        size_t home = (size_t)m->slots[j].hash & (m->cap - 1);
                        /* move j back unless its home lies cyclically in (i, j] */
                        if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                                break;
                }
                m->slots[i] = m->slots[j];
                i = j;
        }
}

size_t hmap_size(const struct hmap *m)
{
        return m->n;
}

int hmap_each(const struct hmap *m, int (*fn)(void *ctx, const char *key, void *value), void *ctx)
{
        for (size_t i = 0; i < m->cap; i++) {
                int r;
                if (m->slots[i].key && (r = fn(ctx, m->slots[i].key, m->slots[i].value)) != 0)
                        return r;
        }
        return 0;
}
