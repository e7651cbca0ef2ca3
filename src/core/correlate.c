/* cppo-notify — the CPPO domain core's rules: what each event changes and
 * who is told (see include/cppo/correlate.h). The state container lives in
 * corr_state.c, the notifications' context document in corr_context.c. */
#include "corr_internal.h"

#include "cppo/error.h"
#include "cppo/hmap.h"
#include "cppo/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one step is working on: passed to the helpers below. */
struct step {
        struct corr_state *s;
        const struct corr_options *o;
        const struct mp_event *ev; /* NULL in corr_tick */
        int64_t now;
        struct changeset *out;
};

struct corr_options corr_options_default(void)
{
        struct corr_options o = { .offer_link_timeout = 72 * 3600 };

        return o;
}

/* ---- notifications ---- */

/* Emits the notification unless its key was ever emitted. */
static int emit(struct step *st, struct corr_subject *sj)
{
        struct notification n = { 0 };
        const char *ev_key = st->ev ? st->ev->event_key : NULL;
        int r;

        if (hmap_get(st->s->keys, sj->key))
                return 0;
        n.kind = (char *)sj->kind;
        n.key = (char *)sj->key;
        n.source_event_key = (char *)ev_key;
        n.opportunity_id = sj->auth ? sj->auth->id : NULL;
        n.offer_id = sj->offer ? sj->offer->id : sj->agreement ? sj->agreement->offer_id : NULL;
        n.agreement_id = sj->agreement ? sj->agreement->id : NULL;
        n.late = sj->offer && sj->offer->late;
        n.registered = sj->auth && sj->auth->registered;
        n.created_at = st->now;
        n.context_json = corr_context_json(sj, ev_key);
        if (n.context_json == NULL)
                return -ENOMEM;
        r = changeset_add_notification(st->out, &n);
        free(n.context_json);
        return r < 0 ? r : corr_state_put_notification_key(st->s, sj->key);
}

static int emit_kind(struct step *st, const char *kind, const char *id, struct corr_subject *sj)
{
        char key[MP_EVENT_KEY_MAX];

        snprintf(key, sizeof key, "%s/%s", kind, id);
        sj->kind = kind;
        sj->key = key;
        return emit(st, sj);
}

static int save_auth(struct step *st, struct authorization *a)
{
        a->updated_at = st->now;
        return changeset_add_authorization(st->out, a);
}

static int save_offer(struct step *st, struct offer *o)
{
        o->updated_at = st->now;
        return changeset_add_offer(st->out, o);
}

static int save_agreement(struct step *st, struct agreement *g)
{
        g->updated_at = st->now;
        return changeset_add_agreement(st->out, g);
}

/* ---- links and holds ---- */

static bool ended(const char *status)
{
        return status && strcmp(status, "ACTIVE") != 0;
}

static bool is_partner_offer(const struct offer *o)
{
        return o->seller_of_record_account_id && o->manufacturer_account_id &&
               strcmp(o->seller_of_record_account_id, o->manufacturer_account_id) != 0;
}

/* ---- link history and corrections ---- */

/* Why an automatic link was made, by its strength (the history's reason). */
static const char *const auto_reason[] = {
        [LINK_NONE] = "unlinked",
        [LINK_INFERRED] = "inferred: the only authorization with this product, partner and buyers",
        [LINK_MANUAL] = "associated by hand",
        [LINK_REGISTERED] = "the registration names the offer",
        [LINK_AWS] = "AWS's record of the offer names the authorization",
        [LINK_EVENT] = "an agreement event names both",
};

static bool by_hand(const struct mp_event *ev)
{
        return ev && (ev->kind == MP_OFFER_ASSOCIATED || ev->kind == MP_OFFER_UNLINKED);
}

/* The history row for o, now linked as it is, coming from `from`; made by
 * the step's event. Strings are borrowed. */
static void link_change_of(const struct step *st, const struct offer *o, const char *from,
                           enum link_strength from_link, struct link_change *lc)
{
        const struct mp_event *ev = st->ev;

        lc->offer_id = o->id;
        lc->from_authorization_id = (char *)from;
        lc->to_authorization_id = o->authorization_id;
        lc->from_link = from_link;
        lc->to_link = o->link;
        lc->actor = (char *)(by_hand(ev) ? ev->reg.actor ? ev->reg.actor : "unknown"
                                         : "cppo-notify");
        lc->reason = (char *)(by_hand(ev) ? ev->reg.reason : auto_reason[o->link]);
        lc->event_key = ev ? (char *)ev->event_key : NULL;
        lc->at = st->now;
}

/* Whether an order of agreement id was emitted. */
static bool agreement_told(const struct corr_state *s, const char *id)
{
        char key[MP_EVENT_KEY_MAX];

        snprintf(key, sizeof key, "new_order/%s", id);
        if (hmap_get(s->keys, key) != NULL)
                return true;
        snprintf(key, sizeof key, "amended_offer/%s", id);
        return hmap_get(s->keys, key) != NULL;
}

