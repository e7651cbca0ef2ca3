/* cppo-notify — the file channel: one JSON line per delivery appended to
 * a file (or a FIFO), synced, never torn (see channel_internal.h and, for
 * the outcome table, dispatch.h). The worker appends one line after the
 * other, a batch of them in hand; the same path fails for every line, so
 * any failure is the receiver's. */
#include "channel_internal.h"
#include "cppo/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_BATCH      64    /* deliveries handed to the worker per turn */
#define FILE_TIMEOUT_MS 30000 /* one append, fsync included, where it can be bounded */

/* ---- settings (dispatcher thread) ---- */

static int file_settings(const struct config *cfg, const struct config_receiver *rc,
                         struct dw_job *j)
{
        (void)cfg;
        j->timeout_ms = FILE_TIMEOUT_MS;
        return channel_dup(&j->path, rc->path);
}

/* ---- the append (worker thread) ---- */

/* Waits until fd takes more bytes or the deadline passes. */
static int wait_writable(int fd, int64_t deadline_ms)
{
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int64_t left = deadline_ms - clock_mono_ms();
        int n;

        if (left <= 0)
                return -ETIMEDOUT;
        n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        return 0; /* ready, or the deadline is checked again */
}

static int write_all(int fd, const char *p, size_t n, int64_t deadline_ms, size_t *written)
{
        int r = 0;

        while (r == 0 && *written < n) {
                ssize_t w = write(fd, p + *written, n - *written);
                if (w > 0)
                        *written += (size_t)w;
                else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        r = wait_writable(fd, deadline_ms);
                else if (w < 0 && errno != EINTR)
                        r = -errno;
        }
        return r;
}

/* A FIFO without a reader fails at once (ENXIO); O_NONBLOCK stays on so a
 * full pipe waits in poll() with a deadline, not in write(). A regular file
 * on a hung mount can still block in write() or fsync(): only the worker's
 * thread waits then. After a failure the file is cut back to its size
 * before this line (the file is this daemon's alone), so a full disk never
 * leaves half a line for the next one to be appended to. */
int channel_file_append(const char *path, const char *payload, size_t n, int timeout_ms)
{
        int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
        struct stat st;
        size_t written = 0;
        char *line;
        int r;

        if (fd < 0)
                return -errno;
        line = malloc(n + 1);
        if (line == NULL || fstat(fd, &st) < 0) {
                r = line == NULL ? -ENOMEM : -errno;
                goto out;
        }
        memcpy(line, payload, n);
        line[n] = '\n';
        r = write_all(fd, line, n + 1, deadline, &written);
        if (r == 0 && fsync(fd) < 0 && errno != EINVAL) /* EINVAL: a pipe or device */
                r = -errno;
        if (r < 0 && written > 0 && S_ISREG(st.st_mode))
                (void)ftruncate(fd, st.st_size); /* best effort: r says what failed */
out:
        if (close(fd) < 0 && r == 0)
                r = -errno;
        free(line);
        return r;
}

static void file_run(struct dw_job *j)
{
        j->result = channel_file_append(j->path, j->dl.payload, j->dl.payload_len,
                                        (int)j->timeout_ms);
}

/* ---- the outcome (dispatcher thread) ---- */

static enum dispatch_verdict file_classify(int result, long code)
{
        (void)code;
        return result == 0 ? DISPATCH_SENT : DISPATCH_RECEIVER;
}

static void file_outcome(const struct dw_job *j, struct outcome *o)
{
        if (j->result < 0)
                outcome_set(o, channel_outcome_kind(file_classify(j->result, 0)), 0, "file: %s",
                            strerror(-j->result));
        else
                o->kind = OUT_SENT;
}

const struct channel channel_file = {
        .type = CONFIG_RECEIVER_FILE,
        .settings = file_settings,
        .batch = FILE_BATCH,
        .run = file_run,
        .classify = file_classify,
        .outcome = file_outcome,
        .render = &render_file,
};
