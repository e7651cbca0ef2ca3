/* cppo-notify — store interface dispatch (see include/cppo/store.h). */
#include "cppo/store.h"

#include "cppo/error.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool store_target_is_pg(const char *target)
{
        return target && (strncasecmp(target, "postgresql://", 13) == 0 ||
                          strncasecmp(target, "postgres://", 11) == 0);
}

/* Appends n bytes of src to buf (len bytes, *used taken), truncating. */
static void put(char *buf, size_t len, size_t *used, const char *src, size_t n)
{
        if (*used + 1 >= len)
                return;
        if (n > len - 1 - *used)
                n = len - 1 - *used;
        memcpy(buf + *used, src, n);
        *used += n;
        buf[*used] = '\0';
}

/* The password of a postgresql:// URL sits between the first ':' of the
 * user information and its last '@' (before the host); a query parameter
 * password=... runs to the next '&'. Both become "***". */
void store_target_redact(const char *target, char *buf, size_t len)
{
        const char *t = target ? target : "", *auth, *end, *at = NULL, *colon, *q;
        size_t used = 0;

        if (len == 0)
                return;
        buf[0] = '\0';
        if (!store_target_is_pg(t)) {
                put(buf, len, &used, t, strlen(t));
                return;
        }
        auth = strstr(t, "://") + 3;
        end = auth + strcspn(auth, "/?#");
        for (const char *c = auth; c < end; c++)
                if (*c == '@')
                        at = c;
        colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
                put(buf, len, &used, t, (size_t)(colon + 1 - t));
                put(buf, len, &used, "***", 3);
                t = at;
        }
        while ((q = strstr(t, "password=")) != NULL &&
               (q == target || q[-1] == '?' || q[-1] == '&')) {
                put(buf, len, &used, t, (size_t)(q + 9 - t));
                put(buf, len, &used, "***", 3);
                t = q + 9 + strcspn(q + 9, "&#");
        }
        put(buf, len, &used, t, strlen(t));
}

int store_open(struct store **out, const char *target, const struct store_options *o, char *err,
               size_t errlen)
{
        static const struct store_options defaults = { .busy_timeout_ms = 5000 };

        if (o == NULL)
                o = &defaults;
        if (store_target_is_pg(target))
                return ERROR_TRACE(store_pg_open(out, target, o, err, errlen));
        return ERROR_TRACE(store_sqlite_open(out, target, o, err, errlen));
}

int store_prune(struct store *s, enum store_prune k, int64_t cutoff, int64_t limit,
                int64_t *removed)
{
        *removed = 0;
        if ((unsigned)k >= STORE_PRUNE_N || limit < 1 || limit > 10000)
                return -EINVAL;
        return ERROR_TRACE(s->ops->prune(s, k, cutoff, limit, removed));
}

int store_prune_count(struct store *s, enum store_prune k, int64_t cutoff, int64_t *out)
{
        *out = 0;
        if ((unsigned)k >= STORE_PRUNE_N)
                return -EINVAL;
        return ERROR_TRACE(s->ops->prune_count(s, k, cutoff, out));
}

int store_reclaim(struct store *s, int64_t max_pages, int64_t *freed)
{
        *freed = 0;
        return ERROR_TRACE(s->ops->reclaim(s, max_pages, freed));
}

int store_compact(struct store *s)
{
        return ERROR_TRACE(s->ops->compact(s));
}

int store_table_stats(struct store *s, int (*fn)(void *ctx, const struct store_table_stat *t),
                      void *ctx)
{
        return ERROR_TRACE(s->ops->table_stats(s, fn, ctx));
}

int store_fence(struct store *s, const struct store_fence_token *t)
{
        return ERROR_TRACE(s->ops->fence(s, t));
}

void store_close(struct store *s)
{
        if (s)
                s->ops->close(s);
}

void store_last_error(struct store *s, char *buf, size_t len)
{
        s->ops->last_error(s, buf, len);
}

int store_verify(struct store *s, char *err, size_t errlen)
{
        return ERROR_TRACE(s->ops->verify(s, err, errlen));
}

int store_integrity(struct store *s, char *err, size_t errlen)
{
        return ERROR_TRACE(s->ops->integrity(s, err, errlen));
}

int store_begin(struct store *s)
{
        return ERROR_TRACE(s->ops->begin(s));
}

int store_commit(struct store *s)
{
        return ERROR_TRACE(s->ops->commit(s));
}

int store_rollback(struct store *s)
{
        return ERROR_TRACE(s->ops->rollback(s));
}

int store_ledger_add(struct store *s, const char *event_key, const struct mp_coord *c, int64_t now)
{
        return ERROR_TRACE(s->ops->ledger_add(s, event_key, c, now));
}