/* Whether people were already told about o under some authorization: its
 * partner_offer_extended, or an order of one of its agreements. Every
 * released hold asks: the agreements come from the offer's index entry
 * (re-checked: an agreement may have named another offer since), not from
 * a scan of all of them, which made a stream quadratic. */
static bool offer_told(const struct step *st, const struct offer *o)
{
        const struct strlist *ids = hmap_get(st->s->agreements_by_offer, o->id);
        char key[MP_EVENT_KEY_MAX];

        snprintf(key, sizeof key, "partner_offer_extended/%s", o->id);
        if (hmap_get(st->s->keys, key))
                return true;
        for (size_t i = 0; ids && i < ids->n; i++) {
                const struct agreement *g = hmap_get(st->s->agreements, ids->v[i]);
                if (g && g->offer_id && strcmp(g->offer_id, o->id) == 0 &&
                    agreement_told(st->s, g->id))
                        return true;
        }
        return false;
}

/* link_corrected/<offer>/<seq>: seq counts this offer's corrections, so
 * each move has its own key and replaying the same move adds nothing (the
 * ledger drops the event before it gets here). */
static int emit_correction(struct step *st, struct offer *o, struct authorization *previous,
                           struct link_change *lc)
{
        struct corr_correction c = { .previous = previous, .change = lc, .seq = 1 };
        struct corr_subject sj = { .auth = hmap_get(st->s->auths,
                                                    o->authorization_id ? o->authorization_id : ""),
                                   .offer = o,
                                   .correction = &c };
        char id[MP_EVENT_KEY_MAX], key[MP_EVENT_KEY_MAX], reason[1024];
        int r;

        for (;; c.seq++) {
                snprintf(key, sizeof key, "link_corrected/%s/%d", o->id, c.seq);
                if (hmap_get(st->s->keys, key) == NULL)
                        break;
        }
        snprintf(reason, sizeof reason, "offer %s %s%s%s%s by %s%s%s", o->id,
                 lc->from_authorization_id ? "was linked to authorization " : "was not linked",
                 lc->from_authorization_id ? lc->from_authorization_id : "",
                 lc->to_authorization_id ? ", now to " : ", now unlinked (held)",
                 lc->to_authorization_id ? lc->to_authorization_id : "", lc->actor,
                 lc->reason ? ": " : "", lc->reason ? lc->reason : "");
        sj.reason = reason;
        snprintf(id, sizeof id, "%s/%d", o->id, c.seq);
        r = emit_kind(st, "link_corrected", id, &sj);
        return r == 0 ? str_assign(&lc->correction_key, key) : r;
}

/* Records lc (with its correction when people had been told) in the set. */
static int record_change(struct step *st, struct offer *o, struct authorization *previous,
                         bool correct, struct link_change *lc)
{
        struct link_change mine = *lc;
        int r = 0;

        mine.correction_key = NULL;
        if (correct)
                r = emit_correction(st, o, previous, &mine);
        if (r == 0)
                r = changeset_add_link_change(st->out, &mine);
        free(mine.correction_key);
        return r;
}

/* ---- links and holds (continued) ---- */

/* An offer returned to the holds by `unlink` has UNLINKED_MARK and the
 * unlink's event key as its link_event_key: inference leaves it alone (it
 * would pick the same wrong authorization again); a person, a registration
 * or an agreement links it. */
#define UNLINKED_MARK "unlinked:"

static bool unlinked_by_hand(const struct offer *o)
{
        return o->authorization_id == NULL && o->link_event_key != NULL &&
               strncmp(o->link_event_key, UNLINKED_MARK, strlen(UNLINKED_MARK)) == 0;
}

/* A held offer got its link: out goes its partner_offer_extended, late; or,
 * when people had already been told about it under the authorization it
 * was unlinked from, a correction naming the new one. */
static int release_hold(struct step *st, struct offer *o, struct authorization *a,
                        struct link_change *lc)
{
        struct corr_subject sj = { .auth = a, .offer = o };
        bool told;
        int r;

        if (hmap_get(st->s->holds, o->id) == NULL)
                return changeset_add_link_change(st->out, lc);
        told = offer_told(st, o);
        if (o->late == OFFER_ON_TIME)
                o->late = OFFER_LATE_AFTER_HOLD;
        r = changeset_release_hold(st->out, o->id);
        if (r == 0)
                r = save_offer(st, o);
        if (r == 0)
                r = told ? record_change(st, o, NULL, true, lc)
                         : changeset_add_link_change(st->out, lc);
        if (r == 0 && !told)
                r = emit_kind(st, "partner_offer_extended", o->id, &sj);
        corr_state_del_hold(st->s, o->id);
        return r;
}

/* Points o at a (NULL: unlinked) with strength how, keeping both
 * authorizations' offer lists in step. */
static int set_link(struct step *st, struct offer *o, struct authorization *a,
                    enum link_strength how)
{
        struct authorization *old = o->authorization_id
                                        ? hmap_get(st->s->auths, o->authorization_id)
                                        : NULL;
        char mark[MP_EVENT_KEY_MAX + sizeof UNLINKED_MARK];
        int r = 0;

