/* Unit tests: error convention helpers and logging levels. */
#undef NDEBUG
#include "cppo/error.h"
#include "cppo/log.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* A failure made two calls down and passed up unchanged. */
static int deep_failure(void)
{
        return ERROR_TRACE(-EIO); /* the line error_origin must name */
}

static int middle(void)
{
        return ERROR_TRACE(deep_failure());
}

static void *other_thread(void *arg)
{
        (void)arg;
        return (void *)error_origin(-EIO);
}

/* The first traced site of a failure wins while the same code travels up;
 * a new code, or a clear, starts over; other threads keep their own. */
static void error_origin_names_the_first_site(void **state)
{
        char buf[64];
        pthread_t t;
        void *seen = &t;

        error_origin_clear();
        assert_null(error_origin(-EIO));
        assert_string_equal(error_origin_format(-EIO, buf, sizeof buf), "unknown");
        assert_int_equal(ERROR_TRACE(0), 0);
        assert_int_equal(ERROR_TRACE(3), 3);
        assert_null(error_origin(0));

        assert_int_equal(ERROR_TRACE(middle()), -EIO);
        const struct error_origin *o = error_origin(-EIO);
        assert_non_null(o);
        assert_string_equal(o->func, "deep_failure");
        assert_non_null(strstr(o->file, "test-error.c"));
        snprintf(buf, sizeof buf, "test-error.c:%d", o->line);
        char shown[64];
        assert_string_equal(error_origin_format(-EIO, shown, sizeof shown), buf);
        assert_null(error_origin(-ENOMEM)); /* the code must match */

        assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
        assert_int_equal(pthread_join(t, &seen), 0);
        assert_null(seen);

        assert_int_equal(ERROR_TRACE(-ENOMEM), -ENOMEM); /* another failure */
        assert_string_equal(error_origin(-ENOMEM)->func, "error_origin_names_the_first_site");
        assert_null(error_origin(-EIO));
        error_origin_clear();
        assert_null(error_origin(-ENOMEM));
        assert_string_equal(error_origin_format(-EIO, buf, 4), "unk"); /* truncated */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(error_set_formats_and_returns_code),
                cmocka_unit_test(error_set_truncates),
                cmocka_unit_test(error_names),
                cmocka_unit_test(log_levels_parse_and_filter),
                cmocka_unit_test(error_origin_names_the_first_site),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
