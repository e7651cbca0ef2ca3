/* cppo-notify — the dispatcher (see include/cppo/dispatch.h).
 *
 * Layout: receiver state (per-receiver concurrency, pacing shared by
 * receivers posting to the same Slack webhook), lanes (each receiver's
 * worker, dispatch_worker.h), completion handling (outcome ->
 * store_delivery_finish with backoff), hand-over, the loop. Everything
 * below the public functions runs on the dispatcher thread only, except
 * what is guarded by d->lock. The dispatcher thread does no I/O with a
 * receiver: it reads the queue, claims, hands jobs to the receivers'
 * workers and records what comes back. What differs per channel (settings,
 * transfer, outcome table) is in channel_<name>.c (channel_internal.h).
 */
#include "cppo/dispatch.h"

#include "channel_internal.h"
#include "dispatch_worker.h"

#include "cppo/buf.h"
#include "cppo/clock.h"
#include "cppo/delivery.h"
#include "cppo/error.h"
#include "cppo/log.h"
#include "cppo/store.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS  (10 * 60 * 1000)
#define POLL_MAX_MS     250
#define STOP_JOIN_MS    200 /* after the grace: how long told-to-stop workers may take */

/* Pacing shared by every receiver with the same key (the channel's
 * pace_key: the webhook URL for Slack), the receiver name otherwise. */
struct pace {
        const char *key; /* borrowed from the config; never logged */
        long rate;       /* messages per second; 0 = unlimited */
        int64_t next_us; /* monotonic: earliest next start */
};

/* Whether the receiver as a whole works (see dispatch.h). Kept by receiver
 * name across reloads; fixed size, so a reload's commit copies it without
 * allocating. */
struct health {
        bool down;
        int64_t failures; /* consecutive receiver faults */
        int64_t since_ms; /* wall clock of the last change; 0 before any */
        int64_t probe_us; /* monotonic: no probe before this while down */
        char error[CHANNEL_ERROR_MAX];
};

/* A receiver's worker and what it has in hand, kept by receiver name for
 * the dispatcher's whole life (a reload that drops a receiver leaves its
 * lane to finish what it holds). */
struct lane {
        struct lane *next;
        struct dw_worker *w;
        long in_flight; /* jobs handed over, not yet back */
};

struct rstate {
        const struct config_receiver *rc;
        const struct channel *ch; /* NULL: a type no channel handles */
        struct pace *pace;
        struct lane *lane; /* NULL until its first delivery */
        struct health health;
};

/* What dispatch_reload_prepare builds from a config, ready to swap in. */
struct dispatch_plan {
        const struct config *cfg;
        struct rstate *rs;
        size_t rs_count;
        struct pace *paces;
        size_t pace_count;
};

struct dispatcher {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct dw_hub *hub; /* wakes the thread; brings finished jobs back */
        /* guarded by lock */
        struct dispatch_plan *pending; /* handed over by dispatch_reload_commit */
        bool stopping, exited;
        int64_t stop_deadline_ms; /* monotonic */
        struct dispatch_stats stats;
        int abandoned; /* workers left stuck at the stop */
        /* dispatcher thread only */
        const struct config *cfg;
        struct store *store;
        struct rstate *rs;
        size_t rs_count;
        struct pace *paces;
        size_t pace_count;
        struct lane *lanes;
        struct dispatch_observer obs;
        uint64_t rng;
        bool more; /* a receiver filled a whole batch: look again at once */
        bool store_failing;
};

/* ---- time and randomness ----------------------------------------------- */

