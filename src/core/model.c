/* cppo-notify — domain record helpers (see include/cppo/model.h). */
#include "cppo/model.h"

#include "cppo/error.h"
#include "cppo/hmap.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const link_names[] = {
        [LINK_NONE] = "none",     [LINK_INFERRED] = "inferred",
        [LINK_MANUAL] = "manual", [LINK_REGISTERED] = "registered",
        [LINK_AWS] = "aws",       [LINK_EVENT] = "event",
};

static const char *const link_by[] = {
        [LINK_NONE] = "nothing",
        [LINK_INFERRED] = "inference",
        [LINK_MANUAL] = "hand",
        [LINK_REGISTERED] = "its registration",
        [LINK_AWS] = "AWS's record of the offer",
        [LINK_EVENT] = "an agreement event",
};

const char *link_strength_by(enum link_strength s)
{
        return (unsigned)s <= LINK_EVENT ? link_by[s] : link_by[LINK_NONE];
}

static const char *const source_names[] = {
        [AUTH_SRC_NONE] = "none",
        [AUTH_SRC_EVENT] = "event",
        [AUTH_SRC_REGISTERED] = "registered",
        [AUTH_SRC_AWS] = "aws",
};

static const char *const field_names[AUTH_F_COUNT] = {
        [AUTH_F_NAME] = "name",         [AUTH_F_PRODUCT] = "product",
        [AUTH_F_RESELLER] = "reseller", [AUTH_F_BUYERS] = "buyers",
        [AUTH_F_EXPIRY] = "expiry",     [AUTH_F_STATUS] = "status",
        [AUTH_F_COMPANY] = "company",   [AUTH_F_CONTACTS] = "contacts",
        [AUTH_F_METADATA] = "metadata",
};

const char *auth_source_name(enum auth_source s)
{
        return (unsigned)s <= AUTH_SRC_AWS ? source_names[s] : source_names[AUTH_SRC_NONE];
}

const char *auth_field_name(enum auth_field f)
{
        return (unsigned)f < AUTH_F_COUNT ? field_names[f] : "unknown";
}

/* Whether the field holds a value (for sources of old records). */
static bool field_set(const struct authorization *a, enum auth_field f)
{
        switch (f) {
        case AUTH_F_NAME: return a->name != NULL;
        case AUTH_F_PRODUCT: return a->product_id != NULL;
        case AUTH_F_RESELLER: return a->reseller_account_id != NULL;
        case AUTH_F_BUYERS: return a->buyer_account_ids.n > 0;
        case AUTH_F_EXPIRY: return a->expires_at != NULL;
        case AUTH_F_STATUS: return a->aws_status != NULL;
        case AUTH_F_COMPANY: return a->buyer_company_name != NULL;
        case AUTH_F_CONTACTS: return a->notify.n > 0;
        case AUTH_F_METADATA: return a->metadata_json != NULL;
        case AUTH_F_COUNT: break;
        }
        return false;
}

enum auth_source authorization_source(const struct authorization *a, enum auth_field f)
{
        if ((unsigned)f >= AUTH_F_COUNT)
                return AUTH_SRC_NONE;
        if (a->sources[f] != AUTH_SRC_NONE && a->sources[f] <= AUTH_SRC_AWS)
                return (enum auth_source)a->sources[f];
        if (!field_set(a, f))
                return AUTH_SRC_NONE;
        return a->registered ? AUTH_SRC_REGISTERED : AUTH_SRC_EVENT;
}

/* Appends ",name=source" (no comma first) to buf when the whole pair and a
 * NUL fit in len: false when not (never half a pair). Written by hand, not
 * by snprintf: the store formats this for every authorization it saves. */
