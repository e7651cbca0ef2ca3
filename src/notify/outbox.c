/* cppo-notify — the outbox (see include/cppo/outbox.h). */
#include "cppo/outbox.h"

#include "cppo/buf.h"
#include "cppo/error.h"
#include "cppo/log.h"
#include "cppo/mail.h"
#include "cppo/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTBOX_MAX_KEY 1024

/* Notifications of one outbox_route() call, copied out of the store
 * iteration so the store can be written while we work through them. */
struct pending {
        struct notification *v;
        size_t n, cap;
};

static int collect(void *ctx, const struct notification *n)
{
        struct pending *p = ctx;

        if (p->n == p->cap) {
                size_t cap = p->cap ? 2 * p->cap : 16;
                struct notification *v = realloc(p->v, cap * sizeof *v);

                if (v == NULL)
                        return -ENOMEM;
                p->v = v;
                p->cap = cap;
        }
        memset(&p->v[p->n], 0, sizeof p->v[p->n]);
        if (notification_copy(&p->v[p->n], n) < 0)
                return -ENOMEM;
        p->n++;
        return 0;
}

static void pending_clear(struct pending *p)
{
        for (size_t i = 0; i < p->n; i++)
                notification_clear(&p->v[i]);
        free(p->v);
        memset(p, 0, sizeof *p);
}

/* ---- e-mail ---- */

static int add_list(struct strlist *l, const struct config_strlist *src)
{
        for (size_t i = 0; i < src->count; i++)
                if (strlist_add_unique(l, src->items[i]) < 0)
                        return -ENOMEM;
        return 0;
}

/* The authorization's own notify addresses (registration data: checked
 * one by one, an invalid one is skipped and logged, never sent to). */
static int add_contacts(struct strlist *l, yajl_val ctx)
{
        static const char *path[] = { "opportunity", "notify", NULL };
        yajl_val v = yajl_tree_get(ctx, path, yajl_t_array);

        for (size_t i = 0; v && i < v->u.array.len; i++) {
                const char *a = YAJL_GET_STRING(v->u.array.values[i]);

                if (a && mail_address_valid(a)) {
                        if (strlist_add_unique(l, a) < 0)
                                return -ENOMEM;
                } else {
                        log_warn("skipping an invalid authorization contact address=\"%.100s\"",
                                 a ? a : "(not a string)");
                }
        }
        return 0;
}

static const char *ctx_str(yajl_val ctx, const char *a, const char *b)
{
        const char *path[] = { a, b, NULL };

        return YAJL_GET_STRING(yajl_tree_get(ctx, path, yajl_t_string));
}

/* Envelope recipients (To + contacts + Cc + Bcc) and the visible To list. */
static int email_recipients(const struct config_receiver *rcv, yajl_val ctx, struct strlist *to,
                            struct strlist *rcpt)
{
        if (add_list(to, &rcv->to) < 0)
                return -ENOMEM;
        if (rcv->include_authorization_contacts && add_contacts(to, ctx) < 0)
                return -ENOMEM;
        if (strlist_copy(rcpt, to) < 0 || add_list(rcpt, &rcv->cc) < 0 ||
            add_list(rcpt, &rcv->bcc) < 0)
                return -ENOMEM;
        return 0;
}

/* Message-ID stable per delivery; one thread per authorization (else per
 * offer, else per notification). */
static int email_ids(const char *from, const char *dkey, yajl_val ctx, char *mid, char *thread,
                     size_t len)
{
        const char *domain = mail_address_domain(from);
        const char *opp = ctx_str(ctx, "opportunity", "id");
        const char *offer = ctx_str(ctx, "offer", "id");
        char name[OUTBOX_MAX_KEY];
        int r = mail_stable_id(dkey, domain, mid, len);

        if (r < 0)
                return r;
        if (snprintf(name, sizeof name, "thread/%s",
                     opp     ? opp
                     : offer ? offer
                             : dkey) >= (int)sizeof name)
                return -E2BIG;
        return mail_stable_id(name, domain, thread, len);
}

