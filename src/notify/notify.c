/* cppo-notify — the notification half of the flow (see include/cppo/notify.h). */
#include "cppo/notify.h"

#include "cppo/clock.h"
#include "cppo/delivery.h"
#include "cppo/dispatch.h"
#include "cppo/error.h"
#include "cppo/log.h"
#include "cppo/outbox.h"
#include "cppo/render.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* Notifications routed per call and list; outbox_route says whether a
 * list had more, and the loop calls again while it does. */
#define ROUTE_LIMIT 1000

struct notify {
        struct renderer *renderer;
        struct dispatcher *dispatch;
        struct outbox_stats outbox; /* since start */
        bool pending;               /* notifications may be waiting for routing */
};

static void notify_free(struct notify *n)
{
        renderer_free(n->renderer);
        free(n);
}

int notify_start(struct notify **out, struct store *s, const struct config *cfg,
                 const struct dispatch_observer *obs, char *err, size_t errlen)
{
        struct notify *n = calloc(1, sizeof *n);
        int r;

        *out = NULL;
        if (n == NULL)
                return error_set(err, errlen, -ENOMEM, "notify: out of memory");
        r = renderer_new(&n->renderer, cfg, err, errlen);
        if (r == 0) {
                n->pending = true; /* whatever a previous run committed but did not route */
                notify_route(n, s, cfg);
                r = dispatch_start(&n->dispatch, config_store_target(cfg), cfg, obs, err, errlen);
        }
        if (r < 0) {
                notify_free(n);
                return r;
        }
        *out = n;
        return 0;
}

void notify_mark_pending(struct notify *n)
{
        if (n != NULL)
                n->pending = true;
}

void notify_route(struct notify *n, struct store *s, const struct config *cfg)
{
        bool more = true;
        int r;

        if (n == NULL || !n->pending)
                return;
        r = outbox_route(s, cfg, n->renderer, clock_wall_ms(), ROUTE_LIMIT, &n->outbox, &more);
        n->pending = more; /* a failed call leaves the work where it was */
        if (r < 0) {
                log_error("cannot route notifications: %s (will retry)", error_name(r));
                return;
        }
        if (r > 0) {
                log_info("routed deliveries=%d", r);
                dispatch_wake(n->dispatch); /* NULL (not started yet) is accepted */
        }
}

int notify_prepare(const struct config *newcfg, struct notify_reload *out, char *err, size_t errlen)
{
        int r;

        *out = (struct notify_reload){ 0 };
        r = renderer_new(&out->renderer, newcfg, err, errlen);
        if (r == 0 && (r = dispatch_reload_prepare(newcfg, &out->plan)) < 0)
                (void)error_set(err, errlen, r, "dispatcher: out of memory");
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
        *r = (struct notify_reload){ 0 };
}

void notify_reload_abort(struct notify_reload *r)
{
        renderer_free(r->renderer);
        dispatch_plan_free(r->plan);
        *r = (struct notify_reload){ 0 };
}

void notify_stop(struct notify *n, int grace_ms)
{
        if (n == NULL)
                return;
        dispatch_stop(n->dispatch, grace_ms);
        notify_free(n);
}

int64_t notify_queued(struct store *s)
{
        int64_t c[4] = { 0 };

        if (store_delivery_counts(s, NULL, c) < 0)
                return 0;
        return c[DELIVERY_QUEUED] + c[DELIVERY_SENDING];
}