        if (old && old != a) {
                strlist_remove(&old->offer_ids, o->id);
                r = save_auth(st, old);
        }
        snprintf(mark, sizeof mark, "%s%s", a ? "" : UNLINKED_MARK,
                 st->ev ? st->ev->event_key : "");
        if (r == 0 && (str_assign(&o->authorization_id, a ? a->id : NULL) < 0 ||
                       str_assign(&o->link_event_key, st->ev || !a ? mark : NULL) < 0 ||
                       (a && strlist_add_unique(&a->offer_ids, o->id) < 0)))
                r = -ENOMEM;
        o->link = how;
        if (r == 0)
                r = save_offer(st, o);
        return r == 0 && a ? save_auth(st, a) : r;
}

/* Links o to a when `how` is stronger than its current link. A link that
 * moves to another authorization (an agreement event or a registration
 * overruling an inference) is a correction when people were told already. */
static int link_offer(struct step *st, struct offer *o, struct authorization *a,
                      enum link_strength how)
{
        struct authorization *previous;
        struct link_change lc = { 0 };
        enum link_strength from_link = o->link;
        char *from = NULL;
        bool told;
        int r;

        if (o->authorization_id && o->link >= how)
                return 0;
        if (o->authorization_id && (from = strdup(o->authorization_id)) == NULL)
                return -ENOMEM;
        previous = from && strcmp(from, a->id) != 0 ? hmap_get(st->s->auths, from) : NULL;
        told = previous && offer_told(st, o);
        r = set_link(st, o, a, how);
        link_change_of(st, o, from, from_link, &lc);
        if (r == 0)
                r = previous ? record_change(st, o, previous, told, &lc)
                             : release_hold(st, o, a, &lc);
        free(from);
        return r;
}

static int hold(struct step *st, struct offer *o);

/* associate onto another authorization, or unlink (a == NULL): the link
 * moves, the history says who did it and why, and whoever was told under
 * the old authorization hears of the correction with the new one. */
static int move_link(struct step *st, struct offer *o, struct authorization *a)
{
        struct authorization *previous = hmap_get(st->s->auths, o->authorization_id);
        enum link_strength from_link = o->link;
        bool told = offer_told(st, o);
        struct link_change lc = { 0 };
        char *from = strdup(o->authorization_id);
        int r;

        if (from == NULL)
                return -ENOMEM;
        r = set_link(st, o, a, a ? LINK_MANUAL : LINK_NONE);
        link_change_of(st, o, from, from_link, &lc);
        if (r == 0)
                r = record_change(st, o, previous, told, &lc);
        if (r == 0 && a == NULL)
                r = hold(st, o);
        free(from);
        return r;
}

static bool same(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

bool corr_offer_fits(const struct authorization *a, const struct offer *o, int64_t now, char *why,
                     size_t whylen)
{
        const struct strlist *ob = &o->targeted_buyer_account_ids, *ab = &a->buyer_account_ids;
        int64_t expires;

        if (o->product_id && !same(a->product_id, o->product_id))
                return error_set(why, whylen, 0,
                                 "product differs: offer '%s', authorization "
                                 "'%s'",
                                 o->product_id, a->product_id ? a->product_id : "unknown"),
                       false;
        if (o->seller_of_record_account_id &&
            !same(a->reseller_account_id, o->seller_of_record_account_id))
                return error_set(why, whylen, 0,
                                 "reseller differs: offer sold by '%s', "
                                 "authorization's reseller '%s'",
                                 o->seller_of_record_account_id,
                                 a->reseller_account_id ? a->reseller_account_id : "unknown"),
                       false;
        for (size_t i = 0; ab->n > 0 && i < ob->n; i++)
                if (!strlist_contains(ab, ob->v[i]))
                        return error_set(why, whylen, 0,
                                         "buyers differ: offer targets '%s', "
                                         "which authorization '%s' does not name",
                                         ob->v[i], a->id),
                               false;
        if (a->expires_at && timefmt_parse(a->expires_at, &expires) == 0 && expires <= now)
                return error_set(why, whylen, 0, "authorization '%s' expired at %s", a->id,
                                 a->expires_at),
                       false;
        if (a->withdrawn)
                return error_set(why, whylen, 0, "authorization '%s' is withdrawn", a->id), false;
        if (a->aws_status && strcmp(a->aws_status, "Restricted") == 0)
                return error_set(why, whylen, 0,
                                 "authorization '%s' is Restricted in AWS "
                                 "Marketplace",
                                 a->id),
                       false;
        return true;
}

struct inference {
        const struct offer *o;
        int64_t now;
        struct authorization *match;
        int matches;
};

/* A candidate for inference: it fits, and both name buyers (an
 * authorization that names none could be anyone's: a person decides). */
static int infer_one(void *ctx, const char *id, void *value)
{
        struct inference *inf = ctx;
        struct authorization *a = value;
        const struct offer *o = inf->o;

        if (!a->product_id || !o->product_id || !a->reseller_account_id ||
            a->buyer_account_ids.n == 0 || o->targeted_buyer_account_ids.n == 0 ||
            !corr_offer_fits(a, o, inf->now, NULL, 0))
                return 0;
        inf->match = a;
        inf->matches++;
        return 0;
}

/* The one authorization the offer can only belong to, or NULL. Only
 * authorizations of its product and seller of record can match. */
static struct authorization *infer(struct step *st, const struct offer *o)
{
        struct inference inf = { .o = o, .now = st->now };
        const struct strlist *ids;

        /* a candidate names every buyer the offer targets (infer_one): the
         * first one's authorizations are all there is to look at */
        if (!is_partner_offer(o) || unlinked_by_hand(o) || o->targeted_buyer_account_ids.n == 0)
                return NULL;
        ids = corr_buyer_candidates(st->s, o->product_id, o->seller_of_record_account_id,
                                    o->targeted_buyer_account_ids.v[0]);
        for (size_t i = 0; ids && i < ids->n; i++) {
                struct authorization *a = hmap_get(st->s->auths, ids->v[i]);
                if (a)
                        infer_one(&inf, a->id, a);
        }
        return inf.matches == 1 ? inf.match : NULL;
}

static int hold(struct step *st, struct offer *o)
{
        struct hold h = { .offer_id = o->id,
                          .event_key = st->ev ? (char *)st->ev->event_key : NULL,
                          .created_at = st->now,
                          .deadline = st->now + st->o->offer_link_timeout };

        if (hmap_get(st->s->holds, o->id))
                return 0;
        return corr_state_put_hold(st->s, &h) == 0 ? changeset_add_hold(st->out, &h) : -ENOMEM;
}

/* ---- events ---- */

static int set_list(struct strlist *l, const char *const *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strlist_add_unique(l, v[i]) < 0)
                        return -ENOMEM;
        return 0;
}

