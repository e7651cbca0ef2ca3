/* cppo-notify — retention passes (see include/cppo/retention.h). */
#include "cppo/retention.h"

#include "cppo/config.h"

#include <string.h>

int64_t retention_age(const struct config *c, enum store_prune k)
{
        switch (k) {
        case STORE_PRUNE_LEDGER:
        case STORE_PRUNE_INBOX:
        case STORE_PRUNE_AWS_REFRESH: return c->retention.ledger;
        case STORE_PRUNE_BODIES: return c->retention.bodies;
        case STORE_PRUNE_ATTEMPTS: return c->retention.attempts;
        case STORE_PRUNE_REJECTED: return c->retention.rejected;
        case STORE_PRUNE_N: break;
        }
        return 0;
}

void retention_pass_start(struct retention_pass *p, const struct config *c, int64_t now)
{
        memset(p, 0, sizeof *p);
        for (int k = 0; k < STORE_PRUNE_N; k++) {
                int64_t age = retention_age(c, (enum store_prune)k);

                p->cutoff[k] = age > 0 && now > age ? now - age : 0;
        }
        p->batch = c->retention.batch > 0 ? c->retention.batch : 500;
}

static int reclaim_step(struct retention_pass *p, struct store *s)
{
        int64_t freed = 0;
        int r = store_reclaim(s, RETENTION_RECLAIM_PAGES, &freed);

        if (r < 0)
                return r;
        p->reclaimed_pages += freed;
        p->done = freed < RETENTION_RECLAIM_PAGES;
        return p->done ? 0 : 1;
}

int retention_pass_step(struct retention_pass *p, struct store *s)
{
        int64_t got = 0;
        int r;

        if (p->done)
                return 0;
        while (p->kind < STORE_PRUNE_N && p->cutoff[p->kind] == 0)
                p->kind++;
        if (p->kind == STORE_PRUNE_N)
                return reclaim_step(p, s);
        r = store_prune(s, (enum store_prune)p->kind, p->cutoff[p->kind], p->batch, &got);
        if (r < 0)
                return r;
        p->removed[p->kind] += got;
        if (got < p->batch)
                p->kind++;
        return 1;
}
