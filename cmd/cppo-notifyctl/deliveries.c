/* cppo-notifyctl deliveries: what was (or is to be) sent to whom.
 *
 *   deliveries [--config FILE | --state DB] [--failed] [--json] [--limit N]
 *   deliveries --unrouted [--json] [--limit N]
 *   deliveries show KEY [--json | --payload]
 *   deliveries retry (KEY | --all-failed)
 *
 * Listing and show open the store read-only and are safe while the daemon
 * runs; retry opens it read-write and waits for the daemon's write lock
 * (WAL, busy timeout), so it works while the daemon runs too. Exit codes as
 * in ctl.h: show/retry of a KEY that is not there (or not dead) is 1, and so
 * is --failed when the store holds a dead delivery (monitoring relies on it).
 *
 * "attempts" is the whole history (every row of `show`); the dispatcher's
 * budget, which `retry` restarts, is "attempts_since_retry". Times are RFC
 * 3339 UTC with milliseconds ("created_at"), beside the public *_ms. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/buf.h"
#include "cppo/clock.h"
#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/store.h"
#include "cppo/timefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#define FIELD_MAX (64u << 10) /* one printed field, escaped */

enum action { LIST, SHOW, RETRY };

struct dopts {
        enum action action;
        struct ctl_target t;
        const char *key;
        bool failed, json, all_failed, payload, help, limit_set, unrouted;
        int64_t limit;
};

static const char *const usages[] = {
        [LIST] = "usage: cppo-notifyctl deliveries [--config FILE | --state DB]\n"
                 "                                 [--failed | --unrouted] [--json]\n"
                 "                                 [--limit N (default 50, 0: all)]\n"
                 "       cppo-notifyctl deliveries show KEY | retry KEY | retry --all-failed\n"
                 "Deliveries, newest first: key, receiver, channel, status, attempts, last code\n"
                 "and last error; --failed: dead ones only (exit 1 when the store holds any);\n"
                 "--json: one object per line.\n"
                 "--unrouted: notifications no rule matched instead, newest first.\n",
        [SHOW] = "usage: cppo-notifyctl deliveries show KEY [--config FILE | --state DB]\n"
                 "                                      [--json | --payload]\n"
                 "One delivery and its attempts, oldest first. --payload writes the stored\n"
                 "payload (e-mail message, Slack JSON, file line) exactly as it is sent.\n",
        [RETRY] = "usage: cppo-notifyctl deliveries retry (KEY | --all-failed)\n"
                  "                                       [--config FILE | --state DB]\n"
                  "Queues dead deliveries again, due now, with a fresh attempt budget; safe\n"
                  "while the daemon runs. Exit 1 when KEY is not a dead delivery.\n",
};

static void usage(FILE *f, enum action a)
{
        fprintf(f, "%sThe store is DB, or store.path of FILE; one of them is required.\n",
                usages[a]);
}

/* Text for a terminal: control bytes and the backslash as \xNN (SMTP
 * replies carry CRLF), everything else (UTF-8 included) as is. NULL is "-". */
static const char *clean(struct buf *b, const char *s)
{
        buf_reset(b);
        if (s == NULL)
                return "-";
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                int r = *p < 0x20 || *p == 0x7f || *p == '\\' ? buf_printf(b, "\\x%02x", *p)
                                                              : buf_putc(b, (char)*p);
                if (r < 0)
                        break; /* FIELD_MAX reached: the start is shown */
        }
        return buf_cstr(b);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL. */
#define ISO_MS_LEN (TIMEFMT_LEN + 4)

/* Milliseconds since the epoch as RFC 3339 UTC with milliseconds. */
static void iso_ms(int64_t ms, char out[ISO_MS_LEN])
{
        int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); /* floor */
        char whole[TIMEFMT_LEN];

        timefmt_format(sec, whole);
        /* whole ends in 'Z': the fraction goes before it */
        (void)snprintf(out, ISO_MS_LEN, "%.19s.%03dZ", whole, (int)(ms - sec * 1000));
}

