/* cppo-notify — the PostgreSQL store's CPPO records: authorizations,
 * offers, agreements, holds, notifications (with their routing state) and
 * each offer's link history; written by store_apply(), read back whole by
 * store_load() and one by one by the CLI. The same behaviour as
 * store_sqlite_records.c, in PostgreSQL's words:
 * - SQLite's INSERT OR REPLACE is an upsert on the table's key that sets
 *   every other column (each table holds exactly its record's fields, so
 *   nothing is left over from the old row); INSERT OR IGNORE is ON
 *   CONFLICT DO NOTHING, which keeps the first row, its id and its routing
 *   state.
 * - Text is ordered with COLLATE "C": byte order, as SQLite's BINARY, not
 *   the database's locale (which would e.g. skip '-' in ids).
 * - Scans that may be long (the load, the CLI's lists) read through a
 *   cursor PG_BATCH_MAX rows at a time: memory stays bounded, and between
 *   fetches the connection is free, so a callback may query the store (as
 *   `holds` does per hold) just as it may with SQLite.
 */
#include "store_pg_internal.h"

#include "cppo/error.h"
#include "cppo/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The record types, in the order store_apply() writes them. */
enum rec {
        REC_AUTHORIZATION,
        REC_OFFER,
        REC_AGREEMENT,
        REC_HOLD,
        REC_NOTIFICATION,
        REC_LINK_CHANGE,
        N_REC
};

/* What a put does with a row whose key is there already. */
enum put_mode {
        PUT_REPLACE, /* every column takes the new value */
        PUT_KEEP,    /* the first row for a key stays */
        PUT_APPEND,  /* history: no key, always a new row */
};

/* Where each record type is stored. Columns, parameters and row readers
 * all come from the record's field table (model.h), so none is written out
 * by hand. */
static const struct table {
        const struct record_type *rec;
        const char *name; /* the SQL table */
        const char *key;  /* its unique key (PUT_REPLACE, PUT_KEEP) */
        enum put_mode mode;
} tables[N_REC] = {
        [REC_AUTHORIZATION] = { &authorization_record, "authorizations", "id", PUT_REPLACE },
        [REC_OFFER] = { &offer_record, "offers", "id", PUT_REPLACE },
        [REC_AGREEMENT] = { &agreement_record, "agreements", "id", PUT_REPLACE },
        [REC_HOLD] = { &hold_record, "holds", "offer_id", PUT_REPLACE },
        /* the key is the fact: the first row for a key stays */
        [REC_NOTIFICATION] = { &notification_record, "notifications", "key", PUT_KEEP },
        /* history is appended, never replaced */
        [REC_LINK_CHANGE] = { &link_change_record, "offer_links", NULL, PUT_APPEND },
};

/* The statements prepared once per connection (store_pg_internal.h gives
 * this file PG_ST_RECORDS + 0 .. 31): a put per record type, then these. */
enum {
        ST_PUT = PG_ST_RECORDS,              /* + enum rec */
        ST_DEL_HOLD = PG_ST_RECORDS + N_REC, /* a released hold */
        ST_IN_STATE,                         /* notifications by routing state */
        ST_SET_ROUTED,                       /* a notification's routing state */
};

/* Routing states of notifications.routed (as the SQLite store's). */
enum { ROUTED_PENDING = 0, ROUTED_DONE = 1, ROUTED_NO_RULE = 2, ROUTED_BACKFILL = 3 };

/* ---- writing (store_apply) ----
 *
 * store_apply() runs for every poll batch, with a few records per message:
 * one round trip per record would cost more than the records. So the puts
 * go through libpq's pipeline mode: each by its statement prepared once per
 * connection (named "cppo_<n>" as pg_run() names them), sent without
 * waiting, up to PIPELINE_MAX at a time, then their results read in order.
 * They run in the caller's transaction as they would one by one, and in the
 * same order; after a failure the server skips the rest of the chunk.
 * (Called with no transaction open, against the contract, each chunk would
 * be one transaction of its own rather than each statement.) */

/* Statements in flight at most: a bound on what waits unread on either
 * side (the server could stall writing replies nobody reads). */
#define PIPELINE_MAX 128

/* One statement in flight: a statement to prepare, or a put. */
struct sent {
        int stmt;        /* the statement it prepares, or -1 for a put */
        const char *key; /* a notification put: its key (for new_keys) */
};

