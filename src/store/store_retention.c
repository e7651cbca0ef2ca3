/* cppo-notify — what retention removes, as SQL both stores run (see
 * store_internal.h). One row per enum store_prune: its name, the table, its key, the
 * age condition ($1 the cutoff in Unix seconds) and, for a kind that
 * empties a column rather than removing rows, the assignment. SQLite reads
 * $1/$2 as its first and second parameters, so one text serves both. */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>

static const struct {
        const char *name, *table, *key, *where;
        bool empties_body; /* UPDATE ... SET payload = <empty blob> */
} kinds[STORE_PRUNE_N] = {
        [STORE_PRUNE_LEDGER] = { .name = "ledger",
                                 .table = "ledger",
                                 .key = "key_digest",
                                 .where = "processed_at < $1" },
        /* sent (2) and backfilled (4) only: a dead delivery (3) may be
         * retried, and a queued one is still to send */
        [STORE_PRUNE_BODIES] = { .name = "bodies",
                                 .table = "deliveries",
                                 .key = "key",
                                 .where = "status IN (2, 4) AND length(payload) > 0"
                                          " AND updated_at_ms < CAST($1 AS BIGINT) * 1000",
                                 .empties_body = true },
        [STORE_PRUNE_ATTEMPTS] = { .name = "attempts",
                                   .table = "attempts",
                                   .key = "id",
                                   .where =
                                       "at_ms < CAST($1 AS BIGINT) * 1000 AND delivery_key IN"
                                       " (SELECT key FROM deliveries WHERE status IN (2, 3, 4))" },
        /* a requeue still pending settles its row when the inbox entry runs */
        [STORE_PRUNE_REJECTED] = { .name = "rejected",
                                   .table = "rejected",
                                   .key = "id",
                                   .where = "received_at < $1 AND (requeue_outcome IS NULL"
                                            " OR requeue_outcome <> 'pending')" },
        [STORE_PRUNE_INBOX] = { .name = "inbox",
                                .table = "inbox",
                                .key = "id",
                                .where = "consumed_at IS NOT NULL AND consumed_at < $1" },
        [STORE_PRUNE_AWS_REFRESH] = { .name = "aws_refresh",
                                      .table = "aws_refresh",
                                      .key = "id",
                                      .where = "done_at IS NOT NULL AND done_at < $1" },
};

const char *store_prune_name(enum store_prune k)
{
        return (unsigned)k < STORE_PRUNE_N ? kinds[k].name : NULL;
}

int store_prune_sql(enum store_prune k, bool count, const char *empty_blob, char *buf, size_t len)
{
        int n;

        if ((unsigned)k >= STORE_PRUNE_N)
                return -EINVAL;
        if (count)
                n = snprintf(buf, len, "SELECT COUNT(*) FROM %s WHERE %s", kinds[k].table,
                             kinds[k].where);
        else if (kinds[k].empties_body)
                n = snprintf(buf, len,
                             "UPDATE %s SET payload = %s WHERE %s IN (SELECT %s FROM %s WHERE %s"
                             " LIMIT $2)",
                             kinds[k].table, empty_blob, kinds[k].key, kinds[k].key, kinds[k].table,
                             kinds[k].where);
        else
                n = snprintf(buf, len,
                             "DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s"
                             " ORDER BY %s LIMIT $2)",
                             kinds[k].table, kinds[k].key, kinds[k].key, kinds[k].table,
                             kinds[k].where, kinds[k].key);
        return n < 0 || (size_t)n >= len ? -E2BIG : 0;
}
