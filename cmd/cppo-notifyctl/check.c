/* cppo-notifyctl check [--config FILE]: load the configuration and print
 * every error as path:line:col: message (with the source line and a caret),
 * or a summary. Exit 0 valid, 1 invalid, 2 usage. Never prints a secret:
 * the summary names property keys, not their values. */
#include "ctl.h"

#include "cppo/config.h"
#include "cppo/error.h"

#include <getopt.h>
#include <stdio.h>

#define DEFAULT_CONFIG "/etc/cppo-notify/cppo-notify.yaml"

static void summary(const struct config *c)
{
        printf("%s: valid\n", c->path);
        printf("  kafka: %zu topic(s) on %s, group %s, %zu librdkafka propert%s\n",
               c->kafka.n_topics, c->kafka.brokers, c->kafka.group, c->kafka.n_properties / 2,
               c->kafka.n_properties == 2 ? "y" : "ies");
        for (size_t i = 0; i < c->kafka.n_topics; i++)
                printf("    topic %s\n", c->kafka.topics[i]);
        printf("  dead-letter topic: %s\n", c->kafka.dead_letter_topic ? c->kafka.dead_letter_topic : "(off)");
        printf("  store: %s (synchronous=%s)\n", c->store_path,
               c->store_synchronous_normal ? "normal" : "full");
        printf("  holds: offer_link_timeout %llds\n", (long long)c->offer_link_timeout);
        printf("  http: %s\n", c->http_listen);
}

int ctl_check(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        const char *path = DEFAULT_CONFIG;
        struct config_errors errs;
        struct config *c = NULL;
        int o, r;

        optind = 1;
        while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
                if (o == 'c') {
                        path = optarg;
                } else {
                        fprintf(o == 'h' ? stdout : stderr,
                                "usage: cppo-notifyctl check [--config FILE]\n"
                                "Loads the configuration; prints each error as path:line:col: "
                                "message.\nExit: 0 valid, 1 invalid, 2 usage.\n");
                        return o == 'h' ? CTL_EXIT_OK : CTL_EXIT_USAGE;
                }
        }
        if (optind != argc)
                return CTL_EXIT_USAGE;
        r = config_load(&c, path, &errs);
        if (r == -ENOMEM)
                return CTL_EXIT_INTERNAL;
        if (r < 0) {
                config_errors_print(&errs, stdout);
                printf("%zu error%s\n", errs.n, errs.n == 1 ? "" : "s");
                config_errors_clear(&errs);
                return CTL_EXIT_PROBLEM;
        }
        summary(c);
        config_free(c);
        return CTL_EXIT_OK;
}
