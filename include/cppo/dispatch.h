/* cppo-notify — the dispatcher: sends queued deliveries.
 *
 * One thread, its own store connection (same database, WAL) and one libcurl
 * multi handle: many deliveries in flight at once, each receiver with its
 * own concurrency limit (config_receiver.concurrency) and pacing
 * (config_receiver.rate messages per second; Slack defaults to 1/s per
 * webhook URL), so a slow or dead receiver never delays another, nor the
 * Kafka consumer (which only inserts deliveries and calls dispatch_wake).
 *
 * Outcomes:
 *   email  SMTP 2xx sent; 4xx and connection errors transient; 5xx permanent
 *   slack  2xx sent; 429 transient, next attempt no earlier than Retry-After;
 *          5xx and network errors transient; other 4xx permanent (Slack's
 *          error text recorded)
 *   file   append + fsync; an I/O error is transient
 * Transient failures are retried with exponential backoff and full jitter
 * (base 1 s, cap 10 min) until max_attempts or max_age (checked after a
 * failed attempt: a delivery is always tried at least once), then DEAD. Every
 * attempt is recorded (store_delivery_finish). At start the dispatcher
 * re-queues deliveries left SENDING by a crash.
 */
#ifndef CPPO_DISPATCH_H
#define CPPO_DISPATCH_H

#include "cppo/config.h"

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
        void (*on_attempt)(void *ctx, const char *receiver, const char *outcome,
                           int64_t latency_ms, int64_t age_ms);
        void *ctx;
};

/* Opens its own connection to store_path and starts the thread. cfg is
 * borrowed until dispatch_reload() replaces it or dispatch_stop(). obs may
 * be NULL. */
int dispatch_start(struct dispatcher **out, const char *store_path, const struct config *cfg,
                   const struct dispatch_observer *obs, char *err, size_t errlen);

/* New deliveries were committed: look at the queue now. Thread-safe. */
void dispatch_wake(struct dispatcher *d);

/* Swaps in a new config (SIGHUP). Returns once the thread uses it; the old
 * one may then be freed. On failure (-ENOMEM, or -ESRCH once the thread
 * ended) the old config stays in use and must be kept. */
int dispatch_reload(struct dispatcher *d, const struct config *cfg);

/* Stops taking new work, lets in-flight deliveries finish for up to
 * grace_ms, then aborts the rest (they stay SENDING and are re-queued on
 * the next start), joins the thread and frees d. NULL is accepted. */
void dispatch_stop(struct dispatcher *d, int grace_ms);

/* A snapshot of the counters. Thread-safe. */
void dispatch_get_stats(struct dispatcher *d, struct dispatch_stats *out);

/* Backoff before attempt n+1 after n failed attempts (n >= 1), in ms, with
 * full jitter drawn from rnd in [0, 1). Exposed for tests. */
int64_t dispatch_backoff_ms(int n, double rnd);

#endif
