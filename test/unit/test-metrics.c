/* Unit tests: metrics registry and the operations HTTP endpoint, fetched
 * with libcurl over TCP on 127.0.0.1. */
#undef NDEBUG
#include "cppo/http.h"
#include "cppo/metrics.h"

#include "cppo/error.h"

#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

static void renders_prometheus_text_exactly(void **state)
{
        struct metrics *m = NULL;
        struct buf out = BUF_INIT(1 << 16);
        const double bounds[] = { 0.1, 1 };

        assert_int_equal(metrics_new(&m), 0);
        struct metric *ev = metrics_counter(m, "cppo_events_total", "Events decoded.", NULL);
        struct metric *rej = metrics_counter(m, "cppo_rejected_total", "Rejected.", "reason");
        struct metric *lat = metrics_histogram(m, "cppo_latency_seconds", "Latency.", "receiver",
                                               bounds, 2);
        assert_non_null(ev);
        assert_non_null(rej);
        assert_non_null(lat);
        metric_add(rej, (const char *[]){ "invalid_json" }, 2);
        metric_add(rej, (const char *[]){ "a\"b\\c\nd" }, 1);
        metric_observe(lat, (const char *[]){ "ops" }, 0.05);
        metric_observe(lat, (const char *[]){ "ops" }, 0.5);
        assert_int_equal(metrics_render(m, &out), 0);
        assert_string_equal(
            buf_cstr(&out),
            "# HELP cppo_events_total Events decoded.\n"
            "# TYPE cppo_events_total counter\n"
            "cppo_events_total 0\n"
            "# HELP cppo_rejected_total Rejected.\n"
            "# TYPE cppo_rejected_total counter\n"
            "cppo_rejected_total{reason=\"invalid_json\"} 2\n"
            "cppo_rejected_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n"
            "# HELP cppo_latency_seconds Latency.\n"
            "# TYPE cppo_latency_seconds histogram\n"
            "cppo_latency_seconds_bucket{receiver=\"ops\",le=\"0.10000000000000001\"} 1\n"
            "cppo_latency_seconds_bucket{receiver=\"ops\",le=\"1\"} 2\n"
            "cppo_latency_seconds_bucket{receiver=\"ops\",le=\"+Inf\"} 2\n"
            "cppo_latency_seconds_sum{receiver=\"ops\"} 0.55000000000000004\n"
            "cppo_latency_seconds_count{receiver=\"ops\"} 2\n");
        assert_true(metric_value(rej, (const char *[]){ "invalid_json" }) == 2);
        assert_null(metrics_counter(m, "bad", "too many labels", "a,b,c,d,e"));
        buf_deinit(&out);
        metrics_free(m);
        metrics_free(NULL);
}

struct fetched {
        long code;
        struct buf body;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
        struct fetched *f = ctx;

        return buf_append(&f->body, p, size * n) == 0 ? size * n : 0;
}

static void fetch(uint16_t port, const char *path, struct fetched *f)
{
        char url[128];
        CURL *c = curl_easy_init();

        assert_non_null(c);
        snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
        buf_init(&f->body, 1 << 20);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->code);
        curl_easy_cleanup(c);
}

struct app {
        struct metrics *m;
        bool ready;
        const char *role;
};

static int app_metrics(void *ctx, struct buf *out)
{
        return metrics_render(((struct app *)ctx)->m, out);
}

static bool app_ready(void *ctx)
{
        return ((struct app *)ctx)->ready;
}

static void serves_metrics_health_and_readiness(void **state)
{
        struct app app = { 0 };
        struct http_handlers h = { app_metrics, app_ready, &app, NULL };
        struct http_server *s = NULL;
        struct fetched f;
        char err[CPPO_ERRLEN];

        assert_int_equal(metrics_new(&app.m), 0);
        metric_add(metrics_counter(app.m, "cppo_up_total", "Up.", NULL), NULL, 3);
        assert_int_equal(http_server_start(&s, "127.0.0.1:0", false, &h, err, sizeof err), 0);
        assert_true(http_server_port(s) > 0);

        fetch(http_server_port(s), "/readyz", &f);
        assert_int_equal(f.code, 503);
        buf_deinit(&f.body);
        app.ready = true;
        fetch(http_server_port(s), "/readyz", &f);
        assert_int_equal(f.code, 200);
        buf_deinit(&f.body);
        fetch(http_server_port(s), "/healthz", &f);
        assert_int_equal(f.code, 200);
        assert_string_equal(buf_cstr(&f.body), "ok\n");
        buf_deinit(&f.body);
        fetch(http_server_port(s), "/metrics", &f);
        assert_int_equal(f.code, 200);
        assert_non_null(strstr(buf_cstr(&f.body), "\ncppo_up_total 3\n"));
        buf_deinit(&f.body);
        fetch(http_server_port(s), "/nope", &f);
        assert_int_equal(f.code, 404);
        buf_deinit(&f.body);

        http_server_stop(s);
        metrics_free(app.m);
}

