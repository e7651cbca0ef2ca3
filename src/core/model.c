/* cppo-notify — domain record helpers (see include/cppo/model.h). */
#include "cppo/model.h"

#include "cppo/error.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strlist_clear(struct strlist *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

int strlist_add(struct strlist *l, const char *s)
{
        char *copy = strdup(s);
        char **v;

        if (copy == NULL)
                return -ENOMEM;
        v = realloc(l->v, (l->n + 1) * sizeof *v);
        if (v == NULL) {
                free(copy);
                return -ENOMEM;
        }
        v[l->n++] = copy;
        l->v = v;
        return 0;
}

bool strlist_contains(const struct strlist *l, const char *s)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i], s) == 0)
                        return true;
        return false;
}

int strlist_add_unique(struct strlist *l, const char *s)
{
        return strlist_contains(l, s) ? 0 : strlist_add(l, s);
}

int strlist_copy(struct strlist *dst, const struct strlist *src)
{
        struct strlist tmp = { 0 };

        for (size_t i = 0; i < src->n; i++) {
                if (strlist_add(&tmp, src->v[i]) < 0) {
                        strlist_clear(&tmp);
                        return -ENOMEM;
                }
        }
        strlist_clear(dst);
        *dst = tmp;
        return 0;
}

static const char *const link_names[] = {
        [LINK_NONE] = "none",         [LINK_INFERRED] = "inferred", [LINK_MANUAL] = "manual",
        [LINK_REGISTERED] = "registered", [LINK_AWS] = "aws", [LINK_EVENT] = "event",
};

static const char *const link_by[] = {
        [LINK_NONE] = "nothing",
        [LINK_INFERRED] = "inference",
        [LINK_MANUAL] = "hand",
        [LINK_REGISTERED] = "its registration",
        [LINK_AWS] = "AWS's record of the offer",
        [LINK_EVENT] = "an agreement event",
};

const char *link_strength_by(enum link_strength s)
{
        return (unsigned)s <= LINK_EVENT ? link_by[s] : link_by[LINK_NONE];
}

static const char *const source_names[] = {
        [AUTH_SRC_NONE] = "none",
        [AUTH_SRC_EVENT] = "event",
        [AUTH_SRC_REGISTERED] = "registered",
        [AUTH_SRC_AWS] = "aws",
};

static const char *const field_names[AUTH_F_COUNT] = {
        [AUTH_F_NAME] = "name",         [AUTH_F_PRODUCT] = "product", [AUTH_F_RESELLER] = "reseller",
        [AUTH_F_BUYERS] = "buyers",     [AUTH_F_EXPIRY] = "expiry",   [AUTH_F_STATUS] = "status",
        [AUTH_F_COMPANY] = "company",   [AUTH_F_CONTACTS] = "contacts",
        [AUTH_F_METADATA] = "metadata",
};

const char *auth_source_name(enum auth_source s)
{
        return (unsigned)s <= AUTH_SRC_AWS ? source_names[s] : source_names[AUTH_SRC_NONE];
}

const char *auth_field_name(enum auth_field f)
{
        return (unsigned)f < AUTH_F_COUNT ? field_names[f] : "unknown";
}

/* Whether the field holds a value (for sources of old records). */
static bool field_set(const struct authorization *a, enum auth_field f)
{
        switch (f) {
        case AUTH_F_NAME: return a->name != NULL;
        case AUTH_F_PRODUCT: return a->product_id != NULL;
        case AUTH_F_RESELLER: return a->reseller_account_id != NULL;
        case AUTH_F_BUYERS: return a->buyer_account_ids.n > 0;
        case AUTH_F_EXPIRY: return a->expires_at != NULL;
        case AUTH_F_STATUS: return a->aws_status != NULL;
        case AUTH_F_COMPANY: return a->buyer_company_name != NULL;
        case AUTH_F_CONTACTS: return a->notify.n > 0;
        case AUTH_F_METADATA: return a->metadata_json != NULL;
        case AUTH_F_COUNT: break;
        }
        return false;
}

