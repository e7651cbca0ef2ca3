/* cppo-notifyd — from notification rows to people: the outbox (route +
 * render into deliveries) and the dispatcher thread that sends them.
 *
 * The run loop calls notify_route() after each batch commit that created
 * notifications (and every few seconds as a safety net), which stores one
 * delivery per matching receiver in a transaction of its own and wakes the
 * dispatcher. Routing state is in the store, so nothing is lost between the
 * batch commit and routing, whatever happens in between.
 */
#ifndef CPPOD_NOTIFY_H
#define CPPOD_NOTIFY_H

#include "cppo/config.h"
#include "cppo/outbox.h"
#include "cppo/render.h"
#include "cppo/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dispatcher;
struct dispatch_observer;
struct dispatch_plan;

struct notify {
        struct renderer *renderer;
        struct dispatcher *dispatch;
        struct outbox_stats outbox; /* since start */
        bool pending;               /* notifications may be waiting for routing */
};

/* Compiles the templates, routes what a previous run left, and starts the
 * dispatcher on its own connection to the store at cfg->store.path. */
int notify_start(struct notify *n, struct store *s, const struct config *cfg,
                 const struct dispatch_observer *obs, char *err, size_t errlen);

/* Routes pending notifications into deliveries, then wakes the dispatcher.
 * A store failure is logged and retried on the next call. */
void notify_route(struct notify *n, struct store *s, const struct config *cfg);

/* What a reload needs, allocated up front. */
struct notify_reload {
        struct renderer *renderer;
        struct dispatch_plan *plan;
};

/* Reload in two steps: prepare allocates everything (templates compiled,
 * the dispatcher's receiver state) and may fail, leaving nothing changed
 * and *out empty; commit cannot fail, takes *out over, and returns once
 * the dispatcher no longer uses the old config (which may then be freed).
 * A prepared reload that is not committed is released with
 * notify_reload_abort (an empty one too). */
int notify_prepare(const struct config *newcfg, struct notify_reload *out, char *err,
                   size_t errlen);
void notify_commit(struct notify *n, struct notify_reload *r);
void notify_reload_abort(struct notify_reload *r);

/* Lets in-flight deliveries finish for up to grace_ms, then stops. */
void notify_stop(struct notify *n, int grace_ms);

/* Deliveries not yet sent (QUEUED + SENDING), for STATUS= and metrics. */
int64_t notify_queued(struct store *s);

#endif
