/* Configuration loader: table-driven walk over located YAML nodes. */
#include "cppo/config.h"
#include "cppo/base64.h"

#include "cppo/buf.h"
#include "cppo/error.h"
#include "cppo/pattern.h"
#include "cppo/yamldoc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONFIG_ARENA_MAX (64u * 1024 * 1024)
#define CONFIG_MAX_VALUE 65536
#define CONFIG_MAX_RULES 10000

/* ---- errors ------------------------------------------------------------ */

void config_errors_init(struct config_errors *e)
{
        memset(e, 0, sizeof(*e));
        arena_init(&e->arena, CONFIG_ARENA_MAX);
}

void config_errors_deinit(struct config_errors *e)
{
        if (e == NULL)
                return;
        free(e->items);
        arena_deinit(&e->arena);
        e->items = NULL;
        e->count = 0;
}

/* Line `line` (1-based) of text, into the arena. */
static const char *source_line(struct arena *a, const char *text, size_t len, int line)
{
        const char *p = text, *end = text + len, *nl;
        if (text == NULL || line < 1)
                return "";
        for (int i = 1; i < line && p < end; i++) {
                nl = memchr(p, '\n', (size_t)(end - p));
                p = nl != NULL ? nl + 1 : end;
        }
        nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl != NULL ? nl : end) - p);
        if (n > 0 && p[n - 1] == '\r')
                n--;
        return arena_strndup(a, p, n);
}

/* Whether a key name may hold a secret: its value is never shown. */
static bool secret_key(const char *k, size_t n)
{
        static const char *const words[] = { "password",   "passwd", "secret",  "token",
                                             "credential", "apikey", "api_key", "private",
                                             "sasl",       "url" };
        char low[64];

        if (n == 0 || n >= sizeof low)
                return n > 0;
        for (size_t i = 0; i < n; i++)
                low[i] = (char)((k[i] >= 'A' && k[i] <= 'Z') ? k[i] + 32 : k[i]);
        low[n] = '\0';
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
                if (strstr(low, words[i]))
                        return true;
        return false;
}

/* The key a block-mapping line starts with ("  sasl.password: x" -> its
 * offset and length after the indent and any "- "), or length 0. */
static size_t line_key(const char *p, size_t n, size_t *indent, size_t *start)
{
        size_t i = 0, k;

        while (i < n && p[i] == ' ')
                i++;
        *indent = i;
        while (i + 1 < n && p[i] == '-' && p[i + 1] == ' ')
                i += 2;
        *start = i;
        for (k = i; k < n && p[k] != ':' && p[k] != ' ' && p[k] != '#'; k++)
                ;
        return k < n && p[k] == ':' && k > i ? k - i : 0;
}

/* Whether line `line` (1-based) of text sits in a part of the YAML that may
 * hold a secret: its own key or one it is nested under names one
 * (secret_key), or it is under kafka.properties, where any librdkafka
 * property (ssl.key.password, sasl.*) may be a credential. Follows block
 * indentation only; a secret-looking key anywhere on the line (a flow
 * mapping) counts too. Over-redacting costs a hidden line, nothing more. */
static bool secret_line(const char *text, size_t len, int line)
{
        struct {
                size_t indent;
                bool secret;
        } stack[32];
        size_t depth = 0;
        const char *p = text, *end = text + len;

        for (int no = 1; p < end && no <= line; no++) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = (size_t)((nl ? nl : end) - p), indent, start;
                size_t klen = line_key(p, n, &indent, &start);

                if (no == line) {
                        for (size_t i = 0; i < n; i++) /* flow: { password: x } */
                                if (p[i] == ':' && i > 0 && secret_key(p, i))
                                        return true;
                        /* a sibling key is not what this line is nested under */
                        while (klen && depth > 0 && stack[depth - 1].indent >= indent)
                                depth--;
                        return (depth > 0 && stack[depth - 1].secret &&
                                indent > stack[depth - 1].indent) ||
                               (klen && secret_key(p + start, klen));
                }
                if (klen) {
                        bool parent = false;
                        while (depth > 0 && stack[depth - 1].indent >= indent)
                                depth--;
                        parent = depth > 0 && stack[depth - 1].secret;
                        if (depth < sizeof stack / sizeof stack[0]) {
                                stack[depth].indent = indent;
                                stack[depth].secret = parent || secret_key(p + start, klen) ||
                                                      (klen == 10 &&
                                                       !memcmp(p + start, "properties", 10)) ||
                                                      (klen == 7 && /* a webhook's headers */
                                                       !memcmp(p + start, "headers", 7));
                                depth++;
                        }
                }
                p = nl ? nl + 1 : end;
        }
        return false;
}

/* The source line shown under an error, with a secret's value replaced:
 * the key stays (so the caret still finds its line), the value does not. */
static const char *shown_line(struct arena *a, const char *text, size_t len, int line)
{
        const char *src = source_line(a, text, len, line);
        size_t indent, start, klen;
        char shown[256];

        if (src == NULL || !secret_line(text, len, line))
                return src;
        klen = line_key(src, strlen(src), &indent, &start);
        if (klen == 0 || start + klen + 1 >= sizeof shown - 16)
                return arena_strdup(a, "(a line that may hold a secret, not shown)");
        snprintf(shown, sizeof shown, "%.*s <redacted>", (int)(start + klen + 1), src);
        return arena_strdup(a, shown);
}

int config_errors_add(struct config_errors *e, const char *path, int line, int col,
                      const char *source_text, size_t source_len, const char *fmt, ...)
{
        char msg[CPPO_ERRLEN];
        va_list ap;
        struct config_error *it;

        if (e->count >= CONFIG_MAX_ERRORS) {
                e->dropped++;
                return 0;
        }
        if (e->count % 16 == 0) {
                it = realloc(e->items, (e->count + 16) * sizeof(*it));
                if (it == NULL)
                        return -ENOMEM;
                e->items = it;
        }
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        it = &e->items[e->count];
        it->path = arena_strdup(&e->arena, path);
        it->message = arena_strdup(&e->arena, msg);
        it->source = shown_line(&e->arena, source_text, source_len, line);
        if (it->path == NULL || it->message == NULL || it->source == NULL)
                return -ENOMEM;
        it->line = line;
        it->col = col;
        e->count++;
        return 0;
}

static void print_caret(const char *src, int col, FILE *f)
{
        fputs("  ", f);
        for (int i = 1; i < col && src[i - 1] != '\0'; i++)
                fputc(src[i - 1] == '\t' ? '\t' : ' ', f);
        fputs("^\n", f);
}

void config_errors_print(const struct config_errors *e, FILE *f)
{
        for (size_t i = 0; i < e->count; i++) {
                const struct config_error *it = &e->items[i];
                if (it->line <= 0) {
                        fprintf(f, "%s: %s\n", it->path, it->message);
                        continue;
                }
                fprintf(f, "%s:%d:%d: %s\n", it->path, it->line, it->col, it->message);
                if (it->source[0] != '\0') {
                        fprintf(f, "  %s\n", it->source);
                        print_caret(it->source, it->col, f);
                }
        }
        if (e->dropped > 0)
                fprintf(f, "(%zu more errors not shown)\n", e->dropped);
}

/* ---- load context ------------------------------------------------------ */

struct ctx {
        struct config *cfg;
        struct config_errors *errs;
        const char *path; /* file being walked */
        const char *text;
        size_t len;
        const char *dir; /* directory of the main file */
        int rc;          /* first hard failure (-ENOMEM) */
        unsigned needs;  /* enum config_need mask */
        bool unneeded;   /* walking a section outside needs */
};

static void report(struct ctx *c, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct ctx *c, const struct ynode *n, const char *fmt, ...)
{
        char msg[CPPO_ERRLEN];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        int rc = config_errors_add(c->errs, c->path, n != NULL ? n->line : 0,
                                   n != NULL ? n->col : 0, c->text, c->len, "%s", msg);
        if (rc < 0 && c->rc == 0)
                c->rc = rc;
}

static const char *kind_name(const struct ynode *n)
{
        if (n->kind == YNODE_MAP)
                return "a mapping";
        if (n->kind == YNODE_SEQ)
                return "a list";
        return "a scalar";
}

/* Appends the value of ${NAME} at *pp (pointing after "${"). */
static int expand_var(struct ctx *c, const struct ynode *n, const char **pp, struct buf *b)
{
        const char *name = *pp, *close = strchr(name, '}');
        char var[256];
        if (close == NULL || close == name || (size_t)(close - name) >= sizeof(var)) {
                report(c, n, "malformed ${...} reference in value");
                return -EINVAL;
        }
        memcpy(var, name, (size_t)(close - name));
        var[close - name] = '\0';
        const char *val = getenv(var);
        if (val == NULL && c->unneeded)
                return -ENOENT; /* left unset, silently: this program does not use it */
        if (val == NULL) {
                report(c, n, "environment variable \"%s\" is not set", var);
                return -EINVAL;
        }
        *pp = close + 1;
        return buf_puts(b, val);
}