static int count_attempt(void *ctx, const struct delivery_attempt *a)
{
        (void)a;
        ++*(int *)ctx;
        return 0;
}

/* Every attempt the history holds (retry restarts d->attempts, not this). */
static int history_len(struct store *s, const char *key, int *n)
{
        *n = 0;
        return store_delivery_attempts(s, key, count_attempt, n);
}

/* ---- options ---- */

static int parse_positional(int n, char **args, struct dopts *o)
{
        if (n == 0)
                return 0;
        if (strcmp(args[0], "show") == 0)
                o->action = SHOW;
        else if (strcmp(args[0], "retry") == 0)
                o->action = RETRY;
        else
                return -EINVAL;
        if (n > 2)
                return -EINVAL;
        o->key = n == 2 ? args[1] : NULL;
        return 0;
}

/* Options that make sense for the action. */
static bool consistent(const struct dopts *o)
{
        switch (o->action) {
        case LIST: return !o->all_failed && !o->payload && !(o->unrouted && o->failed);
        case SHOW:
                return o->key && !o->failed && !o->limit_set && !o->all_failed &&
                       !(o->json && o->payload);
        case RETRY:
                return (o->key != NULL) != o->all_failed && !o->failed && !o->limit_set &&
                       !o->json && !o->payload;
        }
        return false;
}

static const struct option long_opts[] = {
        { "failed", no_argument, NULL, 'f' },      { "json", no_argument, NULL, 'j' },
        { "limit", required_argument, NULL, 'n' }, { "all-failed", no_argument, NULL, 'a' },
        { "payload", no_argument, NULL, 'p' },     { "help", no_argument, NULL, 'h' },
        { "unrouted", no_argument, NULL, 'u' },    { NULL, 0, NULL, 0 },
};

static int parse(int argc, char **argv, struct dopts *o)
{
        int c, r = 0;

        optind = 1;
        while ((c = ctl_getopt(argc, argv, "fjn:aphu", long_opts, &o->t)) != -1) {
                switch (c) {
                case 'f': o->failed = true; break;
                case 'j': o->json = true; break;
                case 'a': o->all_failed = true; break;
                case 'p': o->payload = true; break;
                case 'h': o->help = true; break;
                case 'u': o->unrouted = true; break;
                case 'n':
                        o->limit_set = true;
                        if (ctl_parse_count(optarg, 0, &o->limit) < 0)
                                r = -EINVAL;
                        break;
                default: r = -EINVAL;
                }
        }
        if (parse_positional(argc - optind, argv + optind, o) < 0)
                r = -EINVAL;
        return r;
}

/* ---- the store ---- */

static int open_at(const char *path, bool writable, const char *password, struct store **s)
{
        struct store_options so = { .read_only = !writable,
                                    .busy_timeout_ms = 5000,
                                    .password = password };
        char err[CPPO_ERRLEN], shown[512];
        int version = 0;

        store_target_redact(path, shown, sizeof shown);
        /* a writable open would create an empty store at a mistyped path */
        if (writable && !store_target_is_pg(path) && access(path, F_OK) != 0) {
                fprintf(stderr, "cppo-notifyctl deliveries: no store at '%s'\n", path);
                return CTL_EXIT_INTERNAL;
        }
        if (store_open(s, path, &so, err, sizeof err) < 0) {
                fprintf(stderr, "cppo-notifyctl deliveries: %s\n", err);
                return CTL_EXIT_INTERNAL;
        }
        if (store_schema_version(*s, &version) < 0 || version < 2) {
                fprintf(stderr,
                        "cppo-notifyctl deliveries: the store '%s' (schema %d) has no "
                        "deliveries yet: the daemon upgrades it when it starts\n",
                        shown, version);
                store_close(*s);
                *s = NULL;
                return CTL_EXIT_INTERNAL;
        }
        return 0;
}

