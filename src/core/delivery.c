/* cppo-notify — deliveries (see include/cppo/delivery.h). */
#include "cppo/delivery.h"

#include <errno.h>
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

void delivery_clear(struct delivery *d)
{
        free(d->key);
        free(d->notification_key);
        free(d->kind);
        free(d->receiver);
        free(d->channel);
        free(d->rule);
        free(d->opportunity_id);
        free(d->last_error);
        free(d->payload);
        strlist_clear(&d->recipients);
        memset(d, 0, sizeof *d);
}

#define COPY_STR(f)                                                                                \
        do {                                                                                       \
                if (src->f && (dst->f = strdup(src->f)) == NULL)                                   \
                        goto fail;                                                                 \
        } while (0)

/* The payload is copied by length (it may hold any byte) and kept
 * NUL-terminated as the header promises. */
static int copy_payload(struct delivery *dst, const struct delivery *src)
{
        if (src->payload == NULL)
                return 0;
        dst->payload = malloc(src->payload_len + 1);
        if (dst->payload == NULL)
                return -ENOMEM;
        memcpy(dst->payload, src->payload, src->payload_len);
        dst->payload[src->payload_len] = '\0';
        dst->payload_len = src->payload_len;
        return 0;
}

int delivery_copy(struct delivery *dst, const struct delivery *src)
{
        delivery_clear(dst);
        dst->status = src->status;
        dst->attempts = src->attempts;
        dst->created_at_ms = src->created_at_ms;
        dst->updated_at_ms = src->updated_at_ms;
        dst->next_at_ms = src->next_at_ms;
        dst->last_code = src->last_code;
        COPY_STR(key);
        COPY_STR(notification_key);
        COPY_STR(kind);
        COPY_STR(receiver);
        COPY_STR(channel);
        COPY_STR(rule);
        COPY_STR(opportunity_id);
        COPY_STR(last_error);
        if (copy_payload(dst, src) < 0 || strlist_copy(&dst->recipients, &src->recipients) < 0)
                goto fail;
        return 0;
fail:
        delivery_clear(dst);
        return -ENOMEM;
}

#undef COPY_STR
