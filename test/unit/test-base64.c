/* Unit tests: base64 against RFC 4648 §10's vectors; the decoder refuses
 * what is not canonical base64 and stops at its cap. */
#undef NDEBUG
#include "cppo/base64.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const char *const rfc[][2] = {
        { "", "" },
        { "f", "Zg==" },
        { "fo", "Zm8=" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
};

static void rfc4648_vectors(void **state)
{
        for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
                size_t n = strlen(rfc[i][0]);
                char enc[16];
                uint8_t dec[16];

                base64_encode((const uint8_t *)rfc[i][0], n, enc);
                assert_string_equal(enc, rfc[i][1]);
                assert_int_equal(strlen(enc), BASE64_LEN(n));
                assert_int_equal(base64_decode(enc, strlen(enc), dec, sizeof dec), (long)n);
                assert_memory_equal(dec, rfc[i][0], n);
        }
}

static void decode_unpadded_and_binary(void **state)
{
        uint8_t all[256], dec[256];
        char enc[BASE64_LEN(256) + 1];

        for (int i = 0; i < 256; i++)
                all[i] = (uint8_t)i;
        base64_encode(all, sizeof all, enc);
        assert_int_equal(base64_decode(enc, strlen(enc), dec, sizeof dec), 256);
        assert_memory_equal(dec, all, 256);
        assert_int_equal(base64_decode("Zm8", 3, dec, sizeof dec), 2);
        assert_memory_equal(dec, "fo", 2);
}

static void decode_refuses(void **state)
{
        static const char *const bad[] = {
                "Z",    /* a lone sextet is no byte */
                "Zg=",  /* padding that does not end a group */
                "Zh==", /* non-zero bits left over */
                "Zm9v!A==", "Zm 9v", "Zm9v\n", "Zm-_", "Zg===",
        };
        uint8_t dec[16];

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(base64_decode(bad[i], strlen(bad[i]), dec, sizeof dec), -EINVAL);
        assert_int_equal(base64_decode("Zm9vYmFy", 8, dec, 5), -E2BIG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(rfc4648_vectors),
                cmocka_unit_test(decode_unpadded_and_binary),
                cmocka_unit_test(decode_refuses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
