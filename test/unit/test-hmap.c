/* Unit tests: string-keyed hash map, including deletion inside probe chains. */
#undef NDEBUG
#include "cppo/hmap.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int freed;

static void count_free(void *p)
{
        freed++;
        free(p);
}

static char *value(int i)
{
        char *v = malloc(16);

        assert_non_null(v);
        snprintf(v, 16, "v%d", i);
        return v;
}

static int count_entries(void *ctx, const char *key, void *v)
{
        (*(int *)ctx)++;
        return 0;
}

static void put_get_delete_many(void **state)
{
        struct hmap *m = NULL;
        char key[32];
        int n = 0;

        freed = 0;
        assert_int_equal(hmap_new(&m, count_free), 0);
        for (int i = 0; i < 20000; i++) {
                snprintf(key, sizeof key, "offer-%d", i);
                assert_int_equal(hmap_put(m, key, value(i)), 0);
        }
        assert_int_equal(hmap_size(m), 20000);
        for (int i = 0; i < 20000; i += 2) {
                snprintf(key, sizeof key, "offer-%d", i);
                assert_int_equal(hmap_del(m, key), 1);
                assert_int_equal(hmap_del(m, key), 0);
        }
        for (int i = 0; i < 20000; i++) {
                snprintf(key, sizeof key, "offer-%d", i);
                char *v = hmap_get(m, key);
                if (i % 2) {
                        char want[16];
                        snprintf(want, sizeof want, "v%d", i);
                        assert_non_null(v);
                        assert_string_equal(v, want);
                } else {
                        assert_null(v);
                }
        }
        hmap_each(m, count_entries, &n);
        assert_int_equal(n, 10000);
        assert_int_equal(freed, 10000);
        snprintf(key, sizeof key, "offer-1");
        assert_int_equal(hmap_put(m, key, value(-1)), 0); /* replace frees the old value */
        assert_int_equal(freed, 10001);
        assert_string_equal(hmap_get(m, key), "v-1");
        hmap_free(m);
        assert_int_equal(freed, 20001);
        hmap_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(put_get_delete_many),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