static bool put_source_pair(char *buf, size_t len, size_t *used, const char *name,
                            const char *source)
{
        size_t comma = *used ? 1 : 0, n = strlen(name), m = strlen(source);
        char *o = buf + *used;

        if (comma + n + 1 + m >= len - *used)
                return false;
        if (comma)
                *o++ = ',';
        memcpy(o, name, n);
        o[n] = '=';
        memcpy(o + n + 1, source, m);
        o[n + 1 + m] = '\0';
        *used += comma + n + 1 + m;
        return true;
}

void authorization_sources_format(const struct authorization *a, char *buf, size_t len)
{
        size_t used = 0;

        if (len == 0)
                return;
        buf[0] = '\0';
        for (int f = 0; f < AUTH_F_COUNT; f++) {
                if (a->sources[f] == AUTH_SRC_NONE)
                        continue;
                if (!put_source_pair(buf, len, &used, field_names[f],
                                     auth_source_name((enum auth_source)a->sources[f]))) {
                        buf[used] = '\0'; /* never half a pair */
                        return;
                }
        }
}

/* One "field=source" word of length n. */
static void parse_source_pair(struct authorization *a, const char *p, size_t n)
{
        const char *eq = memchr(p, '=', n);

        for (int f = 0; eq && f < AUTH_F_COUNT; f++) {
                if (strlen(field_names[f]) != (size_t)(eq - p) ||
                    strncmp(p, field_names[f], (size_t)(eq - p)) != 0)
                        continue;
                for (int s = AUTH_SRC_EVENT; s <= AUTH_SRC_AWS; s++)
                        if (strlen(source_names[s]) == n - (size_t)(eq - p) - 1 &&
                            strncmp(eq + 1, source_names[s], strlen(source_names[s])) == 0)
                                a->sources[f] = (unsigned char)s;
        }
}

void authorization_sources_parse(struct authorization *a, const char *text)
{
        for (const char *p = text; p && *p;) {
                size_t n = strcspn(p, ",");
                parse_source_pair(a, p, n);
                p += n + (p[n] == ',');
        }
}

const char *link_strength_name(enum link_strength s)
{
        return (unsigned)s <= LINK_EVENT ? link_names[s] : "none";
}

int link_strength_parse(const char *name, enum link_strength *out)
{
        for (int i = LINK_NONE; i <= LINK_EVENT; i++) {
                if (strcmp(name, link_names[i]) == 0) {
                        *out = (enum link_strength)i;
                        return 0;
                }
        }
        return -EINVAL;
}

int str_assign(char **dst, const char *src)
{
        char *copy = NULL;

        if (src && (copy = strdup(src)) == NULL)
                return -ENOMEM;
        free(*dst);
        *dst = copy;
        return 0;
}

/* The record tables (model.h), in the order the store's columns have. */
#define FIELD(rec, member, column, ty)                                                             \
        {                                                                                          \
                .name = column, .type = ty, .offset = offsetof(struct rec, member)                 \
        }
#define PACKED_FIELD(rec, member, column, ty)                                                      \
        {                                                                                          \
                .name = column, .type = ty, .offset = offsetof(struct rec, member), .packed = true \
        }
#define RECORD(rec, list)                                                                          \
        {                                                                                          \
#rec, list, sizeof list / sizeof list[0], sizeof(struct rec)                       \
        }

