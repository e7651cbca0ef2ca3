/* cppo-notify — the channels a delivery goes out by (private to
 * src/notify/): one file each, channel_<name>.c, owning what differs
 * between them, so the dispatcher (dispatch.c: scheduling, pacing, health)
 * and its workers (dispatch_worker.c: threads, the libcurl multi loop) have
 * no per-channel branches:
 *
 *   - what the config must give before anything is tried (unsendable) and
 *     the settings a worker needs, copied into its job (settings);
 *   - how the worker sends: a libcurl transfer (protocols, setup, finished)
 *     or a call that runs to its end on the worker's thread (run);
 *   - how an attempt counts (classify: the outcome table behind
 *     dispatch_classify) and what is recorded of it (outcome);
 *   - pacing: the key receivers share a pace under (pace_key) and how many
 *     deliveries one worker holds at once (batch);
 *   - the payload format rendering holds it to (render, a
 *     render_<name>.c beside the channel: rendering runs on the notify
 *     loop and in explain, not on the dispatcher's threads).
 *
 * A new channel is one new channel_<name>.c defining a struct channel (and
 * a render_<name>.c when its payload has a format of its own) and one entry
 * in channel.c's table.
 */
#ifndef CPPO_CHANNEL_INTERNAL_H
#define CPPO_CHANNEL_INTERNAL_H

#include "dispatch_worker.h"
#include "render_internal.h"

#include "cppo/channel.h"

#include "cppo/config.h"
#include "cppo/delivery.h"
#include "cppo/dispatch.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHANNEL_ERROR_MAX 320 /* bytes of an outcome's error text */

/* How an attempt is recorded (dispatch_verdict, as the store sees it). */
enum outcome_kind { OUT_SENT, OUT_RETRY, OUT_DEAD, OUT_DEFER };

struct outcome {
        enum outcome_kind kind;
        int code;
        int64_t retry_after_ms; /* > 0: hold the receiver's pace this long */
        int64_t latency_ms;
        char error[CHANNEL_ERROR_MAX]; /* never a secret */
        const char *refused;           /* recipients refused at RCPT, NULL if none */
        int refused_n;
};

struct channel {
        enum config_receiver_type type;
        /* On the dispatcher thread. Why the config cannot send dl (it is
         * DEAD then), or NULL; may be NULL. */
        const char *(*unsendable)(const struct config *cfg, const struct config_receiver *rc,
                                  const struct delivery *dl);
        /* Copies what the worker needs into j: 0 or -ENOMEM. */
        int (*settings)(const struct config *cfg, const struct config_receiver *rc,
                        struct dw_job *j);
        /* Receivers with the same key share one pace; NULL: the receiver's
         * name. */
        const char *(*pace_key)(const struct config_receiver *rc);
        /* Deliveries one worker holds at once; 0: the receiver's
         * concurrency. */
        long batch;
        /* On the worker thread: either a libcurl transfer ... */
        const char *protocols; /* CURLOPT_PROTOCOLS_STR */
        CURLcode (*setup)(CURL *c, struct dw_job *j);
        void (*finished)(CURL *c, struct dw_job *j); /* may be NULL */
        /* ... or a call that runs to its end (sets j->result, 0 or a
         * negative errno); NULL for transfers. */
        void (*run)(struct dw_job *j);
        /* On the dispatcher thread: the outcome table (dispatch.h) and the
         * outcome of a finished job that did not fail at setup. */
        enum dispatch_verdict (*classify)(int curl_result, long code);
        void (*outcome)(const struct dw_job *j, struct outcome *o);
        /* The payload format (render_internal.h); NULL: the e-mail parts. */
        const struct render_format *render;
};

extern const struct channel channel_email, channel_slack, channel_file, channel_webhook,
    channel_teams;

/* The channel of a receiver type; NULL for none. */
const struct channel *channel_get(enum config_receiver_type type);

/* ---- shared by the channels ---- */

void outcome_set(struct outcome *o, enum outcome_kind k, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The outcome kind a verdict records. */
enum outcome_kind channel_outcome_kind(enum dispatch_verdict v);

/* Whether x is one of the n values of v; CHANNEL_IN(table, x) for an array. */
bool channel_in(const long *v, size_t n, long x);
#define CHANNEL_IN(table, x) channel_in((table), sizeof(table) / sizeof((table)[0]), (x))

/* Whether a failed transfer was the receiver's own (unreachable,
 * untrusted, refused the login, never answered), not the message's. */
bool channel_receiver_transport(int curl_result, long code);

/* *dst = a copy of src (NULL stays NULL): 0 or -ENOMEM. */
int channel_dup(char **dst, const char *src);

/* ---- HTTP webhooks (slack, webhook, teams) ---- */

/* The receiver's URL (webhook_url_file), CA file, attempt timeout (config
 * `timeout`) and connect timeout into j: 0 or -ENOMEM. */
int channel_http_settings(const struct config_receiver *rc, struct dw_job *j);

/* The pace key of a webhook: its URL (the limit is the endpoint's, whoever
 * posts to it), the receiver's name while there is none. */
const char *channel_http_pace_key(const struct config_receiver *rc);

/* A JSON POST of the payload to j->url: Content-Type and no Expect
 * appended to j->headers (a channel may have put its own there first), the
 * head of the response kept in j->body (the receiver's error text). */
CURLcode channel_http_post(CURL *c, struct dw_job *j);

/* A finished transfer's Retry-After, for the pace (channel_http_outcome). */
void channel_http_finished(CURL *c, struct dw_job *j);

/* The common webhook table: 2xx sent; 401, 403, 404, 410 the receiver's
 * (gone, revoked, refused); 429 and 5xx retried; other statuses dead; a
 * transport failure the receiver's when it never answered. */
enum dispatch_verdict channel_http_classify(int curl_result, long code);

/* The outcome of a transfer classified as v, its text prefixed "name: ":
 * curl's generic text (never its error buffer, which may name the URL), a
 * Retry-After honoured on 429 and 5xx, the receiver's own text (printable,
 * capped, the URL scrubbed) on any other failure. */
void channel_http_outcome(const struct dw_job *j, struct outcome *o, const char *name,
                          enum dispatch_verdict v);

/* Sets options until one fails; rc keeps the first failure. */
#define CHANNEL_SETOPT(rc, c, opt, val)                                                            \
        do {                                                                                       \
                if ((rc) == CURLE_OK)                                                              \
                        (rc) = curl_easy_setopt((c), (opt), (val));                                \
        } while (0)

#endif
