/* cppo-notify — mp_event as JSON (see include/cppo/event_json.h). */
#include "cppo/event_json.h"

#include "cppo/error.h"
#include "cppo/json.h"

#include <string.h>

static int gen_envelopes(yajl_gen g, const struct mp_event *ev)
{
        const char *names[MP_MAX_ENVELOPES];

        for (size_t i = 0; i < ev->n_envelopes; i++)
                names[i] = mp_envelope_name(ev->envelopes[i].kind);
        return json_strv(g, "envelopes", names, ev->n_envelopes);
}

int event_json_write(yajl_gen g, const struct mp_event *ev)
{
        const struct {
                const char *key, *value;
        } fields[] = {
                { "event_key", ev->event_key },
                { "source", ev->source },
                { "detail_type", ev->detail_type_base ? ev->detail_type_base : ev->detail_type },
                { "role", mp_role_name(ev->role) },
                { "account", ev->account },
                { "time", ev->time },
                { "offer_id", ev->offer_id },
                { "offer_name", ev->offer_name },
                { "resale_authorization_id", ev->resale_authorization_id },
                { "agreement_id", ev->agreement_id },
                { "previous_agreement_id", ev->previous_agreement_id },
                { "intent", ev->intent },
                { "status", ev->status },
                { "product_id", ev->product_id },
                { "acceptor_account_id", ev->acceptor_account_id },
                { "proposer_account_id", ev->proposer_account_id },
                { "manufacturer_account_id", ev->manufacturer_account_id },
                { "seller_of_record_account_id", ev->seller_of_record_account_id },
        };
        int r = (int)yajl_gen_map_open(g);

        for (size_t i = 0; r == yajl_gen_status_ok && i < sizeof fields / sizeof fields[0]; i++)
                r = json_string(g, fields[i].key, fields[i].value);
        if (r == yajl_gen_status_ok)
                r = json_strv(g, "targeted_buyer_account_ids", ev->targeted_buyer_account_ids,
                              ev->n_targeted_buyer_account_ids);
        if (r == yajl_gen_status_ok)
                r = gen_envelopes(g, ev);
        if (r == yajl_gen_status_ok)
                r = json_string(g, "kind", mp_kind_name(ev->kind));
        if (r == yajl_gen_status_ok)
                r = (int)yajl_gen_map_close(g);
        return r == yajl_gen_status_ok ? 0 : -EIO;
}
