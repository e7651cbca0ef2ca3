/* Unit tests: the dispatcher's retry backoff (exponential, base 1 s, cap
 * 10 min, full jitter). Sending is tested against the real peers in
 * test/integration/delivery-peers.sh. */
#undef NDEBUG
#include "cppo/dispatch.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#define CAP_MS (10 * 60 * 1000)

/* The ceiling of the jitter window after n failures: 1 s, 2 s, 4 s, ...,
 * at most 10 min. */
static int64_t ceiling(int n)
{
        int64_t c = 1000;

        for (int i = 1; i < n && c < CAP_MS; i++)
                c *= 2;
        return c < CAP_MS ? c : CAP_MS;
}

static const double jitters[] = {0.0, 1e-9, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999};

static void stays_within_window(void **state)
{
        for (int n = 1; n <= 200; n++)
                for (size_t j = 0; j < sizeof jitters / sizeof jitters[0]; j++) {
                        int64_t v = dispatch_backoff_ms(n, jitters[j]);
                        assert_true(v >= 0);
                        assert_true(v <= ceiling(n));
                        /* full jitter: rnd scales the whole window */
                        assert_true(llabs(v - (int64_t)(jitters[j] * (double)ceiling(n))) <= 1);
                }
}

static void doubles_from_one_second(void **state)
{
        assert_int_equal(dispatch_backoff_ms(1, 0.5), 500);
        assert_int_equal(dispatch_backoff_ms(2, 0.5), 1000);
        assert_int_equal(dispatch_backoff_ms(3, 0.5), 2000);
        assert_int_equal(dispatch_backoff_ms(10, 0.5), 256000);
        assert_int_equal(dispatch_backoff_ms(1, 0.0), 0);
}

static void cap_is_monotone_and_reached(void **state)
{
        int64_t prev = 0;

        for (int n = 1; n <= 1000; n++) {
                int64_t v = dispatch_backoff_ms(n, 0.999999);
                assert_true(v >= prev); /* never shrinks as failures pile up */
                assert_true(v <= CAP_MS);
                prev = v;
        }
        assert_true(prev >= CAP_MS - 1);
        /* 2^(n-1) s would overflow long before n = INT32_MAX */
        assert_true(dispatch_backoff_ms(INT32_MAX, 0.999999) <= CAP_MS);
        assert_true(dispatch_backoff_ms(INT32_MAX, 0.999999) >= CAP_MS - 1);
        assert_true(dispatch_backoff_ms(11, 0.999999) >= CAP_MS - 1); /* 2^10 s > 10 min */
        assert_true(dispatch_backoff_ms(10, 0.999999) < CAP_MS);
}

static void odd_inputs_stay_in_bounds(void **state)
{
        assert_int_equal(dispatch_backoff_ms(0, 0.5), 500); /* n < 1 counts as 1 */
        assert_int_equal(dispatch_backoff_ms(-5, 0.5), 500);
        assert_int_equal(dispatch_backoff_ms(3, -1.0), 0);
        assert_int_equal(dispatch_backoff_ms(3, NAN), 0);
        assert_int_equal(dispatch_backoff_ms(3, 1.0), 4000);
        assert_int_equal(dispatch_backoff_ms(3, 7.0), 4000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(stays_within_window),
            cmocka_unit_test(doubles_from_one_second),
            cmocka_unit_test(cap_is_monotone_and_reached),
            cmocka_unit_test(odd_inputs_stay_in_bounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
