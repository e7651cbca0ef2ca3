/* cppo-notifyd — the run loop (see daemon.h). */
#include "daemon.h"
#include "daemon_metrics.h"

#include "cppo/aws_sync.h"
#include "cppo/clock.h"
#include "cppo/config.h"
#include "cppo/dispatch.h"
#include "cppo/dlq.h"
#include "cppo/error.h"
#include "cppo/http.h"
#include "cppo/leader.h"
#include "cppo/log.h"
#include "cppo/metrics.h"
#include "cppo/notify.h"
#include "cppo/pipeline.h"
#include "cppo/retention.h"
#include "cppo/service.h"
#include "cppo/signals.h"
#include "cppo/source_kafka.h"
#include "cppo/store.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 1000
#define POLL_MS   200
/* Holds, consumer lag, store check and STATUS= refresh at most this often:
 * each costs a query or a walk over the assignment. */
#define SLOW_REFRESH_MS 5000
/* On SIGTERM, deliveries in flight get this long to finish; the rest are
 * sent again after the next start. */
#define DELIVERY_GRACE_MS 5000
/* The loop's steps return 0 to go on, a negative errno to stop after a
 * failure, or this: SIGTERM/SIGINT asked for a clean stop. */
#define DAEMON_STOP 1

/* High availability (daemon.h): the role the HTTP thread and the
 * dispatcher read. */
enum daemon_role {
        ROLE_SINGLE,  /* no election: the only instance */
        ROLE_STANDBY, /* waiting for the leader lock: no consumer, no dispatcher */
        ROLE_LEADER,
        ROLE_DEPOSED, /* leadership lost: stopping, nothing more is claimed */
};

struct daemon {
        struct daemon_options opt;
        struct config *cfg; /* owned; replaced by apply_config() */
        struct store *store;
        struct dlq *dlq;
        struct pipeline *pipeline;
        struct source_kafka *kafka;
        struct daemon_metrics m;
        struct http_server *http;
        struct notify *notify; /* outbox and dispatcher */
        struct leader *leader; /* NULL without high availability */
        /* what every store connection of this leadership is fenced with:
         * taken once, when the lead is (zeros without election) */
        struct store_fence_token token;
        /* held around leader_check: the main loop and the dispatcher ask */
        pthread_mutex_t leader_lock;
        atomic_int role; /* enum daemon_role */
        int sigfd;
        atomic_bool ready;         /* read by the HTTP thread */
        atomic_bool store_ok;      /* the store looked writable at the last check */
        char store_name[512];      /* the store target as logged: no password */
        bool announced;            /* READY=1 sent */
        bool consuming;            /* partitions were assigned once: logged */
        struct aws_syncer *aws;    /* the AWS Catalog sync thread, NULL without aws: */
        uint64_t aws_poked_events; /* events seen when it was last poked */
        /* Deliveries waiting to be sent, for STATUS= (slow refresh). */
        int64_t queued_deliveries;
        bool orphans_logged; /* warned about deliveries of removed receivers */
        int64_t holds_pending;
        struct pipeline_stats published;            /* of the current pipeline */
        uint64_t events_total, notifications_total; /* across pipeline rebuilds */
        uint64_t status_events;
        int64_t status_at, watchdog_at, slow_at;
        uint64_t watchdog_ms;            /* half of WatchdogSec; 0: no watchdog */
        struct retention_pass retention; /* the pass under way (done: none) */
        int64_t retention_at;            /* monotonic ms of the next pass */
};

/* ---- metrics (daemon_metrics.c declares and feeds them) ---- */

static int on_metrics(void *ctx, struct buf *out)
{
        return metrics_render(((struct daemon *)ctx)->m.registry, out);
}

static bool on_ready(void *ctx)
{
        return atomic_load(&((struct daemon *)ctx)->ready);
}

/* http_handlers.role, on the HTTP thread. */
static const char *on_role(void *ctx)
{
        switch (atomic_load(&((struct daemon *)ctx)->role)) {
        case ROLE_STANDBY: return "standby";
        case ROLE_LEADER:
        case ROLE_DEPOSED: return "leader";
        default: return NULL;
        }
}

