/* cppo-notify — the durable store.
 *
 * An interface (struct store_ops) with two implementations: SQLite
 * (src/store/store_sqlite*.c, the embedded default) and PostgreSQL
 * (src/store/store_pg*.c, for high availability), chosen by the target
 * store_open() is given. One writer (the daemon, or `cppo-notifyctl replay`) groups
 * everything a poll batch causes into one transaction:
 *
 *     store_begin(s);
 *     store_ledger_add(...) == 1 ? handle : skip;   the event was new
 *     store_reject(...);                            a rejected input, kept
 *     store_commit(s);                              then Kafka offsets
 *
 * Readers (the CLI) open the same database read-only and see committed data
 * while the writer works (SQLite WAL; PostgreSQL MVCC).
 */
#ifndef CPPO_STORE_H
#define CPPO_STORE_H

#include "cppo/error.h"

#include "cppo/delivery.h"
#include "cppo/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
/* Only pointers to these pass through (cppo/event.h, cppo/source.h): the
 * store does not depend on the ingest stage's headers. */
struct mp_coord;
struct raw_message;

/* High availability: the leader lock, a session-level advisory lock on
 * the key "cppo-ldr" as a big-endian BIGINT (the schema migrations use
 * "cppo-sch"). In pg_locks it shows as locktype 'advisory', classid
 * 1668313199, objid 762078322, objsubid 1: operators find the leader's
 * lock connection with
 *   SELECT pid FROM pg_locks WHERE locktype = 'advisory'
 *     AND classid = 1668313199 AND objid = 762078322 AND granted;
 * leader.h takes it; a fenced store checks it (store_fence()). */
#define LEADER_LOCK_KEY     "7165350629952218226"
#define LEADER_LOCK_CLASSID "1668313199"
#define LEADER_LOCK_OBJID   "762078322"

/* What a leader fences its store connections with (leader.h). */
struct store_fence_token {
        int64_t epoch; /* ha_leader's epoch this leadership set (> 0) */
        /* the server process holding the leader lock for it; 0: not
         * checked (the epoch alone); < 0: unknown, every fenced statement
         * refuses */
        int lock_pid;
};

struct store_options {
        bool read_only;          /* CLI readers */
        bool synchronous_normal; /* SQLite; default FULL: a commit survives power loss */
        int busy_timeout_ms;     /* default 5000 (PostgreSQL: its lock_timeout) */
        /* PostgreSQL: the password (NULL: libpq's own PGPASSWORD, PGPASSFILE
         * or service file); never part of any message. */
        const char *password;
        /* PostgreSQL: fences every commit and delivery claim with this
         * token (see store_fence()); zero: no fence. */
        struct store_fence_token fence;
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
        /* `cppo-notifyctl rejected requeue`: NULL when never requeued, else
         * "pending" (in the inbox), "accepted" or "rejected" (requeue_error
         * says why); the inbox entry and when (seconds) */
        const char *requeue_outcome;
        const char *requeue_error;
        int64_t requeue_inbox_id;
        int64_t requeued_at;
};

/* A pending inbox entry (a CLI command for the writer); valid during the
 * callback only. */
struct store_inbox_entry {
        int64_t id;
        const char *payload; /* an EventBridge-shaped JSON event */
        int64_t created_at;
};

/* A receiver's health as the dispatcher last recorded it. */
struct store_receiver_health {
        const char *receiver;
        bool up;                /* healthy */
        int64_t since_ms;       /* wall clock of the last change of `up` */
        int64_t failures;       /* consecutive receiver-level failures */
        const char *last_error; /* the last receiver-level failure, no secret; may be NULL */
        int64_t updated_at_ms;
};

/* One receiver for the `receivers` view; valid during the callback only. */
struct store_receiver {
        struct store_receiver_health health; /* all zero but the name when ... */
        bool known;                          /* ... no health was recorded */
        int64_t counts[4];                   /* deliveries per enum delivery_status */
};

/* Callbacks for store_load(); records are valid during the call only. */
struct store_load_cb {
        int (*authorization)(void *ctx, const struct authorization *a);
        int (*offer)(void *ctx, const struct offer *o);
        int (*agreement)(void *ctx, const struct agreement *g);
        int (*hold)(void *ctx, const struct hold *h);
        int (*notification_key)(void *ctx, const char *key);
};

