/* cppo-notify — base64, written from RFC 4648 §4. */
#include "cppo/base64.h"

#include <errno.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const uint8_t *in, size_t n, char *out)
{
        size_t o = 0;

        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16;
                size_t left = n - i;

                if (left > 1)
                        v |= (uint32_t)in[i + 1] << 8;
                if (left > 2)
                        v |= in[i + 2];
                out[o++] = alphabet[(v >> 18) & 63];
                out[o++] = alphabet[(v >> 12) & 63];
                out[o++] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
                out[o++] = left > 2 ? alphabet[v & 63] : '=';
        }
        out[o] = '\0';
}

static int sextet(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long base64_decode(const char *s, size_t len, uint8_t *out, size_t max)
{
        uint32_t acc = 0;
        size_t n = 0, bits = 0, full = len;

        /* at most two "=", only at the end, and only where a group ends */
        for (int pad = 0; pad < 2 && len > 0 && s[len - 1] == '='; pad++)
                len--;
        if (len % 4 == 1 || (full != len && full % 4 != 0))
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                int v = sextet(s[i]);

                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (n == max)
                                return -E2BIG;
                        out[n++] = (uint8_t)(acc >> bits);
                }
        }
        /* the bits left over must be zero (a canonical encoding) */
        if ((acc & ((1u << bits) - 1)) != 0)
                return -EINVAL;
        return (long)n;
}
