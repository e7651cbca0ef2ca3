/* Secrets: file-backed values that never reach a log line. */
#include "cppo/secret.h"

#include "cppo/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct secret {
        char *value;
        size_t len;
        char *source;
};

/* explicit_bzero keeps the compiler from dropping the wipe before free. */
static void wipe_free(char *p, size_t n)
{
        if (p == NULL)
                return;
        explicit_bzero(p, n);
        free(p);
}

static int secret_make(struct secret **out, const char *value, size_t len, const char *source)
{
        struct secret *s = calloc(1, sizeof(*s));
        if (s == NULL)
                return -ENOMEM;
        s->value = malloc(len + 1);
        if (s->value == NULL)
                goto fail;
        s->source = strdup(source);
        if (s->source == NULL)
                goto fail;
        memcpy(s->value, value, len);
        s->value[len] = '\0';
        s->len = len;
        *out = s;
        return 0;
fail:
        secret_free(s);
        return -ENOMEM;
}

int secret_new(struct secret **out, const char *value, size_t len)
{
        if (out == NULL || (value == NULL && len > 0) || (len > 0 && memchr(value, '\0', len)))
                return -EINVAL;
        if (len > SECRET_MAX)
                return -E2BIG;
        return secret_make(out, len > 0 ? value : "", len, "");
}

/* Reads up to SECRET_MAX bytes; one extra byte detects oversized files. */
static int read_capped(int fd, char *dst, size_t cap, size_t *got)
{
        size_t n = 0;
        while (n < cap) {
                ssize_t r = read(fd, dst + n, cap - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        *got = n;
        return 0;
}

static size_t strip_newline(const char *p, size_t n)
{
        if (n > 0 && p[n - 1] == '\n')
                n--;
        if (n > 0 && p[n - 1] == '\r')
                n--;
        return n;
}

int secret_load_file(struct secret **out, const char *path, char *err, size_t errlen)
{
        char tmp[SECRET_MAX + 1];
        size_t n = 0;
        int rc;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                rc = -errno;
                return error_set(err, errlen, rc, "cannot read secret file \"%s\": %s", path,
                                 strerror(-rc));
        }
        rc = read_capped(fd, tmp, sizeof(tmp), &n);
        close(fd);
        if (rc < 0) {
                error_set(err, errlen, rc, "cannot read secret file \"%s\": %s", path,
                          strerror(-rc));
                goto out;
        }
        if (n > SECRET_MAX) {
                rc = error_set(err, errlen, -E2BIG, "secret file \"%s\" is larger than %d bytes",
                               path, SECRET_MAX);
                goto out;
        }
        n = strip_newline(tmp, n);
        if (n == 0 || memchr(tmp, '\0', n) != NULL) {
                rc = error_set(err, errlen, -EINVAL, "secret file \"%s\" is empty or binary", path);
                goto out;
        }
        rc = secret_make(out, tmp, n, path);
        if (rc < 0)
                error_set(err, errlen, rc, "out of memory reading secret file \"%s\"", path);
out:
        explicit_bzero(tmp, sizeof(tmp));
        return rc;
}

const char *secret_value(const struct secret *s)
{
        return s != NULL ? s->value : NULL;
}

size_t secret_len(const struct secret *s)
{
        return s != NULL ? s->len : 0;
}

const char *secret_source(const struct secret *s)
{
        return s != NULL ? s->source : NULL;
}

void secret_free(struct secret *s)
{
        if (s == NULL)
                return;
        wipe_free(s->value, s->len + 1);
        free(s->source);
        free(s);
}