/* 0 still leader (or no election), -ENOLCK lost. Either thread asks
 * (libpq's connection is not shared without a lock); the first loss marks
 * the role, which every later call answers at once. */
static int check_leader(struct daemon *d)
{
        int r;

        if (d->leader == NULL)
                return 0;
        if (atomic_load(&d->role) == ROLE_DEPOSED)
                return -ENOLCK;
        pthread_mutex_lock(&d->leader_lock);
        r = leader_check(d->leader);
        pthread_mutex_unlock(&d->leader_lock);
        if (r < 0)
                atomic_store(&d->role, ROLE_DEPOSED);
        return r;
}

/* dispatch_observer.may_claim, on the dispatcher thread before each claim
 * (and round): the lock connection itself is read, so a terminated one
 * stops the claims at once, not only when the main loop next looks. */
static bool on_may_claim(void *ctx)
{
        return check_leader(ctx) == 0;
}

/* pipeline_options.on_notification: runs after the commit that created n. */
static void on_notification(void *ctx, const struct notification *n)
{
        struct daemon *d = ctx;

        metric_add(d->m.notifications, (const char *[]){ n->kind }, 1);
        notify_mark_pending(d->notify); /* routed right after the offsets are stored */
}

/* ---- status, readiness and the slow refresh ---- */

/* Cheap: no write. The file must be writable for us and its file system
 * neither read-only nor full. A PostgreSQL store has no file here: the
 * server's refusals and store_verify() after each commit tell instead. */
static bool store_writable(const struct config *c)
{
        const char *path = config_store_target(c);
        struct statvfs fs;

        if (store_target_is_pg(path))
                return true;
        if (access(path, W_OK) != 0 || statvfs(path, &fs) != 0)
                return false;
        return !(fs.f_flag & ST_RDONLY) && fs.f_bavail > 0;
}

/* The store looks writable: the file (SQLite), or the server accepts
 * writes on our connection (PostgreSQL: store_verify, one round trip). */
static bool store_usable(struct daemon *d)
{
        char why[CPPO_ERRLEN];

        if (d->cfg->store.url != NULL)
                return d->store != NULL && store_verify(d->store, why, sizeof why) == 0;
        return store_writable(d->cfg);
}

static void update_ready(struct daemon *d)
{
        bool ready = source_kafka_assigned(d->kafka) && atomic_load(&d->store_ok);
        bool was = atomic_exchange(&d->ready, ready);

        if (was && !ready)
                log_warn("not ready assigned=%s store_writable=%s",
                         source_kafka_assigned(d->kafka) ? "yes" : "no",
                         atomic_load(&d->store_ok) ? "yes" : "no");
}

static void update_status(struct daemon *d, int64_t t)
{
        double secs = d->status_at ? (double)(t - d->status_at) / 1000 : 1;
        char role[48] = "";

        if (d->leader)
                snprintf(role, sizeof role, "role=leader epoch=%lld ",
                         (long long)leader_epoch(d->leader));
        service_status("%sevents/s=%.1f holds=%lld notifications=%llu queued=%lld", role,
                       (double)(d->events_total - d->status_events) / secs,
                       (long long)d->holds_pending, (unsigned long long)d->notifications_total,
                       (long long)d->queued_deliveries);
        d->status_events = d->events_total;
        d->status_at = t;
}

/* Queued deliveries per receiver; those of a receiver no longer in the
 * config are kept (never dropped) but nobody sends them: say so. */
static void refresh_queued(struct daemon *d)
{
        int64_t configured = 0;

        d->queued_deliveries = notify_queued(d->store);
        for (size_t i = 0; i < d->cfg->receiver_count; i++) {
                const char *name = d->cfg->receivers[i].name;
                int64_t c[4] = { 0 };

                if (store_delivery_counts(d->store, name, c) < 0)
                        return;
                configured += c[DELIVERY_QUEUED] + c[DELIVERY_SENDING];
                metric_set(d->m.queued, &name, (double)(c[DELIVERY_QUEUED] + c[DELIVERY_SENDING]));
        }
        if (d->queued_deliveries > configured && !d->orphans_logged) {
                log_warn("deliveries queued for receivers no longer configured count=%lld (kept; "
                         "see cppo-notifyctl deliveries)",
                         (long long)(d->queued_deliveries - configured));
                d->orphans_logged = true;
        } else if (d->queued_deliveries <= configured) {
                d->orphans_logged = false;
        }
}

