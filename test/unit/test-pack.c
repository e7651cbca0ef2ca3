/* Unit tests: packed documents (pack.h) round-trip exactly, plain values
 * (every first byte but the marker) come back unchanged, a truncated,
 * corrupt or unknown packed value is an error and never a crash, and the
 * size cap holds both ways. */
#undef NDEBUG
#include "cppo/pack.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A file under test/fixtures as it is (at most 64 KiB), NUL-terminated. */
static char *read_fixture(const char *rel, size_t *len)
{
        char path[512];
        const char *dir = getenv("CPPO_FIXTURES");
        FILE *f;
        char *buf = malloc(65536);

        assert_non_null(dir);
        assert_non_null(buf);
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        f = fopen(path, "rb");
        assert_non_null(f);
        *len = fread(buf, 1, 65535, f);
        fclose(f);
        buf[*len] = '\0';
        return buf;
}

/* A text file under test/fixtures, without trailing newlines (as stored). */
static char *fixture_at(const char *rel, size_t *len)
{
        char *buf = read_fixture(rel, len);

        while (*len > 0 && buf[*len - 1] == '\n')
                (*len)--; /* as stored: no trailing newline */
        buf[*len] = '\0';
        return buf;
}

/* A context as corr_context.c writes it (test/fixtures/render), and an
 * e-mail's head: the documents the store packs. */
static char *fixture(const char *name, size_t *len)
{
        char rel[256];

        snprintf(rel, sizeof rel, "render/%s", name);
        return fixture_at(rel, len);
}

static const char mail[] =
    "Date: Mon, 02 Mar 2026 10:15:01 +0000\r\nFrom: cppo-notify@example.com\r\n"
    "To: revops@example.com\r\nSubject: New order: Acme Corp bought Widget Pro\r\n"
    "Message-ID: <new_order.agmt-7f3k2.revops@cppo-notify>\r\nMIME-Version: 1.0\r\n"
    "Auto-Submitted: auto-generated\r\nX-CPPO-Opportunity-Id: ra-9x8y7\r\n"
    "X-CPPO-Notification-Key: new_order/agmt-7f3k2\r\n"
    "Content-Type: multipart/alternative;\r\n boundary=\"=_cppo_0123456789abcdef\"\r\n\r\n"
    "--=_cppo_0123456789abcdef\r\nContent-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\nA buyer accepted.\r\n"
    "--=_cppo_0123456789abcdef--\r\n";

/* Packs and unpacks in, expecting a packed value (want_packed) or none. */
static void round_trip(const void *in, size_t len, bool want_packed)
{
        uint8_t *packed = NULL;
        size_t plen = 0, olen = 0;
        char *out = NULL;

        assert_int_equal(pack(in, len, &packed, &plen), 0);
        if (!want_packed) {
                assert_null(packed);
                return;
        }
        assert_non_null(packed);
        assert_true(plen < len);
        assert_int_equal(packed[0], PACK_MARKER);
        assert_int_equal(packed[1], PACK_VERSION);
        assert_true(pack_is_packed(packed, plen));
        assert_int_equal(unpack(packed, plen, &out, &olen), 0);
        assert_int_equal(olen, len);
        assert_memory_equal(out, in, len);
        assert_int_equal(out[len], '\0');
        free(out);
        free(packed);
}

static void documents_round_trip_and_shrink(void **state)
{
        size_t len, plen;
        char *ctx = fixture("new_order.context.json", &len);
        char *slack = fixture("new_order.slack.json", &plen);
        uint8_t *packed, *again;
        size_t n, n2;

        round_trip(ctx, len, true);
        round_trip(slack, plen, true);
        round_trip(mail, sizeof mail - 1, true);
        /* the dictionary does the work: a context packs to under 40 % */
        assert_int_equal(pack(ctx, len, &packed, &n), 0);
        print_message("# context: %zu bytes, packed %zu\n", len, n);
        assert_true(n * 100 < len * 40);
        /* and the same bytes always pack the same (stores compare rows) */
        assert_int_equal(pack(ctx, len, &again, &n2), 0);
        assert_int_equal(n, n2);
        assert_memory_equal(packed, again, n);
        free(again);
        free(packed);
        free(slack);
        free(ctx);
}

