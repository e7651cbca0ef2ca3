/* cppo-notify — deliveries: one rendered notification for one receiver.
 *
 * A delivery is created (route + render) in a transaction of its own after
 * the notification committed, keyed "<notification-key>/<receiver>" (UNIQUE:
 * re-routing never duplicates). Its payload is rendered once and stored, so
 * every attempt sends exactly the same bytes:
 *   email  the whole RFC 5322 message (mail.h); recipients = envelope RCPTs
 *          (To + Cc + Bcc)
 *   slack  the JSON payload
 *   webhook the JSON document (the file line), as POSTed
 *   file   one JSON object (no trailing newline)
 *
 * Life cycle: QUEUED (next_at_ms says when it is due) -> SENDING (claimed
 * by the dispatcher) -> SENT, or back to QUEUED with a later next_at_ms
 * after a transient failure, or DEAD (permanent failure, max_attempts or
 * max_age reached). A delivery found SENDING at start-up was in flight when
 * the process died: it is queued again (at-least-once).
 *
 * BACKFILLED: created for a notification recorded from history (`replay`
 * without --notify): stored with its payload so people can see what would
 * have gone out, never due, never claimed, never counted as queued or dead.
 */
#ifndef CPPO_DELIVERY_H
#define CPPO_DELIVERY_H

#include "cppo/error.h"

#include "cppo/model.h"

#include <stddef.h>
#include <stdint.h>

enum delivery_status {
        DELIVERY_QUEUED = 0,
        DELIVERY_SENDING = 1,
        DELIVERY_SENT = 2,
        DELIVERY_DEAD = 3,
        DELIVERY_BACKFILLED = 4,
};

/* "queued", "sending", "sent", "dead", "backfilled". */
const char *delivery_status_name(enum delivery_status s);

struct delivery {
        char *key; /* <notification-key>/<receiver> */
        char *notification_key;
        char *kind;           /* the notification's kind */
        char *receiver;       /* receiver name in the config */
        char *channel;        /* config_receiver_type_name(): "email", "slack", ... */
        char *rule;           /* the rule that routed it */
        char *opportunity_id; /* may be NULL */
        enum delivery_status status;
        int attempts;
        int64_t created_at_ms; /* wall clock, ms */
        int64_t updated_at_ms;
        int64_t next_at_ms; /* due time while QUEUED */
        int last_code;      /* SMTP/HTTP code of the last attempt, 0 if none */
        char *last_error;   /* without secrets; NULL if none */
        char *payload;      /* see above; NUL-terminated */
        size_t payload_len;
        struct strlist recipients; /* email only */
};

/* One attempt, as recorded. */
struct delivery_attempt {
        const char *delivery_key;
        int64_t at_ms;
        const char *outcome; /* "sent", "retry", "dead" */
        int code;            /* SMTP/HTTP response code, 0 if none */
        int64_t latency_ms;
        const char *error;   /* NULL on success; never a secret */
        const char *refused; /* e-mail: recipients refused at RCPT with
                                 * their replies, "<a@x> (550), ..."; NULL if none */
};

/* Its fields, in the order the stores keep them (model.h's record
 * machinery: copy, clear, columns, binders, readers). */
extern const struct record_type delivery_record;

void delivery_clear(struct delivery *d);
CPPO_MUST_CHECK int delivery_copy(struct delivery *dst, const struct delivery *src);

#endif
