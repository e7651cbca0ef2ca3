/* cppo-notify — logging to stderr (see include/cppo/log.h). */
#include "cppo/log.h"

#include "cppo/error.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Atomic: library threads (librdkafka) log while the main thread may
 * change the level on reload. */
static _Atomic int current_level = LOG_LEVEL_INFO;
static _Atomic int journal_mode = -1; /* -1: decide from the environment on first use */

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
        [LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
        current_level = level;
}

enum log_level log_get_level(void)
{
        return (enum log_level)current_level;
}

int log_level_parse(const char *name, enum log_level *out)
{
        for (int l = LOG_LEVEL_ERROR; l <= LOG_LEVEL_DEBUG; l++) {
                if (strcmp(name, level_names[l]) == 0) {
                        *out = (enum log_level)l;
                        return 0;
                }
        }
        return -EINVAL;
}

void log_set_journal(bool on)
{
        journal_mode = on ? 1 : 0;
}

/* Only the file name: meson passes paths relative to the build directory,
 * and "../src/" adds nothing a reader needs. */
static const char *short_file(const char *file)
{
        const char *slash = strrchr(file, '/');

        return slash ? slash + 1 : file;
}

/* The output of one log message, capped. */
struct line {
        char *p;
        size_t len, cap; /* cap includes the NUL */
};

static void put(struct line *l, const char *s, size_t n)
{
        size_t room = l->cap - 1 - l->len;

        if (n > room)
                n = room;
        memcpy(l->p + l->len, s, n);
        l->len += n;
        l->p[l->len] = '\0';
}

static char last(const struct line *l, size_t back)
{
        return l->len >= back ? l->p[l->len - back] : '\0';
}

/* logfmt needs quotes around a value that is empty or holds a space, '=',
 * '"', a backslash or a control byte; otherwise the value stands bare. */
static bool needs_quotes(const char *v, size_t n)
{
        if (n == 0)
                return true;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)v[i];
                if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f)
                        return true;
        }
        return false;
}

/* v escaped for the inside of a logfmt quoted value: \" \\ \n \r \t and
 * \xNN for other control bytes, so one value can never end early. */
static void put_escaped(struct line *l, const char *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)v[i];
                char e[5];

                if (c == '"' || c == '\\')
                        put(l, (const char[]){ '\\', (char)c }, 2);
                else if (c == '\n')
                        put(l, "\\n", 2);
                else if (c == '\r')
                        put(l, "\\r", 2);
                else if (c == '\t')
                        put(l, "\\t", 2);
                else if (c < 0x20 || c == 0x7f)
                        put(l, e, (size_t)snprintf(e, sizeof e, "\\x%02x", c));
                else
                        put(l, (const char *)&c, 1);
        }
}

/* A %s argument. After "key=" it is a logfmt value: quoted and escaped when
 * it must be; after key=" (a call site that quotes itself) escaped only.
 * Elsewhere it is free text, copied (control bytes are masked later). */
static void put_string(struct line *l, const char *v, int prec)
{
        size_t n;

        if (v == NULL)
                v = "(null)";
        n = prec >= 0 ? strnlen(v, (size_t)prec) : strlen(v);
        if (last(l, 1) == '"' && last(l, 2) == '=') {
                put_escaped(l, v, n);
        } else if (last(l, 1) == '=' && needs_quotes(v, n)) {
                put(l, "\"", 1);
                put_escaped(l, v, n);
                put(l, "\"", 1);
        } else {
                put(l, v, n);
        }
}

/* The argument of an integer conversion, widened. */
static long long signed_arg(const char *length, va_list *ap)
{
        if (!strcmp(length, "l"))
                return va_arg(*ap, long);
        if (!strcmp(length, "ll"))
                return va_arg(*ap, long long);
        if (!strcmp(length, "z") || !strcmp(length, "t"))
                return va_arg(*ap, ssize_t);
        if (!strcmp(length, "j"))
                return va_arg(*ap, intmax_t);
        return va_arg(*ap, int); /* also hh and h, promoted */
}

static unsigned long long unsigned_arg(const char *length, va_list *ap)
{
        if (!strcmp(length, "l"))
                return va_arg(*ap, unsigned long);
        if (!strcmp(length, "ll"))
                return va_arg(*ap, unsigned long long);
        if (!strcmp(length, "z") || !strcmp(length, "t"))
                return va_arg(*ap, size_t);
        if (!strcmp(length, "j"))
                return va_arg(*ap, uintmax_t);
        return va_arg(*ap, unsigned);
}

/* One conversion other than %s. Flags and width are not supported (no
 * message uses them; their arguments are still consumed). False for a
 * conversion this logger does not know. */
