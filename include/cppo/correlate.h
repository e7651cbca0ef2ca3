/* cppo-notify — the CPPO domain core (doc/model.md).
 *
 * Pure: state + event + clock in, changes + notifications out. No I/O, no
 * clock reads. The state lives in memory (struct corr_state); the store
 * persists every record corr_apply() reports in the changeset, in the same
 * transaction as the ledger, and feeds them back at start-up with the
 * corr_state_put_*() functions.
 *
 * Rules, as implemented:
 * - A partner offer is an Offer Released whose seller of record is not the
 *   manufacturer. It is linked to an authorization, strongest first, by an
 *   agreement event naming both ids (event), a registration naming the offer
 *   (registered), `cppo-notifyctl associate` (manual), or a unique inferred
 *   match: same product, seller of record = the authorization's reseller,
 *   targeted buyers within its buyers, not expired, not withdrawn
 *   (inferred). A stronger link replaces a weaker one; ambiguity links
 *   nothing.
 * - Changing a link by hand (Offer Associated onto another authorization,
 *   Offer Unlinked): an inferred or manual link moves; a registered or
 *   event link only with the event's force flag. Unlinked, the offer is held
 *   again and inference leaves it to a person. Every link change goes into
 *   the changeset's link history (who, why). When people were already told
 *   about the offer (its partner_offer_extended, or an order of one of its
 *   agreements), a move, an unlink, the relinking of an unlinked offer and
 *   an agreement event overruling an inference each emit
 *   link_corrected/<offer>/<n> (n counts the offer's corrections) with both
 *   authorizations in its context and both contact lists in
 *   opportunity.notify.
 * - A partner offer with no link is held. When a link appears its
 *   partner_offer_extended goes out, late. A hold older than
 *   offer_link_timeout (corr_tick) yields attention_needed/<offer>, once.
 * - late: the offer id reached us only after acceptance (an agreement event
 *   brought it before any Offer Released), or the offer was held.
 * - Agreement Created (Manufacturer or Proposer copy: one fact) with a
 *   resale authorization, or for an offer linked to one: NEW and RENEW give
 *   new_order/<agreement> (RENEW with renewal: true), REPLACE gives
 *   amended_offer/<agreement>. The offer id is written back into the
 *   authorization, which is created (registered: false) if never seen.
 *   If its Offer Released comes later, the offer links silently: a
 *   partner_offer_extended then only with notify_extended_after_acceptance.
 * - Amended (AMEND): amended_offer/<agreement>/<time of the change>. The
 *   issue names the requestId, but the Manufacturer and Proposer copies of
 *   one change carry different requestIds (see the fixtures), so the time
 *   they share is what identifies the fact. An amendment of an ended
 *   agreement is recorded, not notified.
 * - Ended: order_ended/<agreement>, except REPLACED and RENEWED (the new
 *   agreement's notification tells that story). Status only moves forward:
 *   an ended agreement stays ended whatever arrives later.
 * - Direct deals (no authorization anywhere): recorded; new_order only with
 *   notify_direct_deals.
 * - AWS sync (doc/aws.md): Resale Authorization Synced carries AWS's record
 *   of an authorization; AWS is authoritative for name, product, reseller,
 *   buyers, expiry and status (fields it reports replace a registration's;
 *   a registration never overrides them and adds company, contacts,
 *   metadata). Each field's source is kept (struct authorization.sources).
 *   An older revision (lastModifiedDate) than the one applied is ignored.
 *   A synced authorization is an inference candidate like a registered
 *   one, unless Restricted or expired. Offer Authorization Found (AWS's
 *   record of a held offer) links with strength aws. A Change Set
 *   Succeeded adds its id to the changeset's aws_refresh, for the sync.
 */
#ifndef CPPO_CORRELATE_H
#define CPPO_CORRELATE_H

#include "cppo/error.h"

#include "cppo/event.h"
#include "cppo/model.h"

#include <stdbool.h>
#include <stdint.h>

struct corr_state;

struct corr_options {
        int64_t offer_link_timeout; /* seconds */
        bool notify_extended_after_acceptance;
        bool notify_direct_deals;
};

struct corr_options corr_options_default(void); /* 72 h, false, false */

CPPO_MUST_CHECK int corr_state_new(struct corr_state **out);
void corr_state_free(struct corr_state *s);

/* Loading saved state (deep copies). 0 or -ENOMEM. */
CPPO_MUST_CHECK int corr_state_put_authorization(struct corr_state *s,
                                                 const struct authorization *a);
CPPO_MUST_CHECK int corr_state_put_offer(struct corr_state *s, const struct offer *o);
CPPO_MUST_CHECK int corr_state_put_agreement(struct corr_state *s, const struct agreement *g);
CPPO_MUST_CHECK int corr_state_put_hold(struct corr_state *s, const struct hold *h);
CPPO_MUST_CHECK int corr_state_put_notification_key(struct corr_state *s, const char *key);

const struct authorization *corr_state_authorization(const struct corr_state *s, const char *id);
const struct offer *corr_state_offer(const struct corr_state *s, const char *id);
const struct agreement *corr_state_agreement(const struct corr_state *s, const char *id);
const struct hold *corr_state_hold(const struct corr_state *s, const char *offer_id);

/* Applies one event at clock `now`; appends changed records and new
 * notifications to out. 0 or -ENOMEM. */
CPPO_MUST_CHECK int corr_apply(struct corr_state *s, const struct corr_options *o,
                               const struct mp_event *ev, int64_t now, struct changeset *out);

/* Whether authorization a could legally own offer o at clock now: same
 * product and seller of record = reseller (when the offer names them), the
 * offer's targeted buyers among a's buyers (when a names buyers), not
 * expired, not withdrawn, not Restricted in AWS. When not, why (may be NULL) gets one line naming
 * the first mismatch in that order. The rule `holds` lists candidates by and
 * `associate` refuses by; inference also needs both to name buyers. */
bool corr_offer_fits(const struct authorization *a, const struct offer *o, int64_t now, char *why,
                     size_t whylen);

/* s as one POSIX shell word: kept when made of safe characters, else in
 * single quotes (a quote inside written '\''); cut to fit len, always
 * NUL-terminated when len > 0. For the commands the CLI and
 * attention_needed print. */
void corr_shell_word(const char *s, char *out, size_t len);

/* Hold timeouts at clock `now`. 0 or -ENOMEM. */
CPPO_MUST_CHECK int corr_tick(struct corr_state *s, const struct corr_options *o, int64_t now,
                              struct changeset *out);

#endif
