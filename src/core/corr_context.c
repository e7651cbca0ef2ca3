/* cppo-notify — a notification's context document: what rules match and
 * templates render (see corr_internal.h). */
#include "corr_internal.h"

#include "cppo/json.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* ---- the context document ---- */

/* Opens a map, as the value of key (NULL: an array element). */
static void gen_open(yajl_gen g, const char *key)
{
        if (key)
                yajl_gen_string(g, (const unsigned char *)key, strlen(key));
        yajl_gen_map_open(g);
}

/* metadata is JSON object text (string values) from the registration:
 * embed it as an object, whatever characters its values hold. */
static void gen_metadata(yajl_gen g, const char *json)
{
        yajl_val tree = json ? yajl_tree_parse(json, NULL, 0) : NULL;

        yajl_gen_string(g, (const unsigned char *)"metadata", 8);
        yajl_gen_map_open(g);
        for (size_t i = 0; YAJL_IS_OBJECT(tree) && i < tree->u.object.len; i++)
                if (YAJL_IS_STRING(tree->u.object.values[i]))
                        json_string(g, tree->u.object.keys[i],
                                    YAJL_GET_STRING(tree->u.object.values[i]));
        yajl_gen_map_close(g);
        yajl_tree_free(tree);
}

/* One authorization as an object. notify_too adds the addresses of a
 * second one: a correction's contacts are those of both authorizations,
 * so that include_authorization_contacts reaches everyone it concerns. */
static void gen_authorization(yajl_gen g, const char *key, const struct authorization *a,
                              const struct authorization *notify_too)
{
        struct strlist both = { 0 };
        bool ok = true;

        for (size_t i = 0; a && i < a->notify.n; i++)
                ok = ok && strlist_add_unique(&both, a->notify.v[i]) == 0;
        for (size_t i = 0; notify_too && i < notify_too->notify.n; i++)
                ok = ok && strlist_add_unique(&both, notify_too->notify.v[i]) == 0;
        gen_open(g, key);
        json_string(g, "id", a ? a->id : NULL);
        json_string(g, "name", a ? a->name : NULL);
        json_string(g, "buyer_company_name", a ? a->buyer_company_name : NULL);
        gen_metadata(g, a ? a->metadata_json : NULL);
        /* on ENOMEM the list is short; corr_context_json then fails as a whole
         * when yajl does, and a partial list is never worse than none */
        json_strlist(g, "notify", ok ? &both : a ? &a->notify : NULL);
        json_bool(g, "registered", a && a->registered);
        json_string(g, "expires_at", a ? a->expires_at : NULL);
        if (a && a->aws_status) /* only when synced: older documents keep their shape */
                json_string(g, "aws_status", a->aws_status);
        yajl_gen_map_close(g);
        strlist_clear(&both);
}

static void gen_opportunity(yajl_gen g, const struct corr_subject *sj)
{
        const struct authorization *prev = sj->correction ? sj->correction->previous : NULL;

        gen_authorization(g, "opportunity", sj->auth, prev);
}

/* link_corrected: the authorization it was wrongly linked to, both as one
 * list (a rule on `opportunities` matches either, EventBridge array
 * semantics), and who moved it, when and why. */
static void gen_correction(yajl_gen g, const struct corr_subject *sj)
{
        const struct corr_correction *c = sj->correction;
        const struct link_change *lc = c->change;

        gen_authorization(g, "previous_opportunity", c->previous, sj->auth);
        yajl_gen_string(g, (const unsigned char *)"opportunities", 13);
        yajl_gen_array_open(g);
        if (c->previous)
                gen_authorization(g, NULL, c->previous, NULL);
        if (sj->auth)
                gen_authorization(g, NULL, sj->auth, NULL);
        yajl_gen_array_close(g);
        gen_open(g, "correction");
        yajl_gen_string(g, (const unsigned char *)"seq", 3);
        yajl_gen_integer(g, c->seq);
        json_string(g, "previous_opportunity_id", lc->from_authorization_id);
        json_string(g, "opportunity_id", lc->to_authorization_id);
        json_string(g, "previous_link", link_strength_name(lc->from_link));
        json_string(g, "actor", lc->actor);
        json_string(g, "reason", lc->reason);
        yajl_gen_map_close(g);
}

