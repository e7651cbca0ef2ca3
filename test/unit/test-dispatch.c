/* Unit tests: the dispatcher's retry backoff (exponential, base 1 s, cap
 * 10 min, full jitter), its outcome tables (which failure is the message's,
 * which the receiver's), a reload whose prepare step fails (an injected
 * allocation failure) leaving the old config in use, and file appends: a
 * failed one leaves the file as it was, one into a FIFO nobody reads ends at
 * its deadline. Sending is tested
 * against the real peers in test/integration/delivery-peers.sh. The store
 * is SQLite, or PostgreSQL with CPPO_TEST_PG_URL (the meson test dispatch-pg). */
#undef NDEBUG
#include "cppo/dispatch.h"

#include "cppo/channel.h"
#include "cppo/config.h"
#include "cppo/delivery.h"
#include "cppo/store.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpstore.h"

/* Linked with -Wl,--wrap=calloc: fail_nth = k makes this thread's k-th
 * calloc() from now fail (other threads, e.g. the dispatcher's, are never
 * affected). */
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
static _Thread_local int fail_nth;

void *__wrap_calloc(size_t n, size_t size)
{
        if (fail_nth > 0 && --fail_nth == 0)
                return NULL;
        return __real_calloc(n, size);
}

#define CAP_MS (10 * 60 * 1000)

/* The ceiling of the jitter window after n failures: 1 s, 2 s, 4 s, ...,
 * at most 10 min. */
static int64_t ceiling(int n)
{
        int64_t c = 1000;

        for (int i = 1; i < n && c < CAP_MS; i++)
                c *= 2;
        return c < CAP_MS ? c : CAP_MS;
}

static const double jitters[] = { 0.0, 1e-9, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999 };

static void stays_within_window(void **state)
{
        for (int n = 1; n <= 200; n++)
                for (size_t j = 0; j < sizeof jitters / sizeof jitters[0]; j++) {
                        int64_t v = dispatch_backoff_ms(n, jitters[j]);
                        assert_true(v >= 0);
                        assert_true(v <= ceiling(n));
                        /* full jitter: rnd scales the whole window */
                        assert_true(llabs(v - (int64_t)(jitters[j] * (double)ceiling(n))) <= 1);
                }
}

static void doubles_from_one_second(void **state)
{
        assert_int_equal(dispatch_backoff_ms(1, 0.5), 500);
        assert_int_equal(dispatch_backoff_ms(2, 0.5), 1000);
        assert_int_equal(dispatch_backoff_ms(3, 0.5), 2000);
        assert_int_equal(dispatch_backoff_ms(10, 0.5), 256000);
        assert_int_equal(dispatch_backoff_ms(1, 0.0), 0);
}

static void cap_is_monotone_and_reached(void **state)
{
        int64_t prev = 0;

        for (int n = 1; n <= 1000; n++) {
                int64_t v = dispatch_backoff_ms(n, 0.999999);
                assert_true(v >= prev); /* never shrinks as failures pile up */
                assert_true(v <= CAP_MS);
                prev = v;
        }
        assert_true(prev >= CAP_MS - 1);
        /* 2^(n-1) s would overflow long before n = INT32_MAX */
        assert_true(dispatch_backoff_ms(INT32_MAX, 0.999999) <= CAP_MS);
        assert_true(dispatch_backoff_ms(INT32_MAX, 0.999999) >= CAP_MS - 1);
        assert_true(dispatch_backoff_ms(11, 0.999999) >= CAP_MS - 1); /* 2^10 s > 10 min */
        assert_true(dispatch_backoff_ms(10, 0.999999) < CAP_MS);
}

static void odd_inputs_stay_in_bounds(void **state)
{
        assert_int_equal(dispatch_backoff_ms(0, 0.5), 500); /* n < 1 counts as 1 */
        assert_int_equal(dispatch_backoff_ms(-5, 0.5), 500);
        assert_int_equal(dispatch_backoff_ms(3, -1.0), 0);
        assert_int_equal(dispatch_backoff_ms(3, NAN), 0);
        assert_int_equal(dispatch_backoff_ms(3, 1.0), 4000);
        assert_int_equal(dispatch_backoff_ms(3, 7.0), 4000);
}

