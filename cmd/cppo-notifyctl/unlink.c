/* cppo-notifyctl unlink --offer ID (--config FILE | --state DB) [--reason
 * TEXT] [--force] [--apply] [--json]: takes a wrong link off an offer and
 * returns it to the holds (a new hold, so attention_needed can follow);
 * inference then leaves it to a person. It writes an "Offer Unlinked"
 * event (who, why) to the store's inbox, applied like every CLI change.
 * When people had been told about the offer under that authorization, its
 * receivers get a link_corrected. A link an agreement event or a
 * registration made is only removed with --force.
 *
 * cppo-notifyctl links --offer ID (--config FILE | --state DB) [--json]:
 * the offer's link history, oldest first: when, from, to, how, who, why,
 * and the correction it sent.
 * Exit 0, 1 refused or not found, 2 usage, 3 store failure. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/timefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unlink_args {
        struct ctl_target t;
        const char *offer, *reason;
        bool apply, json, force;
};

static void unlink_usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl unlink --offer ID (--config FILE | --state DB)\n"
                     "           [--reason TEXT] [--force] [--apply] [--json]\n"
                     "       cppo-notifyctl links --offer ID (--config FILE | --state DB) "
                     "[--json]\n"
                     "unlink returns a wrongly linked offer to the holds (a link made by an\n"
                     "agreement event or a registration only with --force); links shows the\n"
                     "offer's link history.\n"
                     "Exit: 0 ok, 1 refused or not found, 2 usage, 3 store failure.\n");
}

static int parse_args(const char *cmd, int argc, char **argv, struct unlink_args *a)
{
        static const struct option opts[] = {
                { "offer", required_argument, NULL, 'o' },
                { "reason", required_argument, NULL, 'r' },
                { "force", no_argument, NULL, 'f' },
                { "apply", no_argument, NULL, 'A' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        bool links = strcmp(cmd, "links") == 0;
        int o;

        optind = 1;
        while ((o = ctl_getopt(argc, argv, "o:r:fAjh", opts, &a->t)) != -1) {
                if (links && (o == 'r' || o == 'f' || o == 'A'))
                        return CTL_EXIT_USAGE; /* links only reads */
                switch (o) {
                case 'o': a->offer = optarg; break;
                case 'r': a->reason = optarg; break;
                case 'f': a->force = true; break;
                case 'A': a->apply = true; break;
                case 'j': a->json = true; break;
                case 'h': unlink_usage(stdout); return -1;
                default: return CTL_EXIT_USAGE;
                }
        }
        if (optind < argc || a->offer == NULL || !ctl_valid_id(a->offer) ||
            (a->reason && !ctl_valid_text(a->reason))) {
                fprintf(stderr,
                        "cppo-notifyctl %s: --offer ID is required (an id is 1 to 256 "
                        "printable characters without spaces; --reason is text)\n",
                        cmd);
                return CTL_EXIT_USAGE;
        }
        return CTL_EXIT_OK;
}

/* The offer as stored, and whether unlinking it may go ahead. */
static int check(const struct unlink_args *a)
{
        struct offer o = { 0 };
        struct store *s = NULL;
        int r, rc = ctl_open_store("unlink", &a->t, true, &s, NULL);

        if (rc != CTL_EXIT_OK)
                return rc;
        r = store_get_offer(s, a->offer, &o);
        store_close(s);
        if (r == -ENOENT || (r == 0 && o.authorization_id == NULL)) {
                fprintf(stderr, "cppo-notifyctl unlink: %s '%s'\n",
                        r ? "no offer in the store with id" : "not linked to any authorization:",
                        a->offer);
                rc = CTL_EXIT_PROBLEM;
        } else if (r < 0) {
                rc = CTL_EXIT_INTERNAL;
        } else if (o.link > LINK_MANUAL) {
                fprintf(stderr, "cppo-notifyctl unlink: offer '%s' is linked to '%s' by %s%s\n",
                        a->offer, o.authorization_id, link_strength_by(o.link),
                        a->force ? " (forced)" : "; --force unlinks it anyway");
                rc = a->force ? CTL_EXIT_OK : CTL_EXIT_PROBLEM;
        }
        offer_clear(&o);
        return rc;
}