static bool put_other(struct line *l, const char *length, char conv, va_list *ap)
{
        char out[64];
        int n;

        if (conv == 'd' || conv == 'i')
                n = snprintf(out, sizeof out, "%lld", signed_arg(length, ap));
        else if (conv == 'u')
                n = snprintf(out, sizeof out, "%llu", unsigned_arg(length, ap));
        else if (conv == 'x')
                n = snprintf(out, sizeof out, "%llx", unsigned_arg(length, ap));
        else if (conv == 'c')
                n = snprintf(out, sizeof out, "%c", (char)va_arg(*ap, int));
        else if (conv == 'p')
                n = snprintf(out, sizeof out, "%p", va_arg(*ap, void *));
        else if (conv == 'f' || conv == 'g' || conv == 'e')
                n = snprintf(out, sizeof out, "%g", va_arg(*ap, double));
        else
                return false;
        if (n > 0)
                put(l, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
        return true;
}

/* One conversion specification after its '%': precision (for %s) and the
 * length modifier are read, the argument consumed and printed. Returns
 * where the format goes on, or NULL when the rest cannot be formatted. */
static const char *put_conversion(struct line *l, const char *fmt, va_list *ap)
{
        char length[3];
        int prec = -1;
        size_t n;

        fmt += strspn(fmt, "-+ #0");
        if (*fmt == '*') {
                (void)va_arg(*ap, int);
                fmt++;
        }
        fmt += strspn(fmt, "0123456789");
        if (*fmt == '.') {
                fmt++;
                if (*fmt == '*') {
                        prec = va_arg(*ap, int);
                        fmt++;
                } else {
                        prec = (int)strtol(fmt, NULL, 10);
                        fmt += strspn(fmt, "0123456789");
                }
        }
        n = strspn(fmt, "hlzjt");
        if (n > 2)
                return NULL;
        memcpy(length, fmt, n);
        length[n] = '\0';
        fmt += n;
        if (*fmt == 's')
                put_string(l, va_arg(*ap, const char *), prec);
        else if (*fmt == '\0' || !put_other(l, length, *fmt, ap))
                return NULL;
        return fmt + 1;
}

/* vsnprintf with logfmt quoting of "key=%s" values (event data such as an
 * offer id `x" key=forged` must stay one value). */
static void format_line(struct line *l, const char *fmt, va_list ap)
{
        va_list args;

        va_copy(args, ap);
        while (fmt && *fmt) {
                const char *pct = strchr(fmt, '%');

                if (pct == NULL) {
                        put(l, fmt, strlen(fmt));
                        break;
                }
                put(l, fmt, (size_t)(pct - fmt));
                if (pct[1] == '%') {
                        put(l, "%", 1);
                        fmt = pct + 2;
                } else {
                        fmt = put_conversion(l, pct + 1, &args);
                }
        }
        va_end(args);
}

void log_msg(enum log_level level, const char *file, int line, const char *fmt, ...)
{
        char msg[2048];
        struct line out = { msg, 0, sizeof msg };
        va_list ap;

        if ((int)level > current_level)
                return;
        if (journal_mode < 0)
                journal_mode = getenv("JOURNAL_STREAM") != NULL;
        msg[0] = '\0';
        va_start(ap, fmt);
        format_line(&out, fmt, ap);
        va_end(ap);
        /* Messages quote event data (ids, keys): a control byte in it must
         * not start a new log line or drive a terminal. */
        for (char *p = msg; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        /* One fprintf per line so concurrent threads do not interleave. */
        if (journal_mode)
                fprintf(stderr, "<%d>%s [%s:%d]\n", (int)level, msg, short_file(file), line);
        else
                fprintf(stderr, "%s: %s [%s:%d]\n", level_names[level], msg, short_file(file),
                        line);
}

enum log_level log_level_from_syslog(int syslog_level)
{
        if (syslog_level >= 0 && syslog_level <= LOG_LEVEL_ERROR)
                return LOG_LEVEL_ERROR; /* emerg, alert, crit, err */
        if (syslog_level > LOG_LEVEL_ERROR && syslog_level <= LOG_LEVEL_DEBUG)
                return (enum log_level)syslog_level;
        return LOG_LEVEL_DEBUG;
}

void log_library(int syslog_level, const char *what, const char *facility, const char *text,
                 const char *file, int line)
{
        enum log_level level = log_level_from_syslog(syslog_level);
        char fac[32];
        size_t i = 0;

        if (level > log_get_level())
                return;
        for (; facility && facility[i] && i + 1 < sizeof fac; i++) {
                char c = facility[i];
                bool word = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '_' || c == '-';
                fac[i] = word ? c : '?';
        }
        fac[i] = '\0';
        log_msg(level, file, line, "%s facility=%s message=%s", what, fac, text ? text : "");
}
