/* Unit tests: ISO-8601 parsing and formatting. */
#undef NDEBUG
#include "cppo/timefmt.h"

#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const struct {
        const char *in;
        int64_t want;
} good[] = {
        { "1970-01-01T00:00:00Z", 0 },
        { "2025-03-12T16:04:51Z", 1741795491 },
        { "2025-03-12T16:04:52.406Z", 1741795492 },
        { "2025-03-12T18:04:51+02:00", 1741795491 },
        { "2025-03-12T11:04:51-05:00", 1741795491 },
        { "2024-02-29T00:00:00Z", 1709164800 },
        { "2025-03-12", 1741737600 },
        { "1969-12-31T23:59:59Z", -1 },
};

static const char *const bad[] = {
        "",
        "2025",
        "2025-13-01T00:00:00Z",
        "2025-02-29T00:00:00Z",
        "2025-03-12T24:00:00Z",
        "2025-03-12T16:04:51",
        "2025-03-12T16:04:51+0200",
        "2025-03-12T16:04:51.Z",
        "2025-03-12X16:04:51Z",
        "2025-03-12T16:04:51Zjunk",
        "abcd-ef-ghT00:00:00Z",
};

static void parses_valid_timestamps(void **state)
{
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
                int64_t t = 42;
                assert_int_equal(timefmt_parse(good[i].in, &t), 0);
                assert_int_equal(t, good[i].want);
        }
}

static void rejects_invalid_timestamps(void **state)
{
        int64_t t;

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(timefmt_parse(bad[i], &t), -EINVAL);
        assert_int_equal(timefmt_parse(NULL, &t), -EINVAL);
}

static void format_round_trips(void **state)
{
        char out[TIMEFMT_LEN];
        int64_t t;

        for (int64_t v = -86400 * 3; v < 4102444800; v += 7777777) {
                timefmt_format(v, out);
                assert_int_equal(timefmt_parse(out, &t), 0);
                assert_int_equal(t, v);
        }
        timefmt_format(1741795491, out);
        assert_string_equal(out, "2025-03-12T16:04:51Z");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_valid_timestamps),
                cmocka_unit_test(rejects_invalid_timestamps),
                cmocka_unit_test(format_round_trips),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
