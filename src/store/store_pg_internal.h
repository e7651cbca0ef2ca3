/* cppo-notify — the PostgreSQL store's private interface, shared by its
 * files.
 *
 * store_pg.c opens the connection (libpq) and holds the ops table and the
 * helpers below; each other store_pg_<group>.c implements the operations
 * of one group of tables, as the SQLite files beside them do. Only these
 * files include this header.
 *
 * Conventions every file follows:
 * - Statements take parameters $1..$n through struct pg_params (text
 *   format, except BYTEA which is bound binary); results come back as
 *   text (pg_col_*() read them).
 * - Each call runs in the transaction store_begin() opened, or on its own
 *   (autocommit) when none is open: pg_in_transaction() tells which.
 * - A failed statement inside a transaction aborts it in PostgreSQL (all
 *   that follows fails until the rollback): unlike SQLite, never "try and
 *   ignore" a statement inside the batch; use ON CONFLICT instead.
 * - Columns the C side holds as bool are BOOLEAN (write them with
 *   pg_param_bool(), compare with `= true`); other integers are BIGINT.
 *   The column `offset` is a reserved word: always write it "offset".
 */
#ifndef CPPO_STORE_PG_INTERNAL_H
#define CPPO_STORE_PG_INTERNAL_H

#include "cppo/store.h"
#include "store_internal.h"

#include "cppo/error.h"
#include "cppo/raw_message.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* Statements prepared once per connection (PQprepare, named "cppo_<n>"),
 * by number. Each file owns a range, so none has to edit this list. */
enum pg_stmt {
        PG_ST_NONE = -1, /* pg_run(): parsed anew each time (PQexecParams) */
        /* store_pg_ledger.c, store_pg_rejected.c, store_pg_inbox.c,
         * store_pg_aws.c, store_pg.c */
        PG_ST_LEDGER_ADD = 0,
        PG_ST_REJECT,
        PG_ST_INBOX_ADD,
        PG_ST_INBOX_TAKE,
        PG_ST_INBOX_CONSUME,
        PG_ST_REQUEUE_OF,
        PG_ST_REJECTED_SETTLE,
        PG_ST_AWS_REFRESH_ADD,
        PG_ST_FENCE,
        /* store_pg_records.c: PG_ST_RECORDS + 0 .. PG_ST_RECORDS + 31 */
        PG_ST_RECORDS = 16,
        /* store_pg_deliveries.c: PG_ST_DELIVERIES + 0 .. + 31 */
        PG_ST_DELIVERIES = 48,
        PG_ST_N = 80
};

/* The size of last_error: PostgreSQL's message for the last failure. */
#define PG_ERROR_MAX 512

struct store_pg {
        struct store base; /* first: a struct store * is a struct store_pg * */
        PGconn *conn;
        bool read_only;
        /* Fencing (store_fence()): epoch > 0, every commit first checks that
         * ha_leader still holds it and the leader lock is still granted to
         * lock_pid (when > 0), and fails with -ENOLCK when not; the
         * delivery claim and requeue check the same (PG_FENCE_LEADER). */
        int64_t epoch;
        int lock_pid;
        char *target; /* the URL without its password: for messages */
        bool prepared[PG_ST_N];
        char last_error[PG_ERROR_MAX];
};

/* The PostgreSQL store behind the interface handle. */
static inline struct store_pg *impl(struct store *s)
{
        return (struct store_pg *)s;
}

/* Rows handed to a callback that may write are read first; at most this
 * many per call (as the SQLite store's BATCH_MAX). */
#define PG_BATCH_MAX 1024

/* A caller's limit within PG_BATCH_MAX (any limit <= 0 means it). */
static inline int64_t pg_batch_size(int64_t limit)
{
        return limit > 0 && limit < PG_BATCH_MAX ? limit : PG_BATCH_MAX;
}

/* ---- parameters ($1..$n) ---- */

#define PG_PARAMS_MAX 32

