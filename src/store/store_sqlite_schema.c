/* cppo-notify — the SQLite store's schema: versioned, migrations[] runs
 * forward, each in its own transaction, from the version in schema_version
 * to the newest. */
#include "store_sqlite_internal.h"

#include "cppo/error.h"

#include <sqlite3.h>
#include <stdio.h>

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
        /* 8: notification contexts and delivery payloads are written packed
         * (pack.h), as BLOBs in the same columns: nothing to change, but
         * the version tells an older program that it cannot read this
         * store ("database schema 8 is newer than this program") instead
         * of showing it packed bytes. Older rows stay plain and readable. */
        "",
        /* 9: the ledger keeps a 16-byte digest of each event key instead
         * of its text (store_internal.h: why 16 bytes are enough); the
         * rows there are converted by ledger_digest(), a function of the
         * migrating connection (register_ledger_digest), in key order so
         * the new table fills page after page */
        "CREATE TABLE ledger_v9 ("
        "  key_digest BLOB PRIMARY KEY,"
        "  origin TEXT, partition INTEGER, offset INTEGER,"
        "  processed_at INTEGER NOT NULL"
        ") WITHOUT ROWID;"
        "INSERT OR IGNORE INTO ledger_v9 SELECT ledger_digest(event_key), origin, partition,"
        "  offset, processed_at FROM ledger ORDER BY 1;"
        "DROP TABLE ledger;"
        "ALTER TABLE ledger_v9 RENAME TO ledger;",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static int read_version(struct store_sqlite *s, int *out)
{
        sqlite3_stmt *st;
        int r = -EIO;

        *out = 0;
        if (sqlite3_prepare_v2(s->db, "SELECT MAX(version) FROM schema_version", -1, &st, NULL) !=
            SQLITE_OK)
                return -EIO;
        if (step_row(st) > 0) {
                *out = sqlite3_column_int(st, 0);
                r = 0;
        }
        sqlite3_finalize(st);
        return r;
}

/* ledger_digest(key): the ledger's digest of an event key stored as text
 * (its bytes as stored), for the migration to schema 9. */
static void ledger_digest_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
        uint8_t digest[LEDGER_DIGEST];
        const void *key;

        (void)argc;
        if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
                return; /* NULL: refused by the primary key */
        key = sqlite3_value_blob(argv[0]);
        if (key == NULL && sqlite3_value_bytes(argv[0]) > 0) {
                sqlite3_result_error_nomem(ctx);
                return;
        }
        store_ledger_digest(key ? key : "", (size_t)sqlite3_value_bytes(argv[0]), digest);
        sqlite3_result_blob(ctx, digest, sizeof digest, SQLITE_TRANSIENT);
}

/* Only this connection sees the function, and only SQL the program
 * runs calls it (SQLITE_DIRECTONLY: not from a schema's views or
 * triggers). */
static int register_ledger_digest(struct store_sqlite *s)
{
        return sqlite3_create_function_v2(s->db, "ledger_digest", 1,
                                          SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
                                          NULL, ledger_digest_sql, NULL, NULL, NULL) == SQLITE_OK
                   ? 0
                   : -EIO;
}

/* One step, under the write lock. Another process opening the same new
 * store (the CLI beside a starting daemon) may have applied it since the
 * version was read: it is read again under the lock and skipped then. */
static int migrate_step(struct store_sqlite *s, int v)
{
        char stamp[128];
        int current;

        snprintf(stamp, sizeof stamp,
                 "INSERT INTO schema_version VALUES (%d, "
                 "strftime('%%s','now'));",
                 v + 1);
        if (sqlite_exec(s, "BEGIN IMMEDIATE") < 0 || read_version(s, &current) < 0)
                return -EIO;
        if (current <= v && (sqlite_exec(s, migrations[v]) < 0 || sqlite_exec(s, stamp) < 0))
                return -EIO;
        return sqlite_exec(s, "COMMIT");
}

int sqlite_migrate(struct store_sqlite *s, char *err, size_t errlen)
{
        int version;

        if (sqlite_exec(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
                           " applied_at INTEGER NOT NULL)") < 0 ||
            read_version(s, &version) < 0)
                return sqlite_db_error(s, -EIO, err, errlen, "cannot read the schema version");
        if (version > SCHEMA_VERSION)
                return error_set(err, errlen, -EPROTO,
                                 "database schema %d is newer than this "
                                 "program (%d)",
                                 version, SCHEMA_VERSION);
        if (version < SCHEMA_VERSION && register_ledger_digest(s) < 0)
                return sqlite_db_error(s, -EIO, err, errlen, "cannot prepare the migration");
        for (int v = version; v < SCHEMA_VERSION; v++) {
                if (migrate_step(s, v) < 0) {
                        int r = sqlite_db_error(s, -EIO, err, errlen, "schema migration failed");
                        (void)sqlite_exec(s, "ROLLBACK");
                        return r;
                }
        }
        return 0;
}

int sqlite_schema_version(struct store *s, int *out)
{
        return read_version(impl(s), out);
}
