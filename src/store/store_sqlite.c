/* cppo-notify — the SQLite store (see include/cppo/store.h).
 *
 * WAL journal so CLI readers never block the writer; synchronous=FULL by
 * default so a committed batch survives power loss before its Kafka offsets
 * are stored; foreign keys on; a busy timeout for concurrent access. The
 * schema is versioned: migrations[] runs forward, each in its own
 * transaction, from the version in schema_version to the newest.
 */
#include "cppo/store.h"

#include "cppo/error.h"

#include <sqlite3.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The dispatcher's hot statements, prepared on first use (a read-only
 * CLI may open a database older than the deliveries tables). */
enum { DL_DUE, DL_CLAIM, DL_FINISH, DL_ATTEMPT, DL_N };
/* The statements store_apply() runs for every record of every batch. */
enum put_sql { PUT_AUTHORIZATION, PUT_OFFER, PUT_AGREEMENT, PUT_HOLD, DEL_HOLD, PUT_NOTIFICATION,
               N_PUT_SQL };

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

/* Forward-only. Never edit a released step: add a new one. */
static const char *const migrations[] = {
        /* 1: the ledger, rejected inputs, the CPPO model, notifications,
         * and the inbox of CLI commands */
        "CREATE TABLE ledger ("
        "  event_key TEXT PRIMARY KEY,"
        "  origin TEXT, partition INTEGER, offset INTEGER,"
        "  processed_at INTEGER NOT NULL"
        ") WITHOUT ROWID;"
        "CREATE TABLE rejected ("
        "  id INTEGER PRIMARY KEY,"
        "  reason TEXT NOT NULL, message TEXT NOT NULL,"
        "  origin TEXT, partition INTEGER, offset INTEGER,"
        "  received_at INTEGER NOT NULL,"
        "  truncated INTEGER NOT NULL DEFAULT 0,"
        "  raw BLOB NOT NULL"
        ");"
        /* a message re-delivered after a crash is not kept twice */
        "CREATE UNIQUE INDEX rejected_once ON rejected(origin, partition, offset, reason, message);"
        "CREATE TABLE authorizations ("
        "  id TEXT PRIMARY KEY, name TEXT, product_id TEXT, product_title TEXT,"
        "  reseller_account_id TEXT, reseller_name TEXT, buyer_company_name TEXT,"
        "  buyer_account_ids TEXT NOT NULL DEFAULT '[]', expires_at TEXT,"
        "  renewal INTEGER NOT NULL DEFAULT 0, notify TEXT NOT NULL DEFAULT '[]',"
        "  metadata TEXT, offer_ids TEXT NOT NULL DEFAULT '[]',"
        "  registered INTEGER NOT NULL DEFAULT 0, withdrawn INTEGER NOT NULL DEFAULT 0,"
        "  source_event_key TEXT, updated_at INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE TABLE offers ("
        "  id TEXT PRIMARY KEY, name TEXT, expiration TEXT, product_id TEXT,"
        "  product_title TEXT, manufacturer_account_id TEXT, manufacturer_name TEXT,"
        "  seller_of_record_account_id TEXT, seller_of_record_name TEXT,"
        "  targeted_buyer_account_ids TEXT NOT NULL DEFAULT '[]',"
        "  authorization_id TEXT, link TEXT NOT NULL DEFAULT 'none', link_event_key TEXT,"
        "  released_seen INTEGER NOT NULL DEFAULT 0, late INTEGER NOT NULL DEFAULT 0,"
        "  updated_at INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX offers_authorization ON offers(authorization_id);"
        "CREATE TABLE agreements ("
        "  id TEXT PRIMARY KEY, intent TEXT, status TEXT, acceptance_time TEXT,"
        "  start_time TEXT, end_time TEXT, offer_id TEXT, authorization_id TEXT,"
        "  acceptor_account_id TEXT, proposer_account_id TEXT, previous_agreement_id TEXT,"
        "  product_id TEXT, last_event_time INTEGER NOT NULL DEFAULT 0,"
        "  updated_at INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX agreements_authorization ON agreements(authorization_id);"
        "CREATE TABLE holds ("
        "  offer_id TEXT PRIMARY KEY, event_key TEXT, created_at INTEGER NOT NULL,"
        "  deadline INTEGER NOT NULL, attention_sent INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE TABLE notifications ("
        "  id INTEGER PRIMARY KEY,"
        "  kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE, context TEXT NOT NULL,"
        "  source_event_key TEXT, opportunity_id TEXT, offer_id TEXT, agreement_id TEXT,"
        "  late INTEGER NOT NULL DEFAULT 0, registered INTEGER NOT NULL DEFAULT 0,"
        "  created_at INTEGER NOT NULL"
        ");"
        "CREATE TABLE inbox ("
        "  id INTEGER PRIMARY KEY, payload TEXT NOT NULL,"
        "  created_at INTEGER NOT NULL, consumed_at INTEGER"
        ");",
        /* 2: deliveries (one per notification and receiver), their attempts,
         * and the routing state of each notification (0 pending, 1 routed,
         * 2 no rule matched) */
        "CREATE TABLE deliveries ("
        "  key TEXT PRIMARY KEY, notification_key TEXT NOT NULL, kind TEXT,"
        "  receiver TEXT NOT NULL, channel TEXT NOT NULL, rule TEXT, opportunity_id TEXT,"
        "  status INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
        "  created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL,"
        "  next_at_ms INTEGER NOT NULL DEFAULT 0, last_code INTEGER NOT NULL DEFAULT 0,"
        "  last_error TEXT, payload BLOB NOT NULL, recipients TEXT NOT NULL DEFAULT '[]'"
        ");"
        "CREATE INDEX deliveries_due ON deliveries(status, next_at_ms);"
        "CREATE INDEX deliveries_receiver ON deliveries(receiver);"
        "CREATE TABLE attempts ("
        "  id INTEGER PRIMARY KEY,"
        "  delivery_key TEXT NOT NULL REFERENCES deliveries(key) ON DELETE CASCADE,"
        "  at_ms INTEGER NOT NULL, outcome TEXT NOT NULL, code INTEGER NOT NULL DEFAULT 0,"
        "  latency_ms INTEGER NOT NULL DEFAULT 0, error TEXT"
        ");"
        "CREATE INDEX attempts_delivery ON attempts(delivery_key);"
        "ALTER TABLE notifications ADD COLUMN routed INTEGER NOT NULL DEFAULT 0;"
        "CREATE INDEX notifications_routed ON notifications(routed, id);",
        /* 3: requeues of rejected inputs (`cppo-notifyctl rejected requeue`):
         * the inbox entry that feeds the bytes again, when, and how it went
         * ('pending', 'accepted', 'rejected' with why); the row is kept.
         * (Notifications recorded from history use routed = 3: no column.) */
        "ALTER TABLE rejected ADD COLUMN requeue_inbox_id INTEGER;"
        "ALTER TABLE rejected ADD COLUMN requeued_at INTEGER;"
        "ALTER TABLE rejected ADD COLUMN requeue_outcome TEXT;"
        "ALTER TABLE rejected ADD COLUMN requeue_error TEXT;"
        "CREATE INDEX rejected_requeue ON rejected(requeue_inbox_id);",
        /* 4: each offer's link history: who moved it, when, why, and the
         * link_corrected notification the move caused */
        "CREATE TABLE offer_links ("
        "  id INTEGER PRIMARY KEY, offer_id TEXT NOT NULL,"
        "  from_authorization_id TEXT, to_authorization_id TEXT,"
        "  from_link TEXT NOT NULL, to_link TEXT NOT NULL,"
        "  actor TEXT, reason TEXT, event_key TEXT, correction_key TEXT,"
        "  at INTEGER NOT NULL"
        ");"
        "CREATE INDEX offer_links_offer ON offer_links(offer_id, id);",
        /* 5: receiver health as the dispatcher last recorded it (up 1/0,
         * since when, consecutive receiver-level failures, last error) */
        "CREATE TABLE receiver_health ("
        "  receiver TEXT PRIMARY KEY, up INTEGER NOT NULL DEFAULT 1,"
        "  since_ms INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,"
        "  last_error TEXT, updated_at_ms INTEGER NOT NULL DEFAULT 0"
        ") WITHOUT ROWID;",
        /* 6: the recipients an SMTP server refused at RCPT on an attempt
         * that still went to the others */
        "ALTER TABLE attempts ADD COLUMN refused TEXT;",
        /* 7: the AWS Catalog sync: each authorization's AWS status, revision
         * and the source of each field; the sync's own state (last
         * successful sync); change sets to describe (a Change Set Succeeded
         * seen, kept until the sync has refreshed what it touched); and the
         * outcome of looking up each held offer with AWS */
        "ALTER TABLE authorizations ADD COLUMN aws_status TEXT;"
        "ALTER TABLE authorizations ADD COLUMN aws_modified INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE authorizations ADD COLUMN sources TEXT;"
        "CREATE TABLE aws_state ("
        "  key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL"
        ") WITHOUT ROWID;"
        "CREATE TABLE aws_refresh ("
        "  id INTEGER PRIMARY KEY, change_set_id TEXT NOT NULL,"
        "  created_at INTEGER NOT NULL, done_at INTEGER, outcome TEXT"
        ");"
        "CREATE INDEX aws_refresh_pending ON aws_refresh(done_at, id);"
        "CREATE TABLE aws_offer_lookups ("
        "  offer_id TEXT PRIMARY KEY, outcome TEXT NOT NULL, authorization_id TEXT,"
        "  detail TEXT, checked_at INTEGER NOT NULL"
        ") WITHOUT ROWID;",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static const char *const counted_tables[] = {
        "ledger", "rejected", "authorizations", "offers", "agreements", "holds",
        "notifications", "inbox",
        "deliveries", "attempts", "receiver_health", "aws_refresh", "aws_offer_lookups",
};

/* What an operator does about a damaged database file; part of every
 * message that reports damage. */
#define RECOVERY_HINT                                                                              \
        "recover it with `sqlite3 '%s' .recover | sqlite3 NEW.db`, check NEW.db and move it "     \
        "into place, or restore the latest backup"

/* err: what failed, SQLite's words, and for damage what to do. code is
 * the caller's default; a damaged file is -EBADMSG whatever it says. */
static int db_error(struct store_sqlite *s, int code, char *err, size_t errlen, const char *what)
{
        int rc = sqlite3_errcode(s->db) & 0xff;

        if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
                return error_set(err, errlen, -EBADMSG, "%s: %s; " RECOVERY_HINT, what,
                                 sqlite3_errmsg(s->db), s->path ? s->path : "STORE");
        return error_set(err, errlen, code, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* An SQLite result code as this project's error (error.h), so callers can
 * tell what to do: -EBADMSG the file is damaged (never retried: the store
 * needs recovery), -EBUSY another writer held the lock past the busy
 * timeout, -ENOSPC the disk is full, -EROFS the file cannot be written,
 * -EIO anything else. SQLite's own words stay on the connection
 * (store_last_error()). */
static int sqlite_code(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_READONLY:
        case SQLITE_CANTOPEN:
                return -EROFS;
        case SQLITE_NOMEM:
                return -ENOMEM;
        default:
                return -EIO;
        }
}

static int exec(struct store_sqlite *s, const char *sql)
{
        return sqlite_code(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

static int read_version(struct store_sqlite *s, int *out)
{
        sqlite3_stmt *st;
        int r = -EIO;

        *out = 0;
        if (sqlite3_prepare_v2(s->db, "SELECT MAX(version) FROM schema_version", -1, &st,
                               NULL) != SQLITE_OK)
                return -EIO;
        if (sqlite3_step(st) == SQLITE_ROW) {
                *out = sqlite3_column_int(st, 0);
                r = 0;
        }
        sqlite3_finalize(st);
        return r;
}

/* One step, under the write lock. Another process opening the same new
 * store (the CLI beside a starting daemon) may have applied it since the
 * version was read: it is read again under the lock and skipped then. */
static int migrate_step(struct store_sqlite *s, int v)
{
        char stamp[128];
        int current;

        snprintf(stamp, sizeof stamp, "INSERT INTO schema_version VALUES (%d, "
                 "strftime('%%s','now'));", v + 1);
        if (exec(s, "BEGIN IMMEDIATE") < 0 || read_version(s, &current) < 0)
                return -EIO;
        if (current <= v && (exec(s, migrations[v]) < 0 || exec(s, stamp) < 0))
                return -EIO;
        return exec(s, "COMMIT");
}

static int migrate(struct store_sqlite *s, char *err, size_t errlen)
{
        int version;

        if (exec(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
                    " applied_at INTEGER NOT NULL)") < 0 ||
            read_version(s, &version) < 0)
                return db_error(s, -EIO, err, errlen, "cannot read the schema version");
        if (version > SCHEMA_VERSION)
                return error_set(err, errlen, -EPROTO, "database schema %d is newer than this "
                                 "program (%d)", version, SCHEMA_VERSION);
        for (int v = version; v < SCHEMA_VERSION; v++) {
                if (migrate_step(s, v) < 0) {
                        int r = db_error(s, -EIO, err, errlen, "schema migration failed");
                        exec(s, "ROLLBACK");
                        return r;
                }
        }
        return 0;
}

static int configure(struct store_sqlite *s, const struct store_options *o, char *err,
                     size_t errlen)
{
        char pragmas[256];

        sqlite3_busy_timeout(s->db, o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000);
        snprintf(pragmas, sizeof pragmas, "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s;",
                 o->synchronous_normal ? "NORMAL" : "FULL");
        if (exec(s, pragmas) < 0)
                return db_error(s, -EIO, err, errlen, "cannot configure the database");
        if (o->read_only)
                return 0;
        if (exec(s, "PRAGMA journal_mode=WAL;") < 0)
                return db_error(s, -EIO, err, errlen, "cannot enable WAL");
        return migrate(s, err, errlen);
}

static int prepare(struct store_sqlite *s, char *err, size_t errlen)
{
        if (sqlite3_prepare_v3(s->db,
                               "INSERT OR IGNORE INTO ledger (event_key, origin, partition, "
                               "offset, processed_at) VALUES (?, ?, ?, ?, ?)",
                               -1, SQLITE_PREPARE_PERSISTENT, &s->ledger_insert, NULL) != SQLITE_OK ||
            sqlite3_prepare_v3(s->db,
                               "INSERT OR IGNORE INTO rejected (reason, message, origin, partition, offset, "
                               "received_at, truncated, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               -1, SQLITE_PREPARE_PERSISTENT, &s->reject_insert, NULL) != SQLITE_OK)
                return db_error(s, -EIO, err, errlen, "cannot prepare statements");
        return 0;
}

static struct store_sqlite *impl(struct store *s)
{
        return (struct store_sqlite *)s;
}

static void sqlite_close(struct store *base)
{
        struct store_sqlite *s = impl(base);

        sqlite3_finalize(s->ledger_insert);
        sqlite3_finalize(s->reject_insert);
        for (int i = 0; i < DL_N; i++)
                sqlite3_finalize(s->dl[i]);
        for (int i = 0; i < N_PUT_SQL; i++)
                sqlite3_finalize(s->put[i]);
        sqlite3_close(s->db);
        if (s->watch_fd >= 0)
                (void)close(s->watch_fd);
        free(s->path);
        free(s);
}

static int sqlite_begin(struct store *s)
{
        /* IMMEDIATE: take the write lock now, not at the first write. */
        return exec(impl(s), "BEGIN IMMEDIATE");
}

static int sqlite_commit(struct store *s)
{
        return exec(impl(s), "COMMIT");
}

static int sqlite_rollback(struct store *s)
{
        return exec(impl(s), "ROLLBACK");
}

static void bind_coord(sqlite3_stmt *st, int first, const struct mp_coord *c)
{
        sqlite3_bind_text(st, first, c ? c->origin : NULL, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, first + 1, c ? c->partition : -1);
        sqlite3_bind_int64(st, first + 2, c ? c->offset : 0);
}

static int step_done(sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? -EIO : sqlite_code(rc);
}

/* The one row iterator for every scan: true while st has a row and *r is
 * still 0; at the end *r is 0 only when the scan reached SQLITE_DONE, so a
 * step that fails mid-scan (I/O error, corruption, busy) never passes for a
 * complete result. Write `while (scan_row(st, &r)) { ...; r = ...; }`: the
 * body's own failure in r ends the scan too. */
static bool scan_row(sqlite3_stmt *st, int *r)
{
        int rc;

        if (*r != 0)
                return false;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return true;
        if (rc != SQLITE_DONE)
                *r = sqlite_code(rc);
        return false;
}

static int sqlite_ledger_add(struct store *base, const char *key, const struct mp_coord *c,
                             int64_t now)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st = s->ledger_insert;

        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        bind_coord(st, 2, c);
        sqlite3_bind_int64(st, 5, now);
        if (step_done(st) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 1 : 0;
}

static int sqlite_reject(struct store *base, const struct raw_message *m, const char *reason,
                         const char *message)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st = s->reject_insert;

        sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, message, -1, SQLITE_STATIC);
        bind_coord(st, 3, &m->coord);
        sqlite3_bind_int64(st, 6, m->received_at);
        sqlite3_bind_int(st, 7, m->truncated ? 1 : 0);
        sqlite3_bind_blob64(st, 8, m->data, m->len, SQLITE_STATIC);
        return step_done(st);
}

/* The single integer a SELECT COUNT(*) ... returns. */
static int count_sql(struct store_sqlite *s, const char *sql, int64_t *out)
{
        sqlite3_stmt *st;
        int r = -EIO;

        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        if (sqlite3_step(st) == SQLITE_ROW) {
                *out = sqlite3_column_int64(st, 0);
                r = 0;
        }
        sqlite3_finalize(st);
        return r;
}

static int sqlite_count(struct store *base, const char *table, int64_t *out)
{
        struct store_sqlite *s = impl(base);
        char sql[96];
        size_t i;

        if (strcmp(table, "unrouted") == 0)
                return count_sql(s, "SELECT COUNT(*) FROM notifications WHERE routed = 2", out);
        if (strcmp(table, "backfilled") == 0)
                return count_sql(s, "SELECT COUNT(*) FROM deliveries WHERE status = 4", out);
        for (i = 0; i < sizeof counted_tables / sizeof counted_tables[0]; i++)
                if (strcmp(table, counted_tables[i]) == 0)
                        break;
        if (i == sizeof counted_tables / sizeof counted_tables[0])
                return -EINVAL; /* only known names reach the SQL text */
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", counted_tables[i]);
        return count_sql(s, sql, out);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
        return (const char *)sqlite3_column_text(st, i);
}

/* The rejected columns, requeue state included: a read-only CLI may open
 * a store its daemon has not migrated yet, whose rows were never requeued. */
static int prepare_rejected(struct store_sqlite *s, const char *tail, sqlite3_stmt **st)
{
        static const char *const heads[] = {
                "SELECT id, reason, message, origin, partition, offset, received_at, truncated, "
                "raw, requeue_inbox_id, requeued_at, requeue_outcome, requeue_error "
                "FROM rejected ",
                "SELECT id, reason, message, origin, partition, offset, received_at, truncated, "
                "raw, 0, 0, NULL, NULL FROM rejected ",
        };
        char sql[512];

        for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
                if (snprintf(sql, sizeof sql, "%s%s", heads[i], tail) >= (int)sizeof sql)
                        return -E2BIG;
                if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK)
                        return 0;
        }
        return -EIO;
}

/* Columns as prepare_rejected selects them; valid until the next step. */
static void row_rejected(sqlite3_stmt *st, struct store_rejected *row)
{
        *row = (struct store_rejected){
                .id = sqlite3_column_int64(st, 0),
                .reason = col_text(st, 1),
                .message = col_text(st, 2),
                .origin = col_text(st, 3),
                .partition = sqlite3_column_int(st, 4),
                .offset = sqlite3_column_int64(st, 5),
                .received_at = sqlite3_column_int64(st, 6),
                .truncated = sqlite3_column_int(st, 7) != 0,
                .raw = sqlite3_column_blob(st, 8),
                .raw_len = (size_t)sqlite3_column_bytes(st, 8),
                .requeue_inbox_id = sqlite3_column_int64(st, 9),
                .requeued_at = sqlite3_column_int64(st, 10),
                .requeue_outcome = col_text(st, 11),
                .requeue_error = col_text(st, 12),
        };
}

static int sqlite_list_rejected(struct store *base, int64_t limit,
                                int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        if (prepare_rejected(s, "ORDER BY id DESC LIMIT ?1", &st) < 0)
                return -EIO;
        sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
        while (scan_row(st, &r)) {
                struct store_rejected row;
                row_rejected(st, &row);
                r = fn(ctx, &row);
        }
        sqlite3_finalize(st);
        return r;
}

static int sqlite_schema_version(struct store *s, int *out)
{
        return read_version(impl(s), out);
}

/* ---- CPPO records ---- */

/* String lists are stored as JSON arrays of strings. */
static char *list_json(const struct strlist *l)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *buf;
        char *out = NULL;
        size_t len;

        if (g == NULL)
                return NULL;
        yajl_gen_array_open(g);
        for (size_t i = 0; i < l->n; i++)
                yajl_gen_string(g, (const unsigned char *)l->v[i], strlen(l->v[i]));
        yajl_gen_array_close(g);
        if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
                out = strndup((const char *)buf, len);
        yajl_gen_free(g);
        return out;
}

static int json_list(const char *json, struct strlist *out)
{
        yajl_val v = json ? yajl_tree_parse(json, NULL, 0) : NULL;
        int r = 0;

        for (size_t i = 0; r == 0 && YAJL_IS_ARRAY(v) && i < v->u.array.len; i++)
                if (YAJL_IS_STRING(v->u.array.values[i]))
                        r = strlist_add(out, YAJL_GET_STRING(v->u.array.values[i]));
        yajl_tree_free(v);
        return r;
}

static const char *const put_sql[N_PUT_SQL] = {
        [PUT_AUTHORIZATION] =
                "INSERT OR REPLACE INTO authorizations (id, name, product_id, product_title, "
                "reseller_account_id, reseller_name, buyer_company_name, buyer_account_ids, "
                "expires_at, notify, metadata, offer_ids, source_event_key, aws_status, sources, "
                "renewal, registered, withdrawn, updated_at, aws_modified) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [PUT_OFFER] =
                "INSERT OR REPLACE INTO offers (id, name, expiration, product_id, product_title, "
                "manufacturer_account_id, manufacturer_name, seller_of_record_account_id, "
                "seller_of_record_name, targeted_buyer_account_ids, authorization_id, link, "
                "link_event_key, released_seen, late, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [PUT_AGREEMENT] =
                "INSERT OR REPLACE INTO agreements (id, intent, status, acceptance_time, "
                "start_time, end_time, offer_id, authorization_id, acceptor_account_id, "
                "proposer_account_id, previous_agreement_id, product_id, last_event_time, "
                "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [PUT_HOLD] = "INSERT OR REPLACE INTO holds (offer_id, event_key, created_at, deadline, "
                     "attention_sent) VALUES (?,?,?,?,?)",
        [DEL_HOLD] = "DELETE FROM holds WHERE offer_id = ?",
        [PUT_NOTIFICATION] =
                "INSERT OR IGNORE INTO notifications (kind, key, context, source_event_key, "
                "opportunity_id, offer_id, agreement_id, late, registered, created_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
};

/* Runs one of put_sql with text parameters first, then integers. The
 * strings only need to live during the call (bound SQLITE_STATIC, reset
 * before returning). */
/* Binds text values as ?1.., then ints after them, and runs st once. The
 * text can be SQLITE_STATIC: step_done() clears the bindings before the
 * caller's strings go away. */
static int bind_run(sqlite3_stmt *st, const char *const *text, int n_text, const int64_t *ints,
                    int n_ints)
{
        for (int i = 0; i < n_text; i++)
                sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
        for (int i = 0; i < n_ints; i++)
                sqlite3_bind_int64(st, n_text + i + 1, ints[i]);
        return step_done(st);
}

/* A statement run once (CLI commands, rare updates). */
static int run_stmt(struct store_sqlite *s, const char *sql, const char *const *text, int n_text,
                    const int64_t *ints, int n_ints)
{
        sqlite3_stmt *st;
        int r;

        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        r = bind_run(st, text, n_text, ints, n_ints);
        sqlite3_finalize(st);
        return r;
}

/* One of the statements store_apply() runs for every record, kept prepared. */
static int run_put(struct store_sqlite *s, enum put_sql which, const char *const *text,
                   int n_text, const int64_t *ints, int n_ints)
{
        if (s->put[which] == NULL &&
            sqlite3_prepare_v3(s->db, put_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                               &s->put[which], NULL) != SQLITE_OK)
                return -EIO;
        return bind_run(s->put[which], text, n_text, ints, n_ints);
}

/* sources as text, for the column of the same name */
static const char *sources_text(const struct authorization *a, char *buf, size_t len)
{
        authorization_sources_format(a, buf, len);
        return buf[0] ? buf : NULL;
}

static int put_authorization(struct store_sqlite *s, const struct authorization *a)
{
        char sources_buf[256];
        const char *sources = sources_text(a, sources_buf, sizeof sources_buf);
        char *buyers = list_json(&a->buyer_account_ids), *notify = list_json(&a->notify),
             *offers = list_json(&a->offer_ids);
        const char *text[] = { a->id, a->name, a->product_id, a->product_title,
                               a->reseller_account_id, a->reseller_name, a->buyer_company_name,
                               buyers, a->expires_at, notify, a->metadata_json, offers,
                               a->source_event_key, a->aws_status, sources };
        const int64_t ints[] = { a->renewal, a->registered, a->withdrawn, a->updated_at,
                                 a->aws_modified };
        int r = buyers && notify && offers ? 0 : -ENOMEM;

        if (r == 0)
                r = run_put(s, PUT_AUTHORIZATION, text, 15, ints, 5);
        free(buyers);
        free(notify);
        free(offers);
        return r;
}

static int put_offer(struct store_sqlite *s, const struct offer *o)
{
        char *buyers = list_json(&o->targeted_buyer_account_ids);
        const char *text[] = { o->id, o->name, o->expiration, o->product_id, o->product_title,
                               o->manufacturer_account_id, o->manufacturer_name,
                               o->seller_of_record_account_id, o->seller_of_record_name, buyers,
                               o->authorization_id, link_strength_name(o->link), o->link_event_key };
        const int64_t ints[] = { o->released_seen, o->late, o->updated_at };
        int r = buyers ? 0 : -ENOMEM;

        if (r == 0)
                r = run_put(s, PUT_OFFER, text, 13, ints, 3);
        free(buyers);
        return r;
}

static int put_agreement(struct store_sqlite *s, const struct agreement *g)
{
        const char *text[] = { g->id, g->intent, g->status, g->acceptance_time, g->start_time,
                               g->end_time, g->offer_id, g->authorization_id,
                               g->acceptor_account_id, g->proposer_account_id,
                               g->previous_agreement_id, g->product_id };
        const int64_t ints[] = { g->last_event_time, g->updated_at };

        return run_put(s, PUT_AGREEMENT, text, 12, ints, 2);
}

static int put_hold(struct store_sqlite *s, const struct hold *h)
{
        const char *text[] = { h->offer_id, h->event_key };
        const int64_t ints[] = { h->created_at, h->deadline, h->attention_sent };

        return run_put(s, PUT_HOLD, text, 2, ints, 3);
}

/* 1 when inserted, 0 when the key was there already. */
static int put_notification(struct store_sqlite *s, const struct notification *n)
{
        const char *text[] = { n->kind, n->key, n->context_json, n->source_event_key,
                               n->opportunity_id, n->offer_id, n->agreement_id };
        const int64_t ints[] = { n->late, n->registered, n->created_at };
        int r = run_put(s, PUT_NOTIFICATION, text, 7, ints, 3);

        return r < 0 ? r : sqlite3_changes(s->db) == 1;
}

/* ---- offer link history ---- */

static int put_link_change(struct store_sqlite *s, const struct link_change *l)
{
        const char *text[] = { l->offer_id, l->from_authorization_id, l->to_authorization_id,
                               link_strength_name(l->from_link), link_strength_name(l->to_link),
                               l->actor, l->reason, l->event_key, l->correction_key };
        const int64_t ints[] = { l->at };

        if (l->offer_id == NULL)
                return -ENOMEM; /* a copy that failed in the changeset */
        return run_stmt(s, "INSERT INTO offer_links (offer_id, from_authorization_id, "
                           "to_authorization_id, from_link, to_link, actor, reason, event_key, "
                           "correction_key, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        text, 9, ints, 1);
}

/* A change set to describe, once per id while pending (a duplicate event
 * in another batch must not describe it twice). created_at is the
 * wall clock: the daemon's batch has no other. */
static int put_aws_refresh(struct store_sqlite *s, const char *change_set_id)
{
        const char *text[] = { change_set_id };
        const int64_t ints[] = { (int64_t)time(NULL) };

        return run_stmt(s, "INSERT INTO aws_refresh (change_set_id, created_at) SELECT ?1, ?2 "
                        "WHERE NOT EXISTS (SELECT 1 FROM aws_refresh WHERE change_set_id = ?1 "
                        "AND done_at IS NULL)",
                        text, 1, ints, 1);
}

static int sqlite_apply(struct store *base, const struct changeset *c, struct strlist *new_keys)
{
        struct store_sqlite *s = impl(base);
        int r = 0;

        for (size_t i = 0; r == 0 && i < c->n_authorizations; i++)
                r = c->authorizations[i].id ? put_authorization(s, &c->authorizations[i]) : -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->n_offers; i++)
                r = c->offers[i].id ? put_offer(s, &c->offers[i]) : -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->n_agreements; i++)
                r = c->agreements[i].id ? put_agreement(s, &c->agreements[i]) : -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->n_holds; i++)
                r = c->holds[i].offer_id ? put_hold(s, &c->holds[i]) : -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->released_holds.n; i++) {
                const char *id[] = { c->released_holds.v[i] };
                r = run_put(s, DEL_HOLD, id, 1, NULL, 0);
        }
        for (size_t i = 0; r == 0 && i < c->n_notifications; i++) {
                r = put_notification(s, &c->notifications[i]);
                if (r == 1)
                        r = new_keys ? strlist_add(new_keys, c->notifications[i].key) : 0;
        }
        for (size_t i = 0; r == 0 && i < c->n_link_changes; i++)
                r = put_link_change(s, &c->link_changes[i]);
        for (size_t i = 0; r == 0 && i < c->aws_refresh.n; i++)
                r = put_aws_refresh(s, c->aws_refresh.v[i]);
        return r;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
        const char *t = col_text(st, i);

        return t ? strdup(t) : NULL;
}

