/* cppo-notifyctl replay [--config FILE | --state DB] [--notify] [--print] [--commit-every N]
 * FILE...|-: runs JSON-lines files (or standard input) through the daemon's
 * path — decode, ledger, correlate, store — with the events' own time as the
 * clock, so hold timeouts are deterministic. Pending inbox entries (CLI
 * commands) are applied after the files, in a batch of their own. With
 * --print, each notification the store did not have yet is written as one
 * JSON line; replaying the same input again prints nothing. A summary line
 * goes to stderr.
 *
 * History is recorded, not announced: without --notify the notifications
 * the files cause are marked as history in their own transaction, so their
 * deliveries are created "backfilled" (never sent) — by this command when
 * --config names the receivers and rules, else by the daemon. With --notify
 * they are routed like live ones and sent. Inbox commands are always
 * announced: they are the operator's, not history.
 * Exit 0, 1 when an input was rejected or a file could not be read, 2 usage,
 * 3 store failure. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/config.h"
#include "cppo/clock.h"
#include "cppo/decode.h"
#include "cppo/error.h"
#include "cppo/outbox.h"
#include "cppo/render.h"
#include "cppo/source_file.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Notifications routed per outbox call (the store's page is 1024). */
#define ROUTE_LIMIT 1000

struct replay {
        struct pipeline *p;
        struct store *store;
        long commit_every;
        long since_commit;
        bool print, notify;
        /* with --config: the receivers and rules the deliveries are made for */
        struct config *cfg;
        struct renderer *renderer;
        struct outbox_stats routed;
};

/* Creates the deliveries of everything committed and not routed yet, page
 * by page while the outbox says more waits. Nothing to do without a
 * configuration: the daemon routes then. */
static int route_committed(struct replay *x)
{
        bool more = x->cfg != NULL;
        int r = 0;

        while (r >= 0 && more)
                r = outbox_route(x->store, x->cfg, x->renderer, clock_wall_ms(), ROUTE_LIMIT,
                                 &x->routed, &more);
        return r < 0 ? r : 0;
}

static int commit(struct replay *x)
{
        int r = pipeline_commit(x->p, clock_wall_s());

        return r < 0 ? r : route_committed(x);
}

static void on_notification(void *ctx, const struct notification *n)
{
        if (((struct replay *)ctx)->print)
                ctl_print_notification(n);
}

/* source_handler_fn: the pipeline, committing every commit_every lines. */
static int on_line(void *ctx, const struct raw_message *m)
{
        struct replay *x = ctx;
        int r = pipeline_handle(x->p, m);

        if (r == 0 && ++x->since_commit >= x->commit_every) {
                x->since_commit = 0;
                r = commit(x);
        }
        return r;
}

static void replay_usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl replay (--config FILE | --state DB) [--notify]\n"
                     "                             [--print] [--commit-every N] FILE...|-\n"
                     "Runs JSON-lines events through decode, ledger, correlation and the store,\n"
                     "with each event's own time as the clock; applies pending inbox entries.\n"
                     "History is recorded, not announced: the deliveries of the notifications\n"
                     "it creates are 'backfilled', never sent; --notify sends them.\n"
                     "--print writes each new notification as one JSON line.\n"
                     "Exit: 0 ok, 1 some input rejected or unreadable, 2 usage,\n"
                     "3 store failure.\n");
}

/* Every file, then the inbox, then the last commit. */
static int run_files(struct replay *x, char **files, int n, int *unreadable)
{
        char err[CPPO_ERRLEN];
        int r = 0;

        for (int i = 0; r == 0 && i < n; i++) {
                err[0] = '\0';
                r = source_file_run(files[i], DECODE_DEFAULT_MAX_BYTES, on_line, x, err,
                                    sizeof err);
                if (r < 0 && r != -ENOMEM && err[0]) {
                        /* the input, not the store: report, go on */
                        fprintf(stderr, "cppo-notifyctl replay: %s\n", err);
                        (*unreadable)++;
                        r = 0;
                }
        }
        if (r == 0)
                r = commit(x);
        /* the operator's commands are news, whatever the files were */
        pipeline_set_backfill(x->p, false);
        if (r == 0)
                r = pipeline_drain_inbox(x->p, clock_wall_s());
        return r < 0 ? r : commit(x);
}

