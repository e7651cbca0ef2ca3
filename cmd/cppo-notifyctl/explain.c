/* cppo-notifyctl explain [--config FILE [--state DB]] [FILE|-]: decode JSON
 * lines and print, for each, one JSON object per event found, or
 * {"rejected": REASON, "message": TEXT}.
 *
 * With --config, each event is also applied to a correlation state (empty,
 * or loaded read-only from --state) and every notification it would create
 * is shown with the rules it matches and, per receiver, the exact payload
 * the daemon would store and send (e-mail message, Slack JSON, file line),
 * rendered at the event's own time so the output is reproducible; an
 * offer it holds, with the time its hold times out; and why no
 * partner_offer_extended goes out for an Offer Released read after the
 * buyer accepted. Nothing is written anywhere.
 * Exit 0 when every line decoded, 1 when any was rejected, 2 on usage. */
#include "ctl.h"

#include "cppo/config.h"
#include "cppo/clock.h"
#include "cppo/correlate.h"
#include "cppo/decode.h"
#include "cppo/error.h"
#include "cppo/event_json.h"
#include "cppo/json.h"
#include "cppo/outbox.h"
#include "cppo/render.h"
#include "cppo/route.h"
#include "cppo/source_file.h"
#include "cppo/corr_load.h"
#include "cppo/store.h"
#include "cppo/timefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>

struct explain {
        struct decoder *decoder;
        struct decode_result result;
        size_t rejected;
        /* --config only */
        struct config *cfg;
        struct renderer *renderer;
        struct corr_state *state;
        struct corr_options corr;
};

static int print_item(const struct decode_item *it)
{
        yajl_gen g = json_new();
        int r = 0;

        if (g == NULL)
                return -ENOMEM;
        if (it->reason == DECODE_OK) {
                r = event_json_write(g, &it->ev);
        } else {
                yajl_gen_map_open(g);
                json_string(g, "rejected", decode_reason_name(it->reason));
                json_string(g, "message", it->message);
                yajl_gen_map_close(g);
        }
        if (r == 0)
                r = json_print(g, stdout);
        yajl_gen_free(g);
        return r;
}

/* Prints a payload, CRLF shown as LF, between two marker lines. */
static void print_payload(const struct delivery *d)
{
        for (size_t i = 0; i < d->payload_len; i++)
                if (!(d->payload[i] == '\r' && i + 1 < d->payload_len && d->payload[i + 1] == '\n'))
                        putchar(d->payload[i]);
        if (d->payload_len && d->payload[d->payload_len - 1] != '\n')
                putchar('\n');
        printf("--- end of %s\n", d->key);
}

static void print_target(const struct explain *x, const struct route_target *t,
                         const struct notification *n, int64_t now)
{
        struct delivery d;
        char err[CPPO_ERRLEN] = "";

        printf("--- receiver %s (%s) via rule %s\n", t->receiver->name, t->receiver->type_name,
               t->rule->name);
        if (outbox_build(x->cfg, x->renderer, t->receiver, t->rule, n, now * 1000, &d, err,
                         sizeof err) < 0) {
                printf("cannot render: %s\n", err);
                return;
        }
        if (d.recipients.n) {
                printf("envelope recipients:");
                for (size_t i = 0; i < d.recipients.n; i++)
                        printf(" %s", d.recipients.v[i]);
                printf("\n");
        }
        print_payload(&d);
        delivery_clear(&d);
}

static void print_notification(const struct explain *x, const struct notification *n, int64_t now)
{
        struct route_targets t;
        yajl_val doc = yajl_tree_parse(n->context_json, NULL, 0);

        printf("notification %s key=%s late=%s registered=%s\ncontext: %s\n", n->kind, n->key,
               n->late ? "true" : "false", n->registered ? "true" : "false", n->context_json);
        route_select(x->cfg, doc, &t);
        printf("rules matched:");
        for (size_t i = 0; i < t.rules_matched; i++)
                printf(" %s", t.matched[i]);
        printf("%s\n", t.rules_matched ? "" : " none: unrouted (recorded and counted)");
        for (size_t i = 0; i < t.count; i++)
                print_target(x, &t.items[i], n, now);
        yajl_tree_free(doc);
}

/* A hold the event started: when attention_needed goes out if nobody links
 * the offer first. */
static void print_holds(const struct changeset *ch)
{
        char at[TIMEFMT_LEN];

        for (size_t i = 0; i < ch->n_holds; i++) {
                const struct hold *h = &ch->holds[i];
                if (h->attention_sent)
                        continue;
                timefmt_format(h->deadline, at);
                printf("held: offer %s waits for its resale authorization; the hold times out "
                       "at %s (attention_needed then)\n",
                       h->offer_id, at);
        }
}

/* correlate's rule for an Offer Released read after the buyer accepted
 * (the agreement event linked the offer first): the deal was told by its
 * new_order, so partner_offer_extended is only sent with
 * notify_extended_after_acceptance. Say so rather than print a bare
 * "none". */
static void print_silent_link(const struct explain *x, const struct mp_event *ev,
                              const struct changeset *ch)
{
        const struct offer *o = ev->kind == MP_OFFER_RELEASED
                                    ? corr_state_offer(x->state, ev->offer_id)
                                    : NULL;

        if (o == NULL || o->link != LINK_EVENT || x->corr.notify_extended_after_acceptance ||
            ch->n_notifications > 0 || !o->seller_of_record_account_id ||
            !o->manufacturer_account_id ||
            strcmp(o->seller_of_record_account_id, o->manufacturer_account_id) == 0)
                return;
        printf("not sent: partner_offer_extended/%s: the buyer accepted before this Offer "
               "Released was read (its new_order told the deal); set "
               "notify_extended_after_acceptance: true to send it anyway\n",
               o->id);
}