/* Each row_* builds a record from a row; -ENOMEM when a copy fails. */
#define DUP(field, col)                                                                            \
        do {                                                                                       \
                if (sqlite3_column_type(st, col) != SQLITE_NULL &&                                 \
                    (r->field = col_dup(st, col)) == NULL)                                         \
                        return -ENOMEM;                                                            \
        } while (0)

static int row_authorization(sqlite3_stmt *st, struct authorization *r)
{
        DUP(id, 0);
        DUP(name, 1);
        DUP(product_id, 2);
        DUP(product_title, 3);
        DUP(reseller_account_id, 4);
        DUP(reseller_name, 5);
        DUP(buyer_company_name, 6);
        DUP(expires_at, 8);
        DUP(metadata_json, 10);
        DUP(source_event_key, 12);
        r->renewal = sqlite3_column_int(st, 13);
        r->registered = sqlite3_column_int(st, 14);
        r->withdrawn = sqlite3_column_int(st, 15);
        r->updated_at = sqlite3_column_int64(st, 16);
        DUP(aws_status, 17);
        r->aws_modified = sqlite3_column_int64(st, 18);
        authorization_sources_parse(r, col_text(st, 19));
        if (json_list(col_text(st, 7), &r->buyer_account_ids) < 0 ||
            json_list(col_text(st, 9), &r->notify) < 0 || json_list(col_text(st, 11), &r->offer_ids) < 0)
                return -ENOMEM;
        return 0;
}

