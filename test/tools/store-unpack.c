/* Reads stored notification contexts or delivery payloads as hex, one a
 * line on stdin (SQLite's hex(), or PostgreSQL's bytea text "\x..."), and
 * writes the document each holds (pack.h: packed values unpacked, plain
 * ones as they are) and a newline to stdout, so that tests reading the
 * store with SQL see documents. Exit 1 on anything else. */
#include "cppo/pack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static int nibble(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* One line of n hex digits (an optional "\x" first) decoded in place and
 * written as its document. 0 or -1. */
static int one(char *h, size_t n)
{
        unsigned char *raw = (unsigned char *)h;
        size_t len = 0, doc_len;
        char *doc;
        int ok;

        if (n >= 2 && h[0] == '\\' && h[1] == 'x')
                h += 2, n -= 2;
        if (n % 2 != 0)
                return -1;
        for (size_t i = 0; i < n; i += 2) {
                int a = nibble(h[i]), b = nibble(h[i + 1]);
                if (a < 0 || b < 0)
                        return -1;
                raw[len++] = (unsigned char)(a << 4 | b);
        }
        if (unpack(raw, len, &doc, &doc_len) != 0)
                return -1;
        ok = fwrite(doc, 1, doc_len, stdout) == doc_len && putchar('\n') != EOF;
        free(doc);
        return ok ? 0 : -1;
}

int main(void)
{
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        int rc = 0;

        while (rc == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                        n--;
                rc = (size_t)n > 2 * PACK_MAX + 16 ? -1 : one(line, (size_t)n);
        }
        free(line);
        return rc == 0 ? 0 : 1;
}
