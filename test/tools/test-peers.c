/* Tests of the SMTP and webhook peers (suite tools): real libcurl clients
 * against the real servers on 127.0.0.1, asserting on what arrived. */
#undef NDEBUG
#include "peer.h"

#include <curl/curl.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char tmpdir[256];
static char script_path[512];

static const char *root(void)
{
        const char *r = getenv("CPPO_SOURCE_ROOT");
        return r ? r : ".";
}

static int setup(void **state)
{
        snprintf(tmpdir, sizeof tmpdir, "/tmp/cppo-peers-XXXXXX");
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (mkdtemp(tmpdir) == NULL)
                return -1;
        /* smtp-sink drops to "nobody", who must reach the dump directories */
        return chmod(tmpdir, 0755);
}

static int teardown(void **state)
{
        char cmd[600];

        peer_stop_all();
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        curl_global_cleanup();
        return system(cmd) == 0 ? 0 : -1;
}

static void sleep_ms(int ms)
{
        nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

/* The first file in dir once it holds a complete message (its last MIME
 * boundary), read whole; waits at most 10 s. */
static char *first_file(const char *dir)
{
        char *data = calloc(1, 1 << 20);

        assert_non_null(data);
        for (int i = 0; i < 100; i++, sleep_ms(100)) {
                DIR *d = opendir(dir);
                struct dirent *e;
                char path[1024] = "";
                while (d && (e = readdir(d)) != NULL)
                        if (e->d_name[0] != '.')
                                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                if (d)
                        closedir(d);
                FILE *f = path[0] ? fopen(path, "rb") : NULL;
                if (f == NULL)
                        continue;
                size_t n = fread(data, 1, (1 << 20) - 1, f);
                fclose(f);
                data[n] = '\0';
                while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
                        n--; /* smtp-sink ends each dump with an empty line */
                if (n > 2 && strstr(data, "</p>") && memcmp(data + n - 2, "--", 2) == 0)
                        return data;
        }
        free(data);
        return NULL;
}

static const char *HEADERS[] = {
        "Date: Mon, 23 Nov 2026 10:00:00 +0000",
        "From: cppo-notify <alerts@example.com>",
        "To: revops@example.com",
        "Subject: =?UTF-8?B?TmV3IG9yZGVyIOKAkyBDb250b3NvIEJhbms=?=",
        "Message-ID: <8d1c2f0e-1111-4222-8333-944455556666@example.com>",
        "Auto-Submitted: auto-generated",
        "X-CPPO-Opportunity-Id: resaleauthz-h4k8q2w6z9m3p",
};

static CURLcode send_mail(const char *port, long *code)
{
        CURL *c = curl_easy_init();
        struct curl_slist *rcpt = NULL, *hdrs = NULL;
        curl_mime *mime, *alt;
        curl_mimepart *part;
        char url[64];
        CURLcode rc;

        snprintf(url, sizeof url, "smtp://127.0.0.1:%s", port);
        rcpt = curl_slist_append(rcpt, "<revops@example.com>");
        rcpt = curl_slist_append(rcpt, "<audit@example.com>");
        for (size_t i = 0; i < sizeof HEADERS / sizeof HEADERS[0]; i++)
                hdrs = curl_slist_append(hdrs, HEADERS[i]);
        mime = curl_mime_init(c);
        alt = curl_mime_init(c);
        part = curl_mime_addpart(alt);
        curl_mime_data(part, "New order from Contoso Bank\r\n", CURL_ZERO_TERMINATED);
        curl_mime_type(part, "text/plain; charset=utf-8");
        part = curl_mime_addpart(alt);
        curl_mime_data(part, "<p>New order from <b>Contoso Bank</b></p>\r\n", CURL_ZERO_TERMINATED);
        curl_mime_type(part, "text/html; charset=utf-8");
        part = curl_mime_addpart(mime);
        curl_mime_subparts(part, alt);
        curl_mime_type(part, "multipart/alternative");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, "<alerts@example.com>");
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
        curl_slist_free_all(rcpt);
        curl_slist_free_all(hdrs);
        curl_mime_free(mime);
        curl_easy_cleanup(c);
        return rc;
}

static void start_smtp(struct peer *p, const char *sub, const char *opt)
{
        char dir[512], script[512];
        char *argv[] = { script, dir, (char *)opt, NULL };

        snprintf(script, sizeof script, "%s/test/tools/smtp-sink.sh", root());
        snprintf(dir, sizeof dir, "%s/%s", tmpdir, sub);
        assert_int_equal(peer_start(p, argv, 10000), 0);
        assert_memory_equal(p->ready, "ready ", 6);
}

static void smtp_multipart_arrives_with_headers_byte_for_byte(void **state)
{
        struct peer p;
        char dir[512], block[2048] = "";
        long code = 0;
        char *got;

        start_smtp(&p, "mail", NULL);
        assert_int_equal(send_mail(p.ready + 6, &code), CURLE_OK);
        assert_int_equal(code, 250);
        snprintf(dir, sizeof dir, "%s/mail", tmpdir);
        got = first_file(dir);
        assert_non_null(got);
        /* Our header block, exactly, in order, one after the other. */
        for (size_t i = 0; i < sizeof HEADERS / sizeof HEADERS[0]; i++)
                snprintf(block + strlen(block), sizeof block - strlen(block), "%s\r\n", HEADERS[i]);
        if (strstr(got, block) == NULL) /* smtp-sink may store LF line ends */
                for (char *s = block, *d = block; (*d = *s) != '\0'; s++)
                        d += *s != '\r';
        assert_non_null(strstr(got, block));
        assert_non_null(strstr(got, "X-Rcpt-Args: <revops@example.com>"));
        assert_non_null(strstr(got, "X-Rcpt-Args: <audit@example.com>"));
        assert_non_null(strstr(got, "Content-Type: multipart/alternative"));
        assert_non_null(strstr(got, "New order from Contoso Bank"));
        free(got);
        peer_stop(&p);
}

