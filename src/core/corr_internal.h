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
        /* "product\x1fparty\x1fbuyer" -> ids (struct strlist *): the
         * authorizations of a product and reseller that name a buyer. A
         * match for inference names every buyer the offer targets, so the
         * list of the offer's first buyer holds all its candidates: a few,
         * not every authorization of the product and partner (quadratic
         * over a stream otherwise). */
        struct hmap *auths_by_buyer;
        /* "product\x1fparty" -> struct corr_sale_list: the offers by product
         * and seller of record, in the order first indexed there, and which
         * of them are held now, so that a registration retries the held
         * offers of its sale key without walking all the others. */
        struct hmap *offers_by_sale;
        /* offer id -> struct corr_places: where the offer is in
         * offers_by_sale (the held marks follow the holds through it) */
        struct hmap *offer_places;
        /* offer id -> ids of the agreements that named it (struct strlist *),
         * so that "were people told about this offer" looks at the offer's
         * few agreements, not at every agreement for every released hold. */
        struct hmap *agreements_by_offer;
};

/* One sale key's offers: ids in the order they were first indexed there,
 * and the positions (ascending) of those held now. */
struct corr_sale_list {
        struct strlist ids;
        size_t *held;
        size_t n_held, cap_held;
};

/* ---- corr_state.c ---- */

/* The index key of a product sold by a party into buf; false when either
 * is unknown (such a record is never a candidate). A key cut at the
 * buffer's size only adds candidates: every reader checks each one in full. */
bool corr_sale_key(char *buf, size_t size, const char *product, const char *party);

/* Entries of the indexes below are only added: one left behind when a
 * record moves to another key is harmless (readers re-check every
 * candidate), a missing one would not be. */

/* Indexes a under each buyer it names (auths_by_buyer). 0 or -ENOMEM. */
CPPO_MUST_CHECK int corr_index_authorization(struct corr_state *s, const struct authorization *a);

/* The authorizations of product and party that name buyer (NULL: none). */
const struct strlist *corr_buyer_candidates(const struct corr_state *s, const char *product,
                                            const char *party, const char *buyer);

/* Indexes o under its sale key (offers_by_sale), marked held when it is.
 * 0 (also when the key is unknown) or -ENOMEM. */
CPPO_MUST_CHECK int corr_index_offer(struct corr_state *s, const struct offer *o);

/* The next held offer under sale_key at or after position *cursor, in the
 * order the offers were indexed there; *cursor moves past it. NULL when
 * there is none. Holds taken or released meanwhile are seen. */
const char *corr_next_held(const struct corr_state *s, const char *sale_key, size_t *cursor);

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
