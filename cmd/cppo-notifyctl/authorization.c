/* cppo-notifyctl authorization add|list|show|withdraw: resale
 * authorizations (CPPO opportunities).
 *
 * add and withdraw build the same EventBridge-shaped registration a CRM
 * sends (source cppo-notify, detail-type "Resale Authorization
 * Registered|Withdrawn", camelCase detail) and queue it in the store's
 * inbox; the daemon applies it on its next batch, or the command does with
 * --apply when no daemon runs. add replaces the whole record of an existing
 * id. list and show read the store read-only, safely while the daemon runs.
 * Exit 0, 1 not found, 2 usage or invalid value, 3 store failure. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/buf.h"
#include "cppo/error.h"
#include "cppo/event.h"
#include "cppo/json.h"
#include "cppo/timefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct auth_args {
        struct ctl_target t;
        bool apply, json;
        const char *id, *name, *product_id, *product_title, *reseller_id, *reseller_name;
        const char *company, *expires_at;
        bool renewal;
        const char *buyers[MP_MAX_BUYERS];
        size_t n_buyers;
        const char *notify[MP_MAX_NOTIFY];
        size_t n_notify;
        const char *meta[MP_MAX_METADATA]; /* KEY=VALUE as given */
        size_t n_meta;
        const char *offers[MP_MAX_OFFERS];
        size_t n_offers;
};

static void authorization_usage(FILE *out)
{
        fprintf(out,
                "usage: cppo-notifyctl authorization add --id ID [--name N] [--product-id P]\n"
                "           [--product-title T] [--reseller-account-id A] [--reseller-name N]\n"
                "           [--buyer-account-id B]... [--buyer-company NAME] [--expires-at ISO]\n"
                "           [--renewal] [--notify EMAIL]... [--meta KEY=VALUE]...\n"
                "           [--offer-id O]... [--apply] (--config FILE | --state DB)\n"
                "       cppo-notifyctl authorization list [--json] STORE\n"
                "       cppo-notifyctl authorization show ID [--json] STORE\n"
                "       cppo-notifyctl authorization withdraw ID [--apply] STORE\n"
                "STORE is --config FILE or --state DB.\n"
                "add registers (or replaces) a resale authorization the way a CRM would; the\n"
                "daemon applies it on its next batch, --apply applies it now (only when no\n"
                "daemon is running). Account ids are 12 digits, times ISO-8601 UTC.\n"
                "Exit: 0 ok, 1 not found, 2 usage or invalid value, 3 store failure.\n");
}

/* ---- validation ---- */

static bool valid_account(const char *s)
{
        size_t n = strspn(s, "0123456789");

        return n == 12 && s[n] == '\0';
}

static bool valid_email(const char *s)
{
        const char *at = strchr(s, '@');

        if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') ||
            strchr(at + 1, '.') == NULL || strlen(s) > 254)
                return false;
        for (; *s; s++)
                if (*s <= 0x20 || *s == 0x7f || *s == '<' || *s == '>' || *s == ',')
                        return false;
        return true;
}

static int invalid(const char *what, const char *value)
{
        fprintf(stderr, "cppo-notifyctl authorization: invalid %s '%s'\n", what,
                ctl_valid_text(value) ? value : "(not printable)");
        return CTL_EXIT_USAGE;
}

static int check_meta(const struct auth_args *a)
{
        for (size_t i = 0; i < a->n_meta; i++) {
                const char *eq = strchr(a->meta[i], '=');
                if (eq == NULL || eq == a->meta[i] || !ctl_valid_text(a->meta[i]))
                        return invalid("--meta (KEY=VALUE)", a->meta[i]);
                for (size_t j = 0; j < i; j++)
                        if (strncmp(a->meta[j], a->meta[i], (size_t)(eq - a->meta[i]) + 1) == 0)
                                return invalid("--meta (key given twice)", a->meta[i]);
        }
        return CTL_EXIT_OK;
}

