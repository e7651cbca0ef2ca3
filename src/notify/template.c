/* cppo-notify — Mustache templates: compile to a flat node list, render
 * against a yajl tree. */
#include "cppo/template.h"

#include "cppo/error.h"
#include "cppo/utf8.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DELIM_MAX 8
#define STACK_MAX 512

enum node_type { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL };

/* Strings are (offset, length) into the template's own copy of the source.
 * A section's children are the nodes (index, end). */
struct node {
        enum node_type type;
        size_t off, len;
        size_t ind_off, ind_len; /* standalone partial indentation */
        size_t end;
        size_t at; /* where the tag starts, for error messages */
};

struct template
{
        char *src;
        size_t srclen;
        struct node *nodes;
        size_t count, cap;
};

struct parser {
        struct template *t;
        const char *s;
        size_t len, pos;
        char otag[DELIM_MAX], ctag[DELIM_MAX];
        size_t olen, clen;
        size_t open[TEMPLATE_MAX_NESTING];
        size_t depth;
        char *err;
        size_t errlen;
};

static int syntax_error(const struct parser *p, size_t at, const char *what)
{
        size_t line = 1, col = 1;

        for (size_t i = 0; i < at && i < p->len; i++) {
                if (p->s[i] == '\n') {
                        line++;
                        col = 1;
                } else {
                        col++;
                }
        }
        return error_set(p->err, p->errlen, -EINVAL, "template %zu:%zu: %s", line, col, what);
}

static int add_node(struct template *t, enum node_type type, size_t off, size_t len)
{
        if (t->count == t->cap) {
                size_t ncap = t->cap ? t->cap * 2 : 16;
                struct node *n = realloc(t->nodes, ncap * sizeof(*n));

                if (!n)
                        return -ENOMEM;
                t->nodes = n;
                t->cap = ncap;
        }
        t->nodes[t->count] = (struct node){ .type = type, .off = off, .len = len };
        t->count++;
        return 0;
}

static int add_text(struct template *t, size_t from, size_t to)
{
        return to > from ? add_node(t, N_TEXT, from, to - from) : 0;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
        return is_blank(c) || c == '\n' || c == '\r';
}

static const char *find(const char *s, size_t len, size_t from, const char *pat, size_t plen)
{
        if (from >= len)
                return NULL;
        return memmem(s + from, len - from, pat, plen);
}

/* Sets *ws to where the tag's line starts and *next to just past its line
 * end when the tag at [start, end) stands alone on its line. */
static bool standalone(const struct parser *p, size_t start, size_t end, size_t *ws, size_t *next)
{
        size_t i = start, j = end;

        while (i > p->pos && is_blank(p->s[i - 1]))
                i--;
        if (i != 0 && p->s[i - 1] != '\n')
                return false;
        while (j < p->len && is_blank(p->s[j]))
                j++;
        if (j < p->len && p->s[j] == '\r' && j + 1 < p->len && p->s[j + 1] == '\n')
                j++;
        if (j < p->len && p->s[j] != '\n')
                return false;
        *ws = i;
        *next = j < p->len ? j + 1 : j;
        return true;
}

static int set_delims(struct parser *p, size_t off, size_t len, size_t at)
{
        const char *c = p->s + off;
        size_t a = 0, b, d;

        while (a < len && !is_space(c[a]) && c[a] != '=')
                a++;
        b = a;
        while (b < len && is_space(c[b]))
                b++;
        d = b;
        while (d < len && !is_space(c[d]) && c[d] != '=')
                d++;
        if (a == 0 || a >= DELIM_MAX || b == a || d == b || d != len || d - b >= DELIM_MAX)
                return syntax_error(p, at, "bad delimiter");
        memcpy(p->otag, c, a);
        p->olen = a;
        memcpy(p->ctag, c + b, d - b);
        p->clen = d - b;
        return 0;
}

static int open_section(struct parser *p, enum node_type type, size_t off, size_t len, size_t at)
{
        if (p->depth == TEMPLATE_MAX_NESTING)
                return syntax_error(p, at, "sections nested too deep");
        int rc;

        p->open[p->depth++] = p->t->count;
        rc = add_node(p->t, type, off, len);
        if (rc == 0)
                p->t->nodes[p->t->count - 1].at = at;
        return rc;
}

