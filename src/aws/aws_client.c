/* The Marketplace Catalog client: signed requests, per-operation rate
 * limits, bounded retries, and the three operations cppo-notify uses. */
#include "cppo/aws.h"

#include "aws_internal.h"
#include "cppo/clock.h"
#include "cppo/error.h"
#include "cppo/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REGION_MAX   64
#define ENDPOINT_MAX 512
#define URL_MAX      (ENDPOINT_MAX + 2 * AWS_ID_MAX + 64)

/* Operation, its wire name, and its documented quota (requests/second). */
static const struct {
        const char *name;
        double rate;
} ops[AWS_OP_COUNT] = {
        [AWS_OP_LIST_ENTITIES] = { "ListEntities", 10 },
        [AWS_OP_DESCRIBE_ENTITY] = { "DescribeEntity", 20 },
        [AWS_OP_DESCRIBE_CHANGE_SET] = { "DescribeChangeSet", 10 },
};

struct aws_client {
        char region[REGION_MAX];
        char endpoint[ENDPOINT_MAX];
        char sigv4[REGION_MAX + 32];
        char *ca_file;
        long timeout_ms;
        unsigned max_attempts;
        int64_t budget_ms, base_ms, cap_ms;
        struct aws_bucket buckets[AWS_OP_COUNT];
        struct aws_op_stats stats[AWS_OP_COUNT];
        struct aws_credprov *prov;
        const struct aws_creds *creds;
        struct aws_error last;
        uint64_t rng;
        CURL *easy;
};

const char *aws_op_name(enum aws_op op)
{
        return (unsigned)op < AWS_OP_COUNT ? ops[op].name : "?";
}

/* ------------------------------------------------------------ setup */

