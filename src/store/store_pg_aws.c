/* cppo-notify — TEMPORARY stubs so the PostgreSQL store links before its
 * AWS sync tables are written: each operation fails with -ENOSYS. This file
 * is replaced wholesale. */
#include "store_pg_internal.h"

int pg_aws_refresh_add(struct store_pg *s, const char *change_set_id)
{
        (void)s;
        (void)change_set_id;
        return -ENOSYS;
}
int pg_aws_get(struct store *base, const char *key, char *buf, size_t len)
{
        (void)base;
        (void)key;
        (void)buf;
        (void)len;
        return -ENOSYS;
}
int pg_aws_put(struct store *base, const char *key, const char *value, int64_t now)
{
        (void)base;
        (void)key;
        (void)value;
        (void)now;
        return -ENOSYS;
}
int pg_aws_refresh_pending(struct store *base, int64_t limit,
                           int (*fn)(void *ctx, const struct store_aws_refresh *e), void *ctx)
{
        (void)base;
        (void)limit;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_aws_refresh_done(struct store *base, int64_t id, const char *outcome, int64_t now)
{
        (void)base;
        (void)id;
        (void)outcome;
        (void)now;
        return -ENOSYS;
}
int pg_aws_holds_to_check(struct store *base, int64_t checked_before, int64_t limit,
                          int (*fn)(void *ctx, const char *offer_id), void *ctx)
{
        (void)base;
        (void)checked_before;
        (void)limit;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_aws_lookup_put(struct store *base, const struct store_aws_lookup *l)
{
        (void)base;
        (void)l;
        return -ENOSYS;
}
int pg_aws_lookup_get(struct store *base, const char *offer_id,
                      int (*fn)(void *ctx, const struct store_aws_lookup *l), void *ctx)
{
        (void)base;
        (void)offer_id;
        (void)fn;
        (void)ctx;
        return -ENOSYS;
}
int pg_aws_source_counts(struct store *base, int64_t out[STORE_AWS_SOURCES])
{
        (void)base;
        (void)out;
        return -ENOSYS;
}
