/* cppo-notify — EventBridge content filters over JSON values (see pattern.h):
 * validation at config load, matching at routing. */
#include "cppo/pattern.h"

#include "cppo/error.h"
#include "cppo/utf8.h"

#include "casefold.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- shared helpers ---------------------------------------------------- */

static const char *const operators[] = {
        "prefix", "suffix",  "wildcard",     "equals-ignore-case",
        "exists", "numeric", "anything-but", "cidr",
};

/* EventBridge's keyword for alternatives: {"$or": [pattern, pattern, ...]}. */
static const char or_key[] = "$or";

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

/* ---- IP addresses and CIDR blocks (as event-ruler reads them) ----------- */

/* IPv4 text: four dot-separated runs of decimal digits, each at most 255;
 * like Java's InetAddress, leading zeros are decimal ("010" is 10). */
static bool ipv4_parse(const char *s, unsigned char out[4])
{
        for (int part = 0; part < 4; part++) {
                unsigned value = 0;
                size_t digits = 0;
                for (; *s >= '0' && *s <= '9'; s++, digits++)
                        if ((value = value * 10 + (unsigned)(*s - '0')) > 255)
                                return false;
                if (digits == 0 || *s != (part < 3 ? '.' : '\0'))
                        return false;
                out[part] = (unsigned char)value;
                s += part < 3 ? 1 : 0;
        }
        return true;
}

/* One IPv6 group: hex digits worth at most 0xffff (leading zeros allowed,
 * as Java does); returns the characters read, 0 if none or too large. */
static size_t ipv6_group(const char *s, unsigned *value)
{
        size_t n = 0;
        *value = 0;
        for (; s[n] != '\0' && strchr("0123456789abcdefABCDEF", s[n]) != NULL; n++) {
                unsigned d = (unsigned)(s[n] <= '9' ? s[n] - '0' : (s[n] | 0x20) - 'a' + 10);
                if ((*value = *value * 16 + d) > 0xffff)
                        return 0;
        }
        return n;
}

/* IPv6 text: hex groups and colons, at most one "::" (no dotted tail, no
 * zone: event-ruler's pattern for an address admits neither). */
static bool ipv6_parse(const char *s, unsigned char out[16])
{
        unsigned groups[8], value;
        int count = 0, gap = -1;
        if (s[0] == ':' && s[1] == ':') {
                gap = 0;
                s += 2;
        } else if (s[0] == ':') {
                return false;
        }
        while (*s != '\0') {
                size_t n = ipv6_group(s, &value);
                if (n == 0 || count == 8)
                        return false;
                groups[count++] = value;
                s += n;
                if (s[0] == ':' && s[1] == ':' && gap < 0) {
                        gap = count;
                        s += 2;
                } else if (s[0] == ':' && s[1] != '\0' && s[1] != ':') {
                        s++;
                } else if (s[0] != '\0') {
                        return false;
                }
        }
        if ((gap < 0 && count != 8) || (gap >= 0 && count > 7))
                return false;
        memset(out, 0, 16);
        for (int i = 0; i < count; i++) {
                int at = gap >= 0 && i >= gap ? 8 - count + i : i;
                out[2 * at] = (unsigned char)(groups[i] >> 8);
                out[2 * at + 1] = (unsigned char)groups[i];
        }
        return true;
}

/* The address bytes of s (4 or 16), or 0 when s is not an IP address.
 * An IPv4-mapped IPv6 address (::ffff:a00:1) is its IPv4 address, as in
 * Java, so it falls in IPv4 blocks. */
static size_t ip_parse(const char *s, unsigned char out[16])
{
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (strlen(s) > 64)
                return 0;
        if (ipv4_parse(s, out))
                return 4;
        if (strchr(s, ':') == NULL || !ipv6_parse(s, out))
                return 0;
        if (memcmp(out, mapped, sizeof(mapped)) != 0)
                return 16;
        memmove(out, out + 12, 4);
        return 4;
}

struct cidr {
        size_t len; /* 4 or 16 */
        unsigned char low[16], high[16];
};

/* "address/bits"; NULL on success, else what is wrong. Bits must be below
 * the address width (event-ruler: "< 32", "< 128"); host bits are cleared. */
