/* cppo-notify — ingestion pipeline (see include/cppo/pipeline.h). */
#include "cppo/pipeline.h"

#include "cppo/decode.h"
#include "cppo/dlq.h"
#include "cppo/error.h"
#include "cppo/log.h"
#include "cppo/store.h"

#include <stdlib.h>

struct pipeline {
        struct store *store;
        struct dlq *dlq;
        struct decoder *decoder;
        struct decode_result result;
        struct pipeline_stats stats;
        bool in_batch;
};

int pipeline_new(struct pipeline **out, const struct pipeline_options *o, char *err,
                 size_t errlen)
{
        struct decode_options d = { .max_message_bytes = o->max_message_bytes };
        struct pipeline *p = calloc(1, sizeof *p);

        if (p == NULL)
                return -ENOMEM;
        p->store = o->store;
        p->dlq = o->dlq;
        decode_result_init(&p->result);
        if (decode_new(&p->decoder, &d) < 0) {
                free(p);
                return error_set(err, errlen, -ENOMEM, "cannot create the decoder");
        }
        *out = p;
        return 0;
}

void pipeline_free(struct pipeline *p)
{
        if (p == NULL)
                return;
        if (p->in_batch)
                store_rollback(p->store);
        decode_result_deinit(&p->result);
        decode_free(p->decoder);
        free(p);
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *p)
{
        return &p->stats;
}

static int open_batch(struct pipeline *p)
{
        int r;

        if (p->in_batch)
                return 0;
        r = store_begin(p->store);
        if (r == 0)
                p->in_batch = true;
        return r;
}

static int reject(struct pipeline *p, const struct raw_message *m, const struct decode_item *it)
{
        const char *reason = decode_reason_name(it->reason);
        char safe[sizeof it->message];
        int r = store_reject(p->store, m, reason, it->message);

        if (r < 0)
                return r;
        p->stats.rejected++;
        /* the message may quote event data: no control byte reaches the log */
        dlq_header_safe(safe, sizeof safe, it->message);
        log_notice("input rejected reason=%s origin=%s partition=%d offset=%lld message=\"%s\"",
                   reason, m->coord.origin ? m->coord.origin : "", (int)m->coord.partition,
                   (long long)m->coord.offset, safe);
        if (p->dlq)
                dlq_send(p->dlq, m, reason, it->message); /* best effort: the store has it */
        return 0;
}

/* A decoded event, new to the ledger: where correlation takes over. */
static int apply_event(struct pipeline *p, const struct mp_event *ev)
{
        if (ev->kind == MP_UNSUPPORTED)
                p->stats.unsupported++;
        p->stats.events++;
        return 0;
}

int pipeline_handle(void *ctx, const struct raw_message *m)
{
        struct pipeline *p = ctx;
        int r = open_batch(p);

        if (r < 0)
                return r;
        p->stats.messages++;
        r = decode_message(p->decoder, m->data, m->len, m->truncated != 0, &p->result);
        for (size_t i = 0; r == 0 && i < p->result.n; i++) {
                const struct decode_item *it = &p->result.items[i];
                if (it->reason != DECODE_OK) {
                        r = reject(p, m, it);
                        continue;
                }
                r = store_ledger_add(p->store, it->ev.event_key, &m->coord, m->received_at);
                if (r == 0)
                        p->stats.duplicates++;
                else if (r == 1)
                        r = apply_event(p, &it->ev);
        }
        return r < 0 ? r : 0;
}

int pipeline_commit(struct pipeline *p)
{
        int r;

        if (!p->in_batch)
                return 0;
        r = store_commit(p->store);
        if (r < 0) {
                log_error("store commit failed; stopping so that no offset is stored for it");
                return r;
        }
        p->in_batch = false;
        p->stats.commits++;
        return 0;
}
