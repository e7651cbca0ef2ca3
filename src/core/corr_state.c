/* cppo-notify — the correlation state container: the records by id, the
 * sale indexes inference reads, the notification keys ever emitted (see
 * include/cppo/correlate.h and corr_internal.h). */
#include "corr_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFINE_FREE(type)                                                                          \
        static void free_##type(void *p)                                                           \
        {                                                                                          \
                if (p)                                                                             \
                        type##_clear(p);                                                           \
                free(p);                                                                           \
        }
DEFINE_FREE(authorization)
DEFINE_FREE(offer)
DEFINE_FREE(agreement)
DEFINE_FREE(hold)

static void free_ids(void *p)
{
        if (p)
                strlist_clear(p);
        free(p);
}

int corr_state_new(struct corr_state **out)
{
        struct corr_state *s = calloc(1, sizeof *s);

        if (s == NULL || hmap_new(&s->auths, free_authorization) < 0 ||
            hmap_new(&s->offers, free_offer) < 0 || hmap_new(&s->agreements, free_agreement) < 0 ||
            hmap_new(&s->holds, free_hold) < 0 || hmap_new(&s->keys, NULL) < 0 ||
            hmap_new(&s->auths_by_sale, free_ids) < 0 ||
            hmap_new(&s->offers_by_sale, free_ids) < 0 ||
            hmap_new(&s->agreements_by_offer, free_ids) < 0) {
                corr_state_free(s);
                return -ENOMEM;
        }
        *out = s;
        return 0;
}

void corr_state_free(struct corr_state *s)
{
        if (s == NULL)
                return;
        hmap_free(s->auths);
        hmap_free(s->offers);
        hmap_free(s->agreements);
        hmap_free(s->holds);
        hmap_free(s->keys);
        hmap_free(s->auths_by_sale);
        hmap_free(s->offers_by_sale);
        hmap_free(s->agreements_by_offer);
        free(s);
}

/* ---- the sale indexes ---- */

/* The index key of a product sold by a party; false when either is
 * unknown (such a record is never a candidate). A key cut at the buffer's
 * size only adds candidates: every reader checks each one in full. */
bool corr_sale_key(char *buf, size_t size, const char *product, const char *party)
{
        if (product == NULL || party == NULL)
                return false;
        snprintf(buf, size, "%s\x1f%s", product, party);
        return true;
}

/* Entries are only added: one left behind when a record moves to another
 * key is harmless (readers re-check), a missing one would not be. */
static int index_add(struct hmap *idx, const char *key, const char *id)
{
        struct strlist *ids = hmap_get(idx, key);

        if (ids == NULL) {
                ids = calloc(1, sizeof *ids);
                if (ids == NULL || hmap_put(idx, key, ids) < 0) {
                        free(ids);
                        return -ENOMEM;
                }
        }
        return strlist_add_unique(ids, id);
}

int corr_index_add(struct hmap *idx, const char *product, const char *party, const char *id)
{
        char key[MP_EVENT_KEY_MAX];

        return corr_sale_key(key, sizeof key, product, party) ? index_add(idx, key, id) : 0;
}

int corr_index_agreement(struct corr_state *s, const struct agreement *g)
{
        return g->offer_id ? index_add(s->agreements_by_offer, g->offer_id, g->id) : 0;
}

const struct strlist *corr_index_get(const struct hmap *idx, const char *key)
{
        return key ? hmap_get(idx, key) : NULL;
}

/* ---- loading and lookups ---- */

#define DEFINE_PUT(type, map, keyfield)                                                            \
        static struct type *put_##type(struct corr_state *s, const struct type *src)               \
        {                                                                                          \
                struct type *copy = calloc(1, sizeof *copy);                                       \
                if (copy == NULL || type##_copy(copy, src) < 0 || src->keyfield == NULL ||         \
                    hmap_put(s->map, src->keyfield, copy) < 0) {                                   \
                        free_##type(copy);                                                         \
                        return NULL;                                                               \
                }                                                                                  \
                return copy;                                                                       \
        }
DEFINE_PUT(authorization, auths, id)
DEFINE_PUT(offer, offers, id)
DEFINE_PUT(agreement, agreements, id)
DEFINE_PUT(hold, holds, offer_id)

int corr_state_put_authorization(struct corr_state *s, const struct authorization *src)
{
        struct authorization *a = put_authorization(s, src);

        return a ? corr_index_add(s->auths_by_sale, a->product_id, a->reseller_account_id, a->id)
                 : -ENOMEM;
}

int corr_state_put_offer(struct corr_state *s, const struct offer *src)
{
        struct offer *o = put_offer(s, src);

        return o ? corr_index_add(s->offers_by_sale, o->product_id, o->seller_of_record_account_id,
                                  o->id)
                 : -ENOMEM;
}

int corr_state_put_agreement(struct corr_state *s, const struct agreement *src)
{
        struct agreement *g = put_agreement(s, src);

        return g ? corr_index_agreement(s, g) : -ENOMEM;
}

int corr_state_put_hold(struct corr_state *s, const struct hold *src)
{
        return put_hold(s, src) ? 0 : -ENOMEM;
}

int corr_state_put_notification_key(struct corr_state *s, const char *key)
{
        return hmap_put(s->keys, key, s); /* any non-NULL value marks presence */
}

const struct authorization *corr_state_authorization(const struct corr_state *s, const char *id)
{
        return hmap_get(s->auths, id);
}

const struct offer *corr_state_offer(const struct corr_state *s, const char *id)
{
        return hmap_get(s->offers, id);
}

const struct agreement *corr_state_agreement(const struct corr_state *s, const char *id)
{
        return hmap_get(s->agreements, id);
}

const struct hold *corr_state_hold(const struct corr_state *s, const char *offer_id)
{
        return hmap_get(s->holds, offer_id);
}

/* A record by id, created empty (with its id) when missing; NULL on ENOMEM. */
#define DEFINE_GET_OR_NEW(name, type, map)                                                         \
        struct type *corr_##name##_get_or_new(struct corr_state *s, const char *id)                \
        {                                                                                          \
                struct type *r = hmap_get(s->map, id);                                             \
                if (r)                                                                             \
                        return r;                                                                  \
                r = calloc(1, sizeof *r);                                                          \
                if (r == NULL || (r->id = strdup(id)) == NULL || hmap_put(s->map, id, r) < 0) {    \
                        free_##type(r);                                                            \
                        return NULL;                                                               \
                }                                                                                  \
                return r;                                                                          \
        }
DEFINE_GET_OR_NEW(auth, authorization, auths)
DEFINE_GET_OR_NEW(offer, offer, offers)
DEFINE_GET_OR_NEW(agreement, agreement, agreements)
