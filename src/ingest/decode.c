/* cppo-notify — raw message → normalized events (see include/cppo/decode.h). */
#include "cppo/decode.h"

#include "cppo/error.h"
#include "cppo/jscan.h"
#include "cppo/sha256.h"
#include "cppo/timefmt.h"
#include "cppo/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

/* Every path any envelope or event may need, captured in one pass. */
enum field {
        F_ID,
        F_DETAIL_TYPE,
        F_SOURCE,
        F_ACCOUNT,
        F_TIME,
        F_TYPE,
        F_MESSAGE_ID,
        F_MESSAGE,
        F_BODY,
        F_BODY_LOWER,
        F_MESSAGE_ID_LOWER,
        F_REC_MESSAGE_ID,
        F_REC_BODY,
        F_ACTION,
        F_CUSTOMER,
        F_LEGACY_PRODUCT_CODE,
        F_OFFER_IDENTIFIER,
        F_REQUEST_ID,
        F_OFFER_ID,
        F_OFFER_NAME,
        F_OFFER_EXPIRATION,
        F_PRODUCT_ID,
        F_PRODUCT_TITLE,
        F_PRODUCT_CODE,
        F_MANUFACTURER_ID,
        F_MANUFACTURER_NAME,
        F_SOR_ID,
        F_SOR_NAME,
        F_TARGETED,
        F_RA_ID,
        F_AGREEMENT_ID,
        F_INTENT,
        F_STATUS,
        F_ACCEPTANCE,
        F_START,
        F_END,
        F_PREVIOUS,
        F_AG_ACCEPTOR,
        F_AG_PRODUCT,
        F_AG_OFFER,
        F_ACCEPTOR_ID,
        F_PROPOSER_ID,
        F_PROPOSER_NAME,
        F_REQUEST_STATUS,
        F_REG_RA_ID,
        F_REG_NAME,
        F_REG_PRODUCT_ID,
        F_REG_PRODUCT_TITLE,
        F_REG_RESELLER_ID,
        F_REG_RESELLER_NAME,
        F_REG_BUYERS,
        F_REG_COMPANY,
        F_REG_EXPIRES,
        F_REG_RENEWAL,
        F_REG_NOTIFY,
        F_REG_METADATA,
        F_REG_OFFER_IDS,
        F_REG_OFFER_ID,
        F_REG_ACTOR,
        F_REG_REASON,
        F_REG_FORCE,
        F_CHANGE_SET_ID,
        F_AWS_STATUS,
        F_AWS_MODIFIED,
};

