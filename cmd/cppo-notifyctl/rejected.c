/* cppo-notifyctl rejected: inputs that could not be decoded.
 *
 *   rejected [--config FILE | --state DB] [--limit N] [--json] [--raw]
 *   rejected requeue ID [--config FILE | --state DB] [--apply]
 *
 * The listing is newest first, with each input's id, reason, message,
 * coordinates, requeue state and (with --raw) its bytes, non-printable ones
 * as \xNN. --json gives the bytes back exactly: "raw_base64" always, and
 * "raw" as a JSON string when they are valid UTF-8 (else null), so a fixed
 * input can be fed again. Reads the store safely while the daemon runs.
 *
 * requeue feeds a rejected input through the pipeline again (after an
 * upgrade or a fix), the way CLI changes always reach the store: its bytes
 * go to the inbox, and the writer that takes them — the daemon on its next
 * batch, or this command with --apply when no daemon runs — decodes,
 * deduplicates and correlates them exactly as it does a Kafka message, and
 * settles the rejected row in the same transaction: "accepted", or
 * "rejected" with the reason (no second rejected row, nothing sent to the
 * dead-letter topic again). The row itself is kept as evidence.
 *
 * Exit 0; 1 when requeue finds no such input, one it cannot feed (truncated,
 * NUL bytes, already accepted or pending), or with --apply one rejected
 * again; 2 usage; 3 store failure. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/buf.h"
#include "cppo/clock.h"
#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/store.h"
#include "cppo/timefmt.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>

#define RAW_MAX (64u << 20) /* text or base64 of one stored input (decode caps it lower) */

struct ropts {
        struct ctl_target t;
        bool json, raw, apply, requeue, help, limit_set;
        int64_t limit, id;
};

struct listing {
        bool json, raw;
        int count;
};

/* Raw bytes as text: printable ASCII kept, everything else (and the
 * backslash) as \xNN, so any input shows safely in a terminal. */
static int escape_raw(struct buf *out, const void *data, size_t len)
{
        const unsigned char *p = data;
        int r = 0;

        for (size_t i = 0; r == 0 && i < len; i++)
                if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
                        r = buf_putc(out, (char)p[i]);
                else
                        r = buf_printf(out, "\\x%02x", p[i]);
        return r;
}

