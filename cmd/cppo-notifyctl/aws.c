/* cppo-notifyctl aws sync [--dry-run | --apply] [--json] --config FILE
 * [--state DB]: one pass of the daemon's AWS Catalog sync (doc/aws.md)
 * with the config's aws section: lists the resale authorizations new or
 * changed since the last sync (all on the first) and queues them in the
 * store inbox, for the daemon's next batch (--apply: applied now, when no
 * daemon runs). --dry-run writes nothing and says what would change.
 *
 * cppo-notifyctl aws check [--endpoint URL] [--region R] [--profile P]
 * [--json]: can this machine use the AWS Marketplace Catalog API as
 * cppo-notify will? Says where the credentials come from (never what they
 * are), then makes one call per API it uses — ListEntities with
 * MaxResults 1, DescribeEntity and DescribeChangeSet of an id that does
 * not exist (ResourceNotFound means the call is permitted, AccessDenied
 * that it is not) — and prints the minimal IAM policy when a permission is
 * missing. Caller identity is not shown: it needs STS, another service
 * and another permission (doc/aws.md). Exit 0 all permitted, 1 a problem
 * (no credentials, rejected credentials, a missing permission, the API
 * unreachable), 2 usage, 3 internal failure. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/aws.h"
#include "cppo/aws_sync.h"
#include "cppo/clock.h"
#include "cppo/config.h"
#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/timefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>

/* An id of the right shape that no catalog holds. */
#define PROBE_ID "cppo-notify-permission-probe"

struct check_args {
        struct aws_client_opts opts;
        bool json;
};

enum probe_result { PROBE_PERMITTED, PROBE_MISSING, PROBE_REJECTED, PROBE_FAILED };

static const char *const result_names[] = {
        [PROBE_PERMITTED] = "permitted",
        [PROBE_MISSING] = "missing",
        [PROBE_REJECTED] = "credentials rejected",
        [PROBE_FAILED] = "failed",
};

struct probe {
        enum aws_op op;
        enum probe_result result;
        char detail[CPPO_ERRLEN];
};

/* The policy cppo-notify needs: read-only, these three actions. */
static const char policy[] = "{\n"
                             "  \"Version\": \"2012-10-17\",\n"
                             "  \"Statement\": [\n"
                             "    {\n"
                             "      \"Sid\": \"CppoNotifyCatalogRead\",\n"
                             "      \"Effect\": \"Allow\",\n"
                             "      \"Action\": [\n"
                             "        \"aws-marketplace:ListEntities\",\n"
                             "        \"aws-marketplace:DescribeEntity\",\n"
                             "        \"aws-marketplace:DescribeChangeSet\"\n"
                             "      ],\n"
                             "      \"Resource\": \"*\"\n"
                             "    }\n"
                             "  ]\n"
                             "}\n";

static void check_usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl aws check [--endpoint URL] [--region REGION] "
                     "[--profile NAME] [--json]\n");
}

static int parse_check(int argc, char **argv, struct check_args *a)
{
        static const struct option longopts[] = {
                { "endpoint", required_argument, NULL, 'e' },
                { "region", required_argument, NULL, 'r' },
                { "profile", required_argument, NULL, 'p' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 'e': a->opts.endpoint = optarg; break;
                case 'r': a->opts.region = optarg; break;
                case 'p': a->opts.creds.profile = optarg; break;
                case 'j': a->json = true; break;
                case 'h': check_usage(stdout); return -1;
                default: return CTL_EXIT_USAGE;
                }
        }
        return optind == argc ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}

/* One call; the answer says whether the permission is there. */
static void run_probe(struct aws_client *c, struct probe *p)
{
        struct aws_list_page *page = NULL;
        struct aws_change_set *cs = NULL;
        struct aws_resale_auth *ra = NULL;
        int rc = -ENOMEM;
        switch (p->op) {
        case AWS_OP_LIST_ENTITIES:
                page = malloc(sizeof *page);
                if (page != NULL)
                        rc = aws_list_resale_authorizations(c, NULL, NULL, 1, page, p->detail,
                                                            sizeof p->detail);
                break;
        case AWS_OP_DESCRIBE_ENTITY:
                ra = malloc(sizeof *ra);
                if (ra != NULL)
                        rc = aws_describe_resale_authorization(c, PROBE_ID, ra, p->detail,
                                                               sizeof p->detail);
                break;
        default:
                cs = malloc(sizeof *cs);
                if (cs != NULL)
                        rc = aws_describe_change_set(c, PROBE_ID, cs, p->detail, sizeof p->detail);
                break;
        }
        free(page);
        free(ra);
        free(cs);
        p->result = rc == 0 || rc == -ENOENT ? PROBE_PERMITTED
                    : rc == -EACCES          ? PROBE_MISSING
                    : rc == -EPERM           ? PROBE_REJECTED
                                             : PROBE_FAILED;
        if (p->result == PROBE_PERMITTED)
                p->detail[0] = '\0';
}

