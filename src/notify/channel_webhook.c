/* cppo-notify — the webhook channel: the notification's JSON document
 * (the file receiver's line, render_file.c) POSTed to any HTTPS endpoint,
 * signed per the Standard Webhooks specification:
 *
 *   webhook-id         the delivery key (the same on every retry, so the
 *                      consumer can drop duplicates)
 *   webhook-timestamp  unix seconds when this attempt is sent
 *   webhook-signature  "v1,<base64 HMAC-SHA256>" for each signing secret,
 *                      space-separated (rotation: the consumer accepts any)
 *
 * The MAC's key is the base64-decoded part of a "whsec_..." secret after
 * the prefix; its message is id "." timestamp "." body. The URL, the
 * secrets and the custom headers (an Authorization may be among them) are
 * never logged; the consumer's error text is scrubbed of the URL. Outcomes
 * and pacing as for Slack (channel_http_classify): one pace per URL. */
#include "channel_internal.h"

#include "cppo/base64.h"
#include "cppo/buf.h"
#include "cppo/secret.h"
#include "cppo/sha256.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIGNATURE_MAX 1024 /* bytes of the webhook-signature header line */
#define KEY_MAX       256  /* bytes of a decoded secret (the config allows 64) */

/* ---- settings (dispatcher thread) ---- */

static const char *webhook_unsendable(const struct config *cfg, const struct config_receiver *rc,
                                      const struct delivery *dl)
{
        (void)cfg;
        (void)dl;
        if (secret_value(rc->webhook_url) == NULL)
                return "webhook: no url";
        return rc->signing.count == 0 ? "webhook: no signing secret" : NULL;
}

/* Every secret file's lines, one secret a line. */
static int join_secrets(const struct config_secrets *l, char **out)
{
        struct buf b = BUF_INIT(CONFIG_MAX_SIGNING_SECRETS * (SECRET_MAX + 1));
        int r = 0;

        for (size_t i = 0; r == 0 && i < l->count; i++)
                r = buf_printf(&b, "%s\n", secret_value(l->items[i]));
        if (r == 0)
                r = channel_dup(out, buf_cstr(&b));
        if (b.data != NULL)
                memset(b.data, 0, b.len);
        buf_deinit(&b);
        return r;
}

static int join_headers(const struct config_strmap *m, char **out)
{
        struct buf b = BUF_INIT(64 * 1024);
        int r = 0;

        for (size_t i = 0; r == 0 && i < m->count; i++)
                r = buf_printf(&b, "%s: %s\n", m->keys[i], m->values[i]);
        if (r == 0 && m->count > 0)
                r = channel_dup(out, buf_cstr(&b));
        if (b.data != NULL)
                memset(b.data, 0, b.len);
        buf_deinit(&b);
        return r;
}

static int webhook_settings(const struct config *cfg, const struct config_receiver *rc,
                            struct dw_job *j)
{
        int r;

        (void)cfg;
        r = channel_http_settings(rc, j);
        if (r == 0)
                r = join_secrets(&rc->signing, &j->signing);
        return r < 0 ? r : join_headers(&rc->headers, &j->custom);
}

/* ---- signing (worker thread) ---- */

/* One "v1,<base64>" for the secret line s (len bytes, "whsec_..."): 0, or
 * -EINVAL when it is not one (the config checked it: not expected). */
static int sign_one(const char *s, size_t len, const char *id, const char *ts,
                    const struct delivery *dl, struct buf *out)
{
        uint8_t key[KEY_MAX], mac[32];
        char b64[BASE64_LEN(32) + 1];
        struct hmac_sha256 h;
        long n;

        if (len > 0 && s[len - 1] == '\r')
                len--;
        if (len < 6 || memcmp(s, "whsec_", 6) != 0)
                return -EINVAL;
        n = base64_decode(s + 6, len - 6, key, sizeof key);
        if (n <= 0)
                return -EINVAL;
        hmac_sha256_init(&h, key, (size_t)n);
        memset(key, 0, sizeof key);
        hmac_sha256_update(&h, id, strlen(id));
        hmac_sha256_update(&h, ".", 1);
        hmac_sha256_update(&h, ts, strlen(ts));
        hmac_sha256_update(&h, ".", 1);
        hmac_sha256_update(&h, dl->payload, dl->payload_len);
        hmac_sha256_final(&h, mac);
        base64_encode(mac, sizeof mac, b64);
        return buf_printf(out, "%sv1,%s", out->len > strlen("webhook-signature: ") ? " " : "", b64);
}