/* ---- outcome tables ---- */

struct verdict_case {
        enum config_receiver_type type;
        int curl_result;
        long code;
        enum dispatch_verdict want;
        const char *why;
};

static const struct verdict_case verdict_cases[] = {
        /* e-mail: the receiver as a whole */
        { CONFIG_RECEIVER_EMAIL, CURLE_LOGIN_DENIED, 535, DISPATCH_RECEIVER, "AUTH refused" },
        { CONFIG_RECEIVER_EMAIL, CURLE_LOGIN_DENIED, 550, DISPATCH_RECEIVER, "AUTH refused, 5xx" },
        { CONFIG_RECEIVER_EMAIL, CURLE_SEND_ERROR, 530, DISPATCH_RECEIVER,
          "authentication required" },
        { CONFIG_RECEIVER_EMAIL, CURLE_WEIRD_SERVER_REPLY, 454, DISPATCH_RECEIVER,
          "TLS unavailable" },
        { CONFIG_RECEIVER_EMAIL, CURLE_SEND_ERROR, 421, DISPATCH_RECEIVER, "service closing" },
        { CONFIG_RECEIVER_EMAIL, CURLE_USE_SSL_FAILED, 0, DISPATCH_RECEIVER, "no STARTTLS" },
        { CONFIG_RECEIVER_EMAIL, CURLE_PEER_FAILED_VERIFICATION, 0, DISPATCH_RECEIVER, "bad cert" },
        { CONFIG_RECEIVER_EMAIL, CURLE_SSL_CONNECT_ERROR, 0, DISPATCH_RECEIVER, "TLS handshake" },
        { CONFIG_RECEIVER_EMAIL, CURLE_COULDNT_CONNECT, 0, DISPATCH_RECEIVER,
          "connection refused" },
        { CONFIG_RECEIVER_EMAIL, CURLE_COULDNT_RESOLVE_HOST, 0, DISPATCH_RECEIVER, "DNS" },
        { CONFIG_RECEIVER_EMAIL, CURLE_OPERATION_TIMEDOUT, 0, DISPATCH_RECEIVER, "timeout" },
        { CONFIG_RECEIVER_EMAIL, CURLE_RECV_ERROR, 0, DISPATCH_RECEIVER, "dropped, no reply" },
        /* e-mail: this message */
        { CONFIG_RECEIVER_EMAIL, CURLE_OK, 250, DISPATCH_SENT, "accepted" },
        { CONFIG_RECEIVER_EMAIL, CURLE_SEND_ERROR, 550, DISPATCH_PERMANENT, "recipient refused" },
        { CONFIG_RECEIVER_EMAIL, CURLE_WEIRD_SERVER_REPLY, 554, DISPATCH_PERMANENT,
          "DATA refused" },
        { CONFIG_RECEIVER_EMAIL, CURLE_SEND_ERROR, 452, DISPATCH_RETRY, "RCPT 4xx" },
        { CONFIG_RECEIVER_EMAIL, CURLE_SEND_ERROR, 451, DISPATCH_RETRY, "DATA 4xx" },
        /* Slack: the receiver as a whole */
        { CONFIG_RECEIVER_SLACK, CURLE_OK, 404, DISPATCH_RECEIVER, "no_service" },
        { CONFIG_RECEIVER_SLACK, CURLE_OK, 410, DISPATCH_RECEIVER, "channel_is_archived" },
        { CONFIG_RECEIVER_SLACK, CURLE_OK, 403, DISPATCH_RECEIVER, "invalid_token" },
        { CONFIG_RECEIVER_SLACK, CURLE_OK, 401, DISPATCH_RECEIVER, "unauthorized" },
        { CONFIG_RECEIVER_SLACK, CURLE_COULDNT_CONNECT, 0, DISPATCH_RECEIVER,
          "connection refused" },
        { CONFIG_RECEIVER_SLACK, CURLE_PEER_FAILED_VERIFICATION, 0, DISPATCH_RECEIVER, "bad cert" },
        { CONFIG_RECEIVER_SLACK, CURLE_COULDNT_RESOLVE_HOST, 0, DISPATCH_RECEIVER, "DNS" },
        /* Slack: this message */
        { CONFIG_RECEIVER_SLACK, CURLE_OK, 200, DISPATCH_SENT, "ok" },
        { CONFIG_RECEIVER_SLACK, CURLE_OK, 400, DISPATCH_PERMANENT, "invalid_blocks" },
        { CONFIG_RECEIVER_SLACK, CURLE_OK, 413, DISPATCH_PERMANENT, "too large" },
        { CONFIG_RECEIVER_SLACK, CURLE_OK, 429, DISPATCH_RETRY, "rate limited" },
        { CONFIG_RECEIVER_SLACK, CURLE_OK, 500, DISPATCH_RETRY, "server error" },
        { CONFIG_RECEIVER_SLACK, CURLE_OK, 503, DISPATCH_RETRY, "unavailable" },
        /* webhook: Slack's table; a refused signature is the receiver's */
        { CONFIG_RECEIVER_WEBHOOK, CURLE_OK, 200, DISPATCH_SENT, "ok" },
        { CONFIG_RECEIVER_WEBHOOK, CURLE_OK, 204, DISPATCH_SENT, "no content" },
        { CONFIG_RECEIVER_WEBHOOK, CURLE_OK, 401, DISPATCH_RECEIVER, "signature refused" },
        { CONFIG_RECEIVER_WEBHOOK, CURLE_OK, 403, DISPATCH_RECEIVER, "forbidden" },
        { CONFIG_RECEIVER_WEBHOOK, CURLE_OK, 404, DISPATCH_RECEIVER, "no such endpoint" },
        { CONFIG_RECEIVER_WEBHOOK, CURLE_OK, 410, DISPATCH_RECEIVER, "endpoint gone" },
        { CONFIG_RECEIVER_WEBHOOK, CURLE_OK, 400, DISPATCH_PERMANENT, "payload refused" },
        { CONFIG_RECEIVER_WEBHOOK, CURLE_OK, 422, DISPATCH_PERMANENT, "unprocessable" },
        { CONFIG_RECEIVER_WEBHOOK, CURLE_OK, 429, DISPATCH_RETRY, "rate limited" },
        { CONFIG_RECEIVER_WEBHOOK, CURLE_OK, 503, DISPATCH_RETRY, "unavailable" },
        { CONFIG_RECEIVER_WEBHOOK, CURLE_COULDNT_CONNECT, 0, DISPATCH_RECEIVER, "down" },
        /* teams: a Workflows trigger answers 202 */
        { CONFIG_RECEIVER_TEAMS, CURLE_OK, 202, DISPATCH_SENT, "accepted" },
        { CONFIG_RECEIVER_TEAMS, CURLE_OK, 429, DISPATCH_RETRY, "throttled" },
        { CONFIG_RECEIVER_TEAMS, CURLE_OK, 502, DISPATCH_RETRY, "bad gateway" },
        { CONFIG_RECEIVER_TEAMS, CURLE_OK, 401, DISPATCH_RECEIVER, "sig expired" },
        { CONFIG_RECEIVER_TEAMS, CURLE_OK, 403, DISPATCH_RECEIVER, "flow disabled" },
        { CONFIG_RECEIVER_TEAMS, CURLE_OK, 404, DISPATCH_RECEIVER, "flow deleted" },
        { CONFIG_RECEIVER_TEAMS, CURLE_OK, 400, DISPATCH_PERMANENT, "card refused" },
        { CONFIG_RECEIVER_TEAMS, CURLE_OK, 413, DISPATCH_PERMANENT, "too large" },
        /* file */
        { CONFIG_RECEIVER_FILE, 0, 0, DISPATCH_SENT, "written" },
        { CONFIG_RECEIVER_FILE, -ENOSPC, 0, DISPATCH_RECEIVER, "disk full" },
        { CONFIG_RECEIVER_FILE, -EACCES, 0, DISPATCH_RECEIVER, "not writable" },
};