struct pipeline {
        struct store_pg *s;
        struct strlist *new_keys; /* may be NULL */
        struct sent sent[PIPELINE_MAX];
        int n; /* in flight */
        int r; /* the first failure: nothing more is sent */
};

/* The put statement of tables[which] into sql (SQL_MAX bytes). */
static int put_sql(enum rec which, char *sql)
{
        const struct table *t = &tables[which];
        char tail[64];

        switch (t->mode) {
        case PUT_REPLACE: return pg_upsert_sql(t->rec, t->name, t->key, sql);
        case PUT_KEEP:
                snprintf(tail, sizeof tail, "ON CONFLICT (%s) DO NOTHING", t->key);
                return pg_insert_sql(t->rec, t->name, tail, sql);
        case PUT_APPEND: return pg_insert_sql(t->rec, t->name, "", sql);
        }
        return -EINVAL;
}

static void stmt_name(int stmt, char *name, size_t len)
{
        snprintf(name, len, "cppo_%d", stmt);
}

/* A failure from the server or the connection, once: the first is the
 * one that says why (those after it are only "aborted"). */
static void pipeline_fail(struct pipeline *pl, const PGresult *res)
{
        if (pl->r == 0)
                pl->r = pg_error(pl->s, res);
}

/* What one result says about the statement it answers. */
static void pipeline_result(struct pipeline *pl, const struct sent *sent, PGresult *res)
{
        struct store_pg *s = pl->s;

        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                if (sent->stmt >= 0)
                        s->prepared[sent->stmt] = false; /* not made: prepared anew next time */
                pipeline_fail(pl, res);                  /* the first: those after are "aborted" */
                return;
        }
        /* a notification inserted (1 row), not one already there (0) */
        if (sent->key && strcmp(PQcmdTuples(res), "1") == 0 && pl->new_keys && pl->r == 0)
                pl->r = strlist_add(pl->new_keys, sent->key);
}

/* Ends the chunk in flight: a sync point, then every result in order. Each
 * statement's result is followed by a NULL; the sync's ends the chunk. */
static void pipeline_flush(struct pipeline *pl)
{
        PGconn *conn = pl->s->conn;
        int i = 0;

        if (pl->n == 0)
                return;
        if (PQpipelineSync(conn) != 1) {
                pipeline_fail(pl, NULL);
                pl->n = 0;
                return;
        }
        for (;;) {
                PGresult *res = PQgetResult(conn);
                if (res == NULL) {
                        if (++i > pl->n) { /* no sync point: the connection is gone */
                                pipeline_fail(pl, NULL);
                                break;
                        }
                        continue;
                }
                if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
                        PQclear(res);
                        break;
                }
                if (i < pl->n)
                        pipeline_result(pl, &pl->sent[i], res);
                PQclear(res);
        }
        pl->n = 0;
}

/* Queues stmt (prepared from sql first if this connection has not) with
 * p; flushes when the chunk is full. */
static void pipeline_send(struct pipeline *pl, int stmt, const char *sql, const struct pg_params *p,
                          const char *key)
{
        struct store_pg *s = pl->s;
        char name[24];

        if (pl->n + 2 > PIPELINE_MAX)
                pipeline_flush(pl);
        if (pl->r < 0)
                return;
        if (p->overflow) {
                pl->r = -E2BIG;
                return;
        }
        stmt_name(stmt, name, sizeof name);
        if (!s->prepared[stmt]) {
                if (PQsendPrepare(s->conn, name, sql, p->n, NULL) != 1) {
                        pipeline_fail(pl, NULL);
                        return;
                }
                s->prepared[stmt] = true; /* sent once; undone if it fails */
                pl->sent[pl->n++] = (struct sent){ stmt, NULL };
        }
        if (PQsendQueryPrepared(s->conn, name, p->n, p->v, p->len, p->fmt, 0) != 1) {
                pipeline_fail(pl, NULL);
                return;
        }
        pl->sent[pl->n++] = (struct sent){ -1, key };
}

/* Queues the put of rec as its table says (rec NULL: its copy into the
 * changeset failed, -ENOMEM). The statement text is built only while the
 * connection has not prepared it. */
static void put_record(struct pipeline *pl, enum rec which, const void *rec, const char *key)
{
        struct pg_params p = { 0 };
        char sql[SQL_MAX] = "";
        int stmt = ST_PUT + (int)which;
        int r = rec ? 0 : -ENOMEM;

        if (r == 0 && !pl->s->prepared[stmt])
                r = put_sql(which, sql);
        if (r == 0)
                r = pg_params_record(&p, tables[which].rec, rec);
        if (r == 0)
                pipeline_send(pl, stmt, sql, &p, key);
        else if (pl->r == 0)
                pl->r = r;
        pg_params_free(&p);
}

