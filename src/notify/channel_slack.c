/* cppo-notify — the Slack channel: a JSON payload POSTed to an incoming
 * webhook (see channel_internal.h and, for the outcome table, dispatch.h). The
 * webhook URL is a secret: it is never logged, and Slack's error text is
 * scrubbed of it. Slack limits each webhook, not each receiver, so
 * receivers posting to the same URL share one pace. */
#include "channel_internal.h"

#include "cppo/secret.h"

#include <string.h>

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
        (void)cfg;
        return channel_http_settings(rc, j);
}

/* ---- the transfer (worker thread) ---- */

static CURLcode slack_setup(CURL *c, struct dw_job *j)
{
        return channel_http_post(c, j);
}

/* ---- the outcome (dispatcher thread) ---- */

/* Slack's webhook statuses are the common table (channel_http_classify):
 * 401, 403, 404 and 410 are invalid_token, action_prohibited, no_service,
 * channel_not_found, channel_is_archived, team_disabled: a webhook that
 * is gone, revoked or not allowed to post. */
static enum dispatch_verdict slack_classify(int curl_result, long code)
{
        return channel_http_classify(curl_result, code);
}

static void slack_outcome(const struct dw_job *j, struct outcome *o)
{
        channel_http_outcome(j, o, "slack", slack_classify(j->result, j->code));
}

const struct channel channel_slack = {
        .type = CONFIG_RECEIVER_SLACK,
        .unsendable = slack_unsendable,
        .settings = slack_settings,
        .pace_key = channel_http_pace_key,
        .protocols = "https,http",
        .setup = slack_setup,
        .finished = channel_http_finished,
        .classify = slack_classify,
        .outcome = slack_outcome,
        .render = &render_slack,
};