static int open_store(const struct dopts *o, bool writable, struct store **s)
{
        struct store_options so = { 0 };
        char path[4096];
        int r = ctl_store_path("deliveries", &o->t, path, sizeof path, &so, NULL);

        return r != CTL_EXIT_OK ? r : open_at(path, writable, so.password, s);
}

/* ---- JSON ---- */

/* key (RFC 3339) and key_ms (public since the first release) side by side. */
static void json_time(yajl_gen g, const char *key, int64_t ms)
{
        char when[ISO_MS_LEN], name[32];

        iso_ms(ms, when);
        json_string(g, key, when);
        (void)snprintf(name, sizeof name, "%s_ms", key);
        json_int(g, name, ms);
}

/* The delivery's fields into an open map (not the payload: any bytes);
 * attempts = the length of its history. */
static void json_fields(yajl_gen g, const struct delivery *d, int attempts)
{
        json_string(g, "key", d->key);
        json_string(g, "notification_key", d->notification_key);
        json_string(g, "kind", d->kind);
        json_string(g, "receiver", d->receiver);
        json_string(g, "channel", d->channel);
        json_string(g, "rule", d->rule);
        json_string(g, "opportunity_id", d->opportunity_id);
        json_string(g, "status", delivery_status_name(d->status));
        json_int(g, "attempts", attempts);
        json_int(g, "attempts_since_retry", d->attempts);
        json_time(g, "created_at", d->created_at_ms);
        json_time(g, "updated_at", d->updated_at_ms);
        json_time(g, "next_at", d->next_at_ms);
        json_int(g, "last_code", d->last_code);
        json_string(g, "last_error", d->last_error);
        json_int(g, "payload_bytes", (long long)d->payload_len);
}

/* ---- list ---- */

struct listing {
        struct store *store;
        bool json;
        int count;
        struct buf key, receiver, error;
};

static int on_listed(void *ctx, const struct delivery *d)
{
        struct listing *l = ctx;
        char code[16] = "-";
        yajl_gen g;
        int attempts, r = history_len(l->store, d->key, &attempts);

        if (r < 0)
                return r;
        l->count++;
        if (!l->json) {
                if (d->last_code)
                        snprintf(code, sizeof code, "%d", d->last_code);
                printf("%-40s %-16s %-7s %-10s %8d %4s  %s\n", clean(&l->key, d->key),
                       clean(&l->receiver, d->receiver), d->channel,
                       delivery_status_name(d->status), attempts, code,
                       clean(&l->error, d->last_error));
                return 0;
        }
        g = json_new();
        if (g == NULL)
                return -ENOMEM;
        yajl_gen_map_open(g);
        json_fields(g, d, attempts);
        yajl_gen_map_close(g);
        r = json_print(g, stdout);
        yajl_gen_free(g);
        return r;
}

static int list(struct store *s, const struct dopts *o)
{
        struct listing l = { .store = s,
                             .json = o->json,
                             .key = BUF_INIT(FIELD_MAX),
                             .receiver = BUF_INIT(FIELD_MAX),
                             .error = BUF_INIT(FIELD_MAX) };
        int64_t c[4], backfilled = 0;
        int r;

        if (!l.json)
                printf("%-40s %-16s %-7s %-10s %8s %4s  %s\n", "KEY", "RECEIVER", "CHANNEL",
                       "STATUS", "ATTEMPTS", "CODE", "LAST ERROR");
        r = store_delivery_list(s, o->failed, o->limit_set ? o->limit : 50, on_listed, &l);
        /* the dead count decides --failed's exit code, whatever --limit hid */
        if (r == 0)
                r = store_delivery_counts(s, NULL, c);
        if (r == 0 && !l.json)
                r = store_count(s, "backfilled", &backfilled);
        if (r == 0 && !l.json)
                printf("%d deliver%s shown; in the store: %lld queued, %lld sending, %lld sent, "
                       "%lld dead, %lld backfilled\n",
                       l.count, l.count == 1 ? "y" : "ies", (long long)c[0], (long long)c[1],
                       (long long)c[2], (long long)c[3], (long long)backfilled);
        buf_deinit(&l.key);
        buf_deinit(&l.receiver);
        buf_deinit(&l.error);
        if (r < 0)
                return CTL_EXIT_INTERNAL;
        return o->failed && c[DELIVERY_DEAD] > 0 ? CTL_EXIT_PROBLEM : CTL_EXIT_OK;
}

