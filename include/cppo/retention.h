/* cppo-notify — retention: the config's ages (the retention: section) as
 * cutoffs, and a pass that prunes the store in small steps, each one short
 * statement, so the daemon can interleave it with its poll batches and
 * never hold the write lock for long; `cppo-notifyctl store prune` runs the
 * same pass to its end.
 *
 * A pass goes kind by kind (enum store_prune) in batches until a batch
 * comes back short, then gives free pages back to the file system
 * (store_reclaim) in steps of RETENTION_RECLAIM_PAGES. */
#ifndef CPPO_RETENTION_H
#define CPPO_RETENTION_H

#include "cppo/error.h"
#include "cppo/store.h"

#include <stdbool.h>
#include <stdint.h>

struct config;

#define RETENTION_RECLAIM_PAGES 1024 /* 4 MiB of 4 KiB pages per step */

struct retention_pass {
        int64_t cutoff[STORE_PRUNE_N]; /* Unix seconds; 0: this kind is kept */
        int64_t batch;
        int kind;                       /* the kind being pruned; STORE_PRUNE_N: reclaiming */
        int64_t removed[STORE_PRUNE_N]; /* rows removed so far */
        int64_t reclaimed_pages;
        bool done;
};

/* The age each kind is kept for, in seconds (0: for ever): the ledger,
 * bodies, attempts and rejected keys of c's retention section; the inbox
 * and AWS change sets are bookkeeping of inputs and go with the ledger. */
int64_t retention_age(const struct config *c, enum store_prune k);

/* A pass over everything older than its age at now (Unix seconds). */
void retention_pass_start(struct retention_pass *p, const struct config *c, int64_t now);

/* One step of p: one batch of one kind, or one reclaim step. 1 more to do,
 * 0 the pass is done (p->done), or a store error (the pass can be stepped
 * again later: nothing is half done). */
CPPO_MUST_CHECK int retention_pass_step(struct retention_pass *p, struct store *s);

#endif