static void gen_parties(yajl_gen g, const struct corr_subject *sj)
{
        const struct offer *o = sj->offer;
        const struct agreement *ag = sj->agreement;
        const struct authorization *a = sj->auth;
        struct strlist acceptor = { 0 };
        char *one[1];

        gen_open(g, "partner");
        json_string(g, "account_id",
                    o && o->seller_of_record_account_id ? o->seller_of_record_account_id
                    : ag                                ? ag->proposer_account_id
                    : a                                 ? a->reseller_account_id
                                                        : NULL);
        json_string(g, "name",
                    o && o->seller_of_record_name ? o->seller_of_record_name
                    : a                           ? a->reseller_name
                                                  : NULL);
        yajl_gen_map_close(g);
        gen_open(g, "buyer");
        if (ag && ag->acceptor_account_id) {
                one[0] = ag->acceptor_account_id;
                acceptor.v = one;
                acceptor.n = 1;
                json_strlist(g, "account_ids", &acceptor);
        } else {
                json_strlist(g, "account_ids",
                             o && o->targeted_buyer_account_ids.n ? &o->targeted_buyer_account_ids
                             : a                                  ? &a->buyer_account_ids
                                                                  : NULL);
        }
        yajl_gen_map_close(g);
        gen_open(g, "product");
        json_string(g, "id",
                    o && o->product_id     ? o->product_id
                    : ag && ag->product_id ? ag->product_id
                    : a                    ? a->product_id
                                           : NULL);
        json_string(g, "title",
                    o && o->product_title ? o->product_title
                    : a                   ? a->product_title
                                          : NULL);
        yajl_gen_map_close(g);
}

static void gen_deal(yajl_gen g, const struct corr_subject *sj)
{
        const struct offer *o = sj->offer;
        const struct agreement *ag = sj->agreement;

        gen_open(g, "offer");
        json_string(g, "id", o ? o->id : ag ? ag->offer_id : NULL);
        json_string(g, "name", o ? o->name : NULL);
        json_string(g, "expiration", o ? o->expiration : NULL);
        json_string(g, "link", o ? link_strength_name(o->link) : NULL);
        json_bool(g, "late", o && o->late);
        json_string(g, "late_reason",
                    !o || !o->late                           ? NULL
                    : o->late == OFFER_LATE_AFTER_ACCEPTANCE ? "after_acceptance"
                                                             : "after_hold");
        yajl_gen_map_close(g);
        gen_open(g, "agreement");
        json_string(g, "id", ag ? ag->id : NULL);
        json_string(g, "intent", ag ? ag->intent : NULL);
        json_string(g, "status", ag ? ag->status : NULL);
        json_string(g, "acceptance_time", ag ? ag->acceptance_time : NULL);
        json_string(g, "start_time", ag ? ag->start_time : NULL);
        json_string(g, "end_time", ag ? ag->end_time : NULL);
        json_string(g, "previous_agreement_id", ag ? ag->previous_agreement_id : NULL);
        json_bool(g, "renewal", sj->renewal);
        yajl_gen_map_close(g);
}

char *corr_context_json(const struct corr_subject *sj, const char *event_key)
{
        yajl_gen g = json_new();
        struct strlist keys = { 0 };
        char *one[1] = { (char *)event_key };
        char *out = NULL;

        if (g == NULL)
                return NULL;
        yajl_gen_map_open(g);
        json_string(g, "kind", sj->kind);
        json_string(g, "key", sj->key);
        gen_opportunity(g, sj);
        gen_parties(g, sj);
        gen_deal(g, sj);
        if (sj->correction)
                gen_correction(g, sj);
        json_string(g, "reason", sj->reason);
        keys.v = one;
        keys.n = event_key ? 1 : 0;
        json_strlist(g, "source_event_keys", &keys);
        yajl_gen_map_close(g);
        (void)json_take(g, &out); /* out stays NULL when it fails */
        json_free(g);
        return out;
}