static const char *cidr_parse(const char *text, struct cidr *out)
{
        char addr[72];
        const char *slash = strchr(text, '/');
        unsigned bits = 0;
        size_t n = slash != NULL ? (size_t)(slash - text) : 0;
        if (slash == NULL || strchr(slash + 1, '/') != NULL)
                return "one \"/\" required";
        if (n >= sizeof(addr))
                return "not an IP address before \"/\"";
        memcpy(addr, text, n);
        addr[n] = '\0';
        if ((out->len = ip_parse(addr, out->low)) == 0)
                return "not an IP address before \"/\"";
        if (slash[1] == '\0' || strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
            strlen(slash + 1) > 3)
                return "the mask bits must be a whole number";
        for (const char *d = slash + 1; *d != '\0'; d++)
                bits = bits * 10 + (unsigned)(*d - '0');
        if (bits >= out->len * 8)
                return out->len == 4 ? "IPv4 mask bits must be < 32"
                                     : "IPv6 mask bits must be < 128";
        for (size_t i = 0; i < out->len; i++) {
                unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * (unsigned)i : 0;
                unsigned char mask = (unsigned char)(0xff00u >> keep);
                out->low[i] = (unsigned char)(out->low[i] & mask);
                out->high[i] = (unsigned char)(out->low[i] | (unsigned char)~mask);
        }
        return NULL;
}

static bool cidr_contains(const char *cidr_text, const char *value)
{
        struct cidr c;
        unsigned char ip[16];
        return cidr_parse(cidr_text, &c) == NULL && ip_parse(value, ip) == c.len &&
               memcmp(ip, c.low, c.len) >= 0 && memcmp(ip, c.high, c.len) <= 0;
}

/* ---- equals-ignore-case (Unicode, as event-ruler) ---------------------- */

/* One character at s (NUL-terminated): its length and code point; a byte
 * that starts no well-formed character is a character of its own (cp -1). */
static size_t char_at(const char *s, long *cp)
{
        uint32_t v;
        size_t n = utf8_char(s, strnlen(s, 4), &v);

        *cp = n > 0 ? (long)v : -1;
        return n > 0 ? n : 1;
}

/* A case-fold row's form (up to three code points, 0-terminated) as UTF-8
 * in out (room for 3 characters of 3 bytes: the rows stop at U+FFFF). */
static size_t form_put(const uint16_t *cps, char *out)
{
        size_t n = 0;

        for (size_t i = 0; i < 3 && cps[i] != 0; i++) {
                char c[4];
                size_t len = utf8_encode(cps[i], c);

                memcpy(out + n, c, len);
                n += len;
        }
        return n;
}