/* A change set a Change Set Succeeded asked the AWS sync to describe;
 * valid during the callback only. */
struct store_aws_refresh {
        int64_t id;
        const char *change_set_id;
};

/* What looking up a held offer with AWS found (aws_lookup_offer):
 * outcome "found" (authorization_id set), "not_visible" (403, 404, or an
 * offer without one: detail says which). */
struct store_aws_lookup {
        const char *offer_id;
        const char *outcome;
        const char *authorization_id;
        const char *detail;
        int64_t checked_at;
};

/* Authorizations by where they come from: index (aws) + 2 * (registered);
 * 0 only from agreement events. */
enum store_aws_source {
        STORE_AWS_SOURCE_EVENT = 0,
        STORE_AWS_SOURCE_AWS = 1,
        STORE_AWS_SOURCE_REGISTERED = 2,
        STORE_AWS_SOURCE_BOTH = 3,
        STORE_AWS_SOURCES = 4,
};

/* What retention removes with age (store_prune). Everything dedupe and
 * correlation need stays: notifications, the CPPO records, holds, link
 * history, and each delivery's row, key and status (a replayed stream is
 * matched by its records and its notifications' keys; the ledger only
 * saves that work for recent duplicates). */
enum store_prune {
        STORE_PRUNE_LEDGER,      /* ledger entries processed before the cutoff */
        STORE_PRUNE_BODIES,      /* bodies of deliveries sent or backfilled before it */
        STORE_PRUNE_ATTEMPTS,    /* attempts made before it on deliveries sent, dead or
                                    backfilled */
        STORE_PRUNE_REJECTED,    /* rejected inputs received before it */
        STORE_PRUNE_INBOX,       /* inbox entries consumed before it */
        STORE_PRUNE_AWS_REFRESH, /* AWS change sets described before it */
        STORE_PRUNE_N
};

/* "ledger", "bodies", "attempts", "rejected", "inbox", "aws_refresh"; NULL
 * past the end. */
const char *store_prune_name(enum store_prune k);

