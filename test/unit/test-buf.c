/* Unit tests: bounded growable buffer. */
#undef NDEBUG
#include "cppo/buf.h"

#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void empty_buffer_is_empty_string(void **state)
{
        struct buf b = BUF_INIT(16);

        assert_string_equal(buf_cstr(&b), "");
        assert_int_equal(b.len, 0);
        buf_deinit(&b);
}

static void append_and_printf_grow_and_terminate(void **state)
{
        struct buf b;

        buf_init(&b, 1 << 20);
        for (int i = 0; i < 1000; i++)
                assert_int_equal(buf_printf(&b, "%d,", i), 0);
        assert_int_equal(b.len, strlen(b.data));
        assert_memory_equal(b.data, "0,1,2,", 6);
        assert_int_equal(buf_puts(&b, "end"), 0);
        assert_string_equal(b.data + b.len - 3, "end");
        buf_deinit(&b);
}

static void cap_is_enforced_and_buffer_unchanged(void **state)
{
        struct buf b = BUF_INIT(8);

        assert_int_equal(buf_puts(&b, "12345678"), 0);
        assert_int_equal(buf_putc(&b, 'x'), -E2BIG);
        assert_int_equal(buf_printf(&b, "%s", "y"), -E2BIG);
        assert_string_equal(buf_cstr(&b), "12345678");
        buf_reset(&b);
        assert_string_equal(buf_cstr(&b), "");
        assert_int_equal(buf_append(&b, "abc", 3), 0);
        assert_string_equal(buf_cstr(&b), "abc");
        buf_deinit(&b);
}

static void huge_reserve_is_refused(void **state)
{
        struct buf b = BUF_INIT(SIZE_MAX - 1);

        assert_int_equal(buf_puts(&b, "a"), 0);
        assert_int_equal(buf_reserve(&b, SIZE_MAX - 1), -E2BIG);
        buf_deinit(&b);
}

static void steal_hands_over_memory(void **state)
{
        struct buf b = BUF_INIT(64);
        char *p;

        assert_null(buf_steal(&b));
        assert_int_equal(buf_puts(&b, "hello"), 0);
        p = buf_steal(&b);
        assert_string_equal(p, "hello");
        assert_int_equal(b.len, 0);
        assert_null(b.data);
        free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(empty_buffer_is_empty_string),
                cmocka_unit_test(append_and_printf_grow_and_terminate),
                cmocka_unit_test(cap_is_enforced_and_buffer_unchanged),
                cmocka_unit_test(huge_reserve_is_refused),
                cmocka_unit_test(steal_hands_over_memory),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
