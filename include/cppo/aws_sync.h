/* cppo-notify — the AWS Marketplace Catalog sync (doc/aws.md).
 *
 * What the seller's catalog says about resale authorizations and held
 * offers, handed to the core the way CLI changes are: as EventBridge-shaped
 * events in the store inbox ("Resale Authorization Synced", "Offer
 * Authorization Found", source cppo-notify), which the one writer applies
 * in its batch transaction. Correlation stays pure and a crash loses
 * nothing: the next sync lists the same changes again, and the ledger
 * drops what was already applied (an event's id is the authorization's id
 * and revision).
 *
 * A pass (aws_sync_once): ListEntities of resale authorizations modified
 * after the last successful sync (all on the first), DescribeEntity of
 * those whose LastModifiedDate differs from the revision in the store,
 * one inbox entry each; then the time the pass started (less a margin for
 * clock skew) is remembered as the last sync. The store connection must be
 * writable except for a dry run.
 *
 * The syncer runs passes on its own thread (the client blocks, for
 * seconds when throttled), at start and every interval, and between them
 * handles what the daemon pokes it about: change sets to describe (a
 * Change Set Succeeded recorded them in the store) and held offers never
 * looked up. The daemon's loop never waits for AWS.
 */
#ifndef CPPO_AWS_SYNC_H
#define CPPO_AWS_SYNC_H

#include "cppo/error.h"

#include "cppo/aws.h"
#include "cppo/metrics.h"
#include "cppo/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Seconds the remembered last-sync time is set back from the pass's start,
 * so that a change AWS stamps slightly before our clock is listed again. */
#define AWS_SYNC_SKEW_S 300
/* Authorizations one pass describes at most; the rest wait for the next. */
#define AWS_SYNC_MAX_DESCRIBE 100000
/* Held offers one wake-up looks up at most. */
#define AWS_SYNC_HOLDS_PER_WAKE 200

struct aws_sync_stats {
        unsigned long listed;    /* summaries ListEntities returned */
        unsigned long unchanged; /* listed with the revision already stored */
        unsigned long described; /* DescribeEntity of authorizations */
        unsigned long queued;    /* inbox entries written */
        unsigned long pages;
};

/* Called for each new or changed authorization (before it is queued). */
typedef void (*aws_sync_seen_fn)(void *ctx, const struct aws_resale_auth *ra, bool is_new);

/* The inbox payloads. Heap strings (free()), NULL on -ENOMEM. */
char *aws_sync_payload(const struct aws_resale_auth *ra);
char *aws_sync_link_payload(const char *offer_id, const char *ra_id);

/* One pass, see above; now is the wall clock. dry_run: nothing written
 * (neither inbox nor last sync). fn may be NULL. */
CPPO_MUST_CHECK int aws_sync_once(struct aws_client *c, struct store *s, bool dry_run, int64_t now,
                                  aws_sync_seen_fn fn, void *ctx, struct aws_sync_stats *st,
                                  char *err, size_t errlen);

/* DescribeChangeSet, then DescribeEntity of every resale authorization it
 * touched, queued. Returns the number queued or a negative errno. */
CPPO_MUST_CHECK int aws_sync_change_set(struct aws_client *c, struct store *s, const char *id,
                                        char *err, size_t errlen);

/* Looks up held offers not looked up since checked_before (0: never
 * looked up): a ResaleAuthorizationId found is queued as Offer
 * Authorization Found; "not visible" (403, 404, none) is remembered, not
 * retried until a sweep. Returns the number found or a negative errno
 * (the lookups before the failure are kept). */
CPPO_MUST_CHECK int aws_sync_holds(struct aws_client *c, struct store *s, int64_t checked_before,
                                   int64_t now, char *err, size_t errlen);

/* ---- the background thread ---- */

/* Metrics it keeps (any may be NULL). */
struct aws_syncer_metrics {
        struct metric *calls;     /* counter {operation, outcome}: ok, failed, retry */
        struct metric *throttles; /* counter {operation} */
        struct metric *last_sync; /* gauge: unix time of the last successful sync */
        struct metric *by_source; /* gauge {source}: aws, registered, aws+registered, event */
        struct metric *syncs;     /* counter {outcome}: ok, failed */
};

struct aws_syncer_options {
        const char *store_path;
        struct store_options store;
        struct aws_client_opts client; /* strings must outlive the syncer */
        int64_t interval_s;            /* between passes */
        struct aws_syncer_metrics metrics;
};

struct aws_syncer;

/* Opens the syncer's own store connection and client, starts the thread
 * (its first pass at once). err says why it could not. */
CPPO_MUST_CHECK int aws_syncer_start(struct aws_syncer **out, const struct aws_syncer_options *o,
                                     char *err, size_t errlen);
/* Something may wait for it: change sets, new holds. Cheap; never blocks. */
void aws_syncer_poke(struct aws_syncer *y);
/* Stops and joins: waits for the call in progress (bounded by the
 * client's retry budget). NULL allowed. */
void aws_syncer_stop(struct aws_syncer *y);

#endif
