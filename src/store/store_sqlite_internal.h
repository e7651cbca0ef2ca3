/* cppo-notify — the SQLite store's private interface, shared by its files.
 *
 * store_sqlite.c opens the connection and holds the ops table; each other
 * store_sqlite_<group>.c implements the operations of one group of tables
 * (schema, ledger, rejected, inbox, records, deliveries, aws). Only these
 * files include this header.
 */
#ifndef CPPO_STORE_SQLITE_INTERNAL_H
#define CPPO_STORE_SQLITE_INTERNAL_H

#include "cppo/store.h"
#include "store_internal.h"

#include "cppo/error.h"
#include "cppo/raw_message.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* The dispatcher's hot statements, prepared on first use (a read-only
 * CLI may open a database older than the deliveries tables). */
enum { DL_DUE, DL_CLAIM, DL_FINISH, DL_ATTEMPT, DL_N };
/* The statements store_apply() runs for every record of every batch: one
 * put per record table (store_sqlite_records.c), then the hold delete; and
 * the mark a replay sets on each notification it inserts. */
enum put_sql {
        PUT_AUTHORIZATION,
        PUT_OFFER,
        PUT_AGREEMENT,
        PUT_HOLD,
        PUT_NOTIFICATION,
        PUT_LINK_CHANGE,
        DEL_HOLD,
        BACKFILL_NOTIFICATION,
        N_PUT_SQL
};

struct store_sqlite {
        struct store base; /* first: a struct store * is a struct store_sqlite * */
        sqlite3 *db;
        sqlite3_stmt *ledger_insert;
        sqlite3_stmt *reject_insert;
        sqlite3_stmt *dl[DL_N];
        /* prepared on first use and kept: parsing them anew for each record
         * cost more than running them */
        sqlite3_stmt *put[N_PUT_SQL];
        /* The file this connection opened, held open to see it unlinked
         * (link count 0) or replaced (path now names another inode): the
         * daemon must not store Kafka offsets for work written there. */
        char *path;
        int watch_fd;
        dev_t dev;
        ino_t ino;
};

/* Rows handed to a callback that may write (the dispatcher claims what
 * store_delivery_due returns, the router marks what it routed) are read
 * first, so no read statement is open while it writes; at most this many. */
#define BATCH_MAX 1024

/* ---- shared helpers (store_sqlite.c) ---- */

/* err: what failed, SQLite's words, and for damage what to do. code is
 * the caller's default; a damaged file is -EBADMSG whatever it says. */
CPPO_MUST_CHECK int sqlite_db_error(struct store_sqlite *s, int code, char *err, size_t errlen,
                                    const char *what);
/* An SQLite result code as this project's error (see store_sqlite.c). */
CPPO_MUST_CHECK int sqlite_code(int rc);
/* Runs SQL text without results (pragmas, transactions, migrations). */
CPPO_MUST_CHECK int sqlite_exec(struct store_sqlite *s, const char *sql);
/* The single integer a SELECT COUNT(*) ... returns. 0 or -EIO. */
CPPO_MUST_CHECK int sqlite_count_sql(struct store_sqlite *s, const char *sql, int64_t *out);
/* Binds text values as ?1.., then ints after them, and runs st once
 * (step_done()): the strings need only live during the call. */
CPPO_MUST_CHECK int sqlite_bind_run(sqlite3_stmt *st, const char *const *text, int n_text,
                                    const int64_t *ints, int n_ints);
/* The same for a statement prepared, run once and finalized (CLI
 * commands, rare updates). */
CPPO_MUST_CHECK int sqlite_run_stmt(struct store_sqlite *s, const char *sql,
                                    const char *const *text, int n_text, const int64_t *ints,
                                    int n_ints);
/* ---- records by their field tables (store_sqlite_fields.c) ---- */

/* "<verb> INTO <table> (<columns>) VALUES (?, ...) <tail>" into buf
 * (SQL_MAX bytes), the columns in the order of rec's fields. 0 or -E2BIG.
 * (The SELECT is store_select_sql(), store_internal.h.) */
