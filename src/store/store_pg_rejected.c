/* cppo-notify — TEMPORARY stubs so the PostgreSQL store links before its
 * rejected inputs are written: each operation fails with -ENOSYS. This file
 * is replaced wholesale. */
#include "store_pg_internal.h"

int pg_reject(struct store *base, const struct raw_message *m, const char *reason,
              const char *message)
{
        (void)base;
        (void)m;
        (void)reason;
        (void)message;
        return -ENOSYS;
}
int pg_list_rejected(struct store *base, int64_t limit,
                     int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        (void)base;
        (void)limit;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_get_rejected(struct store *base, int64_t id,
                    int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        (void)base;
        (void)id;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_rejected_requeue(struct store *base, int64_t id, int64_t inbox_id, int64_t now)
{
        (void)base;
        (void)id;
        (void)inbox_id;
        (void)now;
        return -ENOSYS;
}
int pg_rejected_requeue_of(struct store *base, int64_t inbox_id, int64_t *id)
{
        (void)base;
        (void)inbox_id;
        (void)id;
        return -ENOSYS;
}
int pg_rejected_settle(struct store *base, int64_t id, const char *error)
{
        (void)base;
        (void)id;
        (void)error;
        return -ENOSYS;
}
