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

/* The statements store_apply() runs for every record of every batch. */
enum put_sql { PUT_AUTHORIZATION, PUT_OFFER, PUT_AGREEMENT, PUT_HOLD, DEL_HOLD, PUT_NOTIFICATION,
               N_PUT_SQL };

struct store_sqlite {
        struct store base; /* first: a struct store * is a struct store_sqlite * */
        sqlite3 *db;
        sqlite3_stmt *ledger_insert;
        sqlite3_stmt *reject_insert;
        /* prepared on first use and kept: parsing them anew for each record
         * cost more than running them */
        sqlite3_stmt *put[N_PUT_SQL];
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
        for (int i = 0; i < N_PUT_SQL; i++)
                sqlite3_finalize(s->put[i]);
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
                "expires_at, notify, metadata, offer_ids, source_event_key, renewal, registered, "
                "withdrawn, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
static int run_stmt(struct store_sqlite *s, enum put_sql which, const char *const *text,
                    int n_text, const int64_t *ints, int n_ints)
{
        sqlite3_stmt *st = s->put[which];

        if (st == NULL && sqlite3_prepare_v3(s->db, put_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                             &s->put[which], NULL) != SQLITE_OK)
                return -EIO;
        st = s->put[which];
        for (int i = 0; i < n_text; i++)
                sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
        for (int i = 0; i < n_ints; i++)
                sqlite3_bind_int64(st, n_text + i + 1, ints[i]);
        return step_done(st);
}

static int put_authorization(struct store_sqlite *s, const struct authorization *a)
{
        char *buyers = list_json(&a->buyer_account_ids), *notify = list_json(&a->notify),
             *offers = list_json(&a->offer_ids);
        const char *text[] = { a->id, a->name, a->product_id, a->product_title,
                               a->reseller_account_id, a->reseller_name, a->buyer_company_name,
                               buyers, a->expires_at, notify, a->metadata_json, offers,
                               a->source_event_key };
        const int64_t ints[] = { a->renewal, a->registered, a->withdrawn, a->updated_at };
        int r = buyers && notify && offers ? 0 : -ENOMEM;

        if (r == 0)
                r = run_stmt(s, PUT_AUTHORIZATION, text, 13, ints, 4);
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
                r = run_stmt(s, PUT_OFFER, text, 13, ints, 3);
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

        return run_stmt(s, PUT_AGREEMENT, text, 12, ints, 2);
}

static int put_hold(struct store_sqlite *s, const struct hold *h)
{
        const char *text[] = { h->offer_id, h->event_key };
        const int64_t ints[] = { h->created_at, h->deadline, h->attention_sent };

        return run_stmt(s, PUT_HOLD, text, 2, ints, 3);
}

/* 1 when inserted, 0 when the key was there already. */
static int put_notification(struct store_sqlite *s, const struct notification *n)
{
        const char *text[] = { n->kind, n->key, n->context_json, n->source_event_key,
                               n->opportunity_id, n->offer_id, n->agreement_id };
        const int64_t ints[] = { n->late, n->registered, n->created_at };
        int r = run_stmt(s, PUT_NOTIFICATION, text, 7, ints, 3);

        return r < 0 ? r : sqlite3_changes(s->db) == 1;
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
                r = run_stmt(s, DEL_HOLD, id, 1, NULL, 0);
        }
        for (size_t i = 0; r == 0 && i < c->n_notifications; i++) {
                r = put_notification(s, &c->notifications[i]);
                if (r == 1)
                        r = new_keys ? strlist_add(new_keys, c->notifications[i].key) : 0;
        }
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
        if (col_text(st, 11))
                link_strength_parse(col_text(st, 11), &r->link);
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

/* One table: build each row's record, hand it over, clear it. */
#define LOAD_TABLE(type, sql, cbfield)                                                             \
        do {                                                                                       \
                if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)                    \
                        return -EIO;                                                               \
                while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {                          \
                        struct type rec = { 0 };                                                   \
                        r = row_##type(st, &rec);                                                  \
                        if (r == 0 && cb->cbfield)                                                 \
                                r = cb->cbfield(ctx, &rec);                                        \
                        type##_clear(&rec);                                                        \
                }                                                                                  \
                sqlite3_finalize(st);                                                              \
        } while (0)

static int sqlite_load(struct store *base, const struct store_load_cb *cb, void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0, rc;

        LOAD_TABLE(authorization, "SELECT id, name, product_id, product_title, reseller_account_id, "
                   "reseller_name, buyer_company_name, buyer_account_ids, expires_at, notify, "
                   "metadata, offer_ids, source_event_key, renewal, registered, withdrawn, "
                   "updated_at FROM authorizations", authorization);
        LOAD_TABLE(offer, "SELECT id, name, expiration, product_id, product_title, "
                   "manufacturer_account_id, manufacturer_name, seller_of_record_account_id, "
                   "seller_of_record_name, targeted_buyer_account_ids, authorization_id, link, "
                   "link_event_key, released_seen, late, updated_at FROM offers", offer);
        LOAD_TABLE(agreement, "SELECT id, intent, status, acceptance_time, start_time, end_time, "
                   "offer_id, authorization_id, acceptor_account_id, proposer_account_id, "
                   "previous_agreement_id, product_id, last_event_time, updated_at FROM agreements",
                   agreement);
        LOAD_TABLE(hold, "SELECT offer_id, event_key, created_at, deadline, attention_sent "
                   "FROM holds", hold);
        if (r < 0)
                return r;
        if (sqlite3_prepare_v2(s->db, "SELECT key FROM notifications", -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
                r = cb->notification_key ? cb->notification_key(ctx, col_text(st, 0)) : 0;
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
        .schema_version = sqlite_schema_version,
        .apply = sqlite_apply,
        .load = sqlite_load,
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