enum auth_source authorization_source(const struct authorization *a, enum auth_field f)
{
        if ((unsigned)f >= AUTH_F_COUNT)
                return AUTH_SRC_NONE;
        if (a->sources[f] != AUTH_SRC_NONE && a->sources[f] <= AUTH_SRC_AWS)
                return (enum auth_source)a->sources[f];
        if (!field_set(a, f))
                return AUTH_SRC_NONE;
        return a->registered ? AUTH_SRC_REGISTERED : AUTH_SRC_EVENT;
}

void authorization_sources_format(const struct authorization *a, char *buf, size_t len)
{
        size_t used = 0;

        if (len == 0)
                return;
        buf[0] = '\0';
        for (int f = 0; f < AUTH_F_COUNT; f++) {
                int n;
                if (a->sources[f] == AUTH_SRC_NONE)
                        continue;
                n = snprintf(buf + used, len - used, "%s%s=%s", used ? "," : "", field_names[f],
                             auth_source_name((enum auth_source)a->sources[f]));
                if (n < 0 || (size_t)n >= len - used) {
                        buf[used] = '\0'; /* never half a pair */
                        return;
                }
                used += (size_t)n;
        }
}

/* One "field=source" word of length n. */
static void parse_source_pair(struct authorization *a, const char *p, size_t n)
{
        const char *eq = memchr(p, '=', n);

        for (int f = 0; eq && f < AUTH_F_COUNT; f++) {
                if (strlen(field_names[f]) != (size_t)(eq - p) ||
                    strncmp(p, field_names[f], (size_t)(eq - p)) != 0)
                        continue;
                for (int s = AUTH_SRC_EVENT; s <= AUTH_SRC_AWS; s++)
                        if (strlen(source_names[s]) == n - (size_t)(eq - p) - 1 &&
                            strncmp(eq + 1, source_names[s], strlen(source_names[s])) == 0)
                                a->sources[f] = (unsigned char)s;
        }
}

void authorization_sources_parse(struct authorization *a, const char *text)
{
        for (const char *p = text; p && *p;) {
                size_t n = strcspn(p, ",");
                parse_source_pair(a, p, n);
                p += n + (p[n] == ',');
        }
}

const char *link_strength_name(enum link_strength s)
{
        return (unsigned)s <= LINK_EVENT ? link_names[s] : "none";
}

int link_strength_parse(const char *name, enum link_strength *out)
{
        for (int i = LINK_NONE; i <= LINK_EVENT; i++) {
                if (strcmp(name, link_names[i]) == 0) {
                        *out = (enum link_strength)i;
                        return 0;
                }
        }
        return -EINVAL;
}

int str_assign(char **dst, const char *src)
{
        char *copy = NULL;

        if (src && (copy = strdup(src)) == NULL)
                return -ENOMEM;
        free(*dst);
        *dst = copy;
        return 0;
}

void authorization_clear(struct authorization *a)
{
        free(a->id);
        free(a->name);
        free(a->product_id);
        free(a->product_title);
        free(a->reseller_account_id);
        free(a->reseller_name);
        free(a->buyer_company_name);
        strlist_clear(&a->buyer_account_ids);
        free(a->expires_at);
        strlist_clear(&a->notify);
        free(a->metadata_json);
        strlist_clear(&a->offer_ids);
        free(a->source_event_key);
        free(a->aws_status);
        memset(a, 0, sizeof *a);
}

void offer_clear(struct offer *o)
{
        free(o->id);
        free(o->name);
        free(o->expiration);
        free(o->product_id);
        free(o->product_title);
        free(o->manufacturer_account_id);
        free(o->manufacturer_name);
        free(o->seller_of_record_account_id);
        free(o->seller_of_record_name);
        strlist_clear(&o->targeted_buyer_account_ids);
        free(o->authorization_id);
        free(o->link_event_key);
        memset(o, 0, sizeof *o);
}