/* One string field of an authorization and the value an event gives it.
 * `primary` marks the entry whose value decides the field's source. */
struct field_value {
        enum auth_field f;
        char **dst;
        const char *v;
        bool primary;
};

/* A registration fills what AWS does not own: AWS is authoritative for
 * what it reported (sources[f] == AUTH_SRC_AWS); the CRM's own fields
 * (company, contacts, metadata) are always the registration's. */
static int fill_registration(struct authorization *a, const struct mp_event *ev)
{
        const struct mp_registration *g = &ev->reg;
        const struct field_value fields[] = {
                { AUTH_F_NAME, &a->name, g->name, true },
                { AUTH_F_PRODUCT, &a->product_id, ev->product_id, true },
                { AUTH_F_PRODUCT, &a->product_title, g->product_title, false },
                { AUTH_F_RESELLER, &a->reseller_account_id, g->reseller_account_id, true },
                { AUTH_F_RESELLER, &a->reseller_name, g->reseller_name, false },
                { AUTH_F_COMPANY, &a->buyer_company_name, g->buyer_company_name, true },
                { AUTH_F_EXPIRY, &a->expires_at, g->expires_at, true },
                { AUTH_F_METADATA, &a->metadata_json, g->metadata_json, true },
        };
        struct strlist buyers = { 0 }, notify = { 0 };
        bool aws_buyers = a->sources[AUTH_F_BUYERS] == AUTH_SRC_AWS;
        int r = 0;

        /* Registered and Updated carry the whole record: its lists replace ours. */
        if (set_list(&buyers, g->buyer_account_ids, g->n_buyer_account_ids) < 0 ||
            set_list(&notify, g->notify, g->n_notify) < 0)
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < sizeof fields / sizeof fields[0]; i++) {
                const struct field_value *fv = &fields[i];
                if (a->sources[fv->f] == AUTH_SRC_AWS && fv->f != AUTH_F_COMPANY &&
                    fv->f != AUTH_F_METADATA)
                        continue;
                r = str_assign(fv->dst, fv->v);
                if (r == 0 && fv->primary)
                        a->sources[fv->f] = fv->v ? AUTH_SRC_REGISTERED : AUTH_SRC_NONE;
        }
        if (r == 0 && str_assign(&a->source_event_key, ev->event_key) < 0)
                r = -ENOMEM;
        if (r == 0) {
                if (!aws_buyers) {
                        strlist_clear(&a->buyer_account_ids);
                        a->buyer_account_ids = buyers;
                        a->sources[AUTH_F_BUYERS] = buyers.n ? AUTH_SRC_REGISTERED : AUTH_SRC_NONE;
                } else {
                        strlist_clear(&buyers);
                }
                strlist_clear(&a->notify);
                a->notify = notify;
                a->sources[AUTH_F_CONTACTS] = notify.n ? AUTH_SRC_REGISTERED : AUTH_SRC_NONE;
                a->renewal = g->renewal;
                return 0;
        }
        strlist_clear(&buyers);
        strlist_clear(&notify);
        return r;
}

/* AWS's record (Resale Authorization Synced): authoritative for what it
 * says; a field AWS stops reporting is cleared only when AWS had given it,
 * so a registration's value survives AWS not knowing it. */