static const struct field authorization_fields[] = {
        FIELD(authorization, id, "id", FIELD_STR),
        FIELD(authorization, name, "name", FIELD_STR),
        FIELD(authorization, product_id, "product_id", FIELD_STR),
        FIELD(authorization, product_title, "product_title", FIELD_STR),
        FIELD(authorization, reseller_account_id, "reseller_account_id", FIELD_STR),
        FIELD(authorization, reseller_name, "reseller_name", FIELD_STR),
        FIELD(authorization, buyer_company_name, "buyer_company_name", FIELD_STR),
        FIELD(authorization, buyer_account_ids, "buyer_account_ids", FIELD_LIST),
        FIELD(authorization, expires_at, "expires_at", FIELD_STR),
        FIELD(authorization, notify, "notify", FIELD_LIST),
        FIELD(authorization, metadata_json, "metadata", FIELD_STR),
        FIELD(authorization, offer_ids, "offer_ids", FIELD_LIST),
        FIELD(authorization, source_event_key, "source_event_key", FIELD_STR),
        FIELD(authorization, renewal, "renewal", FIELD_BOOL),
        FIELD(authorization, registered, "registered", FIELD_BOOL),
        FIELD(authorization, withdrawn, "withdrawn", FIELD_BOOL),
        FIELD(authorization, updated_at, "updated_at", FIELD_I64),
        FIELD(authorization, aws_status, "aws_status", FIELD_STR),
        FIELD(authorization, aws_modified, "aws_modified", FIELD_I64),
        FIELD(authorization, sources, "sources", FIELD_SOURCES),
};

static const struct field offer_fields[] = {
        FIELD(offer, id, "id", FIELD_STR),
        FIELD(offer, name, "name", FIELD_STR),
        FIELD(offer, expiration, "expiration", FIELD_STR),
        FIELD(offer, product_id, "product_id", FIELD_STR),
        FIELD(offer, product_title, "product_title", FIELD_STR),
        FIELD(offer, manufacturer_account_id, "manufacturer_account_id", FIELD_STR),
        FIELD(offer, manufacturer_name, "manufacturer_name", FIELD_STR),
        FIELD(offer, seller_of_record_account_id, "seller_of_record_account_id", FIELD_STR),
        FIELD(offer, seller_of_record_name, "seller_of_record_name", FIELD_STR),
        FIELD(offer, targeted_buyer_account_ids, "targeted_buyer_account_ids", FIELD_LIST),
        FIELD(offer, authorization_id, "authorization_id", FIELD_STR),
        FIELD(offer, link, "link", FIELD_LINK),
        FIELD(offer, link_event_key, "link_event_key", FIELD_STR),
        FIELD(offer, released_seen, "released_seen", FIELD_BOOL),
        FIELD(offer, late, "late", FIELD_INT),
        FIELD(offer, updated_at, "updated_at", FIELD_I64),
};

static const struct field agreement_fields[] = {
        FIELD(agreement, id, "id", FIELD_STR),
        FIELD(agreement, intent, "intent", FIELD_STR),
        FIELD(agreement, status, "status", FIELD_STR),
        FIELD(agreement, acceptance_time, "acceptance_time", FIELD_STR),
        FIELD(agreement, start_time, "start_time", FIELD_STR),
        FIELD(agreement, end_time, "end_time", FIELD_STR),
        FIELD(agreement, offer_id, "offer_id", FIELD_STR),
        FIELD(agreement, authorization_id, "authorization_id", FIELD_STR),
        FIELD(agreement, acceptor_account_id, "acceptor_account_id", FIELD_STR),
        FIELD(agreement, proposer_account_id, "proposer_account_id", FIELD_STR),
        FIELD(agreement, previous_agreement_id, "previous_agreement_id", FIELD_STR),
        FIELD(agreement, product_id, "product_id", FIELD_STR),
        FIELD(agreement, last_event_time, "last_event_time", FIELD_I64),
        FIELD(agreement, updated_at, "updated_at", FIELD_I64),
};

static const struct field hold_fields[] = {
        FIELD(hold, offer_id, "offer_id", FIELD_STR),
        FIELD(hold, event_key, "event_key", FIELD_STR),
        FIELD(hold, created_at, "created_at", FIELD_I64),
        FIELD(hold, deadline, "deadline", FIELD_I64),
        FIELD(hold, attention_sent, "attention_sent", FIELD_BOOL),
};