/* Parameters for one statement, built in order: the n-th pg_param_*() call
 * is $n. Declare it zeroed (`struct pg_params p = { 0 };`). Strings and
 * bytes are referenced, not copied (they must live until the statement
 * ran) except what pg_params_record() makes itself (owned, freed by
 * pg_params_free()). Past PG_PARAMS_MAX parameters the builder records an
 * overflow and pg_run() refuses to run it (-E2BIG). */
struct pg_params {
        const char *v[PG_PARAMS_MAX];
        int len[PG_PARAMS_MAX];
        int fmt[PG_PARAMS_MAX]; /* 0 text, 1 binary */
        char num[PG_PARAMS_MAX][24];
        char *owned[PG_PARAMS_MAX];
        int n;
        int n_owned;
        bool overflow;
};

/* s as text; NULL is SQL NULL. */
void pg_param_text(struct pg_params *p, const char *s);
/* An integer (any integer column). */
void pg_param_int(struct pg_params *p, int64_t v);
/* A BOOLEAN column. */
void pg_param_bool(struct pg_params *p, bool v);
/* len bytes, bound binary (a BYTEA column; exact, NULs included); data
 * NULL with len 0 is an empty value, not NULL. */
void pg_param_bytes(struct pg_params *p, const void *data, size_t len);
/* Frees what the builder owns (pg_params_record()'s list texts); p can be
 * built again after. Always call it after a statement that used
 * pg_params_record(). */
void pg_params_free(struct pg_params *p);

/* ---- running statements ---- */

/* Runs sql with p (may be NULL: no parameters). With stmt >= 0 the
 * statement is prepared once per connection under that number (sql must
 * then be the same text on every call) and executed by name; PG_ST_NONE
 * parses it each time. res (may be NULL) receives the result of a query
 * returning rows (the caller PQclear()s it; NULL on failure); rows (may be
 * NULL) the number of rows a command touched or a query returned.
 * 0, or the mapped error (pg_error()) with last_error set. */
CPPO_MUST_CHECK int pg_run(struct store_pg *s, int stmt, const char *sql, const struct pg_params *p,
                           PGresult **res, int64_t *rows);
/* pg_run() for a command without rows. */
CPPO_MUST_CHECK int pg_exec(struct store_pg *s, const char *sql, const struct pg_params *p);
/* ... and the rows it touched (PQcmdTuples) in *rows. */
CPPO_MUST_CHECK int pg_exec_count(struct store_pg *s, const char *sql, const struct pg_params *p,
                                  int64_t *rows);
/* ... for rows in *res (caller PQclear()s; NULL on failure). */
CPPO_MUST_CHECK int pg_query(struct store_pg *s, const char *sql, const struct pg_params *p,
                             PGresult **res);
/* The single integer a SELECT COUNT(*) ... (or any one-value query)
 * returns; NULL reads as 0. 0 or the mapped error. */
CPPO_MUST_CHECK int pg_count_sql(struct store_pg *s, const char *sql, const struct pg_params *p,
                                 int64_t *out);
/* Runs SQL text of one or more statements without parameters or rows
 * (migrations). 0 or the mapped error. */
CPPO_MUST_CHECK int pg_exec_script(struct store_pg *s, const char *sql);
/* Whether a transaction (store_begin()) is open on s, failed or not. */
bool pg_in_transaction(struct store_pg *s);

/* ---- errors ---- */

/* The pg_locks rows of the leader lock held (store.h: LEADER_LOCK_KEY). */
#define PG_LEADER_LOCK_ROWS                                                                        \
        "FROM pg_locks WHERE locktype = 'advisory' AND classid = " LEADER_LOCK_CLASSID             \
        " AND objid = " LEADER_LOCK_OBJID " AND objsubid = 1 AND granted"

/* What a fenced statement reads, in one row locked FOR SHARE (a takeover,
 * which updates it, waits for the statement, or the statement for the
 * takeover): ha_leader's epoch, and `held`, whether the leader lock is
 * still granted to the server process `param` (a parameter, "$3"; 0: not
 * asked). A leader whose lock connection ended holds neither the lock
 * nor, soon, the epoch; the lock check refuses it already before a
 * standby bumps the epoch. */