int store_reject(struct store *s, const struct raw_message *m, const char *reason,
                 const char *message)
{
        return ERROR_TRACE(s->ops->reject(s, m, reason, message));
}

int store_count(struct store *s, const char *table, int64_t *out)
{
        return ERROR_TRACE(s->ops->count(s, table, out));
}

int store_list_rejected(struct store *s, int64_t limit,
                        int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        return ERROR_TRACE(s->ops->list_rejected(s, limit, fn, ctx));
}

/* ---- CLI queries and inbox ---- */

int store_inbox_add(struct store *s, const char *payload, int64_t now, int64_t *id)
{
        return ERROR_TRACE(s->ops->inbox_add(s, payload, now, id));
}

int store_inbox_pending(struct store *s, int64_t *out)
{
        return ERROR_TRACE(s->ops->inbox_pending(s, out));
}

int store_inbox_take(struct store *s, int64_t limit, int64_t now,
                     int (*fn)(void *ctx, const struct store_inbox_entry *e), void *ctx)
{
        return ERROR_TRACE(s->ops->inbox_take(s, limit, now, fn, ctx));
}

int store_list_authorizations(struct store *s, int (*fn)(void *ctx, const struct authorization *a),
                              void *ctx)
{
        return ERROR_TRACE(s->ops->list_authorizations(s, fn, ctx));
}

int store_get_authorization(struct store *s, const char *id, struct authorization *out)
{
        return ERROR_TRACE(s->ops->get_authorization(s, id, out));
}

int store_list_offers(struct store *s, const char *authorization_id,
                      int (*fn)(void *ctx, const struct offer *o), void *ctx)
{
        return ERROR_TRACE(s->ops->list_offers(s, authorization_id, fn, ctx));
}

int store_list_holds(struct store *s, int (*fn)(void *ctx, const struct hold *h), void *ctx)
{
        return ERROR_TRACE(s->ops->list_holds(s, fn, ctx));
}

int store_get_offer(struct store *s, const char *id, struct offer *out)
{
        return ERROR_TRACE(s->ops->get_offer(s, id, out));
}

int store_list_agreements(struct store *s, const char *authorization_id,
                          int (*fn)(void *ctx, const struct agreement *g), void *ctx)
{
        return ERROR_TRACE(s->ops->list_agreements(s, authorization_id, fn, ctx));
}

int store_schema_version(struct store *s, int *out)
{
        return ERROR_TRACE(s->ops->schema_version(s, out));
}

int store_apply(struct store *s, const struct changeset *c, struct strlist *new_keys)
{
        return ERROR_TRACE(s->ops->apply(s, c, new_keys));
}

int store_load(struct store *s, const struct store_load_cb *cb, void *ctx)
{
        return ERROR_TRACE(s->ops->load(s, cb, ctx));
}

/* ---- deliveries ---- */

int store_notifications_unrouted(struct store *s, int64_t limit,
                                 int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        return ERROR_TRACE(s->ops->notifications_unrouted(s, limit, fn, ctx));
}

int store_notification_routed(struct store *s, const char *notification_key, bool routed)
{
        return ERROR_TRACE(s->ops->notification_routed(s, notification_key, routed));
}

int store_delivery_add(struct store *s, const struct delivery *d)
{
        return ERROR_TRACE(s->ops->delivery_add(s, d));
}

int store_delivery_due(struct store *s, const char *receiver, int64_t now_ms, int64_t limit,
                       int (*fn)(void *ctx, const struct delivery *d), void *ctx)
{
        return ERROR_TRACE(s->ops->delivery_due(s, receiver, now_ms, limit, fn, ctx));
}

int store_delivery_claim(struct store *s, const char *key, int64_t now_ms)
{
        return ERROR_TRACE(s->ops->delivery_claim(s, key, now_ms));
}

int store_delivery_finish(struct store *s, const struct delivery_attempt *a,
                          enum delivery_status status, int64_t next_at_ms)
{
        return ERROR_TRACE(s->ops->delivery_finish(s, a, status, next_at_ms));
}

int store_delivery_requeue_inflight(struct store *s, int64_t now_ms)
{
        return ERROR_TRACE(s->ops->delivery_requeue_inflight(s, now_ms));
}

int store_delivery_list(struct store *s, bool failed_only, int64_t limit,
                        int (*fn)(void *ctx, const struct delivery *d), void *ctx)
{
        return ERROR_TRACE(s->ops->delivery_list(s, failed_only, limit, fn, ctx));
}

