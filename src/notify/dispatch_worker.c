/* cppo-notify — the dispatcher's workers (see dispatch_worker.h).
 *
 * Layout: jobs, the hub, transfers (what differs per channel is in
 * channel_<name>.c), the worker loop, then the worker's life cycle.
 * Everything a worker thread touches is its own job, its own multi handle,
 * and its worker and hub structs (kept alive by their reference counts).
 */
#include "dispatch_worker.h"

#include "cppo/clock.h"

#include "channel_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORKER_POLL_MS 1000

/* ---- jobs -------------------------------------------------------------- */

struct dw_job *dw_job_new(struct delivery *dl)
{
        struct dw_job *j = calloc(1, sizeof *j);

        if (j == NULL)
                return NULL;
        j->dl = *dl; /* takes the strings over */
        memset(dl, 0, sizeof *dl);
        buf_init(&j->body, DW_BODY_MAX);
        buf_init(&j->refused, DW_REFUSED_MAX);
        return j;
}

static void job_transfer_end(struct dw_job *j)
{
        if (j->easy != NULL)
                curl_easy_cleanup(j->easy);
        j->easy = NULL;
        curl_slist_free_all(j->rcpts);
        curl_slist_free_all(j->headers);
        j->rcpts = j->headers = NULL;
}

void dw_job_free(struct dw_job *j)
{
        if (j == NULL)
                return;
        job_transfer_end(j);
        delivery_clear(&j->dl);
        free(j->url);
        free(j->from);
        free(j->username);
        if (j->password != NULL) /* do not leave the secret in freed memory */
                memset(j->password, 0, strlen(j->password));
        free(j->password);
        if (j->signing != NULL)
                memset(j->signing, 0, strlen(j->signing));
        free(j->signing);
        if (j->custom != NULL) /* may carry a credential (Authorization) */
                memset(j->custom, 0, strlen(j->custom));
        free(j->custom);
        free(j->ca_file);
        free(j->path);
        buf_deinit(&j->body);
        buf_deinit(&j->refused);
        free(j);
}

static void job_list_free(struct dw_job *j)
{
        while (j != NULL) {
                struct dw_job *next = j->next;
                dw_job_free(j);
                j = next;
        }
}

/* ---- hub and workers ----------------------------------------------------- */

struct dw_hub {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* CLOCK_MONOTONIC */
        /* guarded by lock */
        int refs;
        bool poked;
        struct dw_job *done, **done_tail;
};

struct dw_worker {
        struct dw_hub *hub;
        pthread_t thread;
        char *name;
        /* guarded by hub->lock */
        int refs;
        bool stop, exited;
        struct dw_job *inbox, **inbox_tail;
        /* the worker thread's own (the multi handle: until exited) */
        CURLM *multi;
        struct dw_job *active;
};

int dw_hub_new(struct dw_hub **out)
{
        struct dw_hub *h = calloc(1, sizeof *h);
        pthread_condattr_t ca;

        *out = NULL;
        if (h == NULL)
                return -ENOMEM;
        pthread_mutex_init(&h->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&h->cond, &ca);
        pthread_condattr_destroy(&ca);
        h->refs = 1;
        h->done_tail = &h->done;
        *out = h;
        return 0;
}

static void hub_free(struct dw_hub *h)
{
        job_list_free(h->done);
        pthread_cond_destroy(&h->cond);
        pthread_mutex_destroy(&h->lock);
        free(h);
}

/* Drops one reference; called with h->lock held, which it releases. */
static void hub_unref_unlock(struct dw_hub *h)
{
        bool last = --h->refs == 0;

        pthread_mutex_unlock(&h->lock);
        if (last)
                hub_free(h);
}

void dw_hub_release(struct dw_hub *h)
{
        if (h == NULL)
                return;
        pthread_mutex_lock(&h->lock);
        hub_unref_unlock(h);
}

void dw_hub_poke(struct dw_hub *h)
{
        pthread_mutex_lock(&h->lock);
        h->poked = true;
        pthread_cond_broadcast(&h->cond);
        pthread_mutex_unlock(&h->lock);
}

static struct timespec abs_deadline(int64_t deadline_ms)
{
        return (struct timespec){ .tv_sec = deadline_ms / 1000,
                                  .tv_nsec = (long)(deadline_ms % 1000) * 1000000L };
}

void dw_hub_wait(struct dw_hub *h, int timeout_ms)
{
        struct timespec until = abs_deadline(clock_mono_ms() + timeout_ms);

        pthread_mutex_lock(&h->lock);
        while (!h->poked && h->done == NULL &&
               pthread_cond_timedwait(&h->cond, &h->lock, &until) == 0)
                ;
        h->poked = false;
        pthread_mutex_unlock(&h->lock);
}

struct dw_job *dw_hub_take(struct dw_hub *h)
{
        struct dw_job *j;

