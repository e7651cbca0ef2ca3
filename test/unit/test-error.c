/* Unit tests: error convention helpers and logging levels. */
#undef NDEBUG
#include "cppo/error.h"
#include "cppo/log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void error_set_formats_and_returns_code(void **state)
{
        char err[CPPO_ERRLEN];

        assert_int_equal(error_set(err, sizeof err, -EINVAL, "bad key '%s'", "x"), -EINVAL);
        assert_string_equal(err, "bad key 'x'");
        assert_int_equal(error_set(NULL, 0, -ENOMEM, "ignored"), -ENOMEM);
}

static void error_set_truncates(void **state)
{
        char err[8];

        error_set(err, sizeof err, -E2BIG, "%s", "0123456789");
        assert_string_equal(err, "0123456");
}

static void error_names(void **state)
{
        assert_string_equal(error_name(-EINVAL), "EINVAL");
        assert_string_equal(error_name(-E2BIG), "E2BIG");
        assert_string_equal(error_name(0), "OK");
        assert_string_equal(error_name(-12345), "E?");
}

static void log_levels_parse_and_filter(void **state)
{
        enum log_level l;

        assert_int_equal(log_level_parse("debug", &l), 0);
        assert_int_equal(l, LOG_LEVEL_DEBUG);
        assert_int_equal(log_level_parse("warning", &l), 0);
        assert_int_equal(l, LOG_LEVEL_WARNING);
        assert_int_equal(log_level_parse("loud", &l), -EINVAL);
        log_set_level(LOG_LEVEL_ERROR);
        assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
        log_info("dropped below the level");
        log_set_level(LOG_LEVEL_INFO);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(error_set_formats_and_returns_code),
                cmocka_unit_test(error_set_truncates),
                cmocka_unit_test(error_names),
                cmocka_unit_test(log_levels_parse_and_filter),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
