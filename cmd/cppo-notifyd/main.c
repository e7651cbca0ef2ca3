/* cppo-notifyd — the cppo-notify daemon.
 *
 * Thin main: parse arguments, set up logging, hand over to the run loop. */
#include "cppo/log.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyd --config FILE [--log-level LEVEL]\n"
                     "       cppo-notifyd --version\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "log-level", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        const char *config = NULL;
        enum log_level level;
        int c;

        while ((c = getopt_long(argc, argv, "c:l:hV", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case 'l':
                        if (log_level_parse(optarg, &level) < 0) {
                                fprintf(stderr, "cppo-notifyd: invalid log level '%s'\n", optarg);
                                return 2;
                        }
                        log_set_level(level);
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("cppo-notifyd %s\n", CPPO_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (config == NULL) {
                usage(stderr);
                return 2;
        }
        log_error("the run loop is not built yet config=%s", config);
        return 1;
}
