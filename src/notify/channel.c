/* cppo-notify — the channel table and what the channels share (see
 * channel_internal.h). */
#include "channel_internal.h"

#include "cppo/buf.h"
#include "cppo/secret.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Indexed by receiver type: the one list of channels. */
static const struct channel *const channels[] = {
        [CONFIG_RECEIVER_EMAIL] = &channel_email, [CONFIG_RECEIVER_SLACK] = &channel_slack,
        [CONFIG_RECEIVER_FILE] = &channel_file,   [CONFIG_RECEIVER_WEBHOOK] = &channel_webhook,
        [CONFIG_RECEIVER_TEAMS] = &channel_teams,
};

const struct channel *channel_get(enum config_receiver_type type)
{
        if ((size_t)type >= sizeof channels / sizeof channels[0])
                return NULL;
        return channels[type];
}

void outcome_set(struct outcome *o, enum outcome_kind k, int code, const char *fmt, ...)
{
        va_list ap;

        o->kind = k;
        o->code = code;
        va_start(ap, fmt);
        vsnprintf(o->error, sizeof o->error, fmt, ap);
        va_end(ap);
}

enum outcome_kind channel_outcome_kind(enum dispatch_verdict v)
{
        static const enum outcome_kind kind[] = {
                [DISPATCH_SENT] = OUT_SENT,
                [DISPATCH_RETRY] = OUT_RETRY,
                [DISPATCH_PERMANENT] = OUT_DEAD,
                [DISPATCH_RECEIVER] = OUT_DEFER,
        };

        return kind[v];
}

/* The receiver, not the message: it cannot be found, reached, trusted or
 * logged into, or it never answered. */
static const long receiver_curl[] = {
        CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,
        CURLE_OPERATION_TIMEDOUT,    CURLE_SSL_CONNECT_ERROR,    CURLE_PEER_FAILED_VERIFICATION,
        CURLE_SSL_CERTPROBLEM,       CURLE_SSL_CIPHER,           CURLE_SSL_CACERT_BADFILE,
        CURLE_SSL_ISSUER_ERROR,      CURLE_SSL_CRL_BADFILE,      CURLE_SSL_PINNEDPUBKEYNOTMATCH,
        CURLE_USE_SSL_FAILED,        CURLE_LOGIN_DENIED,         CURLE_GOT_NOTHING,
};
/* Connection-level send or receive failures: the receiver's only when no
 * reply came (RCPT 4xx and DATA 5xx end in CURLE_SEND_ERROR too). */
static const long silent_curl[] = { CURLE_SEND_ERROR, CURLE_RECV_ERROR };

bool channel_in(const long *v, size_t n, long x)
{
        for (size_t i = 0; i < n; i++)
                if (v[i] == x)
                        return true;
        return false;
}

bool channel_receiver_transport(int curl_result, long code)
{
        return CHANNEL_IN(receiver_curl, curl_result) ||
               (code == 0 && CHANNEL_IN(silent_curl, curl_result));
}

int channel_dup(char **dst, const char *src)
{
        if (src == NULL)
                return 0;
        *dst = strdup(src);
        return *dst == NULL ? -ENOMEM : 0;
}

/* ---- HTTP webhooks (slack, webhook, teams) ---- */

#define HTTP_CONNECT_MS 10000
#define HTTP_TIMEOUT_MS 30000 /* when the receiver says nothing (tests' bare structs) */

int channel_http_settings(const struct config_receiver *rc, struct dw_job *j)
{
        int r;

        j->timeout_ms = rc->timeout > 0 ? rc->timeout * 1000 : HTTP_TIMEOUT_MS;
        j->connect_ms = HTTP_CONNECT_MS;
        r = channel_dup(&j->url, secret_value(rc->webhook_url));
        return r < 0 ? r : channel_dup(&j->ca_file, rc->ca_file);
}

const char *channel_http_pace_key(const struct config_receiver *rc)
{
        const char *url = secret_value(rc->webhook_url);

        return url != NULL ? url : rc->name;
}

static size_t write_body(char *data, size_t size, size_t nmemb, void *p)
{
        struct dw_job *j = p;
        size_t n = size * nmemb, room = j->body.max - j->body.len;

        /* keep the head of the body, swallow the rest */
        if (buf_append(&j->body, data, n < room ? n : room) < 0)
                return 0;
        return n;
}

