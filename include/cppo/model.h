/* cppo-notify — the CPPO domain model (doc/model.md).
 *
 * Plain records shared by correlate (which decides) and store (which
 * persists). Every string is heap-owned by its record (NULL when unknown);
 * x_clear() frees the strings and zeroes the record, so a zeroed record is
 * always safe to clear. Ids are AWS ids kept as opaque strings.
 */
#ifndef CPPO_MODEL_H
#define CPPO_MODEL_H

#include "cppo/error.h"

#include <stdbool.h>
#include "cppo/strlist.h"

#include <stddef.h>
#include <stdint.h>

/* How an offer came to be linked to an authorization; larger is stronger.
 * A stronger link replaces a weaker one, never the reverse. */
enum link_strength {
        LINK_NONE = 0,
        LINK_INFERRED = 1,   /* unique match on product, reseller, buyers */
        LINK_MANUAL = 2,     /* cppo-notifyctl associate */
        LINK_REGISTERED = 3, /* a registration named the offer */
        LINK_AWS = 4,        /* AWS's record of the offer (DescribeEntity) names it */
        LINK_EVENT = 5,      /* an agreement event carried both ids */
};
/* Stored by name, never by number: inserting a strength needs no migration. */

/* "none", "inferred", "manual", "registered", "aws", "event". */
const char *link_strength_name(enum link_strength s);
/* 0 or -EINVAL. */
CPPO_MUST_CHECK int link_strength_parse(const char *name, enum link_strength *out);
/* What made a link of this strength, for sentences ("linked by %s"):
 * "an agreement event", "AWS's record of the offer", "its registration",
 * "hand", "inference", "nothing". */
const char *link_strength_by(enum link_strength s);

/* Where an authorization's field came from (`authorization list/show`). */
enum auth_source {
        AUTH_SRC_NONE = 0,
        AUTH_SRC_EVENT,      /* an agreement event named the authorization */
        AUTH_SRC_REGISTERED, /* a registration (CRM, `authorization add`) */
        AUTH_SRC_AWS,        /* the seller's AWS Marketplace Catalog (sync) */
};

/* The fields whose source is tracked. AWS is authoritative for name,
 * product, reseller, buyers, expiry and status; a registration adds the
 * CRM's fields (company, contacts, metadata) and fills what AWS left
 * empty. */
enum auth_field {
        AUTH_F_NAME = 0,
        AUTH_F_PRODUCT,
        AUTH_F_RESELLER,
        AUTH_F_BUYERS,
        AUTH_F_EXPIRY,
        AUTH_F_STATUS,
        AUTH_F_COMPANY,
        AUTH_F_CONTACTS,
        AUTH_F_METADATA,
        AUTH_F_COUNT,
};

/* "none", "event", "registered", "aws". */
const char *auth_source_name(enum auth_source s);
/* "name", "product", "reseller", "buyers", "expiry", "status", "company",
 * "contacts", "metadata". */
const char *auth_field_name(enum auth_field f);

/* A resale authorization: the CPPO opportunity. */
struct authorization {
        char *id;
        char *name;
        char *product_id;
        char *product_title;
        char *reseller_account_id;
        char *reseller_name;
        char *buyer_company_name;
        struct strlist buyer_account_ids;
        char *expires_at; /* ISO-8601 as registered */
        bool renewal;
        struct strlist notify; /* e-mail addresses */
        char *metadata_json;   /* JSON object text, or NULL */
        struct strlist offer_ids;
        bool registered; /* known from a registration (else only from events) */
        bool withdrawn;
        char *aws_status;     /* AWS's Draft/Active/Restricted; NULL: never synced */
        int64_t aws_modified; /* LastModifiedDate of the AWS revision applied, 0: none */
        unsigned char sources[AUTH_F_COUNT]; /* enum auth_source per enum auth_field */
        char *source_event_key;              /* event that created or last changed it */
        int64_t updated_at;                  /* clock value of the last change */
};

/* Whether, and why, an offer reached its authorization late: its id came
 * only with the agreement (the buyer accepted before any Offer Released),
 * or its Offer Released was held until a link appeared. */
enum offer_late {
        OFFER_ON_TIME = 0,
        OFFER_LATE_AFTER_HOLD = 1,
        OFFER_LATE_AFTER_ACCEPTANCE = 2,
};

/* A partner's offer (usually a CPPO), as seen in Offer Released or
 * agreement events. */
