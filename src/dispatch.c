/* cppo-notify — the dispatcher (see include/cppo/dispatch.h).
 *
 * Layout: receiver state (per-receiver concurrency, pacing shared by
 * receivers posting to the same Slack webhook), transfer setup per channel
 * (email and Slack through the multi handle, file synchronously), and
 * completion handling (outcome -> store_delivery_finish with backoff).
 * Everything below the public functions runs on the dispatcher thread
 * only, except what is guarded by d->lock.
 */
#include "cppo/dispatch.h"

#include "cppo/buf.h"
#include "cppo/delivery.h"
#include "cppo/error.h"
#include "cppo/log.h"
#include "cppo/secret.h"
#include "cppo/store.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_BASE_MS   1000
#define BACKOFF_CAP_MS    (10 * 60 * 1000)
#define POLL_MAX_MS       250
#define FILE_BATCH        64  /* file deliveries written per turn */
#define SLACK_BODY_MAX    200 /* bytes of Slack's error text kept */
#define HTTP_CONNECT_S    10
#define HTTP_TIMEOUT_S    30
#define IDLE_HANDLES_MAX  16
#define OUTCOME_ERROR_MAX 320

/* Pacing shared by every receiver with the same key: the webhook URL for
 * Slack (Slack limits each webhook), the receiver name otherwise. */
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
        char error[OUTCOME_ERROR_MAX];
};

struct rstate {
        const struct config_receiver *rc;
        struct pace *pace;
        long in_flight;
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

struct transfer {
        struct transfer *next;
        struct rstate *rs; /* NULL once a reload removed the receiver */
        CURL *easy;
        struct delivery dl;
        size_t off; /* payload bytes handed to curl (email upload) */
        struct curl_slist *rcpts, *headers;
        struct buf body; /* Slack's response, capped */
        long max_attempts, max_age;
        int64_t started_ms; /* wall clock */
};

enum outcome_kind { OUT_SENT, OUT_RETRY, OUT_DEAD, OUT_DEFER };

struct outcome {
        enum outcome_kind kind;
        int code;
        int64_t retry_after_ms;
        int64_t latency_ms;
        char error[OUTCOME_ERROR_MAX];
};

struct dispatcher {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* guarded by lock */
        struct dispatch_plan *pending; /* handed over by dispatch_reload_commit */
        bool stopping, exited;
        int64_t stop_deadline_ms; /* monotonic */
        struct dispatch_stats stats;
        /* dispatcher thread only */
        const struct config *cfg;
        struct store *store;
        CURLM *multi;
        struct rstate *rs;
        size_t rs_count;
        struct pace *paces;
        size_t pace_count;
        struct transfer *active;
        CURL *idle[IDLE_HANDLES_MAX];
        size_t idle_count;
        struct dispatch_observer obs;
        uint64_t rng;
        bool more; /* a receiver filled a whole batch: look again at once */
        bool store_failing;
};

/* ---- time and randomness ----------------------------------------------- */

static int64_t mono_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
        const char *url = rc->type == CONFIG_RECEIVER_SLACK ? secret_value(rc->webhook_url) : NULL;

        return url != NULL ? url : rc->name;
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
        pc[*np] = (struct pace){.key = key, .rate = rc->rate};
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

/* Swaps in the receiver state of p (taking its arrays over and freeing p):
 * a pace key or receiver name the old state knew keeps its schedule and
 * health, in-flight transfers move over by receiver name. Allocates
 * nothing, so it cannot fail. The previous config must still be alive. */
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
        }
        free(d->rs);
        free(d->paces);
        d->rs = p->rs;
        d->rs_count = p->rs_count;
        d->paces = p->paces;
        d->pace_count = p->pace_count;
        d->cfg = p->cfg;
        free(p);
        for (struct transfer *t = d->active; t != NULL; t = t->next) {
                t->rs = rstate_find(d, t->dl.receiver);
                if (t->rs != NULL)
                        t->rs->in_flight++;
        }
}

static bool pace_ready(const struct pace *p, int64_t now_us)
{
        return p->rate <= 0 || now_us >= p->next_us;
}

static void pace_take(struct pace *p)
{
        int64_t now = mono_us();

        if (p->rate <= 0)
                return;
        if (p->next_us < now)
                p->next_us = now;
        p->next_us += 1000000 / p->rate;
}