static void outcome_table(void **state)
{
        for (size_t i = 0; i < sizeof verdict_cases / sizeof verdict_cases[0]; i++) {
                const struct verdict_case *c = &verdict_cases[i];
                enum dispatch_verdict got = dispatch_classify(c->type, c->curl_result, c->code);
                if (got != c->want)
                        fail_msg("case %zu (%s): got %d, want %d", i, c->why, (int)got,
                                 (int)c->want);
        }
}

/* ---- reload: prepare can fail, commit cannot ---- */

static struct config *file_config(const char *out)
{
        char text[1024];
        struct config_errors errs;
        struct config *c = NULL;

        snprintf(text, sizeof text,
                 "kafka:\n  brokers: b\n  topics: [t]\nstore:\n  path: %s\n"
                 "receivers:\n  audit:\n    type: file\n    path: %s\n",
                 path, out);
        config_errors_init(&errs);
        assert_int_equal(config_load_buffer(&c, "/nonexistent/t.yaml", text, strlen(text), &errs),
                         0);
        config_errors_deinit(&errs);
        return c;
}

static void add_delivery(struct store *s, const char *key)
{
        char payload[64];
        struct delivery d = {
                .key = (char *)key,
                .notification_key = (char *)key,
                .receiver = (char *)"audit",
                .channel = (char *)"file",
                .payload = payload,
        };

        d.payload_len = (size_t)snprintf(payload, sizeof payload, "{\"k\":\"%s\"}", key);
        assert_int_equal(store_delivery_add(s, &d), 1);
}