/* ---- unrouted notifications ---- */

static int on_unmatched(void *ctx, const struct notification *n)
{
        struct listing *l = ctx;
        char when[TIMEFMT_LEN];
        yajl_gen g;
        int r;

        l->count++;
        timefmt_format(n->created_at, when);
        if (!l->json) {
                printf("%-20s  %-22s %-48s %s\n", when, n->kind, clean(&l->key, n->key),
                       clean(&l->receiver, n->opportunity_id));
                return 0;
        }
        g = json_new();
        if (g == NULL)
                return -ENOMEM;
        yajl_gen_map_open(g);
        json_string(g, "key", n->key);
        json_string(g, "kind", n->kind);
        json_string(g, "opportunity_id", n->opportunity_id);
        json_string(g, "offer_id", n->offer_id);
        json_string(g, "agreement_id", n->agreement_id);
        json_string(g, "created_at", when);
        yajl_gen_map_close(g);
        r = json_print(g, stdout);
        yajl_gen_free(g);
        return r;
}

static int list_unrouted(struct store *s, const struct dopts *o)
{
        struct listing l = { .json = o->json,
                             .key = BUF_INIT(FIELD_MAX),
                             .receiver = BUF_INIT(FIELD_MAX) };
        int r;

        if (!l.json)
                printf("%-20s  %-22s %-48s %s\n", "CREATED", "KIND", "KEY", "OPPORTUNITY");
        r = store_notifications_unmatched(s, o->limit_set ? o->limit : 50, on_unmatched, &l);
        if (r == 0 && !l.json)
                printf("%d unrouted notification%s shown (no rule matched)\n", l.count,
                       l.count == 1 ? "" : "s");
        buf_deinit(&l.key);
        buf_deinit(&l.receiver);
        return r < 0 ? CTL_EXIT_INTERNAL : CTL_EXIT_OK;
}

/* ---- show ---- */

static int on_attempt_text(void *ctx, const struct delivery_attempt *a)
{
        char when[ISO_MS_LEN];

        iso_ms(a->at_ms, when);
        printf("  %s  %-5s %4d %6lld ms  %s\n", when, a->outcome, a->code, (long long)a->latency_ms,
               clean(ctx, a->error));
        if (a->refused != NULL) /* the mail went to the other recipients */
                printf("      refused at RCPT: %s\n", clean(ctx, a->refused));
        return 0;
}

static void show_times(const struct delivery *d)
{
        char t[ISO_MS_LEN];

        iso_ms(d->created_at_ms, t);
        printf("created:       %s\n", t);
        iso_ms(d->updated_at_ms, t);
        printf("updated:       %s\n", t);
        if (d->status == DELIVERY_QUEUED) {
                iso_ms(d->next_at_ms, t);
                printf("next attempt:  %s\n", t);
        }
}

static int show_text(struct store *s, const struct delivery *d, int attempts)
{
        struct buf b = BUF_INIT(FIELD_MAX);
        int r;

        printf("key:           %s\n", clean(&b, d->key));
        printf("notification:  %s\n", clean(&b, d->notification_key));
        printf("kind:          %s\n", clean(&b, d->kind));
        printf("opportunity:   %s\n", clean(&b, d->opportunity_id));
        printf("receiver:      %s (%s)\n", clean(&b, d->receiver), d->channel);
        printf("rule:          %s\n", clean(&b, d->rule));
        printf("status:        %s\n", delivery_status_name(d->status));
        printf("attempts:      %d (%d since the last retry)\n", attempts, d->attempts);
        show_times(d);
        printf("last code:     %d\nlast error:    %s\n", d->last_code, clean(&b, d->last_error));
        for (size_t i = 0; i < d->recipients.n; i++)
                printf("recipient:     %s\n", clean(&b, d->recipients.v[i]));
        printf("payload:       %zu bytes\nhistory:\n", d->payload_len);
        r = store_delivery_attempts(s, d->key, on_attempt_text, &b);
        buf_deinit(&b);
        return r;
}

