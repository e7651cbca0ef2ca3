/* cppo-notify — logging to stderr (see include/cppo/log.h). */
#include "cppo/log.h"

#include "cppo/error.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Atomic: library threads (librdkafka) log while the main thread may
 * change the level on reload. */
static _Atomic int current_level = LOG_LEVEL_INFO;
static _Atomic int journal_mode = -1; /* -1: decide from the environment on first use */

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error",   [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_NOTICE] = "notice", [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
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

void log_msg(enum log_level level, const char *file, int line, const char *fmt, ...)
{
        char msg[2048];
        va_list ap;

        if ((int)level > current_level)
                return;
        if (journal_mode < 0)
                journal_mode = getenv("JOURNAL_STREAM") != NULL;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
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
                fprintf(stderr, "%s: %s [%s:%d]\n", level_names[level], msg, short_file(file), line);
}

enum log_level log_level_from_syslog(int syslog_level)
{
        if (syslog_level >= 0 && syslog_level <= LOG_LEVEL_ERROR)
                return LOG_LEVEL_ERROR; /* emerg, alert, crit, err */
        if (syslog_level > LOG_LEVEL_ERROR && syslog_level <= LOG_LEVEL_DEBUG)
                return (enum log_level)syslog_level;
        return LOG_LEVEL_DEBUG;
}

/* text with '"' and '\\' escaped, truncated to fit out (outsz > 0). */
static void quote_into(char *out, size_t outsz, const char *text)
{
        size_t o = 0;

        for (const char *p = text ? text : ""; *p && o + 2 < outsz; p++) {
                if (*p == '"' || *p == '\\')
                        out[o++] = '\\';
                out[o++] = *p;
        }
        out[o] = '\0';
}

void log_library(int syslog_level, const char *what, const char *facility, const char *text,
                 const char *file, int line)
{
        enum log_level level = log_level_from_syslog(syslog_level);
        char fac[32], msg[1536];
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
        quote_into(msg, sizeof msg, text);
        log_msg(level, file, line, "%s facility=%s message=\"%s\"", what, fac, msg);
}