/* The scalar's text with ${NAME} expanded, in the arena; NULL after an
 * error was reported, or silently for an unset variable in an unneeded
 * section. */
static const char *scalar(struct ctx *c, const struct ynode *n, const char *what)
{
        struct buf b = BUF_INIT(CONFIG_MAX_VALUE);
        const char *p, *out = NULL;
        int rc = 0;

        if (n->kind != YNODE_SCALAR) {
                report(c, n, "expected %s, got %s", what, kind_name(n));
                return NULL;
        }
        for (p = n->value; *p != '\0' && rc == 0;) {
                if (p[0] == '$' && p[1] == '$') {
                        rc = buf_putc(&b, '$');
                        p += 2;
                } else if (p[0] == '$' && p[1] == '{') {
                        p += 2;
                        rc = expand_var(c, n, &p, &b);
                } else {
                        rc = buf_putc(&b, *p++);
                }
        }
        if (rc == -E2BIG)
                report(c, n, "value is longer than %d bytes", CONFIG_MAX_VALUE);
        if (rc == 0) {
                out = arena_strdup(&c->cfg->arena, buf_cstr(&b));
                if (out == NULL)
                        c->rc = -ENOMEM;
        }
        buf_deinit(&b);
        return out;
}

/* A path relative to the main file's directory. */
static const char *resolve(struct ctx *c, const char *p)
{
        struct buf b = BUF_INIT(PATH_MAX);
        const char *out = NULL;
        if (p[0] == '/' || c->dir[0] == '\0')
                return p;
        if (buf_printf(&b, "%s/%s", c->dir, p) == 0)
                out = arena_strdup(&c->cfg->arena, buf_cstr(&b));
        buf_deinit(&b);
        return out != NULL ? out : p;
}

/* ---- value types ------------------------------------------------------- */

enum ftype {
        F_STRING,
        F_INT,
        F_BOOL,
        F_DURATION,
        F_ENUM,
        F_EMAIL,
        F_URL,
        F_STRLIST,
        F_EMAILLIST,
        F_STRMAP,
        F_SECRET,
        F_SECRETS, /* struct config_secrets: one path or a list of them */
        F_PATH,
        F_SECTION,
        F_RECEIVERS,
        F_MATCH,
};

struct field {
        const char *key;
        enum ftype type;
        size_t off;
        bool required;
        const char *def; /* strings, enums, durations (text), bools ("true") */
        long idef, min, max;
        const char *const *choices; /* F_ENUM values, F_URL schemes */
        const struct field *sub;    /* F_SECTION */
        unsigned need;              /* enum config_need bit of a top-level key; 0: always needed */
        /* Read once at start: a reload keeps the running value (a flagged
         * section: every key in it). See config_keep_restart_only. */
        bool restart;
        /* F_DURATION: "forever" is also accepted, stored as 0 */
        bool forever;
};

#define FIELD_END                                                                                  \
        {                                                                                          \
                .key = NULL                                                                        \
        }

static int parse_long(const char *s, long *out)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (*s == '\0' || *end != '\0' || errno != 0)
                return -EINVAL;
        *out = v;
        return 0;
}

/* "90s", "30m", "72h", "3d" -> seconds. */
static int parse_duration(const char *s, long *out)
{
        char *end;
        long mult;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || *s == '-' || *s == '+' || errno != 0 || end[0] == '\0' || end[1] != '\0')
                return -EINVAL;
        switch (*end) {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        default: return -EINVAL;
        }
        if (v > LONG_MAX / mult)
                return -EINVAL;
        *out = v * mult;
        return 0;
}

/* Deliberately simple: one "@", a non-empty local part, a dotted domain,
 * no spaces, quotes or angle brackets (those belong to display names). */
static bool valid_email(const char *s)
{
        const char *at = strchr(s, '@');
        size_t len = strlen(s);
        if (at == NULL || at == s || strchr(at + 1, '@') != NULL || len > 254)
                return false;
        if (strpbrk(s, " \t<>\"(),;:\\[]") != NULL)
                return false;
        const char *dot = strrchr(at + 1, '.');
        return dot != NULL && dot > at + 1 && dot[1] != '\0' && at[1] != '.';
}

/* scheme://host[:port][/...] with the scheme in schemes. */
static bool valid_url(const char *s, const char *const *schemes)
{
        const char *sep = strstr(s, "://");
        if (sep == NULL || strpbrk(s, " \t\r\n") != NULL)
                return false;
        bool ok = false;
        for (size_t i = 0; schemes[i] != NULL; i++)
                if (strlen(schemes[i]) == (size_t)(sep - s) &&
                    strncmp(s, schemes[i], (size_t)(sep - s)) == 0)
                        ok = true;
        const char *host = sep + 3;
        return ok && *host != '\0' && *host != '/' && *host != ':';
}

/* 127.0.0.0/8 written as four decimal parts: "127.example.com" is a name
 * that can resolve anywhere, not a loopback address. */
static bool ipv4_loopback(const char *h, size_t n)
{
        int parts = 0, digits = 0, value = 0;
        if (n < 4 || strncmp(h, "127.", 4) != 0)
                return false;
        for (size_t i = 0; i <= n; i++) {
                if (i == n || h[i] == '.') {
                        if (digits == 0 || value > 255)
                                return false;
                        parts++;
                        digits = value = 0;
                } else if (h[i] >= '0' && h[i] <= '9' && digits < 3) {
                        value = value * 10 + (h[i] - '0');
                        digits++;
                } else {
                        return false;
                }
        }
        return parts == 4;
}

static bool host_is_loopback(const char *host, size_t n)
{
        return (n == 9 && strncasecmp(host, "localhost", 9) == 0) || ipv4_loopback(host, n) ||
               (n == 5 && strncmp(host, "[::1]", 5) == 0) ||
               (n == 3 && strncmp(host, "::1", 3) == 0);
}

/* The host part of a URL, for the loopback checks. A URL with user info
 * ("http://127.0.0.1@example.com/") is never loopback: its host is what
 * follows the "@". */
static bool url_host_is_loopback(const char *url)
{
        const char *h = strstr(url, "://");
        if (h == NULL)
                return false;
        h += 3;
        size_t authority = strcspn(h, "/?#");
        if (memchr(h, '@', authority) != NULL)
                return false;
        size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
        return n <= authority && host_is_loopback(h, n);
}

static void *at(void *base, size_t off)
{
        return (char *)base + off;
}

/* ---- generic handlers -------------------------------------------------- */

static void walk_section(struct ctx *c, const struct field *tab, void *base,
                         const struct ynode *map, const char *where);

static void set_int(struct ctx *c, const struct field *f, void *base, const struct ynode *n,
                    const char *s)
{
        long v;
        if (f->type == F_DURATION && f->forever && strcmp(s, "forever") == 0) {
                *(long *)at(base, f->off) = 0;
                return;
        }
        if (f->type == F_INT && parse_long(s, &v) < 0) {
                report(c, n, "expected an integer, got \"%s\"", s);
                return;
        }
        if (f->type == F_DURATION && parse_duration(s, &v) < 0) {
                report(c, n,
                       "expected a duration like \"90s\", \"30m\", \"72h\" or \"3d\"%s, got \"%s\"",
                       f->forever ? " (or \"forever\")" : "", s);
                return;
        }
        if (f->type == F_INT && (v < f->min || v > f->max)) {
                report(c, n, "%s must be between %ld and %ld, got %ld", f->key, f->min, f->max, v);
                return;
        }
        if (f->type == F_DURATION && v <= 0) {
                report(c, n, "%s must be longer than zero, got \"%s\"", f->key, s);
                return;
        }
        if (f->type == F_DURATION && f->max > 0 && (v < f->min || v > f->max)) {
                report(c, n, "%s must be between %lds and %lds, got \"%s\"", f->key, f->min, f->max,
                       s);
                return;
        }
        *(long *)at(base, f->off) = v;
}

static void set_enum(struct ctx *c, const struct field *f, void *base, const struct ynode *n,
                     const char *s)
{
        struct buf b = BUF_INIT(512);
        for (size_t i = 0; f->choices[i] != NULL; i++) {
                if (strcmp(s, f->choices[i]) == 0) {
                        *(const char **)at(base, f->off) = f->choices[i];
                        buf_deinit(&b);
                        return;
                }
                (void)buf_printf(&b, "%s\"%s\"", i > 0 ? ", " : "", f->choices[i]);
        }
        report(c, n, "%s must be one of %s, got \"%s\"", f->key, buf_cstr(&b), s);
        buf_deinit(&b);
}