static int row_offer(sqlite3_stmt *st, struct offer *r)
{
        DUP(id, 0);
        DUP(name, 1);
        DUP(expiration, 2);
        DUP(product_id, 3);
        DUP(product_title, 4);
        DUP(manufacturer_account_id, 5);
        DUP(manufacturer_name, 6);
        DUP(seller_of_record_account_id, 7);
        DUP(seller_of_record_name, 8);
        DUP(authorization_id, 10);
        DUP(link_event_key, 12);
        if (col_text(st, 11) && link_strength_parse(col_text(st, 11), &r->link) < 0)
                return -EIO; /* a link name this program never writes */
        r->released_seen = sqlite3_column_int(st, 13);
        r->late = sqlite3_column_int(st, 14);
        r->updated_at = sqlite3_column_int64(st, 15);
        return json_list(col_text(st, 9), &r->targeted_buyer_account_ids);
}

static int row_agreement(sqlite3_stmt *st, struct agreement *r)
{
        DUP(id, 0);
        DUP(intent, 1);
        DUP(status, 2);
        DUP(acceptance_time, 3);
        DUP(start_time, 4);
        DUP(end_time, 5);
        DUP(offer_id, 6);
        DUP(authorization_id, 7);
        DUP(acceptor_account_id, 8);
        DUP(proposer_account_id, 9);
        DUP(previous_agreement_id, 10);
        DUP(product_id, 11);
        r->last_event_time = sqlite3_column_int64(st, 12);
        r->updated_at = sqlite3_column_int64(st, 13);
        return 0;
}

