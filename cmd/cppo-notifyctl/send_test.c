/* cppo-notifyctl send-test RECEIVER --config FILE [--kind KIND] [--timeout SECONDS]:
 * renders a sample notification, clearly marked as a test, for one
 * receiver with its real templates, stores it as a delivery and sends it
 * through the real dispatcher (the same code, retries and pacing as the
 * daemon), then prints the outcome of every attempt. A running daemon may
 * pick the delivery up first; either way the outcome is read from the
 * store. Exit 0 sent, 1 dead or not sent within the timeout, 2 usage,
 * 3 internal failure. */
#include "ctl.h"

#include "cppo/config.h"
#include "cppo/clock.h"
#include "cppo/dispatch.h"
#include "cppo/error.h"
#include "cppo/outbox.h"
#include "cppo/render.h"
#include "cppo/store.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEND_TEST_KEY_MAX 256

struct send_args {
        const char *receiver, *config, *kind;
        long timeout_s;
};

/* The sample deal: every field filled, names saying it is a test, and
 * "test": true, which render.h turns into a test marker in every channel
 * ("test": true in the file line) so no consumer counts it as a deal. */
static const char sample_context[] =
    "{\"kind\":\"%s\",\"key\":\"%s\",\"test\":true,"
    "\"opportunity\":{\"id\":\"resaleauthz-test\",\"name\":\"cppo-notify test message\","
    "\"buyer_company_name\":\"Example Buyer (test)\",\"metadata\":{\"note\":\"sent by "
    "cppo-notifyctl send-test\"},\"notify\":[],\"registered\":true,\"expires_at\":null},"
    "\"partner\":{\"account_id\":\"000000000000\",\"name\":\"Example Partner (test)\"},"
    "\"buyer\":{\"account_ids\":[\"000000000000\"]},"
    "\"product\":{\"id\":\"prod-test\",\"title\":\"Example Product (test)\"},"
    "\"offer\":{\"id\":\"offer-test\",\"name\":\"Test offer\",\"expiration\":null,"
    "\"link\":\"manual\",\"late\":false,\"late_reason\":null},"
    "\"agreement\":{\"id\":\"agmt-test\",\"intent\":\"NEW\",\"status\":\"ACTIVE\","
    "\"acceptance_time\":null,\"start_time\":null,\"end_time\":null,"
    "\"previous_agreement_id\":null,\"renewal\":false},"
    "\"reason\":\"this is a test message from cppo-notifyctl send-test\","
    "\"source_event_keys\":[]}";

static void send_usage(FILE *out)
{
        fprintf(out, "usage: cppo-notifyctl send-test RECEIVER --config FILE [--kind KIND]\n"
                     "           [--timeout SECONDS]\n"
                     "Sends a sample notification (default kind new_order), marked as a test, to\n"
                     "one receiver through the real templates and dispatcher, and prints every\n"
                     "attempt. KIND:");
        for (size_t i = 0; render_kind(i); i++)
                fprintf(out, "%s %s", i ? "," : "", render_kind(i));
        fprintf(out, ".\nExit: 0 sent, 1 failed or timed out, 2 usage, 3 internal failure.\n");
}

static bool known_kind(const char *k)
{
        for (size_t i = 0; render_kind(i); i++)
                if (strcmp(k, render_kind(i)) == 0)
                        return true;
        return false;
}

static int parse_args(int argc, char **argv, struct send_args *a)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "kind", required_argument, NULL, 'k' },
                { "timeout", required_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        char *end;
        int o;

        a->kind = "new_order";
        a->timeout_s = 60;
        optind = 1;
        while ((o = getopt_long(argc, argv, "c:k:t:h", opts, NULL)) != -1) {
                if (o == 'c')
                        a->config = optarg;
                else if (o == 'k')
                        a->kind = optarg;
                else if (o == 't' && (a->timeout_s = strtol(optarg, &end, 10)) > 0 && !*end)
                        continue;
                else if (o == 'h')
                        return send_usage(stdout), -1;
                else
                        return send_usage(stderr), CTL_EXIT_USAGE;
        }
        if (optind + 1 != argc || a->config == NULL || !known_kind(a->kind))
                return send_usage(stderr), CTL_EXIT_USAGE;
        a->receiver = argv[optind];
        return 0;
}

/* The test delivery, stored QUEUED under a key of its own. */
static int queue_test(const struct config *cfg, const struct config_receiver *rcv, const char *kind,
                      struct store *s, char *dkey, size_t dkeylen)
{
        struct renderer *r = NULL;
        struct notification n = { 0 };
        struct delivery d;
        char nkey[SEND_TEST_KEY_MAX], ctx[sizeof sample_context + 2 * SEND_TEST_KEY_MAX];
        char kind_buf[64], opp[] = "resaleauthz-test";
        char err[CPPO_ERRLEN] = "";
        int rc;

