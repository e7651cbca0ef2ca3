/* cppo-notifyd — the daemon's Prometheus metrics (private to cppo-notifyd).
 *
 * One place declares every series /metrics shows and feeds the ones that
 * come from callbacks (the dispatcher's observer, the consumer lag walk);
 * daemon.c feeds the rest from its loop through the fields below. Metrics
 * are thread-safe (metrics.h): the dispatcher and the AWS sync thread
 * update theirs on their own threads.
 */
#ifndef CPPO_DAEMON_METRICS_H
#define CPPO_DAEMON_METRICS_H

#include "cppo/aws_sync.h"
#include "cppo/config.h"
#include "cppo/dispatch.h"
#include "cppo/error.h"
#include "cppo/metrics.h"
#include "cppo/pipeline.h"

#include <stddef.h>

struct daemon_metrics {
        struct metrics *registry; /* rendered by the HTTP server */
        /* ingest, fed by daemon_metrics_pipeline and the slow refresh */
        struct metric *messages, *events, *rejected, *duplicates, *assigned;
        struct metric *notifications, *holds, *lag;
        struct metric *offset_resets; /* counted by source_kafka from librdkafka's log */
        struct metric *pruned;        /* rows retention removed, by kind */
        /* fed by the dispatcher (daemon_metrics_observer) and the slow
         * refresh (queued) */
        struct metric *deliveries, *retries, *dead_letters, *queued, *latency;
        struct metric *receiver_up, *refused;
        struct aws_syncer_metrics aws;       /* all NULL without the AWS sync */
        struct metric *ha_leader, *ha_epoch; /* NULL without high availability */
};

/* Declares every series for cfg (the aws ones only when the sync runs),
 * cppo_build_info and a zero series per receiver. 0 or -ENOMEM; m is
 * deinitialised by daemon_metrics_deinit in either case. */
CPPO_MUST_CHECK int daemon_metrics_init(struct daemon_metrics *m, const struct config *cfg);
void daemon_metrics_deinit(struct daemon_metrics *m);

/* A zero series per configured receiver, so that a receiver that never
 * failed still shows up (absent series break rate() and alerts); again
 * after each reload. */
void daemon_metrics_receivers(struct daemon_metrics *m, const struct config *cfg);

/* cppo_ha_leader and cppo_ha_epoch (nothing without high availability). */
void daemon_metrics_role(struct daemon_metrics *m, bool leader, int64_t epoch);

/* The dispatcher's observer, feeding m. */
struct dispatch_observer daemon_metrics_observer(struct daemon_metrics *m);

/* Counters move by what the pipeline did between was and now. */
void daemon_metrics_pipeline(struct daemon_metrics *m, const struct pipeline_stats *now,
                             const struct pipeline_stats *was, size_t partitions_assigned);

/* source_kafka_lag's callback; ctx is the lag gauge (m->lag). */
void daemon_metrics_on_lag(void *ctx, const char *topic, int32_t partition, int64_t lag);

#endif