/* How many deliveries rs may start now. */
static long receiver_room(const struct rstate *rs, int64_t now_us)
{
        bool file = rs->rc->type == CONFIG_RECEIVER_FILE; /* synchronous: never in flight */

        if (!pace_ready(rs->pace, now_us) || (!file && rs->in_flight >= rs->rc->concurrency))
                return 0;
        if (rs->health.down) /* one probe at a time, after the receiver's backoff */
                return rs->in_flight == 0 && now_us >= rs->health.probe_us ? 1 : 0;
        if (rs->pace->rate > 0)
                return 1;
        return file ? FILE_BATCH : rs->rc->concurrency - rs->in_flight;
}

/* ---- easy handles and transfers ---------------------------------------- */

static CURL *easy_get(struct dispatcher *d)
{
        if (d->idle_count > 0)
                return d->idle[--d->idle_count];
        return curl_easy_init();
}

/* Keeps the handle for the next message (curl_easy_reset keeps its DNS and
 * TLS session caches; connections live in the multi handle's cache). */
static void easy_put(struct dispatcher *d, CURL *c)
{
        if (c == NULL)
                return;
        if (d->idle_count < IDLE_HANDLES_MAX) {
                curl_easy_reset(c);
                d->idle[d->idle_count++] = c;
        } else {
                curl_easy_cleanup(c);
        }
}

static void transfer_free(struct dispatcher *d, struct transfer *t)
{
        if (t == NULL)
                return;
        easy_put(d, t->easy);
        curl_slist_free_all(t->rcpts);
        curl_slist_free_all(t->headers);
        buf_deinit(&t->body);
        delivery_clear(&t->dl);
        free(t);
}

static void unlink_transfer(struct dispatcher *d, struct transfer *t)
{
        for (struct transfer **p = &d->active; *p != NULL; p = &(*p)->next)
                if (*p == t) {
                        *p = t->next;
                        break;
                }
        curl_multi_remove_handle(d->multi, t->easy);
        if (t->rs != NULL)
                t->rs->in_flight--;
        pthread_mutex_lock(&d->lock);
        d->stats.in_flight--;
        pthread_mutex_unlock(&d->lock);
}

/* ---- completion -------------------------------------------------------- */

static const char *const outcome_names[] = {"sent", "retry", "dead", "deferred"};

/* Turns a failed attempt into "retry", "deferred" or "dead" (attempt
 * budget, age) and computes when the next one is due. A deferred delivery
 * is due at once: the receiver's probe backoff decides when it goes. */
static int64_t schedule(struct dispatcher *d, const struct delivery *dl, long max_attempts,
                        long max_age, struct outcome *o)
{
        int attempts = dl->attempts + (o->kind == OUT_DEFER ? 0 : 1);
        int64_t now = wall_ms(), wait;
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

        if (o->kind == OUT_SENT)
                log_info("delivery sent key=%s receiver=%s attempt=%d code=%d latency_ms=%lld",
                         dl->key, dl->receiver, n, o->code, (long long)o->latency_ms);
        else if (o->kind == OUT_RETRY)
                log_notice("delivery retry key=%s receiver=%s attempt=%d code=%d in_ms=%lld "
                           "error=\"%s\"",
                           dl->key, dl->receiver, n, o->code, (long long)(next_at - wall_ms()),
                           o->error);
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
        static const enum delivery_status status[] = {DELIVERY_SENT, DELIVERY_QUEUED, DELIVERY_DEAD,
                                                      DELIVERY_QUEUED};
        int64_t next_at = schedule(d, dl, max_attempts, max_age, o);
        struct delivery_attempt a = {
            .delivery_key = dl->key,
            .at_ms = started_ms,
            .outcome = outcome_names[o->kind],
            .code = o->code,
            .latency_ms = o->latency_ms,
            .error = o->kind == OUT_SENT ? NULL : o->error,
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
                                  wall_ms() - dl->created_at_ms);
}

