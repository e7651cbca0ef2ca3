/* cppo-notifyctl — shared store helpers (see ctlstore.h). */
#include "ctlstore.h"

#include "ctl.h"

#include "cppo/config.h"
#include "cppo/clock.h"
#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/log.h"
#include "cppo/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#define CTL_MAX_OPTIONS 32

int ctl_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               struct ctl_target *t)
{
        static const struct option target[] = {
                { "config", required_argument, NULL, 'c' },
                { "state", required_argument, NULL, 's' },
        };
        struct option all[CTL_MAX_OPTIONS + 3] = { target[0], target[1] };
        char shorts[2 * CTL_MAX_OPTIONS + 8];
        size_t n = 0;
        int o;

        while (longopts[n].name != NULL && n < CTL_MAX_OPTIONS) {
                all[n + 2] = longopts[n];
                n++;
        }
        /* a leading ':' or '+' of shortopts must stay first */
        if (longopts[n].name != NULL || strlen(shortopts) + 5 > sizeof shorts ||
            shortopts[0] == ':' || shortopts[0] == '+' || shortopts[0] == '-')
                return '?';
        snprintf(shorts, sizeof shorts, "c:s:%s", shortopts);
        while ((o = getopt_long(argc, argv, shorts, all, NULL)) == 'c' || o == 's') {
                if (o == 'c')
                        t->config = optarg;
                else
                        t->state = optarg;
        }
        return o;
}

/* store.password_file's password, read with the configuration and kept
 * for the process (one command runs), so the options that point at it
 * outlive the configuration. Wiped at exit by nobody: it is the process's
 * own memory, as the configuration was. */
static struct secret *store_password;

static int keep_password(const struct config *cfg, struct store_options *so)
{
        const char *pw = config_store_password(cfg);

        if (pw != NULL && store_password == NULL && secret_new(&store_password, pw, strlen(pw)) < 0)
                return -ENOMEM;
        so->password = store_password ? secret_value(store_password) : NULL;
        return 0;
}

/* The store and pipeline settings of the configuration file; only the
 * store part has to resolve (see struct ctl_target). */
static int load_config(const char *cmd, const char *path, struct store_options *so,
                       struct pipeline_options *po, char *state, size_t statelen)
{
        struct config_errors errs;
        struct config *cfg = NULL;
        int r;

        config_errors_init(&errs);
        r = config_load_for(&cfg, path, CONFIG_NEED_STORE, &errs);
        if (r < 0) {
                fprintf(stderr, "cppo-notifyctl %s: invalid configuration %s\n", cmd, path);
                config_errors_print(&errs, stderr);
                config_errors_deinit(&errs);
                return r == -ENOMEM ? CTL_EXIT_INTERNAL : CTL_EXIT_PROBLEM;
        }
        config_errors_deinit(&errs);
        so->synchronous_normal = strcmp(cfg->store.synchronous, "normal") == 0;
        so->busy_timeout_ms = config_store_busy_ms(cfg);
        if (keep_password(cfg, so) < 0) {
                config_free(cfg);
                return CTL_EXIT_INTERNAL;
        }
        po->offer_link_timeout = cfg->holds.offer_link_timeout;
        po->notify_extended_after_acceptance = cfg->notify_extended_after_acceptance;
        po->notify_direct_deals = cfg->notify_direct_deals;
        po->max_message_bytes = (size_t)cfg->kafka.max_message_bytes;
        r = snprintf(state, statelen, "%s", config_store_target(cfg)) >= (int)statelen;
        config_free(cfg);
        if (r) {
                fprintf(stderr, "cppo-notifyctl %s: store path too long\n", cmd);
                return CTL_EXIT_PROBLEM;
        }
        return CTL_EXIT_OK;
}

int ctl_store_path(const char *cmd, const struct ctl_target *t, char *path, size_t len,
                   struct store_options *so, struct pipeline_options *po)
{
        struct store_options sink_so = { 0 };
        struct pipeline_options sink_po = { 0 };
        int rc;

        if (t->config == NULL && t->state == NULL) {
                fprintf(stderr, "cppo-notifyctl %s: --config FILE or --state DB is required\n",
                        cmd);
                return CTL_EXIT_USAGE;
        }
        if (t->config &&
            (rc = load_config(cmd, t->config, so ? so : &sink_so, po ? po : &sink_po, path, len)))
                return rc;
        if (t->state && snprintf(path, len, "%s", t->state) >= (int)len) { /* --state wins */
                fprintf(stderr, "cppo-notifyctl %s: store path too long\n", cmd);
                return CTL_EXIT_USAGE;
        }
        return CTL_EXIT_OK;
}

