/* cppo-notifyctl holds (--config FILE | --state DB) [--json]: partner offers
 * released with no resale authorization linked yet, oldest first: the offer
 * id, how long it has waited, its deadline (attention_needed is sent then),
 * whether that was sent, the partner, product and buyers, the authorizations
 * that could legally own it (corr_offer_fits: same product, the partner as
 * reseller, its buyers within theirs, not expired, not withdrawn) each with
 * its buyers, expiry and the exact command that releases it; when none
 * fits, the command that registers one. Reads the store read-only, safely while the
 * daemon runs. Exit 0 (also when none), 2 usage, 3 store unreadable. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/correlate.h"
#include "cppo/clock.h"
#include "cppo/error.h"
#include "cppo/event.h"
#include "cppo/json.h"
#include "cppo/timefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct holds_listing {
        const struct ctl_target *t;
        struct store *store;
        struct authorization *auths; /* every one, for the candidates */
        size_t n_auths;
        bool json;
        int count;
        int64_t now;
};

static int keep_auth(void *ctx, const struct authorization *a)
{
        struct holds_listing *l = ctx;
        struct authorization *v = realloc(l->auths, (l->n_auths + 1) * sizeof *v);

        if (v == NULL)
                return -ENOMEM;
        l->auths = v;
        memset(&v[l->n_auths], 0, sizeof *v);
        return authorization_copy(&v[l->n_auths++], a);
}

/* Authorizations that could legally own the offer (corr_offer_fits: same
 * product, the partner as reseller, buyers within, not expired, not
 * withdrawn): the only ones worth a command. */
