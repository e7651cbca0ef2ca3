/* cppo-notify — decoding raw messages into normalized events.
 *
 * A raw message (Kafka payload or input line) holds one of:
 *   - a bare EventBridge event ("detail-type" + "source");
 *   - an SQS ReceiveMessage message (string "Body");
 *   - a Lambda SQS batch ("Records[].body", each record its own event);
 *   - an SNS notification ("Type": "Notification", string "Message");
 *   - a legacy SaaS SNS payload ("action" + "customer-identifier");
 * nested at most DECODE_MAX_LEVELS JSON documents deep (SNS inside SQS is
 * three: SQS, SNS, event). decode_message() turns it into items: one per
 * event found, each either a struct mp_event or a rejection with a stable
 * machine reason and a human message. It never fails on bad input: only
 * -ENOMEM is returned. The caller keeps the raw bytes of a rejected input.
 *
 * Unknown fields are ignored. Known fields of the wrong JSON type reject the
 * event (wrong_type); null counts as absent. Unknown detail-types decode to
 * MP_UNSUPPORTED events (recorded, not an error).
 */
#ifndef CPPO_DECODE_H
#define CPPO_DECODE_H

#include "cppo/error.h"

#include "cppo/event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DECODE_MAX_LEVELS        4
#define DECODE_MAX_JSON_DEPTH    64
#define DECODE_MAX_RECORDS       1000 /* records in one Lambda batch */
#define DECODE_DEFAULT_MAX_BYTES (1u << 20)

enum decode_reason {
        DECODE_OK = 0,
        DECODE_INVALID_JSON,      /* not JSON */
        DECODE_TOO_LARGE,         /* over the size cap (or a field cap) */
        DECODE_TOO_DEEP,          /* JSON nesting or envelope levels */
        DECODE_INVALID_UTF8,      /* bytes that are not UTF-8 */
        DECODE_WRONG_TYPE,        /* a field we need has the wrong JSON type */
        DECODE_ENVELOPE_NOT_JSON, /* SQS Body / SNS Message / record body not JSON */
        DECODE_MISSING_ID,        /* an id the event cannot do without */
        DECODE_UNRECOGNIZED,      /* JSON, but no envelope or event we know */
};

/* "ok", "invalid_json", "too_large", "too_deep", "invalid_utf8",
 * "wrong_type", "envelope_not_json", "missing_id", "unrecognized". */
const char *decode_reason_name(enum decode_reason r);

struct decode_item {
        enum decode_reason reason; /* DECODE_OK: ev is valid */
        char message[256];         /* human reason when rejected */
        struct mp_event ev;
};

/* Items of the last decode_message() call; reused between calls. */
struct decode_result {
        struct decode_item *items;
        size_t n;
        size_t cap;
};

void decode_result_init(struct decode_result *r);
void decode_result_deinit(struct decode_result *r);

struct decode_options {
        size_t max_message_bytes; /* 0: DECODE_DEFAULT_MAX_BYTES */
};

struct decoder;

CPPO_MUST_CHECK int decode_new(struct decoder **out, const struct decode_options *o);
void decode_free(struct decoder *d);

/* Decodes one raw message into res (emptied first). whole is the
 * message's size at the source: len when data is all of it, more when the
 * source cut it at its cap (then it is rejected as too_large, naming whole;
 * DECODE_SIZE_UNKNOWN when the source cut it without knowing its size).
 * 0, or -ENOMEM. */
CPPO_MUST_CHECK int decode_message(struct decoder *d, const char *data, size_t len, size_t whole,
                                   struct decode_result *res);

#define DECODE_SIZE_UNKNOWN SIZE_MAX

#endif
