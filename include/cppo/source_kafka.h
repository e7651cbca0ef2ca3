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
 *
 * librdkafka's own log lines go through log_library() ("kafka log
 * facility=... message=..."). An offset reset after an out-of-range fetch
 * (auto.offset.reset jumping over messages that are gone, or past ones not
 * yet read) is one warning line and one count of the offset_resets metric.
 */
#ifndef CPPO_SOURCE_KAFKA_H
#define CPPO_SOURCE_KAFKA_H

#include "cppo/error.h"

#include "cppo/metrics.h"
#include "cppo/source.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct source_kafka;

struct source_kafka_options {
        const char *brokers;       /* bootstrap.servers */
        const char *const *topics; /* at least one */
        size_t n_topics;
        const char *group; /* group.id */
        /* librdkafka properties passed through verbatim, as key/value pairs:
         * properties[2*i] = name, properties[2*i+1] = value. Applied after
         * the defaults, so they can override them. Values are never logged. */
        const char *const *properties;
        size_t n_properties;
        size_t max_message_bytes;     /* larger messages arrive truncated */
        struct metric *offset_resets; /* unlabelled counter, or NULL */
};

/* Creates the consumer and subscribes. On failure writes why into err
 * (naming a bad property, never its value). */
CPPO_MUST_CHECK int source_kafka_new(struct source_kafka **out,
                                     const struct source_kafka_options *o, char *err,
                                     size_t errlen);

/* Closes the consumer (committing stored offsets) and frees it. NULL ok. */
void source_kafka_free(struct source_kafka *k);

/* Polls until `max` messages were handed to fn or `timeout_ms` passed with
 * nothing more to read. Returns the number of messages handed over (>= 0),
 * the handler's negative return, or -ECANCELED after a fatal consumer error
 * (logged once with its reason; the caller shuts down). */
CPPO_MUST_CHECK int source_kafka_poll_batch(struct source_kafka *k, size_t max, int timeout_ms,
                                            source_handler_fn fn, void *ctx);

/* Stores the offsets following every message handed over since the last
 * call, for partitions still assigned. 0 or a negative errno. */
CPPO_MUST_CHECK int source_kafka_store_offsets(struct source_kafka *k);

/* Synchronously commits stored offsets (shutdown path). 0, or a negative
 * errno; "nothing to commit" is 0. */
CPPO_MUST_CHECK int source_kafka_commit(struct source_kafka *k);

/* The value this consumer uses for librdkafka property `name` (the
 * daemon's default, or the caller's override) into buf. 0, -ENOENT for an
 * unknown property, -ENOSPC when buf is too small. May be a credential:
 * callers must not log it. */
CPPO_MUST_CHECK int source_kafka_property_value(const struct source_kafka *k, const char *name,
                                                char *buf, size_t len);

/* True once the group has assigned this member at least one partition. */
bool source_kafka_assigned(const struct source_kafka *k);

/* Number of partitions currently assigned. */
size_t source_kafka_assignment_size(const struct source_kafka *k);

/* Consumer lag of every assigned partition: the high watermark librdkafka
 * last saw in a fetch response minus the consumer's position (the next
 * offset it will hand over). Cheap: no broker round trip. Partitions with no
 * position or watermark yet are skipped. Calls fn once per partition;
 * returns the number reported or a negative errno. */
typedef void (*source_kafka_lag_fn)(void *ctx, const char *topic, int32_t partition, int64_t lag);
CPPO_MUST_CHECK int source_kafka_lag(struct source_kafka *k, source_kafka_lag_fn fn, void *ctx);

/* Offset resets after an out-of-range fetch since source_kafka_new. */
uint64_t source_kafka_offset_resets(const struct source_kafka *k);

/* Which kind of client librdkafka applies property `name` to: 'C'
 * (consumer), 'P' (producer) or '*' (both), as librdkafka's own property
 * table says (so it matches the linked version); 0 when it is not listed
 * (an unknown name, which rd_kafka_conf_set then refuses). */
CPPO_MUST_CHECK int source_kafka_property_scope(const char *name);

/* Whether a user property is passed to a client of that kind ('C' or
 * 'P'): everything except what librdkafka applies only to the other kind,
 * which it would otherwise ignore with a warning on every start. */
bool source_kafka_property_applies(const char *name, int kind);

/* librdkafka's log callback (rd_kafka_conf_set_log_cb) for the other
 * clients this project creates (the dead-letter producer): forwards to
 * log_library(). Called from librdkafka's threads. */
struct rd_kafka_s;
void source_kafka_log_cb(const struct rd_kafka_s *rk, int level, const char *facility,
                         const char *text);

/* True after a fatal error. */
bool source_kafka_failed(const struct source_kafka *k);

#endif