/* Lines in file (0 when it does not exist yet). */
static int lines_in(const char *file)
{
        FILE *f = fopen(file, "r");
        int n = 0, c;

        if (f == NULL)
                return 0;
        while ((c = fgetc(f)) != EOF)
                n += c == '\n';
        fclose(f);
        return n;
}

/* Until file has n lines; bounded (the dispatcher polls every 250 ms). */
static void wait_lines(struct dispatcher *d, const char *file, int n)
{
        for (int i = 0; i < 400 && lines_in(file) < n; i++) {
                dispatch_wake(d);
                nanosleep(&(struct timespec){ 0, 25 * 1000 * 1000 }, NULL);
        }
        assert_int_equal(lines_in(file), n);
}

static void reload_prepare_failure_keeps_old_config(void **state)
{
        char out_a[160], out_b[160], err[CPPO_ERRLEN];
        struct config *a, *b;
        struct dispatcher *d;
        struct dispatch_plan *p = NULL;
        struct store *s;

        snprintf(out_a, sizeof out_a, "%s/a.jsonl", dir);
        snprintf(out_b, sizeof out_b, "%s/b.jsonl", dir);
        a = file_config(out_a);
        b = file_config(out_b);
        s = open_rw();
        assert_int_equal(dispatch_start(&d, path, a, NULL, err, sizeof err), 0);

        /* each allocation of the prepare step fails in turn: nothing changes */
        for (int k = 1; k <= 3; k++) {
                int r;
                p = (struct dispatch_plan *)&k; /* must be reset */
                fail_nth = k;
                r = dispatch_reload_prepare(b, &p);
                fail_nth = 0;
                assert_int_equal(r, -ENOMEM);
                assert_null(p);
        }
        fail_nth = 1;
        assert_int_equal(dispatch_reload(d, b), -ENOMEM);
        fail_nth = 0;
        add_delivery(s, "k1");
        wait_lines(d, out_a, 1); /* still config a */
        assert_int_equal(lines_in(out_b), 0);

        /* prepare, then a commit that cannot fail; a may go at once */
        assert_int_equal(dispatch_reload_prepare(b, &p), 0);
        dispatch_reload_commit(d, p);
        config_free(a); /* under ASan: any later read of a is a use after free */
        add_delivery(s, "k2");
        wait_lines(d, out_b, 1);
        assert_int_equal(lines_in(out_a), 1);
        dispatch_plan_free(NULL);

        dispatch_stop(d, 1000);
        store_close(s);
        config_free(b);
}