static const struct field notification_fields[] = {
        FIELD(notification, kind, "kind", FIELD_STR),
        FIELD(notification, key, "key", FIELD_STR),
        PACKED_FIELD(notification, context_json, "context", FIELD_STR), /* pack.h */
        FIELD(notification, source_event_key, "source_event_key", FIELD_STR),
        FIELD(notification, opportunity_id, "opportunity_id", FIELD_STR),
        FIELD(notification, offer_id, "offer_id", FIELD_STR),
        FIELD(notification, agreement_id, "agreement_id", FIELD_STR),
        FIELD(notification, late, "late", FIELD_BOOL),
        FIELD(notification, registered, "registered", FIELD_BOOL),
        FIELD(notification, created_at, "created_at", FIELD_I64),
};

static const struct field link_change_fields[] = {
        FIELD(link_change, offer_id, "offer_id", FIELD_STR),
        FIELD(link_change, from_authorization_id, "from_authorization_id", FIELD_STR),
        FIELD(link_change, to_authorization_id, "to_authorization_id", FIELD_STR),
        FIELD(link_change, from_link, "from_link", FIELD_LINK),
        FIELD(link_change, to_link, "to_link", FIELD_LINK),
        FIELD(link_change, actor, "actor", FIELD_STR),
        FIELD(link_change, reason, "reason", FIELD_STR),
        FIELD(link_change, event_key, "event_key", FIELD_STR),
        FIELD(link_change, correction_key, "correction_key", FIELD_STR),
        FIELD(link_change, at, "at", FIELD_I64),
};

const struct record_type authorization_record = RECORD(authorization, authorization_fields);
const struct record_type offer_record = RECORD(offer, offer_fields);
const struct record_type agreement_record = RECORD(agreement, agreement_fields);
const struct record_type hold_record = RECORD(hold, hold_fields);
const struct record_type notification_record = RECORD(notification, notification_fields);
const struct record_type link_change_record = RECORD(link_change, link_change_fields);

#undef FIELD
#undef RECORD

size_t field_size(enum field_type type)
{
        switch (type) {
        case FIELD_STR: return sizeof(char *);
        case FIELD_LIST: return sizeof(struct strlist);
        case FIELD_BOOL: return sizeof(bool);
        case FIELD_INT: return sizeof(int);
        case FIELD_I64: return sizeof(int64_t);
        case FIELD_LINK: return sizeof(enum link_strength);
        case FIELD_SOURCES: return AUTH_F_COUNT;
        case FIELD_BLOB: return sizeof(char *) + sizeof(size_t);
        }
        return 0;
}

/* The field's place in a record; void * so no cast claims an alignment the
 * offset already guarantees. */
static void *field_at(void *rec, const struct field *f)
{
        return (char *)rec + f->offset;
}

static const void *field_in(const void *rec, const struct field *f)
{
        return (const char *)rec + f->offset;
}

void record_clear(const struct record_type *t, void *rec)
{
        for (size_t i = 0; i < t->n_fields; i++) {
                const struct field *f = &t->fields[i];
                if (f->type == FIELD_STR || f->type == FIELD_BLOB) {
                        char **s = field_at(rec, f);
                        free(*s);
                } else if (f->type == FIELD_LIST) {
                        strlist_clear(field_at(rec, f));
                }
        }
        memset(rec, 0, t->size);
}

/* A FIELD_BLOB's bytes, NUL-terminated, and its length after them. */
static int blob_copy(void *dst, const void *src)
{
        char *const *from = src;
        const size_t *from_len = (const void *)((const char *)src + sizeof(char *));
        char **to = dst;
        size_t *to_len = (void *)((char *)dst + sizeof(char *));

        if (*from == NULL)
                return 0;
        *to = malloc(*from_len + 1);
        if (*to == NULL)
                return -ENOMEM;
        memcpy(*to, *from, *from_len);
        (*to)[*from_len] = '\0';
        *to_len = *from_len;
        return 0;
}