static void slow_refresh(struct daemon *d, int64_t t)
{
        int64_t holds = 0;

        notify_mark_pending(d->notify); /* safety net: route whatever is still waiting */
        refresh_queued(d);
        if (store_count(d->store, "holds", &holds) == 0) {
                d->holds_pending = holds;
                metric_set(d->m.holds, NULL, (double)holds);
        }
        (void)source_kafka_lag(d->kafka, daemon_metrics_on_lag, d->m.lag); /* a metric: next time */
        atomic_store(&d->store_ok, store_usable(d));
        update_status(d, t);
        d->slow_at = t;
}

/* Counters move by what the pipeline did since the last call. */
static void publish(struct daemon *d)
{
        const struct pipeline_stats *s = pipeline_stats(d->pipeline);

        daemon_metrics_pipeline(&d->m, s, &d->published, source_kafka_assignment_size(d->kafka));
        d->events_total += s->events - d->published.events;
        d->notifications_total += s->notifications - d->published.notifications;
        d->published = *s;
}

static void tick(struct daemon *d)
{
        int64_t t = clock_mono_ms();

        publish(d);
        if (t - d->slow_at >= SLOW_REFRESH_MS)
                slow_refresh(d, t);
        update_ready(d);
        if (!d->consuming && source_kafka_assigned(d->kafka)) {
                if (!d->announced)
                        service_ready(); /* READY=1 once consuming (a standby sent it already) */
                d->announced = d->consuming = true;
                log_info("consuming partitions=%zu", source_kafka_assignment_size(d->kafka));
        }
        if (d->watchdog_ms && (uint64_t)(t - d->watchdog_at) >= d->watchdog_ms) {
                service_watchdog();
                d->watchdog_at = t;
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
                .offset_resets = d->m.offset_resets,
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

static int open_pipeline(struct daemon *d, const struct config *c, struct pipeline **out, char *err,
                         size_t errlen)
{
        struct pipeline_options po = {
                .store = d->store,
                .dlq = d->dlq,
                .max_message_bytes = (size_t)c->kafka.max_message_bytes,
                .offer_link_timeout = c->holds.offer_link_timeout,
                .notify_extended_after_acceptance = c->notify_extended_after_acceptance,
                .notify_direct_deals = c->notify_direct_deals,
                .on_notification = on_notification,
                .ctx = d,
        };

        return pipeline_new(out, &po, err, errlen);
}

/* Logs where the HTTP server listens; with port 0 in the config this is the
 * only place the chosen port shows up. */
static void log_listen(struct daemon *d)
{
        char host[256];
        uint16_t port;

        if (http_parse_listen(d->cfg->http.listen, host, sizeof host, &port) < 0)
                return;
        log_notice(strchr(host, ':') ? "http listening on [%s]:%u" : "http listening on %s:%u",
                   host, (unsigned)http_server_port(d->http));
}

/* A damaged store is refused at start rather than run on: depending on
 * where the damage lies it would fail later or, worse, forget what was
 * sent and send it again. */
static int store_check_at_start(struct daemon *d, char *err, size_t errlen)
{
        char why[CPPO_ERRLEN] = "";
        int r = store_integrity(d->store, why, sizeof why);

        if (r < 0)
                return error_set(err, errlen, r, "%s: %s", d->store_name, why);
        log_info("store checked path=%s quick_check=ok", d->store_name);
        return 0;
}

/* After a commit, before the batch's offsets are stored: the work must
 * be in the database at the configured path (not in a file someone
 * deleted or replaced, which is gone at exit). Otherwise no offsets, and
 * the daemon stops so that systemd restarts it against the real store. */
static int store_still_there(struct daemon *d)
{
        char why[CPPO_ERRLEN] = "";
        int r = store_verify(d->store, why, sizeof why);

        if (r < 0)
                log_error("store lost, offsets not stored, stopping reason=%s", why);
        return r;
}

/* Where the failure began (error.h: ERROR_TRACE), the database's own words
 * for a store failure, and what to do about damage. */
static void log_failure(struct daemon *d, int r)
{
        char db[CPPO_ERRLEN] = "", origin[128];

        if (d->store)
                store_last_error(d->store, db, sizeof db);
        log_error("stopping after a failure error=%s origin=%s store_error=%s", error_name(r),
                  error_origin_format(r, origin, sizeof origin), db);
        if (r == -EBADMSG && store_integrity(d->store, db, sizeof db) < 0)
                log_error("%s: %s", d->store_name, db); /* the damage, what to do */
}

/* The AWS Catalog sync on its own thread and store connection: a slow or
 * throttled API delays only the sync, never this loop. Its settings are
 * read once (a reload keeps them, like the store's). */
static int start_aws(struct daemon *d, const struct store_options *so, char *err, size_t errlen)
{
        const struct config *c = d->cfg;
        struct aws_syncer_options o = {
                .store_path = config_store_target(c),
                .store = *so,
                .client = { .region = c->aws.region,
                            .endpoint = c->aws.endpoint,
                            .creds = { .profile = c->aws.profile },
                            /* a pass gives up sooner than the CLI: it is tried again */
                            .retry_budget_ms = 10000 },
                .interval_s = c->aws.sync_interval,
                .metrics = d->m.aws,
        };
        int r;

        if (!config_aws_sync(c))
                return 0;
        r = aws_syncer_start(&d->aws, &o, err, errlen);
        if (r == 0)
                log_info("aws sync started endpoint=%s interval=%lds",
                         c->aws.endpoint ? c->aws.endpoint : "default", c->aws.sync_interval);
        return r;
}

/* After a batch that read events: a Change Set Succeeded or a new hold may
 * wait for the sync (it looks in the store; a poke costs nothing). */
static void poke_aws(struct daemon *d)
{
        uint64_t events = pipeline_stats(d->pipeline)->events;

        if (d->aws && events != d->aws_poked_events) {
                d->aws_poked_events = events;
                aws_syncer_poke(d->aws);
        }
}

static struct store_options store_options_of(const struct daemon *d)
{
        return (struct store_options){
                .synchronous_normal = strcmp(d->cfg->store.synchronous, "normal") == 0,
                /* another writer (a CLI replay, a backup) may hold the lock
                 * for a while: SQLite retries with growing sleeps up to this */
                .busy_timeout_ms = config_store_busy_ms(d->cfg),
                .password = config_store_password(d->cfg),
                .fence = d->token,
        };
}

/* What only the leader (or the single instance) runs: the consumer, the
 * pipeline (which loads the correlation state from the store), the AWS
 * sync and the dispatcher, whose store connections carry the epoch. */
static int start_work(struct daemon *d, char *err, size_t errlen)
{
        struct store_options so = store_options_of(d);
        struct dispatch_observer obs = daemon_metrics_observer(&d->m);
        int r;

        obs.may_claim = on_may_claim;
        obs.claim_ctx = d;
        obs.fence = so.fence;
        r = open_kafka(d, err, errlen);
        if (r == 0)
                r = open_pipeline(d, d->cfg, &d->pipeline, err, errlen);
        if (r == 0)
                r = start_aws(d, &so, err, errlen);
        return r < 0 ? r : notify_start(&d->notify, d->store, d->cfg, &obs, err, errlen);
}

/* High availability: the lock connection, named "host:pid" in ha_leader. */
static int start_election(struct daemon *d, char *err, size_t errlen)
{
        char host[200] = "", identity[256];
        struct leader_options o = {
                .target = d->cfg->store.url,
                .password = config_store_password(d->cfg),
                .identity = identity,
                .takeover_s = (int)d->cfg->ha.takeover,
                .poll_s = (int)d->cfg->ha.poll,
        };

        if (gethostname(host, sizeof host - 1) < 0)
                snprintf(host, sizeof host, "unknown");
        snprintf(identity, sizeof identity, "%s:%ld", host, (long)getpid());
        return leader_new(&d->leader, &o, err, errlen);
}

static int start(struct daemon *d, char *err, size_t errlen)
{
        struct store_options so = store_options_of(d);
        struct http_handlers h = { on_metrics, on_ready, d, on_role };
        int r;

        store_target_redact(config_store_target(d->cfg), d->store_name, sizeof d->store_name);
        d->sigfd = signals_open(); /* before any thread starts: they inherit the mask */
        if (d->sigfd < 0)
                return error_set(err, errlen, d->sigfd, "cannot set up signals");
        r = store_open(&d->store, config_store_target(d->cfg), &so, err, errlen);
        if (r == 0)
                r = store_check_at_start(d, err, errlen);
        atomic_store(&d->store_ok, r == 0 && store_usable(d));
        if (r == 0)
                r = daemon_metrics_init(&d->m, d->cfg);
        if (r == 0 && config_ha_enabled(d->cfg))
                r = start_election(d, err, errlen);
        if (r == 0)
                r = http_server_start(&d->http, d->cfg->http.listen,
                                      d->cfg->http.allow_non_loopback, &h, err, errlen);
        if (r == 0)
                log_listen(d);
        if (r < 0 || d->leader)
                return r; /* a standby starts the work once it leads */
        return start_work(d, err, errlen);
}

/* Reverse order of start(). The consumer closes after the last commit, so
 * its final offset commit covers everything durable. A deposed leader
 * gives its deliveries in flight no grace: they stay SENDING, and the new
 * leader requeues them. */
static void stop(struct daemon *d)
{
        bool deposed = atomic_load(&d->role) == ROLE_DEPOSED;

        aws_syncer_stop(d->aws); /* waits for its call in progress */
        notify_stop(d->notify, deposed ? 0 : DELIVERY_GRACE_MS);
        pipeline_free(d->pipeline);
        if (d->kafka)
                (void)source_kafka_commit(d->kafka); /* it logs a failure; the group re-reads */
        source_kafka_free(d->kafka);
        dlq_free(d->dlq);
        http_server_stop(d->http);
        leader_free(d->leader); /* the lock goes back at once */
        daemon_metrics_deinit(&d->m);
        store_close(d->store);
        signals_close(d->sigfd);
}

/* ---- reload (SIGHUP) ---- */

static bool pipeline_changed(const struct config *o, const struct config *n)
{
        return o->holds.offer_link_timeout != n->holds.offer_link_timeout ||
               o->notify_extended_after_acceptance != n->notify_extended_after_acceptance ||
               o->notify_direct_deals != n->notify_direct_deals;
}

/* Between batches nothing is pending, so a new pipeline rebuilt from the
 * store continues exactly where the old one stopped. */
static void swap_pipeline(struct daemon *d, struct pipeline *p)
{
        publish(d); /* the old pipeline's last counts */
        pipeline_free(d->pipeline);
        d->pipeline = p;
        memset(&d->published, 0, sizeof d->published);
}

static void apply_log_level(struct daemon *d, const struct config *n)
{
        enum log_level level;

        if (!d->opt.log_level_fixed && log_level_parse(n->log_level, &level) == 0)
                log_set_level(level);
}

/* Makes newcfg the running configuration, taking ownership of it in every
 * case. Each component that reads the config prepares its new state first;
 * only when all succeeded is anything swapped, so a failure leaves the old
 * configuration running whole. To hook in a component: prepare in the first
 * part (undo in `fail`), swap in the second, where nothing may fail (e.g.
 * notify_commit(): the dispatcher's state was allocated by notify_prepare,
 * and the commit returns once the old config is no longer used). */
static int apply_config(struct daemon *d, struct config *newcfg)
{
        struct pipeline *p = NULL;
        struct notify_reload rl = { 0 };
        char err[CPPO_ERRLEN] = "", restart[CPPO_ERRLEN] = "";
        int r;

        r = config_keep_restart_only(d->cfg, newcfg, restart, sizeof restart);
        if (r == 0)
                r = notify_prepare(newcfg, &rl, err, sizeof err);
        /* a standby has no pipeline yet: it builds one from d->cfg once it leads */
        if (r == 0 && d->pipeline && pipeline_changed(d->cfg, newcfg))
                r = open_pipeline(d, newcfg, &p, err, sizeof err);
        if (r < 0)
                goto fail;
        /* ---- nothing fails from here on ---- */
        if (p)
                swap_pipeline(d, p);
        if (d->notify)
                notify_commit(d->notify, &rl); /* the dispatcher lets go of the old config */
        else
                notify_reload_abort(&rl); /* checked, nothing to hand it to yet */
        apply_log_level(d, newcfg);
        config_free(d->cfg);
        d->cfg = newcfg;
        daemon_metrics_receivers(&d->m, d->cfg);
        if (restart[0])
                log_warn("reload: a restart is needed to change %s; they keep their running "
                         "values",
                         restart);
        return 0;
fail:
        log_error("reload failed, keeping the running configuration: %s",
                  err[0] ? err : error_name(r));
        notify_reload_abort(&rl);
        config_free(newcfg);
        return r;
}

/* One log line per error, "path:line:col: message"; the source line and
 * caret of config_errors_print() are left out (a value may be a secret). */
static void log_config_errors(const struct config_errors *e)
{
        for (size_t i = 0; i < e->count; i++) {
                const struct config_error *x = &e->items[i];
                const char *path = x->path ? x->path : "(config)";
                if (x->line > 0)
                        log_error("%s:%d:%d: %s", path, x->line, x->col, x->message);
                else /* about the whole file */
                        log_error("%s: %s", path, x->message);
        }
        if (e->dropped)
                log_error("%zu more errors", e->dropped);
}

static void reload(struct daemon *d)
{
        struct config_errors errs;
        struct config *newcfg = NULL;
        int r;

        service_reloading();
        log_notice("reload requested path=%s", d->opt.config_path);
        config_errors_init(&errs);
        r = config_load(&newcfg, d->opt.config_path, &errs);
        if (r < 0) {
                log_config_errors(&errs);
                log_error("reload refused, keeping the running configuration errors=%zu",
                          errs.count + errs.dropped);
        } else if (apply_config(d, newcfg) == 0) {
                log_notice("reloaded path=%s receivers=%zu rules=%zu", d->opt.config_path,
                           d->cfg->receiver_count, d->cfg->rule_count);
        }
        config_errors_deinit(&errs);
        service_ready();
}

/* ---- the loop ---- */

/* DAEMON_STOP, 0 to go on, negative on failure. */
static int handle_signals(struct daemon *d)
{
        int sig;

        while ((sig = signals_next(d->sigfd)) > 0) {
                if (sig == SIGHUP) {
                        reload(d);
                } else {
                        log_notice("stopping signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                        return DAEMON_STOP;
                }
        }
        return sig < 0 ? ERROR_TRACE(sig) : 0;
}

/* ---- high availability: standby and leader ---- */

/* The leader asks before each commit and each routing round (which wakes
 * the dispatcher): 0 still leader, -ENOLCK lost. The first loss marks the
 * role, which stops the dispatcher's claims at once, and is logged. */
static int still_leader(struct daemon *d)
{
        return check_leader(d);
}

/* A commit or claim refused by the fence, or leader_check: one line. */
static void log_deposed(struct daemon *d)
{
        char db[CPPO_ERRLEN] = "", why[CPPO_ERRLEN];

        atomic_store(&d->role, ROLE_DEPOSED);
        daemon_metrics_role(&d->m, false, 0);
        store_last_error(d->store, db, sizeof db);
        pthread_mutex_lock(&d->leader_lock); /* the dispatcher may be in leader_check */
        snprintf(why, sizeof why, "%s", leader_error(d->leader));
        pthread_mutex_unlock(&d->leader_lock);
        log_error("role change role=deposed reason=\"%s\" store_error=\"%s\"; stopping without "
                  "committing, claiming or sending, exit %d so that a restart makes this a "
                  "standby",
                  why, db, DAEMON_EXIT_DEPOSED);
}

static void standby_tick(struct daemon *d, int64_t t)
{
        if (t - d->slow_at >= SLOW_REFRESH_MS) {
                atomic_store(&d->store_ok, store_usable(d));
                service_status("role=standby waiting for the leader lock poll=%lds",
                               d->cfg->ha.poll);
                d->slow_at = t;
        }
        if (d->watchdog_ms && (uint64_t)(t - d->watchdog_at) >= d->watchdog_ms) {
                service_watchdog();
                d->watchdog_at = t;
        }
}

/* Until the next try: a signal, or the lock connection has something to
 * say (mostly its end: try, and so reconnect, at once). */
static void standby_wait(struct daemon *d)
{
        struct pollfd p[2] = { { .fd = d->sigfd, .events = POLLIN },
                               { .fd = leader_fd(d->leader), .events = POLLIN } };

        (void)poll(p, p[1].fd >= 0 ? 2 : 1, (int)d->cfg->ha.poll * 1000); /* EINTR: try now */
}

/* Took the lock: fence the store with the new epoch before anything is
 * read or written, then start what only the leader runs. */
static int become_leader(struct daemon *d, char *err, size_t errlen)
{
        struct store_fence_token token = leader_token(d->leader);
        int64_t epoch = token.epoch;
        int r;

        if (token.epoch <= 0 || token.lock_pid <= 0) /* never run unfenced */
                return error_set(err, errlen, -ENOLCK,
                                 "the leader lock connection ended while taking the lead");
        r = store_fence(d->store, &token);
        if (r < 0)
                return error_set(err, errlen, r, "cannot fence the store");
        d->token = token;
        atomic_store(&d->role, ROLE_LEADER);
        daemon_metrics_role(&d->m, true, epoch);
        log_notice("role change role=leader epoch=%lld", (long long)epoch);
        d->slow_at = 0; /* STATUS= at once */
        return start_work(d, err, errlen);
}

/* The standby's loop: DAEMON_STOP on a signal, 0 once leader, negative
 * when starting the work failed. Election errors (the server unreachable)
 * are logged once per streak and tried again. */
static int standby(struct daemon *d)
{
        char err[CPPO_ERRLEN] = "";
        bool failing = false;
        int r;

        atomic_store(&d->role, ROLE_STANDBY);
        log_notice("role change role=standby poll=%lds takeover=%lds", d->cfg->ha.poll,
                   d->cfg->ha.takeover);
        service_ready(); /* up and doing its job: waiting */
        d->announced = true;
        for (;;) {
                r = handle_signals(d);
                if (r != 0)
                        return r;
                r = leader_try(d->leader);
                if (r == 1)
                        break;
                if (r < 0 && !failing)
                        log_warn("leader election failed, trying again error=%s reason=\"%s\"",
                                 error_name(r), leader_error(d->leader));
                failing = r < 0;
                standby_tick(d, clock_mono_ms());
                standby_wait(d);
        }
        r = become_leader(d, err, sizeof err);
        if (r < 0)
                log_error("cannot start as leader: %s", err[0] ? err : error_name(r));
        return r;
}

/* Retention: a pass every retention.interval, one short step (a batch of
 * one kind, or a reclaim step) per turn of the loop, so pruning a backlog
 * never holds the store's write lock for long. A failed step is logged and
 * the pass dropped until the next interval: retention is housekeeping,
 * never a reason to stop consuming. */
static void retention_tick(struct daemon *d)
{
        int64_t t = clock_mono_ms();
        int64_t before[STORE_PRUNE_N];
        int r;

        if (d->retention.done) {
                if (t < d->retention_at)
                        return;
                retention_pass_start(&d->retention, d->cfg, clock_wall_s());
                d->retention_at = t + d->cfg->retention.interval * 1000;
        }
        memcpy(before, d->retention.removed, sizeof before);
        r = retention_pass_step(&d->retention, d->store);
        for (int k = 0; k < STORE_PRUNE_N; k++)
                if (d->retention.removed[k] > before[k])
                        metric_add(d->m.pruned, (const char *[]){ store_prune_name(k) },
                                   (double)(d->retention.removed[k] - before[k]));
        if (r < 0) {
                log_warn("retention step failed error=%s retry_in_s=%ld", error_name(r),
                         d->cfg->retention.interval);
                d->retention.done = true;
        } else if (r == 0) {
                int64_t total = 0;

                for (int k = 0; k < STORE_PRUNE_N; k++)
                        total += d->retention.removed[k];
                /* by kind: cppo_store_pruned_total; a pass with nothing
                 * to do (most of them) is not worth a line */
                if (total > 0 || d->retention.reclaimed_pages > 0)
                        log_info("retention pass done removed=%lld pages_freed=%lld",
                                 (long long)total, (long long)d->retention.reclaimed_pages);
        }
}

static int one_batch(struct daemon *d)
{
        int n = source_kafka_poll_batch(d->kafka, BATCH_MAX, POLL_MS, pipeline_handle, d->pipeline);
        int r;

        if (n < 0)
                return ERROR_TRACE(n);
        r = ERROR_TRACE(pipeline_drain_inbox(d->pipeline, clock_wall_s())); /* CLI commands */
        if (r >= 0)
                r = still_leader(d);
        if (r >= 0)
                r = ERROR_TRACE(pipeline_commit(d->pipeline, clock_wall_s()));
        if (r == 0)
                r = store_still_there(d);
        if (r == 0)
                r = ERROR_TRACE(source_kafka_store_offsets(d->kafka));
        if (d->dlq)
                (void)dlq_flush(d->dlq, 0); /* no wait: what is still queued goes later */
        if (r == 0)
                r = still_leader(d);
        if (r == 0)
                notify_route(d->notify, d->store, d->cfg);
        if (r == 0)
                poke_aws(d);
        if (r == 0)
                retention_tick(d);
        return r;
}

static int loop(struct daemon *d)
{
        int r = d->leader ? standby(d) : 0;

        while (r == 0) {
                error_origin_clear(); /* a failure handled last turn is no origin */
                r = handle_signals(d);
                if (r != 0)
                        break;
                r = one_batch(d);
                tick(d);
        }
        return r;
}

/* On SIGTERM: the open batch, then its offsets. Only a lost leadership
 * changes the exit (DAEMON_EXIT_DEPOSED); another failure here is left to
 * the next start, which reads the batch again. */
static int final_commit(struct daemon *d)
{
        int r = still_leader(d);

        if (r == 0)
                r = pipeline_commit(d->pipeline, clock_wall_s());
        if (r == 0)
                r = store_still_there(d);
        if (r == 0)
                (void)source_kafka_store_offsets(d->kafka);
        return r;
}

int daemon_run(struct config *cfg, const struct daemon_options *o)
{
        struct daemon d = {
                .opt = *o,
                .cfg = cfg,
                .sigfd = -1,
                .watchdog_ms = service_watchdog_usec() / 2000, /* ping at half the interval */
                .retention = { .done = true },                 /* the first pass starts at once */
                .leader_lock = PTHREAD_MUTEX_INITIALIZER,
        };
        char err[CPPO_ERRLEN] = "";
        int r = start(&d, err, sizeof err);

        if (r < 0) {
                log_error("cannot start: %s", err[0] ? err : error_name(r));
                stop(&d);
                config_free(d.cfg);
                return 1;
        }
        log_info("started version=%s store=%s topics=%zu", CPPO_VERSION, d.store_name,
                 d.cfg->kafka.topics.count);
        r = loop(&d);
        service_stopping();
        if (r == DAEMON_STOP && d.pipeline && final_commit(&d) == -ENOLCK)
                r = -ENOLCK; /* the last batch was refused: deposed */
        if (r == -ENOLCK && d.leader)
                log_deposed(&d);
        else if (r < 0)
                log_failure(&d, r);
        stop(&d);
        config_free(d.cfg);
        log_info("stopped");
        if (r == -ENOLCK && d.leader)
                return DAEMON_EXIT_DEPOSED;
        return r < 0 ? 1 : 0;
}
