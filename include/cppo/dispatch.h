/* cppo-notify — the dispatcher: sends queued deliveries.
 *
 * One thread with its own store connection (same database, WAL) reads the
 * queue, claims deliveries and records every attempt; the sending itself
 * runs on one worker thread per receiver (its own libcurl multi handle;
 * file appends there too). Many deliveries in flight at once, each receiver
 * with its own concurrency limit (config_receiver.concurrency) and pacing
 * (config_receiver.rate messages per second; Slack defaults to 1/s per
 * webhook URL), so a slow, dead or hung receiver (an SMTP server that stops
 * answering after DATA, a FIFO nobody reads, a hung NFS mount) never delays
 * another, nor the Kafka consumer (which only inserts deliveries and calls
 * dispatch_wake). Every attempt has a hard deadline: smtp.timeout for a mail
 * (also bounding the QUIT on a dead connection), 10 s to connect and 30 s
 * in all for Slack, 30 s for a file append where the kernel allows one (a
 * FIFO: poll; a regular file on a hung mount can block its worker for good).
 *
 * Outcomes (dispatch_classify, one table per channel, each in its channel's
 * file, src/notify/channel_<name>.c; see channel.h):
 *   email  SMTP 2xx sent; a refused login (535, 530, 534, 538, 454), 421,
 *          TLS failures, DNS and connection failures, timeouts: receiver
 *          fault; other 4xx transient; other 5xx permanent. Recipients are
 *          sent to one RCPT at a time and a refused one (550) does not stop
 *          the mail: it goes to the accepted ones, is "sent", and the
 *          refused addresses with their reply codes are recorded on the
 *          attempt (delivery_attempt.refused, found from the SMTP exchange
 *          libcurl traces: the reply that follows each RCPT); only a mail no
 *          recipient accepted fails, by the last RCPT reply
 *   slack  2xx sent; 401, 403, 404, 410 (a revoked or disabled webhook:
 *          invalid_token, no_service, channel_is_archived...), TLS, DNS and
 *          connection failures: receiver fault; 429 transient, next attempt
 *          no earlier than Retry-After; 5xx transient; other 4xx permanent
 *          (Slack's error text recorded, e.g. 400 invalid_blocks)
 *   webhook as slack (401/403: the consumer refused our signature or
 *          credentials); a 5xx's Retry-After is honoured too
 *   teams  as slack: 202 is what a Workflows trigger answers (sent);
 *          401/403/404/410 the flow's URL expired, disabled or deleted
 *   file   append + fsync; any I/O error or the deadline is a receiver
 *          fault (the same path fails for every line); a failed append cuts
 *          the file back to its size before it, so no line is ever torn
 * Transient failures are retried with exponential backoff and full jitter
 * (base 1 s, cap 10 min) until max_attempts or max_age (checked after a
 * failed attempt: a delivery is always tried at least once), then DEAD. Every
 * attempt is recorded (store_delivery_finish). At start the dispatcher
 * re-queues deliveries left SENDING by a crash.
 *
 * Receiver faults say nothing about the message: the attempt is recorded as
 * "deferred" (store_delivery_defer) without using the delivery's
 * max_attempts budget, and the receiver turns unhealthy. While unhealthy it
 * gets one delivery at a time (a probe, oldest due first, so the queue is
 * probed in turn), no sooner than the receiver's backoff (the same curve,
 * counted in consecutive receiver faults). A probed delivery older than
 * max_age is DEAD; any other outcome of a probe makes the receiver healthy
 * again and its whole queue due. Health (state, since, consecutive faults,
 * last error without secrets) is kept per receiver name on the dispatcher
 * thread, survives reloads, is written to the store on every change
 * (store_receiver_health_put) and read back at start, and is logged once per
 * state change.
 */
#ifndef CPPO_DISPATCH_H
#define CPPO_DISPATCH_H

#include "cppo/error.h"

#include "cppo/config.h"
#include "cppo/store.h" /* struct store_fence_token */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dispatcher;

struct dispatch_stats {
        uint64_t sent, retried, dead, attempts;
        uint64_t in_flight;
};