/* Short values and values deflate cannot shrink are stored as they are. */
static void no_saving_no_packing(void **state)
{
        uint8_t noise[4096];
        uint32_t x = 2463534242u;

        for (size_t i = 0; i < sizeof noise; i++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift: incompressible */
                noise[i] = (uint8_t)x;
        }
        round_trip("", 0, false);
        round_trip("{}", 2, false);
        round_trip("abcdef", 6, false);
        round_trip(noise, sizeof noise, false);
        round_trip(noise, 1, false);
}

/* A large repetitive document, with NUL bytes inside. */
static void large_binary_round_trips(void **state)
{
        size_t len = 1 << 20;
        char *big = malloc(len);

        assert_non_null(big);
        for (size_t i = 0; i < len; i++)
                big[i] = (char)(i % 251 == 0 ? 0 : 'a' + i % 7);
        round_trip(big, len, true);
        free(big);
}

/* Every first byte other than the marker is a plain (older) value, read
 * unchanged, NUL-terminated; so is the empty value. */
static void every_legacy_first_byte_reads_unchanged(void **state)
{
        char in[4] = { 0, 'x', '\0', 'y' }, *out;
        size_t n;

        for (int b = 1; b < 256; b++) {
                in[0] = (char)b;
                assert_false(pack_is_packed(in, sizeof in));
                assert_int_equal(unpack(in, sizeof in, &out, &n), 0);
                assert_int_equal(n, sizeof in);
                assert_memory_equal(out, in, sizeof in);
                assert_int_equal(out[n], '\0');
                free(out);
        }
        assert_int_equal(unpack("", 0, &out, &n), 0);
        assert_int_equal(n, 0);
        assert_string_equal(out, "");
        free(out);
}

static int unpack_rc(const void *in, size_t len)
{
        char *out = NULL;
        size_t n;
        int r = unpack(in, len, &out, &n);

        assert_true(r == 0 ? out != NULL : out == NULL);
        free(out);
        return r;
}

/* Every prefix of a packed value, every single-byte corruption (the
 * CRC-32 catches what deflate cannot), a version this program does not
 * know, a length of too many digits and trailing bytes: an error, never a
 * crash, an overrun or another document. */
static void truncated_and_corrupt_values_fail(void **state)
{
        size_t len, plen;
        char *ctx = fixture("new_order.context.json", &len);
        uint8_t *packed, *bad;
        size_t caught = 0;

        assert_int_equal(pack(ctx, len, &packed, &plen), 0);
        for (size_t k = 1; k < plen; k++)
                assert_int_equal(unpack_rc(packed, k), -EINVAL);
        bad = malloc(plen + 1);
        assert_non_null(bad);
        for (size_t k = 2; k < plen; k++) {
                memcpy(bad, packed, plen);
                bad[k] ^= 0x5a;
                int r = unpack_rc(bad, plen);
                assert_true(r == -EINVAL || r == -E2BIG);
                caught += r != 0;
        }
        assert_int_equal(caught, plen - 2);
        memcpy(bad, packed, plen);
        bad[plen] = 'x';
        assert_int_equal(unpack_rc(bad, plen + 1), -EINVAL); /* trailing bytes */
        bad[1] = 2;
        assert_int_equal(unpack_rc(bad, plen), -EINVAL); /* a version yet to come */
        bad[1] = 0;
        assert_int_equal(unpack_rc(bad, plen), -EINVAL); /* no version 0 */
        assert_int_equal(unpack_rc("\0", 1), -EINVAL);
        assert_int_equal(unpack_rc("\0\1\x80\x80\x80\x80\x01", 7), -EINVAL); /* 5 digits */
        free(bad);
        free(packed);
        free(ctx);
}