/* What the event would cause against the state (which it then updates, so
 * later lines of the file see it, as the daemon would). */
static int explain_event(struct explain *x, const struct mp_event *ev)
{
        struct changeset ch = { 0 };
        int64_t now = ev->time_epoch ? ev->time_epoch : clock_wall_s();
        int r = corr_apply(x->state, &x->corr, ev, now, &ch);

        for (size_t i = 0; r == 0 && i < ch.n_notifications; i++)
                print_notification(x, &ch.notifications[i], now);
        if (r == 0 && ch.n_notifications == 0)
                printf("notifications: none\n");
        if (r == 0) {
                print_holds(&ch);
                print_silent_link(x, ev, &ch);
        }
        changeset_clear(&ch);
        return r;
}

static int on_line(void *ctx, const struct raw_message *m)
{
        struct explain *x = ctx;
        int r = decode_message(x->decoder, m->data, m->len, raw_message_whole_size(m), &x->result);

        for (size_t i = 0; r == 0 && i < x->result.n; i++) {
                const struct decode_item *it = &x->result.items[i];

                if (it->reason != DECODE_OK)
                        x->rejected++;
                r = print_item(it);
                if (r == 0 && x->cfg && it->reason == DECODE_OK)
                        r = explain_event(x, &it->ev);
        }
        return r;
}

/* --config and --state: config, templates and the state to explain against. */
static int explain_setup(struct explain *x, const char *config_path, const char *state_path)
{
        struct config_errors errs;
        struct store *s = NULL;
        struct store_options so = { .read_only = true, .busy_timeout_ms = 5000 };
        char err[CPPO_ERRLEN] = "";
        int r;

        config_errors_init(&errs);
        r = config_load(&x->cfg, config_path, &errs);
        if (r < 0)
                config_errors_print(&errs, stderr);
        config_errors_deinit(&errs);
        if (r == 0 && (r = renderer_new(&x->renderer, x->cfg, err, sizeof err)) < 0)
                fprintf(stderr, "%s\n", err);
        if (r == 0)
                so.password = config_store_password(x->cfg);
        if (r == 0 && state_path && (r = store_open(&s, state_path, &so, err, sizeof err)) < 0)
                fprintf(stderr, "cppo-notifyctl explain: %s\n", err);
        if (r == 0)
                r = s ? corr_state_load(s, &x->state) : corr_state_new(&x->state);
        store_close(s);
        x->corr = corr_options_default();
        if (x->cfg) {
                x->corr.offer_link_timeout = x->cfg->holds.offer_link_timeout;
                x->corr.notify_extended_after_acceptance = x->cfg->notify_extended_after_acceptance;
                x->corr.notify_direct_deals = x->cfg->notify_direct_deals;
        }
        return r;
}

static void explain_teardown(struct explain *x)
{
        corr_state_free(x->state);
        renderer_free(x->renderer);
        config_free(x->cfg);
}

static void explain_usage(FILE *out)
{
        fprintf(out,
                "usage: cppo-notifyctl explain [--max-bytes N] [--config FILE [--state DB]]\n"
                "                              [FILE|-]\n"
                "Decodes JSON lines (a file, or standard input) and prints each normalized\n"
                "event as one JSON object, or {\"rejected\": REASON, \"message\": TEXT}.\n"
                "With --config, also shows the notifications each event would create (against\n"
                "the state in DB, read-only, or an empty one), the rules they match and the\n"
                "exact e-mail, Slack and file payloads per receiver. Writes nothing.\n"
                "Exit: 0 all decoded, 1 some rejected, 2 usage, 3 internal failure.\n");
}

int ctl_explain(int argc, char **argv)
{
        static const struct option opts[] = {
                { "max-bytes", required_argument, NULL, 'm' },
                { "config", required_argument, NULL, 'c' },
                { "state", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct decode_options o = { 0 };
        struct explain x = { 0 };
        char err[CPPO_ERRLEN] = "", *end;
        const char *config_path = NULL, *state_path = NULL;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "m:c:s:h", opts, NULL)) != -1) {
                if (c == 'h') {
                        explain_usage(stdout);
                        return CTL_EXIT_OK;
                }
                if (c == 'c' || c == 's') {
                        *(c == 'c' ? &config_path : &state_path) = optarg;
                        continue;
                }
                if (c != 'm' || (o.max_message_bytes = strtoul(optarg, &end, 10)) == 0 || *end) {
                        explain_usage(stderr);
                        return CTL_EXIT_USAGE;
                }
        }
        if (argc - optind > 1 || (state_path && !config_path)) {
                explain_usage(stderr);
                return CTL_EXIT_USAGE;
        }
        if (config_path && explain_setup(&x, config_path, state_path) < 0) {
                explain_teardown(&x);
                return CTL_EXIT_PROBLEM;
        }
        if (decode_new(&x.decoder, &o) < 0) {
                explain_teardown(&x);
                return CTL_EXIT_INTERNAL;
        }
        decode_result_init(&x.result);
        r = source_file_run(optind < argc ? argv[optind] : "-",
                            o.max_message_bytes ? o.max_message_bytes : DECODE_DEFAULT_MAX_BYTES,
                            on_line, &x, err, sizeof err);
        decode_result_deinit(&x.result);
        decode_free(x.decoder);
        explain_teardown(&x);
        if (r < 0) {
                fprintf(stderr, "cppo-notifyctl explain: %s\n", err[0] ? err : error_name(r));
                return r == -ENOMEM ? CTL_EXIT_INTERNAL : CTL_EXIT_PROBLEM;
        }
        return x.rejected ? CTL_EXIT_PROBLEM : CTL_EXIT_OK;
}
