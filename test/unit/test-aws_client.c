/* Unit tests: the Catalog client against the local stand-in, which checks
 * every request's SigV4 signature with botocore's signer. */
#undef NDEBUG
#include "cppo/aws.h"

#include "aws-standin.h"
#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define CATALOG FIXTURES_DIR "/aws-catalog/catalog.json"
#define SECRET  "standin-secret-key"

static struct standin catalog;

static int start_catalog(void **state)
{
        const char *const args[] = { "--fixture", CATALOG, "--generate", "1000", NULL };
        unsetenv("AWS_PROFILE");
        unsetenv("AWS_SESSION_TOKEN");
        setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
        setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
        setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
        return standin_start(&catalog, args);
}

static int stop_catalog(void **state)
{
        standin_stop(&catalog);
        return 0;
}

/* Each test: the right long-term keys, no scripted faults, fresh counters. */
static int reset(void **state)
{
        setenv("AWS_ACCESS_KEY_ID", "AKIDSTANDIN", 1);
        setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
        unsetenv("AWS_SESSION_TOKEN");
        return standin_control(&catalog, "{\"reset\": true}");
}

static struct aws_client *client(unsigned max_attempts)
{
        struct aws_client *c = NULL;
        struct aws_client_opts o = {
                .endpoint = catalog.url,
                .max_attempts = max_attempts,
                .backoff_base_ms = 1,
                .backoff_cap_ms = 5,
                .rate_scale = 1000, /* the quotas are tested on their own */
        };
        assert_int_equal(aws_client_new(&c, &o, NULL, 0), 0);
        return c;
}

static void list_paginates_and_filters(void **state)
{
        struct aws_client *c = client(0);
        struct aws_list_page page;
        char err[CPPO_ERRLEN] = "";
        /* Only the fixture's two authorizations changed after 2024-02. */
        const char *after = "2024-02-01T00:00:00Z";
        assert_int_equal(aws_list_resale_authorizations(c, after, NULL, 1, &page, err, sizeof err),
                         0);
        assert_int_equal(page.n, 1);
        assert_string_equal(page.items[0].id, "resaleauthz-fabrikam-open");
        assert_int_equal(page.items[0].status, AWS_RA_RESTRICTED);
        assert_string_not_equal(page.next_token, "");
        char token[AWS_TOKEN_MAX];
        memcpy(token, page.next_token, sizeof token);
        assert_int_equal(aws_list_resale_authorizations(c, after, token, 1, &page, err, sizeof err),
                         0);
        assert_int_equal(page.n, 1);
        assert_string_equal(page.items[0].id, "resaleauthz-northwind-12m");
        assert_string_equal(page.next_token, "");
        assert_int_equal(aws_list_resale_authorizations(c, "2024-04-01", NULL, 50, &page, NULL, 0),
                         0);
        assert_int_equal(page.n, 1);
        assert_int_equal(aws_list_resale_authorizations(c, NULL, NULL, 51, &page, err, sizeof err),
                         -EINVAL);
        assert_int_equal(aws_list_resale_authorizations(c, NULL, "a\"b", 5, &page, NULL, 0),
                         -EINVAL);
        assert_string_equal(aws_creds_source(aws_client_creds(c)), "environment");
        aws_client_free(c);
}

static void describe_authorization_and_change_set(void **state)
{
        struct aws_client *c = client(0);
        struct aws_resale_auth ra;
        struct aws_change_set cs;
        char err[CPPO_ERRLEN] = "";
        assert_int_equal(
            aws_describe_resale_authorization(c, "resaleauthz-northwind-12m", &ra, err, sizeof err),
            0);
        assert_string_equal(ra.name, "Northwind 12 months");
        assert_string_equal(ra.reseller_account_id, "777788889999");
        assert_int_equal(ra.status, AWS_RA_ACTIVE);
        assert_int_equal(ra.n_buyers, 2);
        assert_int_equal(
            aws_describe_resale_authorization(c, "resaleauthz-nope", &ra, err, sizeof err),
            -ENOENT);
        assert_string_equal(err, "DescribeEntity: 404 ResourceNotFoundException: Entity not found");
        assert_int_equal(aws_describe_resale_authorization(c, "a&b=c", &ra, err, sizeof err),
                         -EINVAL);
        assert_int_equal(aws_describe_change_set(c, "cs-restrict-fabrikam", &cs, err, sizeof err),
                         0);
        assert_int_equal(cs.n, 2);
        assert_string_equal(cs.changes[0].entity_id, "resaleauthz-fabrikam-open");
        /* An offer is not a resale authorization. */
        assert_int_equal(
            aws_describe_resale_authorization(c, "offer-northwind-q22310", &ra, err, sizeof err),
            -EPROTO);
        assert_non_null(strstr(err, "DescribeEntity: entity is a 'Offer'"));
        aws_client_free(c);
}

