/* cppo-notify — a raw message as a source read it, and where it came from.
 *
 * Shared by the sources and pipeline (ingest), the store (the ledger keeps
 * each event's coordinates, rejected inputs keep their bytes) and the
 * dead-letter producer, without any of them depending on another. Types
 * only.
 */
#ifndef CPPO_RAW_MESSAGE_H
#define CPPO_RAW_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

/* Where a raw message came from. */
struct mp_coord {
        const char *origin; /* Kafka topic or file path ("-" for stdin) */
        int32_t partition;  /* Kafka partition; -1 for files */
        int64_t offset;     /* Kafka offset, or 1-based line number */
};

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
static inline size_t raw_message_whole_size(const struct raw_message *m)
{
        if (!m->truncated)
                return m->len;
        return m->size > m->len ? m->size : SIZE_MAX;
}

#endif
