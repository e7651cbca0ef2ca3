/* cppo-notify — streaming path capture over yajl (see include/cppo/jscan.h). */
#include "cppo/jscan.h"

#include "cppo/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define JSCAN_MAX_VALUES 100000
#define JSCAN_MAX_KEY    256
#define JSCAN_MAX_FIELDS 128 /* field ids indexed by jscan_find() */

struct jnode {
        char *key; /* member name; NULL for the root and array elements */
        size_t key_len;
        char *path; /* dotted, for error messages */
        enum jscan_type type;
        int field; /* -1 for intermediate nodes */
        struct jnode **kids;
        size_t n_kids;
        struct jnode *elem; /* JSCAN_OBJECT_ARRAY: the element object */
};

struct jframe {
        const struct jnode *node;     /* NULL: an ignored container */
        const struct jnode *key_node; /* object: node of the current member */
        bool is_array;
        int32_t index; /* array: index of the next element */
        int32_t elem;  /* enclosing object-array element, or -1 */
};

struct jscan {
        struct jnode root;
        struct jframe *frames;
        size_t depth, max_depth;
        struct arena arena;
        struct jscan_value *values;
        size_t n_values, cap_values;
        char key[JSCAN_MAX_KEY + 1]; /* current string-map member name */
        size_t key_len;
        int32_t last[JSCAN_MAX_FIELDS]; /* value index + 1 of the last top-level value */
        int status;
        char error[160];
        yajl_handle yajl;
        bool no_fast;    /* jscan_set_fast(s, false): yajl only */
        size_t fast_ok;  /* documents the fast path decided */
        char *unescaped; /* the fast path's decoded strings, one at a time */
        size_t unescaped_cap;
};

/* ---- the path tree ---- */

static void jnode_clear(struct jnode *n)
{
        for (size_t i = 0; i < n->n_kids; i++) {
                jnode_clear(n->kids[i]);
                free(n->kids[i]);
        }
        if (n->elem) {
                jnode_clear(n->elem);
                free(n->elem);
        }
        free(n->kids);
        free(n->key);
        free(n->path);
        memset(n, 0, sizeof *n);
}

static struct jnode *jnode_child(const struct jnode *n, const char *key, size_t len)
{
        /* length and first byte first: most members are not ours */
        for (size_t i = 0; i < n->n_kids; i++)
                if (n->kids[i]->key_len == len && len && n->kids[i]->key[0] == key[0] &&
                    memcmp(n->kids[i]->key, key, len) == 0)
                        return n->kids[i];
        return NULL;
}

static struct jnode *jnode_add(struct jnode *parent, const char *key, size_t len, const char *path,
                               size_t pathlen)
{
        struct jnode *n = calloc(1, sizeof *n), **kids;

        if (n == NULL)
                return NULL;
        n->type = JSCAN_OBJECT;
        n->field = -1;
        n->key = strndup(key, len);
        n->key_len = len;
        n->path = strndup(path, pathlen);
        kids = realloc(parent->kids, (parent->n_kids + 1) * sizeof *kids);
        if (n->key == NULL || n->path == NULL || kids == NULL) {
                if (kids)
                        parent->kids = kids;
                jnode_clear(n);
                free(n);
                return NULL;
        }
        kids[parent->n_kids++] = n;
        parent->kids = kids;
        return n;
}