        pthread_mutex_lock(&h->lock);
        j = h->done;
        h->done = NULL;
        h->done_tail = &h->done;
        pthread_mutex_unlock(&h->lock);
        return j;
}

/* A finished job goes back to the dispatcher, unless it no longer listens. */
static void post(struct dw_worker *w, struct dw_job *j)
{
        struct dw_hub *h = w->hub;
        bool keep;

        pthread_mutex_lock(&h->lock);
        keep = !w->stop;
        if (keep) {
                j->next = NULL;
                *h->done_tail = j;
                h->done_tail = &j->next;
                pthread_cond_broadcast(&h->cond);
        }
        pthread_mutex_unlock(&h->lock);
        if (!keep)
                dw_job_free(j);
}

/* ---- transfers ----------------------------------------------------------------- */

/* What every transfer has: its deadlines, TLS verified, the channel's
 * protocols only. */
static CURLcode set_common(CURL *c, struct dw_job *j, const char *protocols)
{
        CURLcode rc = CURLE_OK;

        CHANNEL_SETOPT(rc, c, CURLOPT_PRIVATE, (void *)j);
        CHANNEL_SETOPT(rc, c, CURLOPT_NOSIGNAL, 1L);
        CHANNEL_SETOPT(rc, c, CURLOPT_SSL_VERIFYPEER, 1L);
        CHANNEL_SETOPT(rc, c, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
        CHANNEL_SETOPT(rc, c, CURLOPT_PROTOCOLS_STR, protocols);
#else
        CHANNEL_SETOPT(rc, c, CURLOPT_PROTOCOLS,
                       strchr(protocols, 'm') ? (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS)
                                              : (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        CHANNEL_SETOPT(rc, c, CURLOPT_USERAGENT, "cppo-notify/" CPPO_VERSION);
        CHANNEL_SETOPT(rc, c, CURLOPT_CONNECTTIMEOUT_MS, j->connect_ms);
        CHANNEL_SETOPT(rc, c, CURLOPT_TIMEOUT_MS, j->timeout_ms);
        if (j->ca_file != NULL)
                CHANNEL_SETOPT(rc, c, CURLOPT_CAINFO, j->ca_file);
        return rc;
}

/* Adds j's transfer to the worker's multi handle; a job that cannot start
 * goes back at once with setup_failed. */
static void transfer_start(struct dw_worker *w, struct dw_job *j)
{
        CURL *c = curl_easy_init();
        CURLcode rc = c == NULL ? CURLE_OUT_OF_MEMORY : set_common(c, j, j->channel->protocols);

        j->easy = c;
        if (rc == CURLE_OK)
                rc = j->channel->setup(c, j);
        if (rc == CURLE_OK && curl_multi_add_handle(w->multi, c) != CURLM_OK)
                rc = CURLE_FAILED_INIT;
        if (rc != CURLE_OK) {
                j->setup_failed = true;
                j->result = (int)rc;
                job_transfer_end(j);
                post(w, j);
                return;
        }
        j->next = w->active;
        w->active = j;
}

static void unlink_active(struct dw_worker *w, struct dw_job *j)
{
        for (struct dw_job **p = &w->active; *p != NULL; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        curl_multi_remove_handle(w->multi, j->easy);
}

static void transfer_done(struct dw_worker *w, struct dw_job *j, CURLcode res)
{
        curl_off_t total_us = 0;

        j->result = (int)res;
        curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->code);
        curl_easy_getinfo(j->easy, CURLINFO_TOTAL_TIME_T, &total_us);
        if (j->channel->finished != NULL)
                j->channel->finished(j->easy, j);
        j->latency_ms = (int64_t)total_us / 1000;
        unlink_active(w, j);
        job_transfer_end(j);
        post(w, j);
}

static void collect_done(struct dw_worker *w)
{
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
                char *priv = NULL;
                if (m->msg != CURLMSG_DONE)
                        continue;
                if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv) == CURLE_OK &&
                    priv != NULL)
                        transfer_done(w, (struct dw_job *)(void *)priv, m->data.result);
        }
}

/* ---- the worker thread ------------------------------------------------------ */

/* A channel without a transfer (a file append) runs here, to its end. */
static void run_call(struct dw_worker *w, struct dw_job *j)
{
        int64_t t0 = clock_mono_ms();

        j->channel->run(j);
        j->latency_ms = clock_mono_ms() - t0;
        post(w, j);
}

/* The jobs handed over since the last look, oldest first; NULL and *stop
 * once told to stop. */
static struct dw_job *take_inbox(struct dw_worker *w, bool *stop)
{
        struct dw_job *j;

