/* cppo-notify — the AWS Marketplace Catalog API client.
 *
 * REST-JSON over libcurl, signed with SigV4 by libcurl itself
 * (CURLOPT_AWS_SIGV4 "aws:amz:REGION:aws-marketplace") plus
 * X-Amz-Security-Token for temporary credentials. Three operations are
 * used: ListEntities (resale authorizations, paginated), DescribeEntity
 * (a resale authorization, or an offer for its ResaleAuthorizationId) and
 * DescribeChangeSet (which entities a change touched). doc/aws.md lists the
 * wire shapes this module relies on.
 *
 * Every call: waits for a token of its operation's bucket (the documented
 * quotas: ListEntities 10/s, DescribeEntity 20/s, DescribeChangeSet 10/s),
 * gets current credentials from the provider (refreshing temporary ones),
 * verifies TLS, stops after a hard per-request timeout, and retries 429,
 * 5xx and network failures with exponential backoff and full jitter,
 * bounded in attempts and in total time. A client is not thread-safe: one
 * per thread.
 *
 * Errors: negative errno (-ENOENT ResourceNotFound, -EACCES AccessDenied,
 * -EPERM bad or unknown credentials, -EAGAIN still throttled after the
 * retries, -EIO server or network failure after the retries, -ETIMEDOUT,
 * -EINVAL validation, -EPROTO an answer that is not what the API
 * documents) and one line in err: "DescribeEntity: 404
 * ResourceNotFoundException: Entity not found". No secret is ever in err:
 * server text passes through aws_creds_redact().
 */
#ifndef CPPO_AWS_H
#define CPPO_AWS_H

#include "cppo/error.h"

#include "cppo/aws_creds.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ limits */

#define AWS_ID_MAX       256        /* entity / change set ids (API: 255) */
#define AWS_NAME_MAX     256        /* names, legal names (API: 255) */
#define AWS_ACCOUNT_MAX  16         /* 12-digit account ids, with room */
#define AWS_TOKEN_MAX    2049       /* NextToken (API: 2048) */
#define AWS_BUYERS_MAX   64         /* buyer accounts kept per authorization */
#define AWS_PAGE_MAX     50         /* ListEntities MaxResults cap */
#define AWS_CHANGES_MAX  64         /* changes kept per change set */
#define AWS_RESPONSE_MAX (4u << 20) /* response body cap, bytes */

/* ------------------------------------------------------------ parsed shapes */

enum aws_ra_status {
        AWS_RA_UNKNOWN = 0,
        AWS_RA_DRAFT,
        AWS_RA_ACTIVE,
        AWS_RA_RESTRICTED,
};

/* "Draft", "Active", "Restricted", or "Unknown". */
const char *aws_ra_status_name(enum aws_ra_status s);

/* A resale authorization as DescribeEntity's DetailsDocument gives it.
 * Empty strings for absent fields; times 0 when absent. */
struct aws_resale_auth {
        char id[AWS_ID_MAX];
        char name[AWS_NAME_MAX];
        char product_id[AWS_ID_MAX];
        char product_name[AWS_NAME_MAX];
        enum aws_ra_status status;
        int64_t end_date; /* AvailabilityRule.AvailabilityEndDate */
        char reseller_account_id[AWS_ACCOUNT_MAX];
        char reseller_legal_name[AWS_NAME_MAX];
        size_t n_buyers; /* BuyerTargetingTerm accounts */
        char buyers[AWS_BUYERS_MAX][AWS_ACCOUNT_MAX];
        bool buyers_truncated; /* more than AWS_BUYERS_MAX were listed */
        int64_t last_modified;
};

/* One ListEntities summary. */
struct aws_entity_summary {
        char id[AWS_ID_MAX];
        char name[AWS_NAME_MAX];
        int64_t last_modified;
        enum aws_ra_status status; /* ResaleAuthorizationSummary.Status */
};

struct aws_list_page {
        size_t n;
        struct aws_entity_summary items[AWS_PAGE_MAX];
        char next_token[AWS_TOKEN_MAX]; /* "" on the last page */
};

struct aws_change {
        char change_type[AWS_NAME_MAX];
        char entity_type[AWS_NAME_MAX]; /* without "@1.0" */
        char entity_id[AWS_ID_MAX];     /* without "@revision" */
};

struct aws_change_set {
        char id[AWS_ID_MAX];
        char status[32];
        size_t n;
        struct aws_change changes[AWS_CHANGES_MAX];
        bool truncated;
};

/* An AWS error answer. */
struct aws_error {
        long http_status; /* 0 for a network failure */
        char type[128];   /* "ThrottlingException", "" when none given */
        char message[256];
};

/* ------------------------------------------------------------ pure parsers */

/* A DescribeEntity answer for a ResaleAuthorization (the whole response:
 * EntityType, EntityIdentifier, LastModifiedDate, DetailsDocument).
 * -EPROTO with a reason in err for invalid JSON, a wrong type at a known
 * field, a missing DetailsDocument or an entity of another type. */
CPPO_MUST_CHECK int aws_parse_resale_authorization(const char *json, size_t len,
                                                   struct aws_resale_auth *out, char *err,
                                                   size_t errlen);

/* A ListEntities answer. -EPROTO as above; -E2BIG for more than
 * AWS_PAGE_MAX summaries. */
CPPO_MUST_CHECK int aws_parse_list_page(const char *json, size_t len, struct aws_list_page *out,
                                        char *err, size_t errlen);

/* A DescribeChangeSet answer: the entities it touched (ChangeSet[].Entity),
 * deduplicated, in order. */
CPPO_MUST_CHECK int aws_parse_change_set(const char *json, size_t len, struct aws_change_set *out,
                                         char *err, size_t errlen);