/* One field into a cleared (zeroed) field of dst; 0 or -ENOMEM. */
static int field_copy(const struct field *f, void *dst, const void *src)
{
        if (f->type == FIELD_STR) {
                char *const *from = field_in(src, f);
                char **to = field_at(dst, f);
                return *from && (*to = strdup(*from)) == NULL ? -ENOMEM : 0;
        }
        if (f->type == FIELD_LIST)
                return strlist_copy(field_at(dst, f), field_in(src, f));
        if (f->type == FIELD_BLOB)
                return blob_copy(field_at(dst, f), field_in(src, f));
        memcpy(field_at(dst, f), field_in(src, f), field_size(f->type));
        return 0;
}

/* Whether dst's string or list field already holds what src's does. */
static bool field_same(const struct field *f, const void *dst, const void *src)
{
        if (f->type == FIELD_STR) {
                const char *const *a = field_in(dst, f), *const *b = field_in(src, f);
                return *a && *b && strcmp(*a, *b) == 0;
        }
        if (f->type == FIELD_LIST) {
                const struct strlist *a = field_in(dst, f), *b = field_in(src, f);
                bool same = a->n == b->n;
                for (size_t i = 0; same && i < a->n; i++)
                        same = strcmp(a->v[i], b->v[i]) == 0;
                return same && a->n > 0;
        }
        return false;
}

/* Frees one field of rec and zeroes it. */
static void field_clear(const struct field *f, void *rec)
{
        if (f->type == FIELD_STR || f->type == FIELD_BLOB)
                free(*(char **)field_at(rec, f));
        else if (f->type == FIELD_LIST)
                strlist_clear(field_at(rec, f));
        memset(field_at(rec, f), 0, field_size(f->type));
}

/* Field by field, keeping the strings and lists dst already holds equal:
 * a batch saves the same records again and again, mostly unchanged, and
 * freeing and duplicating every string each time was most of the cost. */
int record_copy(const struct record_type *t, void *dst, const void *src)
{
        for (size_t i = 0; i < t->n_fields; i++) {
                const struct field *f = &t->fields[i];

                if (field_same(f, dst, src))
                        continue;
                field_clear(f, dst);
                if (field_copy(f, dst, src) < 0) {
                        record_clear(t, dst);
                        return -ENOMEM;
                }
        }
        return 0;
}

void authorization_clear(struct authorization *a)
{
        record_clear(&authorization_record, a);
}

void offer_clear(struct offer *o)
{
        record_clear(&offer_record, o);
}

void agreement_clear(struct agreement *g)
{
        record_clear(&agreement_record, g);
}

void hold_clear(struct hold *h)
{
        record_clear(&hold_record, h);
}

void notification_clear(struct notification *n)
{
        record_clear(&notification_record, n);
}

void link_change_clear(struct link_change *l)
{
        record_clear(&link_change_record, l);
}

int authorization_copy(struct authorization *dst, const struct authorization *src)
{
        return record_copy(&authorization_record, dst, src);
}

int offer_copy(struct offer *dst, const struct offer *src)
{
        return record_copy(&offer_record, dst, src);
}

int agreement_copy(struct agreement *dst, const struct agreement *src)
{
        return record_copy(&agreement_record, dst, src);
}

int hold_copy(struct hold *dst, const struct hold *src)
{
        return record_copy(&hold_record, dst, src);
}

int notification_copy(struct notification *dst, const struct notification *src)
{
        return record_copy(&notification_record, dst, src);
}

int link_change_copy(struct link_change *dst, const struct link_change *src)
{
        return record_copy(&link_change_record, dst, src);
}