struct offer {
        char *id;
        char *name;
        char *expiration; /* ISO-8601 */
        char *product_id;
        char *product_title;
        char *manufacturer_account_id;
        char *manufacturer_name;
        char *seller_of_record_account_id;
        char *seller_of_record_name;
        struct strlist targeted_buyer_account_ids;
        char *authorization_id; /* NULL when unlinked */
        enum link_strength link;
        char *link_event_key; /* event that made the current link; for an offer
                                 * unlinked by hand, "unlinked:" and the unlink's
                                 * key (inference then leaves it to a person) */
        bool released_seen;   /* an Offer Released for it was processed */
        int late;             /* enum offer_late: why its id was late, if it was */
        int64_t updated_at;
};

/* A purchase agreement. Status only moves forward: ACTIVE, then one end
 * state (terminal). */
struct agreement {
        char *id;
        char *intent; /* NEW, RENEW, REPLACE, AMEND */
        char *status; /* ACTIVE or an end reason */
        char *acceptance_time;
        char *start_time;
        char *end_time;
        char *offer_id;
        char *authorization_id; /* NULL for direct deals */
        char *acceptor_account_id;
        char *proposer_account_id;
        char *previous_agreement_id;
        char *product_id;
        int64_t last_event_time; /* newest event time applied */
        int64_t updated_at;
};

/* A partner_offer_extended waiting for its offer to be linked. */
struct hold {
        char *offer_id;
        char *event_key;     /* the Offer Released that created it */
        int64_t created_at;  /* clock value */
        int64_t deadline;    /* created_at + holds.offer_link_timeout */
        bool attention_sent; /* attention_needed already emitted */
};

/* A domain fact to tell people about. The key is the fact: one row per key,
 * ever (doc/model.md). */
struct notification {
        char *kind;         /* partner_offer_extended, new_order, ... */
        char *key;          /* idempotency key, e.g. new_order/<agreement> */
        char *context_json; /* everything a human needs (JSON object) */
        char *source_event_key;
        char *opportunity_id; /* authorization id, or NULL */
        char *offer_id;
        char *agreement_id;
        bool late;
        bool registered;
        int64_t created_at;
};

/* One change of an offer's link, for its history: what it was linked to,
 * what it is linked to now (NULL: unlinked, back in the holds), who asked
 * and why. Automatic links (inferred, registered, event) are recorded too,
 * with actor "cppo-notify". */
struct link_change {
        char *offer_id;
        char *from_authorization_id; /* NULL: it was not linked */
        char *to_authorization_id;   /* NULL: unlinked */
        enum link_strength from_link, to_link;
        char *actor;          /* the invoking user, or "cppo-notify" */
        char *reason;         /* --reason, or what made the link */
        char *event_key;      /* the event that made the change */
        char *correction_key; /* the link_corrected notification, or NULL */
        int64_t at;           /* clock value */
};

/* ---- record field tables ----
 *
 * Each record type is described once, by a table of its fields in the
 * order they are stored. The copy and clear functions below walk it, and
 * so does the store: its column lists, its row readers and its binders
 * (src/store/store_sqlite_records.c). A field added to a record is added
 * to its table, and only there. */

/* What a field holds, and so how it is copied, freed, stored and read. */
enum field_type {
        FIELD_STR,     /* char *, owned; NULL unknown */
        FIELD_LIST,    /* struct strlist; stored as a JSON array of strings */
        FIELD_BOOL,    /* bool */
        FIELD_INT,     /* int */
        FIELD_I64,     /* int64_t */
        FIELD_LINK,    /* enum link_strength; stored by name */
        FIELD_SOURCES, /* an authorization's sources[]; stored as
                        * authorization_sources_format() writes them */
        FIELD_BLOB,    /* char *, owned, NUL-terminated, immediately followed
                        * by its length (size_t); stored as bytes */
};

struct field {
        const char *name; /* where records are stored: the column */
        enum field_type type;
        size_t offset; /* offsetof() in the record */
        /* FIELD_STR or FIELD_BLOB stored packed (pack.h) and read unpacked
         * by the store: the documents that make most of its bytes */
        bool packed;
};

struct record_type {
        const char *name; /* "authorization", for messages */
        const struct field *fields;
        size_t n_fields;
        size_t size; /* sizeof the record */
};

extern const struct record_type authorization_record, offer_record, agreement_record, hold_record,
    notification_record, link_change_record;

/* Frees every owned field of rec (a record of type t) and zeroes it. */
void record_clear(const struct record_type *t, void *rec);
/* Deep copy into dst (a record, zeroed or holding its own copies; not src):
 * the strings and lists it already holds equal are kept, the other fields
 * freed and copied. On -ENOMEM dst is left cleared. */
CPPO_MUST_CHECK int record_copy(const struct record_type *t, void *dst, const void *src);
/* The bytes a field of this type takes in its record. */
size_t field_size(enum field_type type);

