/* cppo-notify — logging.
 *
 * One line per message to stderr. Levels are syslog priorities so journald
 * can read them: when stderr is the journal (JOURNAL_STREAM is set) or
 * log_set_journal(true) was called, each line starts with "<N>" and
 * journald files it at that priority; otherwise a word ("error: ") is
 * printed for people. The call site is appended as "[file:line]".
 *
 * Safe from any thread (librdkafka calls its log callback from its own).
 *
 * Messages follow key=value (logfmt) style for events of note
 * ("event rejected reason=invalid_json topic=mp partition=0 offset=12")
 * and must never contain a secret: callers pass redacted values. A %s
 * right after "key=" is a logfmt value: quoted ("a b", "") and escaped
 * (\" \\ \n \xNN) when it must be, so event data such as an offer id
 * `x" key=forged` stays one value; after key=" (a call site that quotes
 * itself) it is escaped only. Other control characters in a message are
 * printed as '?', so one call is always one line. The format supports %s
 * (with precision), the integer conversions d i u x with their length
 * modifiers, c, p, and f/e/g (printed as %g); flags and widths are
 * ignored.
 */
#ifndef CPPO_LOG_H
#define CPPO_LOG_H

#include "cppo/error.h"

#include <stdbool.h>

enum log_level {
        LOG_LEVEL_ERROR = 3,
        LOG_LEVEL_WARNING = 4,
        LOG_LEVEL_NOTICE = 5,
        LOG_LEVEL_INFO = 6,
        LOG_LEVEL_DEBUG = 7,
};

/* Messages above this level are dropped. Default: LOG_LEVEL_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "error", "warning", "notice", "info" or "debug". Returns 0 or
 * -EINVAL. */
CPPO_MUST_CHECK int log_level_parse(const char *name, enum log_level *out);

/* Forces (or disables) the "<N>" journald priority prefix. */
void log_set_journal(bool on);

void log_msg(enum log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One line from a library's own logger (librdkafka's log_cb): its syslog
 * level (0..7) mapped to ours, printed as
 *   WHAT facility=FACILITY message="TEXT"      (WHAT e.g. "kafka log")
 * with '"' and '\' in TEXT escaped and the facility reduced to
 * [A-Za-z0-9_-]. file and line name the callback that forwarded it. */
void log_library(int syslog_level, const char *what, const char *facility, const char *text,
                 const char *file, int line);

/* The project's level for a syslog level (0..7; out of range: debug). */
enum log_level log_level_from_syslog(int syslog_level);

#define log_error(...)  log_msg(LOG_LEVEL_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LEVEL_WARNING, __FILE__, __LINE__, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LEVEL_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_LEVEL_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

#endif
