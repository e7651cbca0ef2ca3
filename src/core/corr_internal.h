/* cppo-notify — what the corr_*.c files and correlate.c share and nothing
 * else sees: the state container's insides, its indexes, and what a
 * notification's context document is built from.
 *
 * correlate.c    the rules: corr_apply, corr_tick and what they decide
 * corr_state.c   the state container: maps, sale indexes, loaded records
 * corr_context.c the context document of a notification (JSON)
 */
#ifndef CPPO_CORR_INTERNAL_H
#define CPPO_CORR_INTERNAL_H

#include "cppo/correlate.h"
#include "cppo/error.h"
#include "cppo/hmap.h"
#include "cppo/model.h"

#include <stdbool.h>
#include <stddef.h>

struct corr_state {
        struct hmap *auths, *offers, *agreements, *holds, *keys;
        /* "product\x1fparty\x1fbuyer" -> struct corr_bucket: the
         * authorizations of a product and reseller that name a buyer, and
         * the offers of that product and seller of record whose first
         * targeted buyer it is. A match for inference names every buyer the
         * offer targets, so the bucket of the offer's first buyer holds all
         * its candidates: a few, not every authorization of the product and
         * partner (quadratic over a stream otherwise). */
        struct hmap *buckets;
        /* "product\x1fparty" -> struct corr_sale_list: the offers by product
         * and seller of record, in the order first indexed there. */
        struct hmap *offers_by_sale;
        /* offer id -> struct corr_places: where the offer is in
         * offers_by_sale, and whether every registration of those sale keys
         * must retry it while it is held */
        struct hmap *offer_places;
        /* offer id -> ids of the agreements that named it (struct strlist *),
         * so that "were people told about this offer" looks at the offer's
         * few agreements, not at every agreement for every released hold. */
        struct hmap *agreements_by_offer;
};

/* Ascending positions in a sale list. */
struct corr_posset {
        size_t *v;
        size_t n, cap;
};

/* One sale key's offers: ids in the order they were first indexed there,
 * and the positions of the held ones that any registration of the key must
 * retry (see corr_held_to_retry). */
struct corr_sale_list {
        struct strlist ids;
        struct corr_posset retry;
};

/* One (product, party, buyer): see corr_state.buckets. `expiring` is set
 * for good once an authorization with an expiry was indexed here: from
 * then on the inference of its offers can change with the clock alone. */
struct corr_bucket {
        struct strlist auths, offers;
        bool expiring;
};

/* ---- corr_state.c ---- */

/* The index key of a product sold by a party into buf; false when either
 * is unknown (such a record is never a candidate). A key cut at the
 * buffer's size only adds candidates: every reader checks each one in full. */
bool corr_sale_key(char *buf, size_t size, const char *product, const char *party);

/* Entries of the indexes below are only added: one left behind when a
 * record moves to another key is harmless (readers re-check every
 * candidate), a missing one would not be. */

/* Indexes a under each buyer it names (buckets). 0 or -ENOMEM. */
CPPO_MUST_CHECK int corr_index_authorization(struct corr_state *s, const struct authorization *a);

/* The authorizations of product and party that name buyer (NULL: none). */
const struct strlist *corr_buyer_candidates(const struct corr_state *s, const char *product,
                                            const char *party, const char *buyer);

/* Indexes o under its sale key (offers_by_sale) and the bucket of its
 * first targeted buyer. 0 (also when the key is unknown) or -ENOMEM. */
CPPO_MUST_CHECK int corr_index_offer(struct corr_state *s, const struct offer *o);

/* The held offers under sale_key whose inference a change of an
 * authorization naming any of the buyers in `buyers` (n lists: its buyers
 * before and after the change) may have made unique, as ids in the order
 * the offers were first indexed there (appended to *out, which the caller
 * clears). A held offer left out has the inference it had when last tried:
 * its candidates are the authorizations of its own (product, party, first
 * buyer) bucket; an authorization naming none of that bucket's buyer
 * leaves them as they were, and the clock changes them only when one of
 * them expires (an "expiring" bucket). So these are its offers:
 *   - held in a bucket (sale_key, b) for b among `buyers`;
 *   - held in an expiring bucket, or indexed under more than one sale key
 *     (a moved offer infers by its current key): every registration of
 *     sale_key retries these, as it did every held offer before.
 * 0 or -ENOMEM. */
CPPO_MUST_CHECK int corr_held_to_retry(const struct corr_state *s, const char *sale_key,
                                       const struct strlist *const *buyers, size_t n,
                                       struct strlist *out);

/* Removes the hold of offer_id (and its held marks). */
void corr_state_del_hold(struct corr_state *s, const char *offer_id);

/* Adds the agreement g under its offer id in agreements_by_offer (nothing
 * when it names none). 0 or -ENOMEM. */
CPPO_MUST_CHECK int corr_index_agreement(struct corr_state *s, const struct agreement *g);

/* A record by id, created empty (with its id) when missing; NULL on ENOMEM.
 * A new one is not in the sale indexes: whoever fills in its product and
 * party adds it. */
struct authorization *corr_auth_get_or_new(struct corr_state *s, const char *id);
struct offer *corr_offer_get_or_new(struct corr_state *s, const char *id);
struct agreement *corr_agreement_get_or_new(struct corr_state *s, const char *id);

/* ---- corr_context.c ---- */

/* What a link_corrected notification tells on top of the usual subject. */
struct corr_correction {
        const struct authorization *previous; /* linked before (NULL: was held) */
        const struct link_change *change;
        int seq;
};

/* What one notification is about; every pointer may be NULL. */
struct corr_subject {
        const char *kind, *key, *reason;
        struct authorization *auth;
        struct offer *offer;
        struct agreement *agreement;
        bool renewal;
        const struct corr_correction *correction; /* link_corrected only */
};

/* The notification's context document (cppo-notify.yaml(5), "The context
 * document"): the JSON rules match and templates render; event_key is its
 * one source event (NULL: none, as in corr_tick). A new string the caller
 * frees, or NULL on ENOMEM. */
char *corr_context_json(const struct corr_subject *sj, const char *event_key);

#endif