static const struct jscan_path paths[] = {
        { "id", JSCAN_STRING, F_ID },
        { "detail-type", JSCAN_STRING, F_DETAIL_TYPE },
        { "source", JSCAN_STRING, F_SOURCE },
        { "account", JSCAN_STRING, F_ACCOUNT },
        { "time", JSCAN_STRING, F_TIME },
        { "Type", JSCAN_STRING, F_TYPE },
        { "MessageId", JSCAN_STRING, F_MESSAGE_ID },
        { "Message", JSCAN_STRING, F_MESSAGE },
        { "Body", JSCAN_STRING, F_BODY },
        { "body", JSCAN_STRING, F_BODY_LOWER },
        { "messageId", JSCAN_STRING, F_MESSAGE_ID_LOWER },
        { "Records[].messageId", JSCAN_STRING, F_REC_MESSAGE_ID },
        { "Records[].body", JSCAN_STRING, F_REC_BODY },
        { "action", JSCAN_STRING, F_ACTION },
        { "customer-identifier", JSCAN_STRING, F_CUSTOMER },
        { "product-code", JSCAN_STRING, F_LEGACY_PRODUCT_CODE },
        { "offer-identifier", JSCAN_STRING, F_OFFER_IDENTIFIER },
        { "detail.requestId", JSCAN_STRING, F_REQUEST_ID },
        { "detail.offer.id", JSCAN_STRING, F_OFFER_ID },
        { "detail.offer.name", JSCAN_STRING, F_OFFER_NAME },
        { "detail.offer.expirationDate", JSCAN_STRING, F_OFFER_EXPIRATION },
        { "detail.product.id", JSCAN_STRING, F_PRODUCT_ID },
        { "detail.product.title", JSCAN_STRING, F_PRODUCT_TITLE },
        { "detail.product.code", JSCAN_STRING, F_PRODUCT_CODE },
        { "detail.manufacturer.accountId", JSCAN_STRING, F_MANUFACTURER_ID },
        { "detail.manufacturer.name", JSCAN_STRING, F_MANUFACTURER_NAME },
        { "detail.sellerOfRecord.accountId", JSCAN_STRING, F_SOR_ID },
        { "detail.sellerOfRecord.name", JSCAN_STRING, F_SOR_NAME },
        { "detail.targetedBuyerAccountIds", JSCAN_STRING_ARRAY, F_TARGETED },
        { "detail.resaleAuthorization.id", JSCAN_STRING, F_RA_ID },
        { "detail.agreement.id", JSCAN_STRING, F_AGREEMENT_ID },
        { "detail.agreement.intent", JSCAN_STRING, F_INTENT },
        { "detail.agreement.status", JSCAN_STRING, F_STATUS },
        { "detail.agreement.acceptanceTime", JSCAN_STRING, F_ACCEPTANCE },
        { "detail.agreement.startTime", JSCAN_STRING, F_START },
        { "detail.agreement.endTime", JSCAN_STRING, F_END },
        { "detail.agreement.previousAgreementId", JSCAN_STRING, F_PREVIOUS },
        { "detail.agreement.acceptorId", JSCAN_STRING, F_AG_ACCEPTOR },
        { "detail.agreement.productId", JSCAN_STRING, F_AG_PRODUCT },
        { "detail.agreement.offerId", JSCAN_STRING, F_AG_OFFER },
        { "detail.acceptor.accountId", JSCAN_STRING, F_ACCEPTOR_ID },
        { "detail.proposer.accountId", JSCAN_STRING, F_PROPOSER_ID },
        { "detail.proposer.name", JSCAN_STRING, F_PROPOSER_NAME },
        { "detail.agreementCancellationRequest.statusCode", JSCAN_STRING, F_REQUEST_STATUS },
        { "detail.resaleAuthorizationId", JSCAN_STRING, F_REG_RA_ID },
        { "detail.name", JSCAN_STRING, F_REG_NAME },
        { "detail.productId", JSCAN_STRING, F_REG_PRODUCT_ID },
        { "detail.productTitle", JSCAN_STRING, F_REG_PRODUCT_TITLE },
        { "detail.resellerAccountId", JSCAN_STRING, F_REG_RESELLER_ID },
        { "detail.resellerName", JSCAN_STRING, F_REG_RESELLER_NAME },
        { "detail.buyerAccountIds", JSCAN_STRING_ARRAY, F_REG_BUYERS },
        { "detail.buyerCompanyName", JSCAN_STRING, F_REG_COMPANY },
        { "detail.expiresAt", JSCAN_STRING, F_REG_EXPIRES },
        { "detail.renewal", JSCAN_BOOL, F_REG_RENEWAL },
        { "detail.notify", JSCAN_STRING_ARRAY, F_REG_NOTIFY },
        { "detail.metadata", JSCAN_STRING_MAP, F_REG_METADATA },
        { "detail.offerIds", JSCAN_STRING_ARRAY, F_REG_OFFER_IDS },
        { "detail.offerId", JSCAN_STRING, F_REG_OFFER_ID },
        { "detail.actor", JSCAN_STRING, F_REG_ACTOR },
        { "detail.reason", JSCAN_STRING, F_REG_REASON },
        { "detail.force", JSCAN_BOOL, F_REG_FORCE },
        { "detail.ChangeSetId", JSCAN_STRING, F_CHANGE_SET_ID },
        { "detail.awsStatus", JSCAN_STRING, F_AWS_STATUS },
        { "detail.lastModifiedDate", JSCAN_STRING, F_AWS_MODIFIED },
};

struct decoder {
        size_t max_bytes;
        struct jscan *scan[DECODE_MAX_LEVELS]; /* one per nesting level */
        struct mp_envelope chain[DECODE_MAX_LEVELS];
        size_t n_chain;
};

