/* Unit tests: log lines, in particular logfmt quoting of key=value fields
 * that carry event data. stderr is redirected to a temporary file. */
#undef NDEBUG
#include "cppo/log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char got[4096];

/* Runs one log call with stderr captured; the line, without the call
 * site suffix, lands in got. */
#define CAPTURE(...)                                                                               \
        do {                                                                                       \
                FILE *tmp = tmpfile();                                                             \
                int saved = dup(2);                                                                \
                assert_non_null(tmp);                                                              \
                fflush(stderr);                                                                    \
                assert_true(dup2(fileno(tmp), 2) >= 0);                                            \
                log_info(__VA_ARGS__);                                                             \
                fflush(stderr);                                                                    \
                assert_true(dup2(saved, 2) >= 0);                                                  \
                close(saved);                                                                      \
                rewind(tmp);                                                                       \
                memset(got, 0, sizeof got);                                                        \
                assert_non_null(fgets(got, sizeof got, tmp));                                      \
                fclose(tmp);                                                                       \
                char *site = strstr(got, " [test-log.c:");                                         \
                assert_non_null(site);                                                             \
                *site = '\0';                                                                      \
        } while (0)

struct kv_case {
        const char *value;
        const char *logged; /* the line for "event offer=%s n=%d" */
};

static void values_after_key_are_logfmt_quoted(void **state)
{
        static const struct kv_case cases[] = {
                { "o-123", "info: event offer=o-123 n=7" },
                { "", "info: event offer=\"\" n=7" },
                { "a b", "info: event offer=\"a b\" n=7" },
                { "x\" key=forged error=\"y",
                  "info: event offer=\"x\\\" key=forged error=\\\"y\" n=7" },
                { "k=v", "info: event offer=\"k=v\" n=7" },
                { "back\\slash", "info: event offer=\"back\\\\slash\" n=7" },
                { "two\nlines\r\t\x01", "info: event offer=\"two\\nlines\\r\\t\\x01\" n=7" },
                { "Müller", "info: event offer=Müller n=7" },
        };

        log_set_journal(false);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                CAPTURE("event offer=%s n=%d", cases[i].value, 7);
                assert_string_equal(got, cases[i].logged);
        }
}

static void self_quoted_values_are_escaped_and_free_text_kept(void **state)
{
        log_set_journal(false);
        CAPTURE("kafka failed reason=\"%s\"", "bad \"thing\"");
        assert_string_equal(got, "info: kafka failed reason=\"bad \\\"thing\\\"\"");
        CAPTURE("cannot start: %s", "store a=b is gone");
        assert_string_equal(got, "info: cannot start: store a=b is gone");
        CAPTURE("line\nbreak %s", "in\nfree text");
        assert_string_equal(got, "info: line?break in?free text");
}

static void numbers_precision_and_percent(void **state)
{
        log_set_journal(false);
        CAPTURE("n=%d z=%zu ll=%lld u=%u x=%x neg=%d pct=100%% s=%.3s", -5, (size_t)42,
                (long long)1 << 40, 7u, 255u, -1, "abcdef");
        assert_string_equal(got, "info: n=-5 z=42 ll=1099511627776 u=7 x=ff neg=-1 pct=100% s=abc");
        CAPTURE("host %s:%u", "127.0.0.1", 80u);
        assert_string_equal(got, "info: host 127.0.0.1:80");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(values_after_key_are_logfmt_quoted),
                cmocka_unit_test(self_quoted_values_are_escaped_and_free_text_kept),
                cmocka_unit_test(numbers_precision_and_percent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