void agreement_clear(struct agreement *g)
{
        free(g->id);
        free(g->intent);
        free(g->status);
        free(g->acceptance_time);
        free(g->start_time);
        free(g->end_time);
        free(g->offer_id);
        free(g->authorization_id);
        free(g->acceptor_account_id);
        free(g->proposer_account_id);
        free(g->previous_agreement_id);
        free(g->product_id);
        memset(g, 0, sizeof *g);
}

void hold_clear(struct hold *h)
{
        free(h->offer_id);
        free(h->event_key);
        memset(h, 0, sizeof *h);
}

void notification_clear(struct notification *n)
{
        free(n->kind);
        free(n->key);
        free(n->context_json);
        free(n->source_event_key);
        free(n->opportunity_id);
        free(n->offer_id);
        free(n->agreement_id);
        memset(n, 0, sizeof *n);
}

void link_change_clear(struct link_change *l)
{
        free(l->offer_id);
        free(l->from_authorization_id);
        free(l->to_authorization_id);
        free(l->actor);
        free(l->reason);
        free(l->event_key);
        free(l->correction_key);
        memset(l, 0, sizeof *l);
}

/* Copies each listed string field; the macro keeps the copy functions to
 * the list of fields. */
#define COPY_STR(f)                                                                                \
        do {                                                                                       \
                if (src->f && (dst->f = strdup(src->f)) == NULL)                                   \
                        goto fail;                                                                 \
        } while (0)
#define COPY_LIST(f)                                                                               \
        do {                                                                                       \
                if (strlist_copy(&dst->f, &src->f) < 0)                                            \
                        goto fail;                                                                 \
        } while (0)

int authorization_copy(struct authorization *dst, const struct authorization *src)
{
        authorization_clear(dst);
        dst->renewal = src->renewal;
        dst->registered = src->registered;
        dst->withdrawn = src->withdrawn;
        dst->updated_at = src->updated_at;
        dst->aws_modified = src->aws_modified;
        memcpy(dst->sources, src->sources, sizeof dst->sources);
        COPY_STR(aws_status);
        COPY_STR(id);
        COPY_STR(name);
        COPY_STR(product_id);
        COPY_STR(product_title);
        COPY_STR(reseller_account_id);
        COPY_STR(reseller_name);
        COPY_STR(buyer_company_name);
        COPY_LIST(buyer_account_ids);
        COPY_STR(expires_at);
        COPY_LIST(notify);
        COPY_STR(metadata_json);
        COPY_LIST(offer_ids);
        COPY_STR(source_event_key);
        return 0;
fail:
        authorization_clear(dst);
        return -ENOMEM;
}

int offer_copy(struct offer *dst, const struct offer *src)
{
        offer_clear(dst);
        dst->link = src->link;
        dst->released_seen = src->released_seen;
        dst->late = src->late;
        dst->updated_at = src->updated_at;
        COPY_STR(id);
        COPY_STR(name);
        COPY_STR(expiration);
        COPY_STR(product_id);
        COPY_STR(product_title);
        COPY_STR(manufacturer_account_id);
        COPY_STR(manufacturer_name);
        COPY_STR(seller_of_record_account_id);
        COPY_STR(seller_of_record_name);
        COPY_LIST(targeted_buyer_account_ids);
        COPY_STR(authorization_id);
        COPY_STR(link_event_key);
        return 0;
fail:
        offer_clear(dst);
        return -ENOMEM;
}

