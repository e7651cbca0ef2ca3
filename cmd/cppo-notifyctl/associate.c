/* cppo-notifyctl associate --offer ID --authorization ID (--config FILE |
 * --state DB) [--reason TEXT] [--force] [--apply] [--json]: links a
 * partner's offer to a resale authorization by hand (link "manual":
 * stronger than an inference, weaker than a registration or an agreement
 * naming both), or moves a wrong link onto the right authorization. It
 * writes an "Offer Associated" event (with who ran it and why) to the
 * store's inbox, which the daemon applies on its next batch; a held offer
 * is then released with a late partner_offer_extended, a moved one gives a
 * link_corrected to both authorizations' receivers when people had been
 * told. --apply runs the pipeline at once (only when no daemon runs on the
 * store).
 *
 * Refused (exit 1, one line naming the mismatch) unless --force: an
 * authorization the store does not know (never forced: a typo must not
 * create one), an offer the store has never seen (a typo must not create a
 * phantom link that would hold the real offer), an authorization whose
 * product, reseller, buyers or expiry contradict the offer or that is
 * withdrawn, and moving a link an agreement event or a registration made.
 * Exit 0, 1 refused, 2 usage, 3 store failure. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/correlate.h"
#include "cppo/clock.h"
#include "cppo/error.h"
#include "cppo/json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct assoc_args {
        struct ctl_target t;
        const char *offer, *authorization, *reason;
        bool apply, json, force;
};

static void associate_usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl associate --offer ID --authorization ID\n"
                     "           (--config FILE | --state DB) [--reason TEXT] [--force]\n"
                     "           [--apply] [--json]\n"
                     "Links an offer to a resale authorization by hand, or moves a wrong link\n"
                     "(recorded with who, when and why; people already told hear of the\n"
                     "correction). Refuses an unknown offer, an authorization whose product,\n"
                     "reseller, buyers or expiry contradict the offer or that is withdrawn, and\n"
                     "moving a link an agreement event or a registration made, unless --force.\n"
                     "The daemon applies it on its next batch; --apply applies it now (only when\n"
                     "no daemon is running).\n"
                     "Exit: 0 ok, 1 refused, 2 usage, 3 store failure.\n");
}

static int parse_args(int argc, char **argv, struct assoc_args *a)
{
        static const struct option opts[] = {
                { "offer", required_argument, NULL, 'o' },
                { "authorization", required_argument, NULL, 'a' },
                { "reason", required_argument, NULL, 'r' },
                { "force", no_argument, NULL, 'f' },
                { "apply", no_argument, NULL, 'A' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int o;

        optind = 1;
        while ((o = ctl_getopt(argc, argv, "o:a:r:fAjh", opts, &a->t)) != -1) {
                switch (o) {
                case 'o': a->offer = optarg; break;
                case 'a': a->authorization = optarg; break;
                case 'r': a->reason = optarg; break;
                case 'f': a->force = true; break;
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
        if (a->reason && !ctl_valid_text(a->reason)) {
                fprintf(stderr, "cppo-notifyctl associate: --reason is 1 to 1024 bytes of "
                                "text without control characters\n");
                return CTL_EXIT_USAGE;
        }
        return CTL_EXIT_OK;
}

/* Why the link must not be made as asked, into why; false when it may. */
static bool refused(const struct assoc_args *a, const struct authorization *auth,
                    const struct offer *o, bool offer_known, char *why, size_t len)
{
        char fit[CPPO_ERRLEN];

        if (!offer_known) {
                snprintf(why, len,
                         "no offer '%s' in the store (a typo would create a link "
                         "that holds the real offer)",
                         a->offer);
                return true;
        }
        if (!corr_offer_fits(auth, o, clock_wall_s(), fit, sizeof fit)) {
                snprintf(why, len, "offer '%s' does not fit authorization '%s': %s", a->offer,
                         a->authorization, fit);
                return true;
        }
        if (o->authorization_id && strcmp(o->authorization_id, a->authorization) != 0 &&
            o->link > LINK_MANUAL) {
                snprintf(why, len,
                         "offer '%s' is linked to '%s' by %s; moving it overrides "
                         "that",
                         a->offer, o->authorization_id, link_strength_by(o->link));
                return true;
        }
        return false;
}

/* A typo must not create an authorization: it has to be known already.
 * Then the offer is checked against it (refused()). */
static int check(const struct assoc_args *a)
{
        struct authorization auth = { 0 };
        struct offer o = { 0 };
        struct store *s = NULL;
        char why[2 * CPPO_ERRLEN];
        int r, ro = -ENOENT, rc = ctl_open_store("associate", &a->t, true, &s, NULL);

        if (rc != CTL_EXIT_OK)
                return rc;
        r = store_get_authorization(s, a->authorization, &auth);
        if (r == 0)
                ro = store_get_offer(s, a->offer, &o);
        store_close(s);
        if (r == -ENOENT)
                fprintf(stderr,
                        "cppo-notifyctl associate: no authorization '%s' in the store "
                        "(register it first: cppo-notifyctl authorization add)\n",
                        a->authorization);
        if (r == 0 && ro != 0 && ro != -ENOENT)
                r = ro;
        rc = r == 0 ? CTL_EXIT_OK : r == -ENOENT ? CTL_EXIT_PROBLEM : CTL_EXIT_INTERNAL;
        if (rc == CTL_EXIT_OK && refused(a, &auth, &o, ro == 0, why, sizeof why)) {
                fprintf(stderr, "cppo-notifyctl associate: %s%s\n", why,
                        a->force ? " (forced)" : "; --force links it anyway");
                rc = a->force ? CTL_EXIT_OK : CTL_EXIT_PROBLEM;
        }
        authorization_clear(&auth);
        offer_clear(&o);
        return rc;
}

int ctl_associate(int argc, char **argv)
{
        struct assoc_args a = { 0 };
        yajl_gen g;
        int rc = parse_args(argc, argv, &a);

        if (rc != CTL_EXIT_OK) {
                if (rc > 0)
                        associate_usage(stderr);
                return rc > 0 ? rc : CTL_EXIT_OK;
        }
        rc = check(&a);
        if (rc != CTL_EXIT_OK)
                return rc;
        g = ctl_event_open("Offer Associated");
        if (g == NULL)
                return CTL_EXIT_INTERNAL;
        json_string(g, "resaleAuthorizationId", a.authorization);
        json_string(g, "offerId", a.offer);
        json_string(g, "actor", ctl_actor());
        json_string(g, "reason", a.reason);
        json_bool(g, "force", a.force);
        return ctl_submit_event("associate", &a.t, g, a.apply, a.json);
}