int ctl_open_store(const char *cmd, const struct ctl_target *t, bool read_only, struct store **out,
                   struct pipeline_options *po)
{
        struct store_options so = { .read_only = read_only, .busy_timeout_ms = 5000 };
        struct pipeline_options opts = { 0 };
        char path[4096] = "", err[CPPO_ERRLEN];
        int rc;

        log_set_level(LOG_LEVEL_NOTICE); /* a line per notification is for the daemon */
        rc = ctl_store_path(cmd, t, path, sizeof path, &so, &opts);
        if (rc != CTL_EXIT_OK)
                return rc;
        if (store_open(out, path, &so, err, sizeof err) < 0) {
                fprintf(stderr, "cppo-notifyctl %s: %s\n", cmd, err);
                return CTL_EXIT_INTERNAL;
        }
        opts.store = *out;
        if (po)
                *po = opts;
        return CTL_EXIT_OK;
}

/* ---- inbox events ---- */

yajl_gen ctl_event_open(const char *detail_type)
{
        yajl_gen g = json_new();
        char when[TIMEFMT_LEN], id[37];
        uuid_t u;

        if (g == NULL)
                return NULL;
        uuid_generate_random(u);
        uuid_unparse_lower(u, id);
        timefmt_format(clock_wall_s(), when);
        yajl_gen_map_open(g);
        json_string(g, "version", "0");
        json_string(g, "id", id); /* the ledger key: one event per command */
        json_string(g, "detail-type", detail_type);
        json_string(g, "source", "cppo-notify");
        json_string(g, "time", when);
        yajl_gen_string(g, (const unsigned char *)"detail", 6);
        yajl_gen_map_open(g);
        return g;
}

char *ctl_event_close(yajl_gen g)
{
        char *out = NULL;

        if (yajl_gen_map_close(g) == yajl_gen_status_ok &&
            yajl_gen_map_close(g) == yajl_gen_status_ok)
                (void)json_take(g, &out); /* out stays NULL when it fails */
        json_free(g);
        return out;
}

int ctl_submit_event(const char *cmd, const struct ctl_target *t, yajl_gen g, bool apply, bool json)
{
        char *payload = ctl_event_close(g);
        int rc;

        if (payload == NULL)
                return CTL_EXIT_INTERNAL;
        rc = ctl_submit(cmd, t, payload, apply, json);
        free(payload);
        return rc;
}

/* ---- applying ---- */

struct applied {
        bool json;
        int count;
};

static void on_applied(void *ctx, const struct notification *n)
{
        struct applied *a = ctx;

        a->count++;
        if (a->json)
                ctl_print_notification(n);
        else
                printf("  notification %s%s\n", n->key, n->late ? " (late)" : "");
}

/* Runs the pipeline over the pending inbox, as the daemon would. */
static int apply_inbox(const char *cmd, struct pipeline_options *po, bool json)
{
        struct applied a = { .json = json };
        struct pipeline *p = NULL;
        char err[CPPO_ERRLEN];
        int64_t now = clock_wall_s();
        int r, taken;

        po->on_notification = on_applied;
        po->ctx = &a;
        r = pipeline_new(&p, po, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "cppo-notifyctl %s: %s\n", cmd, err);
                return CTL_EXIT_INTERNAL;
        }
        taken = r = pipeline_drain_inbox(p, now);
        if (r >= 0)
                r = pipeline_commit(p, now);
        if (r == 0 && !json)
                printf("applied %d inbox entr%s: %d notification%s\n", taken,
                       taken == 1 ? "y" : "ies", a.count, a.count == 1 ? "" : "s");
        if (r == 0 && pipeline_stats(p)->rejected)
                r = 1;
        pipeline_free(p);
        if (r < 0)
                fprintf(stderr, "cppo-notifyctl %s: cannot apply the inbox: %s\n", cmd,
                        error_name(r));
        return r < 0 ? CTL_EXIT_INTERNAL : r ? CTL_EXIT_PROBLEM : CTL_EXIT_OK;
}

int ctl_apply_inbox(const char *cmd, struct pipeline_options *po, bool json)
{
        return apply_inbox(cmd, po, json);
}

