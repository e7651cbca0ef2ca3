/* One HTTP exchange for the AWS modules: capped body, the error-type
 * header, TLS verification on, a hard timeout, no redirects. */
#include "aws_internal.h"

#include "cppo/aws.h"
#include "cppo/error.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Connecting gets at most this much of the request's time. */
#define CONNECT_TIMEOUT_MS 5000L

void aws_http_resp_init(struct aws_http_resp *r)
{
        memset(r, 0, sizeof *r);
        buf_init(&r->body, AWS_RESPONSE_MAX);
}

void aws_http_resp_deinit(struct aws_http_resp *r)
{
        buf_deinit(&r->body);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
        struct aws_http_resp *r = ud;
        /* A short count makes curl stop with CURLE_WRITE_ERROR. */
        return buf_append(&r->body, p, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
        static const char name[] = "x-amzn-errortype:";
        struct aws_http_resp *r = ud;
        size_t len = size * n;
        if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
                const char *v = p + sizeof name - 1;
                size_t vlen = len - (sizeof name - 1);
                while (vlen > 0 && (*v == ' ' || *v == '\t'))
                        v++, vlen--;
                while (vlen > 0 &&
                       (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
                        vlen--;
                if (vlen >= sizeof r->errortype)
                        vlen = sizeof r->errortype - 1;
                memcpy(r->errortype, v, vlen);
                r->errortype[vlen] = '\0';
        }
        return len;
}

#define SETOPT(rc, e, opt, val)                                                                    \
        do {                                                                                       \
                if ((rc) == CURLE_OK)                                                              \
                        (rc) = curl_easy_setopt((e), (opt), (val));                                \
        } while (0)

static CURLcode set_common(CURL *e, const struct aws_http_req *req, struct aws_http_resp *resp)
{
        CURLcode rc = CURLE_OK;
        long timeout = req->timeout_ms > 0 ? req->timeout_ms : 10000L;
        SETOPT(rc, e, CURLOPT_URL, req->url);
        SETOPT(rc, e, CURLOPT_NOSIGNAL, 1L);
        SETOPT(rc, e, CURLOPT_PROTOCOLS_STR, "http,https");
        SETOPT(rc, e, CURLOPT_FOLLOWLOCATION, 0L);
        SETOPT(rc, e, CURLOPT_SSL_VERIFYPEER, 1L);
        SETOPT(rc, e, CURLOPT_SSL_VERIFYHOST, 2L);
        SETOPT(rc, e, CURLOPT_USERAGENT, "cppo-notify/" CPPO_VERSION);
        SETOPT(rc, e, CURLOPT_TIMEOUT_MS, timeout);
        SETOPT(rc, e, CURLOPT_CONNECTTIMEOUT_MS,
               timeout < CONNECT_TIMEOUT_MS ? timeout : CONNECT_TIMEOUT_MS);
        SETOPT(rc, e, CURLOPT_WRITEFUNCTION, on_body);
        SETOPT(rc, e, CURLOPT_WRITEDATA, (void *)resp);
        SETOPT(rc, e, CURLOPT_HEADERFUNCTION, on_header);
        SETOPT(rc, e, CURLOPT_HEADERDATA, (void *)resp);
        SETOPT(rc, e, CURLOPT_ERRORBUFFER, resp->transport);
        if (req->headers != NULL)
                SETOPT(rc, e, CURLOPT_HTTPHEADER, req->headers);
        if (req->ca_file != NULL)
                SETOPT(rc, e, CURLOPT_CAINFO, req->ca_file);
        return rc;
}

static CURLcode set_method(CURL *e, const struct aws_http_req *req)
{
        CURLcode rc = CURLE_OK;
        if (strcmp(req->method, "GET") == 0)
                return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        /* POST and PUT carry a (possibly empty) body with its length. */
        SETOPT(rc, e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SETOPT(rc, e, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
        if (strcmp(req->method, "PUT") == 0)
                SETOPT(rc, e, CURLOPT_CUSTOMREQUEST, "PUT");
        return rc;
}

static CURLcode set_sigv4(CURL *e, const struct aws_http_req *req)
{
        CURLcode rc = CURLE_OK;
        if (req->sigv4 == NULL)
                return rc;
        SETOPT(rc, e, CURLOPT_AWS_SIGV4, req->sigv4);
        SETOPT(rc, e, CURLOPT_USERNAME, req->user);
        SETOPT(rc, e, CURLOPT_PASSWORD, req->password);
        return rc;
}

static int transport_errno(CURLcode rc)
{
        switch (rc) {
        case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
        case CURLE_WRITE_ERROR: return -E2BIG;
        default: return -EIO;
        }
}

int aws_http_do(CURL *easy, const struct aws_http_req *req, struct aws_http_resp *resp)
{
        curl_easy_reset(easy);
        buf_reset(&resp->body);
        resp->status = 0;
        resp->errortype[0] = '\0';
        resp->transport[0] = '\0';
        CURLcode rc = set_common(easy, req, resp);
        if (rc == CURLE_OK)
                rc = set_method(easy, req);
        if (rc == CURLE_OK)
                rc = set_sigv4(easy, req);
        if (rc == CURLE_OK)
                rc = curl_easy_perform(easy);
        /* The password option holds a copy of the secret inside curl until
         * the next reset; drop it now. */
        if (req->sigv4 != NULL)
                (void)curl_easy_setopt(easy, CURLOPT_PASSWORD, "");
        if (rc != CURLE_OK) {
                if (resp->transport[0] == '\0')
                        error_set(resp->transport, sizeof resp->transport, 0, "%s",
                                  curl_easy_strerror(rc));
                return transport_errno(rc);
        }
        if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK)
                return -EIO;
        return 0;
}

void aws_http_headers_free(struct curl_slist *h)
{
        for (struct curl_slist *p = h; p != NULL; p = p->next)
                if (p->data != NULL)
                        explicit_bzero(p->data, strlen(p->data));
        curl_slist_free_all(h);
}

void aws_sleep_ms(int64_t ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
        while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}