/* One table with its indexes. */
struct store_table_stat {
        const char *table;
        int64_t rows;
        int64_t bytes; /* on disk, indexes included; -1 when the database cannot tell */
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
        /* CLI queries and inbox */
        int (*inbox_add)(struct store *s, const char *payload, int64_t now, int64_t *id);
        int (*inbox_pending)(struct store *s, int64_t *out);
        int (*inbox_take)(struct store *s, int64_t limit, int64_t now,
                          int (*fn)(void *ctx, const struct store_inbox_entry *e), void *ctx);
        int (*list_authorizations)(struct store *s,
                                   int (*fn)(void *ctx, const struct authorization *a), void *ctx);
        int (*get_authorization)(struct store *s, const char *id, struct authorization *out);
        int (*list_offers)(struct store *s, const char *authorization_id,
                           int (*fn)(void *ctx, const struct offer *o), void *ctx);
        int (*list_holds)(struct store *s, int (*fn)(void *ctx, const struct hold *h), void *ctx);
        int (*get_offer)(struct store *s, const char *id, struct offer *out);
        int (*list_agreements)(struct store *s, const char *authorization_id,
                               int (*fn)(void *ctx, const struct agreement *g), void *ctx);
        int (*schema_version)(struct store *s, int *out);
        int (*apply)(struct store *s, const struct changeset *c, struct strlist *new_keys);
        int (*load)(struct store *s, const struct store_load_cb *cb, void *ctx);
        /* deliveries */
        int (*notifications_unrouted)(struct store *s, int64_t limit,
                                      int (*fn)(void *ctx, const struct notification *n),
                                      void *ctx);
        int (*notification_routed)(struct store *s, const char *notification_key, bool routed);
        int (*delivery_add)(struct store *s, const struct delivery *d);
        int (*delivery_due)(struct store *s, const char *receiver, int64_t now_ms, int64_t limit,
                            int (*fn)(void *ctx, const struct delivery *d), void *ctx);
        int (*delivery_claim)(struct store *s, const char *key, int64_t now_ms);
        int (*delivery_finish)(struct store *s, const struct delivery_attempt *a,
                               enum delivery_status status, int64_t next_at_ms);
        int (*delivery_requeue_inflight)(struct store *s, int64_t now_ms);
        int (*delivery_list)(struct store *s, bool failed_only, int64_t limit,
                             int (*fn)(void *ctx, const struct delivery *d), void *ctx);
        int (*delivery_attempts)(struct store *s, const char *key,
                                 int (*fn)(void *ctx, const struct delivery_attempt *a), void *ctx);
        int (*delivery_retry)(struct store *s, const char *key, int64_t now_ms);
        int (*delivery_counts)(struct store *s, const char *receiver, int64_t out[4]);
        int (*delivery_get)(struct store *s, const char *key, struct delivery *out);
        int (*notifications_unmatched)(struct store *s, int64_t limit,
                                       int (*fn)(void *ctx, const struct notification *n),
                                       void *ctx);
        /* history (replay) and requeued rejected inputs */
        int (*notification_backfill)(struct store *s, const char *notification_key);
        int (*notifications_backfill_pending)(struct store *s, int64_t limit,
                                              int (*fn)(void *ctx, const struct notification *n),
                                              void *ctx);
        int (*get_rejected)(struct store *s, int64_t id,
                            int (*fn)(void *ctx, const struct store_rejected *r), void *ctx);
        int (*rejected_requeue)(struct store *s, int64_t id, int64_t inbox_id, int64_t now);
        int (*rejected_requeue_of)(struct store *s, int64_t inbox_id, int64_t *id);
        int (*rejected_settle)(struct store *s, int64_t id, const char *error);
        int (*list_link_changes)(struct store *s, const char *offer_id,
                                 int (*fn)(void *ctx, const struct link_change *l), void *ctx);
        /* receiver health */
        int (*delivery_defer)(struct store *s, const struct delivery_attempt *a,
                              int64_t next_at_ms);
        int (*receiver_health_put)(struct store *s, const struct store_receiver_health *h,
                                   bool replace);
        int (*receiver_list)(struct store *s, int (*fn)(void *ctx, const struct store_receiver *r),
                             void *ctx);
        /* health */
        void (*last_error)(struct store *s, char *buf, size_t len);
        int (*verify)(struct store *s, char *err, size_t errlen);
        int (*integrity)(struct store *s, char *err, size_t errlen);
        /* AWS sync */
        int (*aws_get)(struct store *s, const char *key, char *buf, size_t len);
        int (*aws_put)(struct store *s, const char *key, const char *value, int64_t now);
        int (*aws_refresh_pending)(struct store *s, int64_t limit,
                                   int (*fn)(void *ctx, const struct store_aws_refresh *e),
                                   void *ctx);
        int (*aws_refresh_done)(struct store *s, int64_t id, const char *outcome, int64_t now);
        int (*aws_holds_to_check)(struct store *s, int64_t checked_before, int64_t limit,
                                  int (*fn)(void *ctx, const char *offer_id), void *ctx);
        int (*aws_lookup_put)(struct store *s, const struct store_aws_lookup *l);
        int (*aws_lookup_get)(struct store *s, const char *offer_id,
                              int (*fn)(void *ctx, const struct store_aws_lookup *l), void *ctx);
        int (*aws_source_counts)(struct store *s, int64_t out[STORE_AWS_SOURCES]);
        /* high availability */
        int (*fence)(struct store *s, const struct store_fence_token *t);
        /* retention */
        int (*prune)(struct store *s, enum store_prune k, int64_t cutoff, int64_t limit,
                     int64_t *removed);
        int (*prune_count)(struct store *s, enum store_prune k, int64_t cutoff, int64_t *out);
        int (*reclaim)(struct store *s, int64_t max_pages, int64_t *freed);
        int (*compact)(struct store *s);
        int (*table_stats)(struct store *s, int (*fn)(void *ctx, const struct store_table_stat *t),
                           void *ctx);
};

/* Every implementation starts with this. */
struct store {
        const struct store_ops *ops;
};

