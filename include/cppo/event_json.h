/* cppo-notify — an mp_event as JSON, the shape `cppo-notifyctl explain`
 * prints: event_key, source, detail_type, role, account, time, offer_id,
 * offer_name, resale_authorization_id, agreement_id, previous_agreement_id,
 * intent, status, product_id, acceptor_account_id, proposer_account_id,
 * manufacturer_account_id, seller_of_record_account_id,
 * targeted_buyer_account_ids, envelopes (outermost first), then kind.
 * Absent values are null. */
#ifndef CPPO_EVENT_JSON_H
#define CPPO_EVENT_JSON_H

#include "cppo/error.h"

#include "cppo/event.h"

#include <yajl/yajl_gen.h>

/* Writes one JSON object into g. 0 or -EIO when the generator refuses. */
CPPO_MUST_CHECK int event_json_write(yajl_gen g, const struct mp_event *ev);

#endif