/* Walks (creating) one dotted path; "x[]" segments make object arrays. */
static int jnode_insert(struct jnode *root, const struct jscan_path *p)
{
        struct jnode *n = root;
        const char *seg = p->path;

        for (;;) {
                size_t len = strcspn(seg, ".");
                bool array = len > 2 && memcmp(seg + len - 2, "[]", 2) == 0;
                size_t keylen = array ? len - 2 : len;
                bool last = seg[len] == '\0';
                struct jnode *kid;

                if (keylen == 0 || n->type != JSCAN_OBJECT)
                        return -EINVAL;
                kid = jnode_child(n, seg, keylen);
                if (kid == NULL && (kid = jnode_add(n, seg, keylen, p->path,
                                                    (size_t)(seg - p->path) + keylen)) == NULL)
                        return -ENOMEM;
                if (array) {
                        if (last || (kid->type != JSCAN_OBJECT && kid->type != JSCAN_OBJECT_ARRAY))
                                return -EINVAL;
                        kid->type = JSCAN_OBJECT_ARRAY;
                        if (kid->elem == NULL && (kid->elem = calloc(1, sizeof *kid->elem)) == NULL)
                                return -ENOMEM;
                        kid->elem->type = JSCAN_OBJECT;
                        kid->elem->field = -1;
                        kid = kid->elem;
                }
                if (last) {
                        if (kid->n_kids || kid->field >= 0)
                                return -EINVAL;
                        kid->type = p->type;
                        kid->field = p->field;
                        return 0;
                }
                n = kid;
                seg += len + 1;
        }
}

/* ---- recording ---- */

/* Records why the parse stops: "msg" or "msg at path". */
static int fail(struct jscan *s, int status, const char *msg, const char *path)
{
        s->status = status;
        if (path)
                snprintf(s->error, sizeof s->error, "%s at %s", msg, path);
        else
                snprintf(s->error, sizeof s->error, "%s", msg);
        return 0; /* cancels the yajl parse */
}

static int record(struct jscan *s, const struct jnode *n, const char *str, size_t len, bool boolean,
                  const char *key)
{
        struct jscan_value *v;

        if (s->n_values == s->cap_values) {
                size_t cap = s->cap_values ? s->cap_values * 2 : 64;
                if (cap > JSCAN_MAX_VALUES)
                        return fail(s, JSCAN_TOO_LARGE, "more than 100000 captured values", NULL);
                v = realloc(s->values, cap * sizeof *v);
                if (v == NULL)
                        return fail(s, -ENOMEM, "out of memory", NULL);
                s->values = v;
                s->cap_values = cap;
        }
        v = &s->values[s->n_values];
        v->field = n->field;
        v->elem = s->depth ? s->frames[s->depth - 1].elem : -1;
        v->boolean = boolean;
        v->len = len;
        v->str = str ? arena_strndup(&s->arena, str, len) : NULL;
        v->key = key ? arena_strndup(&s->arena, key, strlen(key)) : NULL;
        if ((str && v->str == NULL) || (key && v->key == NULL))
                return fail(s, JSCAN_TOO_LARGE, "document too large", NULL);
        if (v->elem < 0 && v->field < JSCAN_MAX_FIELDS)
                s->last[v->field] = (int32_t)s->n_values + 1;
        s->n_values++;
        return 1;
}

/* Where the next value goes, from the innermost open container. */
enum target { T_IGNORE, T_ROOT, T_MEMBER, T_ARRAY_ELEM, T_MAP_MEMBER };

static enum target target(const struct jscan *s, const struct jnode **node)
{
        const struct jframe *f;

        *node = NULL;
        if (s->depth == 0) {
                *node = &s->root;
                return T_ROOT;
        }
        f = &s->frames[s->depth - 1];
        if (f->node == NULL)
                return T_IGNORE;
        *node = f->node;
        if (f->is_array)
                return T_ARRAY_ELEM;
        if (f->node->type == JSCAN_STRING_MAP)
                return T_MAP_MEMBER;
        *node = f->key_node;
        return f->key_node ? T_MEMBER : T_IGNORE;
}

static void next_element(struct jscan *s)
{
        if (s->depth && s->frames[s->depth - 1].is_array)
                s->frames[s->depth - 1].index++;
}

enum scalar { S_NULL, S_BOOL, S_NUMBER, S_STRING };

