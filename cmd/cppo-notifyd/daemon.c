/* cppo-notifyd — the run loop (see daemon.h). */
#include "daemon.h"

#include "cppo/config.h"
#include "cppo/dlq.h"
#include "cppo/error.h"
#include "cppo/http.h"
#include "cppo/log.h"
#include "cppo/metrics.h"
#include "cppo/pipeline.h"
#include "cppo/service.h"
#include "cppo/signals.h"
#include "cppo/source_kafka.h"
#include "cppo/store.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_MAX 1000
#define POLL_MS 200

struct daemon {
        const struct config *cfg;
        struct store *store;
        struct dlq *dlq;
        struct pipeline *pipeline;
        struct source_kafka *kafka;
        struct metrics *metrics;
        struct http_server *http;
        int sigfd;
        atomic_bool ready; /* read by the HTTP thread */
        bool announced;    /* READY=1 sent */
        struct metric *m_messages, *m_events, *m_rejected, *m_duplicates, *m_assigned;
        struct pipeline_stats published;
        uint64_t status_events;
        int64_t status_at, watchdog_at;
};

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- metrics and status ---- */

static int on_metrics(void *ctx, struct buf *out)
{
        return metrics_render(((struct daemon *)ctx)->metrics, out);
}

static bool on_ready(void *ctx)
{
        return atomic_load(&((struct daemon *)ctx)->ready);
}

static int declare_metrics(struct daemon *d)
{
        struct metric *info;
        int r = metrics_new(&d->metrics);

        if (r < 0)
                return r;
        d->m_messages = metrics_counter(d->metrics, "cppo_events_consumed_total",
                                        "Raw messages consumed.", NULL);
        d->m_events = metrics_counter(d->metrics, "cppo_events_decoded_total",
                                      "Events decoded and new to the ledger.", NULL);
        d->m_rejected = metrics_counter(d->metrics, "cppo_events_rejected_total",
                                        "Inputs rejected and kept in the store.", NULL);
        d->m_duplicates = metrics_counter(d->metrics, "cppo_events_duplicate_total",
                                          "Events the ledger had already processed.", NULL);
        d->m_assigned = metrics_gauge(d->metrics, "cppo_kafka_partitions_assigned",
                                      "Partitions assigned to this consumer.", NULL);
        info = metrics_gauge(d->metrics, "cppo_build_info", "Build information.", "version");
        if (!d->m_messages || !d->m_events || !d->m_rejected || !d->m_duplicates ||
            !d->m_assigned || !info)
                return -ENOMEM;
        metric_set(info, (const char *[]){ CPPO_VERSION }, 1);
        return 0;
}

static void publish(struct daemon *d)
{
        const struct pipeline_stats *s = pipeline_stats(d->pipeline);
        int64_t t = now_ms();

        metric_add(d->m_messages, NULL, (double)(s->messages - d->published.messages));
        metric_add(d->m_events, NULL, (double)(s->events - d->published.events));
        metric_add(d->m_rejected, NULL, (double)(s->rejected - d->published.rejected));
        metric_add(d->m_duplicates, NULL, (double)(s->duplicates - d->published.duplicates));
        metric_set(d->m_assigned, NULL, (double)source_kafka_assignment_size(d->kafka));
        d->published = *s;
        atomic_store(&d->ready, source_kafka_assigned(d->kafka));
        if (!d->announced && source_kafka_assigned(d->kafka)) {
                service_ready(); /* READY=1 once consuming */
                d->announced = true;
                log_info("consuming partitions=%zu", source_kafka_assignment_size(d->kafka));
        }
        if (t - d->status_at >= 5000) {
                double secs = d->status_at ? (double)(t - d->status_at) / 1000 : 1;
                service_status("events/s=%.0f consumed=%llu rejected=%llu duplicates=%llu",
                               (double)(s->events - d->status_events) / secs,
                               (unsigned long long)s->messages, (unsigned long long)s->rejected,
                               (unsigned long long)s->duplicates);
                d->status_events = s->events;
                d->status_at = t;
        }
}

/* ---- start and stop ---- */

static int open_kafka(struct daemon *d, char *err, size_t errlen)
{
        const struct config *c = d->cfg;
        const char **pairs;
        struct source_kafka_options o = {
                .brokers = c->kafka.brokers,
                .topics = c->kafka.topics.items,
                .n_topics = c->kafka.topics.count,
                .group = c->kafka.group,
                .n_properties = c->kafka.properties.count,
                .max_message_bytes = (size_t)c->kafka.max_message_bytes,
        };
        int r = 0;

        pairs = calloc(2 * c->kafka.properties.count + 1, sizeof *pairs);
        if (pairs == NULL)
                return -ENOMEM;
        o.properties = pairs;
        for (size_t i = 0; i < c->kafka.properties.count; i++) {
                pairs[2 * i] = c->kafka.properties.keys[i];
                pairs[2 * i + 1] = c->kafka.properties.values[i];
        }
        if (c->kafka.dead_letter_topic)
                r = dlq_new(&d->dlq, c->kafka.brokers, c->kafka.dead_letter_topic, pairs,
                            o.n_properties, err, errlen);
        if (r == 0)
                r = source_kafka_new(&d->kafka, &o, err, errlen);
        free(pairs); /* both copied what they keep into their librdkafka conf */
        return r;
}

