/* cppo-notify — the SQLite store's CPPO records: authorizations, offers,
 * agreements, holds, notifications (with their routing state) and each
 * offer's link history; written by store_apply(), read back whole by
 * store_load() and one by one by the CLI. */
#include "store_sqlite_internal.h"

#include "cppo/error.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

/* Where each record type is stored, by the statement that puts it (the
 * statements are kept prepared: store_apply() runs them for every record of
 * every batch). Columns, binders and row readers all come from the
 * record's field table (model.h), so none is written out by hand. */
struct table {
        const struct record_type *rec;
        const char *name;   /* the SQL table */
        const char *insert; /* what a put does with a row already there */
};

static const struct table tables[DEL_HOLD] = {
        [PUT_AUTHORIZATION] = { &authorization_record, "authorizations", "INSERT OR REPLACE" },
        [PUT_OFFER] = { &offer_record, "offers", "INSERT OR REPLACE" },
        [PUT_AGREEMENT] = { &agreement_record, "agreements", "INSERT OR REPLACE" },
        [PUT_HOLD] = { &hold_record, "holds", "INSERT OR REPLACE" },
        /* the key is the fact: the first row for a key stays */
        [PUT_NOTIFICATION] = { &notification_record, "notifications", "INSERT OR IGNORE" },
        /* history is appended, never replaced */
        [PUT_LINK_CHANGE] = { &link_change_record, "offer_links", "INSERT" },
};

/* "SELECT <columns> FROM <table> <tail>" over the table of `which`,
 * prepared; text, when not NULL, bound as ?1. -EIO when SQLite refuses it. */
static int prepare_select(struct store_sqlite *s, enum put_sql which, const char *tail,
                          const char *text, sqlite3_stmt **st)
{
        char sql[SQL_MAX];
        int r = store_select_sql(tables[which].rec, tables[which].name, tail, sql);

        if (r < 0)
                return r;
        if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
                return -EIO;
        if (text)
                sqlite3_bind_text(*st, 1, text, -1, SQLITE_TRANSIENT);
        return 0;
}

/* The statements of put_sql that are not a record's insert. */
static const char *const fixed_sql[N_PUT_SQL] = {
        [DEL_HOLD] = "DELETE FROM holds WHERE offer_id = ?",
        [BACKFILL_NOTIFICATION] =
            "UPDATE notifications SET routed = ?2 WHERE key = ?1 AND routed = ?3",
};

/* One of the statements store_apply() runs, prepared on first use and kept. */
static sqlite3_stmt *put_stmt(struct store_sqlite *s, enum put_sql which)
{
        char sql[SQL_MAX];

        if (s->put[which])
                return s->put[which];
        if (fixed_sql[which])
                snprintf(sql, sizeof sql, "%s", fixed_sql[which]);
        else if (sqlite_insert_sql(tables[which].rec, tables[which].insert, tables[which].name, "",
                                   sql) < 0)
                return NULL;
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->put[which], NULL) !=
            SQLITE_OK)
                return NULL;
        return s->put[which];
}

/* Inserts rec as its table says (tables[which]). */
static int put_record(struct store_sqlite *s, enum put_sql which, const void *rec)
{
        sqlite3_stmt *st = put_stmt(s, which);
        int r = st ? sqlite_bind_record(st, tables[which].rec, rec) : -EIO;

        return r < 0 ? r : step_done(st);
}

static int del_hold(struct store_sqlite *s, const char *offer_id)
{
        sqlite3_stmt *st = put_stmt(s, DEL_HOLD);

        if (st == NULL)
                return -EIO;
        sqlite3_bind_text(st, 1, offer_id, -1, SQLITE_STATIC);
        return step_done(st);
}

/* 1 when inserted, 0 when the key was there already. */
static int put_notification(struct store_sqlite *s, const struct notification *n)
{
        int r = put_record(s, PUT_NOTIFICATION, n);

        return r < 0 ? r : sqlite3_changes(s->db) == 1;
}

/* Each record is put only when its copy into the changeset succeeded (a
 * failed copy leaves it cleared: no key). */