static const struct casefold_row *casefold_find(long cp)
{
        size_t lo = 0, hi = CASEFOLD_ROWS;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (casefold_rows[mid].cp == cp)
                        return &casefold_rows[mid];
                if (casefold_rows[mid].cp < cp)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/* The byte sequences a pattern character accepts: its lower- and
 * upper-case forms when it has any (not the character itself: event-ruler
 * builds exactly {lower(c), upper(c)}), else the character's own bytes.
 * Characters beyond the BMP keep their bytes (event-ruler splits them into
 * UTF-16 halves, which no UTF-8 value can match; matching them as written
 * is the useful reading). */
struct variants {
        char bytes[2][12];
        size_t len[2];
        int count;
};

/* The character is p[0..n), code point cp (-1: a stray byte). */
static void case_variants(const char *p, size_t n, long cp, struct variants *v)
{
        const struct casefold_row *row = cp >= 0 && cp < 0x10000 ? casefold_find(cp) : NULL;
        if (row == NULL) {
                memcpy(v->bytes[0], p, n);
                v->len[0] = n;
                v->count = 1;
                return;
        }
        v->len[0] = form_put(row->lower, v->bytes[0]);
        v->len[1] = form_put(row->upper, v->bytes[1]);
        v->count = v->len[0] == v->len[1] && memcmp(v->bytes[0], v->bytes[1], v->len[0]) == 0 ? 1
                                                                                              : 2;
}

/* Consumes pattern p's characters from the start of s; the rest of s, or
 * NULL. One pass: no row's two forms are prefixes of each other (the
 * generator checks), so at most one form fits at any position. */
static const char *ignore_case_consume(const char *p, const char *s)
{
        struct variants v;
        long cp;
        while (*p != '\0') {
                size_t n = char_at(p, &cp);
                case_variants(p, n, cp, &v);
                p += n;
                int hit = -1;
                for (int i = 0; i < v.count && hit < 0; i++)
                        if (strncmp(s, v.bytes[i], v.len[i]) == 0)
                                hit = i;
                if (hit < 0)
                        return NULL;
                s += v.len[hit];
        }
        return s;
}

static bool ignore_case_equal(const char *p, const char *s)
{
        const char *rest = ignore_case_consume(p, s);
        return rest != NULL && *rest == '\0';
}

/* Suffix: the pattern's characters from its end against the value's end
 * (no row's forms are suffixes of each other either). */
static bool ignore_case_suffix(const char *p, const char *s)
{
        const char *pe = p + strlen(p), *se = s + strlen(s);
        struct variants v;
        while (pe > p) {
                const char *c = pe - 1;
                long cp;
                while (c > p && pe - c < 4 && utf8_is_continuation((unsigned char)*c))
                        c--;
                if (char_at(c, &cp) != (size_t)(pe - c)) {
                        c = pe - 1;
                        cp = -1;
                }
                case_variants(c, (size_t)(pe - c), cp, &v);
                pe = c;
                int hit = -1;
                for (int i = 0; i < v.count && hit < 0; i++)
                        if ((size_t)(se - s) >= v.len[i] &&
                            memcmp(se - v.len[i], v.bytes[i], v.len[i]) == 0)
                                hit = i;
                if (hit < 0)
                        return false;
                se -= v.len[hit];
        }
        return true;
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
        int count[3] = { 0, 0, 0 }, rc;
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

/* prefix and suffix: a string, or {"equals-ignore-case": string}. */
static int check_affix(const char *op, yajl_val arg, yajl_val *where, char *err, size_t errlen)
{
        if (YAJL_IS_STRING(arg))
                return 0;
        if (!YAJL_IS_OBJECT(arg) || arg->u.object.len != 1)
                return fail(arg, where, err, errlen,
                            "%s must be a string or {equals-ignore-case: string}, got %s", op,
                            type_name(arg));
        if (strcmp(arg->u.object.keys[0], "equals-ignore-case") != 0)
                return fail(arg, where, err, errlen,
                            "%s: only equals-ignore-case may be nested in it, got \"%s\"", op,
                            arg->u.object.keys[0]);
        yajl_val text = arg->u.object.values[0];
        return YAJL_IS_STRING(text)
                   ? 0
                   : fail(text, where, err, errlen,
                          "%s: equals-ignore-case must be a string, got %s", op, type_name(text));
}

static int check_cidr(yajl_val arg, yajl_val *where, char *err, size_t errlen)
{
        struct cidr block;
        if (!YAJL_IS_STRING(arg))
                return fail(arg, where, err, errlen, "cidr must be a string, got %s",
                            type_name(arg));
        const char *why = cidr_parse(arg->u.string, &block);
        return why == NULL
                   ? 0
                   : fail(arg, where, err, errlen, "cidr: \"%.64s\": %s", arg->u.string, why);
}

static int check_string_arg(const char *op, yajl_val arg, yajl_val *where, char *err, size_t errlen)
{
        if (strcmp(op, "prefix") == 0 || strcmp(op, "suffix") == 0)
                return check_affix(op, arg, where, err, errlen);
        if (strcmp(op, "cidr") == 0)
                return check_cidr(arg, where, err, errlen);
        if (!YAJL_IS_STRING(arg))
                return fail(arg, where, err, errlen, "%s must be a string, got %s", op,
                            type_name(arg));
        return strcmp(op, "wildcard") == 0 ? check_wildcard(arg, where, err, errlen) : 0;
}

/* Strings or numbers, not both, not empty (event-ruler refuses a mixed
 * list, and null or booleans, inside anything-but). */
static int check_anything_but_list(yajl_val arg, yajl_val *where, char *err, size_t errlen)
{
        size_t strings = 0, numbers = 0;
        if (arg->u.array.len == 0)
                return fail(arg, where, err, errlen, "anything-but: empty list");
        for (size_t i = 0; i < arg->u.array.len; i++) {
                yajl_val v = arg->u.array.values[i];
                if (!YAJL_IS_STRING(v) && !YAJL_IS_NUMBER(v))
                        return fail(v, where, err, errlen,
                                    "anything-but: a list may hold only strings or only numbers, "
                                    "got %s",
                                    type_name(v));
                strings += YAJL_IS_STRING(v) ? 1 : 0;
                numbers += YAJL_IS_NUMBER(v) ? 1 : 0;
        }
        if (strings > 0 && numbers > 0)
                return fail(
                    arg, where, err, errlen,
                    "anything-but: a list must hold only strings or only numbers, not both");
        return 0;
}

/* anything-but's prefix, suffix, wildcard or equals-ignore-case: a string
 * or a non-empty list of strings; an empty prefix or suffix excludes
 * everything, so event-ruler refuses it. */
static int check_anything_but_op(const char *op, yajl_val arg, yajl_val *where, char *err,
                                 size_t errlen)
{
        bool list = YAJL_IS_ARRAY(arg);
        size_t n = list ? arg->u.array.len : 1;
        if (list && n == 0)
                return fail(arg, where, err, errlen, "anything-but: %s: empty list", op);
        for (size_t i = 0; i < n; i++) {
                yajl_val v = list ? arg->u.array.values[i] : arg;
                if (!YAJL_IS_STRING(v))
                        return fail(
                            v, where, err, errlen,
                            "anything-but: %s must be a string or a list of strings, got %s", op,
                            type_name(v));
                if (v->u.string[0] == '\0' && strcmp(op, "wildcard") != 0 &&
                    strcmp(op, "equals-ignore-case") != 0)
                        return fail(v, where, err, errlen,
                                    "anything-but: an empty %s is not allowed", op);
                if (strcmp(op, "wildcard") == 0 && check_wildcard(v, where, err, errlen) < 0)
                        return -EINVAL;
        }
        return 0;
}

/* A string, a number, a list of either, or one string operator. */
static int check_anything_but(yajl_val arg, yajl_val *where, char *err, size_t errlen)
{
        static const char *const inner[] = { "prefix", "suffix", "wildcard", "equals-ignore-case" };
        if (YAJL_IS_STRING(arg) || YAJL_IS_NUMBER(arg))
                return 0;
        if (YAJL_IS_ARRAY(arg))
                return check_anything_but_list(arg, where, err, errlen);
        for (size_t i = 0;
             YAJL_IS_OBJECT(arg) && arg->u.object.len == 1 && i < sizeof(inner) / sizeof(inner[0]);
             i++)
                if (strcmp(arg->u.object.keys[0], inner[i]) == 0)
                        return check_anything_but_op(inner[i], arg->u.object.values[0], where, err,
                                                     errlen);
        return fail(arg, where, err, errlen,
                    "anything-but: expected a string, a number, a list of strings or of numbers, "
                    "or one of prefix, suffix, wildcard, equals-ignore-case; got %s",
                    type_name(arg));
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
                    "equals-ignore-case, exists, numeric, anything-but or cidr)",
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

/* A whole pattern: the match itself, or one alternative of a $or. */
static int check_pattern(yajl_val pattern, yajl_val *where, char *err, size_t errlen)
{
        if (!YAJL_IS_OBJECT(pattern))
                return fail(pattern, where, err, errlen,
                            "a match pattern must be a mapping, got %s", type_name(pattern));
        if (is_operator_object(pattern))
                return fail(pattern, where, err, errlen,
                            "operator \"%s\" needs a document key above it",
                            pattern->u.object.keys[0]);
        return check_object(pattern, where, err, errlen);
}

/* $or: a list of at least two patterns (event-ruler: "There must have at
 * least 2 Objects"); "$or" is never a document key. */
static int check_or(yajl_val v, yajl_val *where, char *err, size_t errlen)
{
        int rc;
        if (!YAJL_IS_ARRAY(v))
                return fail(v, where, err, errlen,
                            "$or must be a list of at least 2 patterns (mappings), got %s",
                            type_name(v));
        if (v->u.array.len < 2)
                return fail(v, where, err, errlen, "$or needs at least 2 patterns, got %zu",
                            v->u.array.len);
        for (size_t i = 0; i < v->u.array.len; i++) {
                yajl_val alt = v->u.array.values[i];
                if (!YAJL_IS_OBJECT(alt))
                        return fail(alt, where, err, errlen,
                                    "$or: each alternative must be a pattern (a mapping), got %s",
                                    type_name(alt));
                if ((rc = check_pattern(alt, where, err, errlen)) < 0)
                        return rc;
        }
        return 0;
}

static int check_object(yajl_val pattern, yajl_val *where, char *err, size_t errlen)
{
        int rc;
        if (pattern->u.object.len == 0)
                return fail(pattern, where, err, errlen, "empty mapping in match");
        for (size_t i = 0; i < pattern->u.object.len; i++) {
                const char *key = pattern->u.object.keys[i];
                yajl_val v = pattern->u.object.values[i];
                /* {prefix: a, suffix: b} is a mistake, not two document keys. */
                if (is_operator_name(key) && pattern->u.object.len > 1)
                        return fail(pattern, where, err, errlen,
                                    "operator \"%s\" must be alone in its mapping", key);
                rc = strcmp(key, or_key) == 0 ? check_or(v, where, err, errlen)
                                              : check_value(v, where, err, errlen);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

int pattern_validate(yajl_val pattern, yajl_val *where, char *err, size_t errlen)
{
        if (where != NULL)
                *where = NULL;
        return check_pattern(pattern, where, err, errlen);
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

/* event-ruler compares a string literal that is an IP address as an
 * address: "::1" matches "0:0:0:0:0:0:0:1", "10.0.0.1" matches "010.0.0.1". */
static bool same_address(yajl_val a, yajl_val b)
{
        unsigned char x[16], y[16];
        size_t n;
        return YAJL_IS_STRING(a) && YAJL_IS_STRING(b) && (n = ip_parse(a->u.string, x)) != 0 &&
               ip_parse(b->u.string, y) == n && memcmp(x, y, n) == 0;
}

/* prefix and suffix take a string or {"equals-ignore-case": string}. */
static const char *affix_text(yajl_val arg, bool *ignore_case)
{
        *ignore_case = YAJL_IS_OBJECT(arg) && arg->u.object.len == 1;
        if (*ignore_case)
                arg = arg->u.object.values[0];
        return YAJL_IS_STRING(arg) ? arg->u.string : NULL;
}

static bool string_operator(const char *key, yajl_val arg, yajl_val v)
{
        bool folded;
        const char *a = affix_text(arg, &folded);
        if (!YAJL_IS_STRING(v) || a == NULL)
                return false;
        const char *s = v->u.string;
        if (strcmp(key, "prefix") == 0)
                return folded ? ignore_case_consume(a, s) != NULL : has_prefix(s, a);
        if (strcmp(key, "suffix") == 0)
                return folded ? ignore_case_suffix(a, s) : has_suffix(s, a);
        if (strcmp(key, "wildcard") == 0)
                return wildcard_match(a, s);
        if (strcmp(key, "cidr") == 0)
                return cidr_contains(a, s);
        return strcmp(key, "equals-ignore-case") == 0 && ignore_case_equal(a, s);
}

/* anything-but: a present leaf its argument does not match. A list
 * compares by value; a string operator's list excludes each of its
 * strings. */
static bool anything_but(yajl_val arg, yajl_val v)
{
        if (YAJL_IS_ARRAY(arg)) {
                for (size_t i = 0; i < arg->u.array.len; i++)
                        if (scalar_equal(arg->u.array.values[i], v))
                                return false;
                return true;
        }
        if (!YAJL_IS_OBJECT(arg) || arg->u.object.len != 1)
                return !scalar_equal(arg, v);
        const char *key = arg->u.object.keys[0];
        yajl_val inner = arg->u.object.values[0];
        if (!YAJL_IS_ARRAY(inner))
                return !string_operator(key, inner, v);
        for (size_t i = 0; i < inner->u.array.len; i++)
                if (string_operator(key, inner->u.array.values[i], v))
                        return false;
        return true;
}

/* One alternative against one scalar document value. */
static bool alternative_on_scalar(yajl_val alt, yajl_val v)
{
        if (!YAJL_IS_OBJECT(alt))
                return scalar_equal(alt, v) || same_address(alt, v);
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

/* $or at this level: any alternative, seen at the same place. */
static bool any_alternative(yajl_val alts, yajl_val doc)
{
        for (size_t i = 0; YAJL_IS_ARRAY(alts) && i < alts->u.array.len; i++)
                if (YAJL_IS_OBJECT(alts->u.array.values[i]) &&
                    object_matches(alts->u.array.values[i], doc))
                        return true;
        return false;
}

static bool object_matches(yajl_val pattern, yajl_val doc)
{
        for (size_t i = 0; i < pattern->u.object.len; i++) {
                const char *key = pattern->u.object.keys[i];
                yajl_val pv = pattern->u.object.values[i];
                bool ok = strcmp(key, or_key) == 0 ? any_alternative(pv, doc)
                                                   : value_matches(pv, member(doc, key));
                if (!ok)
                        return false;
        }
        return true;
}

bool pattern_match(yajl_val pattern, yajl_val doc)
{
        if (!YAJL_IS_OBJECT(pattern) || pattern->u.object.len == 0)
                return false;
        return object_matches(pattern, doc);
}