static int candidates(const struct holds_listing *l, const struct offer *o, struct strlist *out)
{
        for (size_t i = 0; i < l->n_auths; i++) {
                const struct authorization *a = &l->auths[i];
                if (corr_offer_fits(a, o, l->now, NULL, 0) && strlist_add(out, a->id) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static const struct authorization *find_auth(const struct holds_listing *l, const char *id)
{
        for (size_t i = 0; i < l->n_auths; i++)
                if (strcmp(l->auths[i].id, id) == 0)
                        return &l->auths[i];
        return NULL;
}

static void shell_word(const char *s, char *out, size_t len)
{
        corr_shell_word(s, out, len);
}

/* The authorization add command that registers one this offer fits. */
static void register_command(const struct holds_listing *l, const struct offer *o, char *out,
                             size_t len)
{
        char p[1024] = "", r[1024] = "", c[2048] = "", s[2048] = "", b[MP_MAX_BUYERS * 40] = "";
        size_t n = 0;

        if (o->product_id)
                shell_word(o->product_id, p, sizeof p);
        if (o->seller_of_record_account_id)
                shell_word(o->seller_of_record_account_id, r, sizeof r);
        for (size_t i = 0; i < o->targeted_buyer_account_ids.n && n + 40 < sizeof b; i++) {
                char w[32];
                shell_word(o->targeted_buyer_account_ids.v[i], w, sizeof w);
                n += (size_t)snprintf(b + n, sizeof b - n, " --buyer-account-id %s", w);
        }
        if (l->t->config)
                shell_word(l->t->config, c, sizeof c);
        if (l->t->state)
                shell_word(l->t->state, s, sizeof s);
        snprintf(out, len, "cppo-notifyctl authorization add --id ID%s%s%s%s%s%s%s%s%s",
                 p[0] ? " --product-id " : "", p, r[0] ? " --reseller-account-id " : "", r, b,
                 c[0] ? " --config " : "", c, s[0] ? " --state " : "", s);
}

/* The associate command, with the same store arguments as this one. */
static void release_command(const struct holds_listing *l, const char *offer, const char *auth,
                            char *out, size_t len)
{
        char o[1024], a[1024], c[2048] = "", s[2048] = "";

        shell_word(offer, o, sizeof o);
        shell_word(auth, a, sizeof a);
        if (l->t->config)
                shell_word(l->t->config, c, sizeof c);
        if (l->t->state)
                shell_word(l->t->state, s, sizeof s);
        snprintf(out, len, "cppo-notifyctl associate --offer %s --authorization %s%s%s%s%s", o, a,
                 c[0] ? " --config " : "", c, s[0] ? " --state " : "", s);
}

static void print_json(const struct holds_listing *l, const struct hold *h, const struct offer *o,
                       const struct strlist *cands, const char *cmd, const char *reg)
{
        yajl_gen g = json_new();
        char created[TIMEFMT_LEN], deadline[TIMEFMT_LEN];

        if (g == NULL)
                return;
        timefmt_format(h->created_at, created);
        timefmt_format(h->deadline, deadline);
        yajl_gen_map_open(g);
        json_string(g, "offer_id", h->offer_id);
        json_string(g, "event_key", h->event_key);
        json_string(g, "created_at", created);
        yajl_gen_string(g, (const unsigned char *)"age_seconds", 11);
        yajl_gen_integer(g, l->now - h->created_at);
        json_string(g, "deadline", deadline);
        json_bool(g, "attention_sent", h->attention_sent);
        json_string(g, "offer_name", o->name);
        json_string(g, "product_id", o->product_id);
        json_string(g, "partner_account_id", o->seller_of_record_account_id);
        json_string(g, "partner_name", o->seller_of_record_name);
        json_strlist(g, "targeted_buyer_account_ids", &o->targeted_buyer_account_ids);
        json_strlist(g, "candidates", cands);
        yajl_gen_string(g, (const unsigned char *)"candidate_details", 17);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < cands->n; i++) {
                const struct authorization *a = find_auth(l, cands->v[i]);
                if (a == NULL)
                        continue; /* never: candidates come from l->auths */
                yajl_gen_map_open(g);
                json_string(g, "id", a->id);
                json_string(g, "name", a->name);
                json_strlist(g, "buyer_account_ids", &a->buyer_account_ids);
                json_string(g, "expires_at", a->expires_at);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        json_string(g, "command", cmd);
        json_string(g, "register_command", cands->n ? NULL : reg);
        yajl_gen_map_close(g);
        (void)json_print(g, stdout); /* a closed stdout: nothing to tell */
        yajl_gen_free(g);
}

/* One candidate: its id, buyers and expiry, so a person can tell two
 * apart, then the command that links the offer to it. */
static void print_candidate(const struct holds_listing *l, const struct hold *h,
                            const struct authorization *a)
{
        char exact[8192];

        printf("    candidate %s%s%s%s, buyers", a->id, a->name ? " (" : "", a->name ? a->name : "",
               a->name ? ")" : "");
        for (size_t i = 0; i < a->buyer_account_ids.n; i++)
                printf(" %s", a->buyer_account_ids.v[i]);
        printf("%s, expires %s\n", a->buyer_account_ids.n ? "" : " any",
               a->expires_at ? a->expires_at : "never");
        release_command(l, h->offer_id, a->id, exact, sizeof exact);
        printf("      release: %s\n", exact);
}

static void print_human(const struct holds_listing *l, const struct hold *h, const struct offer *o,
                        const struct strlist *cands, const char *cmd, const char *reg)
{
        char age[32], deadline[TIMEFMT_LEN];

        if (l->count == 0)
                printf("%-28s %-9s %-21s %s\n", "OFFER", "AGE", "DEADLINE", "STATE");
        ctl_format_age(l->now - h->created_at, age, sizeof age);
        timefmt_format(h->deadline, deadline);
        printf("%-28s %-9s %-21s %s\n", h->offer_id, age, deadline,
               h->attention_sent ? "attention_needed sent" : "waiting");
        printf("    partner %s (%s), product %s, buyers",
               o->seller_of_record_account_id ? o->seller_of_record_account_id : "-",
               o->seller_of_record_name ? o->seller_of_record_name : "-",
               o->product_id ? o->product_id : "-");
        for (size_t i = 0; i < o->targeted_buyer_account_ids.n; i++)
                printf(" %s", o->targeted_buyer_account_ids.v[i]);
        printf("\n");
        for (size_t i = 0; i < cands->n; i++) {
                const struct authorization *a = find_auth(l, cands->v[i]);
                if (a)
                        print_candidate(l, h, a);
        }
        if (cands->n == 0)
                printf("    no known authorization fits this offer (product, partner, buyers, "
                       "expiry); register one:\n      %s\n    then release: %s\n",
                       reg, cmd);
}

static int on_hold(void *ctx, const struct hold *h)
{
        struct holds_listing *l = ctx;
        struct strlist cands = { 0 };
        struct offer o = { 0 };
        char cmd[8192], reg[8192];
        int r = store_get_offer(l->store, h->offer_id, &o);

        if (r == -ENOENT)
                r = 0; /* a hold outlived its offer row: still show it */
        if (r == 0)
                r = candidates(l, &o, &cands);
        if (r == 0) {
                release_command(l, h->offer_id, "ID", cmd, sizeof cmd);
                register_command(l, &o, reg, sizeof reg);
                if (l->json)
                        print_json(l, h, &o, &cands, cmd, reg);
                else
                        print_human(l, h, &o, &cands, cmd, reg);
                l->count++;
        }
        strlist_clear(&cands);
        offer_clear(&o);
        return r;
}

static void holds_usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl holds (--config FILE | --state DB) [--json]\n"
                     "Partner offers waiting for their resale authorization, oldest first, with\n"
                     "the authorizations that could own them (same product, the partner as\n"
                     "reseller, buyers within, not expired, not withdrawn) with their buyers,\n"
                     "expiry and the associate command that links each; when none fits, the\n"
                     "command that registers one.\n"
                     "Exit: 0 ok (also when none), 2 usage, 3 store unreadable.\n");
}

int ctl_holds(int argc, char **argv)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct ctl_target t = { 0 };
        struct holds_listing l = { .t = &t, .now = clock_wall_s() };
        struct store *s = NULL;
        int o, r, rc;

        optind = 1;
        while ((o = ctl_getopt(argc, argv, "jh", opts, &t)) != -1) {
                switch (o) {
                case 'j': l.json = true; break;
                default:
                        holds_usage(o == 'h' ? stdout : stderr);
                        return o == 'h' ? CTL_EXIT_OK : CTL_EXIT_USAGE;
                }
        }
        if (optind < argc) {
                holds_usage(stderr);
                return CTL_EXIT_USAGE;
        }
        rc = ctl_open_store("holds", &t, true, &s, NULL);
        if (rc != CTL_EXIT_OK)
                return rc;
        l.store = s;
        r = store_list_authorizations(s, keep_auth, &l);
        if (r == 0)
                r = store_list_holds(s, on_hold, &l);
        for (size_t i = 0; i < l.n_auths; i++)
                authorization_clear(&l.auths[i]);
        free(l.auths);
        store_close(s);
        if (r < 0) {
                fprintf(stderr, "cppo-notifyctl holds: cannot read the store\n");
                return CTL_EXIT_INTERNAL;
        }
        if (!l.json)
                printf("%d held offer%s\n", l.count, l.count == 1 ? "" : "s");
        return CTL_EXIT_OK;
}