static int fill_synced(struct authorization *a, const struct mp_event *ev)
{
        const struct mp_registration *g = &ev->reg;
        const struct field_value fields[] = {
                { AUTH_F_NAME, &a->name, g->name, true },
                { AUTH_F_PRODUCT, &a->product_id, ev->product_id, true },
                { AUTH_F_PRODUCT, &a->product_title, g->product_title, false },
                { AUTH_F_RESELLER, &a->reseller_account_id, g->reseller_account_id, true },
                { AUTH_F_RESELLER, &a->reseller_name, g->reseller_name, false },
                { AUTH_F_EXPIRY, &a->expires_at, g->expires_at, true },
                { AUTH_F_STATUS, &a->aws_status, g->aws_status, true },
        };
        unsigned char was[AUTH_F_COUNT];
        struct strlist buyers = { 0 };
        int r = set_list(&buyers, g->buyer_account_ids, g->n_buyer_account_ids);

        memcpy(was, a->sources, sizeof was);
        for (size_t i = 0; r == 0 && i < sizeof fields / sizeof fields[0]; i++) {
                const struct field_value *fv = &fields[i];
                if (fv->v == NULL && was[fv->f] != AUTH_SRC_AWS)
                        continue;
                r = str_assign(fv->dst, fv->v);
                if (r == 0 && fv->primary)
                        a->sources[fv->f] = fv->v ? AUTH_SRC_AWS : AUTH_SRC_NONE;
        }
        if (r == 0 && (buyers.n > 0 || was[AUTH_F_BUYERS] == AUTH_SRC_AWS)) {
                strlist_clear(&a->buyer_account_ids);
                a->buyer_account_ids = buyers;
                a->sources[AUTH_F_BUYERS] = buyers.n ? AUTH_SRC_AWS : AUTH_SRC_NONE;
                return 0;
        }
        strlist_clear(&buyers);
        return r;
}

/* A new, changed or withdrawn authorization may make a held offer's
 * inference unique (a withdrawal can end an ambiguity): an offer sold under
 * the sale key (product, reseller) the authorization has now or had before
 * the change; no other offer's candidates changed. Of those, only the ones
 * corr_held_to_retry names can infer now (the others would infer nothing,
 * as when last tried), in the order all of them would be tried. */
static int retry_holds(struct step *st, const char *key, const struct strlist *const buyers[2])
{
        struct strlist ids = { 0 };
        int r = corr_held_to_retry(st->s, key, buyers, 2, &ids);

        for (size_t i = 0; r == 0 && i < ids.n; i++) {
                struct offer *o = hmap_get(st->s->offers, ids.v[i]);
                struct authorization *a;
                if (o == NULL || hmap_get(st->s->holds, o->id) == NULL)
                        continue;
                if ((a = infer(st, o)) != NULL)
                        r = link_offer(st, o, a, LINK_INFERRED);
        }
        strlist_clear(&ids);
        return r;
}

/* What an authorization was before a change: its sale key (when known)
 * and buyers, whose held offers the change may settle. */
struct auth_before {
        char key[MP_EVENT_KEY_MAX];
        bool had;
        struct strlist buyers;
};

static int auth_before(const struct authorization *a, struct auth_before *b)
{
        b->had = corr_sale_key(b->key, sizeof b->key, a->product_id, a->reseller_account_id);
        b->buyers = (struct strlist){ 0 };
        return strlist_copy(&b->buyers, &a->buyer_account_ids);
}

/* After a registration: the authorization under its (new) sale key, and
 * the held offers it may now claim or leave to another. */
static int reindex_registration(struct step *st, struct authorization *a,
                                const struct auth_before *b)
{
        const struct strlist *const buyers[2] = { &b->buyers, &a->buyer_account_ids };
        char after[MP_EVENT_KEY_MAX];
        bool has = corr_sale_key(after, sizeof after, a->product_id, a->reseller_account_id);
        int r = corr_index_authorization(st->s, a);

        if (r == 0 && has)
                r = retry_holds(st, after, buyers);
        if (r == 0 && b->had && (!has || strcmp(b->key, after) != 0))
                r = retry_holds(st, b->key, buyers);
        return r;
}

static int on_registration(struct step *st)
{
        const struct mp_event *ev = st->ev;
        struct authorization *a = corr_auth_get_or_new(st->s, ev->resale_authorization_id);
        struct auth_before before;
        int r;

        if (a == NULL)
                return -ENOMEM;
        r = auth_before(a, &before);
        a->withdrawn = ev->kind == MP_REGISTRATION_WITHDRAWN;
        a->registered = true;
        if (r == 0 && !a->withdrawn)
                r = fill_registration(a, ev);
        if (r == 0)
                r = save_auth(st, a);
        for (size_t i = 0; r == 0 && !a->withdrawn && i < ev->reg.n_offer_ids; i++) {
                struct offer *o = corr_offer_get_or_new(st->s, ev->reg.offer_ids[i]);
                r = o ? link_offer(st, o, a, LINK_REGISTERED) : -ENOMEM;
        }
        if (r == 0)
                r = reindex_registration(st, a, &before);
        strlist_clear(&before.buyers);
        return r;
}