/* "webhook-signature: v1,<sig> v1,<sig>..." over every secret line. */
static int signature_header(const char *secrets, const char *id, const char *ts,
                            const struct delivery *dl, struct buf *out)
{
        int r = buf_printf(out, "webhook-signature: ");

        for (const char *p = secrets; r == 0 && p != NULL && *p != '\0';) {
                size_t len = strcspn(p, "\n");

                if (len > 0 && !(len == 1 && p[0] == '\r'))
                        r = sign_one(p, len, id, ts, dl, out);
                p += len + (p[len] == '\n');
        }
        return r;
}

/* The delivery key goes into a header and into the signed message as it
 * is: printable ASCII only, or the receiver could not verify it. */
static bool header_safe(const char *s)
{
        for (; s != NULL && *s != '\0'; s++)
                if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
                        return false;
        return s != NULL;
}

static CURLcode add_header(struct dw_job *j, const char *line)
{
        struct curl_slist *h = curl_slist_append(j->headers, line);

        if (h == NULL)
                return CURLE_OUT_OF_MEMORY;
        j->headers = h;
        return CURLE_OK;
}

/* The custom headers, one a line. */
static CURLcode add_custom(struct dw_job *j)
{
        char line[4096];
        CURLcode rc = CURLE_OK;

        for (const char *p = j->custom; rc == CURLE_OK && p != NULL && *p != '\0';) {
                size_t len = strcspn(p, "\n");

                if (len >= sizeof line)
                        return CURLE_BAD_FUNCTION_ARGUMENT;
                memcpy(line, p, len);
                line[len] = '\0';
                rc = add_header(j, line);
                p += len + (p[len] == '\n');
        }
        memset(line, 0, sizeof line);
        return rc;
}

static CURLcode webhook_setup(CURL *c, struct dw_job *j)
{
        char ts[24], id_line[600], ts_line[64];
        struct buf sig = BUF_INIT(SIGNATURE_MAX);
        CURLcode rc = CURLE_OK;

        snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
        if (!header_safe(j->dl.key) ||
            snprintf(id_line, sizeof id_line, "webhook-id: %s", j->dl.key) >= (int)sizeof id_line)
                rc = CURLE_BAD_FUNCTION_ARGUMENT;
        snprintf(ts_line, sizeof ts_line, "webhook-timestamp: %s", ts);
        if (rc == CURLE_OK && signature_header(j->signing, j->dl.key, ts, &j->dl, &sig) < 0)
                rc = CURLE_BAD_FUNCTION_ARGUMENT;
        if (rc == CURLE_OK)
                rc = add_header(j, id_line);
        if (rc == CURLE_OK)
                rc = add_header(j, ts_line);
        if (rc == CURLE_OK)
                rc = add_header(j, buf_cstr(&sig));
        if (rc == CURLE_OK)
                rc = add_custom(j);
        buf_deinit(&sig);
        return rc == CURLE_OK ? channel_http_post(c, j) : rc;
}

/* ---- the outcome (dispatcher thread) ---- */

/* The common table (channel_http_classify): 2xx sent; 401, 403 (our
 * signature or credentials refused), 404, 410 (the endpoint is gone) the
 * receiver's; 429 and 5xx retried, Retry-After honoured; any other 4xx
 * dead: the consumer refused this payload. */
static enum dispatch_verdict webhook_classify(int curl_result, long code)
{
        return channel_http_classify(curl_result, code);
}

static void webhook_outcome(const struct dw_job *j, struct outcome *o)
{
        channel_http_outcome(j, o, "webhook", webhook_classify(j->result, j->code));
}

const struct channel channel_webhook = {
        .type = CONFIG_RECEIVER_WEBHOOK,
        .unsendable = webhook_unsendable,
        .settings = webhook_settings,
        .pace_key = channel_http_pace_key,
        .protocols = "https,http",
        .setup = webhook_setup,
        .finished = channel_http_finished,
        .classify = webhook_classify,
        .outcome = webhook_outcome,
        .render = &render_file,
};
