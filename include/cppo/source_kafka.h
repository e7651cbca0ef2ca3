/* cppo-notify — Kafka source: a librdkafka high-level consumer.
 *
 * At-least-once by construction: enable.auto.offset.store is false, so an
 * offset is stored (and later committed by librdkafka's auto-commit, or
 * at close) only when the caller says the messages before it are durable:
 *
 *     n = source_kafka_poll_batch(k, 500, 100, handler, ctx);
 *     ... commit the store transaction ...
 *     source_kafka_store_offsets(k);
 *
 * A crash between the two re-delivers the batch; the ledger drops what was
 * already committed. Rebalances (eager and cooperative) are handled inside
 * poll: the pending offsets of revoked partitions are dropped, because their
 * messages will be re-read by the partition's next owner.
 */
#ifndef CPPO_SOURCE_KAFKA_H
#define CPPO_SOURCE_KAFKA_H

#include "cppo/source.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct source_kafka;

struct source_kafka_options {
        const char *brokers;             /* bootstrap.servers */
        const char *const *topics;       /* at least one */
        size_t n_topics;
        const char *group;               /* group.id */
        /* librdkafka properties passed through verbatim, as key/value pairs:
         * properties[2*i] = name, properties[2*i+1] = value. Applied after
         * the defaults, so they can override them. Values are never logged. */
        const char *const *properties;
        size_t n_properties;
        size_t max_message_bytes;        /* larger messages arrive truncated */
};

/* Creates the consumer and subscribes. On failure writes why into err
 * (naming a bad property, never its value). */
int source_kafka_new(struct source_kafka **out, const struct source_kafka_options *o, char *err,
                     size_t errlen);

/* Closes the consumer (committing stored offsets) and frees it. NULL ok. */
void source_kafka_free(struct source_kafka *k);

/* Polls until `max` messages were handed to fn or `timeout_ms` passed with
 * nothing more to read. Returns the number of messages handed over (>= 0),
 * the handler's negative return, or -ECANCELED after a fatal consumer error
 * (logged once with its reason; the caller shuts down). */
int source_kafka_poll_batch(struct source_kafka *k, size_t max, int timeout_ms,
                            source_handler_fn fn, void *ctx);

/* Stores the offsets following every message handed over since the last
 * call, for partitions still assigned. 0 or a negative errno. */
int source_kafka_store_offsets(struct source_kafka *k);

/* Synchronously commits stored offsets (shutdown path). 0, or a negative
 * errno; "nothing to commit" is 0. */
int source_kafka_commit(struct source_kafka *k);

/* True once the group has assigned this member at least one partition. */
bool source_kafka_assigned(const struct source_kafka *k);

/* Number of partitions currently assigned. */
size_t source_kafka_assignment_size(const struct source_kafka *k);

/* Consumer lag of every assigned partition: the high watermark librdkafka
 * last saw in a fetch response minus the consumer's position (the next
 * offset it will hand over). Cheap: no broker round trip. Partitions with no
 * position or watermark yet are skipped. Calls fn once per partition;
 * returns the number reported or a negative errno. */
typedef void (*source_kafka_lag_fn)(void *ctx, const char *topic, int32_t partition,
                                    int64_t lag);
int source_kafka_lag(struct source_kafka *k, source_kafka_lag_fn fn, void *ctx);

/* True after a fatal error. */
bool source_kafka_failed(const struct source_kafka *k);

#endif