void changeset_clear(struct changeset *c)
{
        for (size_t i = 0; i < c->n_authorizations; i++)
                authorization_clear(&c->authorizations[i]);
        for (size_t i = 0; i < c->n_offers; i++)
                offer_clear(&c->offers[i]);
        for (size_t i = 0; i < c->n_agreements; i++)
                agreement_clear(&c->agreements[i]);
        for (size_t i = 0; i < c->n_holds; i++)
                hold_clear(&c->holds[i]);
        for (size_t i = 0; i < c->n_notifications; i++)
                notification_clear(&c->notifications[i]);
        for (size_t i = 0; i < c->n_link_changes; i++)
                link_change_clear(&c->link_changes[i]);
        free(c->link_changes);
        free(c->authorizations);
        free(c->offers);
        free(c->agreements);
        free(c->holds);
        free(c->notifications);
        strlist_clear(&c->released_holds);
        strlist_clear(&c->aws_refresh);
        for (int i = 0; i < CHANGESET_N_KEYED; i++)
                hmap_free(c->where[i]);
        memset(c, 0, sizeof *c);
}

/* The position (index + 1) of the record keyed id in the array `which`,
 * 0 when it is not in the set. */
static size_t where_is(const struct changeset *c, enum changeset_keyed which, const char *id)
{
        return id && c->where[which] ? (size_t)(uintptr_t)hmap_get(c->where[which], id) : 0;
}

/* Records that the record keyed id is at index i of `which`. 0 or -ENOMEM. */
static int put_where(struct changeset *c, enum changeset_keyed which, const char *id, size_t i)
{
        if (c->where[which] == NULL && hmap_new(&c->where[which], NULL) < 0)
                return -ENOMEM;
        return hmap_put(c->where[which], id, (void *)(uintptr_t)(i + 1));
}

/* Whether the record at p (a slot of an array) has key id at key_offset:
 * an index entry of a record whose copy failed (cleared) is not trusted. */
static bool has_key(const char *p, size_t key_offset, const char *id)
{
        const char *have;

        /* memcpy: the record's alignment is not visible through char * */
        memcpy(&have, p + key_offset, sizeof have);
        return have && strcmp(have, id) == 0;
}

/* Room for one more entry in a changeset array of n entries of size
 * bytes: the arrays grow by doubling from 8, so their capacity follows
 * from n (the smallest 8 * 2^k >= n) and needs no field of its own; a
 * release only shortens an array, which keeps that bound. A batch adds
 * thousands of records, and growing by one entry was a realloc and often a
 * copy of the whole array for each. The array (maybe moved), or NULL on
 * ENOMEM (the old one is left as it was). */
static void *room_for_one(void *array, size_t n, size_t size)
{
        size_t cap = 8;

        while (cap < n)
                cap *= 2;
        if (array && n < cap)
                return array;
        if (array)
                cap *= 2;
        return cap > SIZE_MAX / size ? NULL : realloc(array, cap * size);
}

/* Finds the slot for a record keyed by `id` in a typed array: an existing
 * entry with that id, or a new zeroed one at the end. NULL on -ENOMEM. */
static void *slot_for(struct changeset *c, enum changeset_keyed which, void **array, size_t *n,
                      size_t size, size_t key_offset, const char *id)
{
        size_t at = where_is(c, which, id);
        char *grown;

        if (at && at <= *n && has_key((char *)*array + (at - 1) * size, key_offset, id))
                return (char *)*array + (at - 1) * size;
        grown = room_for_one(*array, *n, size);
        if (grown == NULL)
                return NULL;
        *array = grown;
        if (id && put_where(c, which, id, *n) < 0)
                return NULL;
        memset(grown + *n * size, 0, size);
        return grown + (*n)++ * size;
}

/* Adds a deep copy of src under its key; a failed copy leaves a cleared
 * record, which the store skips (its id is NULL) and clear() frees. */
#define CHANGESET_ADD(type, which, arr, n, keyfield, copyfn)                                       \
        do {                                                                                       \
                type *slot = slot_for(c, which, (void **)&c->arr, &c->n, sizeof(type),             \
                                      offsetof(type, keyfield), src->keyfield);                    \
                if (slot == NULL)                                                                  \
                        return -ENOMEM;                                                            \
                return copyfn(slot, src);                                                          \
        } while (0)