static void del_hold(struct pipeline *pl, const char *offer_id)
{
        struct pg_params p = { 0 };

        pg_param_text(&p, offer_id);
        pipeline_send(pl, ST_DEL_HOLD, "DELETE FROM holds WHERE offer_id = $1", &p, NULL);
}

/* Each record is put only when its copy into the changeset succeeded (a
 * failed copy leaves it cleared: no key). */
static void put_all(struct pipeline *pl, const struct changeset *c)
{
        for (size_t i = 0; pl->r == 0 && i < c->n_authorizations; i++)
                put_record(pl, REC_AUTHORIZATION,
                           c->authorizations[i].id ? &c->authorizations[i] : NULL, NULL);
        for (size_t i = 0; pl->r == 0 && i < c->n_offers; i++)
                put_record(pl, REC_OFFER, c->offers[i].id ? &c->offers[i] : NULL, NULL);
        for (size_t i = 0; pl->r == 0 && i < c->n_agreements; i++)
                put_record(pl, REC_AGREEMENT, c->agreements[i].id ? &c->agreements[i] : NULL, NULL);
        for (size_t i = 0; pl->r == 0 && i < c->n_holds; i++)
                put_record(pl, REC_HOLD, c->holds[i].offer_id ? &c->holds[i] : NULL, NULL);
        for (size_t i = 0; pl->r == 0 && i < c->released_holds.n; i++)
                del_hold(pl, c->released_holds.v[i]);
        for (size_t i = 0; pl->r == 0 && i < c->n_notifications; i++) {
                const struct notification *n = &c->notifications[i];
                /* SQLite's INSERT OR IGNORE also skips a row that breaks a
                 * NOT NULL column (kind, context): so does this store */
                if (n->key && (n->kind == NULL || n->context_json == NULL))
                        continue;
                put_record(pl, REC_NOTIFICATION, n->key ? n : NULL, n->key);
        }
        for (size_t i = 0; pl->r == 0 && i < c->n_link_changes; i++)
                put_record(pl, REC_LINK_CHANGE,
                           c->link_changes[i].offer_id ? &c->link_changes[i] : NULL, NULL);
}

int pg_apply(struct store *base, const struct changeset *c, struct strlist *new_keys)
{
        struct store_pg *s = impl(base);
        struct pipeline *pl = calloc(1, sizeof *pl);
        int r;

        if (pl == NULL)
                return -ENOMEM;
        pl->s = s;
        pl->new_keys = new_keys;
        if (PQenterPipelineMode(s->conn) != 1) {
                free(pl);
                return pg_error(s, NULL);
        }
        put_all(pl, c);
        pipeline_flush(pl); /* what was sent before a failure, read all the same */
        if (PQexitPipelineMode(s->conn) != 1)
                pipeline_fail(pl, NULL);
        r = pl->r;
        /* the server's last words came first; say what pg_run() says */
        if (r < 0 && PQstatus(s->conn) != CONNECTION_OK)
                r = pg_error(s, NULL);
        free(pl);
        for (size_t i = 0; r == 0 && i < c->aws_refresh.n; i++)
                r = pg_aws_refresh_add(s, c->aws_refresh.v[i]);
        return r;
}

/* ---- scans through a cursor ---- */

/* A transaction for reads when none is open (begin: its BEGIN), so a
 * cursor can live in it; *own tells end_own() to close it. */
static int begin_own(struct store_pg *s, const char *begin, bool *own)
{
        *own = !pg_in_transaction(s);
        return *own ? pg_exec(s, begin, NULL) : 0;
}

/* Ends what begin_own() opened: committed when r is 0 (reads only: no
 * fence to check), rolled back otherwise with r's message kept. */
static int end_own(struct store_pg *s, bool own, int r)
{
        char why[PG_ERROR_MAX];

        if (!own)
                return r;
        if (r == 0)
                return pg_exec(s, "COMMIT", NULL);
        snprintf(why, sizeof why, "%s", s->last_error);
        (void)pg_exec(s, "ROLLBACK", NULL);
        snprintf(s->last_error, sizeof s->last_error, "%s", why);
        return r;
}