static void outcome_set(struct outcome *o, enum outcome_kind k, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void outcome_set(struct outcome *o, enum outcome_kind k, int code, const char *fmt, ...)
{
        va_list ap;

        o->kind = k;
        o->code = code;
        va_start(ap, fmt);
        vsnprintf(o->error, sizeof o->error, fmt, ap);
        va_end(ap);
}

/* ---- outcome tables (dispatch.h) ---------------------------------------- */

/* The receiver, not the message: it cannot be found, reached, trusted or
 * logged into, or it never answered. */
static const long receiver_curl[] = {
    CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,
    CURLE_OPERATION_TIMEDOUT,    CURLE_SSL_CONNECT_ERROR,    CURLE_PEER_FAILED_VERIFICATION,
    CURLE_SSL_CERTPROBLEM,       CURLE_SSL_CIPHER,           CURLE_SSL_CACERT_BADFILE,
    CURLE_SSL_ISSUER_ERROR,      CURLE_SSL_CRL_BADFILE,      CURLE_SSL_PINNEDPUBKEYNOTMATCH,
    CURLE_USE_SSL_FAILED,        CURLE_LOGIN_DENIED,         CURLE_GOT_NOTHING,
};
/* Connection-level send or receive failures: the receiver's only when no
 * reply came (RCPT 4xx and DATA 5xx end in CURLE_SEND_ERROR too). */
static const long silent_curl[] = {CURLE_SEND_ERROR, CURLE_RECV_ERROR};
/* SMTP replies about the server or the session, not the message: 421
 * closing, 454 TLS or authentication unavailable, 530 authentication
 * required, 534 mechanism too weak, 535 credentials invalid, 538 encryption
 * required. */
static const long receiver_smtp[] = {421, 454, 530, 534, 535, 538};
/* HTTP statuses of a webhook that is gone, revoked or not allowed to post:
 * Slack's invalid_token, action_prohibited (403), no_service,
 * channel_not_found (404), channel_is_archived, team_disabled (410). */
static const long receiver_http[] = {401, 403, 404, 410};

#define IN(table, x) in_table(table, sizeof table / sizeof table[0], x)

static bool in_table(const long *v, size_t n, long x)
{
        for (size_t i = 0; i < n; i++)
                if (v[i] == x)
                        return true;
        return false;
}

static bool receiver_transport(int curl_result, long code)
{
        return IN(receiver_curl, curl_result) || (code == 0 && IN(silent_curl, curl_result));
}

static enum dispatch_verdict classify_smtp(int curl_result, long code)
{
        if (curl_result == CURLE_OK)
                return DISPATCH_SENT;
        if (receiver_transport(curl_result, code) || IN(receiver_smtp, code))
                return DISPATCH_RECEIVER;
        return code >= 500 && code < 600 ? DISPATCH_PERMANENT : DISPATCH_RETRY;
}

static enum dispatch_verdict classify_http(int curl_result, long code)
{
        if (curl_result != CURLE_OK)
                return receiver_transport(curl_result, code) ? DISPATCH_RECEIVER : DISPATCH_RETRY;
        if (code >= 200 && code < 300)
                return DISPATCH_SENT;
        if (IN(receiver_http, code))
                return DISPATCH_RECEIVER;
        return code == 429 || code >= 500 ? DISPATCH_RETRY : DISPATCH_PERMANENT;
}

enum dispatch_verdict dispatch_classify(enum config_receiver_type type, int curl_result, long code)
{
        switch (type) {
        case CONFIG_RECEIVER_EMAIL: return classify_smtp(curl_result, code);
        case CONFIG_RECEIVER_SLACK: return classify_http(curl_result, code);
        case CONFIG_RECEIVER_FILE: break;
        }
        return curl_result == 0 ? DISPATCH_SENT : DISPATCH_RECEIVER;
}

#undef IN

static const enum outcome_kind verdict_kind[] = {
    [DISPATCH_SENT] = OUT_SENT,
    [DISPATCH_RETRY] = OUT_RETRY,
    [DISPATCH_PERMANENT] = OUT_DEAD,
    [DISPATCH_RECEIVER] = OUT_DEFER,
};

static void email_outcome(struct transfer *t, CURLcode res, struct outcome *o)
{
        long code = 0;
        enum outcome_kind k;

        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        k = verdict_kind[dispatch_classify(CONFIG_RECEIVER_EMAIL, (int)res, code)];
        o->code = (int)code;
        if (k == OUT_SENT)
                o->kind = OUT_SENT;
        else
                outcome_set(o, k, (int)code, "smtp: %s (reply %ld)", curl_easy_strerror(res), code);
}

/* Replaces every occurrence of secret in s (NUL-terminated) with "*". */
static void scrub(char *s, const char *secret)
{
        size_t n = secret != NULL ? strlen(secret) : 0;
        char *p;

        if (n == 0)
                return;
        while ((p = strstr(s, secret)) != NULL) {
                *p = '*';
                memmove(p + 1, p + n, strlen(p + n) + 1);
        }
}

/* Slack's error text for a permanent failure: printable ASCII, capped, and
 * never the webhook URL or its path. */
static void slack_error_text(struct transfer *t, long code, enum outcome_kind k, struct outcome *o)
{
        const char *url = t->rs != NULL ? secret_value(t->rs->rc->webhook_url) : NULL;
        const char *scheme_end = url != NULL ? strstr(url, "://") : NULL;
        const char *path = scheme_end != NULL ? strchr(scheme_end + 3, '/') : NULL;
        char text[SLACK_BODY_MAX + 1];
        size_t n = 0;

        for (size_t i = 0; i < t->body.len && n < SLACK_BODY_MAX; i++) {
                unsigned char c = (unsigned char)t->body.data[i];
                text[n++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
        }
        text[n] = '\0';
        scrub(text, url);
        if (path != NULL && strlen(path) >= 8)
                scrub(text, path);
        outcome_set(o, k, (int)code, "slack: http %ld: %s", code, text);
}

static void slack_outcome(struct transfer *t, CURLcode res, struct outcome *o)
{
        long code = 0;
        curl_off_t after = 0;
        enum outcome_kind k;

        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        k = verdict_kind[dispatch_classify(CONFIG_RECEIVER_SLACK, (int)res, code)];
        /* only curl's generic text: its error buffer may name the URL */
        if (res != CURLE_OK)
                outcome_set(o, k, (int)code, "slack: %s", curl_easy_strerror(res));
        else if (k == OUT_SENT) {
                o->kind = OUT_SENT;
                o->code = (int)code;
        } else if (code == 429) {
                curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &after);
                outcome_set(o, OUT_RETRY, 429, "slack: http 429 (retry after %lld s)",
                            (long long)after);
                o->retry_after_ms = (int64_t)after * 1000;
        } else if (code >= 500)
                outcome_set(o, k, (int)code, "slack: http %ld", code);
        else
                slack_error_text(t, code, k, o);
}

/* A 429 holds back every delivery to that webhook, not only this one. */
static void slack_hold(struct transfer *t, const struct outcome *o)
{
        int64_t until;

        if (t->rs == NULL || o->retry_after_ms <= 0)
                return;
        until = mono_us() + o->retry_after_ms * 1000;
        if (t->rs->pace->next_us < until)
                t->rs->pace->next_us = until;
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
            .updated_at_ms = wall_ms(),
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
                h->probe_us =
                    mono_us() +
                    dispatch_backoff_ms(h->failures < 64 ? (int)h->failures : 64, rnd01(d)) * 1000;
                if (!h->down) {
                        h->down = true;
                        h->since_ms = wall_ms();
                        log_warn("receiver unhealthy receiver=%s code=%d error=\"%s\"",
                                 rs->rc->name, o->code, h->error);
                        health_report(d, rs);
                }
        } else {
                if (h->down) {
                        log_notice("receiver healthy receiver=%s failures=%lld down_ms=%lld",
                                   rs->rc->name, (long long)h->failures,
                                   (long long)(wall_ms() - h->since_ms));
                        h->since_ms = wall_ms();
                }
                h->down = false;
                h->failures = 0;
                health_report(d, rs);
        }
        health_save(d, rs);
}

