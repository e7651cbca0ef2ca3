/* Unit tests: SHA-256 against the FIPS 180-4 example vectors. */
#undef NDEBUG
#include "cppo/sha256.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void known_vectors(void **state)
{
        char hex[65];

        sha256_hex("", 0, hex);
        assert_string_equal(hex,
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        sha256_hex("abc", 3, hex);
        assert_string_equal(hex,
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        sha256_hex(two, strlen(two), hex);
        assert_string_equal(hex,
                            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void million_a_in_pieces(void **state)
{
        struct sha256 s;
        uint8_t d[32];
        char chunk[1001];

        memset(chunk, 'a', sizeof chunk);
        sha256_init(&s);
        for (int i = 0; i < 1000; i++)
                sha256_update(&s, chunk, i % 2 ? 999 : 1001);
        sha256_final(&s, d);
        assert_int_equal(d[0], 0xcd);
        assert_int_equal(d[1], 0xc7);
        assert_int_equal(d[31], 0xd0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(known_vectors),
                cmocka_unit_test(million_a_in_pieces),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
