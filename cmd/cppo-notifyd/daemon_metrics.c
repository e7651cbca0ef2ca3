/* cppo-notifyd — the daemon's metrics (see daemon_metrics.h). */
#include "daemon_metrics.h"

#include <stdio.h>
#include <string.h>

static int declare_ingest(struct daemon_metrics *d)
{
        struct metrics *m = d->registry;

        d->messages = metrics_counter(m, "cppo_events_consumed_total", "Raw messages consumed.",
                                      NULL);
        d->events = metrics_counter(m, "cppo_events_decoded_total",
                                    "Events decoded and new to the ledger.", NULL);
        d->rejected = metrics_counter(m, "cppo_events_rejected_total",
                                      "Inputs rejected and kept in the store.", NULL);
        d->duplicates = metrics_counter(m, "cppo_events_duplicate_total",
                                        "Events the ledger had already processed.", NULL);
        d->assigned = metrics_gauge(m, "cppo_kafka_partitions_assigned",
                                    "Partitions assigned to this consumer.", NULL);
        d->lag = metrics_gauge(m, "cppo_kafka_consumer_lag",
                               "Messages between the consumer's position and the high watermark.",
                               "topic,partition");
        d->notifications = metrics_counter(m, "cppo_notifications_total",
                                           "Notifications created, by kind.", "kind");
        d->holds = metrics_gauge(m, "cppo_holds_pending", "Notifications held for a late offer id.",
                                 NULL);
        d->offset_resets = metrics_counter(m, "cppo_kafka_offset_resets_total",
                                           "Offsets reset after an out-of-range fetch "
                                           "(messages skipped or read again).",
                                           NULL);
        d->pruned = metrics_counter(m, "cppo_store_pruned_total",
                                    "Rows retention removed (bodies: emptied), by kind.", "kind");
        if (!d->messages || !d->events || !d->rejected || !d->duplicates || !d->assigned ||
            !d->lag || !d->notifications || !d->holds || !d->offset_resets || !d->pruned)
                return -ENOMEM;
        return 0;
}

/* After each attempt the dispatcher (on_attempt) adds to deliveries
 * {receiver,outcome} (outcome "sent", "retry", "dead" or "deferred"),
 * retries, dead_letters, and observes latency (seconds from notification
 * to sent); the slow refresh sets queued per receiver from the store. */
static int declare_delivery(struct daemon_metrics *d)
{
        static const double latency_bounds[] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600 };
        struct metrics *m = d->registry;

        d->deliveries = metrics_counter(m, "cppo_deliveries_total",
                                        "Delivery attempts by receiver and outcome.",
                                        "receiver,outcome");
        d->retries = metrics_counter(m, "cppo_delivery_retries_total",
                                     "Delivery attempts that will be retried.", "receiver");
        d->dead_letters = metrics_counter(m, "cppo_dead_letters_total",
                                          "Deliveries given up on (DEAD).", "receiver");
        d->queued = metrics_gauge(m, "cppo_deliveries_queued", "Deliveries waiting to be sent.",
                                  "receiver");
        d->latency = metrics_histogram(
            m, "cppo_delivery_latency_seconds", "Time from notification to successful delivery.",
            "receiver", latency_bounds, sizeof latency_bounds / sizeof latency_bounds[0]);
        d->receiver_up = metrics_gauge(m, "cppo_receiver_up",
                                       "1 while the receiver works, 0 while it fails as a "
                                       "whole (login, TLS, connection, revoked webhook).",
                                       "receiver");
        d->refused = metrics_counter(m, "cppo_mail_recipients_refused_total",
                                     "Mail recipients the SMTP server refused at RCPT.",
                                     "receiver");
        if (!d->deliveries || !d->retries || !d->dead_letters || !d->queued || !d->latency ||
            !d->receiver_up || !d->refused)
                return -ENOMEM;
        return 0;
}

static int declare_aws(struct daemon_metrics *d)
{
        struct metrics *m = d->registry;
        struct aws_syncer_metrics *a = &d->aws;

        a->calls = metrics_counter(m, "cppo_aws_api_calls_total",
                                   "AWS Marketplace Catalog API calls by operation and outcome "
                                   "(ok, failed after retries, retry).",
                                   "operation,outcome");
        a->throttles = metrics_counter(m, "cppo_aws_throttles_total",
                                       "Throttling answers (429) from the Catalog API.",
                                       "operation");
        a->last_sync = metrics_gauge(m, "cppo_aws_last_sync_timestamp_seconds",
                                     "Unix time of the last successful AWS sync.", NULL);
        a->by_source = metrics_gauge(m, "cppo_authorizations",
                                     "Resale authorizations by source: aws, registered, "
                                     "aws+registered, event.",
                                     "source");
        a->syncs = metrics_counter(m, "cppo_aws_syncs_total", "AWS sync passes by outcome.",
                                   "outcome");
        return a->calls && a->throttles && a->last_sync && a->by_source && a->syncs ? 0 : -ENOMEM;
}

