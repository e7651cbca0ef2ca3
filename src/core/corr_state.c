/* cppo-notify — the correlation state container: the records by id, the
 * sale indexes inference reads, the notification keys ever emitted (see
 * include/cppo/correlate.h and corr_internal.h). */
#include "corr_internal.h"

#include <stdint.h>
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

static void free_sale_list(void *p)
{
        struct corr_sale_list *l = p;

        if (l) {
                strlist_clear(&l->ids);
                free(l->retry.v);
        }
        free(l);
}

static void free_bucket(void *p)
{
        struct corr_bucket *b = p;

        if (b) {
                strlist_clear(&b->auths);
                strlist_clear(&b->offers);
        }
        free(b);
}

/* Where one offer is in offers_by_sale: each list and its position there
 * (more than one only when its product or partner changed), and whether
 * every registration of those keys retries it while it is held (moved, or
 * in an expiring bucket: see corr_held_to_retry). */
struct corr_places {
        bool retry;
        size_t n;
        struct {
                struct corr_sale_list *list;
                size_t pos;
        } at[];
};

int corr_state_new(struct corr_state **out)
{
        struct corr_state *s = calloc(1, sizeof *s);

        if (s == NULL || hmap_new(&s->auths, free_authorization) < 0 ||
            hmap_new(&s->offers, free_offer) < 0 || hmap_new(&s->agreements, free_agreement) < 0 ||
            hmap_new(&s->holds, free_hold) < 0 || hmap_new(&s->keys, NULL) < 0 ||
            hmap_new(&s->buckets, free_bucket) < 0 ||
            hmap_new(&s->offers_by_sale, free_sale_list) < 0 ||
            hmap_new(&s->offer_places, free) < 0 ||
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
        hmap_free(s->buckets);
        hmap_free(s->offers_by_sale);
        hmap_free(s->offer_places);
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

/* The entry of key in an index of zeroed structs of `size`, made when
 * missing; NULL without memory. */
static void *entry(struct hmap *index, const char *key, size_t size)
{
        void *e = hmap_get(index, key);

        if (e == NULL) {
                e = calloc(1, size);
                if (e == NULL || hmap_put(index, key, e) < 0) {
                        free(e);
                        return NULL;
                }
        }
        return e;
}

/* Adds id to the list under key, once. */
static int index_add(struct hmap *idx, const char *key, const char *id)
{
        struct strlist *ids = entry(idx, key, sizeof *ids);

        return ids == NULL ? -ENOMEM : strlist_add_unique(ids, id);
}

/* The buckets key; false when a part is unknown. */
static bool buyer_key(char *buf, size_t size, const char *product, const char *party,
                      const char *buyer)
{
        if (product == NULL || party == NULL || buyer == NULL)
                return false;
        /* cut at the buffer's size: only more candidates, as corr_sale_key */
        snprintf(buf, size, "%s\x1f%s\x1f%s", product, party, buyer);
        return true;
}

static struct corr_bucket *bucket(struct corr_state *s, const char *key)
{
        return entry(s->buckets, key, sizeof(struct corr_bucket));
}

/* ---- positions ---- */

/* Where pos is, or would go, in p. */
static size_t pos_slot(const struct corr_posset *p, size_t pos)
{
        size_t lo = 0, hi = p->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (p->v[mid] < pos)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int pos_add(struct corr_posset *p, size_t pos)
{
        size_t i = pos_slot(p, pos);

        if (i < p->n && p->v[i] == pos)
                return 0;
        if (p->n == p->cap) {
                size_t cap = p->cap ? 2 * p->cap : 4;
                size_t *v = realloc(p->v, cap * sizeof *v);
                if (v == NULL)
                        return -ENOMEM;
                p->v = v;
                p->cap = cap;
        }
        memmove(&p->v[i + 1], &p->v[i], (p->n - i) * sizeof *p->v);
        p->v[i] = pos;
        p->n++;
        return 0;
}

static void pos_del(struct corr_posset *p, size_t pos)
{
        size_t i = pos_slot(p, pos);

        if (i < p->n && p->v[i] == pos) {
                memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof *p->v);
                p->n--;
        }
}

/* ---- the retry marks ---- */

/* Marks offer_id in the retry positions of every list it is in when it is
 * held and to be retried always; unmarks it everywhere otherwise. */
static int sync_retry(struct corr_state *s, const char *offer_id)
{
        struct corr_places *pl = hmap_get(s->offer_places, offer_id);
        bool on = pl && pl->retry && hmap_get(s->holds, offer_id) != NULL;
        int r = 0;

        for (size_t i = 0; pl && r == 0 && i < pl->n; i++) {
                if (on)
                        r = pos_add(&pl->at[i].list->retry, pl->at[i].pos);
                else
                        pos_del(&pl->at[i].list->retry, pl->at[i].pos);
        }
        return r;
}

/* offer_id is to be retried by every registration of its keys from now on. */
static int retry_always(struct corr_state *s, const char *offer_id)
{
        struct corr_places *pl = hmap_get(s->offer_places, offer_id);

        if (pl == NULL || pl->retry)
                return 0;
        pl->retry = true;
        return sync_retry(s, offer_id);
}

/* ---- the buckets ---- */

int corr_index_authorization(struct corr_state *s, const struct authorization *a)
{
        char key[MP_EVENT_KEY_MAX];
        struct corr_bucket *b;
        int r = 0;

        for (size_t i = 0; r == 0 && i < a->buyer_account_ids.n; i++) {
                if (!buyer_key(key, sizeof key, a->product_id, a->reseller_account_id,
                               a->buyer_account_ids.v[i]))
                        continue;
                if ((b = bucket(s, key)) == NULL)
                        return -ENOMEM;
                r = strlist_add_unique(&b->auths, a->id);
                if (r < 0 || a->expires_at == NULL || b->expiring)
                        continue;
                b->expiring = true;
                for (size_t j = 0; r == 0 && j < b->offers.n; j++)
                        r = retry_always(s, b->offers.v[j]);
        }
        return r;
}

const struct strlist *corr_buyer_candidates(const struct corr_state *s, const char *product,
                                            const char *party, const char *buyer)
{
        char key[MP_EVENT_KEY_MAX];
        const struct corr_bucket *b;

        if (!buyer_key(key, sizeof key, product, party, buyer))
                return NULL;
        b = hmap_get(s->buckets, key);
        return b ? &b->auths : NULL;
}

/* Puts o in the bucket of its first targeted buyer. */
static int bucket_offer(struct corr_state *s, const struct offer *o)
{
        char key[MP_EVENT_KEY_MAX];
        struct corr_bucket *b;
        int r;

        if (o->targeted_buyer_account_ids.n == 0 ||
            !buyer_key(key, sizeof key, o->product_id, o->seller_of_record_account_id,
                       o->targeted_buyer_account_ids.v[0]))
                return 0; /* never inferred */
        if ((b = bucket(s, key)) == NULL)
                return -ENOMEM;
        r = strlist_add_unique(&b->offers, o->id);
        return r == 0 && b->expiring ? retry_always(s, o->id) : r;
}

/* ---- offers by sale key ---- */

static struct corr_sale_list *sale_list(struct corr_state *s, const char *key)
{
        return entry(s->offers_by_sale, key, sizeof(struct corr_sale_list));
}

/* Records that offer_id is at pos of list; a second key makes it one to
 * retry always. */
static int add_place(struct corr_state *s, const char *offer_id, struct corr_sale_list *list,
                     size_t pos)
{
        struct corr_places *pl = hmap_get(s->offer_places, offer_id), *grown;
        size_t n = pl ? pl->n : 0;

        grown = malloc(sizeof *grown + (n + 1) * sizeof grown->at[0]);
        if (grown == NULL)
                return -ENOMEM;
        if (pl)
                memcpy(grown, pl, sizeof *grown + n * sizeof grown->at[0]);
        grown->retry = pl ? pl->retry : false;
        grown->n = n + 1;
        grown->at[n].list = list;
        grown->at[n].pos = pos;
        if (hmap_put(s->offer_places, offer_id, grown) < 0) { /* frees the old one */
                free(grown);
                return -ENOMEM;
        }
        if (n > 0)
                grown->retry = true;
        return sync_retry(s, offer_id);
}

/* Adds o to the list of its sale key (key) unless it is there. */
static int place_offer(struct corr_state *s, const struct offer *o, const char *key)
{
        struct corr_places *pl = hmap_get(s->offer_places, o->id);
        struct corr_sale_list *l;
        int r;

        if ((l = sale_list(s, key)) == NULL)
                return -ENOMEM;
        for (size_t i = 0; pl && i < pl->n; i++)
                if (pl->at[i].list == l)
                        return 0; /* there already */
        r = strlist_add(&l->ids, o->id);
        return r == 0 ? add_place(s, o->id, l, l->ids.n - 1) : r;
}

int corr_index_offer(struct corr_state *s, const struct offer *o)
{
        char key[MP_EVENT_KEY_MAX];
        int r;

        if (!corr_sale_key(key, sizeof key, o->product_id, o->seller_of_record_account_id))
                return 0;
        r = place_offer(s, o, key);
        return r == 0 ? bucket_offer(s, o) : r;
}

/* The position of offer_id in l, or SIZE_MAX when it is not there. */
static size_t place_in(const struct corr_state *s, const char *offer_id,
                       const struct corr_sale_list *l)
{
        const struct corr_places *pl = hmap_get(s->offer_places, offer_id);

        for (size_t i = 0; pl && i < pl->n; i++)
                if (pl->at[i].list == l)
                        return pl->at[i].pos;
        return SIZE_MAX;
}

/* Adds the positions in l of the held offers of bucket (sale_key, buyer). */
static int add_bucket_held(const struct corr_state *s, const struct corr_sale_list *l,
                           const char *sale_key, const char *buyer, struct corr_posset *out)
{
        char key[MP_EVENT_KEY_MAX];
        const struct corr_bucket *b;
        int r = 0;

        /* the same string as buyer_key(product, party, buyer), also cut */
        snprintf(key, sizeof key, "%s\x1f%s", sale_key, buyer);
        if ((b = hmap_get(s->buckets, key)) == NULL)
                return 0;
        for (size_t i = 0; r == 0 && i < b->offers.n; i++) {
                size_t pos = place_in(s, b->offers.v[i], l);
                if (pos != SIZE_MAX && hmap_get(s->holds, b->offers.v[i]))
                        r = pos_add(out, pos);
        }
        return r;
}

int corr_held_to_retry(const struct corr_state *s, const char *sale_key,
                       const struct strlist *const *buyers, size_t n, struct strlist *out)
{
        const struct corr_sale_list *l = hmap_get(s->offers_by_sale, sale_key);
        struct corr_posset p = { 0 };
        int r = 0;

        if (l == NULL)
                return 0;
        for (size_t i = 0; r == 0 && i < l->retry.n; i++)
                r = pos_add(&p, l->retry.v[i]);
        for (size_t k = 0; r == 0 && k < n; k++)
                for (size_t i = 0; r == 0 && buyers[k] && i < buyers[k]->n; i++)
                        r = add_bucket_held(s, l, sale_key, buyers[k]->v[i], &p);
        for (size_t i = 0; r == 0 && i < p.n; i++)
                r = strlist_add(out, l->ids.v[p.v[i]]);
        free(p.v);
        return r;
}

int corr_index_agreement(struct corr_state *s, const struct agreement *g)
{
        return g->offer_id ? index_add(s->agreements_by_offer, g->offer_id, g->id) : 0;
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

        return a ? corr_index_authorization(s, a) : -ENOMEM;
}

int corr_state_put_offer(struct corr_state *s, const struct offer *src)
{
        struct offer *o = put_offer(s, src);

        return o ? corr_index_offer(s, o) : -ENOMEM;
}

int corr_state_put_agreement(struct corr_state *s, const struct agreement *src)
{
        struct agreement *g = put_agreement(s, src);

        return g ? corr_index_agreement(s, g) : -ENOMEM;
}

int corr_state_put_hold(struct corr_state *s, const struct hold *src)
{
        return put_hold(s, src) ? sync_retry(s, src->offer_id) : -ENOMEM;
}

void corr_state_del_hold(struct corr_state *s, const char *offer_id)
{
        hmap_del(s->holds, offer_id);
        (void)sync_retry(s, offer_id); /* unmarking allocates nothing */
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