/* The sync's record of an authorization. An older revision than the one
 * applied changes nothing (a late inbox entry); the same one again is
 * harmless (the ledger drops it before it gets here anyway). */
static int on_synced(struct step *st)
{
        const struct mp_event *ev = st->ev;
        struct authorization *a = corr_auth_get_or_new(st->s, ev->resale_authorization_id);
        struct auth_before before;
        int64_t modified = 0;
        int r;

        if (a == NULL)
                return -ENOMEM;
        if (ev->reg.aws_last_modified && timefmt_parse(ev->reg.aws_last_modified, &modified) < 0)
                modified = 0;
        if (a->aws_status && modified < a->aws_modified)
                return 0;
        r = auth_before(a, &before);
        if (r == 0)
                r = fill_synced(a, ev);
        if (r == 0 && a->source_event_key == NULL)
                r = str_assign(&a->source_event_key, ev->event_key);
        a->aws_modified = modified;
        if (r == 0)
                r = save_auth(st, a);
        if (r == 0)
                r = reindex_registration(st, a, &before);
        strlist_clear(&before.buyers);
        return r;
}

/* AWS's record of an offer names its authorization: a link stronger than
 * a registration's, weaker than an agreement event's. An offer a person
 * unlinked stays with the person. */
static int on_aws_linked(struct step *st)
{
        struct authorization *a = corr_auth_get_or_new(st->s, st->ev->resale_authorization_id);
        struct offer *o = corr_offer_get_or_new(st->s, st->ev->offer_id);

        if (a == NULL || o == NULL)
                return -ENOMEM;
        if (unlinked_by_hand(o))
                return 0;
        return link_offer(st, o, a, LINK_AWS);
}

/* A change set succeeded: the authorizations it touched may have changed.
 * The AWS sync describes it (a request the store keeps until then). */
static int on_change_set(struct step *st)
{
        const struct mp_event *ev = st->ev;

        if (ev->change_set_id == NULL || ev->detail_type_base == NULL ||
            strcmp(ev->detail_type_base, "Change Set Succeeded") != 0)
                return 0;
        return strlist_add_unique(&st->out->aws_refresh, ev->change_set_id);
}

/* A manual link of an unlinked offer, or onto the authorization it has,
 * only strengthens; onto another one it moves an inferred or manual link,
 * and a registered or event link only when forced (the CLI refuses first
 * and says why; this guards against a stale command). */
static int on_associated(struct step *st)
{
        struct authorization *a = corr_auth_get_or_new(st->s, st->ev->resale_authorization_id);
        struct offer *o = corr_offer_get_or_new(st->s, st->ev->offer_id);

        if (a == NULL || o == NULL)
                return -ENOMEM;
        if (o->authorization_id == NULL || strcmp(o->authorization_id, a->id) == 0)
                return link_offer(st, o, a, LINK_MANUAL);
        if (o->link > LINK_MANUAL && !st->ev->reg.force)
                return 0;
        return move_link(st, o, a);
}

/* Unlink: the offer goes back to the holds, under the same rule as a move. */
static int on_unlinked(struct step *st)
{
        struct offer *o = hmap_get(st->s->offers, st->ev->offer_id);

        if (o == NULL || o->authorization_id == NULL ||
            (o->link > LINK_MANUAL && !st->ev->reg.force))
                return 0;
        return move_link(st, o, NULL);
}

static int fill_offer(struct offer *o, const struct mp_event *ev)
{
        struct strlist buyers = { 0 };

        if (set_list(&buyers, ev->targeted_buyer_account_ids, ev->n_targeted_buyer_account_ids) <
                0 ||
            str_assign(&o->name, ev->offer_name) < 0 ||
            str_assign(&o->expiration, ev->offer_expiration) < 0 ||
            str_assign(&o->product_id, ev->product_id) < 0 ||
            str_assign(&o->product_title, ev->product_title) < 0 ||
            str_assign(&o->manufacturer_account_id, ev->manufacturer_account_id) < 0 ||
            str_assign(&o->manufacturer_name, ev->manufacturer_name) < 0 ||
            str_assign(&o->seller_of_record_account_id, ev->seller_of_record_account_id) < 0 ||
            str_assign(&o->seller_of_record_name, ev->seller_of_record_name) < 0) {
                strlist_clear(&buyers);
                return -ENOMEM;
        }
        strlist_clear(&o->targeted_buyer_account_ids);
        o->targeted_buyer_account_ids = buyers;
        o->released_seen = true;
        return 0;
}

