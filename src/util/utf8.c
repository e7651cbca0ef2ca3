/* cppo-notify — UTF-8 scanning (see include/cppo/utf8.h). */
#include "cppo/utf8.h"

#include <string.h>

/* Per lead byte: the character's length and the bits of the lead byte
 * that carry its value; 0 for bytes no well-formed character starts with
 * (continuations, C0/C1 overlong leads, F5..FF). */
static size_t lead_len(unsigned char c, uint32_t *bits)
{
        if (c < 0x80) {
                *bits = c;
                return 1;
        }
        if (c >= 0xc2 && c <= 0xdf) {
                *bits = c & 0x1fu;
                return 2;
        }
        if (c >= 0xe0 && c <= 0xef) {
                *bits = c & 0x0fu;
                return 3;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                *bits = c & 0x07u;
                return 4;
        }
        return 0;
}

size_t utf8_char(const void *s, size_t n, uint32_t *cp)
{
        /* the smallest value each length may carry: below it is overlong */
        static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
        const unsigned char *u = s;
        uint32_t v = 0;
        size_t len = n > 0 ? lead_len(u[0], &v) : 0;

        if (len == 0 || len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if (!utf8_is_continuation(u[i]))
                        return 0;
                v = v << 6 | (u[i] & 0x3fu);
        }
        if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
                return 0;
        if (cp != NULL)
                *cp = v;
        return len;
}

size_t utf8_valid_prefix(const void *s, size_t len)
{
        const unsigned char *u = s;
        size_t i = 0;

        while (i < len) {
                uint64_t word;
                size_t n;

                /* event bodies are mostly ASCII: 8 bytes at a time */
                if (len - i >= 8 &&
                    (memcpy(&word, u + i, 8), (word & 0x8080808080808080ull) == 0)) {
                        i += 8;
                        continue;
                }
                n = utf8_char(u + i, len - i, NULL);
                if (n == 0)
                        return i;
                i += n;
        }
        return len;
}

size_t utf8_count(const char *s)
{
        size_t n = 0;

        for (; *s != '\0'; s++)
                n += !utf8_is_continuation((unsigned char)*s);
        return n;
}

size_t utf8_encode(uint32_t cp, char out[4])
{
        if (cp < 0x80) {
                out[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char)(0xc0 | cp >> 6);
                out[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp >= 0xd800 && cp <= 0xdfff)
                return 0;
        if (cp < 0x10000) {
                out[0] = (char)(0xe0 | cp >> 12);
                out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
                out[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        if (cp > 0x10ffff)
                return 0;
        out[0] = (char)(0xf0 | cp >> 18);
        out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

size_t utf8_bidi_len(const void *s, size_t n)
{
        const unsigned char *u = s;

        if (n < 3 || u[0] != 0xe2)
                return 0;
        if (u[1] == 0x80 && u[2] >= 0xaa && u[2] <= 0xae)
                return 3;
        return u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9 ? 3 : 0;
}
