/* cppo-notify — TEMPORARY stubs so the PostgreSQL store links before its
 * deliveries (store_pg_deliveries.c) are written: each operation fails with -ENOSYS. This file
 * is replaced wholesale. */
#include "store_pg_internal.h"

int pg_delivery_due(struct store *base, const char *receiver, int64_t now_ms, int64_t limit,
                    int (*fn)(void *ctx, const struct delivery *d), void *ctx)
{
        (void)base;
        (void)receiver;
        (void)now_ms;
        (void)limit;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_delivery_claim(struct store *base, const char *key, int64_t now_ms)
{
        (void)base;
        (void)key;
        (void)now_ms;
        return -ENOSYS;
}
int pg_delivery_finish(struct store *base, const struct delivery_attempt *a,
                       enum delivery_status status, int64_t next_at_ms)
{
        (void)base;
        (void)a;
        (void)status;
        (void)next_at_ms;
        return -ENOSYS;
}
int pg_delivery_add(struct store *base, const struct delivery *d)
{
        (void)base;
        (void)d;
        return -ENOSYS;
}
int pg_delivery_requeue_inflight(struct store *base, int64_t now_ms)
{
        (void)base;
        (void)now_ms;
        return -ENOSYS;
}
int pg_delivery_retry(struct store *base, const char *key, int64_t now_ms)
{
        (void)base;
        (void)key;
        (void)now_ms;
        return -ENOSYS;
}
int pg_delivery_list(struct store *base, bool failed_only, int64_t limit,
                     int (*fn)(void *ctx, const struct delivery *d), void *ctx)
{
        (void)base;
        (void)failed_only;
        (void)limit;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_delivery_get(struct store *base, const char *key, struct delivery *out)
{
        (void)base;
        (void)key;
        (void)out;
        return -ENOSYS;
}
int pg_delivery_attempts(struct store *base, const char *key,
                         int (*fn)(void *ctx, const struct delivery_attempt *a), void *ctx)
{
        (void)base;
        (void)key;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_delivery_counts(struct store *base, const char *receiver, int64_t out[4])
{
        (void)base;
        (void)receiver;
        (void)out;
        return -ENOSYS;
}
int pg_delivery_defer(struct store *base, const struct delivery_attempt *a, int64_t next_at_ms)
{
        (void)base;
        (void)a;
        (void)next_at_ms;
        return -ENOSYS;
}
int pg_receiver_health_put(struct store *base, const struct store_receiver_health *h, bool replace)
{
        (void)base;
        (void)h;
        (void)replace;
        return -ENOSYS;
}
int pg_receiver_list(struct store *base, int (*fn)(void *ctx, const struct store_receiver *r),
                     void *ctx)
{
        (void)base;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