/* The SQLite implementation (src/store/store_sqlite.c, one file per group
 * of tables beside it) and the PostgreSQL one (src/store/store_pg.c, the
 * same split); store_open() chooses. o must not be NULL. */
CPPO_MUST_CHECK int store_sqlite_open(struct store **out, const char *path,
                                      const struct store_options *o, char *err, size_t errlen);
CPPO_MUST_CHECK int store_pg_open(struct store **out, const char *url,
                                  const struct store_options *o, char *err, size_t errlen);

/* Whether target names a PostgreSQL database (postgresql:// or
 * postgres://) rather than an SQLite file. */
bool store_target_is_pg(const char *target);

/* target as it may be printed: a URL's password (user:PASSWORD@ and a
 * password=... parameter) replaced by "***"; a path unchanged. Truncated
 * to len. Every message and log line naming a store target uses it. */
void store_target_redact(const char *target, char *buf, size_t len);

/* Opens target: a postgresql:// or postgres:// URL opens PostgreSQL
 * (libpq; the schema is created or migrated when writable), anything else
 * the SQLite database at that path (created and migrated when writable).
 * o may be NULL (defaults). Errors name the target without its password
 * and give the database's reason. */
CPPO_MUST_CHECK int store_open(struct store **out, const char *target,
                               const struct store_options *o, char *err, size_t errlen);
void store_close(struct store *s);

/* Store errors (every function here): -EBADMSG the database is damaged
 * (stop; it needs recovery, see store_integrity), -EBUSY another writer held
 * the lock past the busy timeout (PostgreSQL: also a serialization failure
 * or deadlock), -ENOSPC the disk is full, -EROFS it cannot be written (a
 * PostgreSQL server in recovery or read-only), -ESTALE the file was removed
 * or replaced, -ENOLCK (store_commit() on a fenced PostgreSQL store) this
 * instance is no longer the leader, -EIO anything else (a lost PostgreSQL
 * connection included). store_last_error() has the database's own words
 * for the log. */

/* Fences s with a leader's token (high availability, PostgreSQL): from now
 * on store_commit() and every delivery claim first check, in the same
 * statement, that the ha_leader row still holds t->epoch and (t->lock_pid
 * > 0) that the leader lock is still granted to server process
 * t->lock_pid; otherwise the commit rolls back, the claim changes nothing,
 * and both return -ENOLCK ("leadership lost: ..."). The second check
 * closes the gap between the lock's loss and a standby's epoch bump: a
 * leader whose lock connection ended cannot commit or claim even before
 * anybody took over. NULL or epoch 0 lifts the fence. SQLite: 0, nothing
 * is fenced. */
CPPO_MUST_CHECK int store_fence(struct store *s, const struct store_fence_token *t);

/* The database's own message for the last failure on s, with its code
 * ("database is locked (sqlite 5)"); "" when there was none. */
void store_last_error(struct store *s, char *buf, size_t len);

/* Whether s is still the database at its configured path and writable:
 * 0, -ESTALE (deleted or replaced while open) or -EROFS, with the reason in
 * err. PostgreSQL: the connection is alive (-EIO) and the server accepts
 * writes (-EROFS in recovery or read-only) unless s was opened read-only.
 * The daemon calls it after each commit, before it stores Kafka
 * offsets: work written to an unlinked file is lost at exit, so its
 * offsets must never be committed. */
CPPO_MUST_CHECK int store_verify(struct store *s, char *err, size_t errlen);

/* A full consistency check of the file (SQLite: PRAGMA quick_check, which
 * reads every page once; PostgreSQL, which checks its own pages: a cheap
 * check that the schema version is one this program knows): 0, or -EBADMSG
 * with the first problem in err. */
CPPO_MUST_CHECK int store_integrity(struct store *s, char *err, size_t errlen);

CPPO_MUST_CHECK int store_begin(struct store *s);
CPPO_MUST_CHECK int store_commit(struct store *s);
CPPO_MUST_CHECK int store_rollback(struct store *s);

/* Records an event key in the ledger. 1: new (recorded); 0: already there
 * (a duplicate, also within the open transaction); negative: error. */
