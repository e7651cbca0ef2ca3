/* cppo-notify — the normalized AWS Marketplace event (struct mp_event).
 *
 * decode fills one mp_event per EventBridge event it finds in a message
 * (a Lambda SQS batch yields several); correlate reads it. Every string
 * field is NUL-terminated, points into the event's own arena, and is NULL
 * when the event does not carry it. The event owns nothing else, so
 * mp_event_reset() makes it reusable at no allocation cost.
 *
 * Field names follow the AWS events (doc/model.md lists those read); the
 * JSON path each comes from is noted beside it.
 */
#ifndef CPPO_EVENT_H
#define CPPO_EVENT_H

#include "cppo/arena.h"
#include "cppo/raw_message.h" /* struct mp_coord */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_MAX_BUYERS    64  /* targeted buyers / registered buyer accounts */
#define MP_MAX_ENVELOPES 4   /* wrapper levels kept (and unwrapped) at most */
#define MP_MAX_NOTIFY    32  /* registration notify addresses */
#define MP_MAX_OFFERS    64  /* offer ids a registration may name */
#define MP_MAX_METADATA  64  /* registration metadata key/value pairs */
#define MP_EVENT_KEY_MAX 512 /* bytes of an event key, NUL included */
#define MP_ARENA_MAX     (1u << 20)

/* What the event is, from source + detail-type base name. */
enum mp_kind {
        MP_UNSUPPORTED = 0,         /* recorded, ignored */
        MP_OFFER_RELEASED,          /* aws.marketplacecatalog "Offer Released" */
        MP_AGREEMENT_CREATED,       /* "Purchase Agreement Created" */
        MP_AGREEMENT_AMENDED,       /* "Purchase Agreement Amended" */
        MP_AGREEMENT_ENDED,         /* "Purchase Agreement Ended" */
        MP_AGREEMENT_ENDING,        /* "Purchase Agreement Ending" */
        MP_LICENSE_UPDATED,         /* "License Updated" */
        MP_LICENSE_DEPROVISIONED,   /* "License Deprovisioned" */
        MP_CANCELLATION_REQUEST,    /* "Agreement Cancellation Request *" */
        MP_CHANGE_SET,              /* "Change Set Succeeded|Failed|Cancelled" */
        MP_LEGACY_SNS,              /* legacy SaaS SNS message (action, ...) */
        MP_REGISTRATION_REGISTERED, /* source cppo-notify */
        MP_REGISTRATION_UPDATED,
        MP_REGISTRATION_WITHDRAWN,
        MP_OFFER_ASSOCIATED,     /* source cppo-notify, "Offer Associated":
                                    * a manual offer<->authorization link */
        MP_OFFER_UNLINKED,       /* source cppo-notify, "Offer Unlinked":
                                    * the offer goes back to the holds */
        MP_AUTHORIZATION_SYNCED, /* source cppo-notify, "Resale Authorization
                                    * Synced": AWS's record of one, by the sync */
        MP_OFFER_AWS_LINKED,     /* source cppo-notify, "Offer Authorization
                                    * Found": AWS's record of a held offer names
                                    * its resale authorization */
};

/* The role suffix of an agreement detail-type (" - Manufacturer"). */
enum mp_role {
        MP_ROLE_NONE = 0,
        MP_ROLE_PROPOSER,
        MP_ROLE_MANUFACTURER,
        MP_ROLE_ACCEPTOR,
};

/* Transport wrappers, outermost first in mp_event.envelopes. */
enum mp_envelope_kind {
        MP_ENV_SQS = 1,    /* SQS ReceiveMessage shape, "Body" */
        MP_ENV_LAMBDA_SQS, /* Lambda SQS batch, "Records[].body" */
        MP_ENV_SNS,        /* SNS notification, "Message" */
};

struct mp_envelope {
        enum mp_envelope_kind kind;
        const char *id; /* SQS MessageId / messageId, SNS MessageId */
};

struct mp_metadata_pair {
        const char *key;
        const char *value;
};

/* detail of a cppo-notify registration ("Resale Authorization
 * Registered|Updated|Withdrawn") or manual association ("Offer Associated"),
 * camelCase keys as in doc/model.md. */
struct mp_registration {
        const char *name;                             /* name */
        const char *product_title;                    /* productTitle */
        const char *reseller_account_id;              /* resellerAccountId */
        const char *reseller_name;                    /* resellerName */
        const char *buyer_company_name;               /* buyerCompanyName */
        const char *expires_at;                       /* expiresAt (ISO-8601) */
        bool renewal;                                 /* renewal */
        const char *buyer_account_ids[MP_MAX_BUYERS]; /* buyerAccountIds */
        size_t n_buyer_account_ids;
        const char *notify[MP_MAX_NOTIFY]; /* notify: e-mail addresses */
        size_t n_notify;
        const char *offer_ids[MP_MAX_OFFERS]; /* offerIds */
        size_t n_offer_ids;
        struct mp_metadata_pair metadata[MP_MAX_METADATA]; /* metadata: {k: v} */
        size_t n_metadata;
        const char *metadata_json; /* metadata as compact JSON text, or NULL */
        /* Offer Associated / Offer Unlinked: who asked, why, and whether a
         * link from an agreement event or a registration may be moved */
        const char *actor;  /* actor */
        const char *reason; /* reason */
        bool force;         /* force */
        /* Resale Authorization Synced: AWS's status and LastModifiedDate */
        const char *aws_status;        /* awsStatus: Draft, Active, Restricted */
        const char *aws_last_modified; /* lastModifiedDate (ISO-8601) */
};