static int build_email(const struct config *cfg, const struct config_receiver *rcv,
                       const struct notification *n, const struct rendered *rd, yajl_val ctx,
                       int64_t now_ms, struct delivery *out, char *err, size_t errlen)
{
        struct strlist to = { 0 };
        char mid[256], thread[256];
        struct buf msg = BUF_INIT(MAIL_MAX_BYTES);
        struct mail_message m = {
                .from = cfg->smtp.from,
                .subject = rd->subject,
                .text = rd->text,
                .html = rd->html,
                .message_id = mid,
                .thread_id = thread,
                .opportunity_id = n->opportunity_id,
                .notification_key = n->key,
                .date = now_ms / 1000,
        };
        int r = email_recipients(rcv, ctx, &to, &out->recipients);

        if (r == 0 && out->recipients.n == 0)
                r = error_set(err, errlen, -EINVAL, "receiver \"%s\" has no recipient for \"%s\"",
                              rcv->name, n->kind);
        if (r == 0)
                r = email_ids(cfg->smtp.from, out->key, ctx, mid, thread, sizeof mid);
        if (r == 0) {
                m.to = (const char *const *)to.v;
                m.n_to = to.n;
                m.cc = rcv->cc.items;
                m.n_cc = rcv->cc.count;
                r = mail_build(&m, &msg, err, errlen);
        }
        if (r == 0) {
                out->payload_len = msg.len;
                out->payload = buf_steal(&msg);
                r = out->payload ? 0 : -ENOMEM;
        }
        buf_deinit(&msg);
        strlist_clear(&to);
        return r;
}

/* ---- building one delivery ---- */

static int delivery_head(const struct config_receiver *rcv, const struct config_rule *rule,
                         const struct notification *n, int64_t now_ms, struct delivery *out)
{
        char key[OUTBOX_MAX_KEY];

        if (snprintf(key, sizeof key, "%s/%s", n->key, rcv->name) >= (int)sizeof key)
                return -E2BIG;
        if (str_assign(&out->key, key) < 0 || str_assign(&out->notification_key, n->key) < 0 ||
            str_assign(&out->kind, n->kind) < 0 || str_assign(&out->receiver, rcv->name) < 0 ||
            str_assign(&out->channel, config_receiver_type_name(rcv->type)) < 0 ||
            str_assign(&out->rule, rule ? rule->name : NULL) < 0 ||
            str_assign(&out->opportunity_id, n->opportunity_id) < 0)
                return -ENOMEM;
        out->status = DELIVERY_QUEUED;
        out->created_at_ms = out->updated_at_ms = out->next_at_ms = now_ms;
        return 0;
}

static int take_body(struct delivery *out, struct rendered *rd)
{
        if (rd->body == NULL)
                return -EINVAL;
        out->payload = rd->body;
        out->payload_len = strlen(rd->body);
        rd->body = NULL;
        return 0;
}

int outbox_build(const struct config *cfg, const struct renderer *r,
                 const struct config_receiver *rcv, const struct config_rule *rule,
                 const struct notification *n, int64_t now_ms, struct delivery *out, char *err,
                 size_t errlen)
{
        struct rendered rd = { 0 };
        yajl_val ctx = NULL;
        int rc;

        memset(out, 0, sizeof *out);
        rc = delivery_head(rcv, rule, n, now_ms, out);
        if (rc == 0)
                rc = render_notification(r, rcv, rule, n, &rd, err, errlen);
        if (rc == 0 && rcv->type == CONFIG_RECEIVER_EMAIL) {
                ctx = yajl_tree_parse(n->context_json, NULL, 0);
                rc = build_email(cfg, rcv, n, &rd, ctx, now_ms, out, err, errlen);
        } else if (rc == 0) {
                rc = take_body(out, &rd);
        }
        yajl_tree_free(ctx);
        rendered_clear(&rd);
        if (rc < 0)
                delivery_clear(out);
        return rc;
}

/* ---- routing pending notifications ---- */

/* Creates the deliveries of one notification. Returns how many were
 * created, or a negative errno from the store. *failed counts render
 * failures (logged, not fatal). */