/* Called for row i of a batch; 0 to go on. */
typedef int (*row_fn)(void *arg, const PGresult *res, int i);

/* Fetches the cursor's rows in batches, each row to row(). */
static int fetch_all(struct store_pg *s, const char *cursor, row_fn row, void *arg)
{
        char fetch[64];
        PGresult *res;
        int n, r = 0;

        snprintf(fetch, sizeof fetch, "FETCH %d FROM %s", PG_BATCH_MAX, cursor);
        do {
                r = pg_query(s, fetch, NULL, &res);
                if (r < 0)
                        return r;
                n = PQntuples(res);
                for (int i = 0; r == 0 && i < n; i++)
                        r = row(arg, res, i);
                PQclear(res);
        } while (r == 0 && n == PG_BATCH_MAX);
        return r;
}

/* Every row of query (parameters p) to row(), in the open transaction or
 * one of its own. A scan that fails part-way fails (never a short list). */
static int scan(struct store_pg *s, const char *query, const struct pg_params *p, row_fn row,
                void *arg)
{
        /* a callback may scan again (another cursor) on the same thread */
        static _Thread_local unsigned seq;
        char cursor[32], sql[SQL_MAX + 64];
        bool own = false;
        int r;

        snprintf(cursor, sizeof cursor, "cppo_scan_%u", seq++);
        if (snprintf(sql, sizeof sql, "DECLARE %s NO SCROLL CURSOR FOR %s", cursor, query) >=
            (int)sizeof sql)
                return -E2BIG;
        r = begin_own(s, "BEGIN", &own);
        if (r < 0)
                return r;
        r = pg_exec(s, sql, p);
        if (r == 0)
                r = fetch_all(s, cursor, row, arg);
        /* in the caller's transaction: the cursor goes, unless a failed
         * statement aborted it (then it is gone with the transaction) */
        if (!own && PQtransactionStatus(s->conn) == PQTRANS_INTRANS) {
                char why[PG_ERROR_MAX];
                snprintf(why, sizeof why, "%s", s->last_error);
                snprintf(sql, sizeof sql, "CLOSE %s", cursor);
                (void)pg_exec(s, sql, NULL);
                snprintf(s->last_error, sizeof s->last_error, "%s", why);
        }
        return end_own(s, own, r);
}

/* A callback of one of the record types (the load's and the lists'). */
union record_fn {
        int (*authorization)(void *ctx, const struct authorization *a);
        int (*offer)(void *ctx, const struct offer *o);
        int (*agreement)(void *ctx, const struct agreement *g);
        int (*hold)(void *ctx, const struct hold *h);
        int (*notification)(void *ctx, const struct notification *n);
        int (*link_change)(void *ctx, const struct link_change *l);
};

/* Any one record. */
union any_record {
        struct authorization authorization;
        struct offer offer;
        struct agreement agreement;
        struct hold hold;
        struct notification notification;
        struct link_change link_change;
};

/* fn (of type which; a NULL member: nothing to call) with rec. */
static int call_record(enum rec which, union record_fn fn, void *ctx, const union any_record *rec)
{
        switch (which) {
        case REC_AUTHORIZATION:
                return fn.authorization ? fn.authorization(ctx, &rec->authorization) : 0;
        case REC_OFFER: return fn.offer ? fn.offer(ctx, &rec->offer) : 0;
        case REC_AGREEMENT: return fn.agreement ? fn.agreement(ctx, &rec->agreement) : 0;
        case REC_HOLD: return fn.hold ? fn.hold(ctx, &rec->hold) : 0;
        case REC_NOTIFICATION:
                return fn.notification ? fn.notification(ctx, &rec->notification) : 0;
        case REC_LINK_CHANGE: return fn.link_change ? fn.link_change(ctx, &rec->link_change) : 0;
        case N_REC: break;
        }
        return -EINVAL;
}

struct record_scan {
        enum rec which;
        union record_fn fn;
        void *ctx;
};

/* A row_fn: the row as its record, to the scan's callback, then cleared. */
static int record_row(void *arg, const PGresult *res, int i)
{
        const struct record_scan *c = arg;
        const struct record_type *t = tables[c->which].rec;
        union any_record rec;
        int r;

        memset(&rec, 0, sizeof rec);
        r = pg_read_record(res, i, 0, t, &rec);
        if (r == 0)
                r = call_record(c->which, c->fn, c->ctx, &rec);
        record_clear(t, &rec);
        return r;
}

