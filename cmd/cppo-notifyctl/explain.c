/* cppo-notifyctl explain [FILE|-]: decode JSON lines and print, for each,
 * one JSON object per event found, or {"rejected": REASON, "message": TEXT}.
 * Exit 0 when every line decoded, 1 when any was rejected, 2 on usage. */
#include "ctl.h"

#include "cppo/decode.h"
#include "cppo/error.h"
#include "cppo/event_json.h"
#include "cppo/source_file.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

struct explain {
        struct decoder *decoder;
        struct decode_result result;
        size_t rejected;
};

static int print_item(const struct decode_item *it)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *out;
        size_t len;
        int r = 0;

        if (g == NULL)
                return -ENOMEM;
        if (it->reason == DECODE_OK) {
                r = event_json_write(g, &it->ev);
        } else {
                yajl_gen_map_open(g);
                event_json_string(g, "rejected", decode_reason_name(it->reason));
                event_json_string(g, "message", it->message);
                yajl_gen_map_close(g);
        }
        if (r == 0 && yajl_gen_get_buf(g, &out, &len) == yajl_gen_status_ok)
                printf("%.*s\n", (int)len, (const char *)out);
        yajl_gen_free(g);
        return r;
}

static int on_line(void *ctx, const struct raw_message *m)
{
        struct explain *x = ctx;
        int r = decode_message(x->decoder, m->data, m->len, m->truncated, &x->result);

        for (size_t i = 0; r == 0 && i < x->result.n; i++) {
                if (x->result.items[i].reason != DECODE_OK)
                        x->rejected++;
                r = print_item(&x->result.items[i]);
        }
        return r;
}

static void explain_usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl explain [--max-bytes N] [FILE|-]\n"
                     "Decodes JSON lines (a file, or standard input) and prints each normalized\n"
                     "event as one JSON object, or {\"rejected\": REASON, \"message\": TEXT}.\n"
                     "Exit: 0 all decoded, 1 some rejected, 2 usage, 3 internal failure.\n");
}

int ctl_explain(int argc, char **argv)
{
        static const struct option opts[] = {
                { "max-bytes", required_argument, NULL, 'm' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct decode_options o = { 0 };
        struct explain x = { 0 };
        char err[CPPO_ERRLEN] = "", *end;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
                if (c == 'h') {
                        explain_usage(stdout);
                        return CTL_EXIT_OK;
                }
                if (c != 'm' || (o.max_message_bytes = strtoul(optarg, &end, 10)) == 0 || *end) {
                        explain_usage(stderr);
                        return CTL_EXIT_USAGE;
                }
        }
        if (argc - optind > 1) {
                explain_usage(stderr);
                return CTL_EXIT_USAGE;
        }
        if (decode_new(&x.decoder, &o) < 0)
                return CTL_EXIT_INTERNAL;
        decode_result_init(&x.result);
        r = source_file_run(optind < argc ? argv[optind] : "-",
                            o.max_message_bytes ? o.max_message_bytes : DECODE_DEFAULT_MAX_BYTES,
                            on_line, &x, err, sizeof err);
        decode_result_deinit(&x.result);
        decode_free(x.decoder);
        if (r < 0) {
                fprintf(stderr, "cppo-notifyctl explain: %s\n", err[0] ? err : error_name(r));
                return r == -ENOMEM ? CTL_EXIT_INTERNAL : CTL_EXIT_PROBLEM;
        }
        return x.rejected ? CTL_EXIT_PROBLEM : CTL_EXIT_OK;
}