CPPO_MUST_CHECK int sqlite_insert_sql(const struct record_type *rec, const char *verb,
                                      const char *table, const char *tail, char *buf);
/* Binds every field of rec as ?1.. in field order. Strings and bytes are
 * bound SQLITE_STATIC: rec must outlive the step (step_done() clears the
 * bindings). On failure the bindings are cleared: -ENOMEM, or what
 * sqlite_code() makes of a refused binding. */
CPPO_MUST_CHECK int sqlite_bind_record(sqlite3_stmt *st, const struct record_type *t,
                                       const void *rec);
/* The current row of a statement built by store_select_sql() into rec
 * (zeroed; the caller clears it whatever this returns). 0, -ENOMEM, or
 * -EIO for a value this program never writes. */
CPPO_MUST_CHECK int sqlite_read_record(sqlite3_stmt *st, const struct record_type *t, void *rec);

/* Runs the forward migrations (store_sqlite_schema.c). */
CPPO_MUST_CHECK int sqlite_migrate(struct store_sqlite *s, char *err, size_t errlen);

/* The SQLite store behind the interface handle. */
static inline struct store_sqlite *impl(struct store *s)
{
        return (struct store_sqlite *)s;
}

/* A message's origin, partition and offset as ?first.. ?first+2. */
static inline void bind_coord(sqlite3_stmt *st, int first, const struct mp_coord *c)
{
        sqlite3_bind_text(st, first, c ? c->origin : NULL, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, first + 1, c ? c->partition : -1);
        sqlite3_bind_int64(st, first + 2, c ? c->offset : 0);
}

/* Runs a write once: 0 when done, else its failure; the statement is reset
 * and its bindings cleared for the next use. */
static inline int step_done(sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? -EIO : sqlite_code(rc);
}

/* One step of a query: 1 when st has a row, 0 when it is done, else the
 * step's failure (sqlite_code). The only place a read calls sqlite3_step:
 * a query expecting at most one row uses it directly, a scan through
 * scan_row(). */
static inline int step_row(sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : sqlite_code(rc);
}

/* The one row iterator for every scan: true while st has a row and *r is
 * still 0; at the end *r is 0 only when the scan reached SQLITE_DONE, so a
 * step that fails mid-scan (I/O error, corruption, busy) never passes for a
 * complete result. Write `while (scan_row(st, &r)) { ...; r = ...; }`: the
 * body's own failure in r ends the scan too. */
static inline bool scan_row(sqlite3_stmt *st, int *r)
{
        int rc;

        if (*r != 0)
                return false;
        rc = step_row(st);
        if (rc < 0)
                *r = rc;
        return rc > 0;
}

/* Column i as text, valid until the next step; and a malloc'd copy (NULL
 * for a NULL column or when the copy fails: check the column type). */
static inline const char *col_text(sqlite3_stmt *st, int i)
{
        return (const char *)sqlite3_column_text(st, i);
}

static inline char *col_dup(sqlite3_stmt *st, int i)
{
        const char *t = col_text(st, i);

        return t ? strdup(t) : NULL;
}

/* A caller's limit within BATCH_MAX (any limit <= 0 means BATCH_MAX). */
static inline size_t batch_size(int64_t limit)
{
        return limit > 0 && limit < BATCH_MAX ? (size_t)limit : BATCH_MAX;
}

/* ---- the operations, by file (store_sqlite.c's ops table) ---- */

/* store_sqlite_schema.c */
CPPO_MUST_CHECK int sqlite_schema_version(struct store *s, int *out);

/* store_sqlite_ledger.c */
CPPO_MUST_CHECK int sqlite_ledger_add(struct store *base, const char *key, const struct mp_coord *c,
                                      int64_t now);

/* store_sqlite_rejected.c */
CPPO_MUST_CHECK int sqlite_reject(struct store *base, const struct raw_message *m,
                                  const char *reason, const char *message);