static const char *app_role(void *ctx)
{
        return ((struct app *)ctx)->role;
}

/* High availability: a standby is 200 with its role whatever ready says,
 * the leader's readiness carries the role, and without a role the bodies
 * stay as they were. */
static void readiness_names_the_role(void **state)
{
        struct app app = { .role = "standby" };
        struct http_handlers h = { app_metrics, app_ready, &app, app_role };
        struct http_server *s = NULL;
        struct fetched f;
        char err[CPPO_ERRLEN];
        static const struct {
                const char *role;
                bool ready;
                long code;
                const char *body;
        } cases[] = {
                { "standby", false, 200, "role=standby\n" },
                { "leader", false, 503, "not ready role=leader\n" },
                { "leader", true, 200, "ready role=leader\n" },
                { NULL, true, 200, "ready\n" },
                { NULL, false, 503, "not ready\n" },
        };

        (void)state;
        assert_int_equal(metrics_new(&app.m), 0);
        assert_int_equal(http_server_start(&s, "127.0.0.1:0", false, &h, err, sizeof err), 0);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                app.role = cases[i].role;
                app.ready = cases[i].ready;
                fetch(http_server_port(s), "/readyz", &f);
                assert_int_equal(f.code, cases[i].code);
                assert_string_equal(buf_cstr(&f.body), cases[i].body);
                buf_deinit(&f.body);
        }
        http_server_stop(s);
        metrics_free(app.m);
}

#define SLOW_CLIENTS 40

/* One connection that sends the start of a request and then nothing. */
static int slow_client(uint16_t port)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        static const char part[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        assert_true(fd >= 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(write(fd, part, sizeof part - 1), (ssize_t)(sizeof part - 1));
        return fd;
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A slowloris of 40 half-sent requests on loopback (more than the old
 * connection limit of 32) leaves /healthz and /metrics answerable: fetch()
 * gives up after 10 s, the old server's idle timeout, so this fails when
 * the health check has to wait for a stuck client's slot. */
static void health_answers_during_a_slowloris(void **state)
{
        struct app app = { 0 };
        struct http_handlers h = { app_metrics, app_ready, &app, NULL };
        struct http_server *s = NULL;
        struct fetched f;
        char err[CPPO_ERRLEN];
        int fds[SLOW_CLIENTS];
        double t0;

        assert_int_equal(metrics_new(&app.m), 0);
        assert_int_equal(http_server_start(&s, "127.0.0.1:0", false, &h, err, sizeof err), 0);
        for (int i = 0; i < SLOW_CLIENTS; i++)
                fds[i] = slow_client(http_server_port(s));
        usleep(200 * 1000); /* let the server take them all in */
        t0 = now_s();
        fetch(http_server_port(s), "/healthz", &f);
        printf("# /healthz answered in %.3f s beside %d slow clients\n", now_s() - t0,
               SLOW_CLIENTS);
        assert_int_equal(f.code, 200);
        buf_deinit(&f.body);
        fetch(http_server_port(s), "/metrics", &f);
        assert_int_equal(f.code, 200);
        buf_deinit(&f.body);
        for (int i = 0; i < SLOW_CLIENTS; i++)
                close(fds[i]);
        http_server_stop(s);
        metrics_free(app.m);
}

static void refuses_non_loopback_and_bad_addresses(void **state)
{
        struct http_handlers h = { 0 };
        struct http_server *s = NULL;
        char err[CPPO_ERRLEN], host[64];
        uint16_t port;

        assert_int_equal(http_server_start(&s, "0.0.0.0:9466", false, &h, err, sizeof err),
                         -EINVAL);
        assert_string_equal(err, "http listen address \"0.0.0.0\" is not a loopback address");
        assert_int_equal(http_server_start(&s, "127.0.0.1", false, &h, err, sizeof err), -EINVAL);
        assert_int_equal(http_parse_listen("[::1]:80", host, sizeof host, &port), 0);
        assert_string_equal(host, "::1");
        assert_int_equal(port, 80);
        assert_int_equal(http_parse_listen("h:99999", host, sizeof host, &port), -EINVAL);
        assert_int_equal(http_parse_listen(":80", host, sizeof host, &port), -EINVAL);
        assert_null(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(renders_prometheus_text_exactly),
                cmocka_unit_test(serves_metrics_health_and_readiness),
                cmocka_unit_test(readiness_names_the_role),
                cmocka_unit_test(health_answers_during_a_slowloris),
                cmocka_unit_test(refuses_non_loopback_and_bad_addresses),
        };
        curl_global_init(CURL_GLOBAL_DEFAULT);
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        curl_global_cleanup();
        return r;
}