static void transfer_done(struct dispatcher *d, struct transfer *t, CURLcode res)
{
        struct outcome o = {0};
        curl_off_t total_us = 0;

        curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
        if (strcmp(t->dl.channel, "slack") == 0) {
                slack_outcome(t, res, &o);
                slack_hold(t, &o);
        } else {
                email_outcome(t, res, &o);
        }
        o.latency_ms = (int64_t)total_us / 1000;
        unlink_transfer(d, t);
        health_note(d, t->rs, &o);
        finish(d, &t->dl, t->max_attempts, t->max_age, t->started_ms, &o);
        transfer_free(d, t);
}

static void collect_done(struct dispatcher *d)
{
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
                char *priv = NULL;
                if (m->msg != CURLMSG_DONE)
                        continue;
                if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv) == CURLE_OK &&
                    priv != NULL)
                        transfer_done(d, (struct transfer *)(void *)priv, m->data.result);
        }
}

/* ---- transfer setup per channel ---------------------------------------- */

/* Sets options until one fails; rc keeps the first failure. */
#define SETOPT(rc, c, opt, val)                                                                    \
        do {                                                                                       \
                if ((rc) == CURLE_OK)                                                              \
                        (rc) = curl_easy_setopt((c), (opt), (val));                                \
        } while (0)