CPPO_MUST_CHECK int sqlite_list_rejected(struct store *base, int64_t limit,
                                         int (*fn)(void *ctx, const struct store_rejected *r),
                                         void *ctx);
CPPO_MUST_CHECK int sqlite_get_rejected(struct store *base, int64_t id,
                                        int (*fn)(void *ctx, const struct store_rejected *r),
                                        void *ctx);
CPPO_MUST_CHECK int sqlite_rejected_requeue(struct store *base, int64_t id, int64_t inbox_id,
                                            int64_t now);
CPPO_MUST_CHECK int sqlite_rejected_requeue_of(struct store *base, int64_t inbox_id, int64_t *id);
CPPO_MUST_CHECK int sqlite_rejected_settle(struct store *base, int64_t id, const char *error);

/* store_sqlite_inbox.c */
CPPO_MUST_CHECK int sqlite_inbox_add(struct store *base, const char *payload, int64_t now,
                                     int64_t *id);
CPPO_MUST_CHECK int sqlite_inbox_pending(struct store *base, int64_t *out);
CPPO_MUST_CHECK int sqlite_inbox_take(struct store *base, int64_t limit, int64_t now,
                                      int (*fn)(void *ctx, const struct store_inbox_entry *e),
                                      void *ctx);

/* store_sqlite_records.c */
CPPO_MUST_CHECK int sqlite_apply(struct store *base, const struct changeset *c,
                                 struct strlist *new_keys);
CPPO_MUST_CHECK int sqlite_load(struct store *base, const struct store_load_cb *cb, void *ctx);
CPPO_MUST_CHECK int sqlite_list_authorizations(struct store *base,
                                               int (*fn)(void *ctx, const struct authorization *a),
                                               void *ctx);
CPPO_MUST_CHECK int sqlite_get_authorization(struct store *base, const char *id,
                                             struct authorization *out);
CPPO_MUST_CHECK int sqlite_get_offer(struct store *base, const char *id, struct offer *out);
CPPO_MUST_CHECK int sqlite_list_offers(struct store *base, const char *authorization_id,
                                       int (*fn)(void *ctx, const struct offer *o), void *ctx);
CPPO_MUST_CHECK int sqlite_list_agreements(struct store *base, const char *authorization_id,
                                           int (*fn)(void *ctx, const struct agreement *g),
                                           void *ctx);
CPPO_MUST_CHECK int sqlite_list_holds(struct store *base,
                                      int (*fn)(void *ctx, const struct hold *h), void *ctx);
CPPO_MUST_CHECK int sqlite_notifications_unrouted(struct store *base, int64_t limit,
                                                  int (*fn)(void *ctx,
                                                            const struct notification *n),
                                                  void *ctx);
CPPO_MUST_CHECK int sqlite_notifications_unmatched(struct store *base, int64_t limit,
                                                   int (*fn)(void *ctx,
                                                             const struct notification *n),
                                                   void *ctx);
CPPO_MUST_CHECK int sqlite_notification_routed(struct store *base, const char *notification_key,
                                               bool routed);
CPPO_MUST_CHECK int sqlite_notification_backfill(struct store *base, const char *key);
CPPO_MUST_CHECK int sqlite_notifications_backfill_pending(struct store *base, int64_t limit,
                                                          int (*fn)(void *ctx,
                                                                    const struct notification *n),
                                                          void *ctx);
CPPO_MUST_CHECK int sqlite_list_link_changes(struct store *base, const char *offer_id,
                                             int (*fn)(void *ctx, const struct link_change *l),
                                             void *ctx);

/* store_sqlite_deliveries.c */
CPPO_MUST_CHECK int sqlite_delivery_due(struct store *base, const char *receiver, int64_t now_ms,
                                        int64_t limit,
                                        int (*fn)(void *ctx, const struct delivery *d), void *ctx);