const char *decode_reason_name(enum decode_reason r)
{
        static const char *const names[] = {
                [DECODE_OK] = "ok",
                [DECODE_INVALID_JSON] = "invalid_json",
                [DECODE_TOO_LARGE] = "too_large",
                [DECODE_TOO_DEEP] = "too_deep",
                [DECODE_INVALID_UTF8] = "invalid_utf8",
                [DECODE_WRONG_TYPE] = "wrong_type",
                [DECODE_ENVELOPE_NOT_JSON] = "envelope_not_json",
                [DECODE_MISSING_ID] = "missing_id",
                [DECODE_UNRECOGNIZED] = "unrecognized",
        };

        return (unsigned)r <= DECODE_UNRECOGNIZED ? names[r] : "unknown";
}

void decode_result_init(struct decode_result *r)
{
        memset(r, 0, sizeof *r);
}

void decode_result_deinit(struct decode_result *r)
{
        for (size_t i = 0; i < r->cap; i++)
                mp_event_deinit(&r->items[i].ev);
        free(r->items);
        decode_result_init(r);
}

int decode_new(struct decoder **out, const struct decode_options *o)
{
        struct decoder *d = calloc(1, sizeof *d);
        int r = 0;

        if (d == NULL)
                return -ENOMEM;
        d->max_bytes = o && o->max_message_bytes ? o->max_message_bytes : DECODE_DEFAULT_MAX_BYTES;
        for (int i = 0; r == 0 && i < DECODE_MAX_LEVELS; i++)
                r = jscan_new(&d->scan[i], paths, sizeof paths / sizeof paths[0],
                              DECODE_MAX_JSON_DEPTH, 2 * d->max_bytes + 65536);
        if (r < 0) {
                decode_free(d);
                return r;
        }
        *out = d;
        return 0;
}

void decode_free(struct decoder *d)
{
        if (d == NULL)
                return;
        for (int i = 0; i < DECODE_MAX_LEVELS; i++)
                jscan_free(d->scan[i]);
        free(d);
}

/* ---- result items ---- */

static struct decode_item *new_item(struct decode_result *res)
{
        struct decode_item *it;

        if (res->n == res->cap) {
                size_t cap = res->cap ? res->cap * 2 : 4;
                it = realloc(res->items, cap * sizeof *it);
                if (it == NULL)
                        return NULL;
                for (size_t i = res->cap; i < cap; i++)
                        mp_event_init(&it[i].ev);
                res->items = it;
                res->cap = cap;
        }
        it = &res->items[res->n++];
        mp_event_reset(&it->ev);
        it->reason = DECODE_OK;
        it->message[0] = '\0';
        return it;
}