static int route_one(struct store *s, const struct config *cfg, const struct renderer *r,
                     const struct notification *n, int64_t now_ms, const struct route_targets *t,
                     enum delivery_status status, int *failed)
{
        int created = 0;
        char err[CPPO_ERRLEN];

        for (size_t i = 0; i < t->count; i++) {
                struct delivery d;
                int rc = outbox_build(cfg, r, t->items[i].receiver, t->items[i].rule, n, now_ms, &d,
                                      err, sizeof err);

                if (rc < 0) {
                        log_error("cannot render notification=%s receiver=%s: %s", n->key,
                                  t->items[i].receiver->name, err);
                        (*failed)++;
                        continue;
                }
                d.status = status;
                rc = store_delivery_add(s, &d);
                delivery_clear(&d);
                if (rc < 0)
                        return rc;
                created += rc;
        }
        return created;
}

static int route_notification(struct store *s, const struct config *cfg, const struct renderer *r,
                              const struct notification *n, int64_t now_ms,
                              enum delivery_status status, struct outbox_stats *st)
{
        struct route_targets t;
        yajl_val ctx = yajl_tree_parse(n->context_json, NULL, 0);
        int failed = 0, created;

        route_select(cfg, ctx, &t);
        yajl_tree_free(ctx);
        created = route_one(s, cfg, r, n, now_ms, &t, status, &failed);
        if (created < 0)
                return created;
        st->deliveries += (uint64_t)created;
        if (status == DELIVERY_BACKFILLED)
                st->backfilled += (uint64_t)created;
        st->failed += (uint64_t)failed;
        if (t.count == 0 || failed == (int)t.count) {
                st->unrouted++;
                log_warn("notification unrouted key=%s kind=%s reason=%s", n->key, n->kind,
                         t.count == 0 ? "no_rule_matched" : "render_failed");
                return store_notification_routed(s, n->key, false);
        }
        st->routed++;
        return store_notification_routed(s, n->key, true);
}

/* Where notifications to route come from, and the status of their deliveries. */
static const struct {
        int (*list)(struct store *s, int64_t limit,
                    int (*fn)(void *ctx, const struct notification *n), void *ctx);
        enum delivery_status status;
} sources[] = {
        { store_notifications_backfill_pending, DELIVERY_BACKFILLED },
        { store_notifications_unrouted, DELIVERY_QUEUED },
};

/* The page asked of each list: the caller's limit within the store's. */
static int64_t page_size(int64_t limit)
{
        return limit > 0 && limit < OUTBOX_PAGE_MAX ? limit : OUTBOX_PAGE_MAX;
}

static void stats_add(struct outbox_stats *to, const struct outbox_stats *from)
{
        to->routed += from->routed;
        to->unrouted += from->unrouted;
        to->deliveries += from->deliveries;
        to->failed += from->failed;
        to->backfilled += from->backfilled;
}

int outbox_route(struct store *s, const struct config *cfg, const struct renderer *r,
                 int64_t now_ms, int64_t limit, struct outbox_stats *stats, bool *more)
{
        struct outbox_stats local = { 0 };
        struct pending p = { 0 };
        int64_t page = page_size(limit);
        bool full = false;
        int rc = store_begin(s);

        if (more)
                *more = true; /* until the lists were read whole */
        if (rc < 0)
                return rc;
        /* history first (see store.h): one page of each kind per call */
        for (size_t k = 0; rc >= 0 && k < sizeof sources / sizeof sources[0]; k++) {
                rc = sources[k].list(s, page, collect, &p);
                full = full || (int64_t)p.n >= page;
                for (size_t i = 0; rc >= 0 && i < p.n; i++)
                        rc = route_notification(s, cfg, r, &p.v[i], now_ms, sources[k].status,
                                                &local);
                pending_clear(&p);
        }
        if (rc >= 0)
                rc = store_commit(s);
        if (rc < 0) {
                (void)store_rollback(s); /* the failure that led here is the one reported */
                goto out;
        }
        if (stats)
                stats_add(stats, &local);
        if (more)
                *more = full;
        rc = (int)(local.deliveries - local.backfilled);
out:
        pending_clear(&p);
        return rc;
}
