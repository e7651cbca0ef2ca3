/* cppo-notify — the notification half of the flow: route → render →
 * deliveries → dispatch, the counterpart of pipeline.h (decode → ledger →
 * correlate → store).
 *
 * The daemon's run loop drives both halves the same way:
 *
 *     pipeline_commit(p, now);            notifications committed
 *     source_kafka_store_offsets(k);
 *     notify_route(n, store, cfg);        deliveries created, dispatcher woken
 *
 * notify_route() stores one delivery per matching receiver (outbox.h) in a
 * transaction of its own and wakes the dispatcher thread (dispatch.h),
 * which sends them. Routing state is in the store, so nothing is lost
 * between the batch commit and routing, whatever happens in between; a
 * store failure while routing is logged and retried on the next call.
 *
 * Everything here runs on the caller's thread, except the dispatcher's
 * own thread; the store passed in is the caller's (the dispatcher opens a
 * connection of its own at cfg->store.path).
 */
#ifndef CPPO_NOTIFY_H
#define CPPO_NOTIFY_H

#include "cppo/error.h"

#include "cppo/config.h"
#include "cppo/store.h"

#include <stddef.h>
#include <stdint.h>

struct notify;
struct dispatch_observer;
struct dispatch_plan;
struct renderer;

/* Compiles the templates, routes what a previous run left, and starts the
 * dispatcher on its own connection to the store at cfg->store.path. cfg is
 * borrowed until notify_commit() replaces it or notify_stop(); obs may be
 * NULL. 0, or a negative errno with err saying why (*out is then NULL). */
CPPO_MUST_CHECK int notify_start(struct notify **out, struct store *s, const struct config *cfg,
                                 const struct dispatch_observer *obs, char *err, size_t errlen);

/* New notifications were committed (or may be waiting, as a safety net):
 * the next notify_route() looks for them. NULL is accepted (not started:
 * notify_start routes whatever is waiting). */
void notify_mark_pending(struct notify *n);

/* When marked pending, routes waiting notifications into deliveries a page
 * at a time, then wakes the dispatcher. Stays pending while the outbox
 * reports more work waiting (so the next call goes on) or when the store
 * failed (logged; retried on the next call). NULL is accepted. */
void notify_route(struct notify *n, struct store *s, const struct config *cfg);

/* What a reload needs, allocated up front by notify_prepare (both members
 * are opaque; the caller only hands the struct back). */
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
CPPO_MUST_CHECK int notify_prepare(const struct config *newcfg, struct notify_reload *out,
                                   char *err, size_t errlen);
void notify_commit(struct notify *n, struct notify_reload *r);
void notify_reload_abort(struct notify_reload *r);

/* Lets in-flight deliveries finish for up to grace_ms, stops the
 * dispatcher and frees n. NULL is accepted. */
void notify_stop(struct notify *n, int grace_ms);

/* Deliveries not yet sent (QUEUED + SENDING), for STATUS= and metrics; 0
 * when the store cannot say. */
int64_t notify_queued(struct store *s);

#endif