int ctl_submit(const char *cmd, const struct ctl_target *t, const char *payload, bool apply,
               bool json)
{
        struct pipeline_options po;
        struct store *s = NULL;
        int64_t id = 0;
        int rc = ctl_open_store(cmd, t, false, &s, &po);

        if (rc != CTL_EXIT_OK)
                return rc;
        if (store_inbox_add(s, payload, clock_wall_s(), &id) < 0) {
                fprintf(stderr, "cppo-notifyctl %s: cannot write the inbox\n", cmd);
                store_close(s);
                return CTL_EXIT_INTERNAL;
        }
        if (!apply && !json)
                printf("queued as inbox entry %lld: the daemon applies it on its next batch\n"
                       "(with no daemon running, apply it now with --apply)\n",
                       (long long)id);
        else if (!apply)
                printf("{\"inbox_id\":%lld,\"applied\":false}\n", (long long)id);
        rc = apply ? apply_inbox(cmd, &po, json) : CTL_EXIT_OK;
        store_close(s);
        return rc;
}

/* ---- output ---- */

void ctl_print_notification(const struct notification *n)
{
        yajl_gen g = json_new();

        if (g == NULL)
                return;
        yajl_gen_map_open(g);
        json_string(g, "kind", n->kind);
        json_string(g, "key", n->key);
        json_string(g, "opportunity_id", n->opportunity_id);
        json_string(g, "offer_id", n->offer_id);
        json_string(g, "agreement_id", n->agreement_id);
        json_bool(g, "late", n->late);
        json_bool(g, "registered", n->registered);
        /* the context is already a JSON object (built by correlate): embedded
         * as it is rather than re-parsed */
        /* a closed stdout: nothing to tell */
        (void)json_print_splice(g, stdout, "context", n->context_json ? n->context_json : "null",
                                NULL);
        yajl_gen_free(g);
}

int ctl_parse_count(const char *s, int64_t min, int64_t *out)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (*s == '\0' || *end != '\0' || errno == ERANGE || v < min)
                return -EINVAL;
        *out = v;
        return 0;
}

void ctl_format_age(int64_t s, char *out, size_t len)
{
        if (s < 0)
                s = 0;
        if (s >= 86400)
                snprintf(out, len, "%lldd %lldh", (long long)(s / 86400),
                         (long long)(s % 86400 / 3600));
        else if (s >= 3600)
                snprintf(out, len, "%lldh %lldm", (long long)(s / 3600),
                         (long long)(s % 3600 / 60));
        else
                snprintf(out, len, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
}

bool ctl_valid_id(const char *s)
{
        size_t n = 0;

        for (; s[n]; n++)
                if (s[n] <= 0x20 || s[n] >= 0x7f)
                        return false;
        return n > 0 && n <= 256;
}

/* Length of the UTF-8 sequence at p (shortest form, no surrogates), or 0. */
static size_t utf8_len(const unsigned char *p)
{
        size_t n = 0;

        if (p[0] < 0x80)
                n = 1;
        else if (p[0] >= 0xc2 && p[0] < 0xe0)
                n = 2;
        else if (p[0] >= 0xe0 && p[0] < 0xf0)
                n = 3;
        else if (p[0] >= 0xf0 && p[0] < 0xf5)
                n = 4;

        for (size_t i = 1; i < n; i++)
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
        if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
            (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
                return 0; /* overlong, surrogate, beyond U+10FFFF */
        return n;
}

bool ctl_valid_text(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, n;

        while (p[i]) {
                if (p[i] < 0x20 || p[i] == 0x7f || (n = utf8_len(p + i)) == 0)
                        return false; /* no control bytes in what people read */
                i += n;
        }
        return i > 0 && i <= 1024;
}

const char *ctl_actor(void)
{
        static char name[64];
        const char *sudo = getenv("SUDO_USER");
        const struct passwd *pw = getpwuid(getuid());

        /* only a name the history can show as it is */
        if (sudo && ctl_valid_id(sudo) && strlen(sudo) < sizeof name)
                snprintf(name, sizeof name, "%s", sudo);
        else if (pw && pw->pw_name && ctl_valid_id(pw->pw_name) &&
                 strlen(pw->pw_name) < sizeof name)
                snprintf(name, sizeof name, "%s", pw->pw_name);
        else
                snprintf(name, sizeof name, "unknown");
        return name;
}