/* Told of every attempt, on the dispatcher thread (keep it cheap: metrics).
 * outcome is "sent", "retry" or "dead"; age_ms is the time since the
 * delivery was created (for a "sent": how long the notification took to
 * reach people). */
struct dispatch_observer {
        void (*on_attempt)(void *ctx, const char *receiver, const char *outcome, int64_t latency_ms,
                           int64_t age_ms);
        void *ctx;
        /* Every receiver's health once the thread runs and after each
         * reload, then each change; may be NULL. */
        void (*on_health)(void *ctx, const char *receiver, bool up);
        /* A mail went out with n (> 0) recipients refused; may be NULL. */
        void (*on_refused)(void *ctx, const char *receiver, int n);
        /* High availability (leader.h): asked before each round of claims
         * and each claim, on the dispatcher thread; false claims nothing
         * more (leadership lost). Keep it cheap. NULL: always claim. */
        bool (*may_claim)(void *claim_ctx);
        void *claim_ctx;
        /* epoch > 0: the dispatcher's own store connection is fenced with
         * this leader's token (store_fence) before its first statement, so
         * its claims fail once the lock is lost or another instance took
         * over. */
        struct store_fence_token fence;
};

/* How one attempt counts. */
enum dispatch_verdict {
        DISPATCH_SENT,
        DISPATCH_RETRY,     /* this message failed, try again: uses the attempt budget */
        DISPATCH_PERMANENT, /* this message was refused: DEAD now */
        DISPATCH_RECEIVER,  /* the receiver failed as a whole: deferred, budget intact */
};

/* The outcome tables. curl_result is the transfer's CURLcode (0: the
 * exchange completed), code the last SMTP reply or HTTP status (0: none);
 * for a file receiver curl_result is 0 or a negative errno and code 0. */
enum dispatch_verdict dispatch_classify(enum config_receiver_type type, int curl_result, long code);

/* Opens its own connection to store_path and starts the thread. cfg is
 * borrowed until dispatch_reload() replaces it or dispatch_stop(). obs may
 * be NULL. */
CPPO_MUST_CHECK int dispatch_start(struct dispatcher **out, const char *store_path,
                                   const struct config *cfg, const struct dispatch_observer *obs,
                                   char *err, size_t errlen);

/* New deliveries were committed: look at the queue now. Thread-safe. */
void dispatch_wake(struct dispatcher *d);

/* A reload in two steps (SIGHUP). prepare allocates everything the new
 * config needs (0 or -ENOMEM; on failure nothing changed and the old config
 * stays in use). commit cannot fail: it hands the plan over and returns once
 * the thread uses cfg (or has ended), so the old config may then be freed;
 * it takes the plan in every case. A plan not committed is freed with
 * dispatch_plan_free (NULL accepted). */
struct dispatch_plan;
CPPO_MUST_CHECK int dispatch_reload_prepare(const struct config *cfg, struct dispatch_plan **out);
void dispatch_reload_commit(struct dispatcher *d, struct dispatch_plan *p);
void dispatch_plan_free(struct dispatch_plan *p);

/* prepare + commit: 0, or -ENOMEM with the old config still in use. */
CPPO_MUST_CHECK int dispatch_reload(struct dispatcher *d, const struct config *cfg);

/* Stops taking new work, lets in-flight deliveries finish for up to
 * grace_ms, then aborts the rest (they stay SENDING and are re-queued on
 * the next start), joins the thread and frees d; returns within about
 * grace_ms + 0.3 s whatever the receivers do. A receiver worker that is
 * still stuck then (in a write the kernel does not interrupt, or inside
 * libcurl) is detached and abandoned: it owns (by reference count) all it
 * touches, so nothing is freed under it, and libcurl's global state is not
 * cleaned up; the caller is expected to exit soon. NULL is accepted. */
void dispatch_stop(struct dispatcher *d, int grace_ms);

/* A snapshot of the counters. Thread-safe. */
void dispatch_get_stats(struct dispatcher *d, struct dispatch_stats *out);

/* Backoff before attempt n+1 after n failed attempts (n >= 1), in ms, with
 * full jitter drawn from rnd in [0, 1). Exposed for tests. */
int64_t dispatch_backoff_ms(int n, double rnd);

#endif
