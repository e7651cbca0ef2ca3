/* cppo-notify — the Slack channel: a JSON payload POSTed to an incoming
 * webhook (see channel_internal.h and, for the outcome table, dispatch.h). The
 * webhook URL is a secret: it is never logged, and Slack's error text is
 * scrubbed of it. Slack limits each webhook, not each receiver, so
 * receivers posting to the same URL share one pace. */
#include "channel_internal.h"

#include "cppo/buf.h"
#include "cppo/secret.h"

#include <string.h>

#define HTTP_CONNECT_MS 10000
#define HTTP_TIMEOUT_MS 30000

/* ---- settings (dispatcher thread) ---- */

static const char *slack_unsendable(const struct config *cfg, const struct config_receiver *rc,
                                    const struct delivery *dl)
{
        (void)cfg;
        (void)dl;
        return secret_value(rc->webhook_url) == NULL ? "slack: no webhook url" : NULL;
}

static int slack_settings(const struct config *cfg, const struct config_receiver *rc,
                          struct dw_job *j)
{
        int r;

        (void)cfg;
        j->timeout_ms = HTTP_TIMEOUT_MS;
        j->connect_ms = HTTP_CONNECT_MS;
        r = channel_dup(&j->url, secret_value(rc->webhook_url));
        return r < 0 ? r : channel_dup(&j->ca_file, rc->ca_file);
}

static const char *slack_pace_key(const struct config_receiver *rc)
{
        const char *url = secret_value(rc->webhook_url);

        return url != NULL ? url : rc->name;
}

/* ---- the transfer (worker thread) ---- */

static size_t write_body(char *data, size_t size, size_t nmemb, void *p)
{
        struct dw_job *j = p;
        size_t n = size * nmemb, room = j->body.max - j->body.len;

        /* keep the head of the body, swallow the rest */
        if (buf_append(&j->body, data, n < room ? n : room) < 0)
                return 0;
        return n;
}

static CURLcode slack_setup(CURL *c, struct dw_job *j)
{
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        CURLcode rc;

        j->headers = h;
        /* no "Expect: 100-continue" round trip for larger payloads */
        if (h != NULL && (h = curl_slist_append(j->headers, "Expect:")) != NULL)
                j->headers = h;
        rc = h == NULL ? CURLE_OUT_OF_MEMORY : CURLE_OK;
        CHANNEL_SETOPT(rc, c, CURLOPT_URL, j->url);
        CHANNEL_SETOPT(rc, c, CURLOPT_HTTPHEADER, j->headers);
        CHANNEL_SETOPT(rc, c, CURLOPT_POSTFIELDS, j->dl.payload);
        CHANNEL_SETOPT(rc, c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->dl.payload_len);
        CHANNEL_SETOPT(rc, c, CURLOPT_WRITEFUNCTION, write_body);
        CHANNEL_SETOPT(rc, c, CURLOPT_WRITEDATA, (void *)j);
        return rc;
}

/* A 429's Retry-After, for the pace (slack_outcome). */
static void slack_finished(CURL *c, struct dw_job *j)
{
        curl_off_t after = 0;

        if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &after) == CURLE_OK)
                j->retry_after_s = (int64_t)after;
}

/* ---- the outcome (dispatcher thread) ---- */

/* HTTP statuses of a webhook that is gone, revoked or not allowed to post:
 * Slack's invalid_token, action_prohibited (403), no_service,
 * channel_not_found (404), channel_is_archived, team_disabled (410). */
static const long receiver_http[] = { 401, 403, 404, 410 };

static enum dispatch_verdict slack_classify(int curl_result, long code)
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

/* Slack's error text for a permanent failure: printable ASCII, capped, and
 * never the webhook URL or its path. */
static void slack_error_text(const struct dw_job *j, enum outcome_kind k, struct outcome *o)
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
        outcome_set(o, k, (int)j->code, "slack: http %ld: %s", j->code, text);
}

static void slack_outcome(const struct dw_job *j, struct outcome *o)
{
        long code = j->code;
        enum outcome_kind k = channel_outcome_kind(slack_classify(j->result, code));

        /* only curl's generic text: its error buffer may name the URL */
        if (j->result != CURLE_OK)
                outcome_set(o, k, (int)code, "slack: %s", curl_easy_strerror((CURLcode)j->result));
        else if (k == OUT_SENT) {
                o->kind = OUT_SENT;
                o->code = (int)code;
        } else if (code == 429) {
                /* holds back every delivery to that webhook, not only this one */
                outcome_set(o, OUT_RETRY, 429, "slack: http 429 (retry after %lld s)",
                            (long long)j->retry_after_s);
                o->retry_after_ms = j->retry_after_s * 1000;
        } else if (code >= 500)
                outcome_set(o, k, (int)code, "slack: http %ld", code);
        else
                slack_error_text(j, k, o);
}

const struct channel channel_slack = {
        .type = CONFIG_RECEIVER_SLACK,
        .unsendable = slack_unsendable,
        .settings = slack_settings,
        .pace_key = slack_pace_key,
        .protocols = "https,http",
        .setup = slack_setup,
        .finished = slack_finished,
        .classify = slack_classify,
        .outcome = slack_outcome,
        .render = &render_slack,
};
