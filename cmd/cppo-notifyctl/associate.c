/* cppo-notifyctl associate --offer ID --authorization ID (--config FILE |
 * --state DB) [--apply] [--json]: links a partner's offer to a resale
 * authorization by hand (link "manual": stronger than an inference, weaker
 * than a registration or an agreement naming both). It writes an "Offer
 * Associated" event to the store's inbox, which the daemon applies on its
 * next batch; a held offer is then released with a late
 * partner_offer_extended. --apply runs the pipeline at once (only when no
 * daemon runs on the store). Exit 0, 1 unknown authorization, 2 usage,
 * 3 store failure. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/error.h"
#include "cppo/event_json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

struct assoc_args {
        struct ctl_target t;
        const char *offer, *authorization;
        bool apply, json;
};

static void associate_usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl associate --offer ID --authorization ID\n"
                     "           (--config FILE | --state DB) [--apply] [--json]\n"
                     "Links an offer to a resale authorization by hand. The daemon applies it on\n"
                     "its next batch; --apply applies it now (only when no daemon is running).\n"
                     "Exit: 0 ok, 1 unknown authorization, 2 usage, 3 store failure.\n");
}

static int parse_args(int argc, char **argv, struct assoc_args *a)
{
        static const struct option opts[] = {
                { "offer", required_argument, NULL, 'o' },
                { "authorization", required_argument, NULL, 'a' },
                { "apply", no_argument, NULL, 'A' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int o;

        optind = 1;
        while ((o = ctl_getopt(argc, argv, "o:a:Ajh", opts, &a->t)) != -1) {
                switch (o) {
                case 'o': a->offer = optarg; break;
                case 'a': a->authorization = optarg; break;
                case 'A': a->apply = true; break;
                case 'j': a->json = true; break;
                case 'h': associate_usage(stdout); return -1;
                default: return CTL_EXIT_USAGE;
                }
        }
        if (optind < argc || !a->offer || !a->authorization) {
                fprintf(stderr, "cppo-notifyctl associate: --offer and --authorization are "
                                "required, nothing else\n");
                return CTL_EXIT_USAGE;
        }
        if (!ctl_valid_id(a->offer) || !ctl_valid_id(a->authorization)) {
                fprintf(stderr, "cppo-notifyctl associate: an id is 1 to 256 printable "
                                "characters without spaces\n");
                return CTL_EXIT_USAGE;
        }
        return CTL_EXIT_OK;
}

/* A typo must not create an authorization: it has to be known already. */
static int check_known(const struct assoc_args *a)
{
        struct authorization auth = { 0 };
        struct store *s = NULL;
        int r, rc = ctl_open_store("associate", &a->t, true, &s, NULL);

        if (rc != CTL_EXIT_OK)
                return rc;
        r = store_get_authorization(s, a->authorization, &auth);
        authorization_clear(&auth);
        store_close(s);
        if (r == -ENOENT)
                fprintf(stderr, "cppo-notifyctl associate: no authorization '%s' in the store "
                                "(register it first: cppo-notifyctl authorization add)\n",
                        a->authorization);
        return r == 0 ? CTL_EXIT_OK : r == -ENOENT ? CTL_EXIT_PROBLEM : CTL_EXIT_INTERNAL;
}

int ctl_associate(int argc, char **argv)
{
        struct assoc_args a = { 0 };
        yajl_gen g;
        char *payload;
        int rc = parse_args(argc, argv, &a);

        if (rc != CTL_EXIT_OK) {
                if (rc > 0)
                        associate_usage(stderr);
                return rc > 0 ? rc : CTL_EXIT_OK;
        }
        rc = check_known(&a);
        if (rc != CTL_EXIT_OK)
                return rc;
        g = ctl_event_open("Offer Associated");
        if (g == NULL)
                return CTL_EXIT_INTERNAL;
        event_json_string(g, "resaleAuthorizationId", a.authorization);
        event_json_string(g, "offerId", a.offer);
        payload = ctl_event_close(g);
        if (payload == NULL)
                return CTL_EXIT_INTERNAL;
        rc = ctl_submit("associate", &a.t, payload, a.apply, a.json);
        free(payload);
        return rc;
}
