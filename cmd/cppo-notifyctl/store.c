/* cppo-notifyctl store stats|prune|vacuum: the store's size per table and
 * what retention will remove; a retention pass run to its end (what the
 * daemon does every retention.interval, in the same small batches); and a
 * one-time compaction. Retention ages come from --config FILE's retention
 * section, else the defaults. stats is read-only and safe while the
 * daemon runs; prune is safe too (each batch is a short transaction);
 * vacuum needs the daemon stopped. Exit 0 ok, 2 usage, 3 store failure. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/clock.h"
#include "cppo/config.h"
#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/retention.h"
#include "cppo/store.h"
#include "cppo/timefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#define PRUNE_STEPS_MAX 10000000 /* a pass of 500-row batches: 5e9 rows */

struct store_args {
        struct ctl_target t;
        const char *verb;
        bool json, dry_run;
        int64_t now;
};

static const char usage_text[] =
    "usage: cppo-notifyctl store stats [--config FILE | --state DB] [--json]\n"
    "       cppo-notifyctl store prune [--config FILE | --state DB] [--dry-run]\n"
    "                                  [--as-of TIME]\n"
    "       cppo-notifyctl store vacuum [--config FILE | --state DB]\n"
    "stats: rows and bytes of each table, and what retention will remove now.\n"
    "prune: removes what is older than its retention age (retention: in FILE, or\n"
    "the defaults), in small batches, then gives the space back; --as-of TIME\n"
    "(RFC 3339) prunes as if it were then; --dry-run only counts.\n"
    "vacuum: rewrites the store once, compact (stop the daemon first); a store\n"
    "created before retention existed needs it once for prune to shrink the file.\n";

/* The retention ages: FILE's, or the defaults of a config with only the
 * keys every config must have. */
static int load_retention(const struct store_args *a, struct config **out)
{
        static const char defaults[] = "kafka: {brokers: none, topics: [none]}\nreceivers: {}\n";
        struct config_errors errs;
        int r;

        config_errors_init(&errs);
        r = a->t.config ? config_load_for(out, a->t.config, CONFIG_NEED_STORE, &errs)
                        : config_load_buffer_for(out, "(defaults)", defaults, sizeof defaults - 1,
                                                 CONFIG_NEED_STORE, &errs);
        if (r < 0)
                config_errors_print(&errs, stderr);
        config_errors_deinit(&errs);
        return r < 0 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
}

static const char *human_bytes(int64_t b, char *buf, size_t len)
{
        static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double)b;
        size_t u = 0;

        if (b < 0)
                return "-";
        while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) {
                v /= 1024;
                u++;
        }
        snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
        return buf;
}

static int on_table(void *ctx, const struct store_table_stat *t)
{
        yajl_gen g = ctx;
        char b[32];

        if (g == NULL) {
                printf("%-22s %10lld %12s\n", t->table, (long long)t->rows,
                       human_bytes(t->bytes, b, sizeof b));
                return 0;
        }
        yajl_gen_map_open(g);
        json_string(g, "table", t->table);
        json_int(g, "rows", t->rows);
        json_int(g, "bytes", t->bytes);
        yajl_gen_map_close(g);
        return 0;
}

/* Each kind: kept for how long, and how many rows a pass would remove. */
static int print_retention(struct store *s, const struct config *c, int64_t now, yajl_gen g)
{
        struct retention_pass p;
        int r = 0;

        retention_pass_start(&p, c, now);
        if (g == NULL)
                printf("\n%-22s %10s %12s\n", "RETENTION", "KEPT FOR", "REMOVABLE");
        for (int k = 0; r == 0 && k < STORE_PRUNE_N; k++) {
                int64_t n = 0, age = retention_age(c, (enum store_prune)k);
                char kept[32];

                if (p.cutoff[k] > 0)
                        r = store_prune_count(s, (enum store_prune)k, p.cutoff[k], &n);
                snprintf(kept, sizeof kept, age > 0 ? "%lldd" : "for ever",
                         (long long)(age / 86400));
                if (r == 0 && g == NULL)
                        printf("%-22s %10s %12lld\n", store_prune_name((enum store_prune)k), kept,
                               (long long)n);
                if (r == 0 && g != NULL) {
                        yajl_gen_map_open(g);
                        json_string(g, "kind", store_prune_name((enum store_prune)k));
                        json_int(g, "kept_for_s", age);
                        json_int(g, "removable", n);
                        yajl_gen_map_close(g);
                }
        }
        return r;
}