#define PG_FENCE_LEADER(param)                                                                     \
        "SELECT epoch, (" param "::INT = 0 OR EXISTS (SELECT 1 " PG_LEADER_LOCK_ROWS               \
        " AND pid = " param "::INT)) AS held FROM ha_leader WHERE id = 1 FOR SHARE"

/* 0 when current (ha_leader's epoch as a fenced statement read it; -1 for
 * none) is s's epoch and held (the lock still granted to s's lock_pid);
 * else -ENOLCK with "leadership lost: ..." in last_error. */
CPPO_MUST_CHECK int pg_fence_check(struct store_pg *s, int64_t current, bool held);

/* The store error (store.h) for a failed result (res may be NULL: the
 * connection's state decides): -EBUSY lock or serialization failures
 * (SQLSTATE 40001, 40P01, 55P03), -ENOSPC disk full (53100), -EROFS a
 * read-only transaction or a server in recovery (25006), -EBADMSG data
 * corrupted (XX001, XX002), -EIO anything else, a lost connection
 * included. Records the server's words in s->last_error ("connection
 * lost: ..." when the connection is gone). */
CPPO_MUST_CHECK int pg_error(struct store_pg *s, const PGresult *res);
/* The mapping alone, for an SQLSTATE (NULL: -EIO). */
int pg_sqlstate_errno(const char *sqlstate);

/* ---- reading results (text format) ---- */

/* Column c of row r: the text, or NULL for SQL NULL (valid until
 * PQclear). */
const char *pg_col_text(const PGresult *res, int r, int c);
/* As an integer (NULL or not a number: 0). */
int64_t pg_col_int(const PGresult *res, int r, int c);
/* A BOOLEAN ("t") or integer (non-zero) column as bool (NULL: false). */
bool pg_col_bool(const PGresult *res, int r, int c);
/* A BYTEA column as a malloc'd, NUL-terminated copy of its bytes (never
 * NULL on success; "" for NULL or empty) and its length. 0 or -ENOMEM. */
CPPO_MUST_CHECK int pg_col_bytes(const PGresult *res, int r, int c, char **out, size_t *len);

/* ---- records by their field tables (store_pg_fields.c) ---- */

/* The SELECT is the same in both dialects: store_select_sql()
 * (store_internal.h). */

/* "INSERT INTO <table> (<columns>) VALUES ($1, ..., $n) <tail>" into buf
 * (SQL_MAX bytes), the columns in the order of rec's fields (tail e.g.
 * "ON CONFLICT DO NOTHING"). 0 or -E2BIG. */
CPPO_MUST_CHECK int pg_insert_sql(const struct record_type *rec, const char *table,
                                  const char *tail, char *buf);
/* The same with the tail "ON CONFLICT (<key>) DO UPDATE SET <every other
 * column> = EXCLUDED.<column>": SQLite's INSERT OR REPLACE for a table
 * whose only unique key is `key`. */
CPPO_MUST_CHECK int pg_upsert_sql(const struct record_type *rec, const char *table, const char *key,
                                  char *buf);
/* Appends every field of rec as the next parameters, in field order
 * (lists as JSON text and sources as authorization_sources_format(),
 * owned by p; strings referenced: rec must outlive the statement). 0,
 * -ENOMEM or -E2BIG. Call pg_params_free(p) after the statement. */
CPPO_MUST_CHECK int pg_params_record(struct pg_params *p, const struct record_type *t,
                                     const void *rec);
/* Row r of a result whose columns start at column first in the order of
 * t's fields (a store_select_sql() query: first = 0) into rec (zeroed by
 * the caller; the caller clears it whatever this returns). 0, -ENOMEM, or
 * -EIO for a value this program never writes. */
CPPO_MUST_CHECK int pg_read_record(const PGresult *res, int r, int first,
                                   const struct record_type *t, void *rec);

/* ---- schema (store_pg_schema.c) ---- */

/* The advisory lock key migrations run under (pg_advisory_xact_lock):
 * the bytes "cppo-sch" as a big-endian BIGINT. */
#define PG_MIGRATION_LOCK_KEY "7165350629952676712"

/* Creates or migrates the schema, in one transaction under the migration
 * lock, so instances starting together apply each step once. */
