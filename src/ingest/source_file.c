/* cppo-notify — JSON-lines source (see include/cppo/source_file.h). */
#include "cppo/clock.h"
#include "cppo/source_file.h"

#include "cppo/buf.h"
#include "cppo/error.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Reads one line into b (without its newline). Returns 1 for a line, 0 at
 * the end of input; *truncated says the line was longer than b's cap, and
 * *size is then the whole line's length (the rest is skipped). */
static int read_line(FILE *f, struct buf *b, int *truncated, size_t *size)
{
        int c, any = 0;

        buf_reset(b);
        *truncated = 0;
        *size = 0;
        while ((c = getc(f)) != EOF) {
                any = 1;
                if (c == '\n')
                        break;
                if (*size < SIZE_MAX)
                        ++*size;
                if (buf_putc(b, (char)c) < 0)
                        *truncated = 1; /* over the cap: skip the rest */
        }
        return any;
}

static int is_blank(const struct buf *b)
{
        for (size_t i = 0; i < b->len; i++)
                if (b->data[i] != ' ' && b->data[i] != '\t' && b->data[i] != '\r')
                        return 0;
        return 1;
}

int source_file_run(const char *path, size_t max_line, source_handler_fn fn, void *ctx, char *err,
                    size_t errlen)
{
        FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
        struct buf line = BUF_INIT(max_line);
        struct raw_message m = { .coord = { path, -1, 0 } };
        int r = 0, truncated;

        if (f == NULL)
                return error_set(err, errlen, -errno, "cannot open '%s': %s", path,
                                 strerror(errno));
        while (r == 0 && read_line(f, &line, &truncated, &m.size)) {
                m.coord.offset++;
                if (!truncated && is_blank(&line))
                        continue;
                m.data = buf_cstr(&line);
                m.len = line.len;
                m.truncated = truncated;
                m.received_at = clock_wall_s();
                r = fn(ctx, &m);
        }
        if (r == 0 && ferror(f))
                r = error_set(err, errlen, -EIO, "cannot read '%s'", path);
        if (f != stdin)
                fclose(f);
        buf_deinit(&line);
        return r;
}
