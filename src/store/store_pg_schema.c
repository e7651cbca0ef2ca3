/* cppo-notify — the PostgreSQL store's schema: the same tables, columns,
 * keys and indexes as the SQLite store's (store_sqlite_schema.c) in
 * PostgreSQL types, versioned with the same numbers.
 *
 * A new database goes straight to the version the PostgreSQL store was
 * introduced at (7) in one script; later steps share their numbers with
 * SQLite's. Every run happens in one transaction under
 * pg_advisory_xact_lock(PG_MIGRATION_LOCK_KEY), so two instances starting
 * together on an empty database apply each step once: the second waits for
 * the lock, then reads the version the first wrote. */
#include "store_pg_internal.h"

#include "cppo/error.h"

#include <inttypes.h>
#include <stdio.h>

/* The first version a PostgreSQL store can have. */
#define PG_SCHEMA_FIRST 7

/* Forward-only. Never edit a released step: add a new one. Types: BIGINT
 * for every integer, BOOLEAN where the C side is bool, BYTEA for raw
 * bytes, BIGSERIAL for ids SQLite takes from its rowid. */
static const struct {
        int version;
        const char *sql[4]; /* run in order (a C string literal has a size cap) */
} migrations[] = {
        { 7,
          /* SQLite's versions 1..7 as one script */
          { "CREATE TABLE ledger ("
            "  event_key TEXT PRIMARY KEY,"
            "  origin TEXT, partition BIGINT, \"offset\" BIGINT,"
            "  processed_at BIGINT NOT NULL"
            ");"
            "CREATE TABLE rejected ("
            "  id BIGSERIAL PRIMARY KEY,"
            "  reason TEXT NOT NULL, message TEXT NOT NULL,"
            "  origin TEXT, partition BIGINT, \"offset\" BIGINT,"
            "  received_at BIGINT NOT NULL,"
            "  truncated BOOLEAN NOT NULL DEFAULT false,"
            "  raw BYTEA NOT NULL,"
            "  requeue_inbox_id BIGINT, requeued_at BIGINT,"
            "  requeue_outcome TEXT, requeue_error TEXT"
            ");"
            /* a message re-delivered after a crash is not kept twice; the
           * message by its digest, since an index entry has a size cap */
            "CREATE UNIQUE INDEX rejected_once ON rejected"
            "  (origin, partition, \"offset\", reason, md5(message));"
            "CREATE INDEX rejected_requeue ON rejected(requeue_inbox_id);"
            "CREATE TABLE authorizations ("
            "  id TEXT PRIMARY KEY, name TEXT, product_id TEXT, product_title TEXT,"
            "  reseller_account_id TEXT, reseller_name TEXT, buyer_company_name TEXT,"
            "  buyer_account_ids TEXT NOT NULL DEFAULT '[]', expires_at TEXT,"
            "  renewal BOOLEAN NOT NULL DEFAULT false, notify TEXT NOT NULL DEFAULT '[]',"
            "  metadata TEXT, offer_ids TEXT NOT NULL DEFAULT '[]',"
            "  registered BOOLEAN NOT NULL DEFAULT false,"
            "  withdrawn BOOLEAN NOT NULL DEFAULT false,"
            "  source_event_key TEXT, updated_at BIGINT NOT NULL DEFAULT 0,"
            "  aws_status TEXT, aws_modified BIGINT NOT NULL DEFAULT 0, sources TEXT"
            ");"
            "CREATE TABLE offers ("
            "  id TEXT PRIMARY KEY, name TEXT, expiration TEXT, product_id TEXT,"
            "  product_title TEXT, manufacturer_account_id TEXT, manufacturer_name TEXT,"
            "  seller_of_record_account_id TEXT, seller_of_record_name TEXT,"
            "  targeted_buyer_account_ids TEXT NOT NULL DEFAULT '[]',"
            "  authorization_id TEXT, link TEXT NOT NULL DEFAULT 'none', link_event_key TEXT,"
            "  released_seen BOOLEAN NOT NULL DEFAULT false, late BIGINT NOT NULL DEFAULT 0,"
            "  updated_at BIGINT NOT NULL DEFAULT 0"
            ");"
            "CREATE INDEX offers_authorization ON offers(authorization_id);"
            "CREATE TABLE agreements ("
            "  id TEXT PRIMARY KEY, intent TEXT, status TEXT, acceptance_time TEXT,"
            "  start_time TEXT, end_time TEXT, offer_id TEXT, authorization_id TEXT,"
            "  acceptor_account_id TEXT, proposer_account_id TEXT, previous_agreement_id TEXT,"
            "  product_id TEXT, last_event_time BIGINT NOT NULL DEFAULT 0,"
            "  updated_at BIGINT NOT NULL DEFAULT 0"
            ");"
            "CREATE INDEX agreements_authorization ON agreements(authorization_id);",
            "CREATE TABLE holds ("
            "  offer_id TEXT PRIMARY KEY, event_key TEXT, created_at BIGINT NOT NULL,"
            "  deadline BIGINT NOT NULL, attention_sent BOOLEAN NOT NULL DEFAULT false"
            ");"
            /* routed: 0 pending, 1 routed, 2 no rule matched, 3 history */
            "CREATE TABLE notifications ("
            "  id BIGSERIAL PRIMARY KEY,"
            "  kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE, context TEXT NOT NULL,"
            "  source_event_key TEXT, opportunity_id TEXT, offer_id TEXT, agreement_id TEXT,"
            "  late BOOLEAN NOT NULL DEFAULT false, registered BOOLEAN NOT NULL DEFAULT false,"
            "  created_at BIGINT NOT NULL, routed BIGINT NOT NULL DEFAULT 0"
            ");"
            "CREATE INDEX notifications_routed ON notifications(routed, id);"
            "CREATE TABLE inbox ("
            "  id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL,"
            "  created_at BIGINT NOT NULL, consumed_at BIGINT"
            ");"
            "CREATE TABLE deliveries ("
            "  key TEXT PRIMARY KEY, notification_key TEXT NOT NULL, kind TEXT,"
            "  receiver TEXT NOT NULL, channel TEXT NOT NULL, rule TEXT, opportunity_id TEXT,"
            "  status BIGINT NOT NULL DEFAULT 0, attempts BIGINT NOT NULL DEFAULT 0,"
            "  created_at_ms BIGINT NOT NULL, updated_at_ms BIGINT NOT NULL,"
            "  next_at_ms BIGINT NOT NULL DEFAULT 0, last_code BIGINT NOT NULL DEFAULT 0,"
            "  claim_epoch BIGINT NOT NULL DEFAULT 0, seq BIGSERIAL," /* PG only: HA, order */
            "  last_error TEXT, payload BYTEA NOT NULL, recipients TEXT NOT NULL DEFAULT '[]'"
            ");"
            "CREATE INDEX deliveries_due ON deliveries(status, next_at_ms);"
            "CREATE INDEX deliveries_receiver ON deliveries(receiver);"
            "CREATE TABLE attempts ("
            "  id BIGSERIAL PRIMARY KEY,"
            "  delivery_key TEXT NOT NULL REFERENCES deliveries(key) ON DELETE CASCADE,"
            "  at_ms BIGINT NOT NULL, outcome TEXT NOT NULL, code BIGINT NOT NULL DEFAULT 0,"
            "  latency_ms BIGINT NOT NULL DEFAULT 0, error TEXT, refused TEXT"
            ");"
            "CREATE INDEX attempts_delivery ON attempts(delivery_key);",
            "CREATE TABLE offer_links ("
            "  id BIGSERIAL PRIMARY KEY, offer_id TEXT NOT NULL,"
            "  from_authorization_id TEXT, to_authorization_id TEXT,"
            "  from_link TEXT NOT NULL, to_link TEXT NOT NULL,"
            "  actor TEXT, reason TEXT, event_key TEXT, correction_key TEXT,"
            "  at BIGINT NOT NULL"
            ");"
            "CREATE INDEX offer_links_offer ON offer_links(offer_id, id);"
            "CREATE TABLE receiver_health ("
            "  receiver TEXT PRIMARY KEY, up BOOLEAN NOT NULL DEFAULT true,"
            "  since_ms BIGINT NOT NULL DEFAULT 0, failures BIGINT NOT NULL DEFAULT 0,"
            "  last_error TEXT, updated_at_ms BIGINT NOT NULL DEFAULT 0"
            ");"
            "CREATE TABLE aws_state ("
            "  key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at BIGINT NOT NULL"
            ");"
            "CREATE TABLE aws_refresh ("
            "  id BIGSERIAL PRIMARY KEY, change_set_id TEXT NOT NULL,"
            "  created_at BIGINT NOT NULL, done_at BIGINT, outcome TEXT"
            ");"
            "CREATE INDEX aws_refresh_pending ON aws_refresh(done_at, id);"
            "CREATE TABLE aws_offer_lookups ("
            "  offer_id TEXT PRIMARY KEY, outcome TEXT NOT NULL, authorization_id TEXT,"
            "  detail TEXT, checked_at BIGINT NOT NULL"
            ");"
            /* PostgreSQL only: the leader's epoch for high availability (one
           * row; a takeover increments it, fenced commits compare it) */
            "CREATE TABLE ha_leader ("
            "  id INT PRIMARY KEY CHECK (id = 1),"
            "  epoch BIGINT NOT NULL, holder TEXT, since BIGINT"
            ");"
            "INSERT INTO ha_leader (id, epoch) VALUES (1, 0);" } },
        { 8,
          /* notification contexts are written packed (pack.h), so the
           * column holds bytes, as deliveries.payload always did; the rows
           * already there keep their text as UTF-8 bytes, which read as
           * plain values. Rewrites the table once, under the lock. */
          { "ALTER TABLE notifications ALTER COLUMN context TYPE BYTEA"
            "  USING convert_to(context, 'UTF8');" } },
        { 9,
          /* the ledger keeps a 16-byte digest of each event key instead of
           * its text (store_internal.h: why 16 bytes are enough), the same
           * bytes the program computes: built-in sha256() of the key's
           * UTF-8, its first 16 bytes. A new table, filled in key order,
           * under the lock; its key constraint takes the old name. */
          { "CREATE TABLE ledger_v9 ("
            "  key_digest BYTEA PRIMARY KEY,"
            "  origin TEXT, partition BIGINT, \"offset\" BIGINT,"
            "  processed_at BIGINT NOT NULL"
            ");"
            "INSERT INTO ledger_v9 SELECT substring(sha256(convert_to(event_key, 'UTF8'))"
            "  FROM 1 FOR 16), origin, partition, \"offset\", processed_at FROM ledger"
            "  ORDER BY 1 ON CONFLICT DO NOTHING;"
            "DROP TABLE ledger;"
            "ALTER TABLE ledger_v9 RENAME TO ledger;"
            "ALTER INDEX ledger_v9_pkey RENAME TO ledger_pkey;" } },
};

