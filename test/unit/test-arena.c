/* Unit tests: string arena. */
#undef NDEBUG
#include "cppo/arena.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void strings_stay_valid_across_blocks(void **state)
{
        struct arena a;
        const char *p[2000];
        char want[32];

        arena_init(&a, 1 << 20);
        for (int i = 0; i < 2000; i++) {
                snprintf(want, sizeof want, "string-%d", i);
                p[i] = arena_strdup(&a, want);
                assert_non_null(p[i]);
        }
        for (int i = 0; i < 2000; i++) {
                snprintf(want, sizeof want, "string-%d", i);
                assert_string_equal(p[i], want);
        }
        arena_deinit(&a);
}

static void large_string_gets_its_own_block(void **state)
{
        struct arena a;
        char big[10000];
        const char *p;

        memset(big, 'x', sizeof big);
        arena_init(&a, 1 << 20);
        p = arena_strndup(&a, big, sizeof big);
        assert_non_null(p);
        assert_int_equal(strlen(p), sizeof big);
        arena_deinit(&a);
}

static void cap_refuses_and_reset_frees(void **state)
{
        struct arena a;

        arena_init(&a, 64);
        assert_non_null(arena_strndup(&a, "0123456789012345678901234567890", 31));
        assert_non_null(arena_strndup(&a, "0123456789012345678901234567890", 31));
        assert_null(arena_strndup(&a, "x", 1));
        arena_reset(&a);
        assert_int_equal(a.used, 0);
        assert_string_equal(arena_strdup(&a, "again"), "again");
        arena_deinit(&a);
}

static void alloc_is_pointer_aligned(void **state)
{
        struct arena a;

        arena_init(&a, 4096);
        assert_non_null(arena_strdup(&a, "abc"));
        uintptr_t p = (uintptr_t)arena_alloc(&a, sizeof(void *));
        assert_int_equal(p % sizeof(void *), 0);
        arena_deinit(&a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(strings_stay_valid_across_blocks),
                cmocka_unit_test(large_string_gets_its_own_block),
                cmocka_unit_test(cap_refuses_and_reset_frees),
                cmocka_unit_test(alloc_is_pointer_aligned),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