int ctl_unlink(int argc, char **argv)
{
        struct unlink_args a = { 0 };
        yajl_gen g;
        int rc = parse_args("unlink", argc, argv, &a);

        if (rc != CTL_EXIT_OK) {
                if (rc > 0)
                        unlink_usage(stderr);
                return rc > 0 ? rc : CTL_EXIT_OK;
        }
        rc = check(&a);
        if (rc != CTL_EXIT_OK)
                return rc;
        g = ctl_event_open("Offer Unlinked");
        if (g == NULL)
                return CTL_EXIT_INTERNAL;
        json_string(g, "offerId", a.offer);
        json_string(g, "actor", ctl_actor());
        json_string(g, "reason", a.reason);
        json_bool(g, "force", a.force);
        return ctl_submit_event("unlink", &a.t, g, a.apply, a.json);
}

/* ---- links: the history ---- */

struct history {
        bool json;
        int count;
};

static void print_change_json(const struct link_change *l)
{
        yajl_gen g = json_new();
        char at[TIMEFMT_LEN];

        if (g == NULL)
                return;
        timefmt_format(l->at, at);
        yajl_gen_map_open(g);
        json_string(g, "offer_id", l->offer_id);
        json_string(g, "at", at);
        json_string(g, "from_authorization_id", l->from_authorization_id);
        json_string(g, "to_authorization_id", l->to_authorization_id);
        json_string(g, "from_link", link_strength_name(l->from_link));
        json_string(g, "to_link", link_strength_name(l->to_link));
        json_string(g, "actor", l->actor);
        json_string(g, "reason", l->reason);
        json_string(g, "event_key", l->event_key);
        json_string(g, "correction_key", l->correction_key);
        yajl_gen_map_close(g);
        (void)json_print(g, stdout); /* a closed stdout: nothing to tell */
        yajl_gen_free(g);
}

static int on_change(void *ctx, const struct link_change *l)
{
        struct history *h = ctx;
        char at[TIMEFMT_LEN];

        h->count++;
        if (h->json) {
                print_change_json(l);
                return 0;
        }
        timefmt_format(l->at, at);
        printf("%s  %s (%s) -> %s (%s)  by %s%s%s\n", at,
               l->from_authorization_id ? l->from_authorization_id : "-",
               link_strength_name(l->from_link),
               l->to_authorization_id ? l->to_authorization_id : "held",
               link_strength_name(l->to_link), l->actor ? l->actor : "unknown",
               l->reason ? ": " : "", l->reason ? l->reason : "");
        if (l->correction_key)
                printf("    told both sides: %s\n", l->correction_key);
        return 0;
}

int ctl_links(int argc, char **argv)
{
        struct unlink_args a = { 0 };
        struct history h = { 0 };
        struct store *s = NULL;
        int r, rc = parse_args("links", argc, argv, &a);

        if (rc != CTL_EXIT_OK) {
                if (rc > 0)
                        unlink_usage(stderr);
                return rc > 0 ? rc : CTL_EXIT_OK;
        }
        rc = ctl_open_store("links", &a.t, true, &s, NULL);
        if (rc != CTL_EXIT_OK)
                return rc;
        h.json = a.json;
        r = store_list_link_changes(s, a.offer, on_change, &h);
        store_close(s);
        if (r < 0) {
                fprintf(stderr, "cppo-notifyctl links: cannot read the store\n");
                return CTL_EXIT_INTERNAL;
        }
        if (h.count == 0)
                fprintf(stderr, "cppo-notifyctl links: no link history for offer '%s'\n", a.offer);
        return h.count ? CTL_EXIT_OK : CTL_EXIT_PROBLEM;
}