static int scalar(struct jscan *s, enum scalar kind, const char *str, size_t len, bool b)
{
        const struct jnode *n;
        enum target t = target(s, &n);
        int r = 1;

        if (kind == S_NULL || t == T_IGNORE) {
                next_element(s);
                return 1;
        }
        if (t == T_MAP_MEMBER && kind == S_STRING) {
                s->key[s->key_len] = '\0';
                r = record(s, n, str, len, false, s->key);
        } else if (t == T_ARRAY_ELEM && n->type == JSCAN_STRING_ARRAY && kind == S_STRING) {
                r = record(s, n, str, len, false, NULL);
        } else if (t == T_MEMBER && n->type == JSCAN_STRING && kind == S_STRING) {
                r = record(s, n, str, len, false, NULL);
        } else if (t == T_MEMBER && n->type == JSCAN_BOOL && kind == S_BOOL) {
                r = record(s, n, NULL, 0, b, NULL);
        } else {
                return fail(s, JSCAN_WRONG_TYPE, "unexpected JSON type",
                            t == T_ARRAY_ELEM && n->elem ? n->path
                            : n->path                    ? n->path
                                                         : "(root)");
        }
        next_element(s);
        return r;
}

static int on_null(void *ctx)
{
        return scalar(ctx, S_NULL, NULL, 0, false);
}

static int on_boolean(void *ctx, int b)
{
        return scalar(ctx, S_BOOL, NULL, 0, b != 0);
}

static int on_number(void *ctx, const char *num, size_t len)
{
        return scalar(ctx, S_NUMBER, num, len, false);
}

static int on_string(void *ctx, const unsigned char *str, size_t len)
{
        return scalar(ctx, S_STRING, (const char *)str, len, false);
}

static int push(struct jscan *s, const struct jnode *node, bool is_array, int32_t elem)
{
        struct jframe *f;

        if (s->depth == s->max_depth)
                return fail(s, JSCAN_TOO_DEEP, "nesting deeper than the limit", NULL);
        f = &s->frames[s->depth++];
        f->node = node;
        f->key_node = NULL;
        f->is_array = is_array;
        f->index = 0;
        f->elem = elem;
        return 1;
}

static int32_t inherited_elem(const struct jscan *s)
{
        return s->depth ? s->frames[s->depth - 1].elem : -1;
}

static int on_start_map(void *ctx)
{
        struct jscan *s = ctx;
        const struct jnode *n;
        enum target t = target(s, &n);

        if (t == T_IGNORE)
                return push(s, NULL, false, inherited_elem(s));
        if (t == T_ROOT ||
            (t == T_MEMBER && (n->type == JSCAN_OBJECT || n->type == JSCAN_STRING_MAP)))
                return push(s, n, false, inherited_elem(s));
        if (t == T_ARRAY_ELEM && n->type == JSCAN_OBJECT_ARRAY)
                return push(s, n->elem, false, s->frames[s->depth - 1].index);
        return fail(s, JSCAN_WRONG_TYPE, "unexpected object", n->path);
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
        struct jscan *s = ctx;
        struct jframe *f = &s->frames[s->depth - 1];

        if (f->node == NULL)
                return 1;
        if (f->node->type == JSCAN_STRING_MAP) {
                if (len > JSCAN_MAX_KEY)
                        return fail(s, JSCAN_TOO_LARGE, "member name too long", f->node->path);
                memcpy(s->key, key, len);
                s->key_len = len;
                return 1;
        }
        f->key_node = jnode_child(f->node, (const char *)key, len);
        return 1;
}

static int pop(struct jscan *s)
{
        s->depth--;
        next_element(s);
        return 1;
}

static int on_end(void *ctx)
{
        return pop(ctx);
}

static int on_start_array(void *ctx)
{
        struct jscan *s = ctx;
        const struct jnode *n;
        enum target t = target(s, &n);

        if (t == T_IGNORE || t == T_ROOT)
                return push(s, NULL, true, inherited_elem(s));
        if (t == T_MEMBER && (n->type == JSCAN_STRING_ARRAY || n->type == JSCAN_OBJECT_ARRAY))
                return push(s, n, true, inherited_elem(s));
        return fail(s, JSCAN_WRONG_TYPE, "unexpected array", n->path);
}

