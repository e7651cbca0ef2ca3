/* cppo-notify — normalized event lifetime and names (see include/cppo/event.h). */
#include "cppo/event.h"

#include <string.h>

void mp_event_init(struct mp_event *ev)
{
        memset(ev, 0, sizeof *ev);
        arena_init(&ev->arena, MP_ARENA_MAX);
}

void mp_event_deinit(struct mp_event *ev)
{
        arena_deinit(&ev->arena);
        memset(ev, 0, sizeof *ev);
}

void mp_event_reset(struct mp_event *ev)
{
        struct arena a = ev->arena;

        arena_reset(&a);
        memset(ev, 0, sizeof *ev);
        ev->arena = a;
}

const char *mp_event_strndup(struct mp_event *ev, const char *s, size_t n)
{
        return arena_strndup(&ev->arena, s, n);
}

const char *mp_event_strdup(struct mp_event *ev, const char *s)
{
        return arena_strdup(&ev->arena, s);
}

const char *mp_kind_name(enum mp_kind kind)
{
        switch (kind) {
        case MP_OFFER_RELEASED: return "offer_released";
        case MP_AGREEMENT_CREATED: return "agreement_created";
        case MP_AGREEMENT_AMENDED: return "agreement_amended";
        case MP_AGREEMENT_ENDED: return "agreement_ended";
        case MP_AGREEMENT_ENDING: return "agreement_ending";
        case MP_LICENSE_UPDATED: return "license_updated";
        case MP_LICENSE_DEPROVISIONED: return "license_deprovisioned";
        case MP_CANCELLATION_REQUEST: return "cancellation_request";
        case MP_CHANGE_SET: return "change_set";
        case MP_LEGACY_SNS: return "legacy_sns";
        case MP_REGISTRATION_REGISTERED: return "registration_registered";
        case MP_REGISTRATION_UPDATED: return "registration_updated";
        case MP_REGISTRATION_WITHDRAWN: return "registration_withdrawn";
        case MP_OFFER_ASSOCIATED: return "offer_associated";
        case MP_OFFER_UNLINKED: return "offer_unlinked";
        case MP_AUTHORIZATION_SYNCED: return "authorization_synced";
        case MP_OFFER_AWS_LINKED: return "offer_aws_linked";
        case MP_UNSUPPORTED: break;
        }
        return "unsupported";
}

const char *mp_role_name(enum mp_role role)
{
        switch (role) {
        case MP_ROLE_PROPOSER: return "proposer";
        case MP_ROLE_MANUFACTURER: return "manufacturer";
        case MP_ROLE_ACCEPTOR: return "acceptor";
        case MP_ROLE_NONE: break;
        }
        return NULL;
}

const char *mp_envelope_name(enum mp_envelope_kind kind)
{
        switch (kind) {
        case MP_ENV_SQS: return "sqs";
        case MP_ENV_LAMBDA_SQS: return "lambda_sqs";
        case MP_ENV_SNS: return "sns";
        }
        return "unknown";
}

bool mp_kind_is_registration(enum mp_kind kind)
{
        return kind == MP_REGISTRATION_REGISTERED || kind == MP_REGISTRATION_UPDATED ||
               kind == MP_REGISTRATION_WITHDRAWN || kind == MP_OFFER_ASSOCIATED ||
               kind == MP_OFFER_UNLINKED || kind == MP_AUTHORIZATION_SYNCED ||
               kind == MP_OFFER_AWS_LINKED;
}

const char *mp_event_full_list(const struct mp_event *ev, size_t *cap)
{
        const struct {
                const char *name;
                size_t n, cap;
        } lists[] = {
                { "buyers", ev->n_targeted_buyer_account_ids, MP_MAX_BUYERS },
                { "buyers", ev->reg.n_buyer_account_ids, MP_MAX_BUYERS },
                { "contacts", ev->reg.n_notify, MP_MAX_NOTIFY },
                { "offer ids", ev->reg.n_offer_ids, MP_MAX_OFFERS },
                { "metadata", ev->reg.n_metadata, MP_MAX_METADATA },
        };

        for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
                if (lists[i].n >= lists[i].cap) {
                        *cap = lists[i].cap;
                        return lists[i].name;
                }
        }
        return NULL;
}