static void set_secret(struct ctx *c, const struct field *f, void *base, const struct ynode *n,
                       const char *s)
{
        char err[CPPO_ERRLEN];
        struct secret **slot = at(base, f->off);
        secret_free(*slot);
        *slot = NULL;
        if (c->unneeded)
                return; /* the operator running a store command may not be able to read it */
        if (secret_load_file(slot, resolve(c, s), err, sizeof(err)) < 0)
                report(c, n, "%s", err);
}

/* One secret file per list item (or a single path), each loaded whole;
 * the lines in them are checked with the receiver (check_signing). */
static void set_secrets(struct ctx *c, const struct field *f, void *base, const struct ynode *n)
{
        struct config_secrets *l = at(base, f->off);
        const struct ynode *one[1] = { n };
        const struct ynode *const *items = n->kind == YNODE_SEQ
                                               ? (const struct ynode *const *)n->items
                                               : one;
        size_t count = n->kind == YNODE_SEQ ? n->count : 1;
        char err[CPPO_ERRLEN];

        if (count == 0 || count > CONFIG_MAX_SIGNING_SECRETS) {
                report(c, n, "%s must name between 1 and %d files", f->key,
                       CONFIG_MAX_SIGNING_SECRETS);
                return;
        }
        for (size_t i = 0; i < count && !c->unneeded; i++) {
                const char *path = scalar(c, items[i], "a path");

                if (path == NULL)
                        continue;
                if (secret_load_file(&l->items[l->count], resolve(c, path), err, sizeof(err)) < 0)
                        report(c, items[i], "%s", err);
                else
                        l->count++;
        }
}

static void set_scalar(struct ctx *c, const struct field *f, void *base, const struct ynode *n)
{
        const char *s = scalar(c, n,
                               f->type == F_BOOL ? "a boolean (true/false)" : "a scalar value");
        if (s == NULL)
                return;
        switch (f->type) {
        case F_BOOL:
                if (!n->plain || (strcmp(s, "true") != 0 && strcmp(s, "false") != 0))
                        report(c, n, "expected a boolean (true/false), got \"%s\"", s);
                else
                        *(bool *)at(base, f->off) = s[0] == 't';
                return;
        case F_INT:
        case F_DURATION: set_int(c, f, base, n, s); return;
        case F_ENUM: set_enum(c, f, base, n, s); return;
        case F_EMAIL:
                if (!valid_email(s)) {
                        report(c, n, "invalid email address \"%s\"", s);
                        return;
                }
                break;
        case F_URL:
                if (!valid_url(s, f->choices)) {
                        report(c, n, "invalid URL \"%s\" for %s (allowed schemes: %s, %s)", s,
                               f->key, f->choices[0], f->choices[1]);
                        return;
                }
                break;
        case F_SECRET: set_secret(c, f, base, n, s); return;
        case F_PATH: s = resolve(c, s); break;
        default: break;
        }
        if (s[0] == '\0')
                report(c, n, "%s must not be empty", f->key);
        else
                *(const char **)at(base, f->off) = s;
}

static void set_list(struct ctx *c, const struct field *f, void *base, const struct ynode *n)
{
        struct config_strlist *l = at(base, f->off);
        if (n->kind != YNODE_SEQ) {
                report(c, n, "expected a list, got %s", kind_name(n));
                return;
        }
        l->items = arena_alloc(&c->cfg->arena, (n->count + 1) * sizeof(*l->items));
        if (l->items == NULL) {
                c->rc = -ENOMEM;
                return;
        }
        l->count = 0;
        for (size_t i = 0; i < n->count; i++) {
                const char *s = scalar(c, n->items[i], "a string");
                if (s != NULL && f->type == F_EMAILLIST && !valid_email(s))
                        report(c, n->items[i], "invalid email address \"%s\"", s);
                else if (s != NULL)
                        l->items[l->count++] = s;
        }
        if (n->count == 0 && f->required)
                report(c, n, "%s must list at least one entry", f->key);
}

static void set_map(struct ctx *c, const struct field *f, void *base, const struct ynode *n)
{
        struct config_strmap *m = at(base, f->off);
        size_t pairs = n->count / 2;
        if (n->kind != YNODE_MAP) {
                report(c, n, "expected a mapping, got %s", kind_name(n));
                return;
        }
        m->keys = arena_alloc(&c->cfg->arena, (pairs + 1) * sizeof(*m->keys));
        m->values = arena_alloc(&c->cfg->arena, (pairs + 1) * sizeof(*m->values));
        if (m->keys == NULL || m->values == NULL) {
                c->rc = -ENOMEM;
                return;
        }
        m->count = 0;
        for (size_t i = 0; i < pairs; i++) {
                const struct ynode *k = n->items[2 * i];
                const char *v = scalar(c, n->items[2 * i + 1], "a scalar value");
                if (k->kind != YNODE_SCALAR) {
                        report(c, k, "expected a string key, got %s", kind_name(k));
                        continue;
                }
                if (v == NULL)
                        continue;
                m->keys[m->count] = arena_strdup(&c->cfg->arena, k->value);
                m->values[m->count++] = v;
        }
}

/* ---- sections ---------------------------------------------------------- */

static void apply_defaults(const struct field *tab, void *base)
{
        for (const struct field *f = tab; f->key != NULL; f++) {
                switch (f->type) {
                case F_INT: *(long *)at(base, f->off) = f->idef; break;
                case F_DURATION:
                        if (f->def != NULL)
                                (void)parse_duration(f->def, at(base, f->off));
                        break;
                case F_BOOL: *(bool *)at(base, f->off) = f->def != NULL && f->def[0] == 't'; break;
                case F_SECTION: apply_defaults(f->sub, at(base, f->off)); break;
                case F_STRING:
                case F_ENUM:
                case F_EMAIL:
                case F_URL:
                case F_PATH: *(const char **)at(base, f->off) = f->def; break;
                default: break;
                }
        }
}

static void walk_receivers(struct ctx *c, const struct ynode *n);
static void walk_match(struct ctx *c, void *base, size_t off, const struct ynode *n);

static void dispatch(struct ctx *c, const struct field *f, void *base, const struct ynode *v)
{
        bool outer = c->unneeded;
        if (f->need != 0 && (c->needs & f->need) == 0)
                c->unneeded = true;
        switch (f->type) {
        case F_STRLIST:
        case F_EMAILLIST: set_list(c, f, base, v); break;
        case F_STRMAP: set_map(c, f, base, v); break;
        case F_SECRETS: set_secrets(c, f, base, v); break;
        case F_SECTION: walk_section(c, f->sub, at(base, f->off), v, f->key); break;
        case F_RECEIVERS: walk_receivers(c, v); break;
        case F_MATCH: walk_match(c, base, f->off, v); break;
        default: set_scalar(c, f, base, v); break;
        }
        c->unneeded = outer;
}

static const struct field *find_field(const struct field *tab, const char *key, size_t *idx)
{
        for (size_t i = 0; tab[i].key != NULL; i++) {
                if (strcmp(tab[i].key, key) == 0) {
                        *idx = i;
                        return &tab[i];
                }
        }
        return NULL;
}

static bool seen_before(const struct ynode *map, size_t pair)
{
        const char *key = map->items[2 * pair]->value;
        for (size_t j = 0; j < pair; j++)
                if (map->items[2 * j]->kind == YNODE_SCALAR &&
                    strcmp(map->items[2 * j]->value, key) == 0)
                        return true;
        return false;
}

static void walk_section(struct ctx *c, const struct field *tab, void *base,
                         const struct ynode *map, const char *where)
{
        bool seen[64] = { false };
        size_t idx = 0;

        if (map->kind != YNODE_MAP) {
                report(c, map, "expected a mapping for %s, got %s", where, kind_name(map));
                return;
        }
        for (size_t i = 0; i + 1 < map->count; i += 2) {
                const struct ynode *k = map->items[i];
                const struct field *f;
                if (k->kind != YNODE_SCALAR) {
                        report(c, k, "expected a key in %s, got %s", where, kind_name(k));
                        continue;
                }
                f = find_field(tab, k->value, &idx);
                if (f == NULL)
                        report(c, k, "unknown key \"%s\" in %s", k->value, where);
                else if (seen_before(map, i / 2))
                        report(c, k, "duplicate key \"%s\" in %s", k->value, where);
                else {
                        seen[idx] = true;
                        dispatch(c, f, base, map->items[i + 1]);
                }
        }
        for (size_t i = 0; tab[i].key != NULL; i++)
                if (tab[i].required && !seen[i])
                        report(c, map, "missing required key \"%s\" in %s", tab[i].key, where);
}