void authorization_clear(struct authorization *a);
/* The field's source: the recorded one, else (for records saved before
 * sources were kept) registered or event by a->registered when the field
 * has a value, else none. */
enum auth_source authorization_source(const struct authorization *a, enum auth_field f);
/* sources as "name=aws,product=registered,..." (only fields with a source)
 * into buf (always NUL-terminated); parsing ignores unknown words. */
void authorization_sources_format(const struct authorization *a, char *buf, size_t len);
void authorization_sources_parse(struct authorization *a, const char *text);
void link_change_clear(struct link_change *l);
/* Deep copy into dst (a record, zeroed or holding its own copies; not src):
 * the strings and lists it already holds equal are kept, the other fields
 * freed and copied. On -ENOMEM dst is left cleared. */
CPPO_MUST_CHECK int link_change_copy(struct link_change *dst, const struct link_change *src);
void offer_clear(struct offer *o);
void agreement_clear(struct agreement *g);
void hold_clear(struct hold *h);
void notification_clear(struct notification *n);

/* Replaces *dst with a copy of src (NULL allowed). 0 or -ENOMEM (dst
 * unchanged). */
CPPO_MUST_CHECK int str_assign(char **dst, const char *src);

/* Deep copies: dst is cleared first; on -ENOMEM dst is left cleared. */
CPPO_MUST_CHECK int authorization_copy(struct authorization *dst, const struct authorization *src);
CPPO_MUST_CHECK int offer_copy(struct offer *dst, const struct offer *src);
CPPO_MUST_CHECK int agreement_copy(struct agreement *dst, const struct agreement *src);
CPPO_MUST_CHECK int hold_copy(struct hold *dst, const struct hold *src);
CPPO_MUST_CHECK int notification_copy(struct notification *dst, const struct notification *src);

struct hmap;

/* The record arrays of a changeset that are keyed (one entry per id). */
enum changeset_keyed {
        CHANGESET_AUTHORIZATIONS,
        CHANGESET_OFFERS,
        CHANGESET_AGREEMENTS,
        CHANGESET_HOLDS,
        CHANGESET_NOTIFICATIONS,
        CHANGESET_N_KEYED
};

/* What one correlate step decided, handed to the store to persist in the
 * batch transaction: records to insert-or-replace (deep copies owned by the
 * set), holds that are gone, and new notifications. Embedded by value:
 * zero-initialise, changeset_clear() to free and reuse. */
struct changeset {
        struct authorization *authorizations;
        size_t n_authorizations;
        struct offer *offers;
        size_t n_offers;
        struct agreement *agreements;
        size_t n_agreements;
        struct hold *holds; /* created or changed */
        size_t n_holds;
        struct strlist released_holds; /* offer ids whose hold was removed */
        struct notification *notifications;
        size_t n_notifications;
        struct link_change *link_changes; /* appended in order, never merged */
        size_t n_link_changes;
        /* Catalog change set ids (a Change Set Succeeded) whose authorizations
         * the AWS sync should describe again: persisted as requests */
        struct strlist aws_refresh;
        /* Where each keyed record of the set is (index + 1, by id; key for
         * notifications), made on first use: a batch saves the same records
         * again and again, and finding them by a scan of the set made
         * adding quadratic in the batch. Private to model.c. */
        struct hmap *where[CHANGESET_N_KEYED];
};

void changeset_clear(struct changeset *c);
/* Each adds a deep copy; 0 or -ENOMEM. A record already in the set under
 * the same id (same key for notifications) is replaced by the newer copy. */
CPPO_MUST_CHECK int changeset_add_authorization(struct changeset *c, const struct authorization *a);
CPPO_MUST_CHECK int changeset_add_offer(struct changeset *c, const struct offer *o);
CPPO_MUST_CHECK int changeset_add_agreement(struct changeset *c, const struct agreement *g);
CPPO_MUST_CHECK int changeset_add_hold(struct changeset *c, const struct hold *h);
CPPO_MUST_CHECK int changeset_release_hold(struct changeset *c, const char *offer_id);
CPPO_MUST_CHECK int changeset_add_notification(struct changeset *c, const struct notification *n);
/* Appends a copy (history rows are never replaced). 0 or -ENOMEM. */
CPPO_MUST_CHECK int changeset_add_link_change(struct changeset *c, const struct link_change *l);
/* Moves every entry of src to the end of dst (later entries win) and
 * clears src. 0 or -ENOMEM. */
CPPO_MUST_CHECK int changeset_merge(struct changeset *dst, struct changeset *src);

#endif
