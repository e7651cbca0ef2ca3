/* Unit-test helpers: records filled and compared field by field through
 * their tables (model.h). Included by one test program each (test-model,
 * test-store); everything is static. */
#ifndef CPPO_TEST_RECORDFILL_H
#define CPPO_TEST_RECORDFILL_H

#include "cppo/model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Sets every field of rec by its table to a value that is not zero and
 * differs per field (i), so a field a copy or the store skipped or swapped
 * shows. */
static void fill_record(const struct record_type *t, void *rec)
{
        for (size_t i = 0; i < t->n_fields; i++) {
                const struct field *f = &t->fields[i];
                void *p = (char *)rec + f->offset;
                switch (f->type) {
                case FIELD_STR: assert_int_equal(str_assign(p, f->name), 0); break;
                case FIELD_LIST: assert_int_equal(strlist_add(p, f->name), 0); break;
                case FIELD_BOOL: *(bool *)p = true; break;
                case FIELD_INT: *(int *)p = (int)i + 1; break;
                case FIELD_I64: *(int64_t *)p = 1000 + (int64_t)i; break;
                case FIELD_LINK:
                        *(enum link_strength *)p = (i % 2) ? LINK_EVENT : LINK_MANUAL;
                        break;
                case FIELD_SOURCES:
                        for (int k = 0; k < AUTH_F_COUNT; k++)
                                ((unsigned char *)p)[k] = (unsigned char)(AUTH_SRC_EVENT + k % 3);
                        break;
                case FIELD_BLOB:
                        /* bytes a string would stop at */
                        assert_int_equal(str_assign(p, "bl\nob"), 0);
                        (*(char **)p)[2] = '\0';
                        *(size_t *)(void *)((char *)p + sizeof(char *)) = 5;
                        break;
                }
        }
}

static void assert_same_record(const struct record_type *t, const void *a, const void *b)
{
        for (size_t i = 0; i < t->n_fields; i++) {
                const struct field *f = &t->fields[i];
                const void *pa = (const char *)a + f->offset, *pb = (const char *)b + f->offset;
                if (f->type == FIELD_STR) {
                        assert_non_null(*(char *const *)pb);
                        assert_string_equal(*(char *const *)pa, *(char *const *)pb);
                } else if (f->type == FIELD_BLOB) {
                        const size_t *len = (const void *)((const char *)pa + sizeof(char *));
                        assert_memory_equal(*(char *const *)pa, *(char *const *)pb, *len + 1);
                        assert_memory_equal((const char *)pa + sizeof(char *),
                                            (const char *)pb + sizeof(char *), sizeof(size_t));
                } else if (f->type == FIELD_LIST) {
                        const struct strlist *la = pa, *lb = pb;
                        assert_int_equal(la->n, lb->n);
                        for (size_t k = 0; k < la->n; k++)
                                assert_string_equal(la->v[k], lb->v[k]);
                } else {
                        assert_memory_equal(pa, pb, field_size(f->type));
                }
        }
}

#endif
