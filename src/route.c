/* cppo-notify — routing: EventBridge content filters over the context
 * document, and rule selection. */
#include "cppo/route.h"

#include "cppo/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- shared helpers ---------------------------------------------------- */

static const char *const operators[] = {
    "prefix", "suffix", "wildcard", "equals-ignore-case", "exists", "numeric", "anything-but",
};

static bool is_operator_name(const char *key)
{
        for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++)
                if (strcmp(key, operators[i]) == 0)
                        return true;
        return false;
}

/* A one-key mapping whose key is an operator: {"prefix": "x"}. Outside a
 * list this is the YAML convenience form of [{"prefix": "x"}]. */
static bool is_operator_object(yajl_val v)
{
        return YAJL_IS_OBJECT(v) && v->u.object.len == 1 && is_operator_name(v->u.object.keys[0]);
}

static bool is_scalar(yajl_val v)
{
        return YAJL_IS_STRING(v) || YAJL_IS_NUMBER(v) || YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v) ||
               YAJL_IS_NULL(v);
}

static bool is_bool(yajl_val v)
{
        return YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v);
}

static double num_value(yajl_val v)
{
        if (v->u.number.flags & YAJL_NUMBER_DOUBLE_VALID)
                return v->u.number.d;
        if (v->u.number.flags & YAJL_NUMBER_INT_VALID)
                return (double)v->u.number.i;
        return NAN;
}

/* ---- validation -------------------------------------------------------- */

static const char *type_name(yajl_val v)
{
        if (YAJL_IS_STRING(v))
                return "a string";
        if (YAJL_IS_NUMBER(v))
                return "a number";
        if (is_bool(v))
                return "a boolean";
        if (YAJL_IS_ARRAY(v))
                return "a list";
        if (YAJL_IS_OBJECT(v))
                return "a mapping";
        return "null";
}

