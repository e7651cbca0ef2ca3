/* cppo-notify — base64 (RFC 4648 §4, the standard alphabet with "="
 * padding), for webhook signatures and their whsec_ secrets. */
#ifndef CPPO_BASE64_H
#define CPPO_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters base64_encode writes for n bytes, without the NUL. */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Writes the encoding of n bytes and a NUL: out holds BASE64_LEN(n) + 1. */
void base64_encode(const uint8_t *in, size_t n, char *out);

/* Decodes len characters of s into out (at most max bytes); padding may
 * be left off, nothing else (no whitespace, no URL alphabet). The number of
 * bytes, or -EINVAL (not base64) or -E2BIG (more than max). */
long base64_decode(const char *s, size_t len, uint8_t *out, size_t max);

#endif