static int close_section(struct parser *p, size_t off, size_t len, size_t at)
{
        struct node *n;

        if (p->depth == 0)
                return syntax_error(p, at, "close tag without open section");
        n = &p->t->nodes[p->open[p->depth - 1]];
        if (n->len != len || memcmp(p->s + n->off, p->s + off, len) != 0)
                return syntax_error(p, at, "mismatched close tag");
        n->end = p->t->count;
        p->depth--;
        return 0;
}

static int do_tag(struct parser *p, char kind, size_t off, size_t len, size_t at, size_t ws)
{
        int rc;

        switch (kind) {
        case '!': return 0;
        case '=': return set_delims(p, off, len, at);
        case '#': return open_section(p, N_SECTION, off, len, at);
        case '^': return open_section(p, N_INVERTED, off, len, at);
        case '/': return close_section(p, off, len, at);
        case '>':
                rc = add_node(p->t, N_PARTIAL, off, len);
                if (rc == 0) {
                        p->t->nodes[p->t->count - 1].ind_off = ws;
                        p->t->nodes[p->t->count - 1].ind_len = at - ws;
                }
                return rc;
        case '{':
        case '&': return add_node(p->t, N_RAW, off, len);
        default: return add_node(p->t, N_VAR, off, len);
        }
}

/* Parses one tag at `at`; advances p->pos past it. */
static int parse_tag(struct parser *p, size_t at)
{
        size_t inner = at + p->olen, off, len, end, ws, next;
        char kind = inner < p->len ? p->s[inner] : 0;
        char close[DELIM_MAX + 1];
        size_t cl = p->clen;
        const char *e;

        memcpy(close + (kind == '{' || kind == '='), p->ctag, p->clen);
        if (kind == '{' || kind == '=') {
                close[0] = kind == '{' ? '}' : '=';
                cl++;
        }
        if (strchr("!=#^/>{&", kind) && kind)
                inner++;
        e = find(p->s, p->len, inner, close, cl);
        if (!e)
                return syntax_error(p, at, "unclosed tag");
        end = (size_t)(e - p->s) + cl;
        off = inner;
        len = (size_t)(e - p->s) - inner;
        while (len && is_space(p->s[off])) {
                off++;
                len--;
        }
        while (len && is_space(p->s[off + len - 1]))
                len--;
        if (len == 0 && kind != '!')
                return syntax_error(p, at, "empty tag");
        ws = at;
        next = end;
        if (!strchr("!=#^/>", kind) || !kind || !standalone(p, at, end, &ws, &next)) {
                ws = at;
                next = end;
        }
        if (add_text(p->t, p->pos, ws) != 0)
                return -ENOMEM;
        p->pos = next;
        return do_tag(p, kind, off, len, at, ws);
}

static int parse(struct parser *p)
{
        while (p->pos < p->len) {
                const char *o = find(p->s, p->len, p->pos, p->otag, p->olen);
                int rc;

                if (!o)
                        break;
                rc = parse_tag(p, (size_t)(o - p->s));
                if (rc != 0)
                        return rc;
        }
        if (add_text(p->t, p->pos, p->len) != 0)
                return -ENOMEM;
        if (p->depth > 0)
                return syntax_error(p, p->t->nodes[p->open[p->depth - 1]].at, "unclosed section");
        return 0;
}

int template_compile(struct template **out, const char *text, size_t len, char *err, size_t errlen)
{
        struct parser p = { .olen = 2, .clen = 2, .err = err, .errlen = errlen, .len = len };
        struct template *t;
        int rc;

        *out = NULL;
        if (len > TEMPLATE_MAX_SOURCE)
                return error_set(err, errlen, -E2BIG, "template larger than %d bytes",
                                 TEMPLATE_MAX_SOURCE);
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->src = malloc(len + 1);
        if (!t->src) {
                rc = -ENOMEM;
                goto fail;
        }
        if (len)
                memcpy(t->src, text, len);
        t->src[len] = '\0';
        t->srclen = len;
        memcpy(p.otag, "{{", 2);
        memcpy(p.ctag, "}}", 2);
        p.t = t;
        p.s = t->src;
        rc = parse(&p);
        if (rc != 0)
                goto fail;
        *out = t;
        return 0;
fail:
        template_free(t);
        return rc;
}

void template_free(struct template *t)
{
        if (!t)
                return;
        free(t->nodes);
        free(t->src);
        free(t);
}

/* ------------------------------------------------------------------ render */