int changeset_add_authorization(struct changeset *c, const struct authorization *src)
{
        CHANGESET_ADD(struct authorization, CHANGESET_AUTHORIZATIONS, authorizations,
                      n_authorizations, id, authorization_copy);
}

int changeset_add_offer(struct changeset *c, const struct offer *src)
{
        CHANGESET_ADD(struct offer, CHANGESET_OFFERS, offers, n_offers, id, offer_copy);
}

int changeset_add_agreement(struct changeset *c, const struct agreement *src)
{
        CHANGESET_ADD(struct agreement, CHANGESET_AGREEMENTS, agreements, n_agreements, id,
                      agreement_copy);
}

/* A hold is either upserted or released in one set, never both: the later
 * call wins, so the store needs no ordering rule between the two lists. */
int changeset_add_hold(struct changeset *c, const struct hold *src)
{
        if (src->offer_id)
                strlist_remove(&c->released_holds, src->offer_id);
        CHANGESET_ADD(struct hold, CHANGESET_HOLDS, holds, n_holds, offer_id, hold_copy);
}

int changeset_add_notification(struct changeset *c, const struct notification *src)
{
        CHANGESET_ADD(struct notification, CHANGESET_NOTIFICATIONS, notifications, n_notifications,
                      key, notification_copy);
}

int changeset_add_link_change(struct changeset *c, const struct link_change *src)
{
        struct link_change *v = room_for_one(c->link_changes, c->n_link_changes, sizeof *v);

        if (v == NULL)
                return -ENOMEM;
        c->link_changes = v;
        memset(&v[c->n_link_changes], 0, sizeof *v);
        /* a failed copy leaves a cleared row, which the store skips */
        return link_change_copy(&v[c->n_link_changes++], src);
}

/* The last hold takes the released one's place (and its index entry). */
int changeset_release_hold(struct changeset *c, const char *offer_id)
{
        size_t at = where_is(c, CHANGESET_HOLDS, offer_id);
        int r = 0;

        if (at && at <= c->n_holds &&
            has_key((const char *)&c->holds[at - 1], offsetof(struct hold, offer_id), offer_id)) {
                size_t i = at - 1;
                (void)hmap_del(c->where[CHANGESET_HOLDS], offer_id);
                hold_clear(&c->holds[i]);
                c->holds[i] = c->holds[--c->n_holds];
                memset(&c->holds[c->n_holds], 0, sizeof c->holds[0]);
                if (i < c->n_holds && c->holds[i].offer_id)
                        r = put_where(c, CHANGESET_HOLDS, c->holds[i].offer_id, i);
        }
        return r < 0 ? r : strlist_add_unique(&c->released_holds, offer_id);
}

int changeset_merge(struct changeset *dst, struct changeset *src)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < src->n_authorizations; i++)
                r = changeset_add_authorization(dst, &src->authorizations[i]);
        for (size_t i = 0; r == 0 && i < src->n_offers; i++)
                r = changeset_add_offer(dst, &src->offers[i]);
        for (size_t i = 0; r == 0 && i < src->n_agreements; i++)
                r = changeset_add_agreement(dst, &src->agreements[i]);
        for (size_t i = 0; r == 0 && i < src->n_holds; i++)
                r = changeset_add_hold(dst, &src->holds[i]);
        for (size_t i = 0; r == 0 && i < src->released_holds.n; i++)
                r = changeset_release_hold(dst, src->released_holds.v[i]);
        for (size_t i = 0; r == 0 && i < src->n_notifications; i++)
                r = changeset_add_notification(dst, &src->notifications[i]);
        for (size_t i = 0; r == 0 && i < src->n_link_changes; i++)
                r = changeset_add_link_change(dst, &src->link_changes[i]);
        for (size_t i = 0; r == 0 && i < src->aws_refresh.n; i++)
                r = strlist_add_unique(&dst->aws_refresh, src->aws_refresh.v[i]);
        changeset_clear(src);
        return r;
}