/* Records of tables[which] ("SELECT <columns> FROM <table> <tail>",
 * parameters p, may be NULL), each to fn. */
static int scan_records(struct store_pg *s, enum rec which, const char *tail,
                        const struct pg_params *p, union record_fn fn, void *ctx)
{
        struct record_scan c = { which, fn, ctx };
        char sql[SQL_MAX];
        int r = store_select_sql(tables[which].rec, tables[which].name, tail, sql);

        return r < 0 ? r : scan(s, sql, p, record_row, &c);
}

/* scan_records() with one text parameter ($1). */
static int scan_records_by(struct store_pg *s, enum rec which, const char *tail, const char *text,
                           union record_fn fn, void *ctx)
{
        struct pg_params p = { 0 };

        pg_param_text(&p, text);
        return scan_records(s, which, tail, &p, fn, ctx);
}

/* ---- the load ---- */

struct key_scan {
        int (*fn)(void *ctx, const char *key);
        void *ctx;
};

static int key_row(void *arg, const PGresult *res, int i)
{
        const struct key_scan *k = arg;

        return k->fn(k->ctx, pg_col_text(res, i, 0));
}

/* The whole state in one snapshot (REPEATABLE READ, when no transaction is
 * open): a batch committed meanwhile is wholly in it or wholly out. */
int pg_load(struct store *base, const struct store_load_cb *cb, void *ctx)
{
        struct store_pg *s = impl(base);
        struct key_scan keys = { cb->notification_key, ctx };
        bool own = false;
        int r = begin_own(s, "BEGIN ISOLATION LEVEL REPEATABLE READ", &own);

        if (r == 0)
                r = scan_records(s, REC_AUTHORIZATION, "", NULL,
                                 (union record_fn){ .authorization = cb->authorization }, ctx);
        if (r == 0)
                r = scan_records(s, REC_OFFER, "", NULL, (union record_fn){ .offer = cb->offer },
                                 ctx);
        if (r == 0)
                r = scan_records(s, REC_AGREEMENT, "", NULL,
                                 (union record_fn){ .agreement = cb->agreement }, ctx);
        if (r == 0)
                r = scan_records(s, REC_HOLD, "", NULL, (union record_fn){ .hold = cb->hold }, ctx);
        if (r == 0 && cb->notification_key)
                r = scan(s, "SELECT key FROM notifications", NULL, key_row, &keys);
        return end_own(s, own, r);
}

/* ---- the CLI's reads ---- */

int pg_list_authorizations(struct store *base, int (*fn)(void *ctx, const struct authorization *a),
                           void *ctx)
{
        return scan_records(impl(base), REC_AUTHORIZATION,
                            "ORDER BY updated_at DESC, id COLLATE \"C\"", NULL,
                            (union record_fn){ .authorization = fn }, ctx);
}

/* The record of tables[which] whose key ("id") is id into out (zeroed; the
 * caller clears it on failure). 0, -ENOENT, -ENOMEM or the query's error. */
static int get_record(struct store_pg *s, enum rec which, const char *id, void *out)
{
        struct pg_params p = { 0 };
        char sql[SQL_MAX];
        PGresult *res;
        int r = store_select_sql(tables[which].rec, tables[which].name, "WHERE id = $1", sql);

        if (r < 0)
                return r;
        pg_param_text(&p, id);
        r = pg_query(s, sql, &p, &res);
        if (r < 0)
                return r;
        r = PQntuples(res) > 0 ? pg_read_record(res, 0, 0, tables[which].rec, out) : -ENOENT;
        PQclear(res);
        return r;
}

int pg_get_authorization(struct store *base, const char *id, struct authorization *out)
{
        int r;

        authorization_clear(out);
        r = get_record(impl(base), REC_AUTHORIZATION, id, out);
        if (r < 0)
                authorization_clear(out);
        return r;
}

int pg_get_offer(struct store *base, const char *id, struct offer *out)
{
        int r;

        offer_clear(out);
        r = get_record(impl(base), REC_OFFER, id, out);
        if (r < 0)
                offer_clear(out);
        return r;
}

int pg_list_offers(struct store *base, const char *authorization_id,
                   int (*fn)(void *ctx, const struct offer *o), void *ctx)
{
        return scan_records_by(impl(base), REC_OFFER,
                               "WHERE authorization_id = $1 ORDER BY id COLLATE \"C\"",
                               authorization_id, (union record_fn){ .offer = fn }, ctx);
}