static int row_hold(sqlite3_stmt *st, struct hold *r)
{
        DUP(offer_id, 0);
        DUP(event_key, 1);
        r->created_at = sqlite3_column_int64(st, 2);
        r->deadline = sqlite3_column_int64(st, 3);
        r->attention_sent = sqlite3_column_int(st, 4);
        return 0;
}
#undef DUP

/* The columns row_<type>() reads, in its order. */
#define AUTH_COLUMNS                                                                               \
        "id, name, product_id, product_title, reseller_account_id, reseller_name, "              \
        "buyer_company_name, buyer_account_ids, expires_at, notify, metadata, offer_ids, "       \
        "source_event_key, renewal, registered, withdrawn, updated_at, aws_status, aws_modified, " \
        "sources"
#define OFFER_COLUMNS                                                                              \
        "id, name, expiration, product_id, product_title, manufacturer_account_id, "             \
        "manufacturer_name, seller_of_record_account_id, seller_of_record_name, "                 \
        "targeted_buyer_account_ids, authorization_id, link, link_event_key, released_seen, "    \
        "late, updated_at"
#define AGREEMENT_COLUMNS                                                                          \
        "id, intent, status, acceptance_time, start_time, end_time, offer_id, authorization_id, " \
        "acceptor_account_id, proposer_account_id, previous_agreement_id, product_id, "          \
        "last_event_time, updated_at"
#define HOLD_COLUMNS "offer_id, event_key, created_at, deadline, attention_sent"

/* Rows of one query: build each row's record, hand it to fn (may be NULL),
 * clear it. bind (may be NULL) is the query's one text parameter. Needs
 * `s`, `st` and `r` in scope; sets r (a failed step mid-scan included). */
#define LOAD_TABLE(type, sql, bind, fn)                                                            \
        do {                                                                                       \
                if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)                    \
                        return -EIO;                                                               \
                if (bind)                                                                          \
                        sqlite3_bind_text(st, 1, bind, -1, SQLITE_TRANSIENT);                      \
                while (scan_row(st, &r)) {                                                         \
                        struct type rec = { 0 };                                                   \
                        r = row_##type(st, &rec);                                                  \
                        if (r == 0 && (fn))                                                        \
                                r = (fn)(ctx, &rec);                                               \
                        type##_clear(&rec);                                                        \
                }                                                                                  \
                sqlite3_finalize(st);                                                              \
        } while (0)

