/* cppo-notify — deliveries (see include/cppo/delivery.h). */
#include "cppo/delivery.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
        [DELIVERY_QUEUED] = "queued",
        [DELIVERY_SENDING] = "sending",
        [DELIVERY_SENT] = "sent",
        [DELIVERY_DEAD] = "dead",
        [DELIVERY_BACKFILLED] = "backfilled",
};

const char *delivery_status_name(enum delivery_status s)
{
        return (unsigned)s <= DELIVERY_BACKFILLED ? status_names[s] : "unknown";
}

/* A delivery's fields: the one list its copy, clear, store columns,
 * binders and row readers walk. */
#define FIELD(member, ty)                                                                          \
        {                                                                                          \
                .name = #member, .type = ty, .offset = offsetof(struct delivery, member)           \
        }
#define PACKED_FIELD(member, ty)                                                                   \
        {                                                                                          \
                .name = #member, .type = ty, .offset = offsetof(struct delivery, member),          \
                .packed = true                                                                     \
        }
static const struct field delivery_fields[] = {
        FIELD(key, FIELD_STR),
        FIELD(notification_key, FIELD_STR),
        FIELD(kind, FIELD_STR),
        FIELD(receiver, FIELD_STR),
        FIELD(channel, FIELD_STR),
        FIELD(rule, FIELD_STR),
        FIELD(opportunity_id, FIELD_STR),
        FIELD(status, FIELD_INT),
        FIELD(attempts, FIELD_INT),
        FIELD(created_at_ms, FIELD_I64),
        FIELD(updated_at_ms, FIELD_I64),
        FIELD(next_at_ms, FIELD_I64),
        FIELD(last_code, FIELD_INT),
        FIELD(last_error, FIELD_STR),
        PACKED_FIELD(payload, FIELD_BLOB), /* stored packed: pack.h */
        FIELD(recipients, FIELD_LIST),
};
#undef FIELD

const struct record_type delivery_record = {
        "delivery",
        delivery_fields,
        sizeof delivery_fields / sizeof delivery_fields[0],
        sizeof(struct delivery),
};

/* What FIELD_INT and FIELD_BLOB assume of struct delivery. */
_Static_assert(sizeof(enum delivery_status) == sizeof(int), "status is read and bound as an int");
_Static_assert(offsetof(struct delivery, payload_len) ==
                   offsetof(struct delivery, payload) + sizeof(char *),
               "payload_len follows payload");

void delivery_clear(struct delivery *d)
{
        record_clear(&delivery_record, d);
}

int delivery_copy(struct delivery *dst, const struct delivery *src)
{
        return record_copy(&delivery_record, dst, src);
}
