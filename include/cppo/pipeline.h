/* cppo-notify — the ingestion pipeline: decode → ledger → correlate → store.
 *
 * Sources hand it raw messages through pipeline_handle() (a
 * source_handler_fn); everything they cause is gathered in one open store
 * transaction, which pipeline_commit() closes:
 *
 *     n = source_kafka_poll_batch(k, 1000, 200, pipeline_handle, p);
 *     pipeline_commit(p, now);            ledger, rejected, state, notifications
 *     source_kafka_store_offsets(k);      only now is the batch durable
 *
 * A crash before the commit loses nothing: Kafka re-delivers and the ledger
 * drops what was committed. A failed commit returns its error; the caller
 * must stop (and restart) rather than go on with offsets it cannot store.
 *
 * Rejected inputs are never fatal: each is stored with its raw bytes, its
 * reason and its coordinates, logged, and sent to the dead-letter topic when
 * one is configured.
 */
#ifndef CPPO_PIPELINE_H
#define CPPO_PIPELINE_H

#include "cppo/error.h"

#include "cppo/model.h"
#include "cppo/source.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pipeline;
struct dlq;
struct store;

struct pipeline_options {
        struct store *store;        /* borrowed, open for writing */
        size_t max_message_bytes;   /* default 1 MiB */
        struct dlq *dlq;            /* optional, borrowed */
        int64_t offer_link_timeout; /* seconds; 0: 72 h */
        bool notify_extended_after_acceptance;
        bool notify_direct_deals;
        /* Replay: the clock is the newest event time seen, so hold timeouts
         * are deterministic; otherwise pipeline_commit's `now`. */
        bool event_clock;
        /* History (`replay` without --notify): every notification a commit
         * inserts is marked as such in the same transaction (see store.h),
         * so its deliveries are created BACKFILLED and never sent. */
        bool backfill;
        /* Called after each commit for every notification it created. */
        void (*on_notification)(void *ctx, const struct notification *n);
        void *ctx;
};

struct pipeline_stats {
        uint64_t messages;      /* raw messages handled */
        uint64_t events;        /* events decoded and new to the ledger */
        uint64_t rejected;      /* rejected inputs (events or whole messages) */
        uint64_t duplicates;    /* events the ledger had already processed */
        uint64_t unsupported;   /* new events of a kind we record but do not act on */
        uint64_t notifications; /* notifications created */
        uint64_t commits;
};

/* Loads the correlation state from the store. */
CPPO_MUST_CHECK int pipeline_new(struct pipeline **out, const struct pipeline_options *o, char *err,
                                 size_t errlen);
void pipeline_free(struct pipeline *p); /* rolls back an open batch */

/* source_handler_fn. 0, or a negative errno when the store failed. */
CPPO_MUST_CHECK int pipeline_handle(void *p, const struct raw_message *msg);

/* Runs hold timeouts at `now` (wall clock seconds; ignored with
 * event_clock), writes every decided change and commits. 0 or a negative
 * errno. */
CPPO_MUST_CHECK int pipeline_commit(struct pipeline *p, int64_t now);

/* Feeds every pending inbox entry (events queued by cppo-notifyctl:
 * registrations, associations) through pipeline_handle(), as origin
 * "inbox", partition -1, offset = the entry id, received at `now`, in the
 * open batch (opened when there is anything to take), and marks them
 * consumed in the same transaction: they take effect, and leave the inbox,
 * when pipeline_commit() commits. An entry that feeds a rejected input
 * again (store_rejected_requeue) settles that row in the same transaction:
 * "accepted", or "rejected" with the reason, in which case no new rejected
 * row is stored and nothing goes to the dead-letter topic again. Call once
 * per loop iteration, before pipeline_commit(). Returns the number of entries taken, or a negative
 * errno when the store failed. */
CPPO_MUST_CHECK int pipeline_drain_inbox(struct pipeline *p, int64_t now);

/* Turns pipeline_options.backfill on or off for the following commits
 * (replay records files as history but announces the operator's inbox
 * commands it applies after them). */
void pipeline_set_backfill(struct pipeline *p, bool on);

const struct pipeline_stats *pipeline_stats(const struct pipeline *p);

#endif
