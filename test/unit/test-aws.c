/* Unit tests: the Catalog API's pure parts — response parsers (fixtures in
 * test/fixtures/aws-catalog/), error answers, token bucket, backoff. */
#undef NDEBUG
#include "cppo/aws.h"

#include "cppo/error.h"
#include "cppo/timefmt.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define DIR FIXTURES_DIR "/aws-catalog/"

static char *slurp(const char *name, size_t *len)
{
        char path[512];
        snprintf(path, sizeof path, DIR "%s", name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char data[1 << 16];
        *len = fread(data, 1, sizeof data - 1, f);
        fclose(f);
        data[*len] = '\0';
        return data;
}

static int64_t ts(const char *s)
{
        int64_t t;
        assert_int_equal(timefmt_parse(s, &t), 0);
        return t;
}

/* ------------------------------------------------------------ resale authorizations */

struct ra_case {
        const char *file;
        const char *id, *name, *product, *reseller, *reseller_name;
        enum aws_ra_status status;
        const char *end; /* NULL: none */
        size_t buyers;
        const char *first_buyer;
};

static const struct ra_case ra_cases[] = {
        { "describe-ra-full.json", "resaleauthz-northwind-12m", "Northwind 12 months",
          "prod-analytics01", "777788889999", "Northwind Traders", AWS_RA_ACTIVE,
          "2030-05-31T23:59:59Z", 2, "444455556666" },
        { "describe-ra-minimal.json", "resaleauthz-draft-01", "Draft for Fabrikam",
          "prod-analytics01", "", "", AWS_RA_DRAFT, NULL, 0, NULL },
        { "describe-ra-restricted.json", "resaleauthz-fabrikam-open", "Fabrikam open authorization",
          "prod-analytics01", "222233334444", "Fabrikam Partners", AWS_RA_RESTRICTED,
          "2024-06-30T00:00:00Z", 0, NULL },
};

static void resale_authorizations_parse(void **state)
{
        for (size_t i = 0; i < sizeof ra_cases / sizeof ra_cases[0]; i++) {
                const struct ra_case *c = &ra_cases[i];
                struct aws_resale_auth ra;
                char err[CPPO_ERRLEN] = "";
                size_t len;
                const char *json = slurp(c->file, &len);
                print_message("# %s\n", c->file);
                assert_int_equal(aws_parse_resale_authorization(json, len, &ra, err, sizeof err),
                                 0);
                assert_string_equal(ra.id, c->id);
                assert_string_equal(ra.name, c->name);
                assert_string_equal(ra.product_id, c->product);
                assert_string_equal(ra.reseller_account_id, c->reseller);
                assert_string_equal(ra.reseller_legal_name, c->reseller_name);
                assert_int_equal(ra.status, c->status);
                assert_int_equal(ra.end_date, c->end ? ts(c->end) : 0);
                assert_int_equal(ra.n_buyers, c->buyers);
                if (c->first_buyer)
                        assert_string_equal(ra.buyers[0], c->first_buyer);
                assert_true(ra.last_modified > 0);
        }
}

static void full_authorization_details(void **state)
{
        struct aws_resale_auth ra;
        size_t len;
        const char *json = slurp("describe-ra-full.json", &len);
        assert_int_equal(aws_parse_resale_authorization(json, len, &ra, NULL, 0), 0);
        assert_string_equal(ra.product_name, "Analytics Suite");
        assert_string_equal(ra.buyers[1], "444455557777");
        assert_false(ra.buyers_truncated);
        assert_int_equal(ra.last_modified, ts("2024-03-01T09:30:00Z"));
        assert_string_equal(aws_ra_status_name(ra.status), "Active");
}

/* Answers the parser must refuse, each with the reason it gives. */
static const struct {
        const char *json;
        int rc;
        const char *reason;
} ra_bad[] = {
        { "not json", -EPROTO, "not json" },
        { "{\"EntityType\":\"Offer@1.0\",\"EntityIdentifier\":\"o@1\",\"DetailsDocument\":{}}",
          -EPROTO, "is a 'Offer'" },
        { "{\"EntityType\":\"ResaleAuthorization@1.0\",\"EntityIdentifier\":\"r@1\"}", -EPROTO,
          "DetailsDocument" },
        { "{\"EntityType\":\"ResaleAuthorization@1.0\",\"EntityIdentifier\":\"r@1\","
          "\"DetailsDocument\":{\"Name\":7}}",
          -EPROTO, "'Name' is not a string" },
        { "{\"EntityType\":\"ResaleAuthorization@1.0\",\"EntityIdentifier\":\"r@1\","
          "\"DetailsDocument\":{\"Rules\":{}}}",
          -EPROTO, "'Rules' is not an array" },
        { "{\"EntityType\":\"ResaleAuthorization@1.0\",\"EntityIdentifier\":\"r@1\","
          "\"DetailsDocument\":{\"Rules\":[{\"Type\":\"AvailabilityRule\","
          "\"AvailabilityEndDate\":\"soon\"}]}}",
          -EPROTO, "not a timestamp" },
        { "{\"EntityType\":\"ResaleAuthorization@1.0\",\"EntityIdentifier\":\"\","
          "\"DetailsDocument\":{}}",
          -EPROTO, "EntityIdentifier" },
        { "{\"EntityType\":\"ResaleAuthorization@1.0\",\"EntityIdentifier\":\"r@1\","
          "\"DetailsDocument\":{\"Terms\":[{\"Type\":\"BuyerTargetingTerm\",\"PositiveTargeting\":"
          "{\"BuyerAccounts\":[{\"AwsAccountId\":\"1234567890123456789\"}]}}]}}",
          -EPROTO, "too long" },
};

static void bad_authorizations_are_refused(void **state)
{
        for (size_t i = 0; i < sizeof ra_bad / sizeof ra_bad[0]; i++) {
                struct aws_resale_auth ra;
                char err[CPPO_ERRLEN] = "";
                int rc = aws_parse_resale_authorization(ra_bad[i].json, strlen(ra_bad[i].json), &ra,
                                                        err, sizeof err);
                print_message("# case %zu: %s\n", i, err);
                assert_int_equal(rc, ra_bad[i].rc);
                assert_non_null(strstr(err, ra_bad[i].reason));
        }
}

static void deep_nesting_is_refused(void **state)
{
        static char json[4096];
        struct aws_resale_auth ra;
        size_t n = 0;
        for (; n < 2000; n++)
                json[n] = '[';
        assert_int_equal(aws_parse_resale_authorization(json, n, &ra, NULL, 0), -EPROTO);
}

static void many_buyers_are_capped(void **state)
{
        static char json[32768];
        int n = snprintf(json, sizeof json,
                         "{\"EntityType\":\"ResaleAuthorization@1.0\",\"EntityIdentifier\":\"r@1\","
                         "\"DetailsDocument\":{\"Terms\":[{\"Type\":\"BuyerTargetingTerm\","
                         "\"PositiveTargeting\":{\"BuyerAccounts\":[");
        for (int i = 0; i < AWS_BUYERS_MAX + 5; i++)
                n += snprintf(json + n, sizeof json - (size_t)n, "%s{\"AwsAccountId\":\"%012d\"}",
                              i ? "," : "", i);
        n += snprintf(json + n, sizeof json - (size_t)n, "]}}]}}");
        struct aws_resale_auth ra;
        assert_int_equal(aws_parse_resale_authorization(json, (size_t)n, &ra, NULL, 0), 0);
        assert_int_equal(ra.n_buyers, AWS_BUYERS_MAX);
        assert_true(ra.buyers_truncated);
}

/* ------------------------------------------------------------ list pages, change sets, offers */

static void list_pages_parse(void **state)
{
        struct aws_list_page page;
        size_t len;
        const char *json = slurp("list-page-1.json", &len);
        assert_int_equal(aws_parse_list_page(json, len, &page, NULL, 0), 0);
        assert_int_equal(page.n, 2);
        assert_string_equal(page.items[0].id, "resaleauthz-fabrikam-open");
        assert_int_equal(page.items[0].status, AWS_RA_RESTRICTED);
        assert_int_equal(page.items[1].last_modified, ts("2024-03-01T09:30:00Z"));
        assert_string_equal(page.next_token, "cGFnZToy");
        json = slurp("list-page-last.json", &len);
        assert_int_equal(aws_parse_list_page(json, len, &page, NULL, 0), 0);
        assert_int_equal(page.n, 0);
        assert_string_equal(page.next_token, "");
}

static void list_page_problems(void **state)
{
        static const char *const bad[] = {
                "{\"EntitySummaryList\":[{\"Name\":\"no id\"}]}",
                "{\"EntitySummaryList\":[7]}",
                "{\"EntitySummaryList\":{}}",
                "{\"EntitySummaryList\":[],\"NextToken\":5}",
        };
        struct aws_list_page page;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(aws_parse_list_page(bad[i], strlen(bad[i]), &page, NULL, 0),
                                 -EPROTO);
        static char big[8192];
        int n = snprintf(big, sizeof big, "{\"EntitySummaryList\":[");
        for (int i = 0; i <= AWS_PAGE_MAX; i++)
                n += snprintf(big + n, sizeof big - (size_t)n, "%s{\"EntityId\":\"e%d\"}",
                              i ? "," : "", i);
        n += snprintf(big + n, sizeof big - (size_t)n, "]}");
        assert_int_equal(aws_parse_list_page(big, (size_t)n, &page, NULL, 0), -E2BIG);
}

static void change_sets_list_entities_once(void **state)
{
        struct aws_change_set cs;
        size_t len;
        const char *json = slurp("change-set.json", &len);
        assert_int_equal(aws_parse_change_set(json, len, &cs, NULL, 0), 0);
        assert_string_equal(cs.id, "cs-restrict-fabrikam");
        assert_string_equal(cs.status, "SUCCEEDED");
        /* Two changes to one entity count once; a change without an id is
         * skipped. */
        assert_int_equal(cs.n, 2);
        assert_string_equal(cs.changes[0].entity_type, "ResaleAuthorization");
        assert_string_equal(cs.changes[0].entity_id, "resaleauthz-fabrikam-open");
        assert_string_equal(cs.changes[0].change_type, "RestrictResaleAuthorization");
        assert_string_equal(cs.changes[1].entity_type, "Offer");
        assert_string_equal(cs.changes[1].entity_id, "offer-direct-002");
        const char *bad = "{\"ChangeSet\":[{\"ChangeType\":\"X\"}]}";
        assert_int_equal(aws_parse_change_set(bad, strlen(bad), &cs, NULL, 0), -EPROTO);
}

static void offers_name_their_authorization(void **state)
{
        char ra[AWS_ID_MAX];
        size_t len;
        const char *json = slurp("describe-offer-cppo.json", &len);
        assert_int_equal(aws_parse_offer(json, len, ra, sizeof ra, NULL, 0), 1);
        assert_string_equal(ra, "resaleauthz-northwind-12m");
        json = slurp("describe-offer-direct.json", &len);
        assert_int_equal(aws_parse_offer(json, len, ra, sizeof ra, NULL, 0), 0);
        assert_string_equal(ra, "");
        json = slurp("describe-ra-full.json", &len);
        assert_int_equal(aws_parse_offer(json, len, ra, sizeof ra, NULL, 0), -EPROTO);
}

/* ------------------------------------------------------------ errors */

static const struct {
        long status;
        const char *header, *body;
        const char *type, *message;
        int code;
        bool retry;
} error_cases[] = {
        { 429, "ThrottlingException:http://internal.amazon.com/coral/",
          "{\"Message\":\"Rate exceeded\"}", "ThrottlingException", "Rate exceeded", -EAGAIN,
          true },
        { 404, NULL, "{\"__type\":\"ResourceNotFoundException\",\"message\":\"Entity not found\"}",
          "ResourceNotFoundException", "Entity not found", -ENOENT, false },
        { 403, NULL, "{\"__type\":\"com.amazon#AccessDeniedException\",\"Message\":\"no\"}",
          "AccessDeniedException", "no", -EACCES, false },
        { 403, "InvalidSignatureException", "{\"message\":\"The request signature we calculated\"}",
          "InvalidSignatureException", "The request signature we calculated", -EPERM, false },
        { 400, NULL, "{\"code\":\"ThrottlingException\"}", "ThrottlingException", "", -EAGAIN,
          true },
        { 422, NULL, "{\"Code\":\"ValidationException\",\"Message\":\"bad\\nline\"}",
          "ValidationException", "bad line", -EINVAL, false },
        { 503, NULL, "<html>down</html>", "", "", -EIO, true },
        { 0, NULL, NULL, "", "", -EIO, true },
        { 418, NULL, "", "", "", -EPROTO, false },
};

static void error_answers_are_classified(void **state)
{
        for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
                struct aws_error e;
                const char *body = error_cases[i].body;
                aws_parse_error(error_cases[i].status, error_cases[i].header, body,
                                body ? strlen(body) : 0, &e);
                print_message("# error case %zu: %ld %s\n", i, e.http_status, e.type);
                assert_string_equal(e.type, error_cases[i].type);
                assert_string_equal(e.message, error_cases[i].message);
                assert_int_equal(aws_error_code(&e), error_cases[i].code);
                assert_int_equal(aws_error_retryable(&e), error_cases[i].retry);
        }
}