static int stats(struct store *s, const struct config *c, const struct store_args *a)
{
        yajl_gen g = a->json ? json_new() : NULL;
        int r;

        if (a->json && g == NULL)
                return -ENOMEM;
        if (g) {
                yajl_gen_map_open(g);
                json_str(g, "tables");
                yajl_gen_array_open(g);
        } else {
                printf("%-22s %10s %12s\n", "TABLE", "ROWS", "BYTES");
        }
        r = store_table_stats(s, on_table, g);
        if (g) {
                yajl_gen_array_close(g);
                json_str(g, "retention");
                yajl_gen_array_open(g);
        }
        if (r == 0)
                r = print_retention(s, c, a->now, g);
        if (g) {
                yajl_gen_array_close(g);
                yajl_gen_map_close(g);
                if (r == 0)
                        r = json_print(g, stdout);
        }
        json_free(g);
        return r;
}

static int prune(struct store *s, const struct config *c, const struct store_args *a)
{
        struct retention_pass p;
        int r = 1;

        if (a->dry_run)
                return print_retention(s, c, a->now, NULL);
        retention_pass_start(&p, c, a->now);
        for (long i = 0; r > 0 && i < PRUNE_STEPS_MAX; i++)
                r = retention_pass_step(&p, s);
        if (r < 0)
                return r;
        for (int k = 0; k < STORE_PRUNE_N; k++)
                printf("%s: %lld removed\n", store_prune_name((enum store_prune)k),
                       (long long)p.removed[k]);
        printf("pages given back: %lld\n", (long long)p.reclaimed_pages);
        return 0;
}

static int parse(int argc, char **argv, struct store_args *a)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "dry-run", no_argument, NULL, 'n' },
                { "as-of", required_argument, NULL, 'a' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int c;

        optind = 1;
        while ((c = ctl_getopt(argc, argv, "jna:h", opts, &a->t)) != -1) {
                switch (c) {
                case 'j': a->json = true; break;
                case 'n': a->dry_run = true; break;
                case 'a':
                        if (timefmt_parse(optarg, &a->now) < 0)
                                return CTL_EXIT_USAGE;
                        break;
                case 'h': fputs(usage_text, stdout); return -1;
                default: return CTL_EXIT_USAGE;
                }
        }
        if (optind + 1 != argc)
                return CTL_EXIT_USAGE;
        a->verb = argv[optind];
        if (strcmp(a->verb, "stats") != 0 && strcmp(a->verb, "prune") != 0 &&
            strcmp(a->verb, "vacuum") != 0)
                return CTL_EXIT_USAGE;
        if ((a->json && strcmp(a->verb, "stats") != 0) ||
            ((a->dry_run) && strcmp(a->verb, "prune") != 0))
                return CTL_EXIT_USAGE;
        return CTL_EXIT_OK;
}

int ctl_store(int argc, char **argv)
{
        struct store_args a = { .now = clock_wall_s() };
        struct config *c = NULL;
        struct store *s = NULL;
        int rc = parse(argc, argv, &a);

        if (rc != CTL_EXIT_OK) {
                if (rc > 0)
                        fputs(usage_text, stderr);
                return rc > 0 ? rc : CTL_EXIT_OK;
        }
        rc = load_retention(&a, &c);
        if (rc == CTL_EXIT_OK)
                rc = ctl_open_store("store", &a.t, strcmp(a.verb, "stats") == 0, &s, NULL);
        if (rc == CTL_EXIT_OK) {
                int r = strcmp(a.verb, "stats") == 0   ? stats(s, c, &a)
                        : strcmp(a.verb, "prune") == 0 ? prune(s, c, &a)
                                                       : store_compact(s);

                if (r < 0) {
                        char why[256];

                        store_last_error(s, why, sizeof why);
                        fprintf(stderr, "cppo-notifyctl store %s: %s%s%s\n", a.verb, error_name(r),
                                *why ? ": " : "", why);
                        rc = CTL_EXIT_INTERNAL;
                }
        }
        store_close(s);
        config_free(c);
        return rc;
}
