/* Marketplace Catalog answers: pure parsers, error mapping, rate and retry
 * arithmetic. Nothing here does I/O; the fuzz target drives the parsers. */
#include "cppo/aws.h"

#include "aws_internal.h"
#include "cppo/error.h"
#include "cppo/timefmt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

/* Deeper documents are refused before yajl builds a tree: yajl_tree_free
 * recurses, and no Catalog answer nests this deep. */
#define JSON_DEPTH_MAX 64

/* ------------------------------------------------------------ JSON helpers */

static bool depth_ok(const char *s, size_t len)
{
        size_t depth = 0;
        bool in_str = false;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                if (in_str) {
                        if (ch == '\\')
                                i++;
                        else if (ch == '"')
                                in_str = false;
                } else if (ch == '"') {
                        in_str = true;
                } else if (ch == '{' || ch == '[') {
                        if (++depth > JSON_DEPTH_MAX)
                                return false;
                } else if ((ch == '}' || ch == ']') && depth > 0) {
                        depth--;
                }
        }
        return true;
}

int aws_json_parse(const char *json, size_t len, yajl_val *out, char *err, size_t errlen)
{
        if (json == NULL || len > AWS_RESPONSE_MAX)
                return error_set(err, errlen, -EPROTO, "answer too large or missing");
        if (memchr(json, '\0', len) != NULL || !depth_ok(json, len))
                return error_set(err, errlen, -EPROTO, "answer is not acceptable json");
        char *copy = malloc(len + 1);
        if (copy == NULL)
                return -ENOMEM;
        memcpy(copy, json, len);
        copy[len] = '\0';
        char why[128] = "";
        *out = yajl_tree_parse(copy, why, sizeof why);
        free(copy);
        if (*out == NULL)
                return error_set(err, errlen, -EPROTO, "answer is not json");
        return 0;
}

yajl_val aws_json_get(yajl_val obj, const char *key)
{
        if (!YAJL_IS_OBJECT(obj))
                return NULL;
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (strcmp(obj->u.object.keys[i], key) == 0)
                        return YAJL_IS_NULL(obj->u.object.values[i]) ? NULL
                                                                     : obj->u.object.values[i];
        return NULL;
}

/* Copies an optional string member. Absent: "". Not a string, or longer
 * than the field: -EPROTO naming the member. */
static int take_str(yajl_val obj, const char *key, char *dst, size_t cap, char *err, size_t errlen)
{
        yajl_val v = aws_json_get(obj, key);
        dst[0] = '\0';
        if (v == NULL)
                return 0;
        if (!YAJL_IS_STRING(v))
                return error_set(err, errlen, -EPROTO, "'%s' is not a string", key);
        size_t n = strlen(v->u.string);
        if (n >= cap)
                return error_set(err, errlen, -EPROTO, "'%s' is too long (%zu bytes)", key, n);
        memcpy(dst, v->u.string, n + 1);
        return 0;
}

/* An optional timestamp member; absent: 0. */
static int take_time(yajl_val obj, const char *key, int64_t *out, char *err, size_t errlen)
{
        char tmp[64];
        int rc = take_str(obj, key, tmp, sizeof tmp, err, errlen);
        *out = 0;
        if (rc < 0 || tmp[0] == '\0')
                return rc;
        if (timefmt_parse(tmp, out) < 0)
                return error_set(err, errlen, -EPROTO, "'%s' is not a timestamp", key);
        return 0;
}

/* An optional array member; absent: NULL with 0, not an array: -EPROTO. */
static int take_array(yajl_val obj, const char *key, yajl_val *out, char *err, size_t errlen)
{
        *out = aws_json_get(obj, key);
        if (*out != NULL && !YAJL_IS_ARRAY(*out))
                return error_set(err, errlen, -EPROTO, "'%s' is not an array", key);
        return 0;
}

/* "Offer@1.0" -> "Offer", "id@3" -> "id": the part before '@'. */
static void cut_at(char *s)
{
        char *at = strchr(s, '@');
        if (at != NULL)
                *at = '\0';
}

/* ------------------------------------------------------------ statuses */

static const char *const status_names[] = {
        [AWS_RA_UNKNOWN] = "Unknown",
        [AWS_RA_DRAFT] = "Draft",
        [AWS_RA_ACTIVE] = "Active",
        [AWS_RA_RESTRICTED] = "Restricted",
};