CURLcode channel_http_post(CURL *c, struct dw_job *j)
{
        static const char *const common[] = { "Content-Type: application/json",
                                              /* no "Expect: 100-continue" round trip */
                                              "Expect:" };
        CURLcode rc = CURLE_OK;

        for (size_t i = 0; rc == CURLE_OK && i < sizeof common / sizeof common[0]; i++) {
                struct curl_slist *h = curl_slist_append(j->headers, common[i]);

                if (h == NULL)
                        rc = CURLE_OUT_OF_MEMORY;
                else
                        j->headers = h;
        }
        CHANNEL_SETOPT(rc, c, CURLOPT_URL, j->url);
        CHANNEL_SETOPT(rc, c, CURLOPT_HTTPHEADER, j->headers);
        CHANNEL_SETOPT(rc, c, CURLOPT_POSTFIELDS, j->dl.payload);
        CHANNEL_SETOPT(rc, c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->dl.payload_len);
        CHANNEL_SETOPT(rc, c, CURLOPT_WRITEFUNCTION, write_body);
        CHANNEL_SETOPT(rc, c, CURLOPT_WRITEDATA, (void *)j);
        return rc;
}

void channel_http_finished(CURL *c, struct dw_job *j)
{
        curl_off_t after = 0;

        if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &after) == CURLE_OK)
                j->retry_after_s = (int64_t)after;
}

/* A webhook that is gone, revoked or not allowed to post (Slack's
 * invalid_token, action_prohibited, no_service, channel_is_archived; a
 * Teams flow turned off or deleted; a webhook consumer refusing our
 * credentials or signature): the receiver's, not the message's. */
static const long receiver_http[] = { 401, 403, 404, 410 };

enum dispatch_verdict channel_http_classify(int curl_result, long code)
{
        if (curl_result != CURLE_OK)
                return channel_receiver_transport(curl_result, code) ? DISPATCH_RECEIVER
                                                                     : DISPATCH_RETRY;
        if (code >= 200 && code < 300)
                return DISPATCH_SENT;
        if (CHANNEL_IN(receiver_http, code))
                return DISPATCH_RECEIVER;
        return code == 429 || code >= 500 ? DISPATCH_RETRY : DISPATCH_PERMANENT;
}

/* Replaces every occurrence of secret in s (NUL-terminated) with "*". */
static void scrub(char *s, const char *secret)
{
        size_t n = secret != NULL ? strlen(secret) : 0;
        char *p;

        if (n == 0)
                return;
        while ((p = strstr(s, secret)) != NULL) {
                *p = '*';
                memmove(p + 1, p + n, strlen(p + n) + 1);
        }
}

/* The receiver's error text for a permanent failure: printable ASCII,
 * capped, and never the webhook URL or its path. */
static void http_error_text(const struct dw_job *j, const char *name, enum outcome_kind k,
                            struct outcome *o)
{
        const char *url = j->url;
        const char *scheme_end = url != NULL ? strstr(url, "://") : NULL;
        const char *path = scheme_end != NULL ? strchr(scheme_end + 3, '/') : NULL;
        char text[DW_BODY_MAX + 1];
        size_t n = 0;

        for (size_t i = 0; i < j->body.len && n < DW_BODY_MAX; i++) {
                unsigned char c = (unsigned char)j->body.data[i];
                text[n++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
        }
        text[n] = '\0';
        scrub(text, url);
        if (path != NULL && strlen(path) >= 8)
                scrub(text, path);
        outcome_set(o, k, (int)j->code, "%s: http %ld: %s", name, j->code, text);
}

void channel_http_outcome(const struct dw_job *j, struct outcome *o, const char *name,
                          enum dispatch_verdict v)
{
        long code = j->code;
        enum outcome_kind k = channel_outcome_kind(v);

        /* only curl's generic text: its error buffer may name the URL */
        if (j->result != CURLE_OK)
                outcome_set(o, k, (int)code, "%s: %s", name,
                            curl_easy_strerror((CURLcode)j->result));
        else if (k == OUT_SENT) {
                o->kind = OUT_SENT;
                o->code = (int)code;
        } else if (code == 429) {
                /* holds back every delivery to that webhook, not only this one */
                outcome_set(o, OUT_RETRY, 429, "%s: http 429 (retry after %lld s)", name,
                            (long long)j->retry_after_s);
                o->retry_after_ms = j->retry_after_s * 1000;
        } else if (code >= 500) {
                outcome_set(o, k, (int)code, "%s: http %ld", name, code);
                o->retry_after_ms = j->retry_after_s * 1000; /* a 503's Retry-After, if any */
        } else
                http_error_text(j, name, k, o);
}