#define N_MIGRATIONS      (sizeof migrations / sizeof migrations[0])
#define PG_SCHEMA_VERSION (migrations[N_MIGRATIONS - 1].version)

bool pg_schema_known(int v)
{
        return v >= PG_SCHEMA_FIRST && v <= PG_SCHEMA_VERSION;
}

static int read_version(struct store_pg *s, int *out)
{
        int64_t v = 0;
        int r = pg_count_sql(s, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, &v);

        *out = r == 0 ? (int)v : 0;
        return r;
}

/* Applies every step after version, stamping each. */
static int apply_steps(struct store_pg *s, int version)
{
        struct pg_params p = { 0 };
        int r = 0;

        for (size_t i = 0; r == 0 && i < N_MIGRATIONS; i++) {
                /* a new database takes the first script whole */
                if (migrations[i].version <= version)
                        continue;
                for (size_t k = 0; r == 0 && k < 4 && migrations[i].sql[k]; k++)
                        r = pg_exec_script(s, migrations[i].sql[k]);
                p = (struct pg_params){ 0 };
                pg_param_int(&p, migrations[i].version);
                if (r == 0)
                        r = pg_exec(s,
                                    "INSERT INTO schema_version (version, applied_at) "
                                    "VALUES ($1, EXTRACT(EPOCH FROM now())::BIGINT)",
                                    &p);
        }
        return r;
}

