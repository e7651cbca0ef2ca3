/* cppo-notify — ingestion pipeline (see include/cppo/pipeline.h). */
#include "cppo/pipeline.h"

#include "cppo/correlate.h"
#include "cppo/decode.h"
#include "cppo/dlq.h"
#include "cppo/error.h"
#include "cppo/log.h"
#include "cppo/corr_load.h"
#include "cppo/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pipeline {
        struct pipeline_options opt;
        struct store *store;
        struct dlq *dlq;
        struct decoder *decoder;
        struct decode_result result;
        struct corr_state *state;
        struct corr_options corr;
        struct changeset changes; /* of the open batch */
        int64_t clock;            /* newest event time (event_clock) */
        struct pipeline_stats stats;
        bool in_batch;
        /* while an inbox entry feeds a rejected input again: its row id, and
         * why it was rejected again (empty: accepted) */
        int64_t requeue_of;
        char requeue_error[CPPO_ERRLEN];
};

int pipeline_new(struct pipeline **out, const struct pipeline_options *o, char *err, size_t errlen)
{
        struct decode_options d = { .max_message_bytes = o->max_message_bytes };
        struct pipeline *p = calloc(1, sizeof *p);

        int r;

        if (p == NULL)
                return -ENOMEM;
        p->opt = *o;
        p->store = o->store;
        p->dlq = o->dlq;
        p->corr = corr_options_default();
        if (o->offer_link_timeout > 0)
                p->corr.offer_link_timeout = o->offer_link_timeout;
        p->corr.notify_extended_after_acceptance = o->notify_extended_after_acceptance;
        p->corr.notify_direct_deals = o->notify_direct_deals;
        decode_result_init(&p->result);
        r = decode_new(&p->decoder, &d);
        if (r == 0)
                r = corr_state_load(p->store, &p->state);
        if (r < 0) {
                pipeline_free(p);
                return error_set(err, errlen, r, "cannot load the state from the store: %s",
                                 error_name(r));
        }
        *out = p;
        return 0;
}

void pipeline_free(struct pipeline *p)
{
        if (p == NULL)
                return;
        if (p->in_batch)
                (void)store_rollback(p->store); /* the failure that led here is the one reported */
        changeset_clear(&p->changes);
        corr_state_free(p->state);
        decode_result_deinit(&p->result);
        decode_free(p->decoder);
        free(p);
}

void pipeline_set_backfill(struct pipeline *p, bool on)
{
        p->opt.backfill = on;
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *p)
{
        return &p->stats;
}

static int open_batch(struct pipeline *p)
{
        int r;

        if (p->in_batch)
                return 0;
        r = store_begin(p->store);
        if (r == 0)
                p->in_batch = true;
        return r;
}

static int reject(struct pipeline *p, const struct raw_message *m, const struct decode_item *it)
{
        const char *reason = decode_reason_name(it->reason);
        char safe[sizeof it->message];
        int r;

        p->stats.rejected++;
        if (p->requeue_of) {
                /* the row is kept and says why; the first reason wins */
                if (p->requeue_error[0] == '\0')
                        (void)snprintf(p->requeue_error, sizeof p->requeue_error, "%s: %s", reason,
                                       it->message);
                log_notice("requeued input rejected again id=%lld reason=%s",
                           (long long)p->requeue_of, reason);
                return 0;
        }
        r = store_reject(p->store, m, reason, it->message);
        if (r < 0)
                return r;
        /* the message may quote event data: no control byte reaches the log */
        dlq_header_safe(safe, sizeof safe, it->message);
        log_notice("input rejected reason=%s origin=%s partition=%d offset=%lld message=\"%s\"",
                   reason, m->coord.origin ? m->coord.origin : "", (int)m->coord.partition,
                   (long long)m->coord.offset, safe);
        if (p->dlq)
                (void)dlq_send(p->dlq, m, reason, it->message); /* best effort: the store has it */
        return 0;
}

/* A decoded event, new to the ledger: the core decides. */
static int apply_event(struct pipeline *p, const struct mp_event *ev, int64_t received_at)
{
        int64_t now = received_at;

        if (ev->kind == MP_UNSUPPORTED)
                p->stats.unsupported++;
        p->stats.events++;
        if (p->opt.event_clock) {
                if (ev->time_epoch > p->clock)
                        p->clock = ev->time_epoch;
                now = p->clock;
        }
        return corr_apply(p->state, &p->corr, ev, now, &p->changes);
}