struct render {
        const struct template_partials *partials;
        enum template_escape esc;
        struct buf *out;
        yajl_val stack[STACK_MAX];
        size_t depth;
        int pdepth;
        size_t steps;
        char *err;
        size_t errlen;
};

static yajl_val object_get(yajl_val v, const char *name, size_t len, bool *found)
{
        *found = false;
        if (!YAJL_IS_OBJECT(v))
                return NULL;
        for (size_t i = 0; i < v->u.object.len; i++) {
                const char *k = v->u.object.keys[i];

                if (strlen(k) == len && memcmp(k, name, len) == 0) {
                        *found = true;
                        return v->u.object.values[i];
                }
        }
        return NULL;
}

/* Mustache name resolution: "." is the top of the stack; the first part of a
 * dotted name is looked up down the context stack, the rest inside it. */
static yajl_val lookup(const struct render *r, const char *name, size_t len)
{
        const char *dot = memchr(name, '.', len);
        size_t first = dot ? (size_t)(dot - name) : len;
        yajl_val v = NULL;
        bool found = false;

        if (len == 1 && name[0] == '.')
                return r->depth ? r->stack[r->depth - 1] : NULL;
        for (size_t i = r->depth; i > 0 && !found; i--)
                v = object_get(r->stack[i - 1], name, first, &found);
        while (found && dot) {
                const char *seg = dot + 1;

                dot = memchr(seg, '.', len - (size_t)(seg - name));
                first = dot ? (size_t)(dot - seg) : len - (size_t)(seg - name);
                v = object_get(v, seg, first, &found);
        }
        return found ? v : NULL;
}

static bool truthy(yajl_val v)
{
        if (!v || YAJL_IS_NULL(v) || YAJL_IS_FALSE(v))
                return false;
        if (YAJL_IS_ARRAY(v))
                return v->u.array.len > 0;
        return true;
}

static int put_json_char(struct buf *b, unsigned char c)
{
        switch (c) {
        case '"': return buf_puts(b, "\\\"");
        case '\\': return buf_puts(b, "\\\\");
        case '\n': return buf_puts(b, "\\n");
        case '\r': return buf_puts(b, "\\r");
        case '\t': return buf_puts(b, "\\t");
        default:
                if (c < 0x20 || c == 0x7f)
                        return buf_printf(b, "\\u%04x", c);
                return buf_putc(b, (char)c);
        }
}

static const char *entity(char c)
{
        switch (c) {
        case '&': return "&amp;";
        case '<': return "&lt;";
        case '>': return "&gt;";
        case '"': return "&quot;";
        default: return NULL;
        }
}

/* Length of the mark (U+FDD0, U+FDD1) at s, else 0. */
static size_t mark_len(const char *s, size_t n)
{
        bool mark = n >= 3 && memcmp(s, "\xef\xb7", 2) == 0 && (s[2] == '\x90' || s[2] == '\x91');

        return mark ? 3 : 0;
}

/* Appends one byte of an interpolated value, escaped for the mode. The
 * mrkdwn escaping of SLACK mode happens later, in template_text(). */
static int put_value_char(struct render *r, char c, bool raw)
{
        const char *ent = !raw && r->esc == TEMPLATE_ESCAPE_HTML ? entity(c) : NULL;

        switch (r->esc) {
        case TEMPLATE_ESCAPE_HEADER: return buf_putc(r->out, c == '\r' || c == '\n' ? ' ' : c);
        case TEMPLATE_ESCAPE_SLACK:
        case TEMPLATE_ESCAPE_JSON: return put_json_char(r->out, (unsigned char)c);
        default: return ent ? buf_puts(r->out, ent) : buf_putc(r->out, c);
        }
}

/* Bytes of a value the mode drops at s: bidi controls in HEADER and SLACK
 * mode (a Slack message is read line by line, its fallback text on one),
 * and marks in SLACK mode (a value must not open or close one). */
static size_t dropped(const struct render *r, const char *s, size_t n)
{
        if (r->esc != TEMPLATE_ESCAPE_SLACK && r->esc != TEMPLATE_ESCAPE_HEADER)
                return 0;
        if (r->esc == TEMPLATE_ESCAPE_SLACK && mark_len(s, n))
                return 3;
        return utf8_bidi_len(s, n);
}