/* Nothing over PACK_MAX is packed (it is stored plain and read back
 * whole), one that could not be stored plain either is refused, and a
 * packed value claiming more is refused before anything is allocated or
 * inflated. */
static void the_cap_holds(void **state)
{
        size_t len = PACK_MAX + 1;
        char *big = calloc(1, len);
        uint8_t *packed = (uint8_t *)"", claim[8] = { PACK_MARKER, PACK_VERSION };
        size_t n = 1;

        assert_non_null(big);
        assert_int_equal(pack(big, len, &packed, &n), -E2BIG); /* starts with the marker */
        assert_null(packed);
        assert_int_equal(n, 0);
        big[0] = '{';
        round_trip(big, len, false);              /* stored plain */
        assert_int_equal(unpack_rc(big, len), 0); /* and read whole */
        round_trip(big, PACK_MAX, true);          /* the cap itself is allowed */
        /* LEB128 of PACK_MAX + 1 = 2^24 + 1 */
        claim[2] = 0x81, claim[3] = 0x80, claim[4] = 0x80, claim[5] = 0x08, claim[6] = 0x03;
        assert_int_equal(unpack_rc(claim, 7), -E2BIG);
        free(big);
}

/* A value that starts with the marker cannot be stored plain: it is
 * packed even when that makes it longer, and reads back exactly. */
static void values_starting_with_the_marker_are_always_packed(void **state)
{
        static const char *const values[] = { "\0", "\0abc", "\0\0\0\0\0\0\0\0\0\0\0\0" };
        static const size_t lens[] = { 1, 4, 12 };

        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
                uint8_t *packed = NULL;
                size_t plen = 0, olen = 0;
                char *out = NULL;

                assert_int_equal(pack(values[i], lens[i], &packed, &plen), 0);
                assert_non_null(packed);
                assert_int_equal(unpack(packed, plen, &out, &olen), 0);
                assert_int_equal(olen, lens[i]);
                assert_memory_equal(out, values[i], lens[i]);
                free(out);
                free(packed);
        }
}

/* A packed value as the first version of this code wrote it
 * (test/fixtures/pack): its length, in *len. */
static uint8_t *stored_v1(const char *name, size_t *len)
{
        char rel[256];
        uint8_t *buf;

        snprintf(rel, sizeof rel, "pack/%s.v1.packed", name);
        buf = (uint8_t *)read_fixture(rel, len);
        assert_true(pack_is_packed(buf, *len));
        assert_int_equal(buf[1], 1);
        return buf;
}

/* The format does not move: values packed by the first version of this
 * code (a context, an e-mail, a Slack message) still unpack, the context
 * to the same document (each carries its CRC-32, so a changed dictionary
 * or header layout fails here, not in a user's store). */
static void a_stored_version_1_value_still_reads(void **state)
{
        static const char *const others[] = { "mail", "slack" };
        char *doc, *out = NULL;
        size_t dlen, plen, olen = 0;
        uint8_t *packed = stored_v1("context", &plen);

        doc = fixture_at("pack/context.json", &dlen);
        assert_int_equal(unpack(packed, plen, &out, &olen), 0);
        assert_int_equal(olen, dlen);
        assert_memory_equal(out, doc, dlen);
        free(out);
        free(doc);
        free(packed);
        for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
                packed = stored_v1(others[i], &plen);
                assert_int_equal(unpack(packed, plen, &out, &olen), 0);
                assert_true(olen > plen);
                free(out);
                free(packed);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(documents_round_trip_and_shrink),
                cmocka_unit_test(no_saving_no_packing),
                cmocka_unit_test(large_binary_round_trips),
                cmocka_unit_test(every_legacy_first_byte_reads_unchanged),
                cmocka_unit_test(truncated_and_corrupt_values_fail),
                cmocka_unit_test(the_cap_holds),
                cmocka_unit_test(values_starting_with_the_marker_are_always_packed),
                cmocka_unit_test(a_stored_version_1_value_still_reads),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