int sqlite_apply(struct store *base, const struct changeset *c, struct strlist *new_keys)
{
        struct store_sqlite *s = impl(base);
        int r = 0;

        for (size_t i = 0; r == 0 && i < c->n_authorizations; i++)
                r = c->authorizations[i].id
                        ? put_record(s, PUT_AUTHORIZATION, &c->authorizations[i])
                        : -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->n_offers; i++)
                r = c->offers[i].id ? put_record(s, PUT_OFFER, &c->offers[i]) : -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->n_agreements; i++)
                r = c->agreements[i].id ? put_record(s, PUT_AGREEMENT, &c->agreements[i]) : -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->n_holds; i++)
                r = c->holds[i].offer_id ? put_record(s, PUT_HOLD, &c->holds[i]) : -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->released_holds.n; i++)
                r = del_hold(s, c->released_holds.v[i]);
        for (size_t i = 0; r == 0 && i < c->n_notifications; i++) {
                r = put_notification(s, &c->notifications[i]);
                if (r == 1)
                        r = new_keys ? strlist_add(new_keys, c->notifications[i].key) : 0;
        }
        for (size_t i = 0; r == 0 && i < c->n_link_changes; i++)
                r = c->link_changes[i].offer_id
                        ? put_record(s, PUT_LINK_CHANGE, &c->link_changes[i])
                        : -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->aws_refresh.n; i++)
                r = sqlite_aws_refresh_add(s, c->aws_refresh.v[i]);
        return r;
}

/* Rows of one query over the table of `which`: build each row's record,
 * hand it to fn (may be NULL), clear it. text (may be NULL) is the query's
 * one text parameter. Needs `s`, `ctx` and `r` in scope; runs only while r
 * is 0 and sets it (a failed step mid-scan included). A macro because fn
 * is typed by the record. */
