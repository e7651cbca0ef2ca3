/* Unit tests: SHA-256 against the FIPS 180-4 example vectors, HMAC-SHA256
 * against RFC 4231's test cases. */
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

static void to_hex(const uint8_t *d, size_t n, char *hex)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                hex[2 * i] = digits[d[i] >> 4];
                hex[2 * i + 1] = digits[d[i] & 15];
        }
        hex[2 * n] = '\0';
}

/* RFC 4231 §4.2-4.8: keys and data repeat one byte; case 5's MAC is
 * truncated to 128 bits, so only its first 16 bytes are compared. */
static void hmac_rfc4231(void **state)
{
        static const char big[] = "This is a test using a larger than block-size key and a larger "
                                  "than block-size data. The key needs to be hashed before being "
                                  "used by the HMAC algorithm.";
        static const struct {
                int key_byte, key_len; /* key_byte < 0: the bytes 1, 2, ... key_len */
                const char *data;      /* NULL: data_len times data_byte */
                int data_byte, data_len;
                const char *mac;
        } cases[] = {
                { 0x0b, 20, "Hi There", 0, 0,
                  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
                { 0, 0, "what do ya want for nothing?", 0, 0,
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
                { 0xaa, 20, NULL, 0xdd, 50,
                  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
                { -1, 25, NULL, 0xcd, 50,
                  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
                { 0x0c, 20, "Test With Truncation", 0, 0, "a3b6167473100ee06e0c796c2955552b" },
                { 0xaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
                  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
                { 0xaa, 131, big, 0, 0,
                  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
        };

        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                uint8_t key[131], data[50], mac[32];
                const void *k = key, *d = data;
                size_t klen = (size_t)cases[c].key_len, dlen = (size_t)cases[c].data_len;
                char hex[65];

                for (size_t i = 0; i < klen; i++)
                        key[i] = cases[c].key_byte < 0 ? (uint8_t)(i + 1)
                                                       : (uint8_t)cases[c].key_byte;
                memset(data, cases[c].data_byte, sizeof data);
                if (c == 1) /* case 2: the key is "Jefe" */
                        k = "Jefe", klen = 4;
                if (cases[c].data != NULL)
                        d = cases[c].data, dlen = strlen(cases[c].data);
                hmac_sha256(k, klen, d, dlen, mac);
                to_hex(mac, sizeof mac, hex);
                assert_memory_equal(hex, cases[c].mac, strlen(cases[c].mac));
        }
}

/* Fed in pieces (the webhook signs id, ".", timestamp, ".", body) it is
 * the same MAC as in one call. */
static void hmac_in_pieces(void **state)
{
        static const char msg[] = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.1674087231.{\"a\":1}";
        struct hmac_sha256 h;
        uint8_t one[32], pieces[32];

        hmac_sha256("key", 3, msg, strlen(msg), one);
        hmac_sha256_init(&h, "key", 3);
        for (size_t i = 0; i < strlen(msg); i += 7)
                hmac_sha256_update(&h, msg + i, strlen(msg) - i < 7 ? strlen(msg) - i : 7);
        hmac_sha256_final(&h, pieces);
        assert_memory_equal(one, pieces, 32);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(known_vectors),
                cmocka_unit_test(million_a_in_pieces),
                cmocka_unit_test(hmac_rfc4231),
                cmocka_unit_test(hmac_in_pieces),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