static int put_value(struct render *r, const char *s, size_t n, bool raw)
{
        bool marked = !raw && r->esc == TEMPLATE_ESCAPE_SLACK;
        int rc = marked ? buf_puts(r->out, TEMPLATE_MARK_OPEN) : 0;

        for (size_t i = 0; i < n && rc == 0;) {
                size_t skip = dropped(r, s + i, n - i);

                if (skip == 0)
                        rc = put_value_char(r, s[i], raw);
                i += skip ? skip : 1;
        }
        if (rc == 0 && marked)
                rc = buf_puts(r->out, TEMPLATE_MARK_CLOSE);
        return rc;
}

/* ---------------------------------------------------------- template_text */

#define ZWSP "\xe2\x80\x8b" /* U+200B ZERO WIDTH SPACE */

static bool is_alnum(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* One byte of a marked value in a mrkdwn string; bol: only blanks since
 * the line began (or a quote's >); inword: a letter or digit on both sides. Slack documents
 * escaping for & < > only. For the formatting characters it has none, so
 * they get a zero width space on both sides: whether Slack takes U+200B for
 * a space or for a letter, the character can then neither open nor close
 * bold, italic, strike or code. A look-alike (fullwidth asterisk, ...)
 * would change what people read and copy; U+200B changes nothing visible.
 * Inside a word (new_order, a*b) such a character opens and closes
 * nothing, so it stays as it is and ids copy cleanly. A quote is a > first
 * on a line, so only there does it need one. */
static int put_mrkdwn(struct buf *out, char c, bool bol, bool inword)
{
        switch (c) {
        case '&': return buf_puts(out, "&amp;");
        case '<': return buf_puts(out, "&lt;");
        case '>': return buf_puts(out, bol ? ZWSP "&gt;" : "&gt;");
        case '*':
        case '_':
        case '~':
        case '`': return inword ? buf_putc(out, c) : buf_printf(out, ZWSP "%c" ZWSP, c);
        default: return buf_putc(out, c);
        }
}

int template_text(const char *s, enum template_text kind, struct buf *out)
{
        size_t n = strlen(s);
        bool data = false, bol = true;
        int rc = 0;

        for (size_t i = 0; i < n && rc == 0;) {
                size_t skip = mark_len(s + i, n - i);
                char c = s[i];

                if (skip)
                        data = s[i + 2] == '\x90';
                else if (kind == TEMPLATE_TEXT_LINE)
                        skip = utf8_bidi_len(s + i, n - i);
                if (skip) {
                        i += skip;
                        continue;
                }
                if (kind == TEMPLATE_TEXT_LINE && (c == '\r' || c == '\n'))
                        c = ' ';
                if (data && kind == TEMPLATE_TEXT_MRKDWN)
                        rc = put_mrkdwn(out, c, bol,
                                        i > 0 && is_alnum(s[i - 1]) && is_alnum(s[i + 1]));
                else
                        rc = buf_putc(out, c);
                /* a > after a quote's own > could still nest one */
                bol = c == '\n' || (bol && (c == ' ' || c == '\t' || c == '>'));
                i++;
        }
        return rc;
}

static int interpolate(struct render *r, yajl_val v, bool raw)
{
        char num[64];
        int n;

        if (YAJL_IS_STRING(v))
                return put_value(r, v->u.string, strlen(v->u.string), raw);
        if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
                return put_value(r, YAJL_IS_TRUE(v) ? "true" : "false", YAJL_IS_TRUE(v) ? 4 : 5,
                                 raw);
        if (YAJL_IS_INTEGER(v))
                n = snprintf(num, sizeof(num), "%lld", YAJL_GET_INTEGER(v));
        else if (YAJL_IS_DOUBLE(v))
                n = snprintf(num, sizeof(num), "%.15g", YAJL_GET_DOUBLE(v));
        else if (YAJL_IS_NUMBER(v))
                n = snprintf(num, sizeof(num), "%.60s", YAJL_GET_NUMBER(v));
        else
                return 0;
        return put_value(r, num, n > 0 ? (size_t)n : 0, raw);
}

static int render_range(struct render *r, const struct template *t, size_t from, size_t to);

static int push(struct render *r, yajl_val v)
{
        if (r->depth == STACK_MAX)
                return error_set(r->err, r->errlen, -E2BIG, "context stack too deep");
        r->stack[r->depth++] = v;
        return 0;
}

static int section(struct render *r, const struct template *t, size_t i)
{
        const struct node *n = &t->nodes[i];
        yajl_val v = lookup(r, t->src + n->off, n->len);
        int rc = 0;

        if (n->type == N_INVERTED)
                return truthy(v) ? 0 : render_range(r, t, i + 1, n->end);
        if (!truthy(v))
                return 0;
        if (!YAJL_IS_ARRAY(v)) {
                rc = push(r, v);
                if (rc == 0)
                        rc = render_range(r, t, i + 1, n->end);
                r->depth--;
                return rc;
        }
        for (size_t k = 0; k < v->u.array.len && rc == 0; k++) {
                rc = push(r, v->u.array.values[k]);
                if (rc == 0)
                        rc = render_range(r, t, i + 1, n->end);
                r->depth--;
        }
        return rc;
}

static const char *partial_source(const struct render *r, const char *name, size_t len)
{
        if (!r->partials)
                return NULL;
        for (size_t i = 0; i < r->partials->count; i++) {
                const struct template_partial *p = &r->partials->items[i];

                if (p->name && p->source && strlen(p->name) == len &&
                    memcmp(p->name, name, len) == 0)
                        return p->source;
        }
        return NULL;
}

/* The partial's source with `ind` before every line, as the spec asks for
 * standalone partials. */
static int indent_source(struct buf *b, const char *src, const char *ind, size_t ilen)
{
        bool bol = true;
        int rc = 0;

        for (const char *c = src; *c && rc == 0; c++) {
                if (bol)
                        rc = buf_append(b, ind, ilen);
                if (rc == 0)
                        rc = buf_putc(b, *c);
                bol = *c == '\n';
        }
        return rc;
}

static int partial(struct render *r, const struct template *t, const struct node *n)
{
        const char *src = partial_source(r, t->src + n->off, n->len);
        struct buf b = BUF_INIT(TEMPLATE_MAX_SOURCE);
        struct template *pt = NULL;
        int rc;

        if (!src)
                return 0;
        if (r->pdepth >= TEMPLATE_MAX_PARTIAL_DEPTH)
                return error_set(r->err, r->errlen, -E2BIG, "partials nested deeper than %d",
                                 TEMPLATE_MAX_PARTIAL_DEPTH);
        rc = indent_source(&b, src, t->src + n->ind_off, n->ind_len);
        if (rc != 0)
                goto out;
        rc = template_compile(&pt, buf_cstr(&b), b.len, r->err, r->errlen);
        if (rc != 0)
                goto out;
        r->pdepth++;
        rc = render_range(r, pt, 0, pt->count);
        r->pdepth--;
out:
        template_free(pt);
        buf_deinit(&b);
        return rc;
}

static int render_range(struct render *r, const struct template *t, size_t from, size_t to)
{
        size_t i = from;
        int rc = 0;

        while (i < to && rc == 0) {
                const struct node *n = &t->nodes[i];

                if (++r->steps > TEMPLATE_MAX_STEPS)
                        return error_set(r->err, r->errlen, -E2BIG,
                                         "rendering takes more than %d steps", TEMPLATE_MAX_STEPS);

                switch (n->type) {
                case N_TEXT: rc = buf_append(r->out, t->src + n->off, n->len); break;
                case N_VAR:
                case N_RAW:
                        rc = interpolate(r, lookup(r, t->src + n->off, n->len), n->type == N_RAW);
                        break;
                case N_SECTION:
                case N_INVERTED:
                        rc = section(r, t, i);
                        i = n->end;
                        continue;
                case N_PARTIAL: rc = partial(r, t, n); break;
                }
                i++;
        }
        if (rc == -E2BIG && r->err && r->errlen && !r->err[0])
                error_set(r->err, r->errlen, rc, "output larger than %zu bytes", r->out->max);
        return rc;
}

int template_render(const struct template *t, const yajl_val ctx, enum template_escape esc,
                    const struct template_partials *partials, struct buf *out, char *err,
                    size_t errlen)
{
        struct render *r = calloc(1, sizeof(*r));
        size_t start = out->len;
        int rc;

        if (!r)
                return -ENOMEM;
        if (err && errlen)
                err[0] = '\0';
        r->partials = partials;
        r->esc = esc;
        r->out = out;
        r->err = err;
        r->errlen = errlen;
        rc = ctx ? push(r, ctx) : 0;
        if (rc == 0)
                rc = render_range(r, t, 0, t->count);
        if (esc == TEMPLATE_ESCAPE_HEADER) {
                for (size_t i = start; i < out->len; i++)
                        if (out->data[i] == '\r' || out->data[i] == '\n')
                                out->data[i] = ' ';
        }
        free(r);
        return rc;
}