int pipeline_handle(void *ctx, const struct raw_message *m)
{
        struct pipeline *p = ctx;
        int r = open_batch(p);

        if (r < 0)
                return r;
        p->stats.messages++;
        r = decode_message(p->decoder, m->data, m->len, raw_message_whole_size(m), &p->result);
        for (size_t i = 0; r == 0 && i < p->result.n; i++) {
                const struct decode_item *it = &p->result.items[i];
                if (it->reason != DECODE_OK) {
                        r = reject(p, m, it);
                        continue;
                }
                r = store_ledger_add(p->store, it->ev.event_key, &m->coord, m->received_at);
                if (r == 0)
                        p->stats.duplicates++;
                else if (r == 1)
                        r = apply_event(p, &it->ev, m->received_at);
        }
        return r < 0 ? r : 0;
}

struct inbox_feed {
        struct pipeline *p;
        int64_t now;
};

static int feed_entry(void *ctx, const struct store_inbox_entry *e)
{
        struct inbox_feed *f = ctx;
        struct raw_message m = {
                .data = e->payload,
                .len = strlen(e->payload),
                .coord = { .origin = "inbox", .partition = -1, .offset = e->id },
                .received_at = f->now,
        };

        struct pipeline *p = f->p;
        int r = store_rejected_requeue_of(p->store, e->id, &p->requeue_of);

        p->requeue_error[0] = '\0';
        if (r == 0)
                r = pipeline_handle(p, &m);
        if (r == 0 && p->requeue_of)
                r = store_rejected_settle(p->store, p->requeue_of,
                                          p->requeue_error[0] ? p->requeue_error : NULL);
        p->requeue_of = 0;
        return r;
}

int pipeline_drain_inbox(struct pipeline *p, int64_t now)
{
        struct inbox_feed f = { p, now };
        int64_t pending = 0;
        int r = store_inbox_pending(p->store, &pending);

        /* the cheap look first: no write transaction when nothing waits */
        if (r < 0 || pending == 0)
                return r;
        r = open_batch(p);
        return r < 0 ? r : store_inbox_take(p->store, 0, now, feed_entry, &f);
}

/* Whether key is among keys; next is where the last one was found. The
 * stores add the new keys in the changeset's order, so the next key is
 * nearly always the one after; a scan of the whole list (quadratic in the
 * batch) is only the fallback, which keeps the answer the same. */
static bool is_new_key(const struct strlist *keys, size_t *next, const char *key)
{
        if (*next < keys->n && strcmp(keys->v[*next], key) == 0) {
                (*next)++;
                return true;
        }
        return strlist_contains(keys, key);
}

static void announce(struct pipeline *p, const struct strlist *keys)
{
        size_t next = 0;

        for (size_t i = 0; i < p->changes.n_notifications; i++) {
                const struct notification *n = &p->changes.notifications[i];
                if (!is_new_key(keys, &next, n->key))
                        continue;
                p->stats.notifications++;
                log_info("notification kind=%s key=%s late=%s registered=%s", n->kind, n->key,
                         n->late ? "true" : "false", n->registered ? "true" : "false");
                if (p->opt.on_notification)
                        p->opt.on_notification(p->opt.ctx, n);
        }
}

int pipeline_commit(struct pipeline *p, int64_t now)
{
        struct strlist new_keys = { 0 };
        int r = corr_tick(p->state, &p->corr, p->opt.event_clock ? p->clock : now, &p->changes);

        if (r == 0 &&
            (p->changes.n_notifications || p->changes.n_holds || p->changes.n_offers ||
             p->changes.n_agreements || p->changes.n_authorizations || p->changes.released_holds.n))
                r = open_batch(p);
        if (r == 0 && p->in_batch)
                r = store_apply(p->store, &p->changes, &new_keys);
        for (size_t i = 0; r == 0 && p->opt.backfill && i < new_keys.n; i++)
                r = store_notification_backfill(p->store, new_keys.v[i]);
        if (r == 0 && p->in_batch)
                r = store_commit(p->store);
        if (r < 0) {
                log_error("store commit failed; stopping so that no offset is stored for it");
                strlist_clear(&new_keys);
                return r;
        }
        if (p->in_batch)
                p->stats.commits++;
        p->in_batch = false;
        announce(p, &new_keys);
        strlist_clear(&new_keys);
        changeset_clear(&p->changes);
        return 0;
}
