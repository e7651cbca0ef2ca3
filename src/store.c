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

/* ---- CLI queries and inbox ---- */

int store_inbox_add(struct store *s, const char *payload, int64_t now, int64_t *id)
{
        return s->ops->inbox_add(s, payload, now, id);
}

int store_inbox_pending(struct store *s, int64_t *out)
{
        return s->ops->inbox_pending(s, out);
}

int store_inbox_take(struct store *s, int64_t limit, int64_t now,
                     int (*fn)(void *ctx, const struct store_inbox_entry *e), void *ctx)
{
        return s->ops->inbox_take(s, limit, now, fn, ctx);
}

int store_list_authorizations(struct store *s,
                              int (*fn)(void *ctx, const struct authorization *a), void *ctx)
{
        return s->ops->list_authorizations(s, fn, ctx);
}

int store_get_authorization(struct store *s, const char *id, struct authorization *out)
{
        return s->ops->get_authorization(s, id, out);
}

int store_list_offers(struct store *s, const char *authorization_id,
                      int (*fn)(void *ctx, const struct offer *o), void *ctx)
{
        return s->ops->list_offers(s, authorization_id, fn, ctx);
}

int store_list_holds(struct store *s, int (*fn)(void *ctx, const struct hold *h), void *ctx)
{
        return s->ops->list_holds(s, fn, ctx);
}

int store_get_offer(struct store *s, const char *id, struct offer *out)
{
        return s->ops->get_offer(s, id, out);
}

int store_list_agreements(struct store *s, const char *authorization_id,
                          int (*fn)(void *ctx, const struct agreement *g), void *ctx)
{
        return s->ops->list_agreements(s, authorization_id, fn, ctx);
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
