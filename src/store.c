/* cppo-notify — store interface dispatch (see include/cppo/store.h). */
#include "cppo/store.h"

#include "cppo/error.h"

int store_open(struct store **out, const char *path, const struct store_options *o, char *err,
               size_t errlen)
{
        static const struct store_options defaults = { .busy_timeout_ms = 5000 };

        return store_sqlite_open(out, path, o ? o : &defaults, err, errlen);
}

void store_close(struct store *s)
{
        if (s)
                s->ops->close(s);
}

int store_begin(struct store *s)
{
        return s->ops->begin(s);
}

int store_commit(struct store *s)
{
        return s->ops->commit(s);
}

int store_rollback(struct store *s)
{
        return s->ops->rollback(s);
}

int store_ledger_add(struct store *s, const char *event_key, const struct mp_coord *c,
                     int64_t now)
{
        return s->ops->ledger_add(s, event_key, c, now);
}

int store_reject(struct store *s, const struct raw_message *m, const char *reason,
                 const char *message)
{
        return s->ops->reject(s, m, reason, message);
}

int store_count(struct store *s, const char *table, int64_t *out)
{
        return s->ops->count(s, table, out);
}

int store_list_rejected(struct store *s, int64_t limit,
                        int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        return s->ops->list_rejected(s, limit, fn, ctx);
}

int store_schema_version(struct store *s, int *out)
{
        return s->ops->schema_version(s, out);
}

int store_apply(struct store *s, const struct changeset *c, struct strlist *new_keys)
{
        return s->ops->apply(s, c, new_keys);
}

int store_load(struct store *s, const struct store_load_cb *cb, void *ctx)
{
        return s->ops->load(s, cb, ctx);
}