CPPO_MUST_CHECK int pg_migrate(struct store_pg *s, char *err, size_t errlen);
/* Whether v is a schema version this program creates or migrates from. */
bool pg_schema_known(int v);

/* ---- the operations, by file (store_pg.c's ops table) ---- */

/* store_pg_schema.c */
CPPO_MUST_CHECK int pg_schema_version(struct store *base, int *out);

/* store_pg_ledger.c */
CPPO_MUST_CHECK int pg_ledger_add(struct store *base, const char *key, const struct mp_coord *c,
                                  int64_t now);

/* store_pg_rejected.c */
CPPO_MUST_CHECK int pg_reject(struct store *base, const struct raw_message *m, const char *reason,
                              const char *message);
CPPO_MUST_CHECK int pg_list_rejected(struct store *base, int64_t limit,
                                     int (*fn)(void *ctx, const struct store_rejected *r),
                                     void *ctx);
CPPO_MUST_CHECK int pg_get_rejected(struct store *base, int64_t id,
                                    int (*fn)(void *ctx, const struct store_rejected *r),
                                    void *ctx);
CPPO_MUST_CHECK int pg_rejected_requeue(struct store *base, int64_t id, int64_t inbox_id,
                                        int64_t now);
CPPO_MUST_CHECK int pg_rejected_requeue_of(struct store *base, int64_t inbox_id, int64_t *id);
CPPO_MUST_CHECK int pg_rejected_settle(struct store *base, int64_t id, const char *error);

/* store_pg_inbox.c */
CPPO_MUST_CHECK int pg_inbox_add(struct store *base, const char *payload, int64_t now, int64_t *id);
CPPO_MUST_CHECK int pg_inbox_pending(struct store *base, int64_t *out);
CPPO_MUST_CHECK int pg_inbox_take(struct store *base, int64_t limit, int64_t now,
                                  int (*fn)(void *ctx, const struct store_inbox_entry *e),
                                  void *ctx);

/* store_pg_records.c */
CPPO_MUST_CHECK int pg_apply(struct store *base, const struct changeset *c,
                             struct strlist *new_keys);
CPPO_MUST_CHECK int pg_load(struct store *base, const struct store_load_cb *cb, void *ctx);
CPPO_MUST_CHECK int pg_list_authorizations(struct store *base,
                                           int (*fn)(void *ctx, const struct authorization *a),
                                           void *ctx);
CPPO_MUST_CHECK int pg_get_authorization(struct store *base, const char *id,
                                         struct authorization *out);
CPPO_MUST_CHECK int pg_get_offer(struct store *base, const char *id, struct offer *out);
CPPO_MUST_CHECK int pg_list_offers(struct store *base, const char *authorization_id,
                                   int (*fn)(void *ctx, const struct offer *o), void *ctx);
CPPO_MUST_CHECK int pg_list_agreements(struct store *base, const char *authorization_id,
                                       int (*fn)(void *ctx, const struct agreement *g), void *ctx);
CPPO_MUST_CHECK int pg_list_holds(struct store *base, int (*fn)(void *ctx, const struct hold *h),
                                  void *ctx);
CPPO_MUST_CHECK int pg_notifications_unrouted(struct store *base, int64_t limit,
                                              int (*fn)(void *ctx, const struct notification *n),
                                              void *ctx);
CPPO_MUST_CHECK int pg_notifications_unmatched(struct store *base, int64_t limit,
                                               int (*fn)(void *ctx, const struct notification *n),
                                               void *ctx);
CPPO_MUST_CHECK int pg_notification_routed(struct store *base, const char *notification_key,
                                           bool routed);
CPPO_MUST_CHECK int pg_notification_backfill(struct store *base, const char *key);
CPPO_MUST_CHECK int pg_notifications_backfill_pending(struct store *base, int64_t limit,
                                                      int (*fn)(void *ctx,
                                                                const struct notification *n),
                                                      void *ctx);
CPPO_MUST_CHECK int pg_list_link_changes(struct store *base, const char *offer_id,
                                         int (*fn)(void *ctx, const struct link_change *l),
                                         void *ctx);

