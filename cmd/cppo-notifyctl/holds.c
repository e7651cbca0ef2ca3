/* cppo-notifyctl holds (--config FILE | --state DB) [--json]: partner offers
 * released with no resale authorization linked yet, oldest first: the offer
 * id, how long it has waited, its deadline (attention_needed is sent then),
 * whether that was sent, the partner, product and buyers, the authorizations
 * it could belong to (same product, the partner as reseller), and the exact
 * command that releases it. Reads the store read-only, safely while the
 * daemon runs. Exit 0 (also when none), 2 usage, 3 store unreadable. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/error.h"
#include "cppo/event_json.h"
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

static bool same(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

/* Authorizations a person may mean: the offer's product, its seller of
 * record as reseller, not withdrawn. Buyers and expiry are left to them:
 * those are what kept the inference from linking it. */
static int candidates(const struct holds_listing *l, const struct offer *o, struct strlist *out)
{
        for (size_t i = 0; i < l->n_auths; i++) {
                const struct authorization *a = &l->auths[i];
                if (!a->withdrawn && same(a->product_id, o->product_id) &&
                    same(a->reseller_account_id, o->seller_of_record_account_id) &&
                    strlist_add(out, a->id) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* s as one shell word: kept when it is made of safe characters, else in
 * single quotes (a quote inside written '\''). */
static void shell_word(const char *s, char *out, size_t len)
{
        static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_./:=@%+,-";
        size_t o = 0;

        if (s[0] && strspn(s, safe) == strlen(s)) {
                snprintf(out, len, "%s", s);
                return;
        }
        out[o++] = '\'';
        for (const char *p = s; *p && o + 6 < len; p++) {
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
        snprintf(out, len, "cppo-notifyctl associate --offer %s --authorization %s%s%s%s%s", o,
                 a, c[0] ? " --config " : "", c, s[0] ? " --state " : "", s);
}

static void json_list(yajl_gen g, const char *key, const struct strlist *v)
{
        yajl_gen_string(g, (const unsigned char *)key, strlen(key));
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->n; i++)
                yajl_gen_string(g, (const unsigned char *)v->v[i], strlen(v->v[i]));
        yajl_gen_array_close(g);
}

static void print_json(const struct holds_listing *l, const struct hold *h, const struct offer *o,
                       const struct strlist *cands, const char *cmd)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        char created[TIMEFMT_LEN], deadline[TIMEFMT_LEN];
        const unsigned char *buf;
        size_t len;

        if (g == NULL)
                return;
        timefmt_format(h->created_at, created);
        timefmt_format(h->deadline, deadline);
        yajl_gen_map_open(g);
        event_json_string(g, "offer_id", h->offer_id);
        event_json_string(g, "event_key", h->event_key);
        event_json_string(g, "created_at", created);
        yajl_gen_string(g, (const unsigned char *)"age_seconds", 11);
        yajl_gen_integer(g, l->now - h->created_at);
        event_json_string(g, "deadline", deadline);
        event_json_bool(g, "attention_sent", h->attention_sent);
        event_json_string(g, "offer_name", o->name);
        event_json_string(g, "product_id", o->product_id);
        event_json_string(g, "partner_account_id", o->seller_of_record_account_id);
        event_json_string(g, "partner_name", o->seller_of_record_name);
        json_list(g, "targeted_buyer_account_ids", &o->targeted_buyer_account_ids);
        json_list(g, "candidates", cands);
        event_json_string(g, "command", cmd);
        yajl_gen_map_close(g);
        if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
                printf("%.*s\n", (int)len, (const char *)buf);
        yajl_gen_free(g);
}

static void print_human(const struct holds_listing *l, const struct hold *h,
                        const struct offer *o, const struct strlist *cands, const char *cmd)
{
        char age[32], deadline[TIMEFMT_LEN];

        if (l->count == 0)
                printf("%-28s %-9s %-21s %s\n", "OFFER", "AGE", "DEADLINE", "STATE");
        ctl_format_age(l->now - h->created_at, age, sizeof age);
        timefmt_format(h->deadline, deadline);
        printf("%-28s %-9s %-21s %s\n", h->offer_id, age, deadline,
               h->attention_sent ? "attention_needed sent" : "waiting");
        printf("    partner %s (%s), product %s, buyers", o->seller_of_record_account_id ?
               o->seller_of_record_account_id : "-", o->seller_of_record_name ?
               o->seller_of_record_name : "-", o->product_id ? o->product_id : "-");
        for (size_t i = 0; i < o->targeted_buyer_account_ids.n; i++)
                printf(" %s", o->targeted_buyer_account_ids.v[i]);
        printf("\n    candidates:");
        for (size_t i = 0; i < cands->n; i++)
                printf(" %s", cands->v[i]);
        printf("%s\n", cands->n ? "" : " none known");
        if (cands->n == 0)
                printf("    release: %s\n", cmd);
        for (size_t i = 0; i < cands->n; i++) {
                char exact[8192];
                release_command(l, h->offer_id, cands->v[i], exact, sizeof exact);
                printf("    release: %s\n", exact);
        }
}

static int on_hold(void *ctx, const struct hold *h)
{
        struct holds_listing *l = ctx;
        struct strlist cands = { 0 };
        struct offer o = { 0 };
        char cmd[8192];
        int r = store_get_offer(l->store, h->offer_id, &o);

        if (r == -ENOENT)
                r = 0; /* a hold outlived its offer row: still show it */
        if (r == 0)
                r = candidates(l, &o, &cands);
        if (r == 0) {
                release_command(l, h->offer_id, "ID", cmd, sizeof cmd);
                if (l->json)
                        print_json(l, h, &o, &cands, cmd);
                else
                        print_human(l, h, &o, &cands, cmd);
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
                     "the authorizations they may belong to (same product, the partner as\n"
                     "reseller) and the associate command that links each.\n"
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
        struct holds_listing l = { .t = &t, .now = (int64_t)time(NULL) };
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