CPPO_MUST_CHECK int store_ledger_add(struct store *s, const char *event_key,
                                     const struct mp_coord *c, int64_t now);

/* Keeps a rejected input: its raw bytes exactly, reason, message,
 * coordinates and receive time. */
CPPO_MUST_CHECK int store_reject(struct store *s, const struct raw_message *m, const char *reason,
                                 const char *message);

/* Rows in one of the store's tables ("ledger", "rejected", ...). */
CPPO_MUST_CHECK int store_count(struct store *s, const char *table, int64_t *out);

/* Rejected inputs, newest first, at most limit (<= 0: all). */
CPPO_MUST_CHECK int store_list_rejected(struct store *s, int64_t limit,
                                        int (*fn)(void *ctx, const struct store_rejected *r),
                                        void *ctx);

CPPO_MUST_CHECK int store_schema_version(struct store *s, int *out);

/* Writes what one correlate step (or batch) decided: records inserted or
 * replaced, released holds deleted, notifications inserted unless their key
 * exists. The keys of notifications really inserted are appended to
 * new_keys (may be NULL). Inside the open transaction. */
CPPO_MUST_CHECK int store_apply(struct store *s, const struct changeset *c,
                                struct strlist *new_keys);

/* Streams every stored record and notification key back, for rebuilding
 * the correlation state at start-up. */
CPPO_MUST_CHECK int store_load(struct store *s, const struct store_load_cb *cb, void *ctx);

/* ---- CLI queries and inbox ----
 *
 * The CLI never writes CPPO records itself: `authorization add`,
 * `associate` and friends put an event in the inbox, and the one writer
 * (the daemon, or the CLI's own pipeline with --apply) feeds it through the
 * same path as a Kafka message, in its batch transaction. The queries read
 * committed data and work on a read-only store. */

/* Queues payload (a JSON event). *id (may be NULL) receives its inbox id.
 * Its own transaction unless one is open. 0 or -EIO. */
CPPO_MUST_CHECK int store_inbox_add(struct store *s, const char *payload, int64_t now, int64_t *id);

/* Number of entries not yet consumed. */
CPPO_MUST_CHECK int store_inbox_pending(struct store *s, int64_t *out);

/* Hands each pending entry, oldest first, at most limit (<= 0: all), to fn,
 * then marks every entry handed over consumed at now. Call inside the open
 * batch transaction so an entry is consumed exactly when what it caused
 * commits. Returns the number taken, fn's negative return, or -EIO. */
CPPO_MUST_CHECK int store_inbox_take(struct store *s, int64_t limit, int64_t now,
                                     int (*fn)(void *ctx, const struct store_inbox_entry *e),
                                     void *ctx);

/* Every authorization, most recently changed first. */
CPPO_MUST_CHECK int store_list_authorizations(struct store *s,
                                              int (*fn)(void *ctx, const struct authorization *a),
                                              void *ctx);

/* Fills *out (cleared first; authorization_clear() it after). 0, -ENOENT,
 * -ENOMEM or -EIO. */
CPPO_MUST_CHECK int store_get_authorization(struct store *s, const char *id,
                                            struct authorization *out);

/* Offers linked to authorization_id, by id. */
CPPO_MUST_CHECK int store_list_offers(struct store *s, const char *authorization_id,
                                      int (*fn)(void *ctx, const struct offer *o), void *ctx);

/* Held offers (partner offers not linked yet), oldest first. */
CPPO_MUST_CHECK int store_list_holds(struct store *s, int (*fn)(void *ctx, const struct hold *h),
                                     void *ctx);

/* Fills *out (cleared first; offer_clear() it after). 0, -ENOENT, -ENOMEM
 * or -EIO. */
CPPO_MUST_CHECK int store_get_offer(struct store *s, const char *id, struct offer *out);

/* Agreements of authorization_id, oldest acceptance first. */
CPPO_MUST_CHECK int store_list_agreements(struct store *s, const char *authorization_id,
                                          int (*fn)(void *ctx, const struct agreement *g),
                                          void *ctx);

/* ---- Deliveries (delivery.h). Each call outside an open transaction is
 * its own transaction; the dispatcher uses its own connection. ---- */