static void offer_lookup_visible_or_not(void **state)
{
        static const struct {
                const char *offer;
                int rc;
                const char *ra, *why;
        } cases[] = {
                { "offer-northwind-q22310", 1, "resaleauthz-northwind-12m", NULL },
                { "offer-hidden-001", 0, "", "AccessDeniedException" },
                { "offer-direct-002", 0, "", "names no resale authorization" },
                { "offer-unknown", 0, "", "ResourceNotFoundException" },
        };
        struct aws_client *c = client(0);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char ra[AWS_ID_MAX], err[CPPO_ERRLEN] = "";
                assert_int_equal(
                    aws_lookup_offer(c, cases[i].offer, ra, sizeof ra, err, sizeof err),
                    cases[i].rc);
                assert_string_equal(ra, cases[i].ra);
                if (cases[i].why)
                        assert_non_null(strstr(err, cases[i].why));
        }
        aws_client_free(c);
}

static void wrong_keys_are_refused_without_echo(void **state)
{
        struct aws_client *c;
        struct aws_resale_auth ra;
        char err[CPPO_ERRLEN] = "";
        setenv("AWS_SECRET_ACCESS_KEY", "a-wrong-secret-key", 1);
        c = client(0);
        assert_int_equal(
            aws_describe_resale_authorization(c, "resaleauthz-northwind-12m", &ra, err, sizeof err),
            -EPERM);
        assert_non_null(strstr(err, "403 InvalidSignatureException"));
        assert_null(strstr(err, "a-wrong-secret-key"));
        assert_null(strstr(err, SECRET));
        assert_int_equal(standin_stat(&catalog, "\"bad_signatures\": "), 1);
        struct aws_op_stats st;
        aws_client_stats(c, AWS_OP_DESCRIBE_ENTITY, &st);
        assert_int_equal(st.requests, 1); /* a signature error is not retried */
        aws_client_free(c);

        setenv("AWS_ACCESS_KEY_ID", "AKIDUNKNOWN", 1);
        c = client(0);
        assert_int_equal(
            aws_describe_resale_authorization(c, "resaleauthz-northwind-12m", &ra, err, sizeof err),
            -EPERM);
        assert_non_null(strstr(err, "UnrecognizedClientException"));
        aws_client_free(c);
}

/* Temporary keys need X-Amz-Security-Token, signed. */
static void session_tokens_are_sent_and_signed(void **state)
{
        struct aws_client *c;
        struct aws_resale_auth ra;
        char err[CPPO_ERRLEN] = "";
        setenv("AWS_ACCESS_KEY_ID", "ASIASTANDIN0042", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "standin-secret-for-ASIASTANDIN0042", 1);
        setenv("AWS_SESSION_TOKEN", "standin-token-for-ASIASTANDIN0042", 1);
        c = client(0);
        assert_int_equal(
            aws_describe_resale_authorization(c, "resaleauthz-northwind-12m", &ra, err, sizeof err),
            0);
        aws_client_free(c);
        setenv("AWS_SESSION_TOKEN", "a-stale-session-token", 1);
        c = client(0);
        assert_int_equal(
            aws_describe_resale_authorization(c, "resaleauthz-northwind-12m", &ra, err, sizeof err),
            -EPERM);
        assert_null(strstr(err, "a-stale-session-token"));
        aws_client_free(c);
}

static void throttling_is_retried(void **state)
{
        struct aws_client *c = client(0);
        struct aws_resale_auth ra;
        struct aws_op_stats st;
        assert_int_equal(standin_control(&catalog, "{\"throttle\": 2}"), 0);
        assert_int_equal(
            aws_describe_resale_authorization(c, "resaleauthz-northwind-12m", &ra, NULL, 0), 0);
        aws_client_stats(c, AWS_OP_DESCRIBE_ENTITY, &st);
        assert_int_equal(st.requests, 3);
        assert_int_equal(st.retries, 2);
        assert_int_equal(st.throttled, 2);
        assert_int_equal(st.ok, 1);
        aws_client_free(c);
}

static void retries_are_bounded(void **state)
{
        struct aws_client *c = client(3);
        struct aws_change_set cs;
        struct aws_op_stats st;
        char err[CPPO_ERRLEN] = "";
        assert_int_equal(standin_control(&catalog, "{\"throttle\": 100}"), 0);
        assert_int_equal(aws_describe_change_set(c, "cs-restrict-fabrikam", &cs, err, sizeof err),
                         -EAGAIN);
        assert_string_equal(err, "DescribeChangeSet: 429 ThrottlingException: Rate exceeded");
        aws_client_stats(c, AWS_OP_DESCRIBE_CHANGE_SET, &st);
        assert_int_equal(st.requests, 3);
        assert_int_equal(st.failed, 1);
        assert_int_equal(standin_stat(&catalog, "\"DescribeChangeSet\": "), 3);
        assert_int_equal(aws_client_last_error(c)->http_status, 429);
        aws_client_free(c);
}