/* ---- tables ------------------------------------------------------------ */

static const char *const sync_choices[] = { "full", "normal", NULL };
static const char *const starttls_choices[] = { "required", "optional", "never", NULL };
static const char *const ha_enabled_choices[] = { "auto", "true", "false", NULL };
static const char *const smtp_schemes[] = { "smtp", "smtps", NULL };
/* Indexed by enum config_receiver_type. */
static const char *const type_choices[] = { "email", "slack", "file", "webhook", "teams", NULL };
static const char *const level_choices[] = { "error", "warning", "notice", "info", "debug", NULL };
/* http only makes sense for a loopback stand-in or a proxy; check says so */
static const char *const aws_schemes[] = { "https", "http", NULL };

#define K(field) (offsetof(struct config, kafka.field) - offsetof(struct config, kafka))
static const struct field kafka_fields[] = {
        { .key = "brokers", .type = F_STRING, .off = K(brokers), .required = true },
        { .key = "topics", .type = F_STRLIST, .off = K(topics), .required = true },
        { .key = "group", .type = F_STRING, .off = K(group), .def = "cppo-notify" },
        { .key = "properties", .type = F_STRMAP, .off = K(properties) },
        { .key = "dead_letter_topic", .type = F_STRING, .off = K(dead_letter_topic) },
        { .key = "max_message_bytes",
          .type = F_INT,
          .off = K(max_message_bytes),
          .idef = 1048576,
          .min = 1024,
          .max = 16777216 },
        FIELD_END,
};
#undef K

#define S(field) (offsetof(struct config, store.field) - offsetof(struct config, store))
static const struct field store_fields[] = {
        { .key = "path", .type = F_STRING, .off = S(path), .def = "/var/lib/cppo-notify/state.db" },
        /* checked by check_store: its value may hold a password, so no
         * message quotes it */
        { .key = "url", .type = F_STRING, .off = S(url) },
        { .key = "password_file", .type = F_SECRET, .off = S(password) },
        { .key = "synchronous",
          .type = F_ENUM,
          .off = S(synchronous),
          .def = "full",
          .choices = sync_choices },
        { .key = "busy_timeout", .type = F_DURATION, .off = S(busy_timeout), .def = "30s" },
        FIELD_END,
};
#undef S

#define M(field) (offsetof(struct config, smtp.field) - offsetof(struct config, smtp))
static const struct field smtp_fields[] = {
        { .key = "url", .type = F_URL, .off = M(url), .choices = smtp_schemes },
        { .key = "from", .type = F_EMAIL, .off = M(from) },
        { .key = "username", .type = F_STRING, .off = M(username) },
        { .key = "password_file", .type = F_SECRET, .off = M(password) },
        { .key = "starttls", .type = F_ENUM, .off = M(starttls), .choices = starttls_choices },
        { .key = "ca_file", .type = F_PATH, .off = M(ca_file) },
        { .key = "timeout", .type = F_DURATION, .off = M(timeout), .def = "30s" },
        FIELD_END,
};
#undef M

static const struct field holds_fields[] = {
        { .key = "offer_link_timeout", .type = F_DURATION, .off = 0, .def = "72h" },
        FIELD_END,
};

/* The defaults keep ledger entries well past Kafka's retention (7 days by
 * default) and AWS's 24 h event retry window, so a redelivered event is
 * still a known duplicate; what people look back at (sent messages, the
 * attempts behind them, rejected inputs) stays a quarter. */
#define T(field) (offsetof(struct config, retention.field) - offsetof(struct config, retention))
static const struct field retention_fields[] = {
        { .key = "ledger", .type = F_DURATION, .forever = true, .off = T(ledger), .def = "30d" },
        { .key = "bodies", .type = F_DURATION, .forever = true, .off = T(bodies), .def = "90d" },
        { .key = "attempts",
          .type = F_DURATION,
          .forever = true,
          .off = T(attempts),
          .def = "90d" },
        { .key = "rejected",
          .type = F_DURATION,
          .forever = true,
          .off = T(rejected),
          .def = "90d" },
        { .key = "batch", .type = F_INT, .off = T(batch), .idef = 500, .min = 1, .max = 10000 },
        { .key = "interval", .type = F_DURATION, .off = T(interval), .def = "10m" },
        FIELD_END,
};
#undef T

#define H(field) (offsetof(struct config, http.field) - offsetof(struct config, http))
static const struct field http_fields[] = {
        { .key = "listen", .type = F_STRING, .off = H(listen), .def = "127.0.0.1:9466" },
        { .key = "allow_non_loopback", .type = F_BOOL, .off = H(allow_non_loopback) },
        FIELD_END,
};
#undef H

#define A(field) (offsetof(struct config, aws.field) - offsetof(struct config, aws))
static const struct field aws_fields[] = {
        { .key = "enabled", .type = F_BOOL, .off = A(enabled), .def = "true" },
        { .key = "region", .type = F_STRING, .off = A(region), .def = "us-east-1" },
        { .key = "endpoint", .type = F_URL, .off = A(endpoint), .choices = aws_schemes },
        { .key = "profile", .type = F_STRING, .off = A(profile) },
        { .key = "sync_interval",
          .type = F_DURATION,
          .off = A(sync_interval),
          .def = "15m",
          .min = 60,
          .max = 7 * 86400 },
        FIELD_END,
};
#undef A

/* ha: checked by check_ha (enabled needs a PostgreSQL store; takeover
 * leaves room for a poll, 3 s to detect a silent leader and 1 s to take
 * over: leader.h's keepalive arithmetic). */
#define HA(field) (offsetof(struct config, ha.field) - offsetof(struct config, ha))
static const struct field ha_fields[] = {
        { .key = "enabled",
          .type = F_ENUM,
          .off = HA(enabled),
          .def = "auto",
          .choices = ha_enabled_choices },
        { .key = "takeover",
          .type = F_DURATION,
          .off = HA(takeover),
          .def = "10s",
          .min = 5,
          .max = 3600 },
        { .key = "poll", .type = F_DURATION, .off = HA(poll), .def = "1s", .min = 1, .max = 600 },
        FIELD_END,
};
#undef HA

#define T(field) offsetof(struct config_templates, field)
static const struct field template_fields[] = {
        { .key = "subject", .type = F_PATH, .off = T(subject) },
        { .key = "text", .type = F_PATH, .off = T(text) },
        { .key = "html", .type = F_PATH, .off = T(html) },
        { .key = "slack", .type = F_PATH, .off = T(slack) },
        { .key = "file", .type = F_PATH, .off = T(file) },
        { .key = "teams", .type = F_PATH, .off = T(teams) },
        FIELD_END,
};
#undef T

#define R(field) offsetof(struct config_receiver, field)
static const struct field receiver_fields[] = {
        { .key = "type",
          .type = F_ENUM,
          .off = R(type_name),
          .required = true,
          .choices = type_choices },
        { .key = "to", .type = F_EMAILLIST, .off = R(to), .need = CONFIG_NEED_DELIVERY },
        { .key = "cc", .type = F_EMAILLIST, .off = R(cc), .need = CONFIG_NEED_DELIVERY },
        { .key = "bcc", .type = F_EMAILLIST, .off = R(bcc), .need = CONFIG_NEED_DELIVERY },
        { .key = "include_authorization_contacts",
          .type = F_BOOL,
          .off = R(include_authorization_contacts) },
        { .key = "webhook_url_file",
          .type = F_SECRET,
          .off = R(webhook_url),
          .need = CONFIG_NEED_DELIVERY },
        { .key = "ca_file", .type = F_PATH, .off = R(ca_file), .need = CONFIG_NEED_DELIVERY },
        { .key = "path", .type = F_PATH, .off = R(path), .need = CONFIG_NEED_DELIVERY },
        { .key = "secret_file",
          .type = F_SECRETS,
          .off = R(signing),
          .need = CONFIG_NEED_DELIVERY },
        { .key = "headers", .type = F_STRMAP, .off = R(headers), .need = CONFIG_NEED_DELIVERY },
        { .key = "timeout",
          .type = F_DURATION,
          .off = R(timeout),
          .def = "30s",
          .min = 1,
          .max = 600 },
        { .key = "max_attempts",
          .type = F_INT,
          .off = R(max_attempts),
          .idef = 10,
          .min = 1,
          .max = 1000 },
        { .key = "max_age", .type = F_DURATION, .off = R(max_age), .def = "24h" },
        { .key = "concurrency",
          .type = F_INT,
          .off = R(concurrency),
          .idef = -1,
          .min = 1,
          .max = 64 },
        { .key = "rate", .type = F_INT, .off = R(rate), .idef = -1, .min = 0, .max = 10000 },
        { .key = "templates", .type = F_SECTION, .off = R(templates), .sub = template_fields },
        FIELD_END,
};
#undef R

