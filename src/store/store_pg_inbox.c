/* cppo-notify — TEMPORARY stubs so the PostgreSQL store links before its
 * inbox are written: each operation fails with -ENOSYS. This file
 * is replaced wholesale. */
#include "store_pg_internal.h"

int pg_inbox_add(struct store *base, const char *payload, int64_t now, int64_t *id)
{
        (void)base;
        (void)payload;
        (void)now;
        (void)id;
        return -ENOSYS;
}
int pg_inbox_pending(struct store *base, int64_t *out)
{
        (void)base;
        (void)out;
        return -ENOSYS;
}
int pg_inbox_take(struct store *base, int64_t limit, int64_t now,
                  int (*fn)(void *ctx, const struct store_inbox_entry *e), void *ctx)
{
        (void)base;
        (void)limit;
        (void)now;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