static int base64(struct buf *out, const unsigned char *p, size_t len)
{
        static const char abc[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        int r = 0;

        for (size_t i = 0; r == 0 && i < len; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;
                size_t n = len - i < 3 ? len - i : 3;

                if (n > 1)
                        v |= (uint32_t)p[i + 1] << 8;
                if (n > 2)
                        v |= p[i + 2];
                r = buf_printf(out, "%c%c%c%c", abc[v >> 18], abc[(v >> 12) & 63],
                               n > 1 ? abc[(v >> 6) & 63] : '=', n > 2 ? abc[v & 63] : '=');
        }
        return r;
}

/* yajl checks UTF-8 before it writes anything: a throw-away generator
 * answers whether the bytes can be a JSON string as they are. */
static bool valid_utf8(const void *data, size_t len)
{
        yajl_gen g = json_new();
        bool ok;

        if (g == NULL)
                return false;
        yajl_gen_config(g, yajl_gen_validate_utf8, 1);
        ok = yajl_gen_string(g, data, len) == yajl_gen_status_ok;
        yajl_gen_free(g);
        return ok;
}

static void json_time(yajl_gen g, const char *key, int64_t t)
{
        char when[TIMEFMT_LEN];

        timefmt_format(t, when);
        json_string(g, key, when);
}

/* raw (faithful string or null), raw_base64 and raw_bytes. */
static int json_raw(yajl_gen g, const struct store_rejected *r)
{
        struct buf b64 = BUF_INIT(RAW_MAX);
        int rc = base64(&b64, r->raw, r->raw_len);

        json_str(g, "raw");
        if (valid_utf8(r->raw, r->raw_len))
                yajl_gen_string(g, r->raw, r->raw_len);
        else
                yajl_gen_null(g);
        if (rc == 0)
                json_string(g, "raw_base64", buf_cstr(&b64));
        json_str(g, "raw_bytes");
        yajl_gen_integer(g, (long long)r->raw_len);
        buf_deinit(&b64);
        return rc;
}

static void json_requeue(yajl_gen g, const struct store_rejected *r)
{
        json_string(g, "requeue", r->requeue_outcome);
        if (r->requeue_outcome == NULL)
                return;
        json_str(g, "requeue_inbox_id");
        yajl_gen_integer(g, r->requeue_inbox_id);
        json_time(g, "requeued_at", r->requeued_at);
        json_string(g, "requeue_error", r->requeue_error);
}

static int print_json(const struct store_rejected *r)
{
        yajl_gen g = json_new();
        int rc;

        if (g == NULL)
                return -ENOMEM;
        yajl_gen_map_open(g);
        json_str(g, "id");
        yajl_gen_integer(g, r->id);
        json_string(g, "reason", r->reason);
        json_string(g, "message", r->message);
        json_string(g, "origin", r->origin);
        json_str(g, "partition");
        yajl_gen_integer(g, r->partition);
        json_str(g, "offset");
        yajl_gen_integer(g, r->offset);
        json_time(g, "received_at", r->received_at);
        json_bool(g, "truncated", r->truncated);
        json_requeue(g, r);
        rc = json_raw(g, r);
        yajl_gen_map_close(g);
        if (rc == 0)
                rc = json_print(g, stdout);
        yajl_gen_free(g);
        return rc;
}

/* "requeued as inbox entry 7 at T: accepted" and the like, or "". */
static void requeue_text(const struct store_rejected *r, char *out, size_t len)
{
        char when[TIMEFMT_LEN];

        out[0] = '\0';
        if (r->requeue_outcome == NULL)
                return;
        timefmt_format(r->requeued_at, when);
        (void)snprintf(out, len, "\n    requeued as inbox entry %lld at %s: %s%s%s",
                       (long long)r->requeue_inbox_id, when, r->requeue_outcome,
                       r->requeue_error ? ": " : "", r->requeue_error ? r->requeue_error : "");
}

static int on_row(void *ctx, const struct store_rejected *r)
{
        struct listing *l = ctx;
        char when[TIMEFMT_LEN], requeue[CPPO_ERRLEN + 96];
        struct buf raw = BUF_INIT(RAW_MAX);
        int rc = 0;

        l->count++;
        if (l->json)
                return print_json(r);
        timefmt_format(r->received_at, when);
        requeue_text(r, requeue, sizeof requeue);
        printf("%-6lld %-20s  %-17s  %s/%d/%lld%s\n    %s%s\n", (long long)r->id, when, r->reason,
               r->origin ? r->origin : "-", (int)r->partition, (long long)r->offset,
               r->truncated ? " (truncated)" : "", r->message, requeue);
        if (l->raw && (rc = escape_raw(&raw, r->raw, r->raw_len)) == 0)
                printf("    %s\n", buf_cstr(&raw));
        buf_deinit(&raw);
        return rc;
}

static int list(struct store *s, const struct ropts *o)
{
        struct listing l = { .json = o->json, .raw = o->raw };

        if (store_list_rejected(s, o->limit_set ? o->limit : 50, on_row, &l) < 0)
                return CTL_EXIT_INTERNAL;
        if (!l.json)
                printf("%d rejected input%s shown\n", l.count, l.count == 1 ? "" : "s");
        return CTL_EXIT_OK;
}

/* ---- requeue ---- */

/* The row's bytes (copied: the store's are valid during the callback only),
 * or -ECANCELED and why they cannot be fed again. */
struct candidate {
        char *payload;
        char why[CPPO_ERRLEN];
        char *outcome, *error;
};

static int take_row(void *ctx, const struct store_rejected *r)
{
        struct candidate *c = ctx;

        if (r->truncated)
                return error_set(c->why, sizeof c->why, -ECANCELED,
                                 "was cut at its size cap when it was "
                                 "received: its whole bytes were never stored");
        if (memchr(r->raw, '\0', r->raw_len))
                return error_set(c->why, sizeof c->why, -ECANCELED,
                                 "holds a NUL byte and can never "
                                 "decode: fix the bytes (rejected --json) and replay them");
        if (r->requeue_outcome && strcmp(r->requeue_outcome, "rejected") != 0)
                return error_set(c->why, sizeof c->why, -ECANCELED,
                                 "is already requeued (inbox entry "
                                 "%lld: %s)",
                                 (long long)r->requeue_inbox_id, r->requeue_outcome);
        c->payload = strndup(r->raw, r->raw_len);
        return c->payload ? 0 : -ENOMEM;
}

static int copy_outcome(void *ctx, const struct store_rejected *r)
{
        struct candidate *c = ctx;

        c->outcome = r->requeue_outcome ? strdup(r->requeue_outcome) : NULL;
        c->error = r->requeue_error ? strdup(r->requeue_error) : NULL;
        return (r->requeue_outcome && !c->outcome) || (r->requeue_error && !c->error) ? -ENOMEM : 0;
}

/* Inbox entry and requeue mark in one transaction: the writer can never see
 * the entry without knowing whose bytes it carries. */
static int enqueue(struct store *s, long long id, const char *payload, int64_t *inbox_id)
{
        int64_t now = clock_wall_s();
        int r = store_begin(s);

        if (r < 0)
                return r;
        r = store_inbox_add(s, payload, now, inbox_id);
        if (r == 0)
                r = store_rejected_requeue(s, id, *inbox_id, now);
        if (r == 0)
                return store_commit(s);
        (void)store_rollback(s);
        return r;
}

/* Runs the pipeline over the inbox as the daemon would, then reports how the
 * row was settled. */
static int apply(struct store *s, struct pipeline_options *po, long long id)
{
        struct candidate c = { 0 };
        struct pipeline *p = NULL;
        char err[CPPO_ERRLEN];
        int64_t now = clock_wall_s();
        int r = pipeline_new(&p, po, err, sizeof err);

        if (r < 0) {
                fprintf(stderr, "cppo-notifyctl rejected: %s\n", err);
                return CTL_EXIT_INTERNAL;
        }
        r = pipeline_drain_inbox(p, now);
        if (r >= 0)
                r = pipeline_commit(p, now);
        pipeline_free(p);
        if (r >= 0)
                r = store_get_rejected(s, id, copy_outcome, &c);
        if (r < 0) {
                fprintf(stderr, "cppo-notifyctl rejected: cannot apply the inbox: %s\n",
                        error_name(r));
        } else if (c.outcome && strcmp(c.outcome, "accepted") == 0) {
                printf("rejected input %lld accepted: decoded and stored; the row is kept, "
                       "marked accepted\n",
                       id);
        } else {
                printf("rejected input %lld rejected again: %s; the row is kept\n", id,
                       c.error     ? c.error
                       : c.outcome ? c.outcome
                                   : "not settled");
                r = 1;
        }
        free(c.outcome);
        free(c.error);
        return r < 0 ? CTL_EXIT_INTERNAL : r ? CTL_EXIT_PROBLEM : CTL_EXIT_OK;
}

static int requeue(struct store *s, struct pipeline_options *po, const struct ropts *o)
{
        struct candidate c = { 0 };
        int64_t inbox_id = 0;
        int r = store_get_rejected(s, o->id, take_row, &c);

        if (r == -ENOENT || r == -ECANCELED) {
                bool refused = r == -ECANCELED;

                fprintf(stderr, "cppo-notifyctl rejected: %s %lld%s%s\n",
                        refused ? "rejected input" : "no rejected input", (long long)o->id,
                        refused ? " " : "", refused ? c.why : "");
                return CTL_EXIT_PROBLEM;
        }
        if (r == 0)
                r = enqueue(s, o->id, c.payload, &inbox_id);
        free(c.payload);
        if (r < 0) {
                fprintf(stderr, "cppo-notifyctl rejected: cannot requeue: %s\n", error_name(r));
                return CTL_EXIT_INTERNAL;
        }
        if (o->apply)
                return apply(s, po, o->id);
        printf("rejected input %lld queued as inbox entry %lld: the daemon feeds it on its next "
               "batch\n(with no daemon running, apply it now with --apply)\n",
               (long long)o->id, (long long)inbox_id);
        return CTL_EXIT_OK;
}

/* ---- options ---- */

static void usage(FILE *f)
{
        fprintf(f,
                "usage: cppo-notifyctl rejected [--config FILE | --state DB] [--limit N (0: all)]\n"
                "                               [--json] [--raw]\n"
                "       cppo-notifyctl rejected requeue ID [--config FILE | --state DB] "
                "[--apply]\n"
                "Inputs that could not be decoded, newest first; --json gives each one's\n"
                "bytes exactly (raw_base64, and raw when they are UTF-8). requeue feeds\n"
                "input ID through the pipeline again (through the inbox; --apply: now)\n"
                "and keeps the row, marked accepted or rejected with the reason.\n"
                "The store is DB, or store.path of FILE.\n");
}

static int parse_positional(int n, char **args, struct ropts *o)
{
        if (n == 0)
                return 0;
        if (n != 2 || strcmp(args[0], "requeue") != 0)
                return -EINVAL;
        o->requeue = true;
        return ctl_parse_count(args[1], 1, &o->id);
}

static int parse(int argc, char **argv, struct ropts *o)
{
        static const struct option opts[] = {
                { "limit", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
                { "raw", no_argument, NULL, 'r' },         { "apply", no_argument, NULL, 'a' },
                { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
        };
        int c, r = 0;

        optind = 1;
        while ((c = ctl_getopt(argc, argv, "n:jrah", opts, &o->t)) != -1) {
                switch (c) {
                case 'j': o->json = true; break;
                case 'r': o->raw = true; break;
                case 'a': o->apply = true; break;
                case 'h': o->help = true; break;
                case 'n':
                        o->limit_set = true;
                        if (ctl_parse_count(optarg, 0, &o->limit) < 0)
                                r = -EINVAL;
                        break;
                default: r = -EINVAL;
                }
        }
        if (r == 0)
                r = parse_positional(argc - optind, argv + optind, o);
        if (r == 0 && (o->requeue ? o->json || o->raw || o->limit_set : o->apply))
                r = -EINVAL;
        return r;
}

int ctl_rejected(int argc, char **argv)
{
        struct ropts o = { 0 };
        struct pipeline_options po;
        struct store *s = NULL;
        int rc = parse(argc, argv, &o);

        if (o.help) {
                usage(stdout);
                return CTL_EXIT_OK;
        }
        if (rc < 0) {
                usage(stderr);
                return CTL_EXIT_USAGE;
        }
        rc = ctl_open_store("rejected", &o.t, !o.requeue, &s, &po);
        if (rc != CTL_EXIT_OK)
                return rc;
        rc = o.requeue ? requeue(s, &po, &o) : list(s, &o);
        store_close(s);
        return rc;
}
