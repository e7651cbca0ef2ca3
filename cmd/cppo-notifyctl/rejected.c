/* cppo-notifyctl rejected [--config FILE | --state DB] [--limit N] [--json] [--raw]:
 * inputs that could not be decoded, newest first, with their reason,
 * message, coordinates and the raw bytes (with --raw; always in --json),
 * non-printable bytes written as \xNN. Reads the daemon's store safely while it
 * runs. Exit 0 (even when the list is empty), 2 usage, 3 store unreadable. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/buf.h"
#include "cppo/error.h"
#include "cppo/event_json.h"
#include "cppo/store.h"
#include "cppo/timefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

struct listing {
        bool json, raw;
        int count;
};

/* Raw bytes as text: printable ASCII kept, everything else (and the
 * backslash) as \xNN, so any input shows safely in a terminal or JSON. */
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

static int print_json(const struct store_rejected *r)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        struct buf raw = BUF_INIT(4u << 20);
        const unsigned char *out;
        char when[TIMEFMT_LEN];
        size_t len;

        if (g == NULL)
                return -ENOMEM;
        timefmt_format(r->received_at, when);
        yajl_gen_map_open(g);
        event_json_string(g, "reason", r->reason);
        event_json_string(g, "message", r->message);
        event_json_string(g, "origin", r->origin);
        yajl_gen_string(g, (const unsigned char *)"partition", 9);
        yajl_gen_integer(g, r->partition);
        yajl_gen_string(g, (const unsigned char *)"offset", 6);
        yajl_gen_integer(g, r->offset);
        event_json_string(g, "received_at", when);
        event_json_bool(g, "truncated", r->truncated);
        if (escape_raw(&raw, r->raw, r->raw_len) == 0)
                event_json_string(g, "raw", buf_cstr(&raw));
        yajl_gen_map_close(g);
        if (yajl_gen_get_buf(g, &out, &len) == yajl_gen_status_ok)
                printf("%.*s\n", (int)len, (const char *)out);
        yajl_gen_free(g);
        buf_deinit(&raw);
        return 0;
}

static int on_row(void *ctx, const struct store_rejected *r)
{
        struct listing *l = ctx;
        char when[TIMEFMT_LEN];

        l->count++;
        if (l->json)
                return print_json(r);
        timefmt_format(r->received_at, when);
        printf("%-20s  %-17s  %s/%d/%lld%s\n    %s\n", when, r->reason, r->origin ? r->origin : "-",
               (int)r->partition, (long long)r->offset, r->truncated ? " (truncated)" : "",
               r->message);
        if (l->raw) {
                struct buf raw = BUF_INIT(4u << 20);
                if (escape_raw(&raw, r->raw, r->raw_len) == 0)
                        printf("    %s\n", buf_cstr(&raw));
                buf_deinit(&raw);
        }
        return 0;
}

int ctl_rejected(int argc, char **argv)
{
        static const struct option opts[] = {
                { "limit", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
                { "raw", no_argument, NULL, 'r' },         { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct ctl_target t = { 0 };
        struct listing l = { 0 };
        struct store *s = NULL;
        char *end;
        long long limit = 50;
        int o, r;

        optind = 1;
        while ((o = ctl_getopt(argc, argv, "n:jrh", opts, &t)) != -1) {
                switch (o) {
                case 'n':
                        limit = strtoll(optarg, &end, 10);
                        if (*end || limit < 0)
                                return CTL_EXIT_USAGE;
                        break;
                case 'j': l.json = true; break;
                case 'r': l.raw = true; break;
                default:
                        fprintf(o == 'h' ? stdout : stderr,
                                "usage: cppo-notifyctl rejected [--config FILE | --state DB] "
                                "[--limit N (0: all)] [--json] [--raw]\nInputs that could not be "
                                "decoded, newest first.\n");
                        return o == 'h' ? CTL_EXIT_OK : CTL_EXIT_USAGE;
                }
        }
        r = ctl_open_store("rejected", &t, true, &s, NULL);
        if (r != CTL_EXIT_OK)
                return r;
        r = store_list_rejected(s, limit, on_row, &l);
        store_close(s);
        if (r < 0)
                return CTL_EXIT_INTERNAL;
        if (!l.json)
                printf("%d rejected input%s shown\n", l.count, l.count == 1 ? "" : "s");
        return CTL_EXIT_OK;
}
