/* cppo-notify — the SQLite store's CPPO records: authorizations, offers,
 * agreements, holds, notifications (with their routing state) and each
 * offer's link history; written by store_apply(), read back whole by
 * store_load() and one by one by the CLI. */
#include "store_sqlite_internal.h"

#include "cppo/error.h"

#include <sqlite3.h>
#include <stdlib.h>

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

/* One of the statements store_apply() runs for every record, kept prepared. */
static int run_put(struct store_sqlite *s, enum put_sql which, const char *const *text,
                   int n_text, const int64_t *ints, int n_ints)
{
        if (s->put[which] == NULL &&
            sqlite3_prepare_v3(s->db, put_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                               &s->put[which], NULL) != SQLITE_OK)
                return -EIO;
        return sqlite_bind_run(s->put[which], text, n_text, ints, n_ints);
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
        char *buyers = sqlite_list_json(&a->buyer_account_ids),
             *notify = sqlite_list_json(&a->notify), *offers = sqlite_list_json(&a->offer_ids);
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
        char *buyers = sqlite_list_json(&o->targeted_buyer_account_ids);
        const char *text[] = {o->id,
                              o->name,
                              o->expiration,
                              o->product_id,
                              o->product_title,
                              o->manufacturer_account_id,
                              o->manufacturer_name,
                              o->seller_of_record_account_id,
                              o->seller_of_record_name,
                              buyers,
                              o->authorization_id,
                              link_strength_name(o->link),
                              o->link_event_key};
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
        return sqlite_run_stmt(s,
                               "INSERT INTO offer_links (offer_id, from_authorization_id, "
                               "to_authorization_id, from_link, to_link, actor, reason, event_key, "
                               "correction_key, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                               text, 9, ints, 1);
}

int sqlite_apply(struct store *base, const struct changeset *c, struct strlist *new_keys)
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
                r = sqlite_aws_refresh_add(s, c->aws_refresh.v[i]);
        return r;
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
        if (sqlite_json_list(col_text(st, 7), &r->buyer_account_ids) < 0 ||
            sqlite_json_list(col_text(st, 9), &r->notify) < 0 ||
            sqlite_json_list(col_text(st, 11), &r->offer_ids) < 0)
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
        return sqlite_json_list(col_text(st, 9), &r->targeted_buyer_account_ids);
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

int sqlite_load(struct store *base, const struct store_load_cb *cb, void *ctx)
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

int sqlite_list_authorizations(struct store *base,
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
        rc = step_row(st);
        if (rc > 0)
                r = row_fn(st, out);
        else if (rc < 0)
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

int sqlite_get_authorization(struct store *base, const char *id,
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

int sqlite_get_offer(struct store *base, const char *id, struct offer *out)
{
        int r;

        offer_clear(out);
        r = get_one(impl(base), "SELECT " OFFER_COLUMNS " FROM offers WHERE id = ?", id,
                    row_offer_any, out);
        if (r < 0)
                offer_clear(out);
        return r;
}

int sqlite_list_offers(struct store *base, const char *authorization_id,
                       int (*fn)(void *ctx, const struct offer *o), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        LOAD_TABLE(offer, "SELECT " OFFER_COLUMNS " FROM offers WHERE authorization_id = ? "
                   "ORDER BY id", authorization_id, fn);
        return r;
}

int sqlite_list_agreements(struct store *base, const char *authorization_id,
                           int (*fn)(void *ctx, const struct agreement *g), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        LOAD_TABLE(agreement, "SELECT " AGREEMENT_COLUMNS " FROM agreements WHERE "
                   "authorization_id = ? ORDER BY acceptance_time, id", authorization_id, fn);
        return r;
}

int sqlite_list_holds(struct store *base, int (*fn)(void *ctx, const struct hold *h),
                      void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        LOAD_TABLE(hold, "SELECT " HOLD_COLUMNS " FROM holds ORDER BY created_at, offer_id",
                   (const char *)NULL, fn);
        return r;
}

#define NOTIFICATION_COLS                                                                          \
        "kind, key, context, source_event_key, opportunity_id, offer_id, agreement_id, late, "     \
        "registered, created_at"

static int row_notification(sqlite3_stmt *st, struct notification *r)
{
        DUP(kind, 0);
        DUP(key, 1);
        DUP(context_json, 2);
        DUP(source_event_key, 3);
        DUP(opportunity_id, 4);
        DUP(offer_id, 5);
        DUP(agreement_id, 6);
        r->late = sqlite3_column_int(st, 7) != 0;
        r->registered = sqlite3_column_int(st, 8) != 0;
        r->created_at = sqlite3_column_int64(st, 9);
        return 0;
}
#undef DUP

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

int sqlite_notifications_unrouted(struct store *base, int64_t limit,
                                  int (*fn)(void *ctx, const struct notification *n),
                                  void *ctx)
{
        return notifications_in_state(impl(base), ROUTED_PENDING, limit, fn, ctx);
}

int sqlite_notifications_unmatched(struct store *base, int64_t limit,
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

int sqlite_notification_routed(struct store *base, const char *notification_key,
                               bool routed)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { notification_key };
        const int64_t state = routed ? 1 : 2;

        if (sqlite_run_stmt(s, "UPDATE notifications SET routed = ?2 WHERE key = ?1", text, 1,
                            &state, 1) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

int sqlite_notification_backfill(struct store *base, const char *key)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { key };
        const int64_t states[] = { ROUTED_BACKFILL, ROUTED_PENDING };

        if (sqlite_run_stmt(s,
                            "UPDATE notifications SET routed = ?2 WHERE key = ?1 AND routed = ?3",
                            text, 1, states, 2) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

int sqlite_notifications_backfill_pending(struct store *base, int64_t limit,
                                          int (*fn)(void *ctx,
                                                    const struct notification *n),
                                          void *ctx)
{
        return notifications_in_state(impl(base), ROUTED_BACKFILL, limit, fn, ctx);
}

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

int sqlite_list_link_changes(struct store *base, const char *offer_id,
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
