/* cppo-notify — TEMPORARY stubs so the PostgreSQL store links before its
 * records (store_pg_records.c) are written: each operation fails with -ENOSYS. This file
 * is replaced wholesale. */
#include "store_pg_internal.h"

int pg_apply(struct store *base, const struct changeset *c, struct strlist *new_keys)
{
        (void)base;
        (void)c;
        (void)new_keys;
        return -ENOSYS;
}
int pg_load(struct store *base, const struct store_load_cb *cb, void *ctx)
{
        (void)base;
        (void)cb;
        (void)ctx;
        return -ENOSYS;
}
int pg_list_authorizations(struct store *base, int (*fn)(void *ctx, const struct authorization *a),
                           void *ctx)
{
        (void)base;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_get_authorization(struct store *base, const char *id, struct authorization *out)
{
        (void)base;
        (void)id;
        (void)out;
        return -ENOSYS;
}
int pg_get_offer(struct store *base, const char *id, struct offer *out)
{
        (void)base;
        (void)id;
        (void)out;
        return -ENOSYS;
}
int pg_list_offers(struct store *base, const char *authorization_id,
                   int (*fn)(void *ctx, const struct offer *o), void *ctx)
{
        (void)base;
        (void)authorization_id;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_list_agreements(struct store *base, const char *authorization_id,
                       int (*fn)(void *ctx, const struct agreement *g), void *ctx)
{
        (void)base;
        (void)authorization_id;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_list_holds(struct store *base, int (*fn)(void *ctx, const struct hold *h), void *ctx)
{
        (void)base;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_notifications_unrouted(struct store *base, int64_t limit,
                              int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        (void)base;
        (void)limit;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_notifications_unmatched(struct store *base, int64_t limit,
                               int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        (void)base;
        (void)limit;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_notification_routed(struct store *base, const char *notification_key, bool routed)
{
        (void)base;
        (void)notification_key;
        (void)routed;
        return -ENOSYS;
}
int pg_notification_backfill(struct store *base, const char *key)
{
        (void)base;
        (void)key;
        return -ENOSYS;
}
int pg_notifications_backfill_pending(struct store *base, int64_t limit,
                                      int (*fn)(void *ctx, const struct notification *n), void *ctx)
{
        (void)base;
        (void)limit;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_list_link_changes(struct store *base, const char *offer_id,
                         int (*fn)(void *ctx, const struct link_change *l), void *ctx)
{
        (void)base;
        (void)offer_id;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