int agreement_copy(struct agreement *dst, const struct agreement *src)
{
        agreement_clear(dst);
        dst->last_event_time = src->last_event_time;
        dst->updated_at = src->updated_at;
        COPY_STR(id);
        COPY_STR(intent);
        COPY_STR(status);
        COPY_STR(acceptance_time);
        COPY_STR(start_time);
        COPY_STR(end_time);
        COPY_STR(offer_id);
        COPY_STR(authorization_id);
        COPY_STR(acceptor_account_id);
        COPY_STR(proposer_account_id);
        COPY_STR(previous_agreement_id);
        COPY_STR(product_id);
        return 0;
fail:
        agreement_clear(dst);
        return -ENOMEM;
}

int hold_copy(struct hold *dst, const struct hold *src)
{
        hold_clear(dst);
        dst->created_at = src->created_at;
        dst->deadline = src->deadline;
        dst->attention_sent = src->attention_sent;
        COPY_STR(offer_id);
        COPY_STR(event_key);
        return 0;
fail:
        hold_clear(dst);
        return -ENOMEM;
}

int notification_copy(struct notification *dst, const struct notification *src)
{
        notification_clear(dst);
        dst->late = src->late;
        dst->registered = src->registered;
        dst->created_at = src->created_at;
        COPY_STR(kind);
        COPY_STR(key);
        COPY_STR(context_json);
        COPY_STR(source_event_key);
        COPY_STR(opportunity_id);
        COPY_STR(offer_id);
        COPY_STR(agreement_id);
        return 0;
fail:
        notification_clear(dst);
        return -ENOMEM;
}

int link_change_copy(struct link_change *dst, const struct link_change *src)
{
        link_change_clear(dst);
        dst->from_link = src->from_link;
        dst->to_link = src->to_link;
        dst->at = src->at;
        COPY_STR(offer_id);
        COPY_STR(from_authorization_id);
        COPY_STR(to_authorization_id);
        COPY_STR(actor);
        COPY_STR(reason);
        COPY_STR(event_key);
        COPY_STR(correction_key);
        return 0;
fail:
        link_change_clear(dst);
        return -ENOMEM;
}

#undef COPY_STR
#undef COPY_LIST

void changeset_clear(struct changeset *c)
{
        for (size_t i = 0; i < c->n_authorizations; i++)
                authorization_clear(&c->authorizations[i]);
        for (size_t i = 0; i < c->n_offers; i++)
                offer_clear(&c->offers[i]);
        for (size_t i = 0; i < c->n_agreements; i++)
                agreement_clear(&c->agreements[i]);
        for (size_t i = 0; i < c->n_holds; i++)
                hold_clear(&c->holds[i]);
        for (size_t i = 0; i < c->n_notifications; i++)
                notification_clear(&c->notifications[i]);
        for (size_t i = 0; i < c->n_link_changes; i++)
                link_change_clear(&c->link_changes[i]);
        free(c->link_changes);
        free(c->authorizations);
        free(c->offers);
        free(c->agreements);
        free(c->holds);
        free(c->notifications);
        strlist_clear(&c->released_holds);
        strlist_clear(&c->aws_refresh);
        memset(c, 0, sizeof *c);
}

/* Finds the slot for a record keyed by `id` in a typed array: an existing
 * entry with that id, or a new zeroed one at the end. NULL on -ENOMEM. */
static void *slot_for(void **array, size_t *n, size_t size, size_t key_offset, const char *id)
{
        char *base = *array, *grown;

        for (size_t i = 0; i < *n; i++) {
                const char *have;
                /* memcpy: the record's alignment is not visible through char * */
                memcpy(&have, base + i * size + key_offset, sizeof have);
                if (have && id && strcmp(have, id) == 0)
                        return base + i * size;
        }
        grown = realloc(base, (*n + 1) * size);
        if (grown == NULL)
                return NULL;
        *array = grown;
        memset(grown + *n * size, 0, size);
        return grown + (*n)++ * size;
}

/* Adds a deep copy of src under its key; a failed copy leaves a cleared
 * record, which the store skips (its id is NULL) and clear() frees. */