#define SCAN_RECORDS(type, which, tail, text, fn)                                                  \
        do {                                                                                       \
                sqlite3_stmt *st_ = NULL;                                                          \
                if (r == 0)                                                                        \
                        r = prepare_select(s, which, tail, text, &st_);                            \
                while (scan_row(st_, &r)) {                                                        \
                        struct type rec_ = { 0 };                                                  \
                        r = sqlite_read_record(st_, &type##_record, &rec_);                        \
                        if (r == 0 && (fn))                                                        \
                                r = (fn)(ctx, &rec_);                                              \
                        type##_clear(&rec_);                                                       \
                }                                                                                  \
                sqlite3_finalize(st_);                                                             \
        } while (0)

int sqlite_load(struct store *base, const struct store_load_cb *cb, void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        SCAN_RECORDS(authorization, PUT_AUTHORIZATION, "", NULL, cb->authorization);
        SCAN_RECORDS(offer, PUT_OFFER, "", NULL, cb->offer);
        SCAN_RECORDS(agreement, PUT_AGREEMENT, "", NULL, cb->agreement);
        SCAN_RECORDS(hold, PUT_HOLD, "", NULL, cb->hold);
        if (r < 0)
                return r;
        if (sqlite3_prepare_v2(s->db, "SELECT key FROM notifications", -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        while (scan_row(st, &r))
                r = cb->notification_key ? cb->notification_key(ctx, col_text(st, 0)) : 0;
        sqlite3_finalize(st);
        return r;
}

int sqlite_list_authorizations(struct store *base,
                               int (*fn)(void *ctx, const struct authorization *a), void *ctx)
{
        struct store_sqlite *s = impl(base);
        int r = 0;

        SCAN_RECORDS(authorization, PUT_AUTHORIZATION, "ORDER BY updated_at DESC, id", NULL, fn);
        return r;
}

/* The record whose key is id into out (zeroed; the caller clears it on
 * failure). 0, -ENOENT, -ENOMEM or -EIO. */
static int get_record(struct store_sqlite *s, enum put_sql which, const char *id, void *out)
{
        sqlite3_stmt *st;
        int rc, r = prepare_select(s, which, "WHERE id = ?", id, &st);

        if (r < 0)
                return -EIO;
        rc = step_row(st);
        if (rc > 0)
                r = sqlite_read_record(st, tables[which].rec, out);
        else
                r = rc == 0 ? -ENOENT : -EIO;
        sqlite3_finalize(st);
        return r;
}

int sqlite_get_authorization(struct store *base, const char *id, struct authorization *out)
{
        int r;

        authorization_clear(out);
        r = get_record(impl(base), PUT_AUTHORIZATION, id, out);
        if (r < 0)
                authorization_clear(out);
        return r;
}

int sqlite_get_offer(struct store *base, const char *id, struct offer *out)
{
        int r;

        offer_clear(out);
        r = get_record(impl(base), PUT_OFFER, id, out);
        if (r < 0)
                offer_clear(out);
        return r;
}

int sqlite_list_offers(struct store *base, const char *authorization_id,
                       int (*fn)(void *ctx, const struct offer *o), void *ctx)
{
        struct store_sqlite *s = impl(base);
        int r = 0;

        SCAN_RECORDS(offer, PUT_OFFER, "WHERE authorization_id = ? ORDER BY id", authorization_id,
                     fn);
        return r;
}

int sqlite_list_agreements(struct store *base, const char *authorization_id,
                           int (*fn)(void *ctx, const struct agreement *g), void *ctx)
{
        struct store_sqlite *s = impl(base);
        int r = 0;

        SCAN_RECORDS(agreement, PUT_AGREEMENT,
                     "WHERE authorization_id = ? ORDER BY acceptance_time, id", authorization_id,
                     fn);
        return r;
}

int sqlite_list_holds(struct store *base, int (*fn)(void *ctx, const struct hold *h), void *ctx)
{
        struct store_sqlite *s = impl(base);
        int r = 0;

        SCAN_RECORDS(hold, PUT_HOLD, "ORDER BY created_at, offer_id", NULL, fn);
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

        r = prepare_select(s, PUT_NOTIFICATION, "WHERE routed = ?2 ORDER BY id LIMIT ?1", NULL,
                           &st);
        if (r < 0)
                return r;
        v = calloc(cap, sizeof *v);
        sqlite3_bind_int64(st, 1, (int64_t)cap);
        sqlite3_bind_int(st, 2, state);
        while (v && n < cap && scan_row(st, &r))
                r = sqlite_read_record(st, &notification_record, &v[n++]);
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

int sqlite_notifications_unrouted(struct store *base, int64_t limit,
                                  int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        return notifications_in_state(impl(base), ROUTED_PENDING, limit, fn, ctx);
}

int sqlite_notifications_unmatched(struct store *base, int64_t limit,
                                   int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r;

        r = prepare_select(s, PUT_NOTIFICATION, "WHERE routed = 2 ORDER BY id DESC LIMIT ?", NULL,
                           &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
        while (scan_row(st, &r)) {
                struct notification n = { 0 };
                r = sqlite_read_record(st, &notification_record, &n);
                if (r == 0)
                        r = fn(ctx, &n);
                notification_clear(&n);
        }
        sqlite3_finalize(st);
        return r;
}

int sqlite_notification_routed(struct store *base, const char *notification_key, bool routed)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { notification_key };
        const int64_t state = routed ? 1 : 2;

        if (sqlite_run_stmt(s, "UPDATE notifications SET routed = ?2 WHERE key = ?1", text, 1,
                            &state, 1) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

/* Kept prepared (put_stmt): a replay marks every notification it inserts,
 * and preparing the statement anew each time cost more than running it. */
int sqlite_notification_backfill(struct store *base, const char *key)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st = put_stmt(s, BACKFILL_NOTIFICATION);
        const char *text[] = { key };
        const int64_t states[] = { ROUTED_BACKFILL, ROUTED_PENDING };

        if (st == NULL || sqlite_bind_run(st, text, 1, states, 2) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

int sqlite_notifications_backfill_pending(struct store *base, int64_t limit,
                                          int (*fn)(void *ctx, const struct notification *n),
                                          void *ctx)
{
        return notifications_in_state(impl(base), ROUTED_BACKFILL, limit, fn, ctx);
}

int sqlite_list_link_changes(struct store *base, const char *offer_id,
                             int (*fn)(void *ctx, const struct link_change *l), void *ctx)
{
        struct store_sqlite *s = impl(base);
        int r = 0;

        SCAN_RECORDS(link_change, PUT_LINK_CHANGE, "WHERE offer_id = ? ORDER BY id", offer_id, fn);
        return r;
}