        pthread_mutex_lock(&w->hub->lock);
        j = w->inbox;
        w->inbox = NULL;
        w->inbox_tail = &w->inbox;
        *stop = w->stop;
        pthread_mutex_unlock(&w->hub->lock);
        if (*stop) {
                job_list_free(j);
                return NULL;
        }
        return j;
}

static void worker_free(struct dw_worker *w)
{
        job_list_free(w->inbox);
        free(w->name);
        free(w);
}

/* The end of the thread: what it holds is dropped (a transfer still running
 * stays SENDING in the store), then its references. */
static void worker_exit(struct dw_worker *w)
{
        struct dw_hub *h = w->hub;
        bool last;

        while (w->active != NULL) {
                struct dw_job *j = w->active;
                unlink_active(w, j);
                dw_job_free(j);
        }
        curl_multi_cleanup(w->multi);
        w->multi = NULL;
        pthread_mutex_lock(&h->lock);
        w->exited = true;
        last = --w->refs == 0;
        pthread_cond_broadcast(&h->cond);
        if (last)
                worker_free(w);
        hub_unref_unlock(h);
}

static void *worker_run(void *arg)
{
        struct dw_worker *w = arg;
        bool stop = false;

        while (!stop) {
                struct dw_job *j = take_inbox(w, &stop);
                int running = 0;
                while (j != NULL) {
                        struct dw_job *next = j->next;
                        if (j->channel->run != NULL)
                                run_call(w, j);
                        else
                                transfer_start(w, j);
                        j = next;
                }
                if (stop)
                        break;
                curl_multi_perform(w->multi, &running);
                collect_done(w);
                curl_multi_poll(w->multi, NULL, 0, WORKER_POLL_MS, NULL);
        }
        worker_exit(w);
        return NULL;
}

/* ---- life cycle ---------------------------------------------------------------- */

/* The thread starts with SIGPIPE blocked (CURLOPT_NOSIGNAL stops curl from
 * ignoring it, and a write to a closed peer or pipe would kill the process),
 * SIGXFSZ blocked (a file size limit fails the append with EFBIG instead of
 * killing the daemon) and the signals the main loop reads from its signalfd
 * blocked too. */
static int start_thread(struct dw_worker *w)
{
        static const int blocked[] = { SIGPIPE, SIGXFSZ, SIGTERM, SIGINT, SIGHUP };
        sigset_t block, old;
        int r;

        sigemptyset(&block);
        for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++)
                sigaddset(&block, blocked[i]);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        r = pthread_create(&w->thread, NULL, worker_run, w);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return -r;
}

int dw_worker_start(struct dw_worker **out, struct dw_hub *h, const char *name)
{
        struct dw_worker *w = calloc(1, sizeof *w);
        int r = -ENOMEM;

        *out = NULL;
        if (w == NULL)
                return -ENOMEM;
        w->hub = h;
        w->inbox_tail = &w->inbox;
        w->refs = 2; /* the dispatcher and the thread */
        w->name = strdup(name);
        w->multi = curl_multi_init();
        if (w->name != NULL && w->multi != NULL)
                r = start_thread(w);
        if (r < 0) {
                if (w->multi != NULL)
                        curl_multi_cleanup(w->multi);
                worker_free(w);
                return r;
        }
        pthread_mutex_lock(&h->lock);
        h->refs++;
        pthread_mutex_unlock(&h->lock);
        *out = w;
        return 0;
}

const char *dw_worker_name(const struct dw_worker *w)
{
        return w->name;
}

void dw_worker_submit(struct dw_worker *w, struct dw_job *j)
{
        pthread_mutex_lock(&w->hub->lock);
        j->next = NULL;
        *w->inbox_tail = j;
        w->inbox_tail = &j->next;
        curl_multi_wakeup(w->multi); /* the thread frees it only after stop */
        pthread_mutex_unlock(&w->hub->lock);
}

void dw_worker_stop(struct dw_worker *w)
{
        pthread_mutex_lock(&w->hub->lock);
        w->stop = true;
        if (!w->exited)
                curl_multi_wakeup(w->multi);
        pthread_mutex_unlock(&w->hub->lock);
}

bool dw_worker_release(struct dw_worker *w, int64_t deadline_ms)
{
        struct dw_hub *h = w->hub;
        struct timespec until = abs_deadline(deadline_ms);
        pthread_t thread = w->thread;
        bool exited, last;

        pthread_mutex_lock(&h->lock);
        while (!w->exited && pthread_cond_timedwait(&h->cond, &h->lock, &until) == 0)
                ;
        exited = w->exited;
        pthread_mutex_unlock(&h->lock);
        /* a thread that ended is joined; one still stuck is left behind */
        if (exited)
                pthread_join(thread, NULL);
        else
                pthread_detach(thread);
        pthread_mutex_lock(&h->lock);
        last = --w->refs == 0;
        pthread_mutex_unlock(&h->lock);
        if (last)
                worker_free(w);
        return exited;
}
