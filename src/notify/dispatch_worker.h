/* cppo-notify — the dispatcher's workers (private to src/dispatch*.c).
 *
 * Every receiver has a worker thread of its own (started with the
 * receiver's first delivery, kept by receiver name across reloads) with its
 * own libcurl multi handle; a channel that does not use libcurl (file
 * appends) runs there too. The dispatcher
 * thread keeps everything else (the store, the queue, pacing, health): it
 * hands a worker a job and reads the finished job back from the hub. So a
 * peer that hangs, or a write that never returns, delays only its own
 * receiver: libcurl 7.88 blocks a whole multi handle while it says QUIT to
 * an SMTP server that stopped answering, and a write to a hung NFS mount
 * cannot even be interrupted.
 *
 * A job is self-contained: the settings it needs are copied from the
 * config when it is handed over, so a worker never reads a config that a
 * reload may free.
 *
 * Lifetimes: the hub and each worker are reference counted under the hub's
 * lock (the dispatcher holds one reference, each running worker thread
 * another). At stop the dispatcher waits a moment for its workers; one that
 * is still stuck is detached and abandoned, keeps what it touches alive and
 * frees it if it ever returns (the process normally exits first). Nothing an
 * abandoned worker touches is ever freed under it.
 */
#ifndef CPPO_DISPATCH_WORKER_H
#define CPPO_DISPATCH_WORKER_H

#include "cppo/buf.h"
#include "cppo/config.h"
#include "cppo/delivery.h"

#include <stdbool.h>
#include <stdint.h>

#define DW_REFUSED_MAX 1024 /* bytes of refused recipients kept per attempt */
#define DW_BODY_MAX    200  /* bytes of a response body kept (Slack's error text) */

struct channel;

struct dw_job {
        struct dw_job *next;
        struct delivery dl;            /* owned */
        const struct channel *channel; /* how it is sent (channel_internal.h) */
        /* settings copied at hand-over (NULL when not set) */
        char *url;      /* SMTP server or webhook: the webhook URL is a secret */
        char *from;     /* MAIL FROM */
        char *username; /* SMTP AUTH */
        char *password; /* a secret */
        char *ca_file;
        char *path;      /* file receiver */
        char *signing;   /* webhook: its whsec_ secrets, one a line (a secret) */
        char *custom;    /* webhook: its own headers, "Name: value" one a line */
        long use_ssl;    /* CURLUSESSL_* */
        long timeout_ms; /* hard limit of one attempt */
        long connect_ms; /* of connecting */
        /* the dispatcher's own bookkeeping, untouched by the worker */
        long max_attempts, max_age;
        int64_t started_ms; /* wall clock */
        /* the result, written by the worker */
        int result;        /* CURLcode; for a file 0 or a negative errno */
        bool setup_failed; /* result is the CURLcode of setting an option */
        long code;         /* last SMTP reply or HTTP status */
        int64_t retry_after_s;
        int64_t latency_ms;
        struct buf body;    /* the start of Slack's response */
        struct buf refused; /* "<addr> (550), ..." refused at RCPT */
        int refused_n, accepted_n;
        /* the worker's transfer state */
        void *easy;
        struct curl_slist *rcpts, *headers;
        size_t off;
        bool rcpt_wait; /* an RCPT was sent, its reply is next */
        char rcpt[320]; /* its address */
};

/* A job for dl (taken over: dl is zeroed), settings unset. NULL: ENOMEM. */
struct dw_job *dw_job_new(struct delivery *dl);
void dw_job_free(struct dw_job *j);

struct dw_hub;
struct dw_worker;

int dw_hub_new(struct dw_hub **out);
/* Drops the dispatcher's reference (workers may hold others). */
void dw_hub_release(struct dw_hub *h);
/* Wakes dw_hub_wait. Thread-safe. */
void dw_hub_poke(struct dw_hub *h);
/* Waits until a job finished, a poke, or timeout_ms. */
void dw_hub_wait(struct dw_hub *h, int timeout_ms);
/* The finished jobs, in the order they finished (the caller frees them). */
struct dw_job *dw_hub_take(struct dw_hub *h);

/* Starts the worker thread for receiver `name`: 0, -ENOMEM or a negative
 * pthread_create error. */
int dw_worker_start(struct dw_worker **out, struct dw_hub *h, const char *name);
const char *dw_worker_name(const struct dw_worker *w);
/* Hands j to the worker; it comes back through the hub. */
void dw_worker_submit(struct dw_worker *w, struct dw_job *j);
/* Tells the worker to drop its jobs (unreported) and end. */
void dw_worker_stop(struct dw_worker *w);
/* Waits until the stopped worker ended or deadline_ms (monotonic) passed,
 * joins it or detaches it, and drops the dispatcher's reference. true: it
 * ended; false: it was abandoned, still stuck. */
bool dw_worker_release(struct dw_worker *w, int64_t deadline_ms);

#endif
