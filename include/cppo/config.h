/* cppo-notify — configuration: the main YAML file plus the *.yaml files of rules.d.
 *
 * Every section is described by a table (key, type, default, range,
 * required); one generic walker applies it. Loading never stops at the
 * first problem: every error is collected with its file, 1-based line and
 * column, and the offending source line, and the config is refused when
 * there is any.
 *
 * Environment expansion: in scalar VALUES (never keys) "${NAME}" is
 * replaced by the variable's value; an unset variable is an error at that
 * value (only in the sections a program needs: see config_load_for); "$$"
 * is a literal "$"; any other "$" is kept as is.
 *
 * Secrets (smtp.password_file, the webhook_url_file of slack, webhook and
 * teams receivers, a webhook's secret_file) are read into struct secret
 * (cppo/secret.h); no error or summary prints their content.
 */
#ifndef CPPO_CONFIG_H
#define CPPO_CONFIG_H

#include "cppo/error.h"

#include "cppo/arena.h"
#include "cppo/secret.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <yajl/yajl_tree.h>

#define CONFIG_DEFAULT_PATH "/etc/cppo-notify/cppo-notify.yaml"
/* Largest config or rules file read, in bytes. */
#define CONFIG_MAX_FILE (1024 * 1024)
/* Errors kept per load; later ones are counted, not stored. */
#define CONFIG_MAX_ERRORS 200

struct config_error {
        const char *path;
        int line; /* 1-based; 0 when the error concerns the whole file */
        int col;  /* 1-based */
        const char *message;
        const char *source; /* the offending line, without newline; may be "" */
};

struct config_errors {
        struct config_error *items;
        size_t count;
        size_t dropped; /* errors beyond CONFIG_MAX_ERRORS */
        struct arena arena;
};

void config_errors_init(struct config_errors *e);
void config_errors_deinit(struct config_errors *e);
/* Records one error; source_text is the whole file (or NULL), from which
 * line `line` is copied. Returns 0 or -ENOMEM. */
CPPO_MUST_CHECK int config_errors_add(struct config_errors *e, const char *path, int line, int col,
                                      const char *source_text, size_t source_len, const char *fmt,
                                      ...) __attribute__((format(printf, 7, 8)));
/* Prints each error as "path:line:col: message", then the source line and
 * a caret under the column. */
void config_errors_print(const struct config_errors *e, FILE *f);

struct config_strlist {
        const char **items;
        size_t count;
};

struct config_strmap {
        const char **keys;
        const char **values;
        size_t count;
};

/* Template paths overriding the built-ins; NULL = built-in. */
struct config_templates {
        const char *subject, *text, *html, *slack, *file, *teams;
};

/* In the order of config_receiver_type_name()'s names. */
enum config_receiver_type {
        CONFIG_RECEIVER_EMAIL,
        CONFIG_RECEIVER_SLACK,
        CONFIG_RECEIVER_FILE,
        CONFIG_RECEIVER_WEBHOOK,
        CONFIG_RECEIVER_TEAMS,
};

/* Signing secrets a webhook receiver holds at most (rotation needs two). */
#define CONFIG_MAX_SIGNING_SECRETS 8

/* A webhook's signing secrets: each file holds one or more "whsec_<base64>"
 * lines (checked at load); every one signs every delivery. */
struct config_secrets {
        struct secret *items[CONFIG_MAX_SIGNING_SECRETS];
        size_t count;
};

struct config_receiver {
        const char *name;
        enum config_receiver_type type;
        const char *type_name;
        struct config_strlist to, cc, bcc;
        bool include_authorization_contacts;
        struct secret *webhook_url;    /* slack, webhook, teams */
        const char *ca_file;           /* slack, webhook, teams */
        const char *path;              /* file */
        struct config_secrets signing; /* webhook: secret_file */
        struct config_strmap headers;  /* webhook: sent with every POST (may hold credentials) */
        long timeout;                  /* seconds: one HTTP attempt (slack, webhook, teams) */
        long max_attempts;
        long max_age; /* seconds */
        long concurrency;
        long rate; /* messages per second; 0 = unlimited */
        struct config_templates templates;
        int line, col; /* of the receiver's mapping */
};

struct config_rule {
        const char *name;
        const char *file;
        yajl_val match; /* the match block, owned by the config */
        int match_line, match_col;
        struct config_strlist receivers;
        struct config_templates templates;
        bool cont; /* `continue` */
};