static int sqlite_load(struct store *base, const struct store_load_cb *cb, void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        LOAD_TABLE(authorization, "SELECT " AUTH_COLUMNS " FROM authorizations", (const char *)NULL,
                   cb->authorization);
        LOAD_TABLE(offer, "SELECT " OFFER_COLUMNS " FROM offers", (const char *)NULL, cb->offer);
        LOAD_TABLE(agreement, "SELECT " AGREEMENT_COLUMNS " FROM agreements", (const char *)NULL,
                   cb->agreement);
        LOAD_TABLE(hold, "SELECT " HOLD_COLUMNS " FROM holds", (const char *)NULL, cb->hold);
        if (r < 0)
                return r;
        if (sqlite3_prepare_v2(s->db, "SELECT key FROM notifications", -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        while (scan_row(st, &r))
                r = cb->notification_key ? cb->notification_key(ctx, col_text(st, 0)) : 0;
        sqlite3_finalize(st);
        return r;
}

/* ---- CLI queries and inbox ---- */


static int sqlite_inbox_add(struct store *base, const char *payload, int64_t now, int64_t *id)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { payload };
        const int64_t ints[] = { now };
        int r = run_stmt(s, "INSERT INTO inbox (payload, created_at) VALUES (?, ?)", text, 1,
                         ints, 1);

        if (r == 0 && id)
                *id = sqlite3_last_insert_rowid(s->db);
        return r;
}

static int sqlite_inbox_pending(struct store *base, int64_t *out)
{
        return count_sql(impl(base), "SELECT COUNT(*) FROM inbox WHERE consumed_at IS NULL", out);
}

static int sqlite_inbox_take(struct store *base, int64_t limit, int64_t now,
                             int (*fn)(void *ctx, const struct store_inbox_entry *e), void *ctx)
{
        struct store_sqlite *s = impl(base);
        int64_t last = 0, taken = 0;
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db, "SELECT id, payload, created_at FROM inbox WHERE consumed_at "
                                      "IS NULL ORDER BY id LIMIT ?", -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
        while (scan_row(st, &r)) {
                struct store_inbox_entry e = { .id = sqlite3_column_int64(st, 0),
                                               .payload = col_text(st, 1),
                                               .created_at = sqlite3_column_int64(st, 2) };
                r = e.payload ? fn(ctx, &e) : 0;
                last = e.id;
                taken++;
        }
        sqlite3_finalize(st);
        if (r == 0 && taken) {
                /* ids ascend and the batch holds the write lock: exactly the
                 * entries handed over */
                const int64_t ints[] = { now, last };
                r = run_stmt(s, "UPDATE inbox SET consumed_at = ? WHERE consumed_at IS NULL "
                                "AND id <= ?", NULL, 0, ints, 2);
        }
        return r < 0 ? r : (int)(taken > 0x7fffffff ? 0x7fffffff : taken);
}

static int sqlite_list_authorizations(struct store *base,
                                      int (*fn)(void *ctx, const struct authorization *a),
                                      void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        LOAD_TABLE(authorization, "SELECT " AUTH_COLUMNS " FROM authorizations "
                   "ORDER BY updated_at DESC, id", (const char *)NULL, fn);
        return r;
}

/* One row by id into out through row_fn. 0, -ENOENT, -ENOMEM or -EIO. */
static int get_one(struct store_sqlite *s, const char *sql, const char *id,
                   int (*row_fn)(sqlite3_stmt *st, void *out), void *out)
{
        sqlite3_stmt *st;
        int rc, r = -ENOENT;

        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = row_fn(st, out);
        else if (rc != SQLITE_DONE)
                r = -EIO;
        sqlite3_finalize(st);
        return r;
}

static int row_authorization_any(sqlite3_stmt *st, void *out)
{
        return row_authorization(st, out);
}

static int row_offer_any(sqlite3_stmt *st, void *out)
{
        return row_offer(st, out);
}

static int sqlite_get_authorization(struct store *base, const char *id,
                                    struct authorization *out)
{
        int r;

        authorization_clear(out);
        r = get_one(impl(base), "SELECT " AUTH_COLUMNS " FROM authorizations WHERE id = ?", id,
                    row_authorization_any, out);
        if (r < 0)
                authorization_clear(out);
        return r;
}

static int sqlite_get_offer(struct store *base, const char *id, struct offer *out)
{
        int r;

        offer_clear(out);
        r = get_one(impl(base), "SELECT " OFFER_COLUMNS " FROM offers WHERE id = ?", id,
                    row_offer_any, out);
        if (r < 0)
                offer_clear(out);
        return r;
}

static int sqlite_list_offers(struct store *base, const char *authorization_id,
                              int (*fn)(void *ctx, const struct offer *o), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        LOAD_TABLE(offer, "SELECT " OFFER_COLUMNS " FROM offers WHERE authorization_id = ? "
                   "ORDER BY id", authorization_id, fn);
        return r;
}

static int sqlite_list_agreements(struct store *base, const char *authorization_id,
                                  int (*fn)(void *ctx, const struct agreement *g), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        LOAD_TABLE(agreement, "SELECT " AGREEMENT_COLUMNS " FROM agreements WHERE "
                   "authorization_id = ? ORDER BY acceptance_time, id", authorization_id, fn);
        return r;
}

static int sqlite_list_holds(struct store *base, int (*fn)(void *ctx, const struct hold *h),
                             void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        LOAD_TABLE(hold, "SELECT " HOLD_COLUMNS " FROM holds ORDER BY created_at, offer_id",
                   (const char *)NULL, fn);
        return r;
}


/* ---- deliveries ---- */

#define DELIVERY_COLS                                                                              \
        "key, notification_key, kind, receiver, channel, rule, opportunity_id, status, "           \
        "attempts, created_at_ms, updated_at_ms, next_at_ms, last_code, last_error, payload, "    \
        "recipients"

#define NOTIFICATION_COLS                                                                          \
        "kind, key, context, source_event_key, opportunity_id, offer_id, agreement_id, late, "     \
        "registered, created_at"

/* Rows handed to a callback that may write (the dispatcher claims what
 * store_delivery_due returns, the router marks what it routed) are read
 * first, so no read statement is open while it writes; at most this many. */
#define BATCH_MAX 1024

static sqlite3_stmt *dl_stmt(struct store_sqlite *s, int which, const char *sql)
{
        if (s->dl[which] == NULL && sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                                       &s->dl[which], NULL) != SQLITE_OK)
                return NULL;
        return s->dl[which];
}

static size_t batch_size(int64_t limit)
{
        return limit > 0 && limit < BATCH_MAX ? (size_t)limit : BATCH_MAX;
}

/* Joins the caller's open transaction (as a savepoint, so a failure here
 * undoes only this call) or runs one of its own. */
static int tx_enter(struct store_sqlite *s, bool *own)
{
        *own = sqlite3_get_autocommit(s->db) != 0;
        return exec(s, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT delivery");
}

static int tx_leave(struct store_sqlite *s, bool own, int r)
{
        if (r >= 0 && exec(s, own ? "COMMIT" : "RELEASE delivery") == 0)
                return r;
        exec(s, own ? "ROLLBACK" : "ROLLBACK TO delivery; RELEASE delivery");
        return r < 0 ? r : -EIO;
}

#define DL_DUP(rec, field, col)                                                                    \
        do {                                                                                       \
                if (sqlite3_column_type(st, col) != SQLITE_NULL &&                                 \
                    ((rec)->field = col_dup(st, col)) == NULL)                                     \
                        return -ENOMEM;                                                            \
        } while (0)

static int row_payload(sqlite3_stmt *st, int col, struct delivery *d)
{
        const void *p = sqlite3_column_blob(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);

        d->payload = malloc(n + 1);
        if (d->payload == NULL)
                return -ENOMEM;
        if (n > 0)
                memcpy(d->payload, p, n);
        d->payload[n] = '\0';
        d->payload_len = n;
        return 0;
}

/* Columns in DELIVERY_COLS order. */
static int row_delivery(sqlite3_stmt *st, struct delivery *d)
{
        DL_DUP(d, key, 0);
        DL_DUP(d, notification_key, 1);
        DL_DUP(d, kind, 2);
        DL_DUP(d, receiver, 3);
        DL_DUP(d, channel, 4);
        DL_DUP(d, rule, 5);
        DL_DUP(d, opportunity_id, 6);
        d->status = (enum delivery_status)sqlite3_column_int(st, 7);
        d->attempts = sqlite3_column_int(st, 8);
        d->created_at_ms = sqlite3_column_int64(st, 9);
        d->updated_at_ms = sqlite3_column_int64(st, 10);
        d->next_at_ms = sqlite3_column_int64(st, 11);
        d->last_code = sqlite3_column_int(st, 12);
        DL_DUP(d, last_error, 13);
        if (row_payload(st, 14, d) < 0)
                return -ENOMEM;
        return json_list(col_text(st, 15), &d->recipients);
}

static int row_notification(sqlite3_stmt *st, struct notification *n)
{
        DL_DUP(n, kind, 0);
        DL_DUP(n, key, 1);
        DL_DUP(n, context_json, 2);
        DL_DUP(n, source_event_key, 3);
        DL_DUP(n, opportunity_id, 4);
        DL_DUP(n, offer_id, 5);
        DL_DUP(n, agreement_id, 6);
        n->late = sqlite3_column_int(st, 7) != 0;
        n->registered = sqlite3_column_int(st, 8) != 0;
        n->created_at = sqlite3_column_int64(st, 9);
        return 0;
}
#undef DL_DUP

/* Streams the rows of st to fn (which must not write to the store). */
static int each_delivery(sqlite3_stmt *st, int (*fn)(void *ctx, const struct delivery *d),
                         void *ctx)
{
        int r = 0;

        while (scan_row(st, &r)) {
                struct delivery d = { 0 };
                r = row_delivery(st, &d);
                if (r == 0)
                        r = fn(ctx, &d);
                delivery_clear(&d);
        }
        return r;
}

/* Reads up to cap rows of st into v (zeroed, cap long); *n rows read. */
static int read_deliveries(sqlite3_stmt *st, struct delivery *v, size_t cap, size_t *n)
{
        int r = 0;

        *n = 0;
        while (*n < cap && scan_row(st, &r))
                r = row_delivery(st, &v[(*n)++]);
        return r;
}

static int sqlite_delivery_due(struct store *base, const char *receiver, int64_t now_ms,
                               int64_t limit, int (*fn)(void *ctx, const struct delivery *d),
                               void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st = dl_stmt(s, DL_DUE, "SELECT " DELIVERY_COLS " FROM deliveries "
                                   "WHERE status = 0 AND next_at_ms <= ?1 AND "
                                   "(?2 IS NULL OR receiver = ?2) "
                                   "ORDER BY next_at_ms, rowid LIMIT ?3");
        size_t cap = batch_size(limit), n = 0;
        struct delivery *v;
        int r;

        if (st == NULL)
                return -EIO;
        v = calloc(cap, sizeof *v);
        if (v == NULL)
                return -ENOMEM;
        sqlite3_bind_int64(st, 1, now_ms);
        sqlite3_bind_text(st, 2, receiver, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)cap);
        r = read_deliveries(st, v, cap, &n);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = fn(ctx, &v[i]);
        for (size_t i = 0; i < cap; i++)
                delivery_clear(&v[i]);
        free(v);
        return r;
}

static int sqlite_delivery_claim(struct store *base, const char *key, int64_t now_ms)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st = dl_stmt(s, DL_CLAIM, "UPDATE deliveries SET status = 1, "
                                   "updated_at_ms = ?2 WHERE key = ?1 AND status = 0");

        if (st == NULL)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now_ms);
        if (step_done(st) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 1 : 0;
}