/* store_pg_deliveries.c */
CPPO_MUST_CHECK int pg_delivery_due(struct store *base, const char *receiver, int64_t now_ms,
                                    int64_t limit, int (*fn)(void *ctx, const struct delivery *d),
                                    void *ctx);
CPPO_MUST_CHECK int pg_delivery_claim(struct store *base, const char *key, int64_t now_ms);
CPPO_MUST_CHECK int pg_delivery_finish(struct store *base, const struct delivery_attempt *a,
                                       enum delivery_status status, int64_t next_at_ms);
CPPO_MUST_CHECK int pg_delivery_add(struct store *base, const struct delivery *d);
CPPO_MUST_CHECK int pg_delivery_requeue_inflight(struct store *base, int64_t now_ms);
CPPO_MUST_CHECK int pg_delivery_retry(struct store *base, const char *key, int64_t now_ms);
CPPO_MUST_CHECK int pg_delivery_list(struct store *base, bool failed_only, int64_t limit,
                                     int (*fn)(void *ctx, const struct delivery *d), void *ctx);
CPPO_MUST_CHECK int pg_delivery_get(struct store *base, const char *key, struct delivery *out);
CPPO_MUST_CHECK int pg_delivery_attempts(struct store *base, const char *key,
                                         int (*fn)(void *ctx, const struct delivery_attempt *a),
                                         void *ctx);
CPPO_MUST_CHECK int pg_delivery_counts(struct store *base, const char *receiver, int64_t out[4]);
CPPO_MUST_CHECK int pg_delivery_defer(struct store *base, const struct delivery_attempt *a,
                                      int64_t next_at_ms);
CPPO_MUST_CHECK int pg_receiver_health_put(struct store *base,
                                           const struct store_receiver_health *h, bool replace);
CPPO_MUST_CHECK int pg_receiver_list(struct store *base,
                                     int (*fn)(void *ctx, const struct store_receiver *r),
                                     void *ctx);

/* store_pg_aws.c */
/* A change set to describe (store_pg_records.c's apply calls it for a
 * changeset's aws_refresh), once per id while pending. */
CPPO_MUST_CHECK int pg_aws_refresh_add(struct store_pg *s, const char *change_set_id);
CPPO_MUST_CHECK int pg_aws_get(struct store *base, const char *key, char *buf, size_t len);
CPPO_MUST_CHECK int pg_aws_put(struct store *base, const char *key, const char *value, int64_t now);
CPPO_MUST_CHECK int pg_aws_refresh_pending(struct store *base, int64_t limit,
                                           int (*fn)(void *ctx, const struct store_aws_refresh *e),
                                           void *ctx);
CPPO_MUST_CHECK int pg_aws_refresh_done(struct store *base, int64_t id, const char *outcome,
                                        int64_t now);
CPPO_MUST_CHECK int pg_aws_holds_to_check(struct store *base, int64_t checked_before, int64_t limit,
                                          int (*fn)(void *ctx, const char *offer_id), void *ctx);
CPPO_MUST_CHECK int pg_aws_lookup_put(struct store *base, const struct store_aws_lookup *l);
CPPO_MUST_CHECK int pg_aws_lookup_get(struct store *base, const char *offer_id,
                                      int (*fn)(void *ctx, const struct store_aws_lookup *l),
                                      void *ctx);
CPPO_MUST_CHECK int pg_aws_source_counts(struct store *base, int64_t out[STORE_AWS_SOURCES]);

/* store_pg_retention.c */
CPPO_MUST_CHECK int pg_prune(struct store *base, enum store_prune k, int64_t cutoff, int64_t limit,
                             int64_t *removed);
CPPO_MUST_CHECK int pg_prune_count(struct store *base, enum store_prune k, int64_t cutoff,
                                   int64_t *out);
CPPO_MUST_CHECK int pg_reclaim(struct store *base, int64_t max_pages, int64_t *freed);
CPPO_MUST_CHECK int pg_compact(struct store *base);
CPPO_MUST_CHECK int pg_table_stats(struct store *base,
                                   int (*fn)(void *ctx, const struct store_table_stat *t),
                                   void *ctx);

#endif