const char *aws_ra_status_name(enum aws_ra_status s)
{
        if ((size_t)s >= sizeof status_names / sizeof status_names[0])
                return status_names[AWS_RA_UNKNOWN];
        return status_names[s];
}

static enum aws_ra_status status_parse(const char *s)
{
        for (size_t i = 1; i < sizeof status_names / sizeof status_names[0]; i++)
                if (strcmp(s, status_names[i]) == 0)
                        return (enum aws_ra_status)i;
        return AWS_RA_UNKNOWN;
}

/* ------------------------------------------------------------ DescribeEntity */

/* The entity's type without its version, checked against `want`. */
static int check_entity_type(yajl_val root, const char *want, char *err, size_t errlen)
{
        char type[AWS_NAME_MAX];
        int rc = take_str(root, "EntityType", type, sizeof type, err, errlen);
        if (rc < 0)
                return rc;
        cut_at(type);
        if (strcmp(type, want) != 0)
                return error_set(err, errlen, -EPROTO, "entity is a '%s', not a %s", type, want);
        return 0;
}

static int details_of(yajl_val root, yajl_val *details, char *err, size_t errlen)
{
        *details = aws_json_get(root, "DetailsDocument");
        if (!YAJL_IS_OBJECT(*details))
                return error_set(err, errlen, -EPROTO, "no DetailsDocument object");
        return 0;
}

/* One member of a DetailsDocument array (a rule or a term) with its Type. */
typedef int (*typed_fn)(yajl_val item, const char *type, struct aws_resale_auth *out, char *err,
                        size_t errlen);

/* Calls fn for each member of details' array `key` (absent: none), in
 * order, until one fails. */
static int each_typed(yajl_val details, const char *key, typed_fn fn, struct aws_resale_auth *out,
                      char *err, size_t errlen)
{
        yajl_val arr;
        int rc = take_array(details, key, &arr, err, errlen);
        for (size_t i = 0; rc == 0 && arr != NULL && i < arr->u.array.len; i++) {
                yajl_val item = arr->u.array.values[i];
                char type[64];
                rc = take_str(item, "Type", type, sizeof type, err, errlen);
                if (rc == 0)
                        rc = fn(item, type, out, err, errlen);
        }
        return rc;
}

/* Rules[]: AvailabilityRule's end date, PartnerTargetingRule's reseller. */
static int on_rule(yajl_val r, const char *type, struct aws_resale_auth *out, char *err,
                   size_t errlen)
{
        int rc = 0;
        if (strcmp(type, "AvailabilityRule") == 0)
                rc = take_time(r, "AvailabilityEndDate", &out->end_date, err, errlen);
        if (strcmp(type, "PartnerTargetingRule") == 0) {
                rc = take_str(r, "ResellerAccountId", out->reseller_account_id,
                              sizeof out->reseller_account_id, err, errlen);
                if (rc == 0)
                        rc = take_str(r, "ResellerLegalName", out->reseller_legal_name,
                                      sizeof out->reseller_legal_name, err, errlen);
        }
        return rc;
}

static int add_buyer(struct aws_resale_auth *out, yajl_val account, char *err, size_t errlen)
{
        char id[AWS_ACCOUNT_MAX];
        int rc = take_str(account, "AwsAccountId", id, sizeof id, err, errlen);
        if (rc < 0 || id[0] == '\0')
                return rc;
        if (out->n_buyers == AWS_BUYERS_MAX) {
                out->buyers_truncated = true;
                return 0;
        }
        memcpy(out->buyers[out->n_buyers++], id, sizeof id);
        return 0;
}

/* Terms[]: BuyerTargetingTerm.PositiveTargeting.BuyerAccounts[].AwsAccountId. */
static int on_term(yajl_val t, const char *type, struct aws_resale_auth *out, char *err,
                   size_t errlen)
{
        yajl_val accounts;
        int rc;
        if (strcmp(type, "BuyerTargetingTerm") != 0)
                return 0;
        rc = take_array(aws_json_get(t, "PositiveTargeting"), "BuyerAccounts", &accounts, err,
                        errlen);
        for (size_t j = 0; rc == 0 && accounts != NULL && j < accounts->u.array.len; j++)
                rc = add_buyer(out, accounts->u.array.values[j], err, errlen);
        return rc;
}