/* Notifications not yet routed (routed = 0), oldest first, at most limit
 * (capped at 1024 per call). Records are valid during the call only. All
 * rows are read before the first fn call, so fn may write to the store
 * (mark routed, add deliveries); the same holds for store_delivery_due. */
CPPO_MUST_CHECK int store_notifications_unrouted(struct store *s, int64_t limit,
                                                 int (*fn)(void *ctx, const struct notification *n),
                                                 void *ctx);

/* Marks a notification routed (deliveries created) or unrouted (no rule
 * matched: kept, counted, listed by `deliveries --unrouted`).
 * -ENOENT when no notification has that key. */
CPPO_MUST_CHECK int store_notification_routed(struct store *s, const char *notification_key,
                                              bool routed);

/* Inserts a delivery unless its key exists. 1 inserted, 0 already there. */
CPPO_MUST_CHECK int store_delivery_add(struct store *s, const struct delivery *d);

/* QUEUED deliveries due at now_ms (next_at_ms <= now_ms), oldest due first,
 * at most limit (capped at 1024 per call); receiver NULL for all receivers. */
CPPO_MUST_CHECK int store_delivery_due(struct store *s, const char *receiver, int64_t now_ms,
                                       int64_t limit,
                                       int (*fn)(void *ctx, const struct delivery *d), void *ctx);

/* QUEUED -> SENDING. 1 claimed, 0 not queued any more (another instance
 * may have claimed it). On a fenced PostgreSQL store (store_fence()) the
 * claim holds only while ha_leader holds the epoch: -ENOLCK, nothing
 * changed, once it does not. */
CPPO_MUST_CHECK int store_delivery_claim(struct store *s, const char *key, int64_t now_ms);

/* Records attempt a and sets the delivery's new state: status, attempts + 1,
 * next_at_ms (for QUEUED), last_code, last_error (= a->error), updated_at_ms
 * (= a->at_ms), atomically. -ENOENT when no delivery has a->delivery_key. */
CPPO_MUST_CHECK int store_delivery_finish(struct store *s, const struct delivery_attempt *a,
                                          enum delivery_status status, int64_t next_at_ms);

/* At start-up: every SENDING delivery back to QUEUED, due now. Returns the
 * number requeued (>= 0). On a fenced PostgreSQL store only those claimed
 * under an older epoch (-ENOLCK when the epoch is no longer current). */
CPPO_MUST_CHECK int store_delivery_requeue_inflight(struct store *s, int64_t now_ms);

/* Deliveries, newest first, at most limit; only DEAD ones when failed_only. */
CPPO_MUST_CHECK int store_delivery_list(struct store *s, bool failed_only, int64_t limit,
                                        int (*fn)(void *ctx, const struct delivery *d), void *ctx);

/* A delivery's attempts, oldest first. */
CPPO_MUST_CHECK int store_delivery_attempts(struct store *s, const char *key,
                                            int (*fn)(void *ctx, const struct delivery_attempt *a),
                                            void *ctx);

/* DEAD -> QUEUED, due now, for key (NULL: every DEAD delivery). Returns the
 * number re-queued (>= 0); -ENOENT when key names no DEAD delivery. The
 * attempts counter restarts at 0 so the dispatcher grants a fresh budget;
 * the attempts table keeps the whole history. */
CPPO_MUST_CHECK int store_delivery_retry(struct store *s, const char *key, int64_t now_ms);

/* Count of deliveries per status for receiver (NULL: all). */
CPPO_MUST_CHECK int store_delivery_counts(struct store *s, const char *receiver, int64_t out[4]);

/* One delivery by key into *out (replaced; the caller delivery_clear()s it).
 * -ENOENT when no delivery has that key. */
CPPO_MUST_CHECK int store_delivery_get(struct store *s, const char *key, struct delivery *out);

/* Notifications no rule matched (marked unrouted), newest first, at most
 * limit (<= 0: all); fn must not write to the store. */
CPPO_MUST_CHECK int store_notifications_unmatched(
    struct store *s, int64_t limit, int (*fn)(void *ctx, const struct notification *n), void *ctx);

