/* cppo-notifyctl check: load the configuration and compile every template
 * it can use, report every error. */
#include "ctl.h"

#include "cppo/config.h"
#include "cppo/error.h"
#include "cppo/render.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void check_usage(FILE *f)
{
        fprintf(f,
                "usage: cppo-notifyctl check [--config FILE]\n"
                "Loads FILE (default %s), its rules directory and every template\n"
                "it uses; prints every error as path:line:col: message, exit 1 on any.\n",
                CONFIG_DEFAULT_PATH);
}

static const char *receiver_detail(const struct config_receiver *r)
{
        switch (r->type) {
        case CONFIG_RECEIVER_EMAIL: return "email";
        case CONFIG_RECEIVER_SLACK: return "slack";
        default: return "file";
        }
}

/* Names and counts only: secrets and kafka properties are never printed. */
static void print_summary(const struct config *c, const char *path, size_t templates)
{
        printf("%s: ok\n", path);
        printf("topics:");
        for (size_t i = 0; i < c->kafka.topics.count; i++)
                printf(" %s", c->kafka.topics.items[i]);
        printf("\nreceivers (%zu):\n", c->receiver_count);
        for (size_t i = 0; i < c->receiver_count; i++)
                printf("  %s (%s)\n", c->receivers[i].name, receiver_detail(&c->receivers[i]));
        printf("rules (%zu):\n", c->rule_count);
        for (size_t i = 0; i < c->rule_count; i++)
                printf("  %s -> %zu receiver(s)%s\n", c->rules[i].name, c->rules[i].receivers.count,
                       c->rules[i].cont ? ", continue" : "");
        printf("templates: %zu compiled\n", templates);
}

/* The config loaded: compile its templates. Exit code as for the config. */
static int check_templates(const struct config *cfg, const char *path)
{
        struct renderer *r = NULL;
        char err[CPPO_ERRLEN];
        int rc = renderer_new(&r, cfg, err, sizeof(err));

        if (rc == 0)
                print_summary(cfg, path, renderer_template_count(r));
        else if (rc == -ENOMEM)
                fprintf(stderr, "cppo-notifyctl check: %s\n", strerror(-rc));
        else
                fprintf(stderr, "%s\n", err);
        renderer_free(r);
        return rc == 0 ? CTL_EXIT_OK : rc == -ENOMEM ? CTL_EXIT_INTERNAL : CTL_EXIT_PROBLEM;
}

int ctl_check(int argc, char **argv)
{
        const char *path = CONFIG_DEFAULT_PATH;
        struct config_errors errs;
        struct config *cfg = NULL;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
                        path = argv[++i];
                } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        check_usage(stdout);
                        return CTL_EXIT_OK;
                } else {
                        check_usage(stderr);
                        return CTL_EXIT_USAGE;
                }
        }
        config_errors_init(&errs);
        int rc = config_load(&cfg, path, &errs);
        int code = rc == -EINVAL ? CTL_EXIT_PROBLEM : CTL_EXIT_INTERNAL;
        if (rc == 0)
                code = check_templates(cfg, path);
        else if (rc == -EINVAL)
                config_errors_print(&errs, stderr);
        else
                fprintf(stderr, "cppo-notifyctl check: %s\n", strerror(-rc));
        config_free(cfg);
        config_errors_deinit(&errs);
        return code;
}