/* A DescribeEntity answer for an Offer: copies DetailsDocument's
 * ResaleAuthorizationId into ra_id. Returns 1 when it names one, 0 when
 * the offer has none (a direct offer), -EPROTO when it is not an offer. */
CPPO_MUST_CHECK int aws_parse_offer(const char *json, size_t len, char *ra_id, size_t ra_len,
                                    char *err, size_t errlen);

/* An error answer from its status, X-Amzn-Errortype header value (may be
 * NULL; the part before ':' is the type) and body (__type, code or Code;
 * message or Message; a "prefix#Type" __type is cut to Type). Never
 * fails: unknown parts stay empty. */
void aws_parse_error(long status, const char *errortype_header, const char *body, size_t len,
                     struct aws_error *out);

/* The errno an error answer maps to (see the header comment). */
CPPO_MUST_CHECK int aws_error_code(const struct aws_error *e);

/* ------------------------------------------------------------ rate and retry */

/* A token bucket: `rate` tokens per second, at most `burst` saved. */
struct aws_bucket {
        double rate;
        double burst;
        double tokens;
        int64_t last_ms;
};

void aws_bucket_init(struct aws_bucket *b, double rate, double burst, int64_t now_ms);

/* Takes one token at now_ms (monotonic milliseconds) and returns how long
 * the caller must wait before using it (0: go now). The token is reserved
 * either way, so callers that wait the answer keep the rate exactly. */
int64_t aws_bucket_take(struct aws_bucket *b, int64_t now_ms);

/* Full-jitter backoff before retry number `attempt` (1, 2, ...): a value
 * in [0, min(cap_ms, base_ms * 2^(attempt-1))] drawn from r in [0, 1). */
int64_t aws_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, double r);

/* True for answers worth retrying: network failures (status 0), 429,
 * 5xx, and the throttling types some services send with 400. */
bool aws_error_retryable(const struct aws_error *e);

/* ------------------------------------------------------------ the client */

enum aws_op {
        AWS_OP_LIST_ENTITIES = 0,
        AWS_OP_DESCRIBE_ENTITY,
        AWS_OP_DESCRIBE_CHANGE_SET,
        AWS_OP_COUNT,
};

/* "ListEntities", "DescribeEntity", "DescribeChangeSet". */
const char *aws_op_name(enum aws_op op);

struct aws_client_opts {
        const char *region;      /* NULL: "us-east-1" (the Catalog API's only region) */
        const char *endpoint;    /* NULL: https://catalog.marketplace.REGION.amazonaws.com */
        const char *profile;     /* credentials profile, NULL: the chain's default */
        const char *ca_file;     /* extra CA bundle, NULL: the system's */
        long timeout_ms;         /* per request, 0: 10000 */
        unsigned max_attempts;   /* per call, 0: 6 */
        int64_t retry_budget_ms; /* total time a call may spend retrying, 0: 30000 */
        int64_t backoff_base_ms; /* 0: 200 */
        int64_t backoff_cap_ms;  /* 0: 5000 */
        double rate_scale;       /* multiplies the quotas (tests), 0: 1.0 */
        struct aws_creds_opts creds;
};

/* Per-operation counters since the client was made. */
struct aws_op_stats {
        unsigned long requests; /* HTTP attempts */
        unsigned long ok;       /* calls that succeeded */
        unsigned long failed;   /* calls that failed (after retries) */
        unsigned long retries;
        unsigned long throttled; /* 429 / throttling answers seen */
        int64_t waited_ms;       /* time spent waiting for the bucket */
};

struct aws_client;

/* -EINVAL for a bad region or endpoint (err says which); credentials are
 * looked up on the first call, not here. */
CPPO_MUST_CHECK int aws_client_new(struct aws_client **out, const struct aws_client_opts *opts,
                                   char *err, size_t errlen);
void aws_client_free(struct aws_client *c);

/* The credentials the last call used (NULL before the first call). */
const struct aws_creds *aws_client_creds(const struct aws_client *c);

/* The last error answer (http_status 0 and empty type when the last call
 * failed without one, or succeeded). */
const struct aws_error *aws_client_last_error(const struct aws_client *c);

void aws_client_stats(const struct aws_client *c, enum aws_op op, struct aws_op_stats *out);

/* ListEntities of EntityType ResaleAuthorization, OwnershipType SELF.
 * modified_after ("YYYY-MM-DDTHH:MM:SSZ") filters on LastModifiedDate when
 * not NULL; next_token continues a listing ("" or NULL: first page);
 * max_results 1..50. */
CPPO_MUST_CHECK int aws_list_resale_authorizations(struct aws_client *c, const char *modified_after,
                                                   const char *next_token, int max_results,
                                                   struct aws_list_page *out, char *err,
                                                   size_t errlen);

/* DescribeEntity of a resale authorization. */
CPPO_MUST_CHECK int aws_describe_resale_authorization(struct aws_client *c, const char *id,
                                                      struct aws_resale_auth *out, char *err,
                                                      size_t errlen);

/* DescribeChangeSet. */
CPPO_MUST_CHECK int aws_describe_change_set(struct aws_client *c, const char *id,
                                            struct aws_change_set *out, char *err, size_t errlen);

/* DescribeEntity of an offer, for its resale authorization. Returns 1 and
 * the id in ra_id when visible; 0 when not visible: AccessDenied, not
 * found, or an offer without one (err says which); negative for failures
 * worth trying again later (throttled, network, credentials). */
CPPO_MUST_CHECK int aws_lookup_offer(struct aws_client *c, const char *offer_id, char *ra_id,
                                     size_t ra_len, char *err, size_t errlen);

#endif
