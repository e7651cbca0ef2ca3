/* cppo-notify — JSON-lines source (see include/cppo/source_file.h). */
#include "cppo/clock.h"
#include "cppo/source_file.h"

#include "cppo/buf.h"
#include "cppo/error.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Lines are cut out of blocks read with read(2) (what is there, never
 * waiting for a full block, so a pipe is handled line by line as it
 * arrives). A getc() per byte into the line cost more than decoding and
 * storing the line (callgrind: 38 % of a replay's instructions). */
#define BLOCK_BYTES 65536

struct reader {
        int fd;
        int error; /* errno of a failed read, else 0 */
        size_t pos, end;
        char block[BLOCK_BYTES];
};

/* 1 when unread bytes wait in the block, 0 at the end of input or on an
 * error (rd->error). */
static int fill(struct reader *rd)
{
        ssize_t n;

        if (rd->pos < rd->end)
                return 1;
        rd->pos = rd->end = 0;
        do
                n = read(rd->fd, rd->block, sizeof rd->block);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                rd->error = errno;
        rd->end = n > 0 ? (size_t)n : 0;
        return n > 0;
}

/* Reads one line into b (without its newline). Returns 1 for a line, 0 at
 * the end of input; *truncated says the line was longer than b's cap, and
 * *size is then the whole line's length (the rest is skipped). */
static int read_line(struct reader *rd, struct buf *b, int *truncated, size_t *size)
{
        int any = 0;

        buf_reset(b);
        *truncated = 0;
        *size = 0;
        while (fill(rd)) {
                const char *start = rd->block + rd->pos;
                const char *nl = memchr(start, '\n', rd->end - rd->pos);
                size_t n = nl ? (size_t)(nl - start) : rd->end - rd->pos;
                size_t room = b->max > b->len ? b->max - b->len : 0;
                size_t take = n < room ? n : room;

                any = 1;
                rd->pos += n + (nl != NULL);
                *size = n > SIZE_MAX - *size ? SIZE_MAX : *size + n;
                if ((take && buf_append(b, start, take) < 0) || take < n)
                        *truncated = 1; /* over the cap: skip the rest */
                if (nl)
                        break;
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
        bool is_stdin = strcmp(path, "-") == 0;
        struct buf line = BUF_INIT(max_line);
        struct raw_message m = { .coord = { path, -1, 0 } };
        int r = 0, truncated;
        struct reader *rd = malloc(sizeof *rd);

        if (rd == NULL)
                return -ENOMEM;
        rd->error = 0;
        rd->pos = rd->end = 0;
        rd->fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
        if (rd->fd < 0) {
                r = error_set(err, errlen, -errno, "cannot open '%s': %s", path, strerror(errno));
                free(rd);
                return r;
        }
        while (r == 0 && read_line(rd, &line, &truncated, &m.size)) {
                m.coord.offset++;
                if (!truncated && is_blank(&line))
                        continue;
                m.data = buf_cstr(&line);
                m.len = line.len;
                m.truncated = truncated;
                m.received_at = clock_wall_s();
                r = fn(ctx, &m);
        }
        if (r == 0 && rd->error)
                r = error_set(err, errlen, -EIO, "cannot read '%s'", path);
        if (!is_stdin)
                (void)close(rd->fd); /* read only: nothing to lose */
        free(rd);
        buf_deinit(&line);
        return r;
}