/* ---- high availability: no claim while the leader gate is closed ---- */

static bool gate_open(void *ctx)
{
        return atomic_load((atomic_bool *)ctx);
}

static void no_claim_while_the_gate_is_closed(void **state)
{
        char out[160], err[CPPO_ERRLEN];
        atomic_bool open = false;
        struct dispatch_observer obs = { .may_claim = gate_open, .claim_ctx = &open };
        struct delivery got = { 0 };
        struct config *c;
        struct dispatcher *d;
        struct store *s;

        (void)state;
        snprintf(out, sizeof out, "%s/out.jsonl", dir);
        c = file_config(out);
        s = open_rw();
        assert_int_equal(dispatch_start(&d, path, c, &obs, err, sizeof err), 0);
        add_delivery(s, "k1");
        for (int i = 0; i < 20; i++) { /* rounds come and go: none may claim */
                dispatch_wake(d);
                nanosleep(&(struct timespec){ 0, 25 * 1000 * 1000 }, NULL);
        }
        assert_int_equal(lines_in(out), 0);
        assert_int_equal(store_delivery_get(s, "k1", &got), 0);
        assert_int_equal(got.status, DELIVERY_QUEUED); /* not even claimed */
        delivery_clear(&got);
        atomic_store(&open, true);
        wait_lines(d, out, 1);
        dispatch_stop(d, 1000);
        store_close(s);
        config_free(c);
}

/* ---- the store side: a deferral keeps the budget; health is listed ---- */

struct seen {
        char names[4][16];
        bool up[4], known[4];
        int64_t failures[4], queued[4];
        int n;
};

static int collect(void *ctx, const struct store_receiver *r)
{
        struct seen *v = ctx;

        assert_true(v->n < 4);
        snprintf(v->names[v->n], sizeof v->names[0], "%s", r->health.receiver);
        v->up[v->n] = r->health.up;
        v->known[v->n] = r->known;
        v->failures[v->n] = r->health.failures;
        v->queued[v->n] = r->counts[DELIVERY_QUEUED];
        v->n++;
        return 0;
}

static void deferral_keeps_budget_and_health_is_listed(void **state)
{
        struct store *s = open_rw();
        struct delivery got = { 0 };
        struct delivery_attempt a = { .delivery_key = "k",
                                      .at_ms = 5,
                                      .outcome = "deferred",
                                      .code = 535,
                                      .error = "smtp: login denied (reply 535)" };
        struct store_receiver_health down = { .receiver = "audit",
                                              .up = false,
                                              .since_ms = 3,
                                              .failures = 2,
                                              .last_error = "smtp: login denied" };
        struct store_receiver_health fresh = { .receiver = "audit", .up = true };
        struct store_receiver_health other = { .receiver = "other", .up = true };
        struct seen v = { 0 };

        add_delivery(s, "k");
        assert_int_equal(store_delivery_claim(s, "k", 4), 1);
        assert_int_equal(store_delivery_defer(s, &a, 7), 0);
        assert_int_equal(store_delivery_get(s, "k", &got), 0);
        assert_int_equal(got.status, DELIVERY_QUEUED);
        assert_int_equal(got.attempts, 0); /* the budget is intact */
        assert_int_equal(got.next_at_ms, 7);
        assert_int_equal(got.last_code, 535);
        assert_string_equal(got.last_error, "smtp: login denied (reply 535)");
        assert_int_equal(count(s, "attempts"), 1); /* but the attempt is in the history */
        delivery_clear(&got);
        a.delivery_key = "missing";
        assert_int_equal(store_delivery_defer(s, &a, 7), -ENOENT);

        assert_int_equal(store_receiver_health_put(s, &down, true), 0);
        assert_int_equal(store_receiver_health_put(s, &fresh, false), 0); /* known: kept */
        assert_int_equal(store_receiver_health_put(s, &other, false), 0);
        assert_int_equal(store_receiver_list(s, collect, &v), 0);
        assert_int_equal(v.n, 2);
        assert_string_equal(v.names[0], "audit");
        assert_true(v.known[0] && !v.up[0]);
        assert_int_equal(v.failures[0], 2);
        assert_int_equal(v.queued[0], 1);
        assert_string_equal(v.names[1], "other");
        assert_true(v.known[1] && v.up[1]);
        assert_int_equal(v.queued[1], 0);
        store_close(s);
}

