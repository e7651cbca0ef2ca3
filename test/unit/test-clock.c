/* Unit tests: the clock helpers read the clock their name says. */
#undef NDEBUG
#include "cppo/clock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

/* Wall readings sit between two time() calls; no timing is asserted. */
static void test_wall_is_epoch(void **state)
{
        (void)state;
        int64_t before = (int64_t)time(NULL);
        int64_t s = clock_wall_s(), ms = clock_wall_ms();
        struct timespec ts = clock_wall_ts();
        int64_t after = (int64_t)time(NULL) + 1;

        assert_true(s >= before - 1 && s <= after);
        assert_true(ms / 1000 >= before - 1 && ms / 1000 <= after);
        assert_true((int64_t)ts.tv_sec >= before - 1 && (int64_t)ts.tv_sec <= after);
}

/* Monotonic readings share one origin, not the epoch, and never go back. */
static void test_mono_units_agree(void **state)
{
        (void)state;
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ref = (int64_t)ts.tv_sec * 1000;
        int64_t ms = clock_mono_ms(), us = clock_mono_us(), ms2 = clock_mono_ms();

        assert_true(ms >= ref);
        assert_true(us / 1000 >= ms && us / 1000 <= ms2);
        assert_true(ms2 >= ms);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_wall_is_epoch),
                cmocka_unit_test(test_mono_units_agree),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