#define CHANGESET_ADD(type, arr, n, keyfield, copyfn)                                              \
        do {                                                                                       \
                type *slot = slot_for((void **)&c->arr, &c->n, sizeof(type),                       \
                                      offsetof(type, keyfield), src->keyfield);                    \
                if (slot == NULL)                                                                  \
                        return -ENOMEM;                                                            \
                return copyfn(slot, src);                                                          \
        } while (0)

int changeset_add_authorization(struct changeset *c, const struct authorization *src)
{
        CHANGESET_ADD(struct authorization, authorizations, n_authorizations, id, authorization_copy);
}

int changeset_add_offer(struct changeset *c, const struct offer *src)
{
        CHANGESET_ADD(struct offer, offers, n_offers, id, offer_copy);
}

int changeset_add_agreement(struct changeset *c, const struct agreement *src)
{
        CHANGESET_ADD(struct agreement, agreements, n_agreements, id, agreement_copy);
}

void strlist_remove(struct strlist *l, const char *s)
{
        for (size_t i = 0; i < l->n; i++) {
                if (strcmp(l->v[i], s) == 0) {
                        free(l->v[i]);
                        l->v[i] = l->v[--l->n];
                        return;
                }
        }
}

/* A hold is either upserted or released in one set, never both: the later
 * call wins, so the store needs no ordering rule between the two lists. */
int changeset_add_hold(struct changeset *c, const struct hold *src)
{
        if (src->offer_id)
                strlist_remove(&c->released_holds, src->offer_id);
        CHANGESET_ADD(struct hold, holds, n_holds, offer_id, hold_copy);
}

int changeset_add_notification(struct changeset *c, const struct notification *src)
{
        CHANGESET_ADD(struct notification, notifications, n_notifications, key, notification_copy);
}

int changeset_add_link_change(struct changeset *c, const struct link_change *src)
{
        struct link_change *v = realloc(c->link_changes, (c->n_link_changes + 1) * sizeof *v);

        if (v == NULL)
                return -ENOMEM;
        c->link_changes = v;
        memset(&v[c->n_link_changes], 0, sizeof *v);
        /* a failed copy leaves a cleared row, which the store skips */
        return link_change_copy(&v[c->n_link_changes++], src);
}

int changeset_release_hold(struct changeset *c, const char *offer_id)
{
        for (size_t i = 0; i < c->n_holds; i++) {
                if (c->holds[i].offer_id && strcmp(c->holds[i].offer_id, offer_id) == 0) {
                        hold_clear(&c->holds[i]);
                        c->holds[i] = c->holds[--c->n_holds];
                        memset(&c->holds[c->n_holds], 0, sizeof c->holds[0]);
                        break;
                }
        }
        return strlist_add_unique(&c->released_holds, offer_id);
}

int changeset_merge(struct changeset *dst, struct changeset *src)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < src->n_authorizations; i++)
                r = changeset_add_authorization(dst, &src->authorizations[i]);
        for (size_t i = 0; r == 0 && i < src->n_offers; i++)
                r = changeset_add_offer(dst, &src->offers[i]);
        for (size_t i = 0; r == 0 && i < src->n_agreements; i++)
                r = changeset_add_agreement(dst, &src->agreements[i]);
        for (size_t i = 0; r == 0 && i < src->n_holds; i++)
                r = changeset_add_hold(dst, &src->holds[i]);
        for (size_t i = 0; r == 0 && i < src->released_holds.n; i++)
                r = changeset_release_hold(dst, src->released_holds.v[i]);
        for (size_t i = 0; r == 0 && i < src->n_notifications; i++)
                r = changeset_add_notification(dst, &src->notifications[i]);
        for (size_t i = 0; r == 0 && i < src->n_link_changes; i++)
                r = changeset_add_link_change(dst, &src->link_changes[i]);
        for (size_t i = 0; r == 0 && i < src->aws_refresh.n; i++)
                r = strlist_add_unique(&dst->aws_refresh, src->aws_refresh.v[i]);
        changeset_clear(src);
        return r;
}
