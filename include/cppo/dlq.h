/* cppo-notify — dead-letter topic for rejected inputs.
 *
 * Optional (kafka.dead_letter_topic): every rejected message is produced,
 * byte for byte, to that topic with why it was rejected in its headers:
 *
 *   cppo-reason      machine reason ("invalid_json")
 *   cppo-message     human message, control bytes and non-ASCII replaced
 *                    by '?', at most 256 bytes
 *   cppo-origin      "topic/partition/offset" or "file:line"
 *
 * The store keeps every rejected input regardless; the topic is for people
 * who want to re-drive them with their own tools. Produce is asynchronous;
 * dlq_flush() waits for outstanding deliveries.
 */
#ifndef CPPO_DLQ_H
#define CPPO_DLQ_H

#include "cppo/error.h"

#include "cppo/source.h"

#include <stddef.h>

struct dlq;

/* brokers and properties as for source_kafka (pairs; values never logged). */
CPPO_MUST_CHECK int dlq_new(struct dlq **out, const char *brokers, const char *topic,
                            const char *const *properties, size_t n_properties, char *err,
                            size_t errlen);
void dlq_free(struct dlq *d);

/* Queues msg for the dead-letter topic. 0, -ENOMEM, or -EIO when the
 * producer queue refuses it. */
CPPO_MUST_CHECK int dlq_send(struct dlq *d, const struct raw_message *msg, const char *reason,
                             const char *message);

/* Serves delivery reports; waits at most timeout_ms for the queue to drain.
 * Returns the number of deliveries that failed since the last call (each
 * also logged), or -ETIMEDOUT when messages are still queued. */
CPPO_MUST_CHECK int dlq_flush(struct dlq *d, int timeout_ms);

/* Copies s into out (outsz bytes) with every byte outside printable ASCII
 * replaced by '?': header values carry no event byte unescaped. */
void dlq_header_safe(char *out, size_t outsz, const char *s);

#endif