static int reject(struct decode_result *res, enum decode_reason why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reject(struct decode_result *res, enum decode_reason why, const char *fmt, ...)
{
        struct decode_item *it = new_item(res);
        va_list ap;

        if (it == NULL)
                return -ENOMEM;
        it->reason = why;
        va_start(ap, fmt);
        vsnprintf(it->message, sizeof it->message, fmt, ap);
        va_end(ap);
        return 0;
}

/* ---- input checks ---- */

/* SHA-256 of the document with whitespace outside strings removed, so a
 * re-indented copy of the same message gets the same key. */
static void canonical_hash(const char *json, size_t len, char hex[65])
{
        struct sha256 h;
        uint8_t digest[32];
        bool in_string = false, escaped = false;
        size_t run = 0; /* start of the pending run of kept bytes */

        sha256_init(&h);
        for (size_t i = 0; i < len; i++) {
                char c = json[i];
                if (in_string) {
                        in_string = escaped || c != '"';
                        escaped = !escaped && c == '\\';
                } else if (c == '"') {
                        in_string = true;
                } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                        sha256_update(&h, json + run, i - run);
                        run = i + 1;
                }
        }
        sha256_update(&h, json + run, len - run);
        sha256_final(&h, digest);
        for (int i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

/* ---- building an event ---- */

#define SLOT(member) (offsetof(struct mp_event, member) + 1)

/* Where each captured string goes in struct mp_event (offset + 1; 0: not a
 * plain string field of the event). */
static const size_t string_slot[] = {
        [F_ID] = SLOT(id),
        [F_DETAIL_TYPE] = SLOT(detail_type),
        [F_SOURCE] = SLOT(source),
        [F_ACCOUNT] = SLOT(account),
        [F_TIME] = SLOT(time),
        [F_ACTION] = SLOT(legacy_action),
        [F_CUSTOMER] = SLOT(customer_identifier),
        [F_LEGACY_PRODUCT_CODE] = SLOT(product_code),
        [F_OFFER_IDENTIFIER] = SLOT(offer_id),
        [F_REQUEST_ID] = SLOT(request_id),
        [F_OFFER_ID] = SLOT(offer_id),
        [F_OFFER_NAME] = SLOT(offer_name),
        [F_OFFER_EXPIRATION] = SLOT(offer_expiration),
        [F_PRODUCT_ID] = SLOT(product_id),
        [F_PRODUCT_TITLE] = SLOT(product_title),
        [F_PRODUCT_CODE] = SLOT(product_code),
        [F_MANUFACTURER_ID] = SLOT(manufacturer_account_id),
        [F_MANUFACTURER_NAME] = SLOT(manufacturer_name),
        [F_SOR_ID] = SLOT(seller_of_record_account_id),
        [F_SOR_NAME] = SLOT(seller_of_record_name),
        [F_RA_ID] = SLOT(resale_authorization_id),
        [F_AGREEMENT_ID] = SLOT(agreement_id),
        [F_INTENT] = SLOT(intent),
        [F_STATUS] = SLOT(status),
        [F_ACCEPTANCE] = SLOT(acceptance_time),
        [F_START] = SLOT(start_time),
        [F_END] = SLOT(end_time),
        [F_PREVIOUS] = SLOT(previous_agreement_id),
        [F_AG_ACCEPTOR] = SLOT(acceptor_account_id),
        [F_AG_PRODUCT] = SLOT(product_id),
        [F_AG_OFFER] = SLOT(offer_id),
        [F_ACCEPTOR_ID] = SLOT(acceptor_account_id),
        [F_PROPOSER_ID] = SLOT(proposer_account_id),
        [F_PROPOSER_NAME] = SLOT(proposer_name),
        [F_REQUEST_STATUS] = SLOT(request_status),
        [F_REG_RA_ID] = SLOT(resale_authorization_id),
        [F_REG_NAME] = SLOT(reg.name),
        [F_REG_PRODUCT_ID] = SLOT(product_id),
        [F_REG_PRODUCT_TITLE] = SLOT(reg.product_title),
        [F_REG_RESELLER_ID] = SLOT(reg.reseller_account_id),
        [F_REG_RESELLER_NAME] = SLOT(reg.reseller_name),
        [F_REG_COMPANY] = SLOT(reg.buyer_company_name),
        [F_REG_EXPIRES] = SLOT(reg.expires_at),
        [F_REG_OFFER_ID] = SLOT(offer_id),
        [F_REG_OFFER_IDS] = 0,
        [F_REG_ACTOR] = SLOT(reg.actor),
        [F_REG_REASON] = SLOT(reg.reason),
        [F_CHANGE_SET_ID] = SLOT(change_set_id),
        [F_AWS_STATUS] = SLOT(reg.aws_status),
        [F_AWS_MODIFIED] = SLOT(reg.aws_last_modified),
};

/* Appends to a capped list of strings in the event. */
static int list_add(const char **list, size_t *n, size_t cap, const char *s)
{
        if (s == NULL)
                return -ENOMEM;
        if (*n == cap)
                return -E2BIG;
        list[(*n)++] = s;
        return 0;
}

static int fill_value(struct mp_event *ev, const struct jscan_value *v)
{
        struct mp_registration *reg = &ev->reg;
        const char *copy = NULL;

        if (v->field == F_REG_RENEWAL || v->field == F_REG_FORCE) {
                *(v->field == F_REG_RENEWAL ? &reg->renewal : &reg->force) = v->boolean;
                return 0;
        }
        if ((size_t)v->field < sizeof string_slot / sizeof string_slot[0] &&
            string_slot[v->field]) {
                copy = mp_event_strndup(ev, v->str, v->len);
                memcpy((char *)ev + string_slot[v->field] - 1, &copy, sizeof copy);
                return copy ? 0 : -E2BIG;
        }
        if (v->field == F_TARGETED || v->field == F_REG_BUYERS || v->field == F_REG_NOTIFY ||
            v->field == F_REG_OFFER_IDS || v->field == F_REG_METADATA)
                copy = mp_event_strndup(ev, v->str, v->len);
        switch (v->field) {
        case F_TARGETED:
                return list_add(ev->targeted_buyer_account_ids, &ev->n_targeted_buyer_account_ids,
                                MP_MAX_BUYERS, copy);
        case F_REG_BUYERS:
                return list_add(reg->buyer_account_ids, &reg->n_buyer_account_ids, MP_MAX_BUYERS,
                                copy);
        case F_REG_NOTIFY: return list_add(reg->notify, &reg->n_notify, MP_MAX_NOTIFY, copy);
        case F_REG_OFFER_IDS:
                return list_add(reg->offer_ids, &reg->n_offer_ids, MP_MAX_OFFERS, copy);
        case F_REG_METADATA:
                if (reg->n_metadata == MP_MAX_METADATA)
                        return -E2BIG;
                reg->metadata[reg->n_metadata].key = mp_event_strdup(ev, v->key);
                reg->metadata[reg->n_metadata].value = copy;
                return reg->metadata[reg->n_metadata++].key && copy ? 0 : -E2BIG;
        default: return 0; /* envelope fields */
        }
}

static int metadata_json(struct mp_event *ev)
{
        const struct mp_registration *reg = &ev->reg;
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *out;
        size_t len;
        int r = 0;

        if (g == NULL)
                return -ENOMEM;
        yajl_gen_map_open(g);
        for (size_t i = 0; i < reg->n_metadata; i++) {
                const char *k = reg->metadata[i].key, *v = reg->metadata[i].value;
                yajl_gen_string(g, (const unsigned char *)k, strlen(k));
                yajl_gen_string(g, (const unsigned char *)v, strlen(v));
        }
        yajl_gen_map_close(g);
        if (yajl_gen_get_buf(g, &out, &len) != yajl_gen_status_ok)
                r = -ENOMEM;
        else if ((ev->reg.metadata_json = mp_event_strndup(ev, (const char *)out, len)) == NULL)
                r = -E2BIG;
        yajl_gen_free(g);
        return r;
}

/* "Purchase Agreement Created - Manufacturer" → base + role; also the
 * documented typo without the hyphen ("Purchase Agreement Amended Acceptor"). */
static int split_detail_type(struct mp_event *ev)
{
        static const struct {
                const char *word;
                enum mp_role role;
        } roles[] = { { "Proposer", MP_ROLE_PROPOSER },
                      { "Manufacturer", MP_ROLE_MANUFACTURER },
                      { "Acceptor", MP_ROLE_ACCEPTOR } };
        const char *dt = ev->detail_type, *cut = NULL, *word = NULL;

        for (const char *p = strstr(dt, " - "); p; p = strstr(p + 1, " - "))
                cut = p;
        if (cut)
                word = cut + 3;
        for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
                size_t wl = strlen(roles[i].word), dl = strlen(dt);
                if (word && strcmp(word, roles[i].word) == 0) {
                        ev->role = roles[i].role;
                } else if (!cut && dl > wl + 1 && strcmp(dt + dl - wl, roles[i].word) == 0 &&
                           dt[dl - wl - 1] == ' ') {
                        cut = dt + dl - wl - 1; /* the typo */
                        ev->role = roles[i].role;
                }
        }
        ev->detail_type_base = cut ? mp_event_strndup(ev, dt, (size_t)(cut - dt)) : dt;
        return ev->detail_type_base ? 0 : -E2BIG;
}

static enum mp_kind kind_of(const struct mp_event *ev)
{
        static const struct {
                const char *source, *base;
                enum mp_kind kind;
        } kinds[] = {
                { "aws.marketplacecatalog", "Offer Released", MP_OFFER_RELEASED },
                { "aws.marketplacecatalog", "Change Set Succeeded", MP_CHANGE_SET },
                { "aws.marketplacecatalog", "Change Set Failed", MP_CHANGE_SET },
                { "aws.marketplacecatalog", "Change Set Cancelled", MP_CHANGE_SET },
                { "aws.agreement-marketplace", "Purchase Agreement Created", MP_AGREEMENT_CREATED },
                { "aws.agreement-marketplace", "Purchase Agreement Amended", MP_AGREEMENT_AMENDED },
                { "aws.agreement-marketplace", "Purchase Agreement Ended", MP_AGREEMENT_ENDED },
                { "aws.agreement-marketplace", "Purchase Agreement Ending", MP_AGREEMENT_ENDING },
                { "aws.agreement-marketplace", "License Updated", MP_LICENSE_UPDATED },
                { "aws.agreement-marketplace", "License Deprovisioned", MP_LICENSE_DEPROVISIONED },
                { "cppo-notify", "Resale Authorization Registered", MP_REGISTRATION_REGISTERED },
                { "cppo-notify", "Resale Authorization Updated", MP_REGISTRATION_UPDATED },
                { "cppo-notify", "Resale Authorization Withdrawn", MP_REGISTRATION_WITHDRAWN },
                { "cppo-notify", "Offer Associated", MP_OFFER_ASSOCIATED },
                { "cppo-notify", "Offer Unlinked", MP_OFFER_UNLINKED },
                { "cppo-notify", "Resale Authorization Synced", MP_AUTHORIZATION_SYNCED },
                { "cppo-notify", "Offer Authorization Found", MP_OFFER_AWS_LINKED },
        };
        const char *prefix = "Agreement Cancellation Request ";

        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
                if (strcmp(ev->source, kinds[i].source) == 0 &&
                    strcmp(ev->detail_type_base, kinds[i].base) == 0)
                        return kinds[i].kind;
        if (strcmp(ev->source, "aws.agreement-marketplace") == 0 &&
            strncmp(ev->detail_type_base, prefix, strlen(prefix)) == 0)
                return MP_CANCELLATION_REQUEST;
        return MP_UNSUPPORTED;
}

/* The id without which an event of this kind means nothing, or NULL when
 * it is there. */
static const char *missing_id(const struct mp_event *ev)
{
        switch (ev->kind) {
        case MP_OFFER_RELEASED: return ev->offer_id ? NULL : "detail.offer.id";
        case MP_AGREEMENT_CREATED:
        case MP_AGREEMENT_AMENDED:
        case MP_AGREEMENT_ENDED:
        case MP_AGREEMENT_ENDING:
        case MP_LICENSE_UPDATED:
        case MP_LICENSE_DEPROVISIONED:
        case MP_CANCELLATION_REQUEST: return ev->agreement_id ? NULL : "detail.agreement.id";
        case MP_REGISTRATION_REGISTERED:
        case MP_REGISTRATION_UPDATED:
        case MP_REGISTRATION_WITHDRAWN:
        case MP_AUTHORIZATION_SYNCED:
                return ev->resale_authorization_id ? NULL : "detail.resaleAuthorizationId";
        case MP_OFFER_ASSOCIATED:
        case MP_OFFER_AWS_LINKED:
                if (ev->resale_authorization_id == NULL)
                        return "detail.resaleAuthorizationId";
                return ev->offer_id ? NULL : "detail.offerId";
        case MP_OFFER_UNLINKED: return ev->offer_id ? NULL : "detail.offerId";
        default: return NULL;
        }
}

/* doc/model.md: account|detail-type|requestId, else the EventBridge id, else
 * the nearest SNS MessageId, else a hash of the canonical body. A key that
 * would not fit is replaced by the hash of itself. */
static void event_key(struct decoder *d, struct mp_event *ev, const char *json, size_t len)
{
        char hex[65];
        int n = 0;
        const char *sns = NULL;

        for (size_t i = d->n_chain; i-- > 0;)
                if (d->chain[i].kind == MP_ENV_SNS && d->chain[i].id && sns == NULL)
                        sns = d->chain[i].id;
        if (ev->request_id && ev->detail_type)
                n = snprintf(ev->event_key, sizeof ev->event_key, "%s|%s|%s",
                             ev->account ? ev->account : "", ev->detail_type, ev->request_id);
        else if (ev->id)
                n = snprintf(ev->event_key, sizeof ev->event_key, "id:%s", ev->id);
        else if (sns)
                n = snprintf(ev->event_key, sizeof ev->event_key, "sns:%s", sns);
        else {
                canonical_hash(json, len, hex);
                snprintf(ev->event_key, sizeof ev->event_key, "sha256:%s", hex);
                return;
        }
        if (n < 0 || (size_t)n >= sizeof ev->event_key) {
                sha256_hex(ev->event_key, strlen(ev->event_key), hex);
                snprintf(ev->event_key, sizeof ev->event_key, "sha256:%s", hex);
        }
}

static int copy_chain(struct decoder *d, struct mp_event *ev)
{
        for (size_t i = 0; i < d->n_chain; i++) {
                ev->envelopes[i].kind = d->chain[i].kind;
                ev->envelopes[i].id = d->chain[i].id ? mp_event_strdup(ev, d->chain[i].id) : NULL;
                if (d->chain[i].id && ev->envelopes[i].id == NULL)
                        return -E2BIG;
        }
        ev->n_envelopes = d->n_chain;
        return 0;
}

static int fill_event(struct decoder *d, const struct jscan *s, struct mp_event *ev)
{
        int r = copy_chain(d, ev);

        for (size_t i = 0; r == 0 && i < jscan_count(s); i++) {
                const struct jscan_value *v = jscan_value(s, i);
                if (v->elem < 0)
                        r = fill_value(ev, v);
        }
        if (r == 0 && ev->reg.n_metadata)
                r = metadata_json(ev);
        return r;
}

/* An EventBridge event, or (eventbridge false) a legacy SNS payload, whatever
 * else such a payload happens to carry. */
static int build_event(struct decoder *d, const struct jscan *s, const char *json, size_t len,
                       bool eventbridge, struct decode_result *res)
{
        struct decode_item *it = new_item(res);
        struct mp_event *ev;
        const char *missing;
        int r;

        if (it == NULL)
                return -ENOMEM;
        ev = &it->ev;
        r = fill_event(d, s, ev);
        if (r == 0 && eventbridge)
                r = split_detail_type(ev);
        if (r < 0) {
                size_t cap = 0;
                const char *full = mp_event_full_list(ev, &cap);
                res->n--;
                if (r == -ENOMEM)
                        return r;
                if (full) /* name the limit, so the sender knows what to cut */
                        return reject(res, DECODE_TOO_LARGE,
                                      "event has more %s than the limit "
                                      "of %zu",
                                      full, cap);
                return reject(res, DECODE_TOO_LARGE,
                              "event has more values than the limits "
                              "allow (buyers, contacts, metadata)");
        }
        ev->kind = eventbridge ? kind_of(ev) : MP_LEGACY_SNS;
        if (ev->time == NULL || timefmt_parse(ev->time, &ev->time_epoch) < 0)
                ev->time_epoch = 0;
        missing = missing_id(ev);
        if (missing) {
                res->n--;
                return reject(res, DECODE_MISSING_ID, "%s event without %s",
                              eventbridge ? ev->detail_type : "legacy", missing);
        }
        event_key(d, ev, json, len);
        return 0;
}

/* ---- envelopes ---- */

static int decode_level(struct decoder *d, const char *json, size_t len, size_t level,
                        struct decode_result *res);

static const char *str_of(const struct jscan *s, int field)
{
        const struct jscan_value *v = jscan_find(s, field);

        return v ? v->str : NULL;
}

/* Decodes an envelope's inner document one level down. */
static int unwrap(struct decoder *d, enum mp_envelope_kind kind, const char *id,
                  const struct jscan_value *inner, size_t level, struct decode_result *res)
{
        int r;

        if (level + 1 >= DECODE_MAX_LEVELS)
                return reject(res, DECODE_TOO_DEEP, "more than %d nested levels of envelopes",
                              DECODE_MAX_LEVELS);
        d->chain[d->n_chain].kind = kind;
        d->chain[d->n_chain].id = id;
        d->n_chain++;
        r = decode_level(d, inner->str, inner->len, level + 1, res);
        d->n_chain--;
        return r;
}

/* A Lambda SQS batch: every record is decoded on its own. */
static int unwrap_records(struct decoder *d, const struct jscan *s, size_t level,
                          struct decode_result *res)
{
        int r = 0, records = 0;

        for (size_t i = 0; r == 0 && i < jscan_count(s); i++) {
                const struct jscan_value *v = jscan_value(s, i);
                const char *id = NULL;
                if (v->field != F_REC_BODY)
                        continue;
                if (++records > DECODE_MAX_RECORDS)
                        return reject(res, DECODE_TOO_LARGE, "more than %d records in one batch",
                                      DECODE_MAX_RECORDS);
                for (size_t k = 0; k < jscan_count(s); k++) {
                        const struct jscan_value *w = jscan_value(s, k);
                        if (w->field == F_REC_MESSAGE_ID && w->elem == v->elem)
                                id = w->str;
                }
                r = unwrap(d, MP_ENV_LAMBDA_SQS, id, v, level, res);
        }
        return r;
}

static int classify(struct decoder *d, const struct jscan *s, const char *json, size_t len,
                    size_t level, struct decode_result *res)
{
        const struct jscan_value *body = jscan_find(s, F_BODY), *msg = jscan_find(s, F_MESSAGE);
        const char *type = str_of(s, F_TYPE);

        if (str_of(s, F_DETAIL_TYPE) && str_of(s, F_SOURCE))
                return build_event(d, s, json, len, true, res);
        for (size_t i = 0; i < jscan_count(s); i++)
                if (jscan_value(s, i)->field == F_REC_BODY)
                        return unwrap_records(d, s, level, res);
        if (body == NULL)
                body = jscan_find(s, F_BODY_LOWER);
        if (body) {
                const char *id = str_of(s, F_MESSAGE_ID);
                return unwrap(d, MP_ENV_SQS, id ? id : str_of(s, F_MESSAGE_ID_LOWER), body, level,
                              res);
        }
        if (type && strcmp(type, "Notification") == 0 && msg)
                return unwrap(d, MP_ENV_SNS, str_of(s, F_MESSAGE_ID), msg, level, res);
        if (type)
                return reject(res, DECODE_UNRECOGNIZED,
                              "SNS message of type \"%.64s\" carries no "
                              "event",
                              type);
        if (str_of(s, F_ACTION) && str_of(s, F_CUSTOMER))
                return build_event(d, s, json, len, false, res);
        return reject(res, DECODE_UNRECOGNIZED,
                      "no EventBridge event, SQS, SNS or Lambda "
                      "envelope, or legacy SNS message found");
}

static int decode_level(struct decoder *d, const char *json, size_t len, size_t level,
                        struct decode_result *res)
{
        struct jscan *s = d->scan[level];
        int st = jscan_run(s, json, len);

        switch (st) {
        case JSCAN_OK: return classify(d, s, json, len, level, res);
        case JSCAN_INVALID_JSON:
                if (level > 0)
                        return reject(res, DECODE_ENVELOPE_NOT_JSON, "%s content is not JSON: %s",
                                      mp_envelope_name(d->chain[d->n_chain - 1].kind),
                                      jscan_error(s));
                return reject(res, DECODE_INVALID_JSON, "not JSON: %s", jscan_error(s));
        case JSCAN_WRONG_TYPE: return reject(res, DECODE_WRONG_TYPE, "%s", jscan_error(s));
        case JSCAN_TOO_DEEP:
                return reject(res, DECODE_TOO_DEEP, "JSON nested deeper than %d levels",
                              DECODE_MAX_JSON_DEPTH);
        case JSCAN_TOO_LARGE: return reject(res, DECODE_TOO_LARGE, "%s", jscan_error(s));
        default: return st < 0 ? st : -EIO;
        }
}

int decode_message(struct decoder *d, const char *data, size_t len, size_t whole,
                   struct decode_result *res)
{
        size_t ok;

        res->n = 0;
        d->n_chain = 0;
        if (whole == DECODE_SIZE_UNKNOWN)
                return reject(res, DECODE_TOO_LARGE,
                              "message of more than %zu bytes is over the "
                              "%zu byte limit",
                              len, d->max_bytes);
        if (whole > len || len > d->max_bytes)
                return reject(res, DECODE_TOO_LARGE,
                              "message of %zu bytes is over the %zu byte "
                              "limit",
                              whole > len ? whole : len, d->max_bytes);
        ok = utf8_valid_prefix(data, len);
        if (ok < len)
                return reject(res, DECODE_INVALID_UTF8, "invalid UTF-8 at byte %zu", ok);
        return decode_level(d, data, len, 0, res);
}