/* ------------------------------------------------------------ rate and retry */

static void bucket_spaces_calls_at_the_rate(void **state)
{
        struct aws_bucket b;
        aws_bucket_init(&b, 10, 10, 0);
        for (int i = 0; i < 10; i++) /* the burst */
                assert_int_equal(aws_bucket_take(&b, 0), 0);
        assert_int_equal(aws_bucket_take(&b, 0), 100); /* 11th: one token later */
        assert_int_equal(aws_bucket_take(&b, 0), 200); /* 12th: two */
        /* At t=200 both borrowed tokens are repaid, nothing saved yet. */
        assert_int_equal(aws_bucket_take(&b, 200), 100);
        assert_int_equal(aws_bucket_take(&b, 450), 0);  /* 1.5 tokens saved, one used */
        assert_int_equal(aws_bucket_take(&b, 450), 50); /* half a token left */
        aws_bucket_init(&b, 20, 20, 0);
        int64_t t = 0;
        for (int i = 0; i < 1000; i++)
                t += aws_bucket_take(&b, t);
        /* 1000 calls at 20/s with a burst of 20: (1000 - 20) / 20 s. */
        assert_true(t >= 48900 && t <= 49100);
}

static void backoff_is_full_jitter_and_capped(void **state)
{
        assert_int_equal(aws_backoff_ms(1, 200, 5000, 0.0), 0);
        assert_int_equal(aws_backoff_ms(1, 200, 5000, 0.999999), 200);
        assert_int_equal(aws_backoff_ms(2, 200, 5000, 0.999999), 400);
        assert_int_equal(aws_backoff_ms(4, 200, 5000, 0.999999), 1600);
        assert_int_equal(aws_backoff_ms(10, 200, 5000, 0.999999), 5000);
        assert_int_equal(aws_backoff_ms(200, 200, 5000, 0.5), 2500);
        assert_int_equal(aws_backoff_ms(3, 200, 5000, 1.5), 0); /* out of range r */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(resale_authorizations_parse),
                cmocka_unit_test(full_authorization_details),
                cmocka_unit_test(bad_authorizations_are_refused),
                cmocka_unit_test(deep_nesting_is_refused),
                cmocka_unit_test(many_buyers_are_capped),
                cmocka_unit_test(list_pages_parse),
                cmocka_unit_test(list_page_problems),
                cmocka_unit_test(change_sets_list_entities_once),
                cmocka_unit_test(offers_name_their_authorization),
                cmocka_unit_test(error_answers_are_classified),
                cmocka_unit_test(bucket_spaces_calls_at_the_rate),
                cmocka_unit_test(backoff_is_full_jitter_and_capped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
