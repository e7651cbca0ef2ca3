/* cppo-notify — configuration (YAML, libyaml).
 *
 * One main file; each section is described by a table (key, type, default,
 * range, required), so unknown keys, duplicate keys, wrong types,
 * out-of-range values and missing required keys are all reported the same
 * way, as `path:line:col: message` followed by the offending source line
 * and a caret. Loading reports every error, not just the first.
 *
 * `${NAME}` in a value (never in a key) is replaced by the environment
 * variable NAME; an unset variable is an error; `$$` is a literal `$`.
 *
 * Durations are a number with a unit: "90s", "30m", "72h", "3d".
 */
#ifndef CPPO_CONFIG_H
#define CPPO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config_kafka {
        char *brokers;
        char **topics;
        size_t n_topics;
        char *group;                /* default "cppo-notify" */
        char **properties;          /* name, value pairs, in file order */
        size_t n_properties;
        char *dead_letter_topic;    /* NULL: off */
        int64_t max_message_bytes;  /* default 1 MiB */
};

struct config {
        char *path;
        struct config_kafka kafka;
        char *store_path;           /* store.path */
        bool store_synchronous_normal; /* store.synchronous: full (default) | normal */
        int64_t offer_link_timeout; /* holds.offer_link_timeout, seconds (72h) */
        bool notify_extended_after_acceptance;
        bool notify_direct_deals;
        char *http_listen;          /* http.listen, default 127.0.0.1:9466 */
        char *log_level;            /* default "info" */
};

struct config_error {
        char *file;
        int line, col; /* 1-based */
        char *message;
        char *source_line; /* the offending line, or NULL */
};

struct config_errors {
        struct config_error *v;
        size_t n;
};

/* Loads path. On any error returns -EINVAL with every problem in errs (the
 * caller frees them with config_errors_clear); *out is set only on success. */
int config_load(struct config **out, const char *path, struct config_errors *errs);
void config_free(struct config *c);

void config_errors_clear(struct config_errors *errs);
/* Writes each error as "path:line:col: message", the source line and a
 * caret under the column. */
void config_errors_print(const struct config_errors *errs, FILE *out);

/* "90s" → 90 ... 0 or -EINVAL. */
int config_parse_duration(const char *s, int64_t *out);

#endif