static int check_add(const struct auth_args *a)
{
        const char *texts[] = { a->name, a->product_title, a->reseller_name, a->company };
        int64_t t;

        if (a->product_id && !ctl_valid_id(a->product_id))
                return invalid("--product-id", a->product_id);
        if (a->reseller_id && !valid_account(a->reseller_id))
                return invalid("--reseller-account-id (12 digits)", a->reseller_id);
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
                if (texts[i] && !ctl_valid_text(texts[i]))
                        return invalid("text", texts[i]);
        if (a->expires_at && timefmt_parse(a->expires_at, &t) < 0)
                return invalid("--expires-at (YYYY-MM-DDTHH:MM:SSZ)", a->expires_at);
        for (size_t i = 0; i < a->n_buyers; i++)
                if (!valid_account(a->buyers[i]))
                        return invalid("--buyer-account-id (12 digits)", a->buyers[i]);
        for (size_t i = 0; i < a->n_notify; i++)
                if (!valid_email(a->notify[i]))
                        return invalid("--notify address", a->notify[i]);
        for (size_t i = 0; i < a->n_offers; i++)
                if (!ctl_valid_id(a->offers[i]))
                        return invalid("--offer-id", a->offers[i]);
        return check_meta(a);
}

/* ---- arguments ---- */

static int push(const char **v, size_t *n, size_t max, const char *s, const char *opt)
{
        if (*n == max) {
                fprintf(stderr, "cppo-notifyctl authorization: at most %zu %s\n", max, opt);
                return CTL_EXIT_USAGE;
        }
        v[(*n)++] = s;
        return CTL_EXIT_OK;
}

static int take_option(struct auth_args *a, int o, const char *v)
{
        switch (o) {
        case 'i': a->id = v; break;
        case 'N': a->name = v; break;
        case 'p': a->product_id = v; break;
        case 'P': a->product_title = v; break;
        case 'r': a->reseller_id = v; break;
        case 'R': a->reseller_name = v; break;
        case 'b': return push(a->buyers, &a->n_buyers, MP_MAX_BUYERS, v, "--buyer-account-id");
        case 'B': a->company = v; break;
        case 'e': a->expires_at = v; break;
        case 'w': a->renewal = true; break;
        case 'n': return push(a->notify, &a->n_notify, MP_MAX_NOTIFY, v, "--notify");
        case 'm': return push(a->meta, &a->n_meta, MP_MAX_METADATA, v, "--meta");
        case 'o': return push(a->offers, &a->n_offers, MP_MAX_OFFERS, v, "--offer-id");
        case 'A': a->apply = true; break;
        case 'j': a->json = true; break;
        default: return CTL_EXIT_USAGE;
        }
        return CTL_EXIT_OK;
}

