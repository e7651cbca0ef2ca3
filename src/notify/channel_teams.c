/* cppo-notify — the Microsoft Teams channel: an Adaptive Card message
 * (render_teams.c) POSTed to a Workflows "When a Teams webhook request is
 * received" URL (see channel_internal.h and, for the outcome table,
 * dispatch.h). The URL carries its own signature (sig=...), so it is a
 * secret: never logged, scrubbed from error text. Receivers posting to the
 * same URL share one pace. */
#include "channel_internal.h"

#include "cppo/secret.h"

/* ---- settings (dispatcher thread) ---- */

static const char *teams_unsendable(const struct config *cfg, const struct config_receiver *rc,
                                    const struct delivery *dl)
{
        (void)cfg;
        (void)dl;
        return secret_value(rc->webhook_url) == NULL ? "teams: no webhook url" : NULL;
}

static int teams_settings(const struct config *cfg, const struct config_receiver *rc,
                          struct dw_job *j)
{
        (void)cfg;
        return channel_http_settings(rc, j);
}

/* ---- the transfer (worker thread) ---- */

static CURLcode teams_setup(CURL *c, struct dw_job *j)
{
        return channel_http_post(c, j);
}

/* ---- the outcome (dispatcher thread) ---- */

/* A Workflows trigger answers 202 Accepted once it has the request (200
 * from the older connectors): sent. 429 (the flow's or the channel's rate
 * limit) and 5xx are retried, Retry-After honoured. 401 and 403 (the sig
 * in the URL no longer valid), 404 and 410 (the flow deleted or turned
 * off) are the receiver's: its deliveries wait for it. Any other 4xx (a
 * card the flow refuses, 400; too large, 413) is final for the message.
 * That is the common table (channel_http_classify). */
static enum dispatch_verdict teams_classify(int curl_result, long code)
{
        return channel_http_classify(curl_result, code);
}

static void teams_outcome(const struct dw_job *j, struct outcome *o)
{
        channel_http_outcome(j, o, "teams", teams_classify(j->result, j->code));
}

const struct channel channel_teams = {
        .type = CONFIG_RECEIVER_TEAMS,
        .unsendable = teams_unsendable,
        .settings = teams_settings,
        .pace_key = channel_http_pace_key,
        .protocols = "https,http",
        .setup = teams_setup,
        .finished = channel_http_finished,
        .classify = teams_classify,
        .outcome = teams_outcome,
        .render = &render_teams,
};