int pg_list_agreements(struct store *base, const char *authorization_id,
                       int (*fn)(void *ctx, const struct agreement *g), void *ctx)
{
        return scan_records_by(impl(base), REC_AGREEMENT,
                               "WHERE authorization_id = $1 ORDER BY acceptance_time COLLATE "
                               "\"C\" NULLS FIRST, id COLLATE \"C\"",
                               authorization_id, (union record_fn){ .agreement = fn }, ctx);
}

int pg_list_holds(struct store *base, int (*fn)(void *ctx, const struct hold *h), void *ctx)
{
        return scan_records(impl(base), REC_HOLD, "ORDER BY created_at, offer_id COLLATE \"C\"",
                            NULL, (union record_fn){ .hold = fn }, ctx);
}

int pg_list_link_changes(struct store *base, const char *offer_id,
                         int (*fn)(void *ctx, const struct link_change *l), void *ctx)
{
        return scan_records_by(impl(base), REC_LINK_CHANGE, "WHERE offer_id = $1 ORDER BY id",
                               offer_id, (union record_fn){ .link_change = fn }, ctx);
}

/* ---- notifications and their routing ---- */

/* Notifications in a routing state, oldest first, at most a batch: the
 * whole result is read before the first fn call, so fn may write (route
 * them). Prepared: the dispatcher asks on every poll. */
static int notifications_in_state(struct store_pg *s, int state, int64_t limit,
                                  int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        struct pg_params p = { 0 };
        char sql[SQL_MAX] = "";
        PGresult *res;
        int r = s->prepared[ST_IN_STATE]
                    ? 0
                    : store_select_sql(&notification_record, "notifications",
                                       "WHERE routed = $1 ORDER BY id LIMIT $2", sql);

        if (r < 0)
                return r;
        pg_param_int(&p, state);
        pg_param_int(&p, pg_batch_size(limit));
        r = pg_run(s, ST_IN_STATE, sql, &p, &res, NULL);
        if (r < 0)
                return r;
        for (int i = 0; r == 0 && i < PQntuples(res); i++) {
                struct notification n = { 0 };
                r = pg_read_record(res, i, 0, &notification_record, &n);
                if (r == 0)
                        r = fn(ctx, &n);
                notification_clear(&n);
        }
        PQclear(res);
        return r;
}

int pg_notifications_unrouted(struct store *base, int64_t limit,
                              int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        return notifications_in_state(impl(base), ROUTED_PENDING, limit, fn, ctx);
}

int pg_notifications_unmatched(struct store *base, int64_t limit,
                               int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        struct pg_params p = { 0 };

        /* LIMIT NULL is no limit */
        if (limit > 0)
                pg_param_int(&p, limit);
        else
                pg_param_text(&p, NULL);
        pg_param_int(&p, ROUTED_NO_RULE);
        return scan_records(impl(base), REC_NOTIFICATION,
                            "WHERE routed = $2 ORDER BY id DESC LIMIT $1::BIGINT", &p,
                            (union record_fn){ .notification = fn }, ctx);
}

/* Sets the routing state of the notification key to `to` when it is in
 * state `from` (< 0: any). 0 or -ENOENT when none was. Prepared: the
 * router marks every notification it routes. */
static int set_routed(struct store_pg *s, const char *key, int to, int from)
{
        struct pg_params p = { 0 };
        int64_t rows = 0;
        int r;

        pg_param_text(&p, key);
        pg_param_int(&p, to);
        pg_param_int(&p, from);
        r = pg_run(s, ST_SET_ROUTED,
                   "UPDATE notifications SET routed = $2 WHERE key = $1 AND "
                   "($3::BIGINT < 0 OR routed = $3::BIGINT)",
                   &p, NULL, &rows);
        return r < 0 ? r : rows == 1 ? 0 : -ENOENT;
}

int pg_notification_routed(struct store *base, const char *notification_key, bool routed)
{
        return set_routed(impl(base), notification_key, routed ? ROUTED_DONE : ROUTED_NO_RULE, -1);
}

int pg_notification_backfill(struct store *base, const char *key)
{
        return set_routed(impl(base), key, ROUTED_BACKFILL, ROUTED_PENDING);
}

int pg_notifications_backfill_pending(struct store *base, int64_t limit,
                                      int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        return notifications_in_state(impl(base), ROUTED_BACKFILL, limit, fn, ctx);
}