/* What to do about rejected credentials, by where they came from. */
static const char *rejected_fix(const char *source)
{
        if (strcmp(source, "environment") == 0)
                return "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN "
                       "for temporary keys: it expires) in the environment cppo-notify runs in";
        if (strncmp(source, "shared file", 11) == 0)
                return "check aws_access_key_id and aws_secret_access_key (and "
                       "aws_session_token) of that profile in ~/.aws/credentials or the file "
                       "AWS_SHARED_CREDENTIALS_FILE names";
        return "the temporary credentials were refused: check the task or instance role, and "
               "that the clock is right";
}

static void print_text(const struct aws_creds *cr, const char *cred_err, const char *endpoint,
                       const struct probe *probes, size_t n, bool missing, bool rejected)
{
        if (cr == NULL) {
                printf("credentials: none usable\n  %s\n  fix: set AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY, a profile in ~/.aws/credentials (--profile), "
                       "or run with a container or instance role\n",
                       cred_err);
                return;
        }
        char exp[TIMEFMT_LEN] = "never";
        if (aws_creds_expiration(cr) != 0)
                timefmt_format(aws_creds_expiration(cr), exp);
        printf("credentials: %s (access key id %s, expires %s)\n", aws_creds_source(cr),
               aws_creds_access_key_id(cr), exp);
        printf("endpoint: %s\ncaller identity: not checked (needs sts:GetCallerIdentity, another "
               "service)\n",
               endpoint);
        for (size_t i = 0; i < n; i++)
                printf("aws-marketplace:%-18s %s%s%s\n", aws_op_name(probes[i].op),
                       result_names[probes[i].result], probes[i].detail[0] ? ": " : "",
                       probes[i].detail);
        if (rejected)
                printf("fix: AWS refused these credentials; %s\n",
                       rejected_fix(aws_creds_source(cr)));
        if (missing)
                printf("\nA permission is missing. The minimal IAM policy for cppo-notify:\n\n%s",
                       policy);
}

static int print_json(const struct aws_creds *cr, const char *cred_err, const char *endpoint,
                      const struct probe *probes, size_t n, bool missing, bool ok)
{
        yajl_gen g = json_new();
        if (g == NULL)
                return -ENOMEM;
        yajl_gen_map_open(g);
        json_bool(g, "ok", ok);
        json_string(g, "endpoint", endpoint);
        json_string(g, "credentials_source", cr ? aws_creds_source(cr) : NULL);
        json_string(g, "access_key_id", cr ? aws_creds_access_key_id(cr) : NULL);
        json_string(g, "credentials_error", cr ? NULL : cred_err);
        yajl_gen_string(g, (const unsigned char *)"permissions", 11);
        yajl_gen_map_open(g);
        for (size_t i = 0; i < n; i++) {
                const char *name = aws_op_name(probes[i].op);
                yajl_gen_string(g, (const unsigned char *)name, strlen(name));
                yajl_gen_map_open(g);
                json_string(g, "result", result_names[probes[i].result]);
                json_string(g, "detail", probes[i].detail[0] ? probes[i].detail : NULL);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
        json_string(g, "iam_policy", missing ? policy : NULL);
        yajl_gen_map_close(g);
        int rc = json_print(g, stdout);
        yajl_gen_free(g);
        return rc;
}

static int aws_check(int argc, char **argv)
{
        struct check_args a = { 0 };
        struct aws_client *c = NULL;
        struct aws_creds *cr = NULL;
        struct probe probes[AWS_OP_COUNT];
        char err[CPPO_ERRLEN] = "", endpoint[512];
        bool missing = false, rejected = false, failed = false;
        size_t n = 0;
        int rc = parse_check(argc, argv, &a);
        if (rc != CTL_EXIT_OK) {
                if (rc > 0)
                        check_usage(stderr);
                return rc > 0 ? rc : CTL_EXIT_OK;
        }
        a.opts.max_attempts = 3; /* a check should answer within seconds */
        if (aws_client_new(&c, &a.opts, err, sizeof err) < 0) {
                fprintf(stderr, "cppo-notifyctl aws check: %s\n", err);
                return CTL_EXIT_USAGE;
        }
        if (a.opts.endpoint != NULL)
                (void)error_set(endpoint, sizeof endpoint, 0, "%s", a.opts.endpoint);
        else
                (void)error_set(endpoint, sizeof endpoint, 0,
                                "https://catalog.marketplace.%s.amazonaws.com",
                                a.opts.region ? a.opts.region : "us-east-1");
        if (aws_creds_resolve(&cr, &a.opts.creds, err, sizeof err) == 0) {
                /* Stop at the first rejection: every call would say the same. */
                for (; n < AWS_OP_COUNT && !rejected; n++) {
                        probes[n] = (struct probe){ .op = (enum aws_op)n };
                        run_probe(c, &probes[n]);
                        missing |= probes[n].result == PROBE_MISSING;
                        rejected |= probes[n].result == PROBE_REJECTED;
                        failed |= probes[n].result == PROBE_FAILED;
                }
        }
        bool ok = cr != NULL && !missing && !rejected && !failed;
        rc = a.json ? print_json(cr, err, endpoint, probes, n, missing, ok)
                    : (print_text(cr, err, endpoint, probes, n, missing, rejected), 0);
        aws_creds_free(cr);
        aws_client_free(c);
        if (rc < 0)
                return CTL_EXIT_INTERNAL;
        return ok ? CTL_EXIT_OK : CTL_EXIT_PROBLEM;
}

/* ---- aws sync ---- */

struct sync_args {
        struct ctl_target t;
        bool dry_run, apply, json;
        unsigned long fresh, changed;
};

static void sync_usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl aws sync [--dry-run | --apply] [--json] --config FILE "
                     "[--state DB]\n");
}