static size_t read_payload(char *out, size_t size, size_t nmemb, void *p)
{
        struct transfer *t = p;
        size_t room = size * nmemb, left = t->dl.payload_len - t->off;
        size_t n = left < room ? left : room;

        memcpy(out, t->dl.payload + t->off, n);
        t->off += n;
        return n;
}

static size_t write_body(char *data, size_t size, size_t nmemb, void *p)
{
        struct transfer *t = p;
        size_t n = size * nmemb, room = t->body.max - t->body.len;

        /* keep the head of the body, swallow the rest */
        if (buf_append(&t->body, data, n < room ? n : room) < 0)
                return 0;
        return n;
}

static CURLcode set_common(CURL *c, struct transfer *t, const char *protocols)
{
        CURLcode rc = CURLE_OK;

        SETOPT(rc, c, CURLOPT_PRIVATE, (void *)t);
        SETOPT(rc, c, CURLOPT_NOSIGNAL, 1L);
        SETOPT(rc, c, CURLOPT_SSL_VERIFYPEER, 1L);
        SETOPT(rc, c, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
        SETOPT(rc, c, CURLOPT_PROTOCOLS_STR, protocols);
#else
        SETOPT(rc, c, CURLOPT_PROTOCOLS,
               strchr(protocols, 'm') ? (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS)
                                      : (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        SETOPT(rc, c, CURLOPT_USERAGENT, "cppo-notify/" CPPO_VERSION);
        return rc;
}

static long use_ssl(const char *starttls)
{
        if (starttls != NULL && strcmp(starttls, "never") == 0)
                return (long)CURLUSESSL_NONE;
        if (starttls != NULL && strcmp(starttls, "optional") == 0)
                return (long)CURLUSESSL_TRY;
        return (long)CURLUSESSL_ALL;
}

/* Envelope recipients as "<addr>". */
static int rcpt_list(struct transfer *t, struct buf *tmp)
{
        for (size_t i = 0; i < t->dl.recipients.n; i++) {
                struct curl_slist *l;
                buf_reset(tmp);
                if (buf_printf(tmp, "<%s>", t->dl.recipients.v[i]) < 0)
                        return -E2BIG;
                l = curl_slist_append(t->rcpts, buf_cstr(tmp));
                if (l == NULL)
                        return -ENOMEM;
                t->rcpts = l;
        }
        return 0;
}

static CURLcode set_smtp_auth(CURL *c, const struct config *cfg)
{
        CURLcode rc = CURLE_OK;
        const char *pw = secret_value(cfg->smtp.password);

        if (cfg->smtp.username != NULL)
                SETOPT(rc, c, CURLOPT_USERNAME, cfg->smtp.username);
        if (pw != NULL)
                SETOPT(rc, c, CURLOPT_PASSWORD, pw);
        if (cfg->smtp.ca_file != NULL)
                SETOPT(rc, c, CURLOPT_CAINFO, cfg->smtp.ca_file);
        return rc;
}

static int setup_email(struct dispatcher *d, struct transfer *t, struct outcome *o)
{
        const struct config *cfg = d->cfg;
        struct buf tmp = BUF_INIT(1024);
        CURLcode rc;
        int r;

        if (cfg->smtp.url == NULL || cfg->smtp.from == NULL) {
                outcome_set(o, OUT_DEAD, 0, "smtp: no url or from configured");
                return -EINVAL;
        }
        if (t->dl.recipients.n == 0) {
                outcome_set(o, OUT_DEAD, 0, "smtp: no recipients");
                return -EINVAL;
        }
        r = rcpt_list(t, &tmp);
        buf_reset(&tmp);
        if (r == 0)
                r = buf_printf(&tmp, "<%s>", cfg->smtp.from);
        rc = r < 0 ? CURLE_OUT_OF_MEMORY : set_common(t->easy, t, "smtp,smtps");
        SETOPT(rc, t->easy, CURLOPT_URL, cfg->smtp.url);
        SETOPT(rc, t->easy, CURLOPT_MAIL_FROM, buf_cstr(&tmp));
        SETOPT(rc, t->easy, CURLOPT_MAIL_RCPT, t->rcpts);
        SETOPT(rc, t->easy, CURLOPT_UPLOAD, 1L);
        SETOPT(rc, t->easy, CURLOPT_READFUNCTION, read_payload);
        SETOPT(rc, t->easy, CURLOPT_READDATA, (void *)t);
        SETOPT(rc, t->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)t->dl.payload_len);
        SETOPT(rc, t->easy, CURLOPT_USE_SSL, use_ssl(cfg->smtp.starttls));
        SETOPT(rc, t->easy, CURLOPT_CONNECTTIMEOUT, cfg->smtp.timeout);
        SETOPT(rc, t->easy, CURLOPT_TIMEOUT, cfg->smtp.timeout);
        if (rc == CURLE_OK)
                rc = set_smtp_auth(t->easy, cfg);
        buf_deinit(&tmp);
        if (rc != CURLE_OK)
                outcome_set(o, OUT_RETRY, 0, "smtp: setup: %s", curl_easy_strerror(rc));
        return rc == CURLE_OK ? 0 : -EIO;
}

static int setup_slack(struct transfer *t, struct outcome *o)
{
        const struct config_receiver *rc = t->rs->rc;
        const char *url = secret_value(rc->webhook_url);
        struct curl_slist *h;
        CURLcode cr;

        if (url == NULL) {
                outcome_set(o, OUT_DEAD, 0, "slack: no webhook url");
                return -EINVAL;
        }
        h = curl_slist_append(NULL, "Content-Type: application/json");
        t->headers = h;
        /* no "Expect: 100-continue" round trip for larger payloads */
        if (h != NULL && (h = curl_slist_append(t->headers, "Expect:")) != NULL)
                t->headers = h;
        cr = h == NULL ? CURLE_OUT_OF_MEMORY : set_common(t->easy, t, "https,http");
        SETOPT(cr, t->easy, CURLOPT_URL, url);
        SETOPT(cr, t->easy, CURLOPT_HTTPHEADER, t->headers);
        SETOPT(cr, t->easy, CURLOPT_POSTFIELDS, t->dl.payload);
        SETOPT(cr, t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->dl.payload_len);
        SETOPT(cr, t->easy, CURLOPT_WRITEFUNCTION, write_body);
        SETOPT(cr, t->easy, CURLOPT_WRITEDATA, (void *)t);
        SETOPT(cr, t->easy, CURLOPT_CONNECTTIMEOUT, (long)HTTP_CONNECT_S);
        SETOPT(cr, t->easy, CURLOPT_TIMEOUT, (long)HTTP_TIMEOUT_S);
        if (rc->ca_file != NULL)
                SETOPT(cr, t->easy, CURLOPT_CAINFO, rc->ca_file);
        if (cr != CURLE_OK)
                outcome_set(o, OUT_RETRY, 0, "slack: setup: %s", curl_easy_strerror(cr));
        return cr == CURLE_OK ? 0 : -EIO;
}

/* A FIFO without a reader fails at once (ENXIO, retried later) instead of
 * blocking the thread in open(); writes then block as usual. */
static int open_append(const char *path)
{
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
        int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;

        if (fd < 0)
                return -errno;
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Appends payload + "\n" and syncs it; 0 or a negative errno. A pipe or
 * device that cannot be synced (EINVAL) is not an error. */
static int append_line(const char *path, const char *payload, size_t n)
{
        char *line = malloc(n + 1);
        int fd, r = 0;
        size_t off = 0;

        if (line == NULL)
                return -ENOMEM;
        memcpy(line, payload, n);
        line[n] = '\n';
        fd = open_append(path);
        if (fd < 0)
                r = fd;
        while (fd >= 0 && r == 0 && off < n + 1) {
                ssize_t w = write(fd, line + off, n + 1 - off);
                if (w < 0 && errno != EINTR)
                        r = -errno;
                else if (w > 0)
                        off += (size_t)w;
        }
        if (fd >= 0 && r == 0 && fsync(fd) < 0 && errno != EINVAL)
                r = -errno;
        if (fd >= 0 && close(fd) < 0 && r == 0)
                r = -errno;
        free(line);
        return r;
}

static void deliver_file(struct dispatcher *d, struct rstate *rs, const struct delivery *dl)
{
        int64_t started = wall_ms(), t0 = mono_us();
        struct outcome o = {.kind = OUT_SENT};
        int r = append_line(rs->rc->path, dl->payload, dl->payload_len);

        if (r < 0)
                outcome_set(&o, verdict_kind[dispatch_classify(CONFIG_RECEIVER_FILE, r, 0)], 0,
                            "file: %s", strerror(-r));
        o.latency_ms = (mono_us() - t0) / 1000;
        health_note(d, rs, &o);
        finish(d, dl, rs->rc->max_attempts, rs->rc->max_age, started, &o);
}

static struct transfer *transfer_new(struct dispatcher *d, struct rstate *rs, struct delivery *dl)
{
        struct transfer *t = calloc(1, sizeof *t);

        if (t == NULL)
                return NULL;
        t->easy = easy_get(d);
        if (t->easy == NULL) {
                free(t);
                return NULL;
        }
        t->rs = rs;
        t->dl = *dl; /* takes the strings over */
        memset(dl, 0, sizeof *dl);
        buf_init(&t->body, SLACK_BODY_MAX);
        t->max_attempts = rs->rc->max_attempts;
        t->max_age = rs->rc->max_age;
        t->started_ms = wall_ms();
        return t;
}

/* Starts a claimed delivery on the multi handle; a setup failure is
 * recorded as that delivery's attempt. */
static void start_transfer(struct dispatcher *d, struct rstate *rs, struct delivery *dl)
{
        struct outcome o = {0};
        struct transfer *t = transfer_new(d, rs, dl);
        int r;

        if (t == NULL) {
                outcome_set(&o, OUT_RETRY, 0, "out of memory");
                finish(d, dl, rs->rc->max_attempts, rs->rc->max_age, wall_ms(), &o);
                return;
        }
        r = rs->rc->type == CONFIG_RECEIVER_SLACK ? setup_slack(t, &o) : setup_email(d, t, &o);
        if (r == 0 && curl_multi_add_handle(d->multi, t->easy) != CURLM_OK) {
                outcome_set(&o, OUT_RETRY, 0, "cannot start the transfer");
                r = -EIO;
        }
        if (r < 0) {
                finish(d, &t->dl, t->max_attempts, t->max_age, t->started_ms, &o);
                transfer_free(d, t);
                return;
        }
        t->next = d->active;
        d->active = t;
        rs->in_flight++;
        pace_take(rs->pace);
        pthread_mutex_lock(&d->lock);
        d->stats.in_flight++;
        pthread_mutex_unlock(&d->lock);
}

static void start_delivery(struct dispatcher *d, struct rstate *rs, struct delivery *dl)
{
        struct outcome o = {0};

        if (dl->channel == NULL || strcmp(dl->channel, rs->rc->type_name) != 0) {
                /* rendered for another channel than the receiver has now */
                outcome_set(&o, OUT_DEAD, 0, "receiver type is now %s, payload is for %s",
                            rs->rc->type_name, dl->channel ? dl->channel : "?");
                finish(d, dl, rs->rc->max_attempts, rs->rc->max_age, wall_ms(), &o);
        } else if (rs->rc->type == CONFIG_RECEIVER_FILE) {
                deliver_file(d, rs, dl);
                pace_take(rs->pace);
        } else {
                start_transfer(d, rs, dl);
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

static void fill_receiver(struct dispatcher *d, struct rstate *rs)
{
        long room = receiver_room(rs, mono_us());
        struct due due = {.max = room};
        int r;

        if (room <= 0)
                return;
        due.items = calloc((size_t)room, sizeof *due.items);
        if (due.items == NULL)
                return;
        r = store_delivery_due(d->store, rs->rc->name, wall_ms(), room, collect_due, &due);
        store_trouble(d, r);
        for (long i = 0; i < due.count; i++) {
                if (r >= 0 && store_delivery_claim(d->store, due.items[i].key, wall_ms()) == 1)
                        start_delivery(d, rs, &due.items[i]);
                delivery_clear(&due.items[i]);
        }
        if (r >= 0 && due.count == room && rs->pace->rate <= 0)
                d->more = true;
        free(due.items);
}

static int poll_timeout(struct dispatcher *d, bool stopping, int64_t deadline_ms)
{
        int64_t now = mono_us(), t = POLL_MAX_MS;

        if (stopping)
                t = deadline_ms - now / 1000;
        else if (d->more)
                return 0;
        /* wake when a paced receiver may send again; one that may send now
         * already looked at its queue this turn */
        for (size_t i = 0; i < d->rs_count && !stopping; i++) {
                const struct rstate *rs = &d->rs[i];
                int64_t wait = (rs->pace->next_us - now + 999) / 1000;
                if (rs->pace->rate > 0 && rs->in_flight < rs->rc->concurrency && wait > 0 &&
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
                struct store_receiver_health row = {
                    .receiver = rs->rc->name, .up = true, .updated_at_ms = wall_ms()};
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

/* One turn; false once stopping and nothing (or no time) is left. */
static bool step(struct dispatcher *d)
{
        int running = 0;
        bool stopping;
        int64_t deadline;

        take_reload(d);
        curl_multi_perform(d->multi, &running);
        collect_done(d);
        pthread_mutex_lock(&d->lock);
        stopping = d->stopping;
        deadline = d->stop_deadline_ms;
        pthread_mutex_unlock(&d->lock);
        if (stopping && (d->active == NULL || mono_us() / 1000 >= deadline))
                return false;
        d->more = false;
        for (size_t i = 0; i < d->rs_count && !stopping; i++)
                fill_receiver(d, &d->rs[i]);
        curl_multi_poll(d->multi, NULL, 0, poll_timeout(d, stopping, deadline), NULL);
        return true;
}

/* Transfers still running at the end stay SENDING in the store. */
static void abort_all(struct dispatcher *d)
{
        int n = 0;

        while (d->active != NULL) {
                struct transfer *t = d->active;
                unlink_transfer(d, t);
                transfer_free(d, t);
                n++;
        }
        if (n > 0)
                log_notice("dispatch stopped with deliveries in flight aborted=%d", n);
}

static void *run(void *arg)
{
        struct dispatcher *d = arg;
        int n = store_delivery_requeue_inflight(d->store, wall_ms());

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

static void dispatcher_free(struct dispatcher *d)
{
        while (d->idle_count > 0)
                curl_easy_cleanup(d->idle[--d->idle_count]);
        if (d->multi != NULL)
                curl_multi_cleanup(d->multi);
        store_close(d->store);
        free(d->rs);
        free(d->paces);
        pthread_cond_destroy(&d->cond);
        pthread_mutex_destroy(&d->lock);
        free(d);
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
        struct store_options so = {0};
        struct dispatch_plan *p;
        int r;

        so.synchronous_normal =
            cfg->store.synchronous != NULL && strcmp(cfg->store.synchronous, "normal") == 0;
        r = store_open(&d->store, store_path, &so, err, errlen);
        if (r < 0)
                return r;
        d->multi = curl_multi_init();
        if (d->multi == NULL)
                return error_set(err, errlen, -ENOMEM, "dispatcher: cannot create a curl handle");
        r = dispatch_reload_prepare(cfg, &p);
        if (r < 0)
                return error_set(err, errlen, r, "dispatcher: out of memory");
        plan_apply(d, p);
        r = store_receiver_list(d->store, load_health, d);
        if (r < 0) /* they start healthy: the first fault takes them down again */
                log_error("dispatch cannot read receiver health error=%s", error_name(r));
        d->rng = (uint64_t)mono_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)d;
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
                curl_multi_wakeup(d->multi);
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
        curl_multi_wakeup(d->multi);
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
        d->stop_deadline_ms = mono_us() / 1000 + (grace_ms > 0 ? grace_ms : 0);
        pthread_mutex_unlock(&d->lock);
        curl_multi_wakeup(d->multi);
        pthread_join(d->thread, NULL);
        dispatcher_free(d);
}

void dispatch_get_stats(struct dispatcher *d, struct dispatch_stats *out)
{
        pthread_mutex_lock(&d->lock);
        *out = d->stats;
        pthread_mutex_unlock(&d->lock);
}