static int on_offer_released(struct step *st)
{
        struct offer *o = corr_offer_get_or_new(st->s, st->ev->offer_id);
        struct authorization *a;
        struct corr_subject sj = { .offer = o };
        int r;

        if (o == NULL)
                return -ENOMEM;
        r = fill_offer(o, st->ev);
        if (r == 0)
                r = corr_index_offer(st->s, o);
        if (r == 0)
                r = save_offer(st, o);
        if (r < 0 || !is_partner_offer(o))
                return r; /* a direct offer: recorded, nothing to tell */
        if (o->link == LINK_EVENT && !st->o->notify_extended_after_acceptance)
                return 0; /* accepted before we saw it: linked silently */
        if (o->authorization_id == NULL && (a = infer(st, o)) != NULL &&
            (r = link_offer(st, o, a, LINK_INFERRED)) < 0)
                return r;
        if (o->authorization_id == NULL)
                return hold(st, o);
        sj.auth = hmap_get(st->s->auths, o->authorization_id);
        return emit_kind(st, "partner_offer_extended", o->id, &sj);
}

static int fill_agreement(struct agreement *g, const struct mp_event *ev, const char *auth_id)
{
        /* an end state is terminal: nothing older or later resurrects it */
        const char *status = ended(g->status) ? g->status : ev->status;

        if ((ev->intent && str_assign(&g->intent, ev->intent) < 0) ||
            str_assign(&g->status, status) < 0 ||
            (ev->acceptance_time && str_assign(&g->acceptance_time, ev->acceptance_time) < 0) ||
            (ev->start_time && str_assign(&g->start_time, ev->start_time) < 0) ||
            (ev->end_time && str_assign(&g->end_time, ev->end_time) < 0) ||
            (ev->offer_id && str_assign(&g->offer_id, ev->offer_id) < 0) ||
            (auth_id && str_assign(&g->authorization_id, auth_id) < 0) ||
            (ev->acceptor_account_id &&
             str_assign(&g->acceptor_account_id, ev->acceptor_account_id) < 0) ||
            (ev->proposer_account_id &&
             str_assign(&g->proposer_account_id, ev->proposer_account_id) < 0) ||
            (ev->previous_agreement_id &&
             str_assign(&g->previous_agreement_id, ev->previous_agreement_id) < 0) ||
            (ev->product_id && str_assign(&g->product_id, ev->product_id) < 0))
                return -ENOMEM;
        if (ev->time_epoch > g->last_event_time)
                g->last_event_time = ev->time_epoch;
        return 0;
}

/* The agreement, its offer and authorization, as this event tells them. */
struct deal {
        struct agreement *g;
        struct offer *o;
        struct authorization *a; /* NULL: a direct deal */
};

static int agreement_deal(struct step *st, struct deal *d)
{
        const struct mp_event *ev = st->ev;
        const char *auth_id = ev->resale_authorization_id;
        int r;

        d->g = corr_agreement_get_or_new(st->s, ev->agreement_id);
        d->o = ev->offer_id ? hmap_get(st->s->offers, ev->offer_id) : NULL;
        if (d->g == NULL)
                return -ENOMEM;
        if (ev->offer_id && d->o == NULL) {
                /* accepted before its Offer Released: the offer id is late */
                if ((d->o = corr_offer_get_or_new(st->s, ev->offer_id)) == NULL)
                        return -ENOMEM;
                d->o->late = OFFER_LATE_AFTER_ACCEPTANCE;
        }
        if (auth_id == NULL && d->o && d->o->authorization_id)
                auth_id = d->o->authorization_id;
        if (auth_id == NULL && d->g->authorization_id)
                auth_id = d->g->authorization_id;
        d->a = auth_id ? corr_auth_get_or_new(st->s, auth_id) : NULL;
        if (auth_id && d->a == NULL)
                return -ENOMEM;
        r = fill_agreement(d->g, ev, auth_id);
        if (r == 0)
                r = corr_index_agreement(st->s, d->g);
        if (r == 0 && d->a && d->o)
                r = link_offer(st, d->o, d->a, LINK_EVENT);
        if (r == 0 && d->o)
                r = save_offer(st, d->o);
        return r == 0 ? save_agreement(st, d->g) : r;
}

static bool notify_deal(const struct step *st, const struct deal *d)
{
        return d->a != NULL || st->o->notify_direct_deals;
}

static int on_agreement_created(struct step *st)
{
        struct deal d = { 0 };
        struct corr_subject sj = { 0 };
        const char *intent = st->ev->intent ? st->ev->intent : "NEW";
        int r = agreement_deal(st, &d);

        if (r < 0 || !notify_deal(st, &d))
                return r;
        sj.auth = d.a;
        sj.offer = d.o;
        sj.agreement = d.g;
        sj.renewal = strcmp(intent, "RENEW") == 0;
        if (strcmp(intent, "REPLACE") == 0)
                return emit_kind(st, "amended_offer", d.g->id, &sj);
        return emit_kind(st, "new_order", d.g->id, &sj);
}

