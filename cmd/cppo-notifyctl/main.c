/* cppo-notifyctl — administration CLI for cppo-notify.
 *
 * A thin dispatcher: the first argument names a subcommand from the table
 * below; the subcommand parses the rest. */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

static const struct ctl_command commands[] = {
        /* One row per subcommand, one per line. */
        { "check", "validate the configuration and rules", ctl_check },
        { "deliveries", "list, show and retry deliveries", ctl_deliveries },
        { "explain", "decode events and show what they mean", ctl_explain },
        { "rejected", "list inputs that could not be decoded, and why", ctl_rejected },
        { "replay", "run event files through the pipeline into the store", ctl_replay },
        { "authorization", "register, list, show, withdraw authorizations", ctl_authorization },
        { "associate", "link an offer to a resale authorization by hand", ctl_associate },
        { "holds", "list partner offers waiting for their authorization", ctl_holds },
        { "unlink", "return a wrongly linked offer to the holds", ctl_unlink },
        { "links", "show an offer's link history", ctl_links },
        { "send-test", "send a sample notification to one receiver", ctl_send_test },
        { "receivers", "show each receiver's health and queue", ctl_receivers },
        { "aws", "check access to the AWS Marketplace Catalog API", ctl_aws },
        { "store", "show the store's size, prune what retention removes", ctl_store },
        { NULL, NULL, NULL },
};

static void usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl COMMAND [ARGS...]\n\ncommands:\n");
        for (const struct ctl_command *c = commands; c->name; c++)
                fprintf(out, "  %-14s %s\n", c->name, c->summary);
        fprintf(out, "\nRun 'cppo-notifyctl COMMAND --help' for a command's options.\n"
                     "Exit codes: 0 ok, 1 problem found, 2 usage error, 3 internal failure.\n");
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return CTL_EXIT_USAGE;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
            strcmp(argv[1], "help") == 0) {
                usage(stdout);
                return CTL_EXIT_OK;
        }
        if (strcmp(argv[1], "--version") == 0) {
                printf("cppo-notifyctl %s\n", CPPO_VERSION);
                return CTL_EXIT_OK;
        }
        for (const struct ctl_command *c = commands; c->name; c++)
                if (strcmp(argv[1], c->name) == 0)
                        return c->run(argc - 1, argv + 1);
        fprintf(stderr, "cppo-notifyctl: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return CTL_EXIT_USAGE;
}
