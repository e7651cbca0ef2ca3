/* Unit tests: the one UTF-8 scanner (RFC 3629's well-formed sequences). */
#undef NDEBUG
#include "cppo/utf8.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* One row per case: the bytes, how many of them utf8_char may read, the
 * length it must return (0: not a character) and the code point. */
static const struct {
        const char *s;
        size_t n;
        size_t want;
        uint32_t cp;
} chars[] = {
        { "A", 1, 1, 0x41 },
        { "\x7f", 1, 1, 0x7f },
        { "\xc2\x80", 2, 2, 0x80 },
        { "\xdf\xbf", 2, 2, 0x7ff },
        { "\xe0\xa0\x80", 3, 3, 0x800 },
        { "\xed\x9f\xbf", 3, 3, 0xd7ff },
        { "\xee\x80\x80", 3, 3, 0xe000 },
        { "\xef\xbf\xbf", 3, 3, 0xffff },
        { "\xf0\x90\x80\x80", 4, 4, 0x10000 },
        { "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
        { "", 0, 0, 0 },                 /* nothing to read */
        { "\x80", 1, 0, 0 },             /* a continuation byte alone */
        { "\xc0\xaf", 2, 0, 0 },         /* overlong '/' (C0 never leads) */
        { "\xc1\xbf", 2, 0, 0 },         /* overlong */
        { "\xe0\x80\xaf", 3, 0, 0 },     /* overlong, three bytes */
        { "\xf0\x80\x80\xaf", 4, 0, 0 }, /* overlong, four bytes */
        { "\xed\xa0\x80", 3, 0, 0 },     /* U+D800, a surrogate */
        { "\xed\xbf\xbf", 3, 0, 0 },     /* U+DFFF */
        { "\xf4\x90\x80\x80", 4, 0, 0 }, /* U+110000 */
        { "\xf5\x80\x80\x80", 4, 0, 0 }, /* F5 never leads */
        { "\xff", 1, 0, 0 },
        { "\xe2\x82", 2, 0, 0 },     /* cut short by n */
        { "\xe2\x82\xac", 2, 0, 0 }, /* the bytes are there, n says no */
        { "\xe2\x28\xa1", 3, 0, 0 }, /* bad continuation */
};

static void decodes_well_formed_characters_only(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof chars / sizeof chars[0]; i++) {
                uint32_t cp = 0xdeadbeef;
                size_t n = utf8_char(chars[i].s, chars[i].n, &cp);

                assert_int_equal(n, chars[i].want);
                if (n > 0)
                        assert_int_equal(cp, chars[i].cp);
                else
                        assert_int_equal(cp, 0xdeadbeef); /* untouched */
                assert_int_equal(utf8_char(chars[i].s, chars[i].n, NULL), chars[i].want);
        }
}

static void valid_prefix_stops_at_the_first_bad_byte(void **state)
{
        static const char ascii[] = "0123456789abcdefghij"; /* the 8-byte path */
        static const char mixed[] = "abcdefgh\xc3\xa9tude \xe2\x82\xac 12345678\xed\xa0\x80z";
        static const char cut[] = "abcdefghijklmno\xf0\x9f\x98";

        (void)state;
        assert_int_equal(utf8_valid_prefix(ascii, sizeof ascii - 1), sizeof ascii - 1);
        assert_int_equal(utf8_valid_prefix(mixed, sizeof mixed - 1), sizeof mixed - 5);
        assert_int_equal(utf8_valid_prefix(cut, sizeof cut - 1), 15);
        assert_int_equal(utf8_valid_prefix("", 0), 0);
        assert_int_equal(utf8_valid_prefix("\x80", 1), 0);
}

static void encode_round_trips_through_decode(void **state)
{
        static const uint32_t cps[] = { 0,     0x41,   0x7f,    0x80,    0x7ff,
                                        0x800, 0xffff, 0x10000, 0x1f600, 0x10ffff };
        char out[4];

        (void)state;
        for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
                uint32_t back = 0;
                size_t n = utf8_encode(cps[i], out);

                assert_true(n >= 1 && n <= 4);
                assert_int_equal(utf8_char(out, n, &back), n);
                assert_int_equal(back, cps[i]);
        }
        assert_int_equal(utf8_encode(0xd800, out), 0);
        assert_int_equal(utf8_encode(0x110000, out), 0);
}

static void counts_characters_and_finds_bidi_controls(void **state)
{
        (void)state;
        assert_int_equal(utf8_count(""), 0);
        assert_int_equal(utf8_count("D\xc3\xa9j\xc3\xa0 \xf0\x9f\x98\x80"), 6);
        assert_int_equal(utf8_bidi_len("\xe2\x80\xae", 3), 3); /* U+202E RLO */
        assert_int_equal(utf8_bidi_len("\xe2\x80\xaa", 3), 3); /* U+202A */
        assert_int_equal(utf8_bidi_len("\xe2\x81\xa6", 3), 3); /* U+2066 */
        assert_int_equal(utf8_bidi_len("\xe2\x81\xa9", 3), 3); /* U+2069 */
        assert_int_equal(utf8_bidi_len("\xe2\x80\xa9", 3), 0); /* U+2029 is not one */
        assert_int_equal(utf8_bidi_len("\xe2\x81\xaa", 3), 0); /* U+206A */
        assert_int_equal(utf8_bidi_len("\xe2\x80\xae", 2), 0); /* cut short */
        assert_int_equal(utf8_is_continuation(0x80), 1);
        assert_int_equal(utf8_is_continuation(0xc2), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(decodes_well_formed_characters_only),
                cmocka_unit_test(valid_prefix_stops_at_the_first_bad_byte),
                cmocka_unit_test(encode_round_trips_through_decode),
                cmocka_unit_test(counts_characters_and_finds_bidi_controls),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