static void smtp_failure_modes_give_4xx_and_5xx(void **state)
{
        struct peer p;
        long code = 0;

        start_smtp(&p, "rcpt4xx", "--rcpt-4xx");
        assert_int_not_equal(send_mail(p.ready + 6, &code), CURLE_OK);
        assert_true(code >= 400 && code < 500);
        peer_stop(&p);

        start_smtp(&p, "data5xx", "--data-5xx");
        assert_int_not_equal(send_mail(p.ready + 6, &code), CURLE_OK);
        assert_true(code >= 500 && code < 600);
        peer_stop(&p);
}

struct reply {
        long code;
        curl_off_t retry_after;
        char body[256];
        size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
        struct reply *r = ctx;
        size_t k = size * n;

        if (r->len + k < sizeof r->body) {
                memcpy(r->body + r->len, p, k);
                r->len += k;
        }
        return k;
}

static CURLcode post(const char *url, const char *body, const char *cafile, struct reply *r)
{
        CURL *c = curl_easy_init();
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        CURLcode rc;

        h = curl_slist_append(h, "X-Test: caf\xc3\xa9");
        memset(r, 0, sizeof *r);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        if (cafile)
                curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
        curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &r->retry_after);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        return rc;
}

static void start_webhook(struct peer *p, const char *record, const char *cert, const char *key)
{
        static char opt_record[] = "--record", opt_tls[] = "--tls";
        char *argv[] = {
                script_path, opt_record, (char *)record, cert ? opt_tls : NULL, (char *)cert,
                (char *)key, NULL
        };

        snprintf(script_path, sizeof script_path, "%s/test/tools/webhook-sink.py", root());
        assert_int_equal(peer_start(p, argv, 10000), 0);
        assert_memory_equal(p->ready, "ready ", 6);
}

static void webhook_records_post_intact_and_serves_script_in_order(void **state)
{
        struct peer p;
        struct reply r;
        char url[1024], record[512], line[4096];
        const char *body = "{\"text\":\"New order \\u2013 <b>&\",\"blocks\":[]}";
        FILE *f;

        snprintf(record, sizeof record, "%s/hooks.jsonl", tmpdir);
        start_webhook(&p, record, NULL, NULL);
        snprintf(url, sizeof url, "http://127.0.0.1:%s/services/T0/B0/x", p.ready + 6);
        assert_int_equal(post(url, body, NULL, &r), CURLE_OK);
        assert_int_equal(r.code, 200);
        f = fopen(record, "r");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        assert_non_null(strstr(line, "\"path\": \"/services/T0/B0/x\""));
        assert_non_null(strstr(line, "[\"X-Test\", \"caf\\u00e9\"]"));
        /* the body, byte for byte, as base64 of exactly what was sent */
        assert_non_null(strstr(
            line,
            "\"body_base64\": \"eyJ0ZXh0IjoiTmV3IG9yZGVyIFx1MjAxMyA8Yj4mIiwiYmxvY2tzIjpbXX0=\""));

        snprintf(url, sizeof url, "http://127.0.0.1:%s/_script", p.ready + 6);
        assert_int_equal(post(url,
                              "[{\"status\":429,\"headers\":{\"Retry-After\":\"2\"}},"
                              "{\"status\":500},{\"status\":200,\"body\":\"delivered\"}]",
                              NULL, &r),
                         CURLE_OK);
        snprintf(url, sizeof url, "http://127.0.0.1:%s/hook", p.ready + 6);
        assert_int_equal(post(url, "{}", NULL, &r), CURLE_OK);
        assert_int_equal(r.code, 429);
        assert_int_equal(r.retry_after, 2);
        assert_int_equal(post(url, "{}", NULL, &r), CURLE_OK);
        assert_int_equal(r.code, 500);
        assert_int_equal(post(url, "{}", NULL, &r), CURLE_OK);
        assert_int_equal(r.code, 200);
        assert_memory_equal(r.body, "delivered", 9);
        peer_stop(&p);
}

static void webhook_tls_verifies_with_the_test_ca_only(void **state)
{
        struct peer p;
        struct reply r;
        char cmd[2048], cert[512], key[512], record[512], url[1024];

        snprintf(cert, sizeof cert, "%s/cert.pem", tmpdir);
        snprintf(key, sizeof key, "%s/key.pem", tmpdir);
        snprintf(record, sizeof record, "%s/tls.jsonl", tmpdir);
        snprintf(cmd, sizeof cmd,
                 "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
                 "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' "
                 ">/dev/null 2>&1",
                 key, cert);
        assert_int_equal(system(cmd), 0);
        start_webhook(&p, record, cert, key);
        snprintf(url, sizeof url, "https://127.0.0.1:%s/hook", p.ready + 6);
        assert_int_equal(post(url, "{}", cert, &r), CURLE_OK);
        assert_int_equal(r.code, 200);
        assert_int_equal(post(url, "{}", NULL, &r), CURLE_PEER_FAILED_VERIFICATION);
        peer_stop(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(smtp_multipart_arrives_with_headers_byte_for_byte),
                cmocka_unit_test(smtp_failure_modes_give_4xx_and_5xx),
                cmocka_unit_test(webhook_records_post_intact_and_serves_script_in_order),
                cmocka_unit_test(webhook_tls_verifies_with_the_test_ca_only),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