static int on_attempt_json(void *ctx, const struct delivery_attempt *a)
{
        yajl_gen g = ctx;

        yajl_gen_map_open(g);
        json_time(g, "at", a->at_ms);
        json_string(g, "outcome", a->outcome);
        json_int(g, "code", a->code);
        json_int(g, "latency_ms", a->latency_ms);
        json_string(g, "error", a->error);
        if (a->refused != NULL)
                json_string(g, "refused", a->refused);
        yajl_gen_map_close(g);
        return 0;
}

static int show_json(struct store *s, const struct delivery *d, int attempts)
{
        yajl_gen g = json_new();
        int r;

        if (g == NULL)
                return -ENOMEM;
        yajl_gen_map_open(g);
        json_fields(g, d, attempts);
        yajl_gen_string(g, (const unsigned char *)"recipients", 10);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < d->recipients.n; i++)
                yajl_gen_string(g, (const unsigned char *)d->recipients.v[i],
                                strlen(d->recipients.v[i]));
        yajl_gen_array_close(g);
        yajl_gen_string(g, (const unsigned char *)"history", 7);
        yajl_gen_array_open(g);
        r = store_delivery_attempts(s, d->key, on_attempt_json, g);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        if (r == 0)
                r = json_print(g, stdout);
        yajl_gen_free(g);
        return r;
}

static int show(struct store *s, const struct dopts *o)
{
        struct delivery d = { 0 };
        int attempts = 0, r = store_delivery_get(s, o->key, &d);

        if (r == -ENOENT) {
                fprintf(stderr, "cppo-notifyctl deliveries: no delivery '%s'\n", o->key);
                return CTL_EXIT_PROBLEM;
        }
        if (r == 0 && o->payload)
                r = fwrite(d.payload, 1, d.payload_len, stdout) == d.payload_len ? 0 : -EIO;
        else if (r == 0 && (r = history_len(s, d.key, &attempts)) == 0)
                r = o->json ? show_json(s, &d, attempts) : show_text(s, &d, attempts);
        delivery_clear(&d);
        return r < 0 ? CTL_EXIT_INTERNAL : CTL_EXIT_OK;
}

/* ---- retry ---- */

static int retry(struct store *s, const struct dopts *o)
{
        int n = store_delivery_retry(s, o->all_failed ? NULL : o->key, clock_wall_ms());

        if (n == -ENOENT) {
                fprintf(stderr, "cppo-notifyctl deliveries: '%s' is not a dead delivery\n", o->key);
                return CTL_EXIT_PROBLEM;
        }
        if (n < 0) {
                fprintf(stderr, "cppo-notifyctl deliveries: cannot re-queue: %s\n", strerror(-n));
                return CTL_EXIT_INTERNAL;
        }
        printf("%d deliver%s re-queued\n", n, n == 1 ? "y" : "ies");
        return CTL_EXIT_OK;
}

int ctl_deliveries(int argc, char **argv)
{
        struct dopts o = { .action = LIST };
        struct store *s = NULL;
        int r = parse(argc, argv, &o);

        if (o.help) {
                usage(stdout, o.action);
                return CTL_EXIT_OK;
        }
        if (r < 0 || !consistent(&o)) {
                usage(stderr, o.action);
                return CTL_EXIT_USAGE;
        }
        r = open_store(&o, o.action == RETRY, &s);
        if (r != 0)
                return r;
        if (o.action == LIST)
                r = o.unrouted ? list_unrouted(s, &o) : list(s, &o);
        else
                r = o.action == SHOW ? show(s, &o) : retry(s, &o);
        store_close(s);
        return r;
}
