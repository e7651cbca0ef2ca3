/* cppo-notifyd — outbox and dispatcher (see notify.h). */
#include "notify.h"

#include "cppo/dispatch.h"
#include "cppo/error.h"
#include "cppo/log.h"

#include <string.h>
#include <time.h>

/* Notifications routed per call (below the store's page of 1024, so a full
 * page is seen as such); the loop calls again while more wait. */
#define ROUTE_LIMIT 1000

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int notify_start(struct notify *n, struct store *s, const struct config *cfg,
                 const struct dispatch_observer *obs, char *err, size_t errlen)
{
        int r = renderer_new(&n->renderer, cfg, err, errlen);

        if (r < 0)
                return r;
        n->pending = true; /* whatever a previous run committed but did not route */
        notify_route(n, s, cfg);
        return dispatch_start(&n->dispatch, cfg->store.path, cfg, obs, err, errlen);
}

void notify_route(struct notify *n, struct store *s, const struct config *cfg)
{
        struct outbox_stats before = n->outbox;
        int r;

        if (!n->pending)
                return;
        r = outbox_route(s, cfg, n->renderer, wall_ms(), ROUTE_LIMIT, &n->outbox);
        if (r < 0) {
                log_error("cannot route notifications: %s (will retry)", error_name(r));
                return;
        }
        /* A full page means more may wait: stay pending for the next call. */
        n->pending = n->outbox.routed + n->outbox.unrouted - before.routed - before.unrouted >=
                     ROUTE_LIMIT;
        if (r > 0) {
                log_info("routed deliveries=%d", r);
                if (n->dispatch)
                        dispatch_wake(n->dispatch);
        }
}

int notify_prepare(const struct config *newcfg, struct notify_reload *out, char *err, size_t errlen)
{
        int r;

        *out = (struct notify_reload){0};
        r = renderer_new(&out->renderer, newcfg, err, errlen);
        if (r == 0 && (r = dispatch_reload_prepare(newcfg, &out->plan)) < 0)
                error_set(err, errlen, r, "dispatcher: out of memory");
        if (r < 0)
                notify_reload_abort(out);
        return r;
}

void notify_commit(struct notify *n, struct notify_reload *r)
{
        if (n->dispatch)
                dispatch_reload_commit(n->dispatch, r->plan);
        else
                dispatch_plan_free(r->plan);
        renderer_free(n->renderer);
        n->renderer = r->renderer;
        *r = (struct notify_reload){0};
}

void notify_reload_abort(struct notify_reload *r)
{
        renderer_free(r->renderer);
        dispatch_plan_free(r->plan);
        *r = (struct notify_reload){0};
}

void notify_stop(struct notify *n, int grace_ms)
{
        dispatch_stop(n->dispatch, grace_ms);
        n->dispatch = NULL;
        renderer_free(n->renderer);
        n->renderer = NULL;
}

int64_t notify_queued(struct store *s)
{
        int64_t c[4] = { 0 };

        if (store_delivery_counts(s, NULL, c) < 0)
                return 0;
        return c[DELIVERY_QUEUED] + c[DELIVERY_SENDING];
}
