/* cppo-notifyctl receivers [--config FILE | --state DB] [--json]: each
 * receiver's health as the daemon's dispatcher last recorded it (healthy or
 * unhealthy since when, consecutive receiver-level failures, the last such
 * error, never a secret) and its queue: queued, sending, dead (and sent).
 * Receivers are those the daemon has run with and those with deliveries;
 * "unknown" is a receiver with deliveries but no recorded health (it left
 * the config before the daemon recorded any). Read-only, safe while the
 * daemon runs. Exit 0 when none is unhealthy, 1 when one is (for
 * monitoring), 2 usage, 3 store unreadable. */
#include "ctl.h"
#include "ctlstore.h"

#include "cppo/buf.h"
#include "cppo/delivery.h"
#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/store.h"
#include "cppo/timefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#define TEXT_MAX 1024 /* one printed error, escaped */

struct view {
        bool json;
        int unhealthy;
};

static const char *state_name(const struct store_receiver *r)
{
        return !r->known ? "unknown" : r->health.up ? "healthy" : "unhealthy";
}

/* The error for a terminal: control bytes and the backslash as \xNN. */
static const char *clean(struct buf *b, const char *s)
{
        buf_reset(b);
        if (s == NULL)
                return "-";
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if ((*p < 0x20 || *p == 0x7f || *p == '\\' ? buf_printf(b, "\\x%02x", *p)
                                                           : buf_putc(b, (char)*p)) < 0)
                        break; /* TEXT_MAX reached: the start is shown */
        return buf_cstr(b);
}

static int print_json(const struct store_receiver *r)
{
        yajl_gen g = json_new();
        char since[TIMEFMT_LEN];

        if (g == NULL)
                return -ENOMEM;
        timefmt_format(r->health.since_ms / 1000, since);
        yajl_gen_map_open(g);
        json_string(g, "receiver", r->health.receiver);
        json_string(g, "state", state_name(r));
        json_string(g, "since", r->health.since_ms > 0 ? since : NULL);
        json_int(g, "consecutive_failures", r->health.failures);
        json_string(g, "last_error", r->health.last_error);
        json_int(g, "queued", r->counts[DELIVERY_QUEUED]);
        json_int(g, "sending", r->counts[DELIVERY_SENDING]);
        json_int(g, "sent", r->counts[DELIVERY_SENT]);
        json_int(g, "dead", r->counts[DELIVERY_DEAD]);
        yajl_gen_map_close(g);
        (void)json_print(g, stdout); /* a closed stdout: nothing to tell */
        yajl_gen_free(g);
        return 0;
}

static int on_receiver(void *ctx, const struct store_receiver *r)
{
        struct view *v = ctx;
        struct buf b = BUF_INIT(TEXT_MAX), name = BUF_INIT(TEXT_MAX);
        char since[TIMEFMT_LEN] = "-";

        if (r->known && !r->health.up)
                v->unhealthy++;
        if (v->json)
                return print_json(r);
        if (r->health.since_ms > 0)
                timefmt_format(r->health.since_ms / 1000, since);
        printf("%-20s %-9s %-20s %8lld %7lld %7lld %5lld  %s\n", clean(&name, r->health.receiver),
               state_name(r), since, (long long)r->health.failures,
               (long long)r->counts[DELIVERY_QUEUED], (long long)r->counts[DELIVERY_SENDING],
               (long long)r->counts[DELIVERY_DEAD],
               r->health.up ? "-" : clean(&b, r->health.last_error));
        buf_deinit(&b);
        buf_deinit(&name);
        return 0;
}

static const char usage_text[] =
    "usage: cppo-notifyctl receivers [--config FILE | --state DB] [--json]\n"
    "Each receiver's health (healthy, or unhealthy since when, consecutive failures\n"
    "and the last error) and its deliveries queued, sending and dead. Exit 1 when a\n"
    "receiver is unhealthy.\n";

int ctl_receivers(int argc, char **argv)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct ctl_target t = { 0 };
        struct view v = { 0 };
        struct store *s = NULL;
        int c, rc;

        optind = 1;
        while ((c = ctl_getopt(argc, argv, "jh", opts, &t)) != -1) {
                switch (c) {
                case 'j': v.json = true; break;
                case 'h': fputs(usage_text, stdout); return CTL_EXIT_OK;
                default: fputs(usage_text, stderr); return CTL_EXIT_USAGE;
                }
        }
        if (optind != argc) {
                fputs(usage_text, stderr);
                return CTL_EXIT_USAGE;
        }
        rc = ctl_open_store("receivers", &t, true, &s, NULL);
        if (rc != CTL_EXIT_OK)
                return rc;
        if (!v.json)
                printf("%-20s %-9s %-20s %8s %7s %7s %5s  %s\n", "RECEIVER", "STATE", "SINCE",
                       "FAILURES", "QUEUED", "SENDING", "DEAD", "LAST ERROR");
        rc = store_receiver_list(s, on_receiver, &v);
        store_close(s);
        if (rc < 0) {
                fprintf(stderr, "cppo-notifyctl receivers: cannot read the store: %s\n",
                        error_name(rc));
                return CTL_EXIT_INTERNAL;
        }
        return v.unhealthy > 0 ? CTL_EXIT_PROBLEM : CTL_EXIT_OK;
}