static const yajl_callbacks callbacks = {
        .yajl_null = on_null,
        .yajl_boolean = on_boolean,
        .yajl_number = on_number,
        .yajl_string = on_string,
        .yajl_start_map = on_start_map,
        .yajl_map_key = on_map_key,
        .yajl_end_map = on_end,
        .yajl_start_array = on_start_array,
        .yajl_end_array = on_end,
};

/* ---- the fast path ----
 *
 * yajl's lexer costs about 36 instructions a byte, the largest single cost
 * of handling a message. Most documents are plain: an object at the root,
 * strings whose escapes are the one-letter ones, plain numbers, literals,
 * spaces, tabs and line ends between tokens. fast_run() walks such a
 * document and calls the very callbacks yajl would, in the same order with
 * the same bytes. Whatever it is not sure of (any syntax error, a callback
 * refusing, a \u escape, a \v or \f between tokens, another root) makes
 * jscan_run() start over with yajl, whose verdict and words are then the
 * result: the fast path only ever skips yajl where yajl would accept the
 * document and call back the same way. */

/* The fast path's answer: the document is done, or yajl must decide. */
enum fast { FAST_YAJL, FAST_OK };

static const char *skip_ws(const char *p, const char *end)
{
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
                ++p;
        return p;
}

/* What may follow a number or a literal. */
static bool delimits(const char *p, const char *end)
{
        return p == end || *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ',' ||
               *p == ']' || *p == '}';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Room in the unescaped buffer for n bytes (never more than a document). */
static bool unescaped_room(struct jscan *s, size_t n)
{
        char *grown;

        if (n <= s->unescaped_cap)
                return true;
        grown = realloc(s->unescaped, n);
        if (grown == NULL)
                return false;
        s->unescaped = grown;
        s->unescaped_cap = n;
        return true;
}

/* Bytes that end a plain run inside a string: the quote, the backslash and
 * the control characters yajl refuses there. */
static const bool string_stop[256] = {
        [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
        [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
        [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
        [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
        [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1,
};

/* What each one-letter escape stands for (0: not one the fast path takes;
 * \u goes to yajl). */
static const char escape_of[256] = {
        ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
        ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t',
};

/* The string whose opening quote is at *pp: its bytes (in the document, or
 * unescaped into s->unescaped) and length; *pp moves past the closing
 * quote. NULL for what yajl must judge. */
static const char *fast_string(struct jscan *s, const char **pp, const char *end, size_t *len)
{
        const char *start = *pp + 1, *q = start;
        size_t n;

        while (q < end && !string_stop[(unsigned char)*q])
                ++q;
        if (q < end && *q == '"') { /* no escape: the document's own bytes */
                *len = (size_t)(q - start);
                *pp = q + 1;
                return start;
        }
        if (q == end || *q != '\\' || !unescaped_room(s, (size_t)(end - start)))
                return NULL;
        n = (size_t)(q - start);
        memcpy(s->unescaped, start, n);
        while (q < end && *q != '"') {
                const char *run = q;
                while (q < end && !string_stop[(unsigned char)*q])
                        ++q;
                memcpy(s->unescaped + n, run, (size_t)(q - run));
                n += (size_t)(q - run);
                if (q == end || *q == '"')
                        break;
                if (*q != '\\' || q + 1 == end || escape_of[(unsigned char)q[1]] == 0)
                        return NULL; /* a control character, \u, or not an escape */
                s->unescaped[n++] = escape_of[(unsigned char)q[1]];
                q += 2;
        }
        if (q == end)
                return NULL;
        *len = n;
        *pp = q + 1;
        return s->unescaped;
}

/* A number as yajl lexes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
 * then a delimiter. Its length, 0 for what yajl must judge. */
static size_t fast_number(const char *p, const char *end)
{
        const char *q = p;

        if (q < end && *q == '-')
                ++q;
        if (q < end && *q == '0')
                ++q;
        else if (q < end && *q >= '1' && *q <= '9')
                while (q < end && is_digit(*q))
                        ++q;
        else
                return 0;
        if (q < end && *q == '.') {
                if (++q == end || !is_digit(*q))
                        return 0;
                while (q < end && is_digit(*q))
                        ++q;
        }
        if (q < end && (*q == 'e' || *q == 'E')) {
                if (++q < end && (*q == '+' || *q == '-'))
                        ++q;
                if (q == end || !is_digit(*q))
                        return 0;
                while (q < end && is_digit(*q))
                        ++q;
        }
        return delimits(q, end) ? (size_t)(q - p) : 0;
}

/* true, false or null at *pp, then a delimiter: its callback's answer (0
 * also for what yajl must judge). */
static int fast_literal(struct jscan *s, const char **pp, const char *end)
{
        static const struct {
                const char *word;
                size_t len;
        } words[] = { { "true", 4 }, { "false", 5 }, { "null", 4 } };

        for (int i = 0; i < 3; i++) {
                const char *p = *pp;
                if ((size_t)(end - p) < words[i].len ||
                    memcmp(p, words[i].word, words[i].len) != 0 || !delimits(p + words[i].len, end))
                        continue;
                *pp = p + words[i].len;
                return i == 2 ? on_null(s) : on_boolean(s, i == 0);
        }
        return 0;
}

/* One value at *pp (a container only opened); its callback's answer. */
static int fast_value(struct jscan *s, const char **pp, const char *end)
{
        const char *p = *pp, *str;
        size_t len;

        switch (*p) {
        case '{': *pp = p + 1; return on_start_map(s);
        case '[': *pp = p + 1; return on_start_array(s);
        case '"':
                str = fast_string(s, pp, end, &len);
                return str ? on_string(s, (const unsigned char *)str, len) : 0;
        case 't':
        case 'f':
        case 'n': return fast_literal(s, pp, end);
        default:
                len = fast_number(p, end);
                *pp = p + len;
                return len ? on_number(s, p, len) : 0;
        }
}

/* Where the walk is: what may come next. */
enum expect { X_VALUE, X_AFTER_VALUE, X_KEY, X_KEY_OR_END, X_VALUE_OR_END };

static enum fast fast_run(struct jscan *s, const char *json, size_t len)
{
        const char *p = skip_ws(json, json + len), *end = json + len, *key;
        enum expect x = X_VALUE;
        size_t klen;

        if (p == end || *p != '{')
                return FAST_YAJL;
        for (;; p = skip_ws(p, end)) {
                char open = p < end ? *p : '\0'; /* '\0': the end (a NUL byte goes to yajl) */
                bool in_array = s->depth && s->frames[s->depth - 1].is_array;

                if (x == X_AFTER_VALUE && s->depth == 0)
                        return p == end ? FAST_OK : FAST_YAJL; /* the root is complete */
                if (p == end)
                        return FAST_YAJL;
                if ((x == X_KEY_OR_END && open == '}') || (x == X_VALUE_OR_END && open == ']') ||
                    (x == X_AFTER_VALUE && open == (in_array ? ']' : '}'))) {
                        ++p;
                        if (!on_end(s))
                                return FAST_YAJL;
                        x = X_AFTER_VALUE;
                } else if (x == X_AFTER_VALUE) {
                        if (open != ',')
                                return FAST_YAJL;
                        ++p;
                        x = in_array ? X_VALUE : X_KEY;
                } else if (x == X_KEY || x == X_KEY_OR_END) {
                        if (open != '"' || (key = fast_string(s, &p, end, &klen)) == NULL ||
                            !on_map_key(s, (const unsigned char *)key, klen))
                                return FAST_YAJL;
                        p = skip_ws(p, end);
                        if (p == end || *p != ':')
                                return FAST_YAJL;
                        ++p;
                        x = X_VALUE;
                } else {
                        if (!fast_value(s, &p, end))
                                return FAST_YAJL;
                        x = open == '{'   ? X_KEY_OR_END
                            : open == '[' ? X_VALUE_OR_END
                                          : X_AFTER_VALUE;
                }
        }
}

/* ---- public ---- */

int jscan_new(struct jscan **out, const struct jscan_path *paths, size_t n, size_t max_depth,
              size_t arena_max)
{
        struct jscan *s = calloc(1, sizeof *s);
        int r = 0;

        if (s == NULL)
                return -ENOMEM;
        s->root.type = JSCAN_OBJECT;
        s->root.field = -1;
        s->max_depth = max_depth;
        arena_init(&s->arena, arena_max);
        s->frames = calloc(max_depth ? max_depth : 1, sizeof *s->frames);
        if (s->frames == NULL)
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = jnode_insert(&s->root, &paths[i]);
        if (r < 0) {
                jscan_free(s);
                return r;
        }
        *out = s;
        return 0;
}

void jscan_free(struct jscan *s)
{
        if (s == NULL)
                return;
        if (s->yajl)
                yajl_free(s->yajl);
        free(s->unescaped);
        jnode_clear(&s->root);
        arena_deinit(&s->arena);
        free(s->frames);
        free(s->values);
        free(s);
}

static void reset(struct jscan *s)
{
        arena_reset(&s->arena);
        memset(s->last, 0, sizeof s->last);
        s->n_values = 0;
        s->depth = 0;
        s->status = JSCAN_OK;
        s->error[0] = '\0';
}

void jscan_set_fast(struct jscan *s, bool on)
{
        s->no_fast = !on;
}

size_t jscan_fast_count(const struct jscan *s)
{
        return s->fast_ok;
}

int jscan_run(struct jscan *s, const char *json, size_t len)
{
        yajl_status st;

        reset(s);
        if (!s->no_fast && fast_run(s, json, len) == FAST_OK) {
                s->fast_ok++;
                return JSCAN_OK;
        }
        reset(s); /* yajl decides, from the start */
        /* A handle per document: yajl keeps state after an error or the end. */
        if (s->yajl)
                yajl_free(s->yajl);
        s->yajl = yajl_alloc(&callbacks, NULL, s);
        if (s->yajl == NULL)
                return -ENOMEM;
        /* The caller validates UTF-8 up front (decode does, strictly), and
         * what yajl unescapes from a valid document stays valid. */
        yajl_config(s->yajl, yajl_dont_validate_strings, 1);
        st = yajl_parse(s->yajl, (const unsigned char *)json, len);
        if (st == yajl_status_ok)
                st = yajl_complete_parse(s->yajl);
        if (s->status < 0)
                return s->status;
        if (st == yajl_status_client_canceled)
                return s->status;
        if (st != yajl_status_ok) {
                unsigned char *msg = yajl_get_error(s->yajl, 0, NULL, 0);
                snprintf(s->error, sizeof s->error, "%s", msg ? (const char *)msg : "invalid JSON");
                s->error[strcspn(s->error, "\r\n")] = '\0'; /* yajl ends it with a newline */
                if (msg)
                        yajl_free_error(s->yajl, msg);
                return s->status = JSCAN_INVALID_JSON;
        }
        return JSCAN_OK;
}

const char *jscan_error(const struct jscan *s)
{
        return s->error;
}

size_t jscan_count(const struct jscan *s)
{
        return s->n_values;
}

const struct jscan_value *jscan_value(const struct jscan *s, size_t i)
{
        return i < s->n_values ? &s->values[i] : NULL;
}

const struct jscan_value *jscan_find(const struct jscan *s, int field)
{
        if (field >= 0 && field < JSCAN_MAX_FIELDS)
                return s->last[field] ? &s->values[s->last[field] - 1] : NULL;
        for (size_t i = s->n_values; i-- > 0;)
                if (s->values[i].field == field && s->values[i].elem < 0)
                        return &s->values[i];
        return NULL;
}