/* An upgrade changes what a running older instance reads and writes
 * under its feet (schema 8 turned contexts into BYTEA: an old leader's
 * prepared statements fail): so no step runs while any instance leads.
 * 0, or -EBUSY saying which server process holds the leader lock. */
static int refuse_beside_a_leader(struct store_pg *s, int version, char *err, size_t errlen)
{
        int64_t pid = 0;
        int r = pg_count_sql(s, "SELECT COALESCE(MIN(pid), 0) " PG_LEADER_LOCK_ROWS, NULL, &pid);

        if (r < 0)
                return error_set(err, errlen, r, "cannot look for a running leader on %s: %s",
                                 s->target, s->last_error);
        if (pid == 0)
                return 0;
        return error_set(err, errlen, -EBUSY,
                         "cppo-notifyd still leads on %s (server process %" PRId64
                         " holds the leader lock): stop every instance before this version "
                         "upgrades the schema from %d to %d",
                         s->target, pid, version, PG_SCHEMA_VERSION);
}

/* Under the lock: the version table, the version, the steps. */
static int migrate_locked(struct store_pg *s, char *err, size_t errlen)
{
        int version = 0;
        int r = pg_exec(s, "SELECT pg_advisory_xact_lock(" PG_MIGRATION_LOCK_KEY ")", NULL);

        if (r == 0)
                r = pg_exec(s,
                            "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY "
                            "KEY, applied_at BIGINT NOT NULL)",
                            NULL);
        if (r == 0)
                r = read_version(s, &version);
        if (r < 0)
                return error_set(err, errlen, r, "cannot read the schema version of %s: %s",
                                 s->target, s->last_error);
        if (version > PG_SCHEMA_VERSION)
                return error_set(err, errlen, -EPROTO,
                                 "database schema %d is newer than this program (%d)", version,
                                 PG_SCHEMA_VERSION);
        if (version != 0 && version < PG_SCHEMA_FIRST)
                return error_set(err, errlen, -EPROTO,
                                 "database schema %d predates the PostgreSQL store (%d)", version,
                                 PG_SCHEMA_FIRST);
        if (version != 0 && version < PG_SCHEMA_VERSION &&
            (r = refuse_beside_a_leader(s, version, err, errlen)) < 0)
                return r;
        r = apply_steps(s, version);
        if (r < 0)
                return error_set(err, errlen, r, "schema migration of %s failed: %s", s->target,
                                 s->last_error);
        return 0;
}

int pg_migrate(struct store_pg *s, char *err, size_t errlen)
{
        int r = pg_exec(s, "BEGIN", NULL);

        if (r < 0)
                return error_set(err, errlen, r, "cannot migrate %s: %s", s->target, s->last_error);
        r = migrate_locked(s, err, errlen);
        if (r < 0) {
                (void)pg_exec(s, "ROLLBACK", NULL);
                return r;
        }
        r = pg_exec(s, "COMMIT", NULL);
        if (r < 0)
                return error_set(err, errlen, r, "schema migration of %s failed: %s", s->target,
                                 s->last_error);
        return 0;
}

int pg_schema_version(struct store *base, int *out)
{
        return read_version(impl(base), out);
}