/* store_count() also knows "deliveries", "attempts", "unrouted"
 * (notifications no rule matched) and "backfilled" (deliveries recorded
 * from history, never sent). */

/* ---- History: notifications recorded, not announced ----
 *
 * `cppo-notifyctl replay` (without --notify) marks the notifications it
 * inserts as history in the same transaction, so no router ever queues
 * them; whoever routes them next (the replay itself with a configuration,
 * or the daemon) creates their deliveries as DELIVERY_BACKFILLED. */

/* Marks a notification not routed yet (one the open batch inserted) as
 * history. 0, -ENOENT when no unrouted notification has that key, -EIO. */
CPPO_MUST_CHECK int store_notification_backfill(struct store *s, const char *notification_key);

/* Notifications marked as history and not routed yet, oldest first; as
 * store_notifications_unrouted (capped, fn may write; routing one with
 * store_notification_routed() takes it off this list). */
CPPO_MUST_CHECK int store_notifications_backfill_pending(
    struct store *s, int64_t limit, int (*fn)(void *ctx, const struct notification *n), void *ctx);

/* ---- Requeued rejected inputs (`cppo-notifyctl rejected requeue`) ----
 *
 * The CLI writes the raw bytes of a rejected input to the inbox and records
 * the inbox entry on the rejected row (outcome "pending"); the writer that
 * takes that entry (pipeline_drain_inbox) settles the row in the same
 * transaction. The row is never deleted. */

/* Rejected input id to fn (valid during the call). -ENOENT, -EIO, or fn's
 * return. */
CPPO_MUST_CHECK int store_get_rejected(struct store *s, int64_t id,
                                       int (*fn)(void *ctx, const struct store_rejected *r),
                                       void *ctx);

/* Records that input id is fed again as inbox entry inbox_id at now
 * (seconds): outcome "pending". -ENOENT when there is no such row. */
CPPO_MUST_CHECK int store_rejected_requeue(struct store *s, int64_t id, int64_t inbox_id,
                                           int64_t now);

/* *id = the rejected input that inbox entry inbox_id feeds again (outcome
 * still "pending"), or 0 when the entry is no requeue. 0 or -EIO. */
CPPO_MUST_CHECK int store_rejected_requeue_of(struct store *s, int64_t inbox_id, int64_t *id);

/* Settles a requeue: "accepted" when error is NULL, else "rejected" with
 * error (one line: why). -ENOENT when there is no such row. */
CPPO_MUST_CHECK int store_rejected_settle(struct store *s, int64_t id, const char *error);
/* An offer's link history (struct link_change), oldest first; records are
 * valid during the call only. 0, fn's negative return, or -EIO (also for a
 * scan that failed part-way: never a short history). */
CPPO_MUST_CHECK int store_list_link_changes(struct store *s, const char *offer_id,
                                            int (*fn)(void *ctx, const struct link_change *l),
                                            void *ctx);

/* ---- Receiver health (dispatch.h: receiver faults). ---- */

/* Records attempt a (its outcome "deferred") for a QUEUED-again delivery
 * without counting it against max_attempts: status QUEUED, next_at_ms,
 * last_code, last_error, updated_at_ms set, attempts unchanged. So the
 * attempts column counts the attempts that used the budget; the attempts
 * table keeps every attempt. -ENOENT when no delivery has that key. */
CPPO_MUST_CHECK int store_delivery_defer(struct store *s, const struct delivery_attempt *a,
                                         int64_t next_at_ms);

/* Writes h for h->receiver; with replace false only when the receiver has
 * no health recorded yet (the dispatcher names every configured receiver at
 * start, so the view lists them before their first delivery). */
CPPO_MUST_CHECK int store_receiver_health_put(struct store *s,
                                              const struct store_receiver_health *h, bool replace);

/* Every receiver with a recorded health or a delivery, by name, with its
 * health and delivery counts. fn must not write to the store. */
CPPO_MUST_CHECK int store_receiver_list(struct store *s,
                                        int (*fn)(void *ctx, const struct store_receiver *r),
                                        void *ctx);

/* ---- AWS sync (doc/aws.md). The sync thread uses its own connection;
 * what it learns about CPPO records enters through the inbox, only its own
 * bookkeeping is written here directly. ---- */