#define C(field) offsetof(struct config, field)
static const struct field main_fields[] = {
        { .key = "kafka",
          .type = F_SECTION,
          .off = C(kafka),
          .required = true,
          .sub = kafka_fields,
          .need = CONFIG_NEED_KAFKA,
          .restart = true },
        { .key = "store",
          .type = F_SECTION,
          .off = C(store),
          .sub = store_fields,
          .restart = true },
        { .key = "smtp",
          .type = F_SECTION,
          .off = C(smtp),
          .sub = smtp_fields,
          .need = CONFIG_NEED_SMTP },
        { .key = "receivers",
          .type = F_RECEIVERS,
          .off = C(receivers),
          .required = true,
          .need = CONFIG_NEED_ROUTING },
        { .key = "holds", .type = F_SECTION, .off = C(holds), .sub = holds_fields },
        { .key = "retention", .type = F_SECTION, .off = C(retention), .sub = retention_fields },
        { .key = "notify_extended_after_acceptance",
          .type = F_BOOL,
          .off = C(notify_extended_after_acceptance) },
        { .key = "notify_direct_deals", .type = F_BOOL, .off = C(notify_direct_deals) },
        { .key = "http",
          .type = F_SECTION,
          .off = C(http),
          .sub = http_fields,
          .need = CONFIG_NEED_HTTP,
          .restart = true },
        { .key = "aws",
          .type = F_SECTION,
          .off = C(aws),
          .sub = aws_fields,
          .need = CONFIG_NEED_AWS,
          .restart = true },
        { .key = "ha", .type = F_SECTION, .off = C(ha), .sub = ha_fields, .restart = true },
        { .key = "rules_dir", .type = F_PATH, .off = C(rules_dir), .need = CONFIG_NEED_ROUTING },
        { .key = "templates_dir",
          .type = F_PATH,
          .off = C(templates_dir),
          .need = CONFIG_NEED_ROUTING },
        { .key = "log_level",
          .type = F_ENUM,
          .off = C(log_level),
          .def = "info",
          .choices = level_choices },
        FIELD_END,
};
#undef C

#define U(field) offsetof(struct config_rule, field)
static const struct field rule_fields[] = {
        { .key = "name", .type = F_STRING, .off = U(name), .required = true },
        { .key = "match", .type = F_MATCH, .off = U(match), .required = true },
        { .key = "receivers", .type = F_STRLIST, .off = U(receivers), .required = true },
        { .key = "templates", .type = F_SECTION, .off = U(templates), .sub = template_fields },
        { .key = "continue", .type = F_BOOL, .off = U(cont) },
        FIELD_END,
};
#undef U

/* ---- receivers --------------------------------------------------------- */

#define TYPE(t) (1u << CONFIG_RECEIVER_##t)
#define HTTP    (TYPE(SLACK) | TYPE(WEBHOOK) | TYPE(TEAMS))

/* Keys that belong to some receiver types only, and whether they must be
 * there. */
static const struct {
        const char *key;
        unsigned types, required;
} typed_keys[] = {
        { "to", TYPE(EMAIL), 0 },
        { "cc", TYPE(EMAIL), 0 },
        { "bcc", TYPE(EMAIL), 0 },
        { "include_authorization_contacts", TYPE(EMAIL), 0 },
        { "webhook_url_file", HTTP, HTTP },
        { "ca_file", HTTP, 0 },
        { "timeout", HTTP, 0 },
        { "path", TYPE(FILE), TYPE(FILE) },
        { "secret_file", TYPE(WEBHOOK), TYPE(WEBHOOK) },
        { "headers", TYPE(WEBHOOK), 0 },
};

/* Per type: messages per second and deliveries at once unless set. A few
 * SMTP sessions; one at a time where order matters (a channel reads
 * top-down, a file is appended to, a webhook's consumer sees them in
 * order). Slack allows about one message a second per webhook; so does a
 * Teams channel behind a Workflows URL. */
static const struct {
        long rate, concurrency;
} type_defaults[] = {
        [CONFIG_RECEIVER_EMAIL] = { 0, 4 }, [CONFIG_RECEIVER_SLACK] = { 1, 1 },
        [CONFIG_RECEIVER_FILE] = { 0, 1 },  [CONFIG_RECEIVER_WEBHOOK] = { 0, 1 },
        [CONFIG_RECEIVER_TEAMS] = { 1, 1 },
};

const char *config_receiver_type_name(enum config_receiver_type t)
{
        for (size_t i = 0; type_choices[i] != NULL; i++)
                if (i == (size_t)t)
                        return type_choices[i];
        return "?";
}

static void check_typed_keys(struct ctx *c, const struct config_receiver *r, const struct ynode *n)
{
        for (size_t i = 0; i + 1 < n->count; i += 2) {
                const struct ynode *k = n->items[i];
                for (size_t j = 0; j < sizeof(typed_keys) / sizeof(typed_keys[0]); j++)
                        if (k->kind == YNODE_SCALAR && strcmp(k->value, typed_keys[j].key) == 0 &&
                            (typed_keys[j].types & (1u << r->type)) == 0)
                                report(c, k, "key \"%s\" does not apply to %s receiver \"%s\"",
                                       k->value, r->type_name, r->name);
        }
        for (size_t j = 0; j < sizeof(typed_keys) / sizeof(typed_keys[0]); j++)
                if ((typed_keys[j].required & (1u << r->type)) != 0 &&
                    yamldoc_get(n, typed_keys[j].key) == NULL)
                        report(c, n, "missing required key \"%s\" in %s receiver \"%s\"",
                               typed_keys[j].key, r->type_name, r->name);
}

static size_t yaml_list_len(const struct ynode *map, const char *key)
{
        const struct ynode *l = yamldoc_get(map, key);
        return l != NULL && l->kind == YNODE_SEQ ? l->count : 0;
}

static void check_receiver(struct ctx *c, struct config_receiver *r, const struct ynode *n)
{
        if (r->type_name == NULL)
                return;
        for (size_t i = 0; type_choices[i] != NULL; i++)
                if (strcmp(r->type_name, type_choices[i]) == 0)
                        r->type = (enum config_receiver_type)i;
        if (r->rate < 0)
                r->rate = type_defaults[r->type].rate;
        if (r->concurrency < 0)
                r->concurrency = type_defaults[r->type].concurrency;
        check_typed_keys(c, r, n);
        /* Counted in the YAML: a recipient left unset (an unneeded
         * section's unset variable) still counts; a bad one is reported. */
        if (r->type == CONFIG_RECEIVER_EMAIL &&
            yaml_list_len(n, "to") + yaml_list_len(n, "cc") + yaml_list_len(n, "bcc") == 0 &&
            !r->include_authorization_contacts)
                report(c, n,
                       "email receiver \"%s\" needs at least one of to, cc, bcc or "
                       "include_authorization_contacts: true",
                       r->name);
}

/* Standard Webhooks: a secret is "whsec_" and the base64 of 24 to 64
 * random bytes. Each line of each secret file must be one; the message
 * names the file and the line, never what is on it. */
static void check_signing(struct ctx *c, const struct config_receiver *r, const struct ynode *n)
{
        const struct ynode *node = yamldoc_get(n, "secret_file");

        for (size_t i = 0; i < r->signing.count; i++) {
                const struct secret *sec = r->signing.items[i];
                const struct ynode *at_node = node != NULL && node->kind == YNODE_SEQ &&
                                                      i < node->count
                                                  ? node->items[i]
                                                  : node;
                size_t line = 0, keys = 0;

                for (const char *p = secret_value(sec); *p != '\0'; line++) {
                        size_t len = strcspn(p, "\n");
                        uint8_t key[64];
                        long k = len > 6 && memcmp(p, "whsec_", 6) == 0
                                     ? base64_decode(p + 6, len - 6 - (p[len - 1] == '\r'), key,
                                                     sizeof key)
                                     : -EINVAL;

                        explicit_bzero(key, sizeof key);
                        if (len > 0 && k < 24)
                                report(c, at_node,
                                       "secret_file \"%s\": line %zu is not a whsec_ secret "
                                       "(\"whsec_\" and the base64 of 24 to 64 bytes)",
                                       secret_source(sec), line + 1);
                        keys += len > 0;
                        p += len + (p[len] == '\n');
                }
                if (keys == 0)
                        report(c, at_node, "secret_file \"%s\" holds no secret",
                               secret_source(sec));
        }
}

/* RFC 9110 token characters, for a header name. */
static bool header_token(const char *s)
{
        if (*s == '\0')
                return false;
        for (; *s != '\0'; s++)
                if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
                        return false;
        return true;
}

/* The headers a webhook sets itself (signature, body framing) or libcurl
 * manages; a custom header may not replace them. */