static int on_agreement_amended(struct step *st)
{
        struct deal d = { 0 };
        struct corr_subject sj = { 0 };
        char id[MP_EVENT_KEY_MAX];
        bool was_ended;
        int r;

        d.g = hmap_get(st->s->agreements, st->ev->agreement_id);
        was_ended = d.g && ended(d.g->status);
        r = agreement_deal(st, &d);
        if (r < 0 || was_ended || !notify_deal(st, &d))
                return r; /* an ended order takes no amendment notice */
        sj.auth = d.a;
        sj.offer = d.o;
        sj.agreement = d.g;
        /* the time of the change identifies it in both role copies */
        snprintf(id, sizeof id, "%s/%s", d.g->id,
                 st->ev->time         ? st->ev->time
                 : st->ev->request_id ? st->ev->request_id
                                      : "amend");
        return emit_kind(st, "amended_offer", id, &sj);
}

static int on_agreement_ended(struct step *st)
{
        struct deal d = { 0 };
        struct corr_subject sj = { 0 };
        const char *status = st->ev->status;
        bool was_ended;
        int r;

        d.g = hmap_get(st->s->agreements, st->ev->agreement_id);
        was_ended = d.g && ended(d.g->status);
        if (!was_ended && status == NULL)
                status = "ENDED";
        r = agreement_deal(st, &d);
        if (r == 0 && !was_ended && str_assign(&d.g->status, status) < 0)
                r = -ENOMEM;
        /* stored whether or not anyone is told: a restart must not see the
         * agreement active again */
        if (r == 0 && !was_ended)
                r = save_agreement(st, d.g);
        if (r < 0 || was_ended || !notify_deal(st, &d))
                return r;
        if (strcmp(status, "REPLACED") == 0 || strcmp(status, "RENEWED") == 0)
                return 0; /* the new agreement's notice tells it */
        sj.auth = d.a;
        sj.offer = d.o;
        sj.agreement = d.g;
        return emit_kind(st, "order_ended", d.g->id, &sj);
}

int corr_apply(struct corr_state *s, const struct corr_options *o, const struct mp_event *ev,
               int64_t now, struct changeset *out)
{
        struct step st = { s, o, ev, now, out };

        if (ev->role == MP_ROLE_ACCEPTOR)
                return 0; /* the buyer's copy: not ours to act on */
        switch (ev->kind) {
        case MP_REGISTRATION_REGISTERED:
        case MP_REGISTRATION_UPDATED:
        case MP_REGISTRATION_WITHDRAWN: return on_registration(&st);
        case MP_OFFER_ASSOCIATED: return on_associated(&st);
        case MP_OFFER_UNLINKED: return on_unlinked(&st);
        case MP_AUTHORIZATION_SYNCED: return on_synced(&st);
        case MP_OFFER_AWS_LINKED: return on_aws_linked(&st);
        case MP_CHANGE_SET: return on_change_set(&st);
        case MP_OFFER_RELEASED: return on_offer_released(&st);
        case MP_AGREEMENT_CREATED: return on_agreement_created(&st);
        case MP_AGREEMENT_AMENDED: return on_agreement_amended(&st);
        case MP_AGREEMENT_ENDED: return on_agreement_ended(&st);
        default: return 0; /* recorded in the ledger; nothing to decide */
        }
}

void corr_shell_word(const char *s, char *out, size_t len)
{
        static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_./:=@%+,-";
        size_t o = 0;

        if (len == 0)
                return;
        if (s[0] && strspn(s, safe) == strlen(s)) {
                snprintf(out, len, "%s", s);
                return;
        }
        if (len < 3) {
                out[0] = '\0';
                return;
        }
        out[o++] = '\'';
        /* room kept for the longest step (4 bytes), the closing quote, NUL */
        for (const char *p = s; *p && o + 6 <= len; p++) {
                if (*p == '\'') {
                        memcpy(out + o, "'\\''", 4);
                        o += 4;
                } else {
                        out[o++] = *p;
                }
        }
        out[o++] = '\'';
        out[o] = '\0';
}

struct ticking {
        struct step *st;
        int r;
};

static int tick_one(void *ctx, const char *offer_id, void *value)
{
        struct ticking *t = ctx;
        struct hold *h = value;
        struct offer *o = hmap_get(t->st->s->offers, offer_id);
        struct corr_subject sj = { .offer = o };
        char reason[1024], quoted[520];

        if (h->attention_sent || h->deadline > t->st->now)
                return 0;
        corr_shell_word(offer_id, quoted, sizeof quoted); /* pasted into a shell */
        snprintf(reason, sizeof reason,
                 "offer %s was released by a partner but is not linked to "
                 "any resale authorization; link it with: cppo-notifyctl associate --offer %s "
                 "--authorization ID",
                 offer_id, quoted);
        sj.reason = reason;
        h->attention_sent = true;
        t->r = changeset_add_hold(t->st->out, h);
        if (t->r == 0)
                t->r = emit_kind(t->st, "attention_needed", offer_id, &sj);
        return t->r;
}

int corr_tick(struct corr_state *s, const struct corr_options *o, int64_t now,
              struct changeset *out)
{
        struct step st = { s, o, NULL, now, out };
        struct ticking t = { &st, 0 };

        hmap_each(s->holds, tick_one, &t);
        return t.r;
}
