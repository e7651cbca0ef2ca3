/* cppo-notify — the outbox: notifications become deliveries.
 *
 * After a batch commits, outbox_route() takes every notification not yet
 * routed, matches it against the rules (route.h), renders it for each
 * receiver (render.h; e-mail messages built with mail.h) and stores one
 * delivery per receiver (delivery.h), all in one transaction of its own.
 * A notification no rule matches is marked unrouted (kept, counted,
 * logged), never silently dropped. Because routing state is in the store,
 * a crash between the batch commit and this step loses nothing: the next
 * call routes what was left.
 *
 * Notifications recorded from history (`replay` without --notify, see
 * store.h) are routed the same way, but their deliveries are created
 * DELIVERY_BACKFILLED: visible in `deliveries`, never due, never sent.
 */
#ifndef CPPO_OUTBOX_H
#define CPPO_OUTBOX_H

#include "cppo/error.h"

#include "cppo/config.h"
#include "cppo/render.h"
#include "cppo/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most notifications one list gives per call (store.h's page). */
#define OUTBOX_PAGE_MAX 1024

struct outbox_stats {
        uint64_t routed;     /* notifications with at least one delivery */
        uint64_t unrouted;   /* notifications no rule matched */
        uint64_t deliveries; /* deliveries created (backfilled ones included) */
        uint64_t failed;     /* render failures (logged; notification left unrouted) */
        uint64_t backfilled; /* of deliveries: created BACKFILLED (history) */
};

/* Routes up to limit pending notifications, and up to limit recorded from
 * history, at wall clock now_ms (limit <= 0 or above OUTBOX_PAGE_MAX: a
 * page of OUTBOX_PAGE_MAX, the store's). Adds to stats (may be NULL).
 * *more (may be NULL) is set true when a list filled its page, so more
 * notifications may wait and the caller should call again; false when
 * every waiting notification was taken (each routed or unrouted one leaves
 * the lists, so calling while *more ends). Returns the number of
 * deliveries created to be sent (>= 0; backfilled ones are only counted in
 * stats) or a negative errno (store failure: the transaction is rolled
 * back, *more is true: the work is still there). */
CPPO_MUST_CHECK int outbox_route(struct store *s, const struct config *cfg,
                                 const struct renderer *r, int64_t now_ms, int64_t limit,
                                 struct outbox_stats *stats, bool *more);

/* Builds the delivery (key, channel, payload, recipients) of notification n
 * for target receiver rcv chosen by rule. Exposed for `explain` and tests.
 * 0, -EINVAL (err says why), -ENOMEM. */
CPPO_MUST_CHECK int outbox_build(const struct config *cfg, const struct renderer *r,
                                 const struct config_receiver *rcv, const struct config_rule *rule,
                                 const struct notification *n, int64_t now_ms, struct delivery *out,
                                 char *err, size_t errlen);

#endif