        snprintf(nkey, sizeof nkey, "send-test/%lld", (long long)clock_wall_ms());
        snprintf(ctx, sizeof ctx, sample_context, kind, nkey);
        snprintf(kind_buf, sizeof kind_buf, "%s", kind);
        n.kind = kind_buf;
        n.key = nkey;
        n.context_json = ctx;
        n.opportunity_id = opp;
        rc = renderer_new(&r, cfg, err, sizeof err);
        if (rc == 0)
                rc = outbox_build(cfg, r, rcv, NULL, &n, clock_wall_ms(), &d, err, sizeof err);
        renderer_free(r);
        if (rc < 0) {
                fprintf(stderr, "cppo-notifyctl send-test: %s\n", err[0] ? err : error_name(rc));
                return rc;
        }
        snprintf(dkey, dkeylen, "%s", d.key);
        rc = store_delivery_add(s, &d);
        delivery_clear(&d);
        return rc < 0 ? rc : 0;
}

static int print_attempt(void *ctx, const struct delivery_attempt *a)
{
        (void)ctx;
        printf("attempt: %s code=%d latency_ms=%lld%s%s\n", a->outcome, a->code,
               (long long)a->latency_ms, a->error ? " error=" : "", a->error ? a->error : "");
        return 0;
}

/* Waits (bounded) until the delivery is SENT or DEAD. */
static enum delivery_status wait_outcome(struct store *s, const char *key, long timeout_s)
{
        enum delivery_status st = DELIVERY_QUEUED;
        struct delivery d = { 0 };

        for (long i = 0; i < timeout_s * 10; i++) {
                if (store_delivery_get(s, key, &d) == 0)
                        st = d.status;
                delivery_clear(&d);
                if (st == DELIVERY_SENT || st == DELIVERY_DEAD)
                        break;
                usleep(100 * 1000);
        }
        return st;
}

static int send_test(const struct config *cfg, const struct send_args *a)
{
        const struct config_receiver *rcv = config_receiver(cfg, a->receiver);
        struct store_options so = { .busy_timeout_ms = 5000 };
        struct store *s = NULL;
        struct dispatcher *d = NULL;
        char key[2 * SEND_TEST_KEY_MAX], err[CPPO_ERRLEN] = "";
        enum delivery_status st = DELIVERY_QUEUED;
        int rc;

        if (rcv == NULL) {
                fprintf(stderr, "cppo-notifyctl send-test: no receiver \"%s\" in %s\n", a->receiver,
                        a->config);
                return CTL_EXIT_USAGE;
        }
        so.password = config_store_password(cfg);
        rc = store_open(&s, config_store_target(cfg), &so, err, sizeof err);
        if (rc == 0)
                rc = queue_test(cfg, rcv, a->kind, s, key, sizeof key);
        if (rc == 0)
                rc = dispatch_start(&d, config_store_target(cfg), cfg, NULL, err, sizeof err);
        if (rc == 0) {
                printf("delivery %s queued for %s (%s)\n", key, rcv->name, rcv->type_name);
                st = wait_outcome(s, key, a->timeout_s);
                dispatch_stop(d, 5000);
                if (store_delivery_attempts(s, key, print_attempt, NULL) < 0)
                        fprintf(stderr, "cppo-notifyctl send-test: cannot read the attempts\n");
                printf("result: %s\n", delivery_status_name(st));
        } else if (err[0]) {
                fprintf(stderr, "cppo-notifyctl send-test: %s\n", err);
        }
        store_close(s);
        if (rc < 0)
                return rc == -EINVAL ? CTL_EXIT_PROBLEM : CTL_EXIT_INTERNAL;
        return st == DELIVERY_SENT ? CTL_EXIT_OK : CTL_EXIT_PROBLEM;
}

int ctl_send_test(int argc, char **argv)
{
        struct send_args a = { 0 };
        struct config_errors errs;
        struct config *cfg = NULL;
        int rc = parse_args(argc, argv, &a);

        if (rc != 0)
                return rc < 0 ? CTL_EXIT_OK : rc;
        config_errors_init(&errs);
        if (config_load(&cfg, a.config, &errs) < 0) {
                config_errors_print(&errs, stderr);
                config_errors_deinit(&errs);
                return CTL_EXIT_PROBLEM;
        }
        config_errors_deinit(&errs);
        rc = send_test(cfg, &a);
        config_free(cfg);
        return rc;
}