CPPO_MUST_CHECK int sqlite_delivery_claim(struct store *base, const char *key, int64_t now_ms);
CPPO_MUST_CHECK int sqlite_delivery_finish(struct store *base, const struct delivery_attempt *a,
                                           enum delivery_status status, int64_t next_at_ms);
CPPO_MUST_CHECK int sqlite_delivery_add(struct store *base, const struct delivery *d);
CPPO_MUST_CHECK int sqlite_delivery_requeue_inflight(struct store *base, int64_t now_ms);
CPPO_MUST_CHECK int sqlite_delivery_retry(struct store *base, const char *key, int64_t now_ms);
CPPO_MUST_CHECK int sqlite_delivery_list(struct store *base, bool failed_only, int64_t limit,
                                         int (*fn)(void *ctx, const struct delivery *d), void *ctx);
CPPO_MUST_CHECK int sqlite_delivery_get(struct store *base, const char *key, struct delivery *out);
CPPO_MUST_CHECK int sqlite_delivery_attempts(struct store *base, const char *key,
                                             int (*fn)(void *ctx, const struct delivery_attempt *a),
                                             void *ctx);
CPPO_MUST_CHECK int sqlite_delivery_counts(struct store *base, const char *receiver,
                                           int64_t out[4]);
CPPO_MUST_CHECK int sqlite_delivery_defer(struct store *base, const struct delivery_attempt *a,
                                          int64_t next_at_ms);
CPPO_MUST_CHECK int sqlite_receiver_health_put(struct store *base,
                                               const struct store_receiver_health *h, bool replace);
CPPO_MUST_CHECK int sqlite_receiver_list(struct store *base,
                                         int (*fn)(void *ctx, const struct store_receiver *r),
                                         void *ctx);

/* store_sqlite_aws.c */
CPPO_MUST_CHECK int sqlite_aws_refresh_add(struct store_sqlite *s, const char *change_set_id);
CPPO_MUST_CHECK int sqlite_aws_get(struct store *base, const char *key, char *buf, size_t len);
CPPO_MUST_CHECK int sqlite_aws_put(struct store *base, const char *key, const char *value,
                                   int64_t now);
CPPO_MUST_CHECK int sqlite_aws_refresh_pending(struct store *base, int64_t limit,
                                               int (*fn)(void *ctx,
                                                         const struct store_aws_refresh *e),
                                               void *ctx);
CPPO_MUST_CHECK int sqlite_aws_refresh_done(struct store *base, int64_t id, const char *outcome,
                                            int64_t now);
CPPO_MUST_CHECK int sqlite_aws_holds_to_check(struct store *base, int64_t checked_before,
                                              int64_t limit,
                                              int (*fn)(void *ctx, const char *offer_id),
                                              void *ctx);
CPPO_MUST_CHECK int sqlite_aws_lookup_put(struct store *base, const struct store_aws_lookup *l);
CPPO_MUST_CHECK int sqlite_aws_lookup_get(struct store *base, const char *offer_id,
                                          int (*fn)(void *ctx, const struct store_aws_lookup *l),
                                          void *ctx);
CPPO_MUST_CHECK int sqlite_aws_source_counts(struct store *base, int64_t out[STORE_AWS_SOURCES]);

/* store_sqlite_retention.c */
CPPO_MUST_CHECK int sqlite_prune(struct store *base, enum store_prune k, int64_t cutoff,
                                 int64_t limit, int64_t *removed);
CPPO_MUST_CHECK int sqlite_prune_count(struct store *base, enum store_prune k, int64_t cutoff,
                                       int64_t *out);
CPPO_MUST_CHECK int sqlite_reclaim(struct store *base, int64_t max_pages, int64_t *freed);
CPPO_MUST_CHECK int sqlite_compact(struct store *base);
CPPO_MUST_CHECK int sqlite_table_stats(struct store *base,
                                       int (*fn)(void *ctx, const struct store_table_stat *t),
                                       void *ctx);

#endif
