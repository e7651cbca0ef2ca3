/* cppo-notify — owned string lists (see include/cppo/strlist.h). */
#include "cppo/strlist.h"

#include <stdlib.h>
#include <string.h>

void strlist_clear(struct strlist *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

int strlist_add(struct strlist *l, const char *s)
{
        char *copy = strdup(s);
        char **v;

        if (copy == NULL)
                return -ENOMEM;
        v = realloc(l->v, (l->n + 1) * sizeof *v);
        if (v == NULL) {
                free(copy);
                return -ENOMEM;
        }
        v[l->n++] = copy;
        l->v = v;
        return 0;
}

bool strlist_contains(const struct strlist *l, const char *s)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i], s) == 0)
                        return true;
        return false;
}

int strlist_add_unique(struct strlist *l, const char *s)
{
        return strlist_contains(l, s) ? 0 : strlist_add(l, s);
}

int strlist_copy(struct strlist *dst, const struct strlist *src)
{
        struct strlist tmp = { 0 };

        for (size_t i = 0; i < src->n; i++) {
                if (strlist_add(&tmp, src->v[i]) < 0) {
                        strlist_clear(&tmp);
                        return -ENOMEM;
                }
        }
        strlist_clear(dst);
        *dst = tmp;
        return 0;
}

void strlist_remove(struct strlist *l, const char *s)
{
        for (size_t i = 0; i < l->n; i++) {
                if (strcmp(l->v[i], s) == 0) {
                        free(l->v[i]);
                        l->v[i] = l->v[--l->n];
                        return;
                }
        }
}