static bool region_ok(const char *r)
{
        size_t n = strlen(r);
        return n > 0 && n < REGION_MAX && strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int set_endpoint(struct aws_client *c, const char *endpoint, char *err, size_t errlen)
{
        if (endpoint == NULL) {
                (void)error_set(c->endpoint, sizeof c->endpoint, 0,
                                "https://catalog.marketplace.%s.amazonaws.com", c->region);
                return 0;
        }
        size_t n = strlen(endpoint);
        while (n > 0 && endpoint[n - 1] == '/')
                n--;
        bool scheme = strncmp(endpoint, "https://", 8) == 0 || strncmp(endpoint, "http://", 7) == 0;
        if (!scheme || n >= sizeof c->endpoint || strpbrk(endpoint, " \t\r\n?#") != NULL)
                return error_set(err, errlen, -EINVAL,
                                 "aws endpoint '%.200s' is not an http(s) base url", endpoint);
        memcpy(c->endpoint, endpoint, n);
        c->endpoint[n] = '\0';
        return 0;
}

static uint64_t seed(void)
{
        struct timespec ts = clock_wall_ts();
        uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
        return s ? s : 0x9e3779b97f4a7c15ull;
}

static void apply_defaults(struct aws_client *c, const struct aws_client_opts *o)
{
        c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
        c->max_attempts = o->max_attempts > 0 ? o->max_attempts : 6;
        c->budget_ms = o->retry_budget_ms > 0 ? o->retry_budget_ms : 30000;
        c->base_ms = o->backoff_base_ms > 0 ? o->backoff_base_ms : 200;
        c->cap_ms = o->backoff_cap_ms > 0 ? o->backoff_cap_ms : 5000;
        double scale = o->rate_scale > 0 ? o->rate_scale : 1.0;
        int64_t now = clock_mono_ms();
        for (size_t i = 0; i < AWS_OP_COUNT; i++)
                aws_bucket_init(&c->buckets[i], ops[i].rate * scale, ops[i].rate * scale, now);
        c->rng = seed();
}

int aws_client_new(struct aws_client **out, const struct aws_client_opts *opts, char *err,
                   size_t errlen)
{
        struct aws_client_opts o = opts ? *opts : (struct aws_client_opts){ 0 };
        const char *region = o.region ? o.region : "us-east-1";
        if (!region_ok(region))
                return error_set(err, errlen, -EINVAL, "aws region '%.64s' is not valid", region);
        struct aws_client *c = calloc(1, sizeof *c);
        if (c == NULL)
                return -ENOMEM;
        memcpy(c->region, region, strlen(region) + 1);
        (void)error_set(c->sigv4, sizeof c->sigv4, 0, "aws:amz:%s:aws-marketplace", c->region);
        int rc = set_endpoint(c, o.endpoint, err, errlen);
        apply_defaults(c, &o);
        if (rc == 0 && o.ca_file != NULL && (c->ca_file = strdup(o.ca_file)) == NULL)
                rc = -ENOMEM;
        if (rc == 0)
                rc = aws_credprov_new(&c->prov, &o.creds);
        if (rc == 0 && (c->easy = curl_easy_init()) == NULL)
                rc = -ENOMEM;
        if (rc < 0) {
                aws_client_free(c);
                return rc;
        }
        *out = c;
        return 0;
}

void aws_client_free(struct aws_client *c)
{
        if (c == NULL)
                return;
        if (c->easy != NULL)
                curl_easy_cleanup(c->easy);
        aws_credprov_free(c->prov);
        free(c->ca_file);
        free(c);
}

const struct aws_creds *aws_client_creds(const struct aws_client *c)
{
        return c->creds;
}

const struct aws_error *aws_client_last_error(const struct aws_client *c)
{
        return &c->last;
}

void aws_client_stats(const struct aws_client *c, enum aws_op op, struct aws_op_stats *out)
{
        memset(out, 0, sizeof *out);
        if ((unsigned)op < AWS_OP_COUNT)
                *out = c->stats[op];
}

/* ------------------------------------------------------------ one call */

/* xorshift64*: jitter needs spread, not secrecy. */
static double next_random(struct aws_client *c)
{
        c->rng ^= c->rng >> 12;
        c->rng ^= c->rng << 25;
        c->rng ^= c->rng >> 27;
        return (double)((c->rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static void wait_for_token(struct aws_client *c, enum aws_op op)
{
        int64_t wait = aws_bucket_take(&c->buckets[op], clock_mono_ms());
        if (wait > 0) {
                c->stats[op].waited_ms += wait;
                aws_sleep_ms(wait);
        }
}

/* Content-Type for bodies, X-Amz-Security-Token for temporary keys: libcurl
 * signs every header we add, next to host and x-amz-date. */
static int make_headers(const struct aws_creds *cr, bool has_body, struct curl_slist **out)
{
        struct curl_slist *h = NULL, *t;
        const struct secret *tok = aws_creds_session_token(cr);
        if (has_body && (h = curl_slist_append(NULL, "Content-Type: application/json")) == NULL)
                return -ENOMEM;
        if (tok != NULL) {
                struct buf line = BUF_INIT(SECRET_MAX + 64);
                int rc = buf_printf(&line, "X-Amz-Security-Token: %s", secret_value(tok));
                t = rc == 0 ? curl_slist_append(h, line.data) : NULL;
                if (line.data != NULL)
                        explicit_bzero(line.data, line.cap);
                buf_deinit(&line);
                if (t == NULL) {
                        aws_http_headers_free(h);
                        return rc < 0 ? rc : -ENOMEM;
                }
                h = t;
        }
        *out = h;
        return 0;
}

static int attempt(struct aws_client *c, enum aws_op op, const char *method, const char *url,
                   const char *body, struct aws_http_resp *resp, char *err, size_t errlen)
{
        struct curl_slist *headers = NULL;
        resp->transport[0] = '\0'; /* empty: a failure before the network */
        int rc = aws_credprov_get(c->prov, clock_wall_s(), &c->creds, err, errlen);
        if (rc < 0)
                return rc;
        rc = make_headers(c->creds, body != NULL, &headers);
        if (rc < 0)
                return rc;
        struct aws_http_req req = {
                .method = method,
                .url = url,
                .headers = headers,
                .body = body,
                .body_len = body ? strlen(body) : 0,
                .timeout_ms = c->timeout_ms,
                .ca_file = c->ca_file,
                .sigv4 = c->sigv4,
                .user = aws_creds_access_key_id(c->creds),
                .password = secret_value(aws_creds_secret_key(c->creds)),
        };
        wait_for_token(c, op);
        c->stats[op].requests++;
        rc = aws_http_do(c->easy, &req, resp);
        aws_http_headers_free(headers);
        return rc;
}

/* Fills c->last from an answer (or its absence) and says whether to retry. */
static bool judge(struct aws_client *c, enum aws_op op, int transport_rc,
                  const struct aws_http_resp *resp)
{
        if (transport_rc < 0) {
                memset(&c->last, 0, sizeof c->last);
                (void)error_set(c->last.message, sizeof c->last.message, 0, "%s", resp->transport);
                /* An oversized answer will not shrink on a retry. */
                return transport_rc != -E2BIG;
        }
        aws_parse_error(resp->status, resp->errortype[0] ? resp->errortype : NULL, resp->body.data,
                        resp->body.len, &c->last);
        if (resp->status == 429 || aws_error_code(&c->last) == -EAGAIN)
                c->stats[op].throttled++;
        return aws_error_retryable(&c->last);
}

static int fail(struct aws_client *c, enum aws_op op, int transport_rc, char *err, size_t errlen)
{
        c->stats[op].failed++;
        int code = transport_rc < 0 ? transport_rc : aws_error_code(&c->last);
        if (transport_rc == 0 && code == -EIO && c->last.http_status < 500)
                code = -EPROTO;
        if (c->last.http_status == 0)
                (void)error_set(err, errlen, code, "%s: %s", ops[op].name, c->last.message);
        else
                (void)error_set(err, errlen, code, "%s: %ld %s%s%s", ops[op].name,
                                c->last.http_status, c->last.type[0] ? c->last.type : "error",
                                c->last.message[0] ? ": " : "", c->last.message);
        aws_creds_redact(c->creds, err);
        return code;
}

/* Sends one operation, retrying what is worth retrying within the limits.
 * On success resp holds the 2xx answer. */
static int call(struct aws_client *c, enum aws_op op, const char *method, const char *url,
                const char *body, struct aws_http_resp *resp, char *err, size_t errlen)
{
        int64_t start = clock_mono_ms();
        for (unsigned n = 1;; n++) {
                int rc = attempt(c, op, method, url, body, resp, err, errlen);
                if (rc < 0 && resp->transport[0] == '\0') {
                        c->stats[op].failed++;
                        return rc; /* credentials or memory, not the network */
                }
                if (rc == 0 && resp->status >= 200 && resp->status < 300) {
                        memset(&c->last, 0, sizeof c->last);
                        c->stats[op].ok++;
                        return 0;
                }
                bool again = judge(c, op, rc, resp);
                int64_t pause = aws_backoff_ms(n, c->base_ms, c->cap_ms, next_random(c));
                if (!again || n >= c->max_attempts ||
                    clock_mono_ms() - start + pause > c->budget_ms)
                        return fail(c, op, rc, err, errlen);
                c->stats[op].retries++;
                aws_sleep_ms(pause);
        }
}

/* ------------------------------------------------------------ operations */

/* Entity and change set ids: the API's ResourceId pattern [\w-]+ (and
 * '@' for revisions), so they go into a query string unescaped. */
static int check_id(const char *id, const char *what, char *err, size_t errlen)
{
        static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_-@";
        size_t n = id ? strlen(id) : 0;
        if (n == 0 || n >= AWS_ID_MAX || strspn(id, ok) != n)
                return error_set(err, errlen, -EINVAL, "%s '%.64s' is not a valid catalog id", what,
                                 id ? id : "");
        return 0;
}

/* GET /Op?catalog=AWSMarketplace&key=id. */
static int describe(struct aws_client *c, enum aws_op op, const char *key, const char *id,
                    struct aws_http_resp *resp, char *err, size_t errlen)
{
        char url[URL_MAX];
        int rc = check_id(id, key, err, errlen);
        if (rc < 0)
                return rc;
        (void)error_set(url, sizeof url, 0, "%s/%s?catalog=AWSMarketplace&%s=%s", c->endpoint,
                        ops[op].name, key, id);
        return call(c, op, "GET", url, NULL, resp, err, errlen);
}

/* A parse failure of a 2xx answer counts as a failed call. */
static int parsed(struct aws_client *c, enum aws_op op, int rc, char *err, size_t errlen)
{
        if (rc < 0 && rc != -ENOMEM) {
                c->stats[op].ok--;
                c->stats[op].failed++;
                char why[CPPO_ERRLEN];
                (void)error_set(why, sizeof why, 0, "%s", err ? err : "");
                return error_set(err, errlen, rc, "%s: %s", ops[op].name, why);
        }
        return rc;
}

int aws_describe_resale_authorization(struct aws_client *c, const char *id,
                                      struct aws_resale_auth *out, char *err, size_t errlen)
{
        struct aws_http_resp resp;
        aws_http_resp_init(&resp);
        int rc = describe(c, AWS_OP_DESCRIBE_ENTITY, "entityId", id, &resp, err, errlen);
        if (rc == 0)
                rc = parsed(
                    c, AWS_OP_DESCRIBE_ENTITY,
                    aws_parse_resale_authorization(resp.body.data, resp.body.len, out, err, errlen),
                    err, errlen);
        aws_http_resp_deinit(&resp);
        return rc;
}

int aws_describe_change_set(struct aws_client *c, const char *id, struct aws_change_set *out,
                            char *err, size_t errlen)
{
        struct aws_http_resp resp;
        aws_http_resp_init(&resp);
        int rc = describe(c, AWS_OP_DESCRIBE_CHANGE_SET, "changeSetId", id, &resp, err, errlen);
        if (rc == 0)
                rc = parsed(c, AWS_OP_DESCRIBE_CHANGE_SET,
                            aws_parse_change_set(resp.body.data, resp.body.len, out, err, errlen),
                            err, errlen);
        aws_http_resp_deinit(&resp);
        return rc;
}

int aws_lookup_offer(struct aws_client *c, const char *offer_id, char *ra_id, size_t ra_len,
                     char *err, size_t errlen)
{
        struct aws_http_resp resp;
        if (ra_len == 0)
                return -EINVAL;
        ra_id[0] = '\0';
        aws_http_resp_init(&resp);
        int rc = describe(c, AWS_OP_DESCRIBE_ENTITY, "entityId", offer_id, &resp, err, errlen);
        if (rc == 0) {
                rc = aws_parse_offer(resp.body.data, resp.body.len, ra_id, ra_len, err, errlen);
                if (rc == 0)
                        (void)error_set(err, errlen, 0, "offer '%s' names no resale authorization",
                                        offer_id);
        }
        /* Not ours to see, not there, or not an offer: "not visible". */
        if (rc == -EACCES || rc == -ENOENT || rc == -EPROTO)
                rc = 0;
        aws_http_resp_deinit(&resp);
        return rc;
}

/* NextToken characters (the API's pattern), so it goes into JSON as is. */
static bool token_ok(const char *t)
{
        static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_+=.:@-/";
        size_t n = strlen(t);
        return n < AWS_TOKEN_MAX && strspn(t, ok) == n;
}

static int list_body(struct buf *b, const char *after, const char *next_token, int max_results)
{
        int rc = buf_printf(
            b,
            "{\"Catalog\":\"AWSMarketplace\",\"EntityType\":\"ResaleAuthorization\","
            "\"OwnershipType\":\"SELF\",\"MaxResults\":%d",
            max_results);
        if (rc == 0 && next_token != NULL && next_token[0] != '\0')
                rc = buf_printf(b, ",\"NextToken\":\"%s\"", next_token);
        if (rc == 0 && after != NULL)
                rc = buf_printf(b,
                                ",\"EntityTypeFilters\":{\"ResaleAuthorizationFilters\":"
                                "{\"LastModifiedDate\":{\"DateRange\":{\"AfterValue\":\"%s\"}}}}",
                                after);
        return rc == 0 ? buf_putc(b, '}') : rc;
}

int aws_list_resale_authorizations(struct aws_client *c, const char *modified_after,
                                   const char *next_token, int max_results,
                                   struct aws_list_page *out, char *err, size_t errlen)
{
        char after[TIMEFMT_LEN], url[URL_MAX];
        int64_t t;
        if (max_results < 1 || max_results > AWS_PAGE_MAX)
                return error_set(err, errlen, -EINVAL, "MaxResults %d is not within 1..%d",
                                 max_results, AWS_PAGE_MAX);
        if (next_token != NULL && !token_ok(next_token))
                return error_set(err, errlen, -EINVAL, "NextToken is not valid");
        if (modified_after != NULL && timefmt_parse(modified_after, &t) < 0)
                return error_set(err, errlen, -EINVAL, "'%.40s' is not a timestamp",
                                 modified_after);
        if (modified_after != NULL)
                timefmt_format(t, after); /* the API wants exactly YYYY-MM-DDTHH:MM:SSZ */
        struct buf body = BUF_INIT(AWS_TOKEN_MAX + 512);
        struct aws_http_resp resp;
        aws_http_resp_init(&resp);
        int rc = list_body(&body, modified_after ? after : NULL, next_token, max_results);
        (void)error_set(url, sizeof url, 0, "%s/ListEntities", c->endpoint);
        if (rc == 0)
                rc = call(c, AWS_OP_LIST_ENTITIES, "POST", url, body.data, &resp, err, errlen);
        if (rc == 0)
                rc = parsed(c, AWS_OP_LIST_ENTITIES,
                            aws_parse_list_page(resp.body.data, resp.body.len, out, err, errlen),
                            err, errlen);
        aws_http_resp_deinit(&resp);
        buf_deinit(&body);
        return rc;
}