static int finish_update(struct store_sqlite *s, const struct delivery_attempt *a,
                         enum delivery_status status, int64_t next_at_ms)
{
        sqlite3_stmt *st = dl_stmt(s, DL_FINISH, "UPDATE deliveries SET status = ?2, "
                                   "attempts = attempts + 1, next_at_ms = CASE WHEN ?2 = 0 "
                                   "THEN ?3 ELSE next_at_ms END, last_code = ?4, "
                                   "last_error = ?5, updated_at_ms = ?6 WHERE key = ?1");

        if (st == NULL)
                return -EIO;
        sqlite3_bind_text(st, 1, a->delivery_key, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)status);
        sqlite3_bind_int64(st, 3, next_at_ms);
        sqlite3_bind_int(st, 4, a->code);
        sqlite3_bind_text(st, 5, a->error, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, a->at_ms);
        if (step_done(st) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

static int attempt_insert(struct store_sqlite *s, const struct delivery_attempt *a)
{
        sqlite3_stmt *st = dl_stmt(s, DL_ATTEMPT, "INSERT INTO attempts (delivery_key, at_ms, "
                                   "outcome, code, latency_ms, error, refused) "
                                   "VALUES (?,?,?,?,?,?,?)");

        if (st == NULL)
                return -EIO;
        sqlite3_bind_text(st, 1, a->delivery_key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, a->at_ms);
        sqlite3_bind_text(st, 3, a->outcome ? a->outcome : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, a->code);
        sqlite3_bind_int64(st, 5, a->latency_ms);
        sqlite3_bind_text(st, 6, a->error, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, a->refused, -1, SQLITE_STATIC);
        return step_done(st);
}

static int sqlite_delivery_finish(struct store *base, const struct delivery_attempt *a,
                                  enum delivery_status status, int64_t next_at_ms)
{
        struct store_sqlite *s = impl(base);
        bool own;
        int r;

        if (a->delivery_key == NULL || (unsigned)status > DELIVERY_DEAD)
                return -EINVAL;
        if (tx_enter(s, &own) < 0)
                return -EIO;
        r = finish_update(s, a, status, next_at_ms);
        if (r == 0)
                r = attempt_insert(s, a);
        return tx_leave(s, own, r);
}

static void bind_delivery(sqlite3_stmt *st, const struct delivery *d, const char *recipients)
{
        const char *text[] = { d->key, d->notification_key, d->kind, d->receiver,
                               d->channel, d->rule, d->opportunity_id };
        const int64_t ints[] = { d->status, d->attempts, d->created_at_ms, d->updated_at_ms,
                                 d->next_at_ms, d->last_code };

        for (int i = 0; i < 7; i++)
                sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
        for (int i = 0; i < 6; i++)
                sqlite3_bind_int64(st, i + 8, ints[i]);
        sqlite3_bind_text(st, 14, d->last_error, -1, SQLITE_STATIC);
        if (d->payload)
                sqlite3_bind_blob64(st, 15, d->payload, d->payload_len, SQLITE_STATIC);
        else
                sqlite3_bind_zeroblob(st, 15, 0);
        sqlite3_bind_text(st, 16, recipients, -1, SQLITE_STATIC);
}

static int sqlite_delivery_add(struct store *base, const struct delivery *d)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        char *rcpt;
        int r;

        if (!d->key || !d->notification_key || !d->receiver || !d->channel)
                return -EINVAL;
        rcpt = list_json(&d->recipients);
        if (rcpt == NULL)
                return -ENOMEM;
        /* ON CONFLICT, not OR IGNORE: a NULL in a NOT NULL column stays an error. */
        if (sqlite3_prepare_v2(s->db, "INSERT INTO deliveries (" DELIVERY_COLS ") VALUES "
                                      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                                      "ON CONFLICT(key) DO NOTHING", -1, &st, NULL) != SQLITE_OK) {
                free(rcpt);
                return -EIO;
        }
        bind_delivery(st, d, rcpt);
        r = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) == 1 : -EIO;
        sqlite3_finalize(st);
        free(rcpt);
        return r;
}

static int sqlite_delivery_requeue_inflight(struct store *base, int64_t now_ms)
{
        struct store_sqlite *s = impl(base);

        if (run_stmt(s, "UPDATE deliveries SET status = 0, next_at_ms = ?1, updated_at_ms = ?1 "
                        "WHERE status = 1", NULL, 0, &now_ms, 1) < 0)
                return -EIO;
        return sqlite3_changes(s->db);
}

static int sqlite_delivery_retry(struct store *base, const char *key, int64_t now_ms)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { key };
        int r;

        if (key)
                r = run_stmt(s, "UPDATE deliveries SET status = 0, attempts = 0, next_at_ms = ?2, "
                                "updated_at_ms = ?2 WHERE status = 3 AND key = ?1",
                             text, 1, &now_ms, 1);
        else
                r = run_stmt(s, "UPDATE deliveries SET status = 0, attempts = 0, next_at_ms = ?1, "
                                "updated_at_ms = ?1 WHERE status = 3", NULL, 0, &now_ms, 1);
        if (r < 0)
                return r;
        r = sqlite3_changes(s->db);
        return key && r == 0 ? -ENOENT : r;
}

