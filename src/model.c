/* cppo-notify — domain record helpers (see include/cppo/model.h). */
#include "cppo/model.h"

#include "cppo/error.h"

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
        [LINK_REGISTERED] = "registered", [LINK_EVENT] = "event",
};

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