/* Options after the verb; the positional ID (show, withdraw) in a->id. */
static int parse_args(int argc, char **argv, struct auth_args *a, bool add)
{
        static const struct option opts[] = {
                { "id", required_argument, NULL, 'i' },
                { "name", required_argument, NULL, 'N' },
                { "product-id", required_argument, NULL, 'p' },
                { "product-title", required_argument, NULL, 'P' },
                { "reseller-account-id", required_argument, NULL, 'r' },
                { "reseller-name", required_argument, NULL, 'R' },
                { "buyer-account-id", required_argument, NULL, 'b' },
                { "buyer-company", required_argument, NULL, 'B' },
                { "expires-at", required_argument, NULL, 'e' },
                { "renewal", no_argument, NULL, 'w' },
                { "notify", required_argument, NULL, 'n' },
                { "meta", required_argument, NULL, 'm' },
                { "offer-id", required_argument, NULL, 'o' },
                { "apply", no_argument, NULL, 'A' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int o, rc = CTL_EXIT_OK;

        optind = 1;
        while (rc == CTL_EXIT_OK && (o = ctl_getopt(argc, argv, "h", opts, &a->t)) != -1) {
                if (o == 'h') {
                        authorization_usage(stdout);
                        return -1;
                }
                if (!add && o != 'A' && o != 'j')
                        return CTL_EXIT_USAGE; /* record fields belong to add */
                rc = take_option(a, o, optarg);
        }
        if (rc == CTL_EXIT_OK && !add && optind + 1 == argc)
                a->id = argv[optind++];
        if (rc == CTL_EXIT_OK && optind < argc)
                rc = CTL_EXIT_USAGE;
        return rc;
}

/* ---- add, withdraw ---- */

static void gen_metadata(yajl_gen g, const struct auth_args *a)
{
        yajl_gen_string(g, (const unsigned char *)"metadata", 8);
        yajl_gen_map_open(g);
        for (size_t i = 0; i < a->n_meta; i++) {
                const char *eq = strchr(a->meta[i], '=');
                yajl_gen_string(g, (const unsigned char *)a->meta[i], (size_t)(eq - a->meta[i]));
                yajl_gen_string(g, (const unsigned char *)eq + 1, strlen(eq + 1));
        }
        yajl_gen_map_close(g);
}

/* The registration's detail, with the field names decode reads. */
static char *registration_json(const struct auth_args *a)
{
        yajl_gen g = ctl_event_open("Resale Authorization Registered");

        if (g == NULL)
                return NULL;
        json_string(g, "resaleAuthorizationId", a->id);
        json_string(g, "name", a->name);
        json_string(g, "productId", a->product_id);
        json_string(g, "productTitle", a->product_title);
        json_string(g, "resellerAccountId", a->reseller_id);
        json_string(g, "resellerName", a->reseller_name);
        json_string(g, "buyerCompanyName", a->company);
        json_string(g, "expiresAt", a->expires_at);
        json_bool(g, "renewal", a->renewal);
        json_strv(g, "buyerAccountIds", a->buyers, a->n_buyers);
        json_strv(g, "notify", a->notify, a->n_notify);
        json_strv(g, "offerIds", a->offers, a->n_offers);
        gen_metadata(g, a);
        return ctl_event_close(g);
}

static int do_add(struct auth_args *a)
{
        char *payload;
        int rc;

        if (a->id == NULL) {
                fprintf(stderr, "cppo-notifyctl authorization add: --id is required\n");
                return CTL_EXIT_USAGE;
        }
        if (!ctl_valid_id(a->id))
                return invalid("--id", a->id);
        rc = check_add(a);
        if (rc != CTL_EXIT_OK)
                return rc;
        payload = registration_json(a);
        if (payload == NULL) {
                fprintf(stderr, "cppo-notifyctl authorization add: a value is not valid UTF-8\n");
                return CTL_EXIT_USAGE;
        }
        rc = ctl_submit("authorization add", &a->t, payload, a->apply, a->json);
        free(payload);
        return rc;
}

/* Reads one authorization; prints why when it cannot. */
static int fetch(const char *cmd, const struct ctl_target *t, const char *id,
                 struct authorization *out, struct store **keep)
{
        struct store *s = NULL;
        int r, rc = ctl_open_store(cmd, t, true, &s, NULL);

        if (rc != CTL_EXIT_OK)
                return rc;
        r = store_get_authorization(s, id, out);
        if (r == -ENOENT)
                fprintf(stderr, "cppo-notifyctl %s: no authorization '%s'\n", cmd, id);
        else if (r < 0)
                fprintf(stderr, "cppo-notifyctl %s: cannot read the store\n", cmd);
        if (r == 0 && keep)
                *keep = s;
        else
                store_close(s);
        return r == 0 ? CTL_EXIT_OK : r == -ENOENT ? CTL_EXIT_PROBLEM : CTL_EXIT_INTERNAL;
}

static int do_withdraw(struct auth_args *a)
{
        struct authorization auth = { 0 };
        yajl_gen g;
        int rc = fetch("authorization withdraw", &a->t, a->id, &auth, NULL);

        authorization_clear(&auth);
        if (rc != CTL_EXIT_OK)
                return rc;
        g = ctl_event_open("Resale Authorization Withdrawn");
        if (g == NULL)
                return CTL_EXIT_INTERNAL;
        json_string(g, "resaleAuthorizationId", a->id);
        return ctl_submit_event("authorization withdraw", &a->t, g, a->apply, a->json);
}

/* ---- list, show ---- */

static const char *state_name(const struct authorization *a)
{
        return a->withdrawn ? "withdrawn" : a->registered ? "registered" : "unregistered";
}

/* Where the record as a whole comes from: AWS (the sync), a registration,
 * both, or only agreement events. */
static const char *origin_name(const struct authorization *a)
{
        if (a->aws_status)
                return a->registered ? "aws+registered" : "aws";
        return a->registered ? "registered" : "event";
}

/* Each tracked field's source, as an object {"name": "aws", ...}. */
static void json_sources(yajl_gen g, const struct authorization *a)
{
        yajl_gen_string(g, (const unsigned char *)"sources", 7);
        yajl_gen_map_open(g);
        for (int f = 0; f < AUTH_F_COUNT; f++) {
                enum auth_source src = authorization_source(a, (enum auth_field)f);
                if (src != AUTH_SRC_NONE)
                        json_string(g, auth_field_name((enum auth_field)f), auth_source_name(src));
        }
        yajl_gen_map_close(g);
}

static void json_authorization_fields(yajl_gen g, const struct authorization *a)
{
        char when[TIMEFMT_LEN];

        timefmt_format(a->updated_at, when);
        json_string(g, "id", a->id);
        json_string(g, "name", a->name);
        json_string(g, "state", state_name(a));
        json_string(g, "product_id", a->product_id);
        json_string(g, "product_title", a->product_title);
        json_string(g, "reseller_account_id", a->reseller_account_id);
        json_string(g, "reseller_name", a->reseller_name);
        json_string(g, "buyer_company_name", a->buyer_company_name);
        json_strlist(g, "buyer_account_ids", &a->buyer_account_ids);
        json_string(g, "expires_at", a->expires_at);
        json_bool(g, "renewal", a->renewal);
        json_strlist(g, "notify", &a->notify);
        json_strlist(g, "offer_ids", &a->offer_ids);
        json_string(g, "updated_at", when);
        json_string(g, "source", origin_name(a));
        json_string(g, "aws_status", a->aws_status);
        json_sources(g, a);
}

/* The object so far, then metadata (stored JSON text) and the close. */
static void print_gen(yajl_gen g, const struct authorization *a, const char *tail)
{
        /* a closed stdout: nothing to tell */
        (void)json_print_splice(g, stdout, "metadata", a->metadata_json ? a->metadata_json : "{}",
                                tail);
}

struct listing {
        bool json;
        int count;
};

static int list_row(void *ctx, const struct authorization *a)
{
        struct listing *l = ctx;

        if (l->json) {
                yajl_gen g = json_new();
                if (g == NULL)
                        return -ENOMEM;
                yajl_gen_map_open(g);
                json_authorization_fields(g, a);
                print_gen(g, a, "");
                yajl_gen_free(g);
        } else {
                if (l->count == 0)
                        printf("%-28s %-12s %-14s %-24s %-13s %6s %6s  %s\n", "ID", "STATE",
                               "SOURCE", "PRODUCT", "RESELLER", "BUYERS", "OFFERS", "NAME");
                printf("%-28s %-12s %-14s %-24s %-13s %6zu %6zu  %s\n", a->id, state_name(a),
                       origin_name(a), a->product_id ? a->product_id : "-",
                       a->reseller_account_id ? a->reseller_account_id : "-",
                       a->buyer_account_ids.n, a->offer_ids.n, a->name ? a->name : "-");
        }
        l->count++;
        return 0;
}

static int do_list(struct auth_args *a)
{
        struct listing l = { .json = a->json };
        struct store *s = NULL;
        int r, rc = ctl_open_store("authorization list", &a->t, true, &s, NULL);

        if (rc != CTL_EXIT_OK)
                return rc;
        r = store_list_authorizations(s, list_row, &l);
        store_close(s);
        if (r < 0) {
                fprintf(stderr, "cppo-notifyctl authorization list: cannot read the store\n");
                return CTL_EXIT_INTERNAL;
        }
        if (!a->json)
                printf("%d authorization%s\n", l.count, l.count == 1 ? "" : "s");
        return CTL_EXIT_OK;
}

/* Rows of show: JSON objects appended to one array text, or lines. */
struct rows_out {
        struct buf *json; /* the array's text so far, or NULL for people */
        int count;
};

/* Appends the object in g (then freed) to out's array. */
static int append_object(struct rows_out *out, yajl_gen g)
{
        const unsigned char *b;
        size_t len;
        int r = -EIO;

        yajl_gen_map_close(g);
        if (yajl_gen_get_buf(g, &b, &len) == yajl_gen_status_ok)
                r = buf_printf(out->json, "%s%.*s", out->count ? "," : "", (int)len,
                               (const char *)b);
        yajl_gen_free(g);
        out->count++;
        return r;
}

static int offer_row(void *ctx, const struct offer *o)
{
        struct rows_out *out = ctx;
        yajl_gen g;

        if (out->json == NULL) {
                printf("  %-28s link=%s%s%s%s%s\n", o->id, link_strength_name(o->link),
                       o->late ? " late" : "", o->released_seen ? "" : " (not released yet)",
                       o->name ? "  " : "", o->name ? o->name : "");
                out->count++;
                return 0;
        }
        if ((g = json_new()) == NULL)
                return -ENOMEM;
        yajl_gen_map_open(g);
        json_string(g, "id", o->id);
        json_string(g, "name", o->name);
        json_string(g, "expiration", o->expiration);
        json_string(g, "link", link_strength_name(o->link));
        json_bool(g, "late", o->late);
        json_bool(g, "released_seen", o->released_seen);
        return append_object(out, g);
}

static int agreement_row(void *ctx, const struct agreement *a)
{
        struct rows_out *out = ctx;
        yajl_gen g;

        if (out->json == NULL) {
                printf("  %-28s %-7s %-9s accepted %s, offer %s%s%s\n", a->id,
                       a->intent ? a->intent : "-", a->status ? a->status : "-",
                       a->acceptance_time ? a->acceptance_time : "-",
                       a->offer_id ? a->offer_id : "-",
                       a->previous_agreement_id ? ", previous " : "",
                       a->previous_agreement_id ? a->previous_agreement_id : "");
                out->count++;
                return 0;
        }
        if ((g = json_new()) == NULL)
                return -ENOMEM;
        yajl_gen_map_open(g);
        json_string(g, "id", a->id);
        json_string(g, "intent", a->intent);
        json_string(g, "status", a->status);
        json_string(g, "acceptance_time", a->acceptance_time);
        json_string(g, "start_time", a->start_time);
        json_string(g, "end_time", a->end_time);
        json_string(g, "offer_id", a->offer_id);
        json_string(g, "previous_agreement_id", a->previous_agreement_id);
        return append_object(out, g);
}

static void print_field(const char *label, const char *value)
{
        printf("%-15s %s\n", label, value && value[0] ? value : "-");
}

static void print_list(const char *label, const struct strlist *l, const char *tag)
{
        printf("%-15s", label);
        for (size_t i = 0; i < l->n; i++)
                printf("%s%s", i ? ", " : " ", l->v[i]);
        printf("%s%s\n", l->n ? "" : " -", tag);
}

/* " [aws]": where a shown value came from, nothing when unknown. */
static const char *src_tag(const struct authorization *a, enum auth_field f, char *buf, size_t len)
{
        enum auth_source src = authorization_source(a, f);

        buf[0] = '\0';
        if (src != AUTH_SRC_NONE)
                snprintf(buf, len, "  [%s]", auth_source_name(src));
        return buf;
}

/* A value and the one that qualifies it ("prod-1 (Analytics Suite)"). */
static void print_sourced(const char *label, const char *value, const char *detail, const char *tag)
{
        printf("%-15s %s%s%s%s%s\n", label, value && value[0] ? value : "-", detail ? " (" : "",
               detail ? detail : "", detail ? ")" : "", tag);
}

static void print_human(const struct authorization *a)
{
        char when[TIMEFMT_LEN], tag[32];

        timefmt_format(a->updated_at, when);
        print_field("id:", a->id);
        print_field("state:", state_name(a));
        print_field("source:", origin_name(a));
        print_sourced("name:", a->name, NULL, src_tag(a, AUTH_F_NAME, tag, sizeof tag));
        print_sourced("product:", a->product_id, a->product_title,
                      src_tag(a, AUTH_F_PRODUCT, tag, sizeof tag));
        print_sourced("reseller:", a->reseller_account_id, a->reseller_name,
                      src_tag(a, AUTH_F_RESELLER, tag, sizeof tag));
        print_sourced("aws status:", a->aws_status, NULL,
                      src_tag(a, AUTH_F_STATUS, tag, sizeof tag));
        print_sourced("buyer company:", a->buyer_company_name, NULL,
                      src_tag(a, AUTH_F_COMPANY, tag, sizeof tag));
        print_list("buyers:", &a->buyer_account_ids, src_tag(a, AUTH_F_BUYERS, tag, sizeof tag));
        print_sourced("expires at:", a->expires_at, NULL,
                      src_tag(a, AUTH_F_EXPIRY, tag, sizeof tag));
        print_field("renewal:", a->renewal ? "yes" : "no");
        print_list("notify:", &a->notify, src_tag(a, AUTH_F_CONTACTS, tag, sizeof tag));
        print_sourced("metadata:", a->metadata_json, NULL,
                      src_tag(a, AUTH_F_METADATA, tag, sizeof tag));
        print_field("updated at:", when);
}

static int show_json(struct store *s, const struct authorization *a)
{
        struct buf rows = BUF_INIT(16u << 20);
        struct rows_out offers = { .json = &rows }, agreements = { .json = &rows };
        yajl_gen g = json_new();
        int r = g ? buf_puts(&rows, ",\"offers\":[") : -ENOMEM;

        if (r == 0)
                r = store_list_offers(s, a->id, offer_row, &offers);
        if (r == 0)
                r = buf_puts(&rows, "],\"agreements\":[");
        if (r == 0)
                r = store_list_agreements(s, a->id, agreement_row, &agreements);
        if (r == 0)
                r = buf_putc(&rows, ']');
        if (r == 0) {
                yajl_gen_map_open(g);
                json_authorization_fields(g, a);
                print_gen(g, a, buf_cstr(&rows));
        }
        if (g)
                yajl_gen_free(g);
        buf_deinit(&rows);
        return r;
}

static int show_human(struct store *s, const struct authorization *a)
{
        struct rows_out offers = { 0 }, agreements = { 0 };
        int r;

        print_human(a);
        printf("offers:\n");
        r = store_list_offers(s, a->id, offer_row, &offers);
        if (r == 0 && offers.count == 0)
                printf("  (none linked yet)\n");
        if (r == 0) {
                printf("agreements:\n");
                r = store_list_agreements(s, a->id, agreement_row, &agreements);
        }
        if (r == 0 && agreements.count == 0)
                printf("  (none yet)\n");
        return r;
}

static int do_show(struct auth_args *a)
{
        struct authorization auth = { 0 };
        struct store *s = NULL;
        int r, rc;

        if (a->id == NULL)
                return CTL_EXIT_USAGE;
        rc = fetch("authorization show", &a->t, a->id, &auth, &s);
        if (rc != CTL_EXIT_OK)
                return rc;
        r = a->json ? show_json(s, &auth) : show_human(s, &auth);
        authorization_clear(&auth);
        store_close(s);
        if (r < 0)
                fprintf(stderr, "cppo-notifyctl authorization show: cannot read the store\n");
        return r < 0 ? CTL_EXIT_INTERNAL : CTL_EXIT_OK;
}

int ctl_authorization(int argc, char **argv)
{
        static const struct {
                const char *verb;
                int (*run)(struct auth_args *a);
        } verbs[] = {
                { "add", do_add },
                { "list", do_list },
                { "show", do_show },
                { "withdraw", do_withdraw },
        };
        struct auth_args a = { 0 };
        int rc;

        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                authorization_usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
        }
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
                if (strcmp(argv[1], verbs[i].verb) != 0)
                        continue;
                rc = parse_args(argc - 1, argv + 1, &a, i == 0);
                if (rc == CTL_EXIT_OK && i == 1 && a.id)
                        rc = CTL_EXIT_USAGE; /* list takes no id */
                if (rc == CTL_EXIT_OK && i >= 2 && a.id == NULL)
                        rc = CTL_EXIT_USAGE;
                if (rc != CTL_EXIT_OK) {
                        if (rc > 0)
                                authorization_usage(stderr);
                        return rc > 0 ? rc : CTL_EXIT_OK;
                }
                return verbs[i].run(&a);
        }
        fprintf(stderr, "cppo-notifyctl authorization: unknown action '%s'\n", argv[1]);
        authorization_usage(stderr);
        return CTL_EXIT_USAGE;
}