struct config {
        struct {
                const char *brokers;
                struct config_strlist topics;
                const char *group;
                struct config_strmap properties; /* may hold credentials: never log */
                const char *dead_letter_topic;   /* NULL = none */
                long max_message_bytes;
        } kafka;
        struct {
                const char *path; /* the SQLite file (default), or ... */
                /* ... a postgresql:// URL (NULL: none); never both */
                const char *url;
                struct secret *password; /* store.password_file; NULL: libpq's own */
                const char *synchronous; /* "full" | "normal" */
                long busy_timeout;       /* seconds another writer may hold the lock */
        } store;
        struct {
                const char *url; /* NULL when no email receiver needs it */
                const char *from;
                const char *username;
                struct secret *password;
                const char *starttls; /* "required" | "optional" | "never" */
                const char *ca_file;
                long timeout; /* seconds */
        } smtp;
        struct config_receiver *receivers;
        size_t receiver_count;
        struct {
                long offer_link_timeout; /* seconds */
        } holds;
        /* retention: how long the store keeps what ages out (seconds; 0:
         * "forever"), and how the daemon removes it: at most
         * `batch` rows per statement, a pass every `interval`. */
        struct {
                long ledger, bodies, attempts, rejected;
                long batch;
                long interval;
        } retention;
        bool notify_extended_after_acceptance;
        bool notify_direct_deals;
        struct {
                const char *listen;
                bool allow_non_loopback;
        } http;
        /* aws: the AWS Marketplace Catalog sync (doc/aws.md). Without the
         * section present is false and nothing talks to AWS. */
        struct {
                bool present;         /* an aws: section was given */
                bool enabled;         /* default true when the section exists */
                const char *region;   /* default us-east-1 */
                const char *endpoint; /* NULL: the Catalog API's own */
                const char *profile;  /* NULL: the credential chain's default */
                long sync_interval;   /* seconds, default 15m */
        } aws;
        /* ha: leader election on a PostgreSQL store (leader.h). */
        struct {
                const char *enabled; /* "auto" (on for a PostgreSQL store), "true", "false" */
                long takeover;       /* seconds a standby needs at most to take over */
                long poll;           /* seconds between a standby's tries for the lock */
        } ha;
        const char *rules_dir;
        const char *templates_dir;
        const char *log_level;
        struct config_rule *rules;
        size_t rule_count;
        struct arena arena; /* every string above lives here */
};

/* Loads path and its rules directory. Returns 0 with *out set, -EINVAL when
 * errs received at least one error (then *out is NULL), -ENOMEM. Same as
 * config_load_for(out, path, CONFIG_NEED_ALL, errs). */
CPPO_MUST_CHECK int config_load(struct config **out, const char *path, struct config_errors *errs);

/* What a program needs from the configuration. The daemon and `check` need
 * everything; the CLI's store commands need only CONFIG_NEED_STORE (store,
 * holds and the top-level correlation flags, always loaded), so an
 * operator can run them without the daemon's environment.
 *
 * In a section outside the mask: a value referring to an unset
 * environment variable is left unset (NULL, or the key's default) and not
 * reported; secret files are not read (the secret stays NULL). Without
 * CONFIG_NEED_ROUTING the rules directory is not read (rule_count 0).
 * Every other error (syntax, unknown keys, types, ranges) is still
 * reported, whatever the mask. */
enum config_need {
        CONFIG_NEED_STORE = 0, /* always loaded: store, holds, correlation flags */
        CONFIG_NEED_KAFKA = 1 << 0,
        CONFIG_NEED_SMTP = 1 << 1,
        CONFIG_NEED_HTTP = 1 << 2,
        CONFIG_NEED_ROUTING = 1 << 3, /* receivers, rules, templates_dir */
        /* what sending needs on top of routing: the receivers' addresses,
         * secrets, CA and file paths (replay routes history without them) */
        CONFIG_NEED_DELIVERY = 1 << 4,
        /* the aws section (the daemon, check, `aws` commands) */
        CONFIG_NEED_AWS = 1 << 5,
        CONFIG_NEED_ALL = (1 << 6) - 1,
};

/* config_load with only the sections in needs (a mask of enum config_need)
 * resolved fully. */
CPPO_MUST_CHECK int config_load_for(struct config **out, const char *path, unsigned needs,
                                    struct config_errors *errs);

/* Same, from a main file already in memory; `path` is used for messages
 * and to resolve relative paths. */
CPPO_MUST_CHECK int config_load_buffer(struct config **out, const char *path, const char *data,
                                       size_t len, struct config_errors *errs);

/* config_load_buffer with a needs mask, as config_load_for. */
CPPO_MUST_CHECK int config_load_buffer_for(struct config **out, const char *path, const char *data,
                                           size_t len, unsigned needs, struct config_errors *errs);

/* A receiver by name, or NULL. */
const struct config_receiver *config_receiver(const struct config *c, const char *name);

/* "email", "slack", "file", "webhook", "teams": the type as the config
 * writes it (and deliveries record it); "?" for none. */
const char *config_receiver_type_name(enum config_receiver_type t);

void config_free(struct config *c);

/* Reload: the keys a running daemon reads once at start (the field table's
 * restart flags: the kafka, store, http and aws sections) keep their
 * running values. Gives each of them in next the value it has in running,
 * copied into next's arena, and writes the names of those that differed
 * ("kafka.group,store.path"; "aws" when the section was added or removed)
 * into changed, comma-separated, cut short when changedlen is reached;
 * names only, never values (kafka.properties may hold credentials).
 * Returns 0 or -ENOMEM (next is then partly updated: free it). */
CPPO_MUST_CHECK int config_keep_restart_only(const struct config *running, struct config *next,
                                             char *changed, size_t changedlen);

/* Whether the AWS sync runs: an aws: section with enabled true. */
bool config_aws_sync(const struct config *c);

/* Whether leader election runs: ha.enabled true, or auto with store.url
 * (a SQLite file has one writer by its own lock: nothing to elect). */
bool config_ha_enabled(const struct config *c);

/* What store_open() opens: store.url when given, else store.path. */
const char *config_store_target(const struct config *c);

/* store.password_file's password for store_options.password, or NULL
 * (libpq's own PGPASSWORD, PGPASSFILE or service file). Never print it. */
const char *config_store_password(const struct config *c);

/* store.busy_timeout in milliseconds, as store_options wants it (capped at
 * a day, so that it fits an int). */
CPPO_MUST_CHECK int config_store_busy_ms(const struct config *c);

#endif