/* The plain string members of a resale authorization, one row each. */
struct str_field {
        const char *key;
        size_t offset;
        size_t cap;
};

#define RA_FIELD(key, member)                                                                      \
        {                                                                                          \
                key, offsetof(struct aws_resale_auth, member),                                     \
                    sizeof(((struct aws_resale_auth *)0)->member)                                  \
        }

static const struct str_field ra_fields[] = {
        RA_FIELD("Name", name),
        RA_FIELD("ProductId", product_id),
        RA_FIELD("ProductName", product_name),
};

static int parse_ra_details(yajl_val details, struct aws_resale_auth *out, char *err, size_t errlen)
{
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < sizeof ra_fields / sizeof ra_fields[0]; i++)
                rc = take_str(details, ra_fields[i].key, (char *)out + ra_fields[i].offset,
                              ra_fields[i].cap, err, errlen);
        char status[32];
        if (rc == 0)
                rc = take_str(details, "Status", status, sizeof status, err, errlen);
        if (rc == 0)
                out->status = status_parse(status);
        if (rc == 0)
                rc = each_typed(details, "Rules", on_rule, out, err, errlen);
        if (rc == 0)
                rc = each_typed(details, "Terms", on_term, out, err, errlen);
        return rc;
}

/* EntityIdentifier is "id@revision"; the id is the part before '@'. */
static int parse_identifier(yajl_val root, char *id, size_t cap, char *err, size_t errlen)
{
        int rc = take_str(root, "EntityIdentifier", id, cap, err, errlen);
        if (rc < 0)
                return rc;
        cut_at(id);
        if (id[0] == '\0')
                return error_set(err, errlen, -EPROTO, "no EntityIdentifier");
        return 0;
}

int aws_parse_resale_authorization(const char *json, size_t len, struct aws_resale_auth *out,
                                   char *err, size_t errlen)
{
        yajl_val root, details;
        memset(out, 0, sizeof *out);
        int rc = aws_json_parse(json, len, &root, err, errlen);
        if (rc < 0)
                return rc;
        rc = check_entity_type(root, "ResaleAuthorization", err, errlen);
        if (rc == 0)
                rc = parse_identifier(root, out->id, sizeof out->id, err, errlen);
        if (rc == 0)
                rc = take_time(root, "LastModifiedDate", &out->last_modified, err, errlen);
        if (rc == 0)
                rc = details_of(root, &details, err, errlen);
        if (rc == 0)
                rc = parse_ra_details(details, out, err, errlen);
        yajl_tree_free(root);
        return rc;
}

int aws_parse_offer(const char *json, size_t len, char *ra_id, size_t ra_len, char *err,
                    size_t errlen)
{
        yajl_val root, details;
        if (ra_len == 0)
                return -EINVAL;
        ra_id[0] = '\0';
        int rc = aws_json_parse(json, len, &root, err, errlen);
        if (rc < 0)
                return rc;
        rc = check_entity_type(root, "Offer", err, errlen);
        if (rc == 0)
                rc = details_of(root, &details, err, errlen);
        if (rc == 0)
                rc = take_str(details, "ResaleAuthorizationId", ra_id, ra_len, err, errlen);
        yajl_tree_free(root);
        if (rc < 0)
                return rc;
        return ra_id[0] != '\0';
}

/* ------------------------------------------------------------ ListEntities */

static int parse_summary(yajl_val s, struct aws_entity_summary *out, char *err, size_t errlen)
{
        if (!YAJL_IS_OBJECT(s))
                return error_set(err, errlen, -EPROTO, "an entity summary is not an object");
        int rc = take_str(s, "EntityId", out->id, sizeof out->id, err, errlen);
        if (rc == 0 && out->id[0] == '\0')
                rc = error_set(err, errlen, -EPROTO, "an entity summary has no EntityId");
        if (rc == 0)
                rc = take_str(s, "Name", out->name, sizeof out->name, err, errlen);
        if (rc == 0)
                rc = take_time(s, "LastModifiedDate", &out->last_modified, err, errlen);
        char status[32] = "";
        yajl_val ra = aws_json_get(s, "ResaleAuthorizationSummary");
        if (rc == 0 && ra != NULL)
                rc = take_str(ra, "Status", status, sizeof status, err, errlen);
        out->status = status_parse(status);
        return rc;
}