static bool header_reserved(const char *name)
{
        static const char *const names[] = { "content-type", "content-length", "host",
                                             "transfer-encoding", "expect" };

        if (strncasecmp(name, "webhook-", 8) == 0)
                return true;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (strcasecmp(name, names[i]) == 0)
                        return true;
        return false;
}

/* Each header at its own key or value, so the message points at it. */
static void check_headers(struct ctx *c, const struct ynode *n)
{
        const struct ynode *h = yamldoc_get(n, "headers");

        for (size_t i = 0; h != NULL && h->kind == YNODE_MAP && i + 1 < h->count; i += 2) {
                const struct ynode *k = h->items[i], *v = h->items[i + 1];

                if (k->kind != YNODE_SCALAR)
                        continue;
                if (!header_token(k->value))
                        report(c, k, "header name \"%s\" is not an HTTP token", k->value);
                else if (header_reserved(k->value))
                        report(c, k, "header \"%s\" is set by cppo-notify and cannot be replaced",
                               k->value);
                if (v->kind == YNODE_SCALAR && v->value[strcspn(v->value, "\r\n")] != '\0')
                        report(c, v, "header \"%s\" value must not hold a CR or LF", k->value);
        }
}

/* The webhook file must hold an https URL (http only to a loopback host,
 * for tests); the message names the file, never what is in it. */
static void check_webhook(struct ctx *c, struct config_receiver *r, const struct ynode *n)
{
        static const char *const https[] = { "https", NULL };
        static const char *const http[] = { "http", NULL };
        const char *v = secret_value(r->webhook_url);
        if (v == NULL)
                return;
        if (valid_url(v, https) || (valid_url(v, http) && url_host_is_loopback(v)))
                return;
        report(c, yamldoc_get(n, "webhook_url_file"),
               "webhook_url_file \"%s\" does not hold an https URL (http only to a loopback "
               "host: 127.0.0.0/8, [::1], localhost)",
               secret_source(r->webhook_url));
}

static void walk_receivers(struct ctx *c, const struct ynode *n)
{
        struct config *cfg = c->cfg;
        char where[300];
        if (n->kind != YNODE_MAP) {
                report(c, n, "expected a mapping of receivers, got %s", kind_name(n));
                return;
        }
        cfg->receivers = arena_alloc(&cfg->arena, (n->count / 2 + 1) * sizeof(*cfg->receivers));
        if (cfg->receivers == NULL) {
                c->rc = -ENOMEM;
                return;
        }
        for (size_t i = 0; i + 1 < n->count; i += 2) {
                const struct ynode *k = n->items[i], *v = n->items[i + 1];
                if (k->kind != YNODE_SCALAR || k->len == 0) {
                        report(c, k, "expected a receiver name");
                        continue;
                }
                if (seen_before(n, i / 2)) {
                        report(c, k, "duplicate receiver \"%s\"", k->value);
                        continue;
                }
                struct config_receiver *r = &cfg->receivers[cfg->receiver_count++];
                memset(r, 0, sizeof(*r));
                apply_defaults(receiver_fields, r);
                r->name = arena_strdup(&cfg->arena, k->value);
                r->line = v->line;
                r->col = v->col;
                snprintf(where, sizeof(where), "receiver \"%s\"", k->value);
                walk_section(c, receiver_fields, r, v, where);
                check_receiver(c, r, v);
                check_webhook(c, r, v);
                check_signing(c, r, v);
                check_headers(c, v);
        }
}

const struct config_receiver *config_receiver(const struct config *c, const char *name)
{
        for (size_t i = 0; c != NULL && i < c->receiver_count; i++)
                if (strcmp(c->receivers[i].name, name) == 0)
                        return &c->receivers[i];
        return NULL;
}

/* ---- rules ------------------------------------------------------------- */

/* The YAML node that yamldoc_to_yajl turned into target, found by walking
 * both trees in step (they have the same shape). */
static const struct ynode *ynode_of(const struct ynode *n, yajl_val v, yajl_val target)
{
        const struct ynode *found = NULL;
        if (v == target)
                return n;
        if (n->kind == YNODE_MAP && YAJL_IS_OBJECT(v)) {
                for (size_t i = 0; found == NULL && i < v->u.object.len && 2 * i + 1 < n->count;
                     i++)
                        found = ynode_of(n->items[2 * i + 1], v->u.object.values[i], target);
        } else if (n->kind == YNODE_SEQ && YAJL_IS_ARRAY(v)) {
                for (size_t i = 0; found == NULL && i < v->u.array.len && i < n->count; i++)
                        found = ynode_of(n->items[i], v->u.array.values[i], target);
        }
        return found;
}

/* A bad content filter is reported at the offending YAML node. */
static void check_match(struct ctx *c, const struct ynode *n, yajl_val match)
{
        char err[CPPO_ERRLEN];
        yajl_val where = NULL;
        if (pattern_validate(match, &where, err, sizeof(err)) == 0)
                return;
        const struct ynode *at = where != NULL ? ynode_of(n, match, where) : NULL;
        report(c, at != NULL ? at : n, "%s", err);
}

static void walk_match(struct ctx *c, void *base, size_t off, const struct ynode *n)
{
        struct config_rule *rule = base;
        if (n->kind != YNODE_MAP) {
                report(c, n, "expected a mapping for match, got %s", kind_name(n));
                return;
        }
        yajl_tree_free(rule->match);
        rule->match = NULL;
        rule->match_line = n->line;
        rule->match_col = n->col;
        if (n->count == 0) { /* a catch-all must say so; cppo-notify.yaml(5) shows how */
                report(c, n,
                       "empty match mapping: to match every notification, write "
                       "match: { kind: [{ exists: true }] }");
                return;
        }
        int rc = yamldoc_to_yajl(n, (yajl_val *)at(base, off));
        if (rc == -EINVAL)
                report(c, n, "match keys must be strings");
        else if (rc < 0)
                c->rc = rc;
        else
                check_match(c, n, rule->match);
}

/* Names are unique across files; every receiver must be defined. */
static void check_rule(struct ctx *c, const struct config_rule *r, const struct ynode *n)
{
        const struct ynode *list = yamldoc_get(n, "receivers");
        for (size_t i = 0; i + 1 < c->cfg->rule_count; i++) {
                const struct config_rule *o = &c->cfg->rules[i];
                if (r->name != NULL && o->name != NULL && strcmp(o->name, r->name) == 0)
                        report(c, yamldoc_get(n, "name"), "rule \"%s\" is already defined in %s",
                               r->name, o->file);
        }
        if (list == NULL || list->kind != YNODE_SEQ)
                return;
        for (size_t i = 0; i < list->count; i++) {
                const struct ynode *it = list->items[i];
                if (it->kind == YNODE_SCALAR && config_receiver(c->cfg, it->value) == NULL)
                        report(c, it, "receiver \"%s\" is not defined", it->value);
        }
}

static void walk_rules(struct ctx *c, const struct ynode *root)
{
        struct config *cfg = c->cfg;
        const struct ynode *list = yamldoc_get(root, "rules");
        if (root->kind != YNODE_MAP || root->count != 2 || list == NULL) {
                report(c, root, "a rules file must hold exactly one key, \"rules\"");
                return;
        }
        if (list->kind != YNODE_SEQ) {
                report(c, list, "expected a list of rules, got %s", kind_name(list));
                return;
        }
        for (size_t i = 0; i < list->count; i++) {
                if (cfg->rule_count >= CONFIG_MAX_RULES) {
                        report(c, list->items[i], "more than %d rules", CONFIG_MAX_RULES);
                        return;
                }
                if (cfg->rule_count % 16 == 0) {
                        struct config_rule *p = realloc(cfg->rules,
                                                        (cfg->rule_count + 16) * sizeof(*p));
                        if (p == NULL) {
                                c->rc = -ENOMEM;
                                return;
                        }
                        cfg->rules = p;
                }
                struct config_rule *r = &cfg->rules[cfg->rule_count++];
                memset(r, 0, sizeof(*r));
                r->file = arena_strdup(&cfg->arena, c->path);
                walk_section(c, rule_fields, r, list->items[i], "rule");
                check_rule(c, r, list->items[i]);
        }
}

/* ---- cross-section checks ---------------------------------------------- */

