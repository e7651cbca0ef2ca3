/* cppo-notify — UTF-8 (RFC 3629), the one scanner every stage uses: the
 * decoder's input check, header and template sanitizing, the pattern
 * matcher's case folding and the renderer's length limits.
 *
 * "Well-formed" is RFC 3629's: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing past U+10FFFF. Nothing here allocates or
 * fails; every function reads at most the bytes it is given. */
#ifndef CPPO_UTF8_H
#define CPPO_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1..4) of the well-formed character at s, reading at most n
 * bytes, with its code point in *cp when cp is not NULL; 0 when the bytes
 * at s do not form one (or n is 0). */
size_t utf8_char(const void *s, size_t n, uint32_t *cp);

/* The offset of the first byte of s[0..len) that does not start a
 * well-formed character, or len when all of it is UTF-8. */
size_t utf8_valid_prefix(const void *s, size_t len);

/* The characters in the NUL-terminated s, counted by their lead bytes (so
 * exact for UTF-8; a stray byte counts as one). */
size_t utf8_count(const char *s);

/* Writes cp (at most U+10FFFF, not a surrogate) into out; returns its
 * length (1..4), or 0 for a value that is not a character. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* The length (3) of a bidirectional embedding, override or isolate
 * control (U+202A..U+202E, U+2066..U+2069) at s, reading at most n bytes;
 * else 0. Values shown on one line drop them: they could reorder what a
 * reader sees after them. */
size_t utf8_bidi_len(const void *s, size_t n);

/* Whether byte c continues a character rather than starting one. */
static inline int utf8_is_continuation(unsigned char c)
{
        return (c & 0xc0) == 0x80;
}

#endif
