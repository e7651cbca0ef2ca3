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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_sqlite {
        struct store base; /* first: a struct store * is a struct store_sqlite * */
        sqlite3 *db;
        sqlite3_stmt *ledger_insert;
        sqlite3_stmt *reject_insert;
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
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static const char *const counted_tables[] = {
        "ledger", "rejected", "authorizations", "offers", "agreements", "holds",
        "notifications", "inbox",
};

static int db_error(struct store_sqlite *s, int code, char *err, size_t errlen, const char *what)
{
        return error_set(err, errlen, code, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int exec(struct store_sqlite *s, const char *sql)
{
        return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
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
                char stamp[128];
                snprintf(stamp, sizeof stamp, "INSERT INTO schema_version VALUES (%d, "
                         "strftime('%%s','now'));", v + 1);
                if (exec(s, "BEGIN IMMEDIATE") < 0 || exec(s, migrations[v]) < 0 ||
                    exec(s, stamp) < 0 || exec(s, "COMMIT") < 0) {
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
        sqlite3_close(s->db);
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
        return rc == SQLITE_DONE ? 0 : -EIO;
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

static int sqlite_count(struct store *base, const char *table, int64_t *out)
{
        struct store_sqlite *s = impl(base);
        char sql[96];
        sqlite3_stmt *st;
        int r = -EIO;
        size_t i;

        for (i = 0; i < sizeof counted_tables / sizeof counted_tables[0]; i++)
                if (strcmp(table, counted_tables[i]) == 0)
                        break;
        if (i == sizeof counted_tables / sizeof counted_tables[0])
                return -EINVAL; /* only known names reach the SQL text */
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", counted_tables[i]);
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        if (sqlite3_step(st) == SQLITE_ROW) {
                *out = sqlite3_column_int64(st, 0);
                r = 0;
        }
        sqlite3_finalize(st);
        return r;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
        return (const char *)sqlite3_column_text(st, i);
}

static int sqlite_list_rejected(struct store *base, int64_t limit,
                                int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int rc, r = 0;

        if (sqlite3_prepare_v2(s->db, "SELECT id, reason, message, origin, partition, offset, "
                                      "received_at, truncated, raw FROM rejected "
                                      "ORDER BY id DESC LIMIT ?", -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct store_rejected row = {
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
                };
                r = fn(ctx, &row);
        }
        sqlite3_finalize(st);
        return r;
}

static int sqlite_schema_version(struct store *s, int *out)
{
        return read_version(impl(s), out);
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
        .schema_version = sqlite_schema_version,
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
        if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
                r = error_set(err, errlen, -EIO, "cannot open the store '%s': %s", path,
                              s->db ? sqlite3_errmsg(s->db) : "out of memory");
                goto fail;
        }
        r = configure(s, o, err, errlen);
        if (r == 0)
                r = prepare(s, err, errlen);
        if (r < 0)
                goto fail;
        *out = &s->base;
        return 0;
fail:
        sqlite3_close(s->db);
        free(s);
        return r;
}