static void check_smtp(struct ctx *c, const struct ynode *root)
{
        struct config *cfg = c->cfg;
        const struct config_receiver *email = NULL;
        for (size_t i = 0; i < cfg->receiver_count && email == NULL; i++)
                if (cfg->receivers[i].type_name != NULL &&
                    cfg->receivers[i].type == CONFIG_RECEIVER_EMAIL)
                        email = &cfg->receivers[i];
        const struct ynode *smtp = yamldoc_get(root, "smtp");
        const struct ynode *where = smtp != NULL ? smtp : root;
        if (email != NULL && cfg->smtp.url == NULL && yamldoc_get(smtp, "url") == NULL)
                report(c, where,
                       "missing required key \"url\" in smtp (receiver \"%s\" sends email)",
                       email->name);
        if (email != NULL && cfg->smtp.from == NULL && yamldoc_get(smtp, "from") == NULL)
                report(c, where,
                       "missing required key \"from\" in smtp (receiver \"%s\" sends email)",
                       email->name);
        if (cfg->smtp.starttls == NULL)
                cfg->smtp.starttls = cfg->smtp.url != NULL && url_host_is_loopback(cfg->smtp.url)
                                         ? "optional"
                                         : "required";
}

/* host:port with a numeric port (0: any free port, for tests); loopback
 * unless allowed otherwise. */
static void check_listen(struct ctx *c, const struct ynode *root)
{
        const char *l = c->cfg->http.listen;
        const struct ynode *n = yamldoc_get(yamldoc_get(root, "http"), "listen");
        const char *colon = strrchr(l, ':');
        long port = 0;
        if (colon == NULL || colon == l || parse_long(colon + 1, &port) < 0 || port < 0 ||
            port > 65535) {
                report(c, n,
                       "http listen must be host:port with a port between 0 and 65535, got \"%s\"",
                       l);
                return;
        }
        if (!c->cfg->http.allow_non_loopback && !host_is_loopback(l, (size_t)(colon - l)))
                report(c, n,
                       "http listen address \"%s\" is not loopback (set allow_non_loopback: true "
                       "to allow it)",
                       l);
}

/* aws: present when written (even empty: `aws: {}` turns the sync on); a
 * region is part of the signing scope and the host name, so only its
 * characters (letters, digits, '-') are allowed. */
static void check_aws(struct ctx *c, const struct ynode *root)
{
        const struct ynode *aws = yamldoc_get(root, "aws");
        const char *r = c->cfg->aws.region;

        c->cfg->aws.present = aws != NULL;
        if (aws == NULL || r == NULL)
                return;
        if (r[0] == '\0' || strlen(r) > 32 ||
            strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(r))
                report(c, yamldoc_get(aws, "region") ? yamldoc_get(aws, "region") : aws,
                       "aws region \"%s\" is not a region name like \"us-east-1\"", r);
}

/* store.url: PostgreSQL instead of the SQLite file, so never beside
 * store.path; its password from password_file (or libpq's own files),
 * which without a URL would be read for nothing. */
static void check_store(struct ctx *c, const struct ynode *root)
{
        const struct ynode *store = yamldoc_get(root, "store");
        const struct ynode *url = yamldoc_get(store, "url");
        const char *u = c->cfg->store.url;

        if (url != NULL && yamldoc_get(store, "path") != NULL)
                report(c, url, "store.url and store.path are mutually exclusive: give one");
        if (u != NULL && strncasecmp(u, "postgresql://", 13) != 0 &&
            strncasecmp(u, "postgres://", 11) != 0)
                report(c, url, "store.url must be a postgresql:// or postgres:// URL");
        if (url == NULL && yamldoc_get(store, "password_file") != NULL)
                report(c, yamldoc_get(store, "password_file"),
                       "store.password_file needs store.url (the SQLite store has no password)");
}

/* ha: election needs the shared PostgreSQL store; the takeover time must
 * cover a poll plus the 4 s leader.h needs at least (3 s of keepalives to
 * drop a silent leader, 1 s to take over). */
static void check_ha(struct ctx *c, const struct ynode *root)
{
        const struct ynode *ha = yamldoc_get(root, "ha");
        const struct config *cfg = c->cfg;

        if (ha == NULL)
                return;
        if (cfg->ha.enabled && strcmp(cfg->ha.enabled, "true") == 0 && cfg->store.url == NULL)
                report(c, yamldoc_get(ha, "enabled"),
                       "ha.enabled: true needs a PostgreSQL store (store.url): a SQLite file "
                       "cannot be shared by two instances");
        if (cfg->ha.takeover < cfg->ha.poll + 4)
                report(c, yamldoc_get(ha, "poll") ? yamldoc_get(ha, "poll") : ha,
                       "ha.poll (%lds) must be at least 4s shorter than ha.takeover (%lds)",
                       cfg->ha.poll, cfg->ha.takeover);
}

bool config_ha_enabled(const struct config *c)
{
        if (c->ha.enabled == NULL || strcmp(c->ha.enabled, "auto") == 0)
                return c->store.url != NULL;
        return strcmp(c->ha.enabled, "true") == 0;
}

bool config_aws_sync(const struct config *c)
{
        return c->aws.present && c->aws.enabled;
}

/* ---- reload: what only a restart changes ------------------------------- */

static const void *cat(const void *base, size_t off)
{
        return (const char *)base + off;
}

static bool same_str(const char *a, const char *b)
{
        return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_list(const struct config_strlist *a, const struct config_strlist *b)
{
        if (a->count != b->count)
                return false;
        for (size_t i = 0; i < a->count; i++)
                if (!same_str(a->items[i], b->items[i]))
                        return false;
        return true;
}

static bool same_map(const struct config_strmap *a, const struct config_strmap *b)
{
        if (a->count != b->count)
                return false;
        for (size_t i = 0; i < a->count; i++)
                if (!same_str(a->keys[i], b->keys[i]) || !same_str(a->values[i], b->values[i]))
                        return false;
        return true;
}

/* Whether field f holds the same value in two structs of its table. Only
 * plain values may be restart-only: secrets, receivers and rules are what
 * a reload is for. */
static bool field_same(const struct field *f, const void *o, const void *n)
{
        const void *a = cat(o, f->off), *b = cat(n, f->off);

        switch (f->type) {
        case F_INT:
        case F_DURATION: return *(const long *)a == *(const long *)b;
        case F_BOOL: return *(const bool *)a == *(const bool *)b;
        case F_STRLIST:
        case F_EMAILLIST: return same_list(a, b);
        case F_STRMAP: return same_map(a, b);
        case F_STRING:
        case F_ENUM:
        case F_EMAIL:
        case F_URL:
        case F_PATH: return same_str(*(const char *const *)a, *(const char *const *)b);
        default: return true;
        }
}

static int keep_str(struct arena *a, const char **to, const char *from)
{
        *to = from != NULL ? arena_strdup(a, from) : NULL;
        return from != NULL && *to == NULL ? -ENOMEM : 0;
}

/* Copies a running list into the next config's arena. */
static int keep_list(struct arena *a, struct config_strlist *to, const struct config_strlist *from)
{
        const char **items = arena_alloc(a, (from->count + 1) * sizeof(*items));
        int r = items == NULL ? -ENOMEM : 0;

        for (size_t i = 0; r == 0 && i < from->count; i++)
                r = keep_str(a, &items[i], from->items[i]);
        if (r < 0)
                return r;
        to->items = items;
        to->count = from->count;
        return 0;
}

static int keep_map(struct arena *a, struct config_strmap *to, const struct config_strmap *from)
{
        struct config_strlist keys = { from->keys, from->count }, k2;
        struct config_strlist values = { from->values, from->count }, v2;
        int r = keep_list(a, &k2, &keys);

        if (r == 0)
                r = keep_list(a, &v2, &values);
        if (r < 0)
                return r;
        to->keys = k2.items;
        to->values = v2.items;
        to->count = from->count;
        return 0;
}

/* n's value of f becomes o's (field_same's types; others stay). */
static int keep_field(struct arena *a, const struct field *f, const void *o, void *n)
{
        const void *from = cat(o, f->off);
        void *to = at(n, f->off);

        switch (f->type) {
        case F_INT:
        case F_DURATION: *(long *)to = *(const long *)from; return 0;
        case F_BOOL: *(bool *)to = *(const bool *)from; return 0;
        case F_STRLIST:
        case F_EMAILLIST: return keep_list(a, to, from);
        case F_STRMAP: return keep_map(a, to, from);
        case F_STRING:
        case F_ENUM:
        case F_EMAIL:
        case F_URL:
        case F_PATH: return keep_str(a, to, *(const char *const *)from);
        default: return 0;
        }
}

/* Appends "section.key" to the comma-separated list in out (cut short
 * when full: it is read in a log line). */
static void note_change(char *out, size_t outlen, const char *section, const char *key)
{
        size_t len = out != NULL && outlen > 0 ? strlen(out) : outlen;

        if (len + 1 < outlen)
                snprintf(out + len, outlen - len, "%s%s%s%s", len > 0 ? "," : "",
                         section != NULL ? section : "", section != NULL ? "." : "", key);
}

struct keep {
        struct arena *arena; /* of the next config */
        char *changed;
        size_t changedlen;
};

/* Walks a table over the running (o) and next (n) structs it describes:
 * each restart-only key (flagged, or inside a flagged section) that
 * differs is named, then takes its running value. */
static int keep_table(struct keep *k, const struct field *tab, const char *section, bool restart,
                      const void *o, void *n)
{
        int r = 0;

        for (const struct field *f = tab; r == 0 && f->key != NULL; f++) {
                bool keep = restart || f->restart;
                if (f->type == F_SECTION) {
                        r = keep_table(k, f->sub, f->key, keep, cat(o, f->off), at(n, f->off));
                        continue;
                }
                if (!keep)
                        continue;
                if (!field_same(f, o, n))
                        note_change(k->changed, k->changedlen, section, f->key);
                r = keep_field(k->arena, f, o, n);
        }
        return r;
}

int config_keep_restart_only(const struct config *running, struct config *next, char *changed,
                             size_t changedlen)
{
        struct keep k = { &next->arena, changed, changedlen };

        int r;

        if (changed != NULL && changedlen > 0)
                changed[0] = '\0';
        r = keep_table(&k, main_fields, NULL, false, running, next);
        /* present is the aws section's existence, not one of its keys */
        if (running->aws.present != next->aws.present)
                note_change(changed, changedlen, NULL, "aws");
        next->aws.present = running->aws.present;
        return r;
}

/* ---- files ------------------------------------------------------------- */

/* Whole file into a NUL-terminated heap buffer, at most CONFIG_MAX_FILE. */
static int read_text(const char *path, char **out, size_t *len)
{
        struct buf b = BUF_INIT(CONFIG_MAX_FILE);
        char chunk[8192];
        int rc = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        rc = n < 0 ? -errno : 0;
                        break;
                }
                rc = buf_append(&b, chunk, (size_t)n);
                if (rc < 0)
                        break;
        }
        close(fd);
        *len = b.len;
        *out = rc == 0 ? buf_steal(&b) : NULL;
        buf_deinit(&b);
        return rc == 0 && *out == NULL ? -ENOMEM : rc;
}

