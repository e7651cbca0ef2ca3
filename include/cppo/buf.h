/* cppo-notify — bounded growable byte buffer.
 *
 * A buf holds `len` bytes at `data`, always followed by a NUL byte once
 * anything was appended, so text can be used as a C string. It grows on
 * demand up to `max` bytes of content; an append that would pass `max`
 * fails with -E2BIG and leaves the buffer as it was, as does -ENOMEM.
 * Embedded by value: buf_init()/buf_deinit(); BUF_INIT(max) for static
 * initialisation.
 */
#ifndef CPPO_BUF_H
#define CPPO_BUF_H

#include "cppo/error.h"

#include <stdarg.h>
#include <stddef.h>

struct buf {
        char *data; /* NULL until the first append */
        size_t len; /* bytes of content, excluding the trailing NUL */
        size_t cap; /* bytes allocated */
        size_t max; /* content cap */
};

#define BUF_INIT(maxbytes)                                                                         \
        {                                                                                          \
                NULL, 0, 0, (maxbytes)                                                             \
        }

void buf_init(struct buf *b, size_t max);
void buf_deinit(struct buf *b);

/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Makes room for `extra` more bytes of content. 0, -ENOMEM or -E2BIG. */
CPPO_MUST_CHECK int buf_reserve(struct buf *b, size_t extra);

CPPO_MUST_CHECK int buf_append(struct buf *b, const void *p, size_t n);
CPPO_MUST_CHECK int buf_puts(struct buf *b, const char *s);
CPPO_MUST_CHECK int buf_putc(struct buf *b, char c);
CPPO_MUST_CHECK int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
CPPO_MUST_CHECK int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The content as a C string; "" when nothing was appended. */
const char *buf_cstr(const struct buf *b);

/* Hands the allocation to the caller (free() it) and empties the buffer.
 * Returns NULL when the buffer never allocated. */
char *buf_steal(struct buf *b);

#endif