static int parse_sync(int argc, char **argv, struct sync_args *a)
{
        static const struct option longopts[] = {
                { "dry-run", no_argument, NULL, 'n' },
                { "apply", no_argument, NULL, 'a' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int c;
        optind = 1;
        while ((c = ctl_getopt(argc, argv, "", longopts, &a->t)) != -1) {
                switch (c) {
                case 'n': a->dry_run = true; break;
                case 'a': a->apply = true; break;
                case 'j': a->json = true; break;
                case 'h': sync_usage(stdout); return -1;
                default: return CTL_EXIT_USAGE;
                }
        }
        if (optind != argc || a->t.config == NULL || (a->dry_run && a->apply))
                return CTL_EXIT_USAGE;
        return CTL_EXIT_OK;
}

/* aws_sync_seen_fn: one line (or JSON line) per new or changed authorization. */
static void sync_seen(void *ctx, const struct aws_resale_auth *ra, bool is_new)
{
        struct sync_args *a = ctx;
        char ends[TIMEFMT_LEN] = "-";

        *(is_new ? &a->fresh : &a->changed) += 1;
        if (ra->end_date)
                timefmt_format(ra->end_date, ends);
        if (!a->json) {
                printf("%-8s %-28s %-10s %-20s %-13s ends %s  %s\n", is_new ? "new" : "changed",
                       ra->id, aws_ra_status_name(ra->status),
                       ra->product_id[0] ? ra->product_id : "-",
                       ra->reseller_account_id[0] ? ra->reseller_account_id : "-", ends, ra->name);
                return;
        }
        yajl_gen g = json_new();
        if (g == NULL)
                return;
        yajl_gen_map_open(g);
        json_string(g, "change", is_new ? "new" : "changed");
        json_string(g, "id", ra->id);
        json_string(g, "name", ra->name);
        json_string(g, "status", aws_ra_status_name(ra->status));
        json_string(g, "product_id", ra->product_id);
        json_string(g, "reseller_account_id", ra->reseller_account_id);
        json_string(g, "expires_at", ra->end_date ? ends : NULL);
        yajl_gen_map_close(g);
        (void)json_print(g, stdout); /* a closed stdout: nothing to tell */
        yajl_gen_free(g);
}

/* The config's aws section (the store commands do not resolve it). */
static int load_aws_config(const char *path, struct config **out)
{
        struct config_errors errs;
        int r;

        config_errors_init(&errs);
        r = config_load_for(out, path, CONFIG_NEED_STORE | CONFIG_NEED_AWS, &errs);
        if (r == -EINVAL)
                config_errors_print(&errs, stderr);
        config_errors_deinit(&errs);
        if (r < 0)
                fprintf(stderr, "cppo-notifyctl aws sync: cannot load %s%s\n", path,
                        r == -EINVAL ? "" : ": out of memory");
        return r < 0 ? CTL_EXIT_PROBLEM : CTL_EXIT_OK;
}

static void sync_summary(const struct sync_args *a, const struct aws_sync_stats *st,
                         struct aws_client *c)
{
        struct aws_op_stats list, desc;

        if (a->json)
                return;
        aws_client_stats(c, AWS_OP_LIST_ENTITIES, &list);
        aws_client_stats(c, AWS_OP_DESCRIBE_ENTITY, &desc);
        printf("%lu new, %lu changed (%lu listed, %lu unchanged; API calls: %lu ListEntities, "
               "%lu DescribeEntity, %lu throttled)\n",
               a->fresh, a->changed, st->listed, st->unchanged, list.requests, desc.requests,
               list.throttled + desc.throttled);
        if (a->dry_run)
                printf("dry run: nothing written\n");
        else if (!a->apply)
                printf("queued %lu inbox entr%s: the daemon applies them on its next batch\n"
                       "(with no daemon running, apply them now with --apply)\n",
                       st->queued, st->queued == 1 ? "y" : "ies");
}

static int aws_sync_cmd(int argc, char **argv)
{
        struct sync_args a = { 0 };
        struct config *cfg = NULL;
        struct aws_client *c = NULL;
        struct store *s = NULL;
        struct pipeline_options po;
        struct aws_sync_stats st;
        char err[CPPO_ERRLEN] = "";
        int r, rc = parse_sync(argc, argv, &a);

        if (rc != CTL_EXIT_OK) {
                if (rc > 0)
                        sync_usage(stderr);
                return rc > 0 ? rc : CTL_EXIT_OK;
        }
        rc = load_aws_config(a.t.config, &cfg);
        if (rc == CTL_EXIT_OK && !cfg->aws.present)
                fprintf(stderr,
                        "cppo-notifyctl aws sync: %s has no aws section; using its "
                        "defaults\n",
                        a.t.config);
        struct aws_client_opts o = {
                .region = cfg ? cfg->aws.region : NULL,
                .endpoint = cfg ? cfg->aws.endpoint : NULL,
                .creds = { .profile = cfg ? cfg->aws.profile : NULL },
        };
        if (rc == CTL_EXIT_OK && aws_client_new(&c, &o, err, sizeof err) < 0) {
                fprintf(stderr, "cppo-notifyctl aws sync: %s\n", err);
                rc = CTL_EXIT_PROBLEM;
        }
        if (rc == CTL_EXIT_OK)
                rc = ctl_open_store("aws sync", &a.t, a.dry_run, &s, &po);
        if (rc == CTL_EXIT_OK) {
                r = aws_sync_once(c, s, a.dry_run, clock_wall_s(), sync_seen, &a, &st, err,
                                  sizeof err);
                if (r < 0) {
                        fprintf(stderr,
                                "cppo-notifyctl aws sync: %s (cppo-notifyctl aws check "
                                "says more)\n",
                                err[0] ? err : error_name(r));
                        rc = CTL_EXIT_PROBLEM;
                } else {
                        sync_summary(&a, &st, c);
                }
        }
        if (rc == CTL_EXIT_OK && a.apply)
                rc = ctl_apply_inbox("aws sync", &po, a.json);
        store_close(s);
        aws_client_free(c);
        config_free(cfg);
        return rc;
}

static const struct ctl_command aws_commands[] = {
        /* One row per aws subcommand. */
        { "check", "credentials and permissions for the Marketplace Catalog API", aws_check },
        { "sync", "list the authorizations AWS changed and queue them for the daemon",
          aws_sync_cmd },
        { NULL, NULL, NULL },
};

static void aws_usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl aws SUBCOMMAND [ARGS...]\n\nsubcommands:\n");
        for (const struct ctl_command *c = aws_commands; c->name; c++)
                fprintf(out, "  %-8s %s\n", c->name, c->summary);
}

int ctl_aws(int argc, char **argv)
{
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                aws_usage(stdout);
                return CTL_EXIT_OK;
        }
        for (const struct ctl_command *c = aws_commands; argc >= 2 && c->name; c++)
                if (strcmp(argv[1], c->name) == 0)
                        return c->run(argc - 1, argv + 1);
        aws_usage(stderr);
        return CTL_EXIT_USAGE;
}
