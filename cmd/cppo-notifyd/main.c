/* cppo-notifyd — the cppo-notify daemon.
 *
 * Thin main: parse arguments, load the configuration (refusing to start on
 * any error, all of them listed), set up logging, run the loop. */
#include "daemon.h"

#include "cppo/config.h"
#include "cppo/error.h"
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
        const char *path = NULL, *level_arg = NULL;
        struct config_errors errs;
        struct config *cfg = NULL;
        enum log_level level;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:l:hV", opts, NULL)) != -1) {
                switch (c) {
                case 'c': path = optarg; break;
                case 'l': level_arg = optarg; break;
                case 'h': usage(stdout); return 0;
                case 'V': printf("cppo-notifyd %s\n", CPPO_VERSION); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (path == NULL || optind != argc) {
                usage(stderr);
                return 2;
        }
        config_errors_init(&errs);
        r = config_load(&cfg, path, &errs);
        if (r < 0) {
                config_errors_print(&errs, stderr);
                config_errors_deinit(&errs);
                log_error("not starting: the configuration has errors path=%s", path);
                return 1;
        }
        config_errors_deinit(&errs);
        if (log_level_parse(level_arg ? level_arg : cfg->log_level, &level) < 0) {
                fprintf(stderr, "cppo-notifyd: invalid log level '%s'\n", level_arg);
                config_free(cfg);
                return 2;
        }
        log_set_level(level);
        /* The daemon owns cfg from here on: it frees or replaces it. */
        return daemon_run(cfg, &(struct daemon_options){ .config_path = path,
                                                         .log_level_fixed = level_arg != NULL });
}