/* Parses c->text; NULL after reporting a syntax error or an empty file. */
static struct ynode *parse_text(struct ctx *c)
{
        struct ynode *root = NULL;
        char err[CPPO_ERRLEN];
        int line = 0, col = 0;
        struct yamldoc_context began;
        int rc = yamldoc_parse_context(&root, c->text, c->len, &line, &col, err, sizeof(err),
                                       &began);
        if (rc == -ENOMEM) {
                c->rc = rc;
                return NULL;
        }
        if (rc < 0) {
                struct ynode at_mark = { .line = line, .col = col };
                struct ynode at_start = { .line = began.line, .col = began.col };
                if (began.line > 0) /* an unclosed [ { or quote: where it began */
                        report(c, &at_start, "%s", began.what);
                report(c, &at_mark, "%s", err);
                return NULL;
        }
        if (root == NULL)
                report(c, NULL, "file is empty");
        return root;
}

static void load_rules_file(struct ctx *c, const char *path)
{
        char *text = NULL;
        size_t len = 0;
        struct ctx rc = *c;
        rc.path = path;
        int r = read_text(path, &text, &len);
        if (r < 0) {
                report(&rc, NULL, "cannot read rules file: %s", strerror(-r));
                c->rc = rc.rc;
                return;
        }
        rc.text = text;
        rc.len = len;
        struct ynode *root = parse_text(&rc);
        if (root != NULL)
                walk_rules(&rc, root);
        yamldoc_free(root);
        free(text);
        c->rc = rc.rc;
}

static int yaml_name(const struct dirent *d)
{
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0;
}

/* The *.yaml files of rules_dir, in file-name order. A missing default directory means
 * no rules; a missing configured one is an error at its key. */
static void load_rules(struct ctx *c, const struct ynode *dir_node)
{
        struct dirent **names = NULL;
        char path[PATH_MAX];
        int n = scandir(c->cfg->rules_dir, &names, yaml_name, alphasort);
        if (n < 0) {
                if (dir_node != NULL || errno != ENOENT)
                        report(c, dir_node, "cannot read rules directory \"%s\": %s",
                               c->cfg->rules_dir, strerror(errno));
                return;
        }
        for (int i = 0; i < n; i++) {
                if (snprintf(path, sizeof(path), "%s/%s", c->cfg->rules_dir, names[i]->d_name) <
                    (int)sizeof(path))
                        load_rules_file(c, path);
                free(names[i]);
        }
        free(names);
}

/* ---- entry points ------------------------------------------------------ */

static const char *dir_of(struct arena *a, const char *path)
{
        const char *slash = strrchr(path, '/');
        if (slash == NULL)
                return ".";
        return slash == path ? "/" : arena_strndup(a, path, (size_t)(slash - path));
}

static void walk_main(struct ctx *c, const struct ynode *root)
{
        struct config *cfg = c->cfg;
        apply_defaults(main_fields, cfg);
        walk_section(c, main_fields, cfg, root, "the configuration");
        if (root->kind != YNODE_MAP)
                return;
        check_smtp(c, root);
        check_listen(c, root);
        check_aws(c, root);
        check_store(c, root);
        check_ha(c, root);
        if (cfg->rules_dir == NULL)
                cfg->rules_dir = resolve(c, "rules.d");
        if (cfg->templates_dir == NULL)
                cfg->templates_dir = resolve(c, "templates");
        if (c->needs & CONFIG_NEED_ROUTING)
                load_rules(c, yamldoc_get(root, "rules_dir"));
}

int config_load_buffer(struct config **out, const char *path, const char *data, size_t len,
                       struct config_errors *errs)
{
        return config_load_buffer_for(out, path, data, len, CONFIG_NEED_ALL, errs);
}

int config_load_buffer_for(struct config **out, const char *path, const char *data, size_t len,
                           unsigned needs, struct config_errors *errs)
{
        struct ctx c = { .errs = errs, .path = path, .text = data, .len = len, .needs = needs };
        size_t before = errs->count + errs->dropped;

        *out = NULL;
        struct config *cfg = calloc(1, sizeof(*cfg));
        if (cfg == NULL)
                return -ENOMEM;
        arena_init(&cfg->arena, CONFIG_ARENA_MAX);
        c.cfg = cfg;
        c.dir = dir_of(&cfg->arena, path);
        if (c.dir == NULL) {
                config_free(cfg);
                return -ENOMEM;
        }
        struct ynode *root = parse_text(&c);
        if (root != NULL)
                walk_main(&c, root);
        yamldoc_free(root);
        if (c.rc < 0 || errs->count + errs->dropped > before) {
                config_free(cfg);
                return c.rc < 0 ? c.rc : -EINVAL;
        }
        *out = cfg;
        return 0;
}

int config_load(struct config **out, const char *path, struct config_errors *errs)
{
        return config_load_for(out, path, CONFIG_NEED_ALL, errs);
}

int config_load_for(struct config **out, const char *path, unsigned needs,
                    struct config_errors *errs)
{
        char *text = NULL;
        size_t len = 0;
        int rc = read_text(path, &text, &len);

        *out = NULL;
        if (rc < 0) {
                int added = rc == -E2BIG
                                ? config_errors_add(errs, path, 0, 0, NULL, 0,
                                                    "file is larger than %d bytes", CONFIG_MAX_FILE)
                                : config_errors_add(errs, path, 0, 0, NULL, 0,
                                                    "cannot read file: %s", strerror(-rc));
                return rc == -ENOMEM || added == -ENOMEM ? -ENOMEM : -EINVAL;
        }
        rc = config_load_buffer_for(out, path, text, len, needs, errs);
        free(text);
        return rc;
}

const char *config_store_target(const struct config *c)
{
        return c->store.url != NULL ? c->store.url : c->store.path;
}

const char *config_store_password(const struct config *c)
{
        return c->store.password != NULL ? secret_value(c->store.password) : NULL;
}

int config_store_busy_ms(const struct config *c)
{
        long s = c->store.busy_timeout;

        return s <= 0 ? 0 : s > 86400 ? 86400 * 1000 : (int)(s * 1000);
}

void config_free(struct config *c)
{
        if (c == NULL)
                return;
        secret_free(c->smtp.password);
        secret_free(c->store.password);
        for (size_t i = 0; i < c->receiver_count; i++) {
                secret_free(c->receivers[i].webhook_url);
                for (size_t k = 0; k < c->receivers[i].signing.count; k++)
                        secret_free(c->receivers[i].signing.items[k]);
        }
        for (size_t i = 0; i < c->rule_count; i++)
                yajl_tree_free(c->rules[i].match);
        free(c->rules);
        arena_deinit(&c->arena);
        free(c);
}