static int sqlite_delivery_list(struct store *base, bool failed_only, int64_t limit,
                                int (*fn)(void *ctx, const struct delivery *d), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r;

        if (sqlite3_prepare_v2(s->db, "SELECT " DELIVERY_COLS " FROM deliveries "
                                      "WHERE (?1 = 0 OR status = 3) "
                                      "ORDER BY created_at_ms DESC, rowid DESC LIMIT ?2",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int(st, 1, failed_only ? 1 : 0);
        sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
        r = each_delivery(st, fn, ctx);
        sqlite3_finalize(st);
        return r;
}

static int sqlite_delivery_get(struct store *base, const char *key, struct delivery *out)
{
        struct store_sqlite *s = impl(base);
        struct delivery d = { 0 };
        sqlite3_stmt *st;
        int rc, r;

        if (sqlite3_prepare_v2(s->db, "SELECT " DELIVERY_COLS " FROM deliveries WHERE key = ?",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        r = rc == SQLITE_ROW ? row_delivery(st, &d) : rc == SQLITE_DONE ? -ENOENT : -EIO;
        sqlite3_finalize(st);
        if (r < 0) {
                delivery_clear(&d);
                return r;
        }
        delivery_clear(out);
        *out = d;
        return 0;
}

static int sqlite_delivery_attempts(struct store *base, const char *key,
                                    int (*fn)(void *ctx, const struct delivery_attempt *a),
                                    void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db, "SELECT delivery_key, at_ms, outcome, code, latency_ms, "
                                      "error, refused FROM attempts WHERE delivery_key = ? "
                                      "ORDER BY id",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        while (scan_row(st, &r)) {
                struct delivery_attempt a = {
                        .delivery_key = col_text(st, 0),
                        .at_ms = sqlite3_column_int64(st, 1),
                        .outcome = col_text(st, 2),
                        .code = sqlite3_column_int(st, 3),
                        .latency_ms = sqlite3_column_int64(st, 4),
                        .error = col_text(st, 5),
                        .refused = col_text(st, 6),
                };
                r = fn(ctx, &a);
        }
        sqlite3_finalize(st);
        return r;
}

static int sqlite_delivery_counts(struct store *base, const char *receiver, int64_t out[4])
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        for (int i = 0; i < 4; i++)
                out[i] = 0;
        if (sqlite3_prepare_v2(s->db, "SELECT status, COUNT(*) FROM deliveries "
                                      "WHERE (?1 IS NULL OR receiver = ?1) GROUP BY status",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, receiver, -1, SQLITE_STATIC);
        while (scan_row(st, &r)) {
                int status = sqlite3_column_int(st, 0);
                if (status >= 0 && status < 4)
                        out[status] = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
        return r;
}

/* Routing states of notifications.routed (migration 2; 3 needs no column). */
enum { ROUTED_PENDING = 0, ROUTED_DONE = 1, ROUTED_NO_RULE = 2, ROUTED_BACKFILL = 3 };

static int notifications_in_state(struct store_sqlite *s, int state, int64_t limit,
                                  int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        size_t cap = batch_size(limit), n = 0;
        struct notification *v;
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db, "SELECT " NOTIFICATION_COLS " FROM notifications "
                                      "WHERE routed = ?2 ORDER BY id LIMIT ?1", -1, &st,
                               NULL) != SQLITE_OK)
                return -EIO;
        v = calloc(cap, sizeof *v);
        sqlite3_bind_int64(st, 1, (int64_t)cap);
        sqlite3_bind_int(st, 2, state);
        while (v && n < cap && scan_row(st, &r))
                r = row_notification(st, &v[n++]);
        sqlite3_finalize(st);
        if (v == NULL)
                return -ENOMEM;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = fn(ctx, &v[i]);
        for (size_t i = 0; i < n; i++)
                notification_clear(&v[i]);
        free(v);
        return r;
}

static int sqlite_notifications_unrouted(struct store *base, int64_t limit,
                                         int (*fn)(void *ctx, const struct notification *n),
                                         void *ctx)
{
        return notifications_in_state(impl(base), ROUTED_PENDING, limit, fn, ctx);
}

static int sqlite_notifications_unmatched(struct store *base, int64_t limit,
                                          int (*fn)(void *ctx, const struct notification *n),
                                          void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db, "SELECT " NOTIFICATION_COLS " FROM notifications "
                                      "WHERE routed = 2 ORDER BY id DESC LIMIT ?", -1, &st,
                               NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
        while (scan_row(st, &r)) {
                struct notification n = { 0 };
                r = row_notification(st, &n);
                if (r == 0)
                        r = fn(ctx, &n);
                notification_clear(&n);
        }
        sqlite3_finalize(st);
        return r;
}

static int sqlite_notification_routed(struct store *base, const char *notification_key,
                                      bool routed)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { notification_key };
        const int64_t state = routed ? 1 : 2;

        if (run_stmt(s, "UPDATE notifications SET routed = ?2 WHERE key = ?1", text, 1, &state,
                     1) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

/* ---- history (replay) and requeued rejected inputs ---- */

static int sqlite_notification_backfill(struct store *base, const char *key)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { key };
        const int64_t states[] = { ROUTED_BACKFILL, ROUTED_PENDING };

        if (run_stmt(s, "UPDATE notifications SET routed = ?2 WHERE key = ?1 AND routed = ?3",
                     text, 1, states, 2) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

static int sqlite_notifications_backfill_pending(struct store *base, int64_t limit,
                                                 int (*fn)(void *ctx,
                                                           const struct notification *n),
                                                 void *ctx)
{
        return notifications_in_state(impl(base), ROUTED_BACKFILL, limit, fn, ctx);
}

static int sqlite_get_rejected(struct store *base, int64_t id,
                               int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        struct store_sqlite *s = impl(base);
        struct store_rejected row;
        sqlite3_stmt *st;
        int rc, r;

        if (prepare_rejected(s, "WHERE id = ?1", &st) < 0)
                return -EIO;
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                row_rejected(st, &row);
                r = fn(ctx, &row);
        } else {
                r = rc == SQLITE_DONE ? -ENOENT : -EIO;
        }
        sqlite3_finalize(st);
        return r;
}

static int sqlite_rejected_requeue(struct store *base, int64_t id, int64_t inbox_id, int64_t now)
{
        struct store_sqlite *s = impl(base);
        const int64_t ints[] = { id, inbox_id, now };

        if (run_stmt(s, "UPDATE rejected SET requeue_inbox_id = ?2, requeued_at = ?3, "
                        "requeue_outcome = 'pending', requeue_error = NULL WHERE id = ?1",
                     NULL, 0, ints, 3) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

static int sqlite_rejected_requeue_of(struct store *base, int64_t inbox_id, int64_t *id)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int rc;

        *id = 0;
        if (sqlite3_prepare_v2(s->db, "SELECT id FROM rejected WHERE requeue_inbox_id = ?1 AND "
                                      "requeue_outcome = 'pending'", -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, inbox_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static int sqlite_rejected_settle(struct store *base, int64_t id, const char *error)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { error ? "rejected" : "accepted", error };
        const int64_t ints[] = { id };

        if (run_stmt(s, "UPDATE rejected SET requeue_outcome = ?1, requeue_error = ?2 "
                        "WHERE id = ?3", text, 2, ints, 1) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

/* ---- receiver health ---- */

static int sqlite_delivery_defer(struct store *base, const struct delivery_attempt *a,
                                 int64_t next_at_ms)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { a->delivery_key, a->error };
        const int64_t ints[] = { next_at_ms, a->code, a->at_ms };
        bool own;
        int r;

        if (a->delivery_key == NULL)
                return -EINVAL;
        if (tx_enter(s, &own) < 0)
                return -EIO;
        r = run_stmt(s, "UPDATE deliveries SET status = 0, next_at_ms = ?3, last_code = ?4, "
                        "last_error = ?2, updated_at_ms = ?5 WHERE key = ?1",
                     text, 2, ints, 3);
        if (r == 0 && sqlite3_changes(s->db) != 1)
                r = -ENOENT;
        if (r == 0)
                r = attempt_insert(s, a);
        return tx_leave(s, own, r);
}

static int sqlite_receiver_health_put(struct store *base, const struct store_receiver_health *h,
                                      bool replace)
{
        const char *text[] = { h->receiver, h->last_error };
        const int64_t ints[] = { h->up ? 1 : 0, h->since_ms, h->failures, h->updated_at_ms };

        if (h->receiver == NULL)
                return -EINVAL;
        return run_stmt(impl(base),
                        replace ? "INSERT OR REPLACE INTO receiver_health (receiver, last_error, "
                                  "up, since_ms, failures, updated_at_ms) VALUES (?,?,?,?,?,?)"
                                : "INSERT OR IGNORE INTO receiver_health (receiver, last_error, "
                                  "up, since_ms, failures, updated_at_ms) VALUES (?,?,?,?,?,?)",
                        text, 2, ints, 4);
}

/* Columns: receiver, known, up, since_ms, failures, last_error,
 * updated_at_ms, then the count of each delivery status 0..3. */
#define RECEIVER_SQL                                                                               \
        "SELECT n.receiver, h.receiver IS NOT NULL, COALESCE(h.up, 1), COALESCE(h.since_ms, 0), " \
        "COALESCE(h.failures, 0), h.last_error, COALESCE(h.updated_at_ms, 0), "                    \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 0), "    \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 1), "    \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 2), "    \
        "(SELECT COUNT(*) FROM deliveries d WHERE d.receiver = n.receiver AND d.status = 3) "     \
        "FROM (SELECT receiver FROM receiver_health UNION SELECT DISTINCT receiver "              \
        "FROM deliveries) n LEFT JOIN receiver_health h ON h.receiver = n.receiver "               \
        "ORDER BY n.receiver"

static int sqlite_receiver_list(struct store *base,
                                int (*fn)(void *ctx, const struct store_receiver *r), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db, RECEIVER_SQL, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        while (scan_row(st, &r)) {
                struct store_receiver v = {
                        .health = { .receiver = col_text(st, 0),
                                    .up = sqlite3_column_int(st, 2) != 0,
                                    .since_ms = sqlite3_column_int64(st, 3),
                                    .failures = sqlite3_column_int64(st, 4),
                                    .last_error = col_text(st, 5),
                                    .updated_at_ms = sqlite3_column_int64(st, 6) },
                        .known = sqlite3_column_int(st, 1) != 0,
                };
                for (int i = 0; i < 4; i++)
                        v.counts[i] = sqlite3_column_int64(st, 7 + i);
                r = fn(ctx, &v);
        }
        sqlite3_finalize(st);
        return r;
}
#undef RECEIVER_SQL

/* ---- offer link history, read ---- */

static int row_link_change(sqlite3_stmt *st, struct link_change *r)
{
        char **text[] = { &r->offer_id, &r->from_authorization_id, &r->to_authorization_id,
                          &r->actor, &r->reason, &r->event_key, &r->correction_key };
        const int cols[] = { 0, 1, 2, 5, 6, 7, 8 };

        for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
                if (sqlite3_column_type(st, cols[i]) != SQLITE_NULL &&
                    (*text[i] = col_dup(st, cols[i])) == NULL)
                        return -ENOMEM;
        r->at = sqlite3_column_int64(st, 9);
        if (link_strength_parse(col_text(st, 3), &r->from_link) < 0 ||
            link_strength_parse(col_text(st, 4), &r->to_link) < 0)
                return -EIO;
        return 0;
}

static int sqlite_list_link_changes(struct store *base, const char *offer_id,
                                    int (*fn)(void *ctx, const struct link_change *l), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db, "SELECT offer_id, from_authorization_id, "
                               "to_authorization_id, from_link, to_link, actor, reason, "
                               "event_key, correction_key, at FROM offer_links WHERE offer_id = ? "
                               "ORDER BY id", -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, offer_id, -1, SQLITE_TRANSIENT);
        while (scan_row(st, &r)) {
                struct link_change l = { 0 };
                r = row_link_change(st, &l);
                if (r == 0)
                        r = fn(ctx, &l);
                link_change_clear(&l);
        }
        sqlite3_finalize(st);
        return r;
}

/* ---- health: what the daemon checks before trusting the store ---- */

static void sqlite_last_error(struct store *base, char *buf, size_t len)
{
        struct store_sqlite *s = impl(base);
        int code = sqlite3_extended_errcode(s->db);

        if (code == SQLITE_OK)
                snprintf(buf, len, "%s", "");
        else
                snprintf(buf, len, "%s (sqlite %d)", sqlite3_errmsg(s->db), code);
}

/* Remembers which file the connection opened (see struct store_sqlite). */
static int watch_file(struct store_sqlite *s, const char *path, char *err, size_t errlen)
{
        struct stat st;

        s->watch_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->watch_fd < 0 || fstat(s->watch_fd, &st) != 0)
                return error_set(err, errlen, -EIO, "cannot watch the store '%s': %s", path,
                                 strerror(errno));
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        return 0;
}

static int sqlite_verify(struct store *base, char *err, size_t errlen)
{
        struct store_sqlite *s = impl(base);
        struct stat held, named;

        if (s->watch_fd < 0) /* in-memory or not watched */
                return 0;
        if (fstat(s->watch_fd, &held) != 0 || held.st_nlink == 0)
                return error_set(err, errlen, -ESTALE, "the store '%s' was deleted while open",
                                 s->path);
        if (stat(s->path, &named) != 0)
                return error_set(err, errlen, -ESTALE, "the store '%s' is gone: %s", s->path,
                                 strerror(errno));
        if (named.st_dev != s->dev || named.st_ino != s->ino)
                return error_set(err, errlen, -ESTALE,
                                 "the store '%s' was replaced by another file while open",
                                 s->path);
        if (!sqlite3_db_readonly(s->db, "main") && access(s->path, W_OK) != 0)
                return error_set(err, errlen, -EROFS, "the store '%s' is not writable: %s",
                                 s->path, strerror(errno));
        return 0;
}

/* PRAGMA quick_check: every page and index entry read once; "ok" or a list
 * of problems, of which the first is reported. */
static int sqlite_integrity(struct store *base, char *err, size_t errlen)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0, rc;

        rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return db_error(s, sqlite_code(rc), err, errlen, "the store cannot be checked");
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const char *what = (const char *)sqlite3_column_text(st, 0);
                if (what == NULL || strcmp(what, "ok") != 0)
                        r = error_set(err, errlen, -EBADMSG,
                                      "the store is damaged (%s); " RECOVERY_HINT,
                                      what ? what : "?", s->path ? s->path : "STORE");
        } else {
                r = db_error(s, rc == SQLITE_DONE ? -EIO : sqlite_code(rc), err, errlen,
                             "the store cannot be checked");
        }
        sqlite3_finalize(st);
        return r;
}

/* ---- AWS sync ---- */

static int sqlite_aws_get(struct store *base, const char *key, char *buf, size_t len)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int rc, r = -ENOENT;

        if (sqlite3_prepare_v2(s->db, "SELECT value FROM aws_state WHERE key = ?", -1, &st,
                               NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = snprintf(buf, len, "%s", col_text(st, 0) ? col_text(st, 0) : "") <
                            (int)len ? 0 : -E2BIG;
        else if (rc != SQLITE_DONE)
                r = sqlite_code(rc);
        sqlite3_finalize(st);
        return r;
}

static int sqlite_aws_put(struct store *base, const char *key, const char *value, int64_t now)
{
        const char *text[] = { key, value };
        const int64_t ints[] = { now };

        return run_stmt(impl(base), "INSERT OR REPLACE INTO aws_state (key, value, updated_at) "
                        "VALUES (?,?,?)", text, 2, ints, 1);
}

static int sqlite_aws_refresh_pending(struct store *base, int64_t limit,
                                      int (*fn)(void *ctx, const struct store_aws_refresh *e),
                                      void *ctx)
{
        struct store_sqlite *s = impl(base);
        struct strlist ids = { 0 }, sets = { 0 };
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db, "SELECT id, change_set_id FROM aws_refresh WHERE done_at "
                               "IS NULL ORDER BY id LIMIT ?", -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, limit > 0 && limit < 1024 ? limit : 1024);
        /* every row first: fn may write (mark it done) */
        while (scan_row(st, &r)) {
                char id[32];
                snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(st, 0));
                if (strlist_add(&ids, id) < 0 || strlist_add(&sets, col_text(st, 1)) < 0)
                        r = -ENOMEM;
        }
        sqlite3_finalize(st);
        for (size_t i = 0; r == 0 && i < ids.n; i++) {
                struct store_aws_refresh e = { .id = strtoll(ids.v[i], NULL, 10),
                                               .change_set_id = sets.v[i] };
                r = fn(ctx, &e);
        }
        strlist_clear(&ids);
        strlist_clear(&sets);
        return r;
}

static int sqlite_aws_refresh_done(struct store *base, int64_t id, const char *outcome,
                                   int64_t now)
{
        const char *text[] = { outcome };
        const int64_t ints[] = { now, id };

        return run_stmt(impl(base), "UPDATE aws_refresh SET outcome = ?1, done_at = ?2 "
                        "WHERE id = ?3", text, 1, ints, 2);
}

static int sqlite_aws_holds_to_check(struct store *base, int64_t checked_before, int64_t limit,
                                     int (*fn)(void *ctx, const char *offer_id), void *ctx)
{
        struct store_sqlite *s = impl(base);
        struct strlist ids = { 0 };
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db, "SELECT h.offer_id FROM holds h LEFT JOIN "
                               "aws_offer_lookups l ON l.offer_id = h.offer_id "
                               "WHERE l.offer_id IS NULL OR l.checked_at < ? "
                               "ORDER BY h.created_at, h.offer_id LIMIT ?",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, checked_before);
        sqlite3_bind_int64(st, 2, limit > 0 && limit < 1024 ? limit : 1024);
        while (scan_row(st, &r))
                r = strlist_add(&ids, col_text(st, 0));
        sqlite3_finalize(st);
        for (size_t i = 0; r == 0 && i < ids.n; i++)
                r = fn(ctx, ids.v[i]);
        strlist_clear(&ids);
        return r;
}