static int fail(yajl_val node, yajl_val *where, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(yajl_val node, yajl_val *where, char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;
        if (where != NULL)
                *where = node;
        if (err != NULL && errlen > 0) {
                va_start(ap, fmt);
                vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* `*` matches any run, `\*` is a literal star, `\\` a literal backslash.
 * Like EventBridge, "**" is refused: it means nothing more than "*". */
static int check_wildcard(yajl_val arg, yajl_val *where, char *err, size_t errlen)
{
        const char *s = arg->u.string;
        for (size_t i = 0; s[i] != '\0'; i++) {
                if (s[i] == '\\' && s[i + 1] != '*' && s[i + 1] != '\\')
                        return fail(arg, where, err, errlen,
                                    "wildcard: \"\\\" must be followed by \"*\" or \"\\\"");
                if (s[i] == '\\')
                        i++;
                else if (s[i] == '*' && s[i + 1] == '*')
                        return fail(arg, where, err, errlen,
                                    "wildcard: consecutive \"*\" are not allowed");
        }
        return 0;
}

/* -1 lower bound (> >=), 1 upper bound (< <=), 0 equality, -2 unknown. */
static int comparison_side(const char *op)
{
        if (strcmp(op, ">") == 0 || strcmp(op, ">=") == 0)
                return -1;
        if (strcmp(op, "<") == 0 || strcmp(op, "<=") == 0)
                return 1;
        if (strcmp(op, "=") == 0)
                return 0;
        return -2;
}

/* One (comparison, number) pair at values[0..1]; adds it to the counts. */
static int check_comparison(yajl_val *pair, int count[3], yajl_val *where, char *err, size_t errlen)
{
        int side = YAJL_IS_STRING(pair[0]) ? comparison_side(pair[0]->u.string) : -2;
        if (side == -2 && YAJL_IS_STRING(pair[0]))
                return fail(pair[0], where, err, errlen, "numeric: unknown comparison \"%s\"",
                            pair[0]->u.string);
        if (side == -2)
                return fail(pair[0], where, err, errlen,
                            "numeric: expected a comparison (<, <=, =, >=, >), got %s",
                            type_name(pair[0]));
        if (!YAJL_IS_NUMBER(pair[1]) || !isfinite(num_value(pair[1])))
                return fail(pair[1], where, err, errlen,
                            "numeric: expected a number after \"%s\", got %s", pair[0]->u.string,
                            type_name(pair[1]));
        count[side + 1]++;
        return 0;
}

/* ["=", n] | [op, n] | [lower-op, n, upper-op, m] (either order), non-empty. */
static int check_numeric(yajl_val arg, yajl_val *where, char *err, size_t errlen)
{
        int count[3] = {0, 0, 0}, rc;
        size_t len = YAJL_IS_ARRAY(arg) ? arg->u.array.len : 0;
        if (len != 2 && len != 4)
                return fail(arg, where, err, errlen,
                            "numeric must be a list like [\">\", 0, \"<=\", 5], got %s",
                            YAJL_IS_ARRAY(arg) ? "a list of the wrong length" : type_name(arg));
        for (size_t i = 0; i < len; i += 2)
                if ((rc = check_comparison(&arg->u.array.values[i], count, where, err, errlen)) < 0)
                        return rc;
        if (len == 4 && (count[0] != 1 || count[2] != 1))
                return fail(arg, where, err, errlen,
                            "numeric: a range needs one lower bound (> or >=) and one upper "
                            "bound (< or <=)");
        if (len == 4) {
                yajl_val *v = arg->u.array.values;
                bool lower_first = comparison_side(v[0]->u.string) < 0;
                yajl_val lo = lower_first ? v[1] : v[3], hi = lower_first ? v[3] : v[1];
                const char *lo_op = (lower_first ? v[0] : v[2])->u.string;
                const char *hi_op = (lower_first ? v[2] : v[0])->u.string;
                bool closed = strcmp(lo_op, ">=") == 0 && strcmp(hi_op, "<=") == 0;
                if (num_value(lo) > num_value(hi) || (num_value(lo) == num_value(hi) && !closed))
                        return fail(arg, where, err, errlen, "numeric: the range is empty");
        }
        return 0;
}

static int check_string_arg(const char *op, yajl_val arg, yajl_val *where, char *err, size_t errlen)
{
        if (!YAJL_IS_STRING(arg))
                return fail(arg, where, err, errlen, "%s must be a string, got %s", op,
                            type_name(arg));
        return strcmp(op, "wildcard") == 0 ? check_wildcard(arg, where, err, errlen) : 0;
}

/* A value, a non-empty list of values, or one string operator. */
static int check_anything_but(yajl_val arg, yajl_val *where, char *err, size_t errlen)
{
        static const char *const inner[] = {"prefix", "suffix", "wildcard", "equals-ignore-case"};
        if (is_scalar(arg))
                return 0;
        if (YAJL_IS_ARRAY(arg)) {
                if (arg->u.array.len == 0)
                        return fail(arg, where, err, errlen, "anything-but: empty list");
                for (size_t i = 0; i < arg->u.array.len; i++)
                        if (!is_scalar(arg->u.array.values[i]))
                                return fail(arg->u.array.values[i], where, err, errlen,
                                            "anything-but: a list may hold only strings, "
                                            "numbers, booleans or null, got %s",
                                            type_name(arg->u.array.values[i]));
                return 0;
        }
        for (size_t i = 0; arg->u.object.len == 1 && i < sizeof(inner) / sizeof(inner[0]); i++)
                if (strcmp(arg->u.object.keys[0], inner[i]) == 0)
                        return check_string_arg(inner[i], arg->u.object.values[0], where, err,
                                                errlen);
        return fail(arg, where, err, errlen,
                    "anything-but: expected a value, a list of values or one of prefix, suffix, "
                    "wildcard, equals-ignore-case");
}

static int check_operator(yajl_val op, yajl_val *where, char *err, size_t errlen)
{
        if (op->u.object.len != 1)
                return fail(op, where, err, errlen,
                            "a match operator must have exactly one key, got %zu",
                            op->u.object.len);
        const char *key = op->u.object.keys[0];
        yajl_val arg = op->u.object.values[0];
        if (strcmp(key, "exists") == 0)
                return is_bool(arg) ? 0
                                    : fail(arg, where, err, errlen,
                                           "exists must be true or false, got %s", type_name(arg));
        if (strcmp(key, "numeric") == 0)
                return check_numeric(arg, where, err, errlen);
        if (strcmp(key, "anything-but") == 0)
                return check_anything_but(arg, where, err, errlen);
        if (is_operator_name(key))
                return check_string_arg(key, arg, where, err, errlen);
        return fail(op, where, err, errlen,
                    "unknown match operator \"%s\" (expected prefix, suffix, wildcard, "
                    "equals-ignore-case, exists, numeric or anything-but)",
                    key);
}

static int check_alternative(yajl_val alt, yajl_val *where, char *err, size_t errlen)
{
        if (YAJL_IS_OBJECT(alt))
                return check_operator(alt, where, err, errlen);
        if (YAJL_IS_ARRAY(alt))
                return fail(alt, where, err, errlen, "a list inside a match list is not allowed");
        return 0;
}

static int check_object(yajl_val pattern, yajl_val *where, char *err, size_t errlen);

/* The value under one pattern key: nested pattern, list of alternatives,
 * or a lone alternative (scalar or operator). */
static int check_value(yajl_val v, yajl_val *where, char *err, size_t errlen)
{
        int rc;
        if (is_operator_object(v))
                return check_operator(v, where, err, errlen);
        if (YAJL_IS_OBJECT(v))
                return check_object(v, where, err, errlen);
        if (!YAJL_IS_ARRAY(v))
                return 0;
        if (v->u.array.len == 0)
                return fail(v, where, err, errlen, "empty list in match");
        for (size_t i = 0; i < v->u.array.len; i++)
                if ((rc = check_alternative(v->u.array.values[i], where, err, errlen)) < 0)
                        return rc;
        return 0;
}

static int check_object(yajl_val pattern, yajl_val *where, char *err, size_t errlen)
{
        int rc;
        if (pattern->u.object.len == 0)
                return fail(pattern, where, err, errlen, "empty mapping in match");
        for (size_t i = 0; i < pattern->u.object.len; i++) {
                /* {prefix: a, suffix: b} is a mistake, not two document keys. */
                if (is_operator_name(pattern->u.object.keys[i]) && pattern->u.object.len > 1)
                        return fail(pattern, where, err, errlen,
                                    "operator \"%s\" must be alone in its mapping",
                                    pattern->u.object.keys[i]);
                if ((rc = check_value(pattern->u.object.values[i], where, err, errlen)) < 0)
                        return rc;
        }
        return 0;
}

int route_validate(yajl_val pattern, yajl_val *where, char *err, size_t errlen)
{
        if (where != NULL)
                *where = NULL;
        if (!YAJL_IS_OBJECT(pattern))
                return fail(pattern, where, err, errlen,
                            "a match pattern must be a mapping, got %s", type_name(pattern));
        if (is_operator_object(pattern))
                return fail(pattern, where, err, errlen,
                            "operator \"%s\" needs a document key above it",
                            pattern->u.object.keys[0]);
        return check_object(pattern, where, err, errlen);
}

/* ---- matching ---------------------------------------------------------- */

/* Integers compare exactly (account-sized values exceed a double's 53
 * bits); anything written with a fraction or exponent compares as double. */
static bool is_integer(yajl_val v)
{
        return (v->u.number.flags & YAJL_NUMBER_INT_VALID) && v->u.number.r != NULL &&
               strpbrk(v->u.number.r, ".eE") == NULL;
}

static bool scalar_equal(yajl_val a, yajl_val b)
{
        if (YAJL_IS_STRING(a) && YAJL_IS_STRING(b))
                return strcmp(a->u.string, b->u.string) == 0;
        if (YAJL_IS_NUMBER(a) && YAJL_IS_NUMBER(b)) {
                if (is_integer(a) && is_integer(b))
                        return YAJL_GET_INTEGER(a) == YAJL_GET_INTEGER(b);
                return num_value(a) == num_value(b);
        }
        return (YAJL_IS_TRUE(a) && YAJL_IS_TRUE(b)) || (YAJL_IS_FALSE(a) && YAJL_IS_FALSE(b)) ||
               (YAJL_IS_NULL(a) && YAJL_IS_NULL(b));
}

/* Greedy glob with one backtrack point: linear for a single star, at most
 * O(len(p) * len(s)) otherwise. Byte-wise, which is exact for UTF-8. */
static bool wildcard_match(const char *p, const char *s)
{
        const char *star_p = NULL, *star_s = NULL;
        while (*s != '\0') {
                if (*p == '*') {
                        star_p = ++p;
                        star_s = s;
                        continue;
                }
                bool esc = p[0] == '\\' && p[1] != '\0';
                if (*p != '\0' && p[esc ? 1 : 0] == *s) {
                        p += esc ? 2 : 1;
                        s++;
                } else if (star_p != NULL) {
                        p = star_p;
                        s = ++star_s;
                } else {
                        return false;
                }
        }
        while (*p == '*')
                p++;
        return *p == '\0';
}

/* ASCII-only case folding: other bytes (UTF-8) must be equal as they are. */
static bool equals_ignore_case(const char *a, const char *b)
{
        for (;; a++, b++) {
                unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
                if (x >= 'A' && x <= 'Z')
                        x = (unsigned char)(x + 32);
                if (y >= 'A' && y <= 'Z')
                        y = (unsigned char)(y + 32);
                if (x != y)
                        return false;
                if (x == '\0')
                        return true;
        }
}

static bool has_prefix(const char *s, const char *p)
{
        return strncmp(s, p, strlen(p)) == 0;
}

static bool has_suffix(const char *s, const char *p)
{
        size_t n = strlen(s), m = strlen(p);
        return n >= m && memcmp(s + n - m, p, m) == 0;
}

static bool compare(const char *op, double x, double bound)
{
        if (strcmp(op, ">") == 0)
                return x > bound;
        if (strcmp(op, ">=") == 0)
                return x >= bound;
        if (strcmp(op, "<") == 0)
                return x < bound;
        if (strcmp(op, "<=") == 0)
                return x <= bound;
        return strcmp(op, "=") == 0 && x == bound;
}

static bool numeric_match(yajl_val arg, double x)
{
        if (!YAJL_IS_ARRAY(arg) || isnan(x))
                return false;
        for (size_t i = 0; i + 1 < arg->u.array.len; i += 2) {
                yajl_val op = arg->u.array.values[i], bound = arg->u.array.values[i + 1];
                if (!YAJL_IS_STRING(op) || !YAJL_IS_NUMBER(bound) ||
                    !compare(op->u.string, x, num_value(bound)))
                        return false;
        }
        return true;
}

static bool string_operator(const char *key, yajl_val arg, yajl_val v)
{
        if (!YAJL_IS_STRING(v) || !YAJL_IS_STRING(arg))
                return false;
        const char *s = v->u.string, *a = arg->u.string;
        if (strcmp(key, "prefix") == 0)
                return has_prefix(s, a);
        if (strcmp(key, "suffix") == 0)
                return has_suffix(s, a);
        if (strcmp(key, "wildcard") == 0)
                return wildcard_match(a, s);
        return strcmp(key, "equals-ignore-case") == 0 && equals_ignore_case(s, a);
}

static bool alternative_on_scalar(yajl_val alt, yajl_val v);

/* anything-but: a present leaf that its argument does not match. */
static bool anything_but(yajl_val arg, yajl_val v)
{
        if (YAJL_IS_ARRAY(arg)) {
                for (size_t i = 0; i < arg->u.array.len; i++)
                        if (scalar_equal(arg->u.array.values[i], v))
                                return false;
                return true;
        }
        return !alternative_on_scalar(arg, v);
}

/* One alternative against one scalar document value. */
static bool alternative_on_scalar(yajl_val alt, yajl_val v)
{
        if (!YAJL_IS_OBJECT(alt))
                return scalar_equal(alt, v);
        if (alt->u.object.len != 1)
                return false;
        const char *key = alt->u.object.keys[0];
        yajl_val arg = alt->u.object.values[0];
        if (strcmp(key, "numeric") == 0)
                return YAJL_IS_NUMBER(v) && numeric_match(arg, num_value(v));
        if (strcmp(key, "anything-but") == 0)
                return anything_but(arg, v);
        return string_operator(key, arg, v);
}

enum presence { ABSENT, PRESENT, NOT_LEAF };

/* Whether a document value counts as a present leaf for `exists`: absent
 * key or empty list = absent; scalar (null too) = present; a list is
 * present when any element is; an object is not a leaf at all. */
static enum presence presence(yajl_val v)
{
        enum presence all = ABSENT;
        if (v == NULL)
                return ABSENT;
        if (YAJL_IS_OBJECT(v))
                return NOT_LEAF;
        if (!YAJL_IS_ARRAY(v))
                return PRESENT;
        for (size_t i = 0; i < v->u.array.len; i++) {
                enum presence p = presence(v->u.array.values[i]);
                if (p == PRESENT)
                        return PRESENT;
                if (p == NOT_LEAF)
                        all = NOT_LEAF;
        }
        return all;
}

/* One alternative against a document value; lists match by any element. */
static bool alternative_matches(yajl_val alt, yajl_val v)
{
        if (YAJL_IS_OBJECT(alt) && alt->u.object.len == 1 &&
            strcmp(alt->u.object.keys[0], "exists") == 0)
                return presence(v) == (YAJL_IS_TRUE(alt->u.object.values[0]) ? PRESENT : ABSENT);
        if (v == NULL || YAJL_IS_OBJECT(v))
                return false;
        if (!YAJL_IS_ARRAY(v))
                return alternative_on_scalar(alt, v);
        for (size_t i = 0; i < v->u.array.len; i++)
                if (alternative_matches(alt, v->u.array.values[i]))
                        return true;
        return false;
}

static bool leaf_matches(yajl_val leaf, yajl_val v)
{
        if (!YAJL_IS_ARRAY(leaf))
                return alternative_matches(leaf, v);
        for (size_t i = 0; i < leaf->u.array.len; i++)
                if (alternative_matches(leaf->u.array.values[i], v))
                        return true;
        return false;
}

static yajl_val member(yajl_val obj, const char *key)
{
        if (!YAJL_IS_OBJECT(obj))
                return NULL;
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (strcmp(obj->u.object.keys[i], key) == 0)
                        return obj->u.object.values[i];
        return NULL;
}

static bool object_matches(yajl_val pattern, yajl_val doc);

/* A nested pattern against a list matches when any element does (the keys
 * of one element, as EventBridge keeps array elements apart); against a
 * scalar or nothing, its keys are all absent. */
static bool value_matches(yajl_val pv, yajl_val dv)
{
        if (!YAJL_IS_OBJECT(pv) || is_operator_object(pv))
                return leaf_matches(pv, dv);
        if (!YAJL_IS_ARRAY(dv) || dv->u.array.len == 0)
                return object_matches(pv, YAJL_IS_OBJECT(dv) ? dv : NULL);
        for (size_t i = 0; i < dv->u.array.len; i++)
                if (value_matches(pv, dv->u.array.values[i]))
                        return true;
        return false;
}

static bool object_matches(yajl_val pattern, yajl_val doc)
{
        for (size_t i = 0; i < pattern->u.object.len; i++)
                if (!value_matches(pattern->u.object.values[i],
                                   member(doc, pattern->u.object.keys[i])))
                        return false;
        return true;
}

bool route_match(yajl_val pattern, yajl_val doc)
{
        if (!YAJL_IS_OBJECT(pattern) || pattern->u.object.len == 0)
                return false;
        return object_matches(pattern, doc);
}

/* ---- selection --------------------------------------------------------- */

static bool has_receiver(const struct route_targets *out, const struct config_receiver *r)
{
        for (size_t i = 0; i < out->count; i++)
                if (out->items[i].receiver == r)
                        return true;
        return false;
}

static void add_rule(const struct config *cfg, const struct config_rule *rule,
                     struct route_targets *out)
{
        if (out->rules_matched < ROUTE_MAX_TARGETS)
                out->matched[out->rules_matched++] = rule->name;
        for (size_t i = 0; i < rule->receivers.count; i++) {
                const struct config_receiver *r = config_receiver(cfg, rule->receivers.items[i]);
                if (r == NULL || has_receiver(out, r) || out->count >= ROUTE_MAX_TARGETS)
                        continue;
                out->items[out->count].rule = rule;
                out->items[out->count].receiver = r;
                out->count++;
        }
}

void route_select(const struct config *cfg, yajl_val doc, struct route_targets *out)
{
        memset(out, 0, sizeof(*out));
        for (size_t i = 0; cfg != NULL && i < cfg->rule_count; i++) {
                const struct config_rule *rule = &cfg->rules[i];
                if (!route_match(rule->match, doc))
                        continue;
                add_rule(cfg, rule, out);
                if (!rule->cont)
                        break;
        }
}