static void server_and_network_failures_are_retried(void **state)
{
        struct aws_client *c = client(0);
        struct aws_list_page page;
        struct aws_op_stats st;
        char err[CPPO_ERRLEN] = "";
        assert_int_equal(standin_control(&catalog,
                                         "{\"fail\": [{\"status\": 500}, {\"status\": 503,"
                                         " \"type\": \"ServiceUnavailable\"}], \"drop\": 1}"),
                         0);
        assert_int_equal(aws_list_resale_authorizations(c, NULL, NULL, 5, &page, err, sizeof err),
                         0);
        assert_int_equal(page.n, 5);
        aws_client_stats(c, AWS_OP_LIST_ENTITIES, &st);
        assert_int_equal(st.requests, 4); /* dropped, 500, 503, ok */
        assert_int_equal(st.retries, 3);
        aws_client_free(c);
}

static void access_denied_is_final(void **state)
{
        struct aws_client *c = client(0);
        struct aws_change_set cs;
        struct aws_op_stats st;
        char err[CPPO_ERRLEN] = "";
        assert_int_equal(standin_control(&catalog, "{\"deny\": [\"DescribeChangeSet\"],"
                                                   " \"error_style\": \"body\"}"),
                         0);
        assert_int_equal(aws_describe_change_set(c, "cs-restrict-fabrikam", &cs, err, sizeof err),
                         -EACCES);
        assert_non_null(strstr(err, "403 AccessDeniedException"));
        aws_client_stats(c, AWS_OP_DESCRIBE_CHANGE_SET, &st);
        assert_int_equal(st.requests, 1);
        aws_client_free(c);
}

static double seconds_since(const struct timespec *t0)
{
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 1,000 generated authorizations (plus the fixture's two), listed and
 * described. The figures go to the TAP log; CPPO_AWS_REAL_QUOTAS=1 runs at
 * the documented quotas instead of 1000 times them. */
static void a_thousand_authorizations(void **state)
{
        const char *real = getenv("CPPO_AWS_REAL_QUOTAS");
        struct aws_client_opts o = { .endpoint = catalog.url,
                                     .rate_scale = real && *real == '1' ? 1.0 : 1000.0 };
        struct aws_client *c = NULL;
        static struct aws_list_page page;
        static char ids[1100][AWS_ID_MAX];
        char token[AWS_TOKEN_MAX] = "", err[CPPO_ERRLEN] = "";
        size_t n = 0;
        struct timespec t0;
        assert_int_equal(aws_client_new(&c, &o, NULL, 0), 0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
                assert_int_equal(aws_list_resale_authorizations(c, NULL, token, AWS_PAGE_MAX, &page,
                                                                err, sizeof err),
                                 0);
                for (size_t i = 0; i < page.n && n < 1100; i++)
                        memcpy(ids[n++], page.items[i].id, AWS_ID_MAX);
                memcpy(token, page.next_token, sizeof token);
        } while (token[0] != '\0');
        double listed = seconds_since(&t0);
        assert_int_equal(n, 1002);
        for (size_t i = 0; i < n; i++) {
                struct aws_resale_auth ra;
                assert_int_equal(aws_describe_resale_authorization(c, ids[i], &ra, err, sizeof err),
                                 0);
                assert_string_equal(ra.id, ids[i]);
        }
        double total = seconds_since(&t0);
        struct aws_op_stats l, d;
        aws_client_stats(c, AWS_OP_LIST_ENTITIES, &l);
        aws_client_stats(c, AWS_OP_DESCRIBE_ENTITY, &d);
        print_message("# 1002 authorizations at %s quotas: listed in %.2f s (%lu ListEntities), "
                      "described in %.2f s (%lu DescribeEntity), total %.2f s, %lu API calls, "
                      "%lld ms waiting for rate tokens\n",
                      o.rate_scale == 1.0 ? "the documented" : "1000x the", listed, l.requests,
                      total - listed, d.requests, total, l.requests + d.requests,
                      (long long)(l.waited_ms + d.waited_ms));
        assert_int_equal(l.requests, 21);
        assert_int_equal(d.requests, 1002);
        assert_int_equal(standin_stat(&catalog, "\"bad_signatures\": "), 0);
        aws_client_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(list_paginates_and_filters, reset),
                cmocka_unit_test_setup(describe_authorization_and_change_set, reset),
                cmocka_unit_test_setup(offer_lookup_visible_or_not, reset),
                cmocka_unit_test_setup(wrong_keys_are_refused_without_echo, reset),
                cmocka_unit_test_setup(session_tokens_are_sent_and_signed, reset),
                cmocka_unit_test_setup(throttling_is_retried, reset),
                cmocka_unit_test_setup(retries_are_bounded, reset),
                cmocka_unit_test_setup(server_and_network_failures_are_retried, reset),
                cmocka_unit_test_setup(access_denied_is_final, reset),
                cmocka_unit_test_setup(a_thousand_authorizations, reset),
        };
        return cmocka_run_group_tests(tests, start_catalog, stop_catalog);
}