/* xorshift64*: jitter needs no more, and it keeps the thread off rand(). */
static double rnd01(struct dispatcher *d)
{
        d->rng ^= d->rng >> 12;
        d->rng ^= d->rng << 25;
        d->rng ^= d->rng >> 27;
        return (double)((d->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

int64_t dispatch_backoff_ms(int n, double rnd)
{
        int64_t cap = BACKOFF_BASE_MS;

        for (int i = 1; i < n && cap < BACKOFF_CAP_MS; i++)
                cap *= 2;
        if (cap > BACKOFF_CAP_MS)
                cap = BACKOFF_CAP_MS;
        if (!(rnd > 0)) /* also NaN */
                return 0;
        if (rnd >= 1)
                return cap;
        return (int64_t)(rnd * (double)cap);
}

/* ---- receiver state ---------------------------------------------------- */

static const char *pace_key(const struct config_receiver *rc)
{
        const struct channel *ch = channel_get(rc->type);

        return ch != NULL && ch->pace_key != NULL ? ch->pace_key(rc) : rc->name;
}

/* The stricter of two rates (0 = unlimited). */
static long rate_min(long a, long b)
{
        if (a == 0 || b == 0)
                return a > b ? a : b;
        return a < b ? a : b;
}

/* The pace for rc in pc[0..*np), added when new. */
static struct pace *pace_get(struct pace *pc, size_t *np, const struct config_receiver *rc)
{
        const char *key = pace_key(rc);

        for (size_t i = 0; i < *np; i++)
                if (strcmp(pc[i].key, key) == 0) {
                        pc[i].rate = rate_min(pc[i].rate, rc->rate);
                        return &pc[i];
                }
        pc[*np] = (struct pace){ .key = key, .rate = rc->rate };
        return &pc[(*np)++];
}

void dispatch_plan_free(struct dispatch_plan *p)
{
        if (p == NULL)
                return;
        free(p->rs);
        free(p->paces);
        free(p);
}

int dispatch_reload_prepare(const struct config *cfg, struct dispatch_plan **out)
{
        size_t n = cfg->receiver_count;
        struct dispatch_plan *p = calloc(1, sizeof *p);

        *out = NULL;
        if (p == NULL)
                return -ENOMEM;
        p->cfg = cfg;
        p->rs = calloc(n ? n : 1, sizeof *p->rs);
        p->paces = calloc(n ? n : 1, sizeof *p->paces);
        if (p->rs == NULL || p->paces == NULL) {
                dispatch_plan_free(p);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                p->rs[i].rc = &cfg->receivers[i];
                p->rs[i].ch = channel_get(cfg->receivers[i].type);
                p->rs[i].pace = pace_get(p->paces, &p->pace_count, p->rs[i].rc);
        }
        p->rs_count = n;
        *out = p;
        return 0;
}

static struct rstate *rstate_find(struct dispatcher *d, const char *name)
{
        for (size_t i = 0; i < d->rs_count; i++)
                if (strcmp(d->rs[i].rc->name, name) == 0)
                        return &d->rs[i];
        return NULL;
}

static struct lane *lane_find(struct dispatcher *d, const char *name)
{
        for (struct lane *l = d->lanes; l != NULL; l = l->next)
                if (strcmp(dw_worker_name(l->w), name) == 0)
                        return l;
        return NULL;
}

/* Swaps in the receiver state of p (taking its arrays over and freeing p):
 * a pace key or receiver name the old state knew keeps its schedule and
 * health, and a receiver finds its lane (and what is in flight there) by
 * name. Allocates nothing, so it cannot fail. The previous config must
 * still be alive. */
static void plan_apply(struct dispatcher *d, struct dispatch_plan *p)
{
        for (size_t i = 0; i < p->pace_count; i++)
                for (size_t j = 0; j < d->pace_count; j++)
                        if (strcmp(p->paces[i].key, d->paces[j].key) == 0)
                                p->paces[i].next_us = d->paces[j].next_us;
        for (size_t i = 0; i < p->rs_count; i++) {
                const struct rstate *old = rstate_find(d, p->rs[i].rc->name);
                if (old != NULL)
                        p->rs[i].health = old->health;
                p->rs[i].lane = lane_find(d, p->rs[i].rc->name);
        }
        free(d->rs);
        free(d->paces);
        d->rs = p->rs;
        d->rs_count = p->rs_count;
        d->paces = p->paces;
        d->pace_count = p->pace_count;
        d->cfg = p->cfg;
        free(p);
}

static bool pace_ready(const struct pace *p, int64_t now_us)
{
        return p->rate <= 0 || now_us >= p->next_us;
}

static void pace_take(struct pace *p)
{
        int64_t now = clock_mono_us();

        if (p->rate <= 0)
                return;
        if (p->next_us < now)
                p->next_us = now;
        p->next_us += 1000000 / p->rate;
}

/* How many deliveries rs may start now. */
static long in_flight(const struct rstate *rs)
{
        return rs->lane != NULL ? rs->lane->in_flight : 0;
}

/* How many deliveries rs may start now: up to the receiver's concurrency,
 * or the channel's batch (a file receiver's worker appends one line after
 * the other, a batch of them in hand). */
static long receiver_room(const struct rstate *rs, int64_t now_us)
{
        long batch = rs->ch != NULL ? rs->ch->batch : 0;
        long limit = batch > 0 ? batch : rs->rc->concurrency, busy = in_flight(rs);

        if (!pace_ready(rs->pace, now_us) || busy >= limit)
                return 0;
        if (rs->health.down) /* one probe at a time, after the receiver's backoff */
                return busy == 0 && now_us >= rs->health.probe_us ? 1 : 0;
        if (rs->pace->rate > 0)
                return 1;
        return limit - busy;
}

/* ---- completion -------------------------------------------------------- */

static const char *const outcome_names[] = { "sent", "retry", "dead", "deferred" };

/* Turns a failed attempt into "retry", "deferred" or "dead" (attempt
 * budget, age) and computes when the next one is due. A deferred delivery
 * is due at once: the receiver's probe backoff decides when it goes. */
static int64_t schedule(struct dispatcher *d, const struct delivery *dl, long max_attempts,
                        long max_age, struct outcome *o)
{
        int attempts = dl->attempts + (o->kind == OUT_DEFER ? 0 : 1);
        int64_t now = clock_wall_ms(), wait;
        bool old = now >= dl->created_at_ms + (int64_t)max_age * 1000;

        if (o->kind != OUT_RETRY && o->kind != OUT_DEFER)
                return 0;
        if (old || (o->kind == OUT_RETRY && attempts >= max_attempts)) {
                size_t n = strlen(o->error);
                o->kind = OUT_DEAD;
                snprintf(o->error + n, sizeof o->error - n, " (gave up: %s)",
                         old ? "max_age passed" : "max_attempts reached");
                return 0;
        }
        if (o->kind == OUT_DEFER)
                return now;
        wait = dispatch_backoff_ms(attempts, rnd01(d));
        if (wait < o->retry_after_ms)
                wait = o->retry_after_ms;
        return now + wait;
}

static void count_outcome(struct dispatcher *d, enum outcome_kind k)
{
        pthread_mutex_lock(&d->lock);
        d->stats.attempts++;
        if (k == OUT_SENT)
                d->stats.sent++;
        else if (k == OUT_RETRY || k == OUT_DEFER)
                d->stats.retried++;
        else
                d->stats.dead++;
        pthread_mutex_unlock(&d->lock);
}

static void log_outcome(const struct delivery *dl, const struct outcome *o, int64_t next_at)
{
        int n = dl->attempts + 1;

        if (o->kind == OUT_SENT && o->refused_n > 0)
                log_notice("delivery sent key=%s receiver=%s attempt=%d code=%d latency_ms=%lld "
                           "refused=%d",
                           dl->key, dl->receiver, n, o->code, (long long)o->latency_ms,
                           o->refused_n);
        else if (o->kind == OUT_SENT)
                log_info("delivery sent key=%s receiver=%s attempt=%d code=%d latency_ms=%lld",
                         dl->key, dl->receiver, n, o->code, (long long)o->latency_ms);
        else if (o->kind == OUT_RETRY)
                log_notice("delivery retry key=%s receiver=%s attempt=%d code=%d in_ms=%lld "
                           "error=\"%s\"",
                           dl->key, dl->receiver, n, o->code,
                           (long long)(next_at - clock_wall_ms()), o->error);
        else if (o->kind == OUT_DEFER) /* the receiver's state change is the log line */
                log_debug("delivery deferred key=%s receiver=%s code=%d", dl->key, dl->receiver,
                          o->code);
        else
                log_warn("delivery dead key=%s receiver=%s attempt=%d code=%d error=\"%s\"",
                         dl->key, dl->receiver, n, o->code, o->error);
}

/* Records the attempt and the delivery's new state. A failure to record
 * leaves it SENDING: re-queued at the next start (at-least-once). */
static void finish(struct dispatcher *d, const struct delivery *dl, long max_attempts, long max_age,
                   int64_t started_ms, struct outcome *o)
{
        static const enum delivery_status status[] = { DELIVERY_SENT, DELIVERY_QUEUED,
                                                       DELIVERY_DEAD, DELIVERY_QUEUED };
        int64_t next_at = schedule(d, dl, max_attempts, max_age, o);
        struct delivery_attempt a = {
                .delivery_key = dl->key,
                .at_ms = started_ms,
                .outcome = outcome_names[o->kind],
                .code = o->code,
                .latency_ms = o->latency_ms,
                .error = o->kind == OUT_SENT ? NULL : o->error,
                .refused = o->refused,
        };
        int r = o->kind == OUT_DEFER
                    ? store_delivery_defer(d->store, &a, next_at)
                    : store_delivery_finish(d->store, &a, status[o->kind], next_at);

        if (r < 0)
                log_error("delivery not recorded key=%s error=%s", dl->key, error_name(r));
        count_outcome(d, o->kind);
        log_outcome(dl, o, next_at);
        if (d->obs.on_attempt)
                d->obs.on_attempt(d->obs.ctx, dl->receiver, outcome_names[o->kind], o->latency_ms,
                                  clock_wall_ms() - dl->created_at_ms);
        if (d->obs.on_refused && o->refused_n > 0)
                d->obs.on_refused(d->obs.ctx, dl->receiver, o->refused_n);
}

/* ---- outcome tables (dispatch.h) ---------------------------------------- */

enum dispatch_verdict dispatch_classify(enum config_receiver_type type, int curl_result, long code)
{
        const struct channel *ch = channel_get(type);

        if (ch == NULL) /* not a channel: whether anything failed */
                return curl_result == 0 ? DISPATCH_SENT : DISPATCH_RECEIVER;
        return ch->classify(curl_result, code);
}

/* A Retry-After (Slack's 429) holds back every delivery sharing the pace
 * (the webhook), not only this one. */
static void pace_hold(struct rstate *rs, const struct outcome *o)
{
        int64_t until;

        if (rs == NULL || o->retry_after_ms <= 0)
                return;
        until = clock_mono_us() + o->retry_after_ms * 1000;
        if (rs->pace->next_us < until)
                rs->pace->next_us = until;
}

/* ---- receiver health ---------------------------------------------------- */

static void health_save(struct dispatcher *d, const struct rstate *rs)
{
        const struct health *h = &rs->health;
        struct store_receiver_health row = {
                .receiver = rs->rc->name,
                .up = !h->down,
                .since_ms = h->since_ms,
                .failures = h->failures,
                .last_error = h->error[0] ? h->error : NULL,
                .updated_at_ms = clock_wall_ms(),
        };
        int r = store_receiver_health_put(d->store, &row, true);

        if (r < 0)
                log_error("receiver health not recorded receiver=%s error=%s", rs->rc->name,
                          error_name(r));
}

static void health_report(struct dispatcher *d, const struct rstate *rs)
{
        if (d->obs.on_health)
                d->obs.on_health(d->obs.ctx, rs->rc->name, !rs->health.down);
}

/* A receiver fault takes the receiver down (or keeps it down, backing off
 * further); any other answer from it brings it back. Called with what the
 * receiver itself answered, never for local failures (setup, config). */
static void health_note(struct dispatcher *d, struct rstate *rs, const struct outcome *o)
{
        struct health *h = rs != NULL ? &rs->health : NULL;

        if (h == NULL || (o->kind != OUT_DEFER && !h->down && h->failures == 0))
                return;
        if (o->kind == OUT_DEFER) {
                h->failures++;
                snprintf(h->error, sizeof h->error, "%s", o->error);
                h->probe_us = clock_mono_us() +
                              dispatch_backoff_ms(h->failures < 64 ? (int)h->failures : 64,
                                                  rnd01(d)) *
                                  1000;
                if (!h->down) {
                        h->down = true;
                        h->since_ms = clock_wall_ms();
                        log_warn("receiver unhealthy receiver=%s code=%d error=\"%s\"",
                                 rs->rc->name, o->code, h->error);
                        health_report(d, rs);
                }
        } else {
                if (h->down) {
                        log_notice("receiver healthy receiver=%s failures=%lld down_ms=%lld",
                                   rs->rc->name, (long long)h->failures,
                                   (long long)(clock_wall_ms() - h->since_ms));
                        h->since_ms = clock_wall_ms();
                }
                h->down = false;
                h->failures = 0;
                health_report(d, rs);
        }
        health_save(d, rs);
}

/* ---- finished jobs ------------------------------------------------------ */

static void job_outcome(const struct dw_job *j, struct outcome *o)
{
        if (j->setup_failed)
                outcome_set(o, OUT_RETRY, 0, "%s: setup: %s", j->dl.channel,
                            curl_easy_strerror((CURLcode)j->result));
        else
                j->channel->outcome(j, o);
        o->latency_ms = j->latency_ms;
}

/* Records what came back from a worker. The receiver may have been
 * reloaded away meanwhile: the attempt is recorded all the same, its
 * health no longer kept. */
static void job_done(struct dispatcher *d, struct dw_job *j)
{
        struct lane *lane = lane_find(d, j->dl.receiver);
        struct rstate *rs = rstate_find(d, j->dl.receiver);
        struct outcome o = { 0 };

        if (lane != NULL)
                lane->in_flight--;
        pthread_mutex_lock(&d->lock);
        d->stats.in_flight--;
        pthread_mutex_unlock(&d->lock);
        job_outcome(j, &o);
        pace_hold(rs, &o);
        if (!j->setup_failed) /* a local failure says nothing about the receiver */
                health_note(d, rs, &o);
        finish(d, &j->dl, j->max_attempts, j->max_age, j->started_ms, &o);
        dw_job_free(j);
}

/* Records every finished job; returns how many. */
static long collect_done(struct dispatcher *d)
{
        struct dw_job *j = dw_hub_take(d->hub);
        long n = 0;

        while (j != NULL) {
                struct dw_job *next = j->next;
                job_done(d, j);
                j = next;
                n++;
        }
        return n;
}

/* ---- hand-over ----------------------------------------------------------- */

static struct lane *lane_get(struct dispatcher *d, struct rstate *rs)
{
        struct lane *l;
        int r;

        if (rs->lane != NULL)
                return rs->lane;
        l = calloc(1, sizeof *l);
        if (l == NULL)
                return NULL;
        r = dw_worker_start(&l->w, d->hub, rs->rc->name);
        if (r < 0) {
                log_error("dispatch cannot start a worker receiver=%s error=%s", rs->rc->name,
                          error_name(r));
                free(l);
                return NULL;
        }
        l->next = d->lanes;
        d->lanes = l;
        rs->lane = l;
        return l;
}

/* Copies what the worker needs from the config into j. */
static int job_settings(const struct config *cfg, const struct rstate *rs, struct dw_job *j)
{
        j->channel = rs->ch;
        j->max_attempts = rs->rc->max_attempts;
        j->max_age = rs->rc->max_age;
        j->started_ms = clock_wall_ms();
        return rs->ch->settings(cfg, rs->rc, j);
}

/* What the config lacks for this delivery (it is DEAD then), or NULL. */
static const char *unsendable(const struct config *cfg, const struct rstate *rs,
                              const struct delivery *dl)
{
        if (rs->ch == NULL)
                return "no channel for this receiver type";
        return rs->ch->unsendable != NULL ? rs->ch->unsendable(cfg, rs->rc, dl) : NULL;
}

/* Hands a claimed delivery to the receiver's worker; a delivery that
 * cannot go is recorded as that delivery's attempt. */
static void hand_over(struct dispatcher *d, struct rstate *rs, struct lane *lane,
                      struct delivery *dl)
{
        const struct config_receiver *rc = rs->rc;
        const char *why = unsendable(d->cfg, rs, dl);
        struct outcome o = { 0 };
        struct dw_job *j;

        if (why != NULL) {
                outcome_set(&o, OUT_DEAD, 0, "%s", why);
                finish(d, dl, rc->max_attempts, rc->max_age, clock_wall_ms(), &o);
                return;
        }
        j = dw_job_new(dl);
        if (j == NULL || job_settings(d->cfg, rs, j) < 0) {
                outcome_set(&o, OUT_RETRY, 0, "out of memory");
                finish(d, j != NULL ? &j->dl : dl, rc->max_attempts, rc->max_age, clock_wall_ms(),
                       &o);
                dw_job_free(j);
                return;
        }
        lane->in_flight++;
        pace_take(rs->pace);
        pthread_mutex_lock(&d->lock);
        d->stats.in_flight++;
        pthread_mutex_unlock(&d->lock);
        dw_worker_submit(lane->w, j);
}

static void start_delivery(struct dispatcher *d, struct rstate *rs, struct lane *lane,
                           struct delivery *dl)
{
        struct outcome o = { 0 };

        if (dl->channel == NULL || strcmp(dl->channel, rs->rc->type_name) != 0) {
                /* rendered for another channel than the receiver has now */
                outcome_set(&o, OUT_DEAD, 0, "receiver type is now %s, payload is for %s",
                            rs->rc->type_name, dl->channel ? dl->channel : "?");
                finish(d, dl, rs->rc->max_attempts, rs->rc->max_age, clock_wall_ms(), &o);
        } else {
                hand_over(d, rs, lane, dl);
        }
}

/* ---- the loop ---------------------------------------------------------- */

struct due {
        struct delivery *items;
        long count, max;
};

static int collect_due(void *ctx, const struct delivery *dl)
{
        struct due *due = ctx;

        if (due->count >= due->max)
                return 0;
        return delivery_copy(&due->items[due->count++], dl);
}

static void store_trouble(struct dispatcher *d, int r)
{
        if (r < 0 && !d->store_failing)
                log_error("dispatch cannot read the delivery queue error=%s", error_name(r));
        else if (r >= 0 && d->store_failing)
                log_notice("dispatch reads the delivery queue again");
        d->store_failing = r < 0;
}

/* High availability: whether this instance may still claim (leads). */
static bool may_claim(struct dispatcher *d)
{
        return d->obs.may_claim == NULL || d->obs.may_claim(d->obs.claim_ctx);
}

static void fill_receiver(struct dispatcher *d, struct rstate *rs)
{
        long room = receiver_room(rs, clock_mono_us());
        struct due due = { .max = room };
        struct lane *lane;
        int r;

        if (room <= 0 || (lane = lane_get(d, rs)) == NULL) /* no worker: they stay queued */
                return;
        due.items = calloc((size_t)room, sizeof *due.items);
        if (due.items == NULL)
                return;
        r = store_delivery_due(d->store, rs->rc->name, clock_wall_ms(), room, collect_due, &due);
        store_trouble(d, r);
        for (long i = 0; i < due.count; i++) {
                if (r >= 0 && may_claim(d) && /* asked per claim: a round takes a while */
                    store_delivery_claim(d->store, due.items[i].key, clock_wall_ms()) == 1)
                        start_delivery(d, rs, lane, &due.items[i]);
                delivery_clear(&due.items[i]);
        }
        if (r >= 0 && due.count == room && rs->pace->rate <= 0)
                d->more = true;
        free(due.items);
}

static int poll_timeout(struct dispatcher *d, bool stopping, int64_t deadline_ms)
{
        int64_t now = clock_mono_us(), t = POLL_MAX_MS;

        if (stopping)
                t = deadline_ms - now / 1000;
        else if (d->more)
                return 0;
        /* wake when a paced receiver may send again; one that may send now
         * already looked at its queue this turn */
        for (size_t i = 0; i < d->rs_count && !stopping; i++) {
                const struct rstate *rs = &d->rs[i];
                int64_t wait = (rs->pace->next_us - now + 999) / 1000;
                if (rs->pace->rate > 0 && in_flight(rs) < rs->rc->concurrency && wait > 0 &&
                    wait < t)
                        t = wait;
        }
        if (t > POLL_MAX_MS)
                t = POLL_MAX_MS;
        return t < 0 ? 0 : (int)t;
}

/* Names every configured receiver in the store (the `receivers` view
 * lists it from then on) and tells the observer how each one is. */
static void announce_receivers(struct dispatcher *d)
{
        for (size_t i = 0; i < d->rs_count; i++) {
                const struct rstate *rs = &d->rs[i];
                struct store_receiver_health row = { .receiver = rs->rc->name,
                                                     .up = true,
                                                     .updated_at_ms = clock_wall_ms() };
                int r = store_receiver_health_put(d->store, &row, false);

                if (r < 0)
                        log_error("receiver health not recorded receiver=%s error=%s", rs->rc->name,
                                  error_name(r));
                health_report(d, rs);
        }
}

static void take_reload(struct dispatcher *d)
{
        struct dispatch_plan *p;

        pthread_mutex_lock(&d->lock);
        p = d->pending;
        if (p != NULL) {
                plan_apply(d, p); /* cannot fail */
                d->pending = NULL;
                pthread_cond_broadcast(&d->cond);
        }
        pthread_mutex_unlock(&d->lock);
        if (p != NULL)
                announce_receivers(d);
}

static bool any_in_flight(const struct dispatcher *d)
{
        for (const struct lane *l = d->lanes; l != NULL; l = l->next)
                if (l->in_flight > 0)
                        return true;
        return false;
}

/* One turn; false once stopping and nothing (or no time) is left. */
static bool step(struct dispatcher *d)
{
        bool stopping, claim;
        int64_t deadline;

        take_reload(d);
        collect_done(d);
        pthread_mutex_lock(&d->lock);
        stopping = d->stopping;
        deadline = d->stop_deadline_ms;
        pthread_mutex_unlock(&d->lock);
        if (stopping && (!any_in_flight(d) || clock_mono_us() / 1000 >= deadline))
                return false;
        d->more = false;
        /* no claim once leadership is lost (high availability) */
        claim = !stopping && may_claim(d);
        for (size_t i = 0; i < d->rs_count && claim; i++)
                fill_receiver(d, &d->rs[i]);
        dw_hub_wait(d->hub, poll_timeout(d, stopping, deadline));
        return true;
}

/* After the grace period: every worker is told to stop and given a moment;
 * one still stuck (in a write the kernel does not interrupt, or in libcurl)
 * is abandoned, not waited for. What any of them still held stays SENDING
 * in the store (re-queued at the next start); what finished meanwhile is
 * recorded. */
static void abort_all(struct dispatcher *d)
{
        int64_t until = clock_mono_us() / 1000 + STOP_JOIN_MS;
        long held = 0;
        int stuck = 0;

        for (struct lane *l = d->lanes; l != NULL; l = l->next)
                dw_worker_stop(l->w);
        while (d->lanes != NULL) {
                struct lane *l = d->lanes;
                d->lanes = l->next;
                if (!dw_worker_release(l->w, until))
                        stuck++;
                held += l->in_flight;
                free(l);
        }
        for (size_t i = 0; i < d->rs_count; i++)
                d->rs[i].lane = NULL;
        held -= collect_done(d);
        if (held > 0)
                log_notice("dispatch stopped with deliveries in flight aborted=%ld", held);
        if (stuck > 0)
                log_warn("dispatch left stuck receiver workers behind count=%d", stuck);
        pthread_mutex_lock(&d->lock);
        d->abandoned = stuck;
        pthread_mutex_unlock(&d->lock);
}

static void *run(void *arg)
{
        struct dispatcher *d = arg;
        int n = store_delivery_requeue_inflight(d->store, clock_wall_ms());

        if (n > 0)
                log_notice("dispatch requeued deliveries left in flight count=%d", n);
        else if (n < 0)
                log_error("dispatch cannot requeue in-flight deliveries error=%s", error_name(n));
        announce_receivers(d);
        while (step(d))
                ;
        abort_all(d);
        pthread_mutex_lock(&d->lock);
        d->exited = true;
        dispatch_plan_free(d->pending); /* committed too late: nobody uses the old config */
        d->pending = NULL;
        pthread_cond_broadcast(&d->cond);
        pthread_mutex_unlock(&d->lock);
        return NULL;
}

/* ---- public ------------------------------------------------------------ */

/* libcurl's global state stays when a worker was abandoned: it may still
 * be inside libcurl (the process is about to exit anyway). */
static void dispatcher_free(struct dispatcher *d)
{
        bool curl_in_use = d->abandoned > 0;

        dw_hub_release(d->hub);
        store_close(d->store);
        free(d->rs);
        free(d->paces);
        pthread_cond_destroy(&d->cond);
        pthread_mutex_destroy(&d->lock);
        free(d);
        if (!curl_in_use)
                curl_global_cleanup();
}

/* store_receiver_list callback at start: a receiver that was unhealthy when
 * the last run ended stays so (probed at once, one delivery at a time)
 * instead of getting its whole queue again. */
static int load_health(void *ctx, const struct store_receiver *v)
{
        struct dispatcher *d = ctx;
        struct rstate *rs = rstate_find(d, v->health.receiver);

        if (rs == NULL || !v->known || v->health.up)
                return 0;
        rs->health.down = true;
        rs->health.failures = v->health.failures;
        rs->health.since_ms = v->health.since_ms;
        snprintf(rs->health.error, sizeof rs->health.error, "%s",
                 v->health.last_error ? v->health.last_error : "");
        return 0;
}

static int dispatcher_init(struct dispatcher *d, const char *store_path, const struct config *cfg,
                           char *err, size_t errlen)
{
        struct store_options so = { 0 };
        struct dispatch_plan *p;
        int r;

        so.busy_timeout_ms = config_store_busy_ms(cfg);
        so.password = config_store_password(cfg);
        so.synchronous_normal = cfg->store.synchronous != NULL &&
                                strcmp(cfg->store.synchronous, "normal") == 0;
        so.fence = d->obs.fence; /* before the requeue and the first claim */
        r = store_open(&d->store, store_path, &so, err, errlen);
        if (r < 0)
                return r;
        r = dw_hub_new(&d->hub);
        if (r < 0)
                return error_set(err, errlen, r, "dispatcher: out of memory");
        r = dispatch_reload_prepare(cfg, &p);
        if (r < 0)
                return error_set(err, errlen, r, "dispatcher: out of memory");
        plan_apply(d, p);
        r = store_receiver_list(d->store, load_health, d);
        if (r < 0) /* they start healthy: the first fault takes them down again */
                log_error("dispatch cannot read receiver health error=%s", error_name(r));
        d->rng = (uint64_t)clock_mono_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)d;
        if (d->rng == 0)
                d->rng = 0x9e3779b97f4a7c15ULL;
        return 0;
}

/* The thread starts with SIGPIPE blocked (CURLOPT_NOSIGNAL stops curl from
 * ignoring it, and a TLS write to a closed peer would kill the process) and
 * with the signals the main loop reads from its signalfd blocked too. */
static int start_thread(struct dispatcher *d)
{
        sigset_t block, old;
        int r;

        sigemptyset(&block);
        sigaddset(&block, SIGPIPE);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        r = pthread_create(&d->thread, NULL, run, d);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return -r;
}

int dispatch_start(struct dispatcher **out, const char *store_path, const struct config *cfg,
                   const struct dispatch_observer *obs, char *err, size_t errlen)
{
        struct dispatcher *d;
        int r;

        *out = NULL;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return error_set(err, errlen, -EIO, "dispatcher: cannot initialise libcurl");
        d = calloc(1, sizeof *d);
        if (d == NULL) {
                curl_global_cleanup();
                return error_set(err, errlen, -ENOMEM, "dispatcher: out of memory");
        }
        pthread_mutex_init(&d->lock, NULL);
        pthread_cond_init(&d->cond, NULL);
        if (obs)
                d->obs = *obs;
        r = dispatcher_init(d, store_path, cfg, err, errlen);
        if (r == 0 && (r = start_thread(d)) < 0)
                error_set(err, errlen, r, "dispatcher: cannot start the thread");
        if (r < 0) {
                dispatcher_free(d);
                return r;
        }
        *out = d;
        return 0;
}

void dispatch_wake(struct dispatcher *d)
{
        if (d != NULL)
                dw_hub_poke(d->hub);
}

void dispatch_reload_commit(struct dispatcher *d, struct dispatch_plan *p)
{
        pthread_mutex_lock(&d->lock);
        if (d->exited) { /* the thread no longer reads any config */
                pthread_mutex_unlock(&d->lock);
                dispatch_plan_free(p);
                return;
        }
        dispatch_plan_free(d->pending); /* only one committer: never set here */
        d->pending = p;
        dw_hub_poke(d->hub);
        while (d->pending != NULL && !d->exited)
                pthread_cond_wait(&d->cond, &d->lock);
        pthread_mutex_unlock(&d->lock);
}

int dispatch_reload(struct dispatcher *d, const struct config *cfg)
{
        struct dispatch_plan *p;
        int r = dispatch_reload_prepare(cfg, &p);

        if (r < 0)
                return r;
        dispatch_reload_commit(d, p);
        return 0;
}

void dispatch_stop(struct dispatcher *d, int grace_ms)
{
        if (d == NULL)
                return;
        pthread_mutex_lock(&d->lock);
        d->stopping = true;
        d->stop_deadline_ms = clock_mono_us() / 1000 + (grace_ms > 0 ? grace_ms : 0);
        pthread_mutex_unlock(&d->lock);
        dw_hub_poke(d->hub);
        pthread_join(d->thread, NULL);
        dispatcher_free(d);
}

void dispatch_get_stats(struct dispatcher *d, struct dispatch_stats *out)
{
        pthread_mutex_lock(&d->lock);
        *out = d->stats;
        pthread_mutex_unlock(&d->lock);
}
