/* cppo-notify — the durable store.
 *
 * An interface (struct store_ops) so that a PostgreSQL implementation can
 * follow the SQLite one (store_sqlite.c) without touching callers. One
 * writer (the daemon, or `cppo-notifyctl replay`) groups everything a poll
 * batch causes into one transaction:
 *
 *     store_begin(s);
 *     store_ledger_add(...) == 1 ? handle : skip;   the event was new
 *     store_reject(...);                            a rejected input, kept
 *     store_commit(s);                              then Kafka offsets
 *
 * Readers (the CLI) open the same database read-only and see committed data
 * while the writer works (SQLite WAL).
 */
#ifndef CPPO_STORE_H
#define CPPO_STORE_H

#include "cppo/model.h"
#include "cppo/source.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_options {
        bool read_only;            /* CLI readers */
        bool synchronous_normal;   /* default FULL: a commit survives power loss */
        int busy_timeout_ms;       /* default 5000 */
};

/* A rejected input as stored. Strings and raw bytes are valid during the
 * callback only. */
struct store_rejected {
        int64_t id;
        const char *reason;
        const char *message;
        const char *origin;
        int32_t partition;
        int64_t offset;
        int64_t received_at;
        const void *raw;
        size_t raw_len;
        bool truncated;
};

/* Callbacks for store_load(); records are valid during the call only. */
struct store_load_cb {
        int (*authorization)(void *ctx, const struct authorization *a);
        int (*offer)(void *ctx, const struct offer *o);
        int (*agreement)(void *ctx, const struct agreement *g);
        int (*hold)(void *ctx, const struct hold *h);
        int (*notification_key)(void *ctx, const char *key);
};

struct store_ops {
        const char *name;
        void (*close)(struct store *s);
        int (*begin)(struct store *s);
        int (*commit)(struct store *s);
        int (*rollback)(struct store *s);
        int (*ledger_add)(struct store *s, const char *event_key, const struct mp_coord *c,
                          int64_t now);
        int (*reject)(struct store *s, const struct raw_message *m, const char *reason,
                      const char *message);
        int (*count)(struct store *s, const char *table, int64_t *out);
        int (*list_rejected)(struct store *s, int64_t limit,
                             int (*fn)(void *ctx, const struct store_rejected *r), void *ctx);
        int (*schema_version)(struct store *s, int *out);
        int (*apply)(struct store *s, const struct changeset *c, struct strlist *new_keys);
        int (*load)(struct store *s, const struct store_load_cb *cb, void *ctx);
};

/* Every implementation starts with this. */
struct store {
        const struct store_ops *ops;
};

/* The SQLite implementation (store_sqlite.c); store_open() uses it. */
int store_sqlite_open(struct store **out, const char *path, const struct store_options *o,
                      char *err, size_t errlen);

/* Opens (creating and migrating when writable) the SQLite database at path.
 * Errors name the path and SQLite's reason. */
int store_open(struct store **out, const char *path, const struct store_options *o, char *err,
               size_t errlen);
void store_close(struct store *s);

int store_begin(struct store *s);
int store_commit(struct store *s);
int store_rollback(struct store *s);

/* Records an event key in the ledger. 1: new (recorded); 0: already there
 * (a duplicate, also within the open transaction); negative: error. */
int store_ledger_add(struct store *s, const char *event_key, const struct mp_coord *c,
                     int64_t now);

/* Keeps a rejected input: its raw bytes exactly, reason, message,
 * coordinates and receive time. */
int store_reject(struct store *s, const struct raw_message *m, const char *reason,
                 const char *message);

/* Rows in one of the store's tables ("ledger", "rejected", ...). */
int store_count(struct store *s, const char *table, int64_t *out);

/* Rejected inputs, newest first, at most limit (<= 0: all). */
int store_list_rejected(struct store *s, int64_t limit,
                        int (*fn)(void *ctx, const struct store_rejected *r), void *ctx);

int store_schema_version(struct store *s, int *out);

/* Writes what one correlate step (or batch) decided: records inserted or
 * replaced, released holds deleted, notifications inserted unless their key
 * exists. The keys of notifications really inserted are appended to
 * new_keys (may be NULL). Inside the open transaction. */
int store_apply(struct store *s, const struct changeset *c, struct strlist *new_keys);

/* Streams every stored record and notification key back, for rebuilding
 * the correlation state at start-up. */
int store_load(struct store *s, const struct store_load_cb *cb, void *ctx);

#endif