static size_t file_size(const char *p)
{
        struct stat st;

        assert_int_equal(stat(p, &st), 0);
        return (size_t)st.st_size;
}

/* RLIMIT_FSIZE makes write() stop part way (then fail with EFBIG, SIGXFSZ
 * ignored): the same torn write a full disk gives (ENOSPC). The file must
 * stay exactly as it was, and a later append must start a line of its own. */
static void failed_append_leaves_no_partial_line(void **state)
{
        char file[160], big[300], back[64] = { 0 };
        struct rlimit old, lim;
        FILE *f;

        (void)state;
        snprintf(file, sizeof file, "%s/audit.jsonl", dir);
        assert_int_equal(channel_file_append(file, "{\"n\":1}", 7, 1000), 0);
        assert_int_equal(file_size(file), 8);
        memset(big, 'x', sizeof big);
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        lim = old;
        lim.rlim_cur = 100; /* room for part of the big line only */
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(channel_file_append(file, big, sizeof big, 1000), -EFBIG);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, SIG_DFL);
        assert_int_equal(file_size(file), 8); /* not 100: cut back */
        assert_int_equal(channel_file_append(file, "{\"n\":2}", 7, 1000), 0);
        f = fopen(file, "rb");
        assert_non_null(f);
        assert_int_equal(fread(back, 1, sizeof back - 1, f), 16);
        fclose(f);
        assert_string_equal(back, "{\"n\":1}\n{\"n\":2}\n");
}

/* A FIFO whose reader never reads: the append waits for room until its
 * deadline instead of blocking in write() for good. */
static void append_to_a_stalled_fifo_ends_at_its_deadline(void **state)
{
        char fifo[160];
        size_t n = 1 << 20; /* more than any pipe buffer */
        char *big = malloc(n);
        int rd;

        (void)state;
        assert_non_null(big);
        memset(big, 'x', n);
        snprintf(fifo, sizeof fifo, "%s/audit.fifo", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(channel_file_append(fifo, "{}", 2, 100), -ENXIO); /* no reader */
        rd = open(fifo, O_RDONLY | O_NONBLOCK);
        assert_true(rd >= 0);
        assert_int_equal(channel_file_append(fifo, big, n, 100), -ETIMEDOUT);
        close(rd);
        free(big);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(stays_within_window),
                cmocka_unit_test(doubles_from_one_second),
                cmocka_unit_test(cap_is_monotone_and_reached),
                cmocka_unit_test(odd_inputs_stay_in_bounds),
                cmocka_unit_test(outcome_table),
                cmocka_unit_test_setup_teardown(reload_prepare_failure_keeps_old_config, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(no_claim_while_the_gate_is_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(deferral_keeps_budget_and_health_is_listed, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(failed_append_leaves_no_partial_line, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(append_to_a_stalled_fifo_ends_at_its_deadline,
                                                setup, teardown),
        };
        return tmpstore_run("dispatch", tests, sizeof tests / sizeof tests[0]);
}