int aws_parse_list_page(const char *json, size_t len, struct aws_list_page *out, char *err,
                        size_t errlen)
{
        yajl_val root, list;
        out->n = 0;
        out->next_token[0] = '\0';
        int rc = aws_json_parse(json, len, &root, err, errlen);
        if (rc < 0)
                return rc;
        rc = take_array(root, "EntitySummaryList", &list, err, errlen);
        if (rc == 0 && list != NULL && list->u.array.len > AWS_PAGE_MAX)
                rc = error_set(err, errlen, -E2BIG, "page of %zu entities (cap %d)",
                               list->u.array.len, AWS_PAGE_MAX);
        for (size_t i = 0; rc == 0 && list != NULL && i < list->u.array.len; i++) {
                rc = parse_summary(list->u.array.values[i], &out->items[i], err, errlen);
                out->n = rc == 0 ? i + 1 : out->n;
        }
        if (rc == 0)
                rc = take_str(root, "NextToken", out->next_token, sizeof out->next_token, err,
                              errlen);
        yajl_tree_free(root);
        return rc;
}

/* ------------------------------------------------------------ DescribeChangeSet */

static bool change_seen(const struct aws_change_set *cs, const struct aws_change *c)
{
        for (size_t i = 0; i < cs->n; i++)
                if (strcmp(cs->changes[i].entity_id, c->entity_id) == 0 &&
                    strcmp(cs->changes[i].entity_type, c->entity_type) == 0)
                        return true;
        return false;
}

static int parse_change(yajl_val ch, struct aws_change_set *cs, char *err, size_t errlen)
{
        struct aws_change c;
        yajl_val entity = aws_json_get(ch, "Entity");
        if (!YAJL_IS_OBJECT(entity))
                return error_set(err, errlen, -EPROTO, "a change has no Entity object");
        int rc = take_str(ch, "ChangeType", c.change_type, sizeof c.change_type, err, errlen);
        if (rc == 0)
                rc = take_str(entity, "Type", c.entity_type, sizeof c.entity_type, err, errlen);
        if (rc == 0)
                rc = take_str(entity, "Identifier", c.entity_id, sizeof c.entity_id, err, errlen);
        if (rc < 0)
                return rc;
        cut_at(c.entity_type);
        cut_at(c.entity_id);
        /* A change that creates an entity may fail before it has an id. */
        if (c.entity_id[0] == '\0' || change_seen(cs, &c))
                return 0;
        if (cs->n == AWS_CHANGES_MAX) {
                cs->truncated = true;
                return 0;
        }
        cs->changes[cs->n++] = c;
        return 0;
}

int aws_parse_change_set(const char *json, size_t len, struct aws_change_set *out, char *err,
                         size_t errlen)
{
        yajl_val root, list;
        memset(out, 0, sizeof *out);
        int rc = aws_json_parse(json, len, &root, err, errlen);
        if (rc < 0)
                return rc;
        rc = take_str(root, "ChangeSetId", out->id, sizeof out->id, err, errlen);
        if (rc == 0)
                rc = take_str(root, "Status", out->status, sizeof out->status, err, errlen);
        if (rc == 0)
                rc = take_array(root, "ChangeSet", &list, err, errlen);
        for (size_t i = 0; rc == 0 && list != NULL && i < list->u.array.len; i++)
                rc = parse_change(list->u.array.values[i], out, err, errlen);
        yajl_tree_free(root);
        return rc;
}

/* ------------------------------------------------------------ errors */