int store_delivery_attempts(struct store *s, const char *key,
                            int (*fn)(void *ctx, const struct delivery_attempt *a), void *ctx)
{
        return ERROR_TRACE(s->ops->delivery_attempts(s, key, fn, ctx));
}

int store_delivery_retry(struct store *s, const char *key, int64_t now_ms)
{
        return ERROR_TRACE(s->ops->delivery_retry(s, key, now_ms));
}

int store_delivery_counts(struct store *s, const char *receiver, int64_t out[4])
{
        return ERROR_TRACE(s->ops->delivery_counts(s, receiver, out));
}

int store_delivery_get(struct store *s, const char *key, struct delivery *out)
{
        return ERROR_TRACE(s->ops->delivery_get(s, key, out));
}

int store_notifications_unmatched(struct store *s, int64_t limit,
                                  int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        return ERROR_TRACE(s->ops->notifications_unmatched(s, limit, fn, ctx));
}

/* ---- history and requeued rejected inputs ---- */

int store_notification_backfill(struct store *s, const char *notification_key)
{
        return ERROR_TRACE(s->ops->notification_backfill(s, notification_key));
}

int store_notifications_backfill_pending(struct store *s, int64_t limit,
                                         int (*fn)(void *ctx, const struct notification *n),
                                         void *ctx)
{
        return ERROR_TRACE(s->ops->notifications_backfill_pending(s, limit, fn, ctx));
}

int store_get_rejected(struct store *s, int64_t id,
                       int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        return ERROR_TRACE(s->ops->get_rejected(s, id, fn, ctx));
}

int store_rejected_requeue(struct store *s, int64_t id, int64_t inbox_id, int64_t now)
{
        return ERROR_TRACE(s->ops->rejected_requeue(s, id, inbox_id, now));
}

int store_rejected_requeue_of(struct store *s, int64_t inbox_id, int64_t *id)
{
        return ERROR_TRACE(s->ops->rejected_requeue_of(s, inbox_id, id));
}

int store_rejected_settle(struct store *s, int64_t id, const char *error)
{
        return ERROR_TRACE(s->ops->rejected_settle(s, id, error));
}

int store_list_link_changes(struct store *s, const char *offer_id,
                            int (*fn)(void *ctx, const struct link_change *l), void *ctx)
{
        return ERROR_TRACE(s->ops->list_link_changes(s, offer_id, fn, ctx));
}

int store_delivery_defer(struct store *s, const struct delivery_attempt *a, int64_t next_at_ms)
{
        return ERROR_TRACE(s->ops->delivery_defer(s, a, next_at_ms));
}

int store_receiver_health_put(struct store *s, const struct store_receiver_health *h, bool replace)
{
        return ERROR_TRACE(s->ops->receiver_health_put(s, h, replace));
}

int store_receiver_list(struct store *s, int (*fn)(void *ctx, const struct store_receiver *r),
                        void *ctx)
{
        return ERROR_TRACE(s->ops->receiver_list(s, fn, ctx));
}

int store_aws_get(struct store *s, const char *key, char *buf, size_t len)
{
        return ERROR_TRACE(s->ops->aws_get(s, key, buf, len));
}

int store_aws_put(struct store *s, const char *key, const char *value, int64_t now)
{
        return ERROR_TRACE(s->ops->aws_put(s, key, value, now));
}

int store_aws_refresh_pending(struct store *s, int64_t limit,
                              int (*fn)(void *ctx, const struct store_aws_refresh *e), void *ctx)
{
        return ERROR_TRACE(s->ops->aws_refresh_pending(s, limit, fn, ctx));
}

int store_aws_refresh_done(struct store *s, int64_t id, const char *outcome, int64_t now)
{
        return ERROR_TRACE(s->ops->aws_refresh_done(s, id, outcome, now));
}

int store_aws_holds_to_check(struct store *s, int64_t checked_before, int64_t limit,
                             int (*fn)(void *ctx, const char *offer_id), void *ctx)
{
        return ERROR_TRACE(s->ops->aws_holds_to_check(s, checked_before, limit, fn, ctx));
}

int store_aws_lookup_put(struct store *s, const struct store_aws_lookup *l)
{
        return ERROR_TRACE(s->ops->aws_lookup_put(s, l));
}

int store_aws_lookup_get(struct store *s, const char *offer_id,
                         int (*fn)(void *ctx, const struct store_aws_lookup *l), void *ctx)
{
        return ERROR_TRACE(s->ops->aws_lookup_get(s, offer_id, fn, ctx));
}

int store_aws_source_counts(struct store *s, int64_t out[STORE_AWS_SOURCES])
{
        return ERROR_TRACE(s->ops->aws_source_counts(s, out));
}