/* The sync's own state by key ("last_sync": ISO-8601 start of the last
 * successful sync). 0, -ENOENT, -E2BIG (buf too small) or a store error. */
CPPO_MUST_CHECK int store_aws_get(struct store *s, const char *key, char *buf, size_t len);
CPPO_MUST_CHECK int store_aws_put(struct store *s, const char *key, const char *value, int64_t now);
/* Change sets still to describe, oldest first, at most limit (capped at
 * 1024); all rows are read before fn is called, so fn may write. */
CPPO_MUST_CHECK int store_aws_refresh_pending(struct store *s, int64_t limit,
                                              int (*fn)(void *ctx,
                                                        const struct store_aws_refresh *e),
                                              void *ctx);
/* Marks one done with its outcome ("refreshed N", "failed: ..."). */
CPPO_MUST_CHECK int store_aws_refresh_done(struct store *s, int64_t id, const char *outcome,
                                           int64_t now);
/* Held offers never looked up with AWS, or last looked up before
 * checked_before (a sweep), oldest hold first, at most limit (capped at
 * 1024); read before fn is called. */
CPPO_MUST_CHECK int store_aws_holds_to_check(struct store *s, int64_t checked_before, int64_t limit,
                                             int (*fn)(void *ctx, const char *offer_id), void *ctx);
/* Remembers a lookup's outcome (replacing the previous one). */
CPPO_MUST_CHECK int store_aws_lookup_put(struct store *s, const struct store_aws_lookup *l);
/* The remembered outcome for offer_id through fn; -ENOENT when never looked up. */
CPPO_MUST_CHECK int store_aws_lookup_get(struct store *s, const char *offer_id,
                                         int (*fn)(void *ctx, const struct store_aws_lookup *l),
                                         void *ctx);
/* Authorizations per enum store_aws_source. */
CPPO_MUST_CHECK int store_aws_source_counts(struct store *s, int64_t out[STORE_AWS_SOURCES]);

/* ---- retention: what ages out, in small batches (the daemon, and
 * `cppo-notifyctl store prune`) ---- */

/* Removes at most limit (1..10000) rows of kind k older than cutoff (Unix
 * seconds; the deliveries' millisecond times are compared at that second)
 * in one statement: inside the caller's transaction, or on its own. A
 * batch holds the write lock only as long as that statement, so a daemon
 * pruning a big backlog never stalls its writers for long. *removed: the
 * rows removed (fewer than limit: nothing older is left). A body is
 * removed by emptying it; the delivery row stays. On a fenced PostgreSQL
 * store (store_fence()) a batch outside a transaction gets one of its
 * own, whose commit checks the fence: -ENOLCK and nothing removed once
 * this instance no longer leads. */
CPPO_MUST_CHECK int store_prune(struct store *s, enum store_prune k, int64_t cutoff, int64_t limit,
                                int64_t *removed);
/* How many rows store_prune would remove for this cutoff, all batches. */
CPPO_MUST_CHECK int store_prune_count(struct store *s, enum store_prune k, int64_t cutoff,
                                      int64_t *out);
/* Gives at most max_pages free pages back to the file system (SQLite:
 * incremental vacuum; PostgreSQL's autovacuum does this itself: 0).
 * *freed: pages released. Outside a transaction. */
CPPO_MUST_CHECK int store_reclaim(struct store *s, int64_t max_pages, int64_t *freed);
/* Rewrites the whole store once, compact, and (SQLite) turns on the
 * incremental vacuum store_reclaim needs: a store created before it keeps
 * its free pages until then. Holds the write lock throughout: run it with
 * the daemon stopped. PostgreSQL: a plain VACUUM of every table. */
CPPO_MUST_CHECK int store_compact(struct store *s);
/* Each table with its rows and bytes, largest first, through fn (which
 * must not write to s); then a last call with table "(free)" for the bytes
 * of pages the file holds unused (rows 0; -1 on PostgreSQL). */
CPPO_MUST_CHECK int store_table_stats(struct store *s,
                                      int (*fn)(void *ctx, const struct store_table_stat *t),
                                      void *ctx);

#endif
