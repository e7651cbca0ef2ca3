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

static void free_sale_list(void *p)
{
        struct corr_sale_list *l = p;

        if (l) {
                strlist_clear(&l->ids);
                free(l->held);
        }
        free(l);
}

/* Where one offer is in offers_by_sale: each list and its position there
 * (more than one only when its product or partner changed). */
struct corr_places {
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
            hmap_new(&s->auths_by_buyer, free_ids) < 0 ||
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
        hmap_free(s->auths_by_buyer);
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

/* Adds id to the list under key, once. */
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

/* The auths_by_buyer key; false when a part is unknown. */
static bool buyer_key(char *buf, size_t size, const char *product, const char *party,
                      const char *buyer)
{
        if (product == NULL || party == NULL || buyer == NULL)
                return false;
        /* cut at the buffer's size: only more candidates, as corr_sale_key */
        snprintf(buf, size, "%s\x1f%s\x1f%s", product, party, buyer);
        return true;
}

int corr_index_authorization(struct corr_state *s, const struct authorization *a)
{
        char key[MP_EVENT_KEY_MAX];
        int r = 0;

        for (size_t i = 0; r == 0 && i < a->buyer_account_ids.n; i++)
                if (buyer_key(key, sizeof key, a->product_id, a->reseller_account_id,
                              a->buyer_account_ids.v[i]))
                        r = index_add(s->auths_by_buyer, key, a->id);
        return r;
}

const struct strlist *corr_buyer_candidates(const struct corr_state *s, const char *product,
                                            const char *party, const char *buyer)
{
        char key[MP_EVENT_KEY_MAX];

        return buyer_key(key, sizeof key, product, party, buyer) ? hmap_get(s->auths_by_buyer, key)
                                                                 : NULL;
}

/* ---- held offers by sale key ---- */

/* Where pos is, or would go, in l's held positions. */
static size_t held_slot(const struct corr_sale_list *l, size_t pos)
{
        size_t lo = 0, hi = l->n_held;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (l->held[mid] < pos)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int held_mark(struct corr_sale_list *l, size_t pos)
{
        size_t i = held_slot(l, pos);

        if (i < l->n_held && l->held[i] == pos)
                return 0;
        if (l->n_held == l->cap_held) {
                size_t cap = l->cap_held ? 2 * l->cap_held : 4;
                size_t *v = realloc(l->held, cap * sizeof *v);
                if (v == NULL)
                        return -ENOMEM;
                l->held = v;
                l->cap_held = cap;
        }
        memmove(&l->held[i + 1], &l->held[i], (l->n_held - i) * sizeof *l->held);
        l->held[i] = pos;
        l->n_held++;
        return 0;
}

static void held_unmark(struct corr_sale_list *l, size_t pos)
{
        size_t i = held_slot(l, pos);

        if (i < l->n_held && l->held[i] == pos) {
                memmove(&l->held[i], &l->held[i + 1], (l->n_held - i - 1) * sizeof *l->held);
                l->n_held--;
        }
}

/* Marks (held) or unmarks offer_id wherever it is indexed. */
static int mark_places(struct corr_state *s, const char *offer_id, bool held)
{
        struct corr_places *pl = hmap_get(s->offer_places, offer_id);
        int r = 0;

        for (size_t i = 0; pl && r == 0 && i < pl->n; i++) {
                if (held)
                        r = held_mark(pl->at[i].list, pl->at[i].pos);
                else
                        held_unmark(pl->at[i].list, pl->at[i].pos);
        }
        return r;
}

static struct corr_sale_list *sale_list(struct corr_state *s, const char *key)
{
        struct corr_sale_list *l = hmap_get(s->offers_by_sale, key);

        if (l == NULL) {
                l = calloc(1, sizeof *l);
                if (l == NULL || hmap_put(s->offers_by_sale, key, l) < 0) {
                        free(l);
                        return NULL;
                }
        }
        return l;
}

/* Records that offer_id is at pos of list. */
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
        grown->n = n + 1;
        grown->at[n].list = list;
        grown->at[n].pos = pos;
        if (hmap_put(s->offer_places, offer_id, grown) < 0) { /* frees the old one */
                free(grown);
                return -ENOMEM;
        }
        return 0;
}

int corr_index_offer(struct corr_state *s, const struct offer *o)
{
        char key[MP_EVENT_KEY_MAX];
        struct corr_places *pl = hmap_get(s->offer_places, o->id);
        struct corr_sale_list *l;
        int r;

        if (!corr_sale_key(key, sizeof key, o->product_id, o->seller_of_record_account_id))
                return 0;
        if ((l = sale_list(s, key)) == NULL)
                return -ENOMEM;
        for (size_t i = 0; pl && i < pl->n; i++)
                if (pl->at[i].list == l)
                        return 0; /* there already */
        r = strlist_add(&l->ids, o->id);
        if (r == 0)
                r = add_place(s, o->id, l, l->ids.n - 1);
        if (r == 0 && hmap_get(s->holds, o->id))
                r = held_mark(l, l->ids.n - 1);
        return r;
}

const char *corr_next_held(const struct corr_state *s, const char *sale_key, size_t *cursor)
{
        const struct corr_sale_list *l = hmap_get(s->offers_by_sale, sale_key);
        size_t i;

        if (l == NULL || (i = held_slot(l, *cursor)) == l->n_held)
                return NULL;
        *cursor = l->held[i] + 1;
        return l->ids.v[l->held[i]];
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
        return put_hold(s, src) ? mark_places(s, src->offer_id, true) : -ENOMEM;
}

void corr_state_del_hold(struct corr_state *s, const char *offer_id)
{
        (void)mark_places(s, offer_id, false); /* unmarking allocates nothing */
        hmap_del(s->holds, offer_id);
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
