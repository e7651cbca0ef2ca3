/* cppo-notify — what every source (Kafka, file, stdin) hands the pipeline.
 *
 * A source yields raw messages, one at a time, to a handler; the handler
 * decodes, deduplicates, correlates and stores them. The bytes are only
 * valid during the call.
 */
#ifndef CPPO_SOURCE_H
#define CPPO_SOURCE_H

#include "cppo/event.h"

#include <stddef.h>
#include <stdint.h>

struct raw_message {
        const char *data; /* not NUL-terminated */
        size_t len;
        struct mp_coord coord; /* topic/partition/offset or file/line */
        int64_t received_at;   /* wall clock, seconds since the epoch */
        /* The message was cut at the source's size cap: `data` holds only
         * the first bytes and the message must be rejected as too_large. */
        int truncated;
        /* With truncated: the whole message's size as the source saw it
         * (0 when it cannot tell), so the rejection says how large it was. */
        size_t size;
};

/* The size decode_message() is told the message had: len when whole, the
 * source's count when it cut it, SIZE_MAX (DECODE_SIZE_UNKNOWN) when it
 * cut it without counting. */
static inline size_t raw_whole_size(const struct raw_message *m)
{
        if (!m->truncated)
                return m->len;
        return m->size > m->len ? m->size : SIZE_MAX;
}

/* Handles one message. 0 to go on; a negative errno stops the source,
 * which returns it. */
typedef int (*source_handler_fn)(void *ctx, const struct raw_message *msg);

#endif
