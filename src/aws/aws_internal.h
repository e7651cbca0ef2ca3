/* cppo-notify — what the aws_*.c files share and nothing else uses: JSON
 * tree helpers and one HTTP exchange over a reusable curl handle. */
#ifndef CPPO_AWS_INTERNAL_H
#define CPPO_AWS_INTERNAL_H

#include "cppo/buf.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

/* Parses at most AWS_RESPONSE_MAX bytes (no NUL, nesting bounded) into a
 * yajl tree the caller frees. -EPROTO with a reason in err. */
int aws_json_parse(const char *json, size_t len, yajl_val *out, char *err, size_t errlen);

/* obj[key] when obj is an object and the member is not null, else NULL. */
yajl_val aws_json_get(yajl_val obj, const char *key);

struct aws_http_req {
        const char *method; /* "GET", "POST" or "PUT" */
        const char *url;
        const struct curl_slist *headers;
        const char *body; /* POST/PUT body, may be NULL */
        size_t body_len;
        long timeout_ms;             /* whole exchange */
        const char *ca_file;         /* NULL: the system bundle */
        const char *sigv4;           /* "aws:amz:REGION:SERVICE" or NULL */
        const char *user, *password; /* the access key id and secret for sigv4 */
};

struct aws_http_resp {
        long status;                     /* 0 when no answer arrived */
        struct buf body;                 /* capped at AWS_RESPONSE_MAX */
        char errortype[128];             /* X-Amzn-Errortype, "" when absent */
        char transport[CURL_ERROR_SIZE]; /* curl's reason when status is 0 */
};

void aws_http_resp_init(struct aws_http_resp *r);
void aws_http_resp_deinit(struct aws_http_resp *r);

/* One exchange on easy (reset first, so connections are reused). 0 when an
 * answer arrived, whatever its status; -ETIMEDOUT, -ECONNREFUSED, -E2BIG
 * (body over the cap) or -EIO when none did (resp->transport says why). */
int aws_http_do(CURL *easy, const struct aws_http_req *req, struct aws_http_resp *resp);

/* Wipes every string of a header list, then frees it (a list may carry a
 * session token or a container authorization token). */
void aws_http_headers_free(struct curl_slist *h);

/* Monotonic and wall-clock milliseconds; a sleep that resumes after EINTR. */
void aws_sleep_ms(int64_t ms);

#endif