static int start(struct daemon *d, char *err, size_t errlen)
{
        struct store_options so = {
                .synchronous_normal = strcmp(d->cfg->store.synchronous, "normal") == 0,
                .busy_timeout_ms = 5000,
        };
        struct http_handlers h = { on_metrics, on_ready, d };
        struct pipeline_options po = {
                .max_message_bytes = (size_t)d->cfg->kafka.max_message_bytes,
                .offer_link_timeout = d->cfg->holds.offer_link_timeout,
                .notify_extended_after_acceptance = d->cfg->notify_extended_after_acceptance,
                .notify_direct_deals = d->cfg->notify_direct_deals,
        };
        int r;

        d->sigfd = signals_open();
        if (d->sigfd < 0)
                return error_set(err, errlen, d->sigfd, "cannot set up signals");
        r = store_open(&d->store, d->cfg->store.path, &so, err, errlen);
        if (r == 0)
                r = declare_metrics(d);
        if (r == 0)
                r = http_server_start(&d->http, d->cfg->http.listen, d->cfg->http.allow_non_loopback,
                                      &h, err, errlen);
        if (r == 0)
                r = open_kafka(d, err, errlen);
        if (r < 0)
                return r;
        po.store = d->store;
        po.dlq = d->dlq;
        return pipeline_new(&d->pipeline, &po, err, errlen);
}

/* Reverse order of start(). The consumer closes after the last commit, so
 * its final offset commit covers everything durable. */
static void stop(struct daemon *d)
{
        pipeline_free(d->pipeline);
        if (d->kafka)
                source_kafka_commit(d->kafka);
        source_kafka_free(d->kafka);
        dlq_free(d->dlq);
        http_server_stop(d->http);
        metrics_free(d->metrics);
        store_close(d->store);
        signals_close(d->sigfd);
}

/* ---- the loop ---- */

/* 1 to stop, 0 to go on, negative on failure. */
static int handle_signals(struct daemon *d)
{
        int sig;

        while ((sig = signals_next(d->sigfd)) > 0) {
                if (sig == SIGHUP) {
                        service_reloading();
                        log_notice("reload requested; this version reloads nothing yet");
                        service_ready();
                } else {
                        log_notice("stopping signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                        return 1;
                }
        }
        return sig < 0 ? sig : 0;
}

static int one_batch(struct daemon *d)
{
        int n = source_kafka_poll_batch(d->kafka, BATCH_MAX, POLL_MS, pipeline_handle, d->pipeline);
        int r;

        if (n < 0)
                return n;
        r = pipeline_drain_inbox(d->pipeline, (int64_t)time(NULL)); /* CLI commands */
        if (r >= 0)
                r = pipeline_commit(d->pipeline, (int64_t)time(NULL));
        if (r == 0)
                r = source_kafka_store_offsets(d->kafka);
        if (d->dlq)
                dlq_flush(d->dlq, 0);
        return r;
}

static int loop(struct daemon *d)
{
        uint64_t wd = service_watchdog_usec() / 2000; /* ping at half the interval, ms */
        int r = 0;

        while (r == 0) {
                r = handle_signals(d);
                if (r != 0)
                        break;
                r = one_batch(d);
                publish(d);
                if (wd && (uint64_t)(now_ms() - d->watchdog_at) >= wd) {
                        service_watchdog();
                        d->watchdog_at = now_ms();
                }
        }
        return r;
}

int daemon_run(const struct config *cfg)
{
        struct daemon d = { .cfg = cfg, .sigfd = -1 };
        char err[CPPO_ERRLEN] = "";
        int r = start(&d, err, sizeof err);

        if (r < 0) {
                log_error("cannot start: %s", err[0] ? err : error_name(r));
                stop(&d);
                return 1;
        }
        log_info("started version=%s store=%s topics=%zu", CPPO_VERSION, cfg->store.path,
                 cfg->kafka.topics.count);
        r = loop(&d);
        service_stopping();
        if (r == 1 && pipeline_commit(d.pipeline, (int64_t)time(NULL)) == 0)
                source_kafka_store_offsets(d.kafka);
        if (r < 0)
                log_error("stopping after a failure: %s", error_name(r));
        stop(&d);
        log_info("stopped");
        return r < 0 ? 1 : 0;
}