/* High availability: declared only when the election runs, so a single
 * instance shows no series it cannot move. */
static int declare_ha(struct daemon_metrics *d)
{
        d->ha_leader = metrics_gauge(d->registry, "cppo_ha_leader",
                                     "1 while this instance is the leader, 0 while standby.", NULL);
        d->ha_epoch = metrics_gauge(d->registry, "cppo_ha_epoch",
                                    "The leader epoch (fencing token) this instance leads with; "
                                    "0 while standby.",
                                    NULL);
        if (d->ha_leader == NULL || d->ha_epoch == NULL)
                return -ENOMEM;
        daemon_metrics_role(d, false, 0);
        return 0;
}

void daemon_metrics_role(struct daemon_metrics *m, bool leader, int64_t epoch)
{
        if (m->ha_leader == NULL)
                return;
        metric_set(m->ha_leader, NULL, leader ? 1 : 0);
        metric_set(m->ha_epoch, NULL, (double)epoch);
}

int daemon_metrics_init(struct daemon_metrics *m, const struct config *cfg)
{
        struct metric *info;
        int r = metrics_new(&m->registry);

        if (r == 0)
                r = declare_ingest(m);
        if (r == 0)
                r = declare_delivery(m);
        if (r == 0 && config_aws_sync(cfg))
                r = declare_aws(m);
        if (r == 0 && config_ha_enabled(cfg))
                r = declare_ha(m);
        if (r < 0)
                return r;
        info = metrics_gauge(m->registry, "cppo_build_info", "Build information.", "version");
        if (info == NULL)
                return -ENOMEM;
        metric_set(info, (const char *[]){ CPPO_VERSION }, 1);
        daemon_metrics_receivers(m, cfg);
        return 0;
}

void daemon_metrics_deinit(struct daemon_metrics *m)
{
        metrics_free(m->registry);
        *m = (struct daemon_metrics){ 0 };
}

void daemon_metrics_receivers(struct daemon_metrics *m, const struct config *cfg)
{
        for (size_t i = 0; i < cfg->receiver_count; i++) {
                const char *name[] = { cfg->receivers[i].name };
                metric_add(m->retries, name, 0);
                metric_add(m->dead_letters, name, 0);
                metric_add(m->queued, name, 0);
        }
}

/* dispatch_observer.on_attempt, on the dispatcher thread. */
static void on_attempt(void *ctx, const char *receiver, const char *outcome, int64_t latency_ms,
                       int64_t age_ms)
{
        struct daemon_metrics *m = ctx;
        const char *rcv[] = { receiver };

        (void)latency_ms;
        metric_add(m->deliveries, (const char *[]){ receiver, outcome }, 1);
        if (strcmp(outcome, "retry") == 0)
                metric_add(m->retries, rcv, 1);
        else if (strcmp(outcome, "dead") == 0)
                metric_add(m->dead_letters, rcv, 1);
        else if (strcmp(outcome, "sent") == 0)
                metric_observe(m->latency, rcv, (double)age_ms / 1000);
        /* "deferred" (the receiver was down) only counts in deliveries */
}

/* dispatch_observer.on_health, on the dispatcher thread. */
static void on_health(void *ctx, const char *receiver, bool up)
{
        struct daemon_metrics *m = ctx;

        metric_set(m->receiver_up, (const char *[]){ receiver }, up ? 1 : 0);
}

/* dispatch_observer.on_refused, on the dispatcher thread. */
static void on_refused(void *ctx, const char *receiver, int n)
{
        struct daemon_metrics *m = ctx;

        metric_add(m->refused, (const char *[]){ receiver }, n);
}

struct dispatch_observer daemon_metrics_observer(struct daemon_metrics *m)
{
        return (struct dispatch_observer){
                .on_attempt = on_attempt, .ctx = m, .on_health = on_health, .on_refused = on_refused
        };
}

void daemon_metrics_pipeline(struct daemon_metrics *m, const struct pipeline_stats *now,
                             const struct pipeline_stats *was, size_t partitions_assigned)
{
        metric_add(m->messages, NULL, (double)(now->messages - was->messages));
        metric_add(m->events, NULL, (double)(now->events - was->events));
        metric_add(m->rejected, NULL, (double)(now->rejected - was->rejected));
        metric_add(m->duplicates, NULL, (double)(now->duplicates - was->duplicates));
        metric_set(m->assigned, NULL, (double)partitions_assigned);
}

void daemon_metrics_on_lag(void *ctx, const char *topic, int32_t partition, int64_t lag)
{
        char part[16];

        snprintf(part, sizeof part, "%d", (int)partition);
        metric_set(ctx, (const char *[]){ topic, part }, (double)lag);
}