static int parse_args(int argc, char **argv, struct ctl_target *t, struct replay *x)
{
        static const struct option opts[] = {
                { "print", no_argument, NULL, 'p' },
                { "notify", no_argument, NULL, 'N' },
                { "commit-every", required_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        char *end;
        int o;

        optind = 1;
        while ((o = ctl_getopt(argc, argv, "pNn:h", opts, t)) != -1) {
                switch (o) {
                case 'p': x->print = true; break;
                case 'N': x->notify = true; break;
                case 'n':
                        x->commit_every = strtol(optarg, &end, 10);
                        if (*end || x->commit_every <= 0)
                                return CTL_EXIT_USAGE;
                        break;
                case 'h': replay_usage(stdout); return -1;
                default: return CTL_EXIT_USAGE;
                }
        }
        return optind < argc ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}

/* The receivers, rules and templates of --config, to route with. */
static int load_routing(const char *file, struct replay *x)
{
        struct config_errors errs;
        char err[CPPO_ERRLEN];
        int r;

        config_errors_init(&errs);
        r = config_load_for(&x->cfg, file, CONFIG_NEED_ROUTING, &errs);
        if (r < 0)
                config_errors_print(&errs, stderr);
        config_errors_deinit(&errs);
        if (r == 0 && (r = renderer_new(&x->renderer, x->cfg, err, sizeof err)) < 0)
                fprintf(stderr, "cppo-notifyctl replay: %s\n", err);
        return r;
}

static void summary(const struct replay *x, int r)
{
        const struct pipeline_stats *st = pipeline_stats(x->p);

        fprintf(stderr,
                "replay: %llu messages, %llu events, %llu duplicates, "
                "%llu rejected, %llu notifications",
                (unsigned long long)st->messages, (unsigned long long)st->events,
                (unsigned long long)st->duplicates, (unsigned long long)st->rejected,
                (unsigned long long)st->notifications);
        if (x->cfg)
                fprintf(stderr, ", %llu deliveries (%llu backfilled, not sent)",
                        (unsigned long long)x->routed.deliveries,
                        (unsigned long long)x->routed.backfilled);
        else if (!x->notify && st->notifications)
                fprintf(stderr, " (history: the daemon records their deliveries as "
                                "backfilled)");
        fprintf(stderr, "%s\n", r < 0 ? " (store failure: the last batch was not committed)" : "");
}

int ctl_replay(int argc, char **argv)
{
        struct ctl_target t = { 0 };
        struct replay x = { .commit_every = 1000 };
        struct pipeline_options po;
        struct store *s = NULL;
        char err[CPPO_ERRLEN];
        int unreadable = 0, r, rc = parse_args(argc, argv, &t, &x);

        if (rc != CTL_EXIT_OK) {
                if (rc > 0)
                        replay_usage(stderr);
                return rc > 0 ? rc : CTL_EXIT_OK;
        }
        rc = ctl_open_store("replay", &t, false, &s, &po);
        if (rc != CTL_EXIT_OK)
                return rc;
        x.store = s;
        po.event_clock = true;
        po.backfill = !x.notify;
        po.on_notification = on_notification;
        po.ctx = &x;
        r = t.config ? load_routing(t.config, &x) : 0;
        if (r == 0 && (r = pipeline_new(&x.p, &po, err, sizeof err)) < 0)
                fprintf(stderr, "cppo-notifyctl replay: %s\n", err);
        else if (r == 0)
                r = run_files(&x, argv + optind, argc - optind, &unreadable);
        if (x.p) {
                summary(&x, r);
                rc = pipeline_stats(x.p)->rejected || unreadable ? CTL_EXIT_PROBLEM : CTL_EXIT_OK;
        }
        pipeline_free(x.p);
        renderer_free(x.renderer);
        config_free(x.cfg);
        store_close(s);
        return r < 0 ? CTL_EXIT_INTERNAL : rc;
}
