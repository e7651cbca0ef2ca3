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

int jscan_run(struct jscan *s, const char *json, size_t len)
{
        yajl_status st;

        reset(s);
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