static void copy_cut(char *dst, size_t cap, const char *src, size_t n)
{
        if (n >= cap)
                n = cap - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

/* The first of the keys present as a string, or NULL. */
static const char *first_str(yajl_val obj, const char *const *keys)
{
        for (; *keys != NULL; keys++) {
                yajl_val v = aws_json_get(obj, *keys);
                if (YAJL_IS_STRING(v))
                        return v->u.string;
        }
        return NULL;
}

static void error_from_body(const char *body, size_t len, struct aws_error *out)
{
        static const char *const type_keys[] = { "__type", "code", "Code", NULL };
        static const char *const msg_keys[] = { "message", "Message", "errorMessage", NULL };
        yajl_val root;
        if (body == NULL || len == 0 || aws_json_parse(body, len, &root, NULL, 0) < 0)
                return;
        const char *type = first_str(root, type_keys);
        const char *msg = first_str(root, msg_keys);
        if (type != NULL && out->type[0] == '\0') {
                /* "aws.protocoltests#ThrottlingException" -> the shape name */
                const char *hash = strrchr(type, '#');
                type = hash ? hash + 1 : type;
                copy_cut(out->type, sizeof out->type, type, strcspn(type, ":"));
        }
        if (msg != NULL)
                copy_cut(out->message, sizeof out->message, msg, strlen(msg));
        yajl_tree_free(root);
}

void aws_parse_error(long status, const char *errortype_header, const char *body, size_t len,
                     struct aws_error *out)
{
        memset(out, 0, sizeof *out);
        out->http_status = status;
        if (errortype_header != NULL)
                copy_cut(out->type, sizeof out->type, errortype_header,
                         strcspn(errortype_header, ":"));
        error_from_body(body, len, out);
        /* Printable ASCII only: this text ends up in one-line messages. */
        for (char *p = out->message; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
                        *p = ' ';
        for (char *p = out->type; *p; p++)
                if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
                        *p = '?';
}

/* Error types by the errno they mean; the HTTP status decides the rest. */
static const struct {
        const char *type;
        int code;
} error_types[] = {
        { "ResourceNotFoundException", -ENOENT },
        { "AccessDeniedException", -EACCES },
        { "InvalidSignatureException", -EPERM },
        { "SignatureDoesNotMatch", -EPERM },
        { "UnrecognizedClientException", -EPERM },
        { "InvalidClientTokenId", -EPERM },
        { "ExpiredTokenException", -EPERM },
        { "MissingAuthenticationTokenException", -EPERM },
        { "ThrottlingException", -EAGAIN },
        { "TooManyRequestsException", -EAGAIN },
        { "ValidationException", -EINVAL },
        { "ResourceNotSupportedException", -EINVAL },
};

int aws_error_code(const struct aws_error *e)
{
        for (size_t i = 0; i < sizeof error_types / sizeof error_types[0]; i++)
                if (strcmp(e->type, error_types[i].type) == 0)
                        return error_types[i].code;
        if (e->http_status == 0)
                return -EIO;
        if (e->http_status == 429)
                return -EAGAIN;
        if (e->http_status == 404)
                return -ENOENT;
        if (e->http_status == 403)
                return -EACCES;
        if (e->http_status >= 500)
                return -EIO;
        return -EPROTO;
}

bool aws_error_retryable(const struct aws_error *e)
{
        if (e->http_status == 0 || e->http_status == 429 || e->http_status >= 500)
                return true;
        return strcmp(e->type, "ThrottlingException") == 0 ||
               strcmp(e->type, "TooManyRequestsException") == 0;
}

/* ------------------------------------------------------------ rate and retry */

void aws_bucket_init(struct aws_bucket *b, double rate, double burst, int64_t now_ms)
{
        b->rate = rate > 0 ? rate : 1;
        b->burst = burst >= 1 ? burst : 1;
        b->tokens = b->burst;
        b->last_ms = now_ms;
}

int64_t aws_bucket_take(struct aws_bucket *b, int64_t now_ms)
{
        if (now_ms > b->last_ms) {
                b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
                if (b->tokens > b->burst)
                        b->tokens = b->burst;
                b->last_ms = now_ms;
        }
        /* Tokens may go negative: each waiting caller owns one future
         * token, so N callers in a row are spaced 1/rate apart. */
        b->tokens -= 1.0;
        if (b->tokens >= 0)
                return 0;
        return (int64_t)ceil(-b->tokens * 1000.0 / b->rate);
}

int64_t aws_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, double r)
{
        int64_t ceiling = base_ms;
        for (unsigned i = 1; i < attempt && ceiling < cap_ms; i++)
                ceiling *= 2;
        if (ceiling > cap_ms)
                ceiling = cap_ms;
        if (r < 0 || r >= 1)
                r = 0;
        return (int64_t)(r * (double)(ceiling + 1));
}