static int sqlite_aws_lookup_put(struct store *base, const struct store_aws_lookup *l)
{
        const char *text[] = { l->offer_id, l->outcome, l->authorization_id, l->detail };
        const int64_t ints[] = { l->checked_at };

        return run_stmt(impl(base), "INSERT OR REPLACE INTO aws_offer_lookups (offer_id, outcome, "
                        "authorization_id, detail, checked_at) VALUES (?,?,?,?,?)",
                        text, 4, ints, 1);
}

static int sqlite_aws_lookup_get(struct store *base, const char *offer_id,
                                 int (*fn)(void *ctx, const struct store_aws_lookup *l), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int rc, r = -ENOENT;

        if (sqlite3_prepare_v2(s->db, "SELECT offer_id, outcome, authorization_id, detail, "
                               "checked_at FROM aws_offer_lookups WHERE offer_id = ?",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, offer_id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                struct store_aws_lookup l = { col_text(st, 0), col_text(st, 1), col_text(st, 2),
                                              col_text(st, 3), sqlite3_column_int64(st, 4) };
                r = fn(ctx, &l);
        } else if (rc != SQLITE_DONE) {
                r = sqlite_code(rc);
        }
        sqlite3_finalize(st);
        return r;
}

static int sqlite_aws_source_counts(struct store *base, int64_t out[STORE_AWS_SOURCES])
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        memset(out, 0, STORE_AWS_SOURCES * sizeof out[0]);
        if (sqlite3_prepare_v2(s->db, "SELECT (aws_status IS NOT NULL) + 2 * (registered != 0), "
                               "COUNT(*) FROM authorizations GROUP BY 1", -1, &st,
                               NULL) != SQLITE_OK)
                return -EIO;
        while (scan_row(st, &r)) {
                int k = sqlite3_column_int(st, 0);
                if (k >= 0 && k < STORE_AWS_SOURCES)
                        out[k] = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
        return r;
}

static const struct store_ops sqlite_ops = {
        .name = "sqlite",
        .close = sqlite_close,
        .begin = sqlite_begin,
        .commit = sqlite_commit,
        .rollback = sqlite_rollback,
        .ledger_add = sqlite_ledger_add,
        .reject = sqlite_reject,
        .count = sqlite_count,
        .list_rejected = sqlite_list_rejected,
        .inbox_add = sqlite_inbox_add,
        .inbox_pending = sqlite_inbox_pending,
        .inbox_take = sqlite_inbox_take,
        .list_authorizations = sqlite_list_authorizations,
        .get_authorization = sqlite_get_authorization,
        .list_offers = sqlite_list_offers,
        .list_holds = sqlite_list_holds,
        .get_offer = sqlite_get_offer,
        .list_agreements = sqlite_list_agreements,
        .schema_version = sqlite_schema_version,
        .apply = sqlite_apply,
        .load = sqlite_load,
        .notifications_unrouted = sqlite_notifications_unrouted,
        .notification_routed = sqlite_notification_routed,
        .delivery_add = sqlite_delivery_add,
        .delivery_due = sqlite_delivery_due,
        .delivery_claim = sqlite_delivery_claim,
        .delivery_finish = sqlite_delivery_finish,
        .delivery_requeue_inflight = sqlite_delivery_requeue_inflight,
        .delivery_list = sqlite_delivery_list,
        .delivery_attempts = sqlite_delivery_attempts,
        .delivery_retry = sqlite_delivery_retry,
        .delivery_counts = sqlite_delivery_counts,
        .delivery_get = sqlite_delivery_get,
        .notifications_unmatched = sqlite_notifications_unmatched,
        .notification_backfill = sqlite_notification_backfill,
        .notifications_backfill_pending = sqlite_notifications_backfill_pending,
        .get_rejected = sqlite_get_rejected,
        .rejected_requeue = sqlite_rejected_requeue,
        .rejected_requeue_of = sqlite_rejected_requeue_of,
        .rejected_settle = sqlite_rejected_settle,
        .list_link_changes = sqlite_list_link_changes,
        .delivery_defer = sqlite_delivery_defer,
        .receiver_health_put = sqlite_receiver_health_put,
        .receiver_list = sqlite_receiver_list,
        .last_error = sqlite_last_error,
        .verify = sqlite_verify,
        .integrity = sqlite_integrity,
        .aws_get = sqlite_aws_get,
        .aws_put = sqlite_aws_put,
        .aws_refresh_pending = sqlite_aws_refresh_pending,
        .aws_refresh_done = sqlite_aws_refresh_done,
        .aws_holds_to_check = sqlite_aws_holds_to_check,
        .aws_lookup_put = sqlite_aws_lookup_put,
        .aws_lookup_get = sqlite_aws_lookup_get,
        .aws_source_counts = sqlite_aws_source_counts,
};

int store_sqlite_open(struct store **out, const char *path, const struct store_options *o,
                      char *err, size_t errlen)
{
        struct store_sqlite *s = calloc(1, sizeof *s);
        int flags = o->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        int r;

        if (s == NULL)
                return -ENOMEM;
        s->base.ops = &sqlite_ops;
        s->watch_fd = -1;
        s->path = strdup(path);
        if (s->path == NULL) {
                free(s);
                return -ENOMEM;
        }
        if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
                r = error_set(err, errlen, -EIO, "cannot open the store '%s': %s", path,
                              s->db ? sqlite3_errmsg(s->db) : "out of memory");
                goto fail;
        }
        r = configure(s, o, err, errlen);
        if (r == 0)
                r = prepare(s, err, errlen);
        if (r == 0)
                r = watch_file(s, path, err, errlen);
        if (r < 0)
                goto fail;
        *out = &s->base;
        return 0;
fail:
        sqlite_close(&s->base);
        return r;
}
