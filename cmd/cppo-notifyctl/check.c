/* cppo-notifyctl check: load the configuration and compile every template
 * it can use, check what the daemon will open, report every error. Nothing
 * is created or written. */
#include "ctl.h"

#include "cppo/config.h"
#include "cppo/error.h"
#include "cppo/render.h"
#include "cppo/store.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The unit's StateDirectory= creates it when the service first starts. */
#define DEFAULT_STORE_DIR "/var/lib/cppo-notify"

static void check_usage(FILE *f)
{
        fprintf(f,
                "usage: cppo-notifyctl check [--config FILE] [--state DB]\n"
                "Loads FILE (default %s), its rules directory, every secret file and\n"
                "template it uses, and checks that the store's directory exists and is\n"
                "writable (by the user running check) and the CA files are readable;\n"
                "prints every error as path:line:col: message, exit 1 on any.\n"
                "The store itself (DB, or FILE's store.path when that file exists) is\n"
                "opened read-only and checked for damage (SQLite's quick_check).\n"
                "With --state alone, only the store is checked.\n",
                CONFIG_DEFAULT_PATH);
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
                printf("  %s (%s)\n", c->receivers[i].name,
                       config_receiver_type_name(c->receivers[i].type));
        printf("rules (%zu):\n", c->rule_count);
        for (size_t i = 0; i < c->rule_count; i++)
                printf("  %s -> %zu receiver(s)%s\n", c->rules[i].name, c->rules[i].receivers.count,
                       c->rules[i].cont ? ", continue" : "");
        printf("templates: %zu compiled\n", templates);
}

/* The config loaded: compile its templates; the summary only when
 * everything else (env_ok) passed too. Exit code as for the config. */
static int check_templates(const struct config *cfg, const char *path, bool env_ok)
{
        struct renderer *r = NULL;
        char err[CPPO_ERRLEN];
        int rc = renderer_new(&r, cfg, err, sizeof(err));

        if (rc == 0 && env_ok)
                print_summary(cfg, path, renderer_template_count(r));
        else if (rc == -ENOMEM)
                fprintf(stderr, "cppo-notifyctl check: %s\n", strerror(-rc));
        else
                fprintf(stderr, "%s\n", err);
        renderer_free(r);
        if (rc == -ENOMEM)
                return CTL_EXIT_INTERNAL;
        return rc == 0 && env_ok ? CTL_EXIT_OK : CTL_EXIT_PROBLEM;
}

/* The store's directory, with access(2) only: nothing is created. */
static int check_store_dir(const struct config *cfg, const char *path)
{
        const char *file = cfg->store.path, *slash = strrchr(file, '/');
        char dir[PATH_MAX];
        struct stat st;

        if (snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - file) : 1,
                     slash ? (slash == file ? "/" : file) : ".") >= (int)sizeof dir)
                return -ENAMETOOLONG;
        int missing = stat(dir, &st) != 0 ? errno : 0;
        if (missing == ENOENT && strcmp(dir, DEFAULT_STORE_DIR) == 0) {
                printf("note: store directory \"%s\" does not exist yet; the service creates it "
                       "when it starts\n",
                       dir);
                return 0;
        }
        if (missing != 0 || !S_ISDIR(st.st_mode)) {
                fprintf(stderr, "%s: store directory \"%s\" (of store.path): %s\n", path, dir,
                        missing != 0 ? strerror(missing) : strerror(ENOTDIR));
                return -EINVAL;
        }
        if (access(dir, W_OK | X_OK) != 0 ||
            (access(file, F_OK) == 0 && access(file, R_OK | W_OK) != 0)) {
                fprintf(stderr, "%s: store \"%s\" is not writable: %s\n", path, file,
                        strerror(errno));
                return -EINVAL;
        }
        return 0;
}

/* CA files are read by curl only when a message goes out: read them now. */
static int check_ca_file(const char *ca, const char *what, const char *path)
{
        if (ca == NULL || access(ca, R_OK) == 0)
                return 0;
        fprintf(stderr, "%s: %s ca_file \"%s\" is not readable: %s\n", path, what, ca,
                strerror(errno));
        return -EINVAL;
}

/* What the daemon will open, checked without side effects. Every problem
 * is printed; returns -EINVAL when there was one. */
static int check_environment(const struct config *cfg, const char *path)
{
        char what[300];
        /* PostgreSQL: no directory here; check_store() connects instead */
        int rc = cfg->store.url ? 0 : check_store_dir(cfg, path);

        if (rc == -ENAMETOOLONG) {
                fprintf(stderr, "%s: store.path is too long\n", path);
                rc = -EINVAL;
        }
        if (check_ca_file(cfg->smtp.ca_file, "smtp", path) < 0)
                rc = -EINVAL;
        for (size_t i = 0; i < cfg->receiver_count; i++) {
                snprintf(what, sizeof what, "receiver \"%s\"", cfg->receivers[i].name);
                if (check_ca_file(cfg->receivers[i].ca_file, what, path) < 0)
                        rc = -EINVAL;
        }
        return rc;
}

/* The store file (or PostgreSQL database), opened read-only and checked
 * for damage; read-only because check has no side effects (nothing is
 * created or migrated). Named without any password. */
static int check_store(const char *db, const char *password)
{
        struct store_options so = { .read_only = true,
                                    .busy_timeout_ms = 5000,
                                    .password = password };
        struct store *s = NULL;
        char err[CPPO_ERRLEN] = "", shown[512];
        int v = 0, r = store_open(&s, db, &so, err, sizeof err);

        if (r == 0)
                r = store_integrity(s, err, sizeof err);
        if (r == 0)
                r = store_schema_version(s, &v);
        store_close(s);
        store_target_redact(db, shown, sizeof shown);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", shown, err[0] ? err : error_name(r));
                return r;
        }
        printf("store %s: quick_check ok, schema %d\n", shown, v);
        return 0;
}

int ctl_check(int argc, char **argv)
{
        const char *path = CONFIG_DEFAULT_PATH, *state = NULL;
        bool config_given = false;
        struct config_errors errs;
        struct config *cfg = NULL;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
                        path = argv[++i];
                        config_given = true;
                } else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
                        state = argv[++i];
                } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        check_usage(stdout);
                        return CTL_EXIT_OK;
                } else {
                        check_usage(stderr);
                        return CTL_EXIT_USAGE;
                }
        }
        if (state && !config_given)
                return check_store(state, NULL) == 0 ? CTL_EXIT_OK : CTL_EXIT_PROBLEM;
        config_errors_init(&errs);
        int rc = config_load(&cfg, path, &errs);
        int code = rc == -EINVAL ? CTL_EXIT_PROBLEM : CTL_EXIT_INTERNAL;
        if (rc == 0)
                code = check_templates(cfg, path, check_environment(cfg, path) == 0);
        if (rc == 0 && (state || cfg->store.url || access(cfg->store.path, F_OK) == 0) &&
            check_store(state ? state : config_store_target(cfg), config_store_password(cfg)) < 0)
                code = CTL_EXIT_PROBLEM;
        else if (rc == -EINVAL)
                config_errors_print(&errs, stderr);
        else
                fprintf(stderr, "cppo-notifyctl check: %s\n", strerror(-rc));
        config_free(cfg);
        config_errors_deinit(&errs);
        return code;
}