struct mp_event {
        enum mp_kind kind;
        enum mp_role role;
        char event_key[MP_EVENT_KEY_MAX]; /* doc/model.md: account|detail-type|requestId,
                                           * else id:<EventBridge id>, else
                                           * sns:<MessageId>, else sha256:<hex> */

        const char *id;               /* EventBridge "id" */
        const char *source;           /* "source" */
        const char *detail_type;      /* "detail-type", as sent */
        const char *detail_type_base; /* before the last " - " (or the role word) */
        const char *account;          /* "account" */
        const char *time;             /* "time", as sent */
        int64_t time_epoch;           /* "time" parsed; 0 when absent/invalid */
        const char *request_id;       /* detail.requestId */

        const char *offer_id;                /* detail.offer.id | agreement.offerId |
                                      * offer-identifier | registration offerId */
        const char *offer_name;              /* detail.offer.name */
        const char *offer_expiration;        /* detail.offer.expirationDate */
        const char *resale_authorization_id; /* detail.resaleAuthorization.id |
                                              * registration resaleAuthorizationId */
        const char *agreement_id;            /* detail.agreement.id */
        const char *previous_agreement_id;   /* detail.agreement.previousAgreementId */
        const char *intent;                  /* detail.agreement.intent */
        const char *status;                  /* detail.agreement.status */
        const char *acceptance_time;         /* detail.agreement.acceptanceTime */
        const char *start_time;              /* detail.agreement.startTime */
        const char *end_time;                /* detail.agreement.endTime */
        const char *product_id;              /* detail.product.id | agreement.productId |
                                      * registration productId */
        const char *product_title;           /* detail.product.title */
        const char *product_code;            /* detail.product.code | product-code */
        const char *acceptor_account_id;     /* detail.acceptor.accountId | agreement.acceptorId */
        const char *proposer_account_id;     /* detail.proposer.accountId */
        const char *proposer_name;           /* detail.proposer.name */
        const char *manufacturer_account_id; /* detail.manufacturer.accountId */
        const char *manufacturer_name;       /* detail.manufacturer.name */
        const char *seller_of_record_account_id;               /* detail.sellerOfRecord.accountId */
        const char *seller_of_record_name;                     /* detail.sellerOfRecord.name */
        const char *targeted_buyer_account_ids[MP_MAX_BUYERS]; /* detail.targetedBuyerAccountIds */
        size_t n_targeted_buyer_account_ids;
        const char *request_status; /* agreementCancellationRequest.statusCode */
        const char *change_set_id;  /* detail.ChangeSetId (catalog change sets) */

        const char *legacy_action;       /* legacy SNS "action" */
        const char *customer_identifier; /* legacy SNS "customer-identifier" */

        struct mp_registration reg; /* source cppo-notify only */

        struct mp_envelope envelopes[MP_MAX_ENVELOPES]; /* outermost first */
        size_t n_envelopes;

        struct arena arena; /* owns every string above */
};

void mp_event_init(struct mp_event *ev);
void mp_event_deinit(struct mp_event *ev);

/* Clears every field and forgets every string, keeping memory. */
void mp_event_reset(struct mp_event *ev);

/* Copies s into the event's arena; NULL on -ENOMEM/-E2BIG. For decode and
 * for tests that build events by hand. */
const char *mp_event_strdup(struct mp_event *ev, const char *s);
const char *mp_event_strndup(struct mp_event *ev, const char *s, size_t n);

/* Stable names: "offer_released", ..., "unsupported"; "proposer",
 * "manufacturer", "acceptor" or NULL; "sqs", "lambda_sqs", "sns". */
const char *mp_kind_name(enum mp_kind kind);
const char *mp_role_name(enum mp_role role);
const char *mp_envelope_name(enum mp_envelope_kind kind);

/* True for the cppo-notify registration and association kinds (and the
 * AWS sync's, which enter the same way: through the inbox). */
bool mp_kind_is_registration(enum mp_kind kind);

/* The first of the event's capped lists (targeted buyers, registered
 * buyers, notify contacts, offer ids, metadata) that is full, as its name
 * ("buyers", "contacts", "offer ids", "metadata") with its cap in *cap; NULL
 * when none is. decode uses it to say which limit an event went over. */
const char *mp_event_full_list(const struct mp_event *ev, size_t *cap);

#endif
