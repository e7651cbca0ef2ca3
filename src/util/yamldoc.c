/* YAML event stream -> located node tree. */
#include "cppo/yamldoc.h"

#include "cppo/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct builder {
        struct ynode *stack[YAMLDOC_MAX_DEPTH + 1];
        size_t depth;
        size_t nodes;
        struct ynode *root;
};

static int add_child(struct ynode *parent, struct ynode *child)
{
        size_t n = parent->count;
        /* Capacity doubles: 4, 8, 16, ... so growth happens at those counts. */
        if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
                size_t cap = n == 0 ? 4 : n * 2;
                struct ynode **p = realloc(parent->items, cap * sizeof(*p));
                if (p == NULL)
                        return -ENOMEM;
                parent->items = p;
        }
        parent->items[parent->count++] = child;
        return 0;
}

static struct ynode *node_new(enum ynode_kind kind, const yaml_mark_t *m)
{
        struct ynode *n = calloc(1, sizeof(*n));
        if (n == NULL)
                return NULL;
        n->kind = kind;
        n->line = (int)m->line + 1;
        n->col = (int)m->column + 1;
        return n;
}

/* Attaches n to the open collection (or makes it the root) and, for
 * collections, opens it. Owns n on every path. */
static int attach(struct builder *b, struct ynode *n, char *err, size_t errlen)
{
        int rc = 0;
        if (++b->nodes > YAMLDOC_MAX_NODES)
                rc = error_set(err, errlen, -E2BIG, "document has more than %d nodes",
                               YAMLDOC_MAX_NODES);
        else if (n->kind != YNODE_SCALAR && b->depth >= YAMLDOC_MAX_DEPTH)
                rc = error_set(err, errlen, -E2BIG, "document nested deeper than %d levels",
                               YAMLDOC_MAX_DEPTH);
        else if (b->depth > 0)
                rc = add_child(b->stack[b->depth - 1], n);
        else
                b->root = n;
        if (rc < 0) {
                yamldoc_free(n);
                return rc == -ENOMEM ? error_set(err, errlen, rc, "out of memory") : rc;
        }
        if (n->kind != YNODE_SCALAR)
                b->stack[b->depth++] = n;
        return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev, char *err, size_t errlen)
{
        struct ynode *n = node_new(YNODE_SCALAR, &ev->start_mark);
        if (n == NULL)
                return error_set(err, errlen, -ENOMEM, "out of memory");
        n->len = ev->data.scalar.length;
        n->value = malloc(n->len + 1);
        if (n->value == NULL) {
                yamldoc_free(n);
                return error_set(err, errlen, -ENOMEM, "out of memory");
        }
        memcpy(n->value, ev->data.scalar.value, n->len);
        n->value[n->len] = '\0';
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        return attach(b, n, err, errlen);
}

static int on_event(struct builder *b, const yaml_event_t *ev, char *err, size_t errlen)
{
        struct ynode *n;
        switch (ev->type) {
        case YAML_ALIAS_EVENT: return error_set(err, errlen, -EINVAL, "aliases are not supported");
        case YAML_SCALAR_EVENT:
                if (ev->data.scalar.anchor != NULL)
                        return error_set(err, errlen, -EINVAL, "anchors are not supported");
                return on_scalar(b, ev, err, errlen);
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                if (ev->data.sequence_start.anchor != NULL && ev->type == YAML_SEQUENCE_START_EVENT)
                        return error_set(err, errlen, -EINVAL, "anchors are not supported");
                if (ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.anchor != NULL)
                        return error_set(err, errlen, -EINVAL, "anchors are not supported");
                n = node_new(ev->type == YAML_MAPPING_START_EVENT ? YNODE_MAP : YNODE_SEQ,
                             &ev->start_mark);
                if (n == NULL)
                        return error_set(err, errlen, -ENOMEM, "out of memory");
                return attach(b, n, err, errlen);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: b->depth--; return 0;
        case YAML_DOCUMENT_START_EVENT:
                if (b->root != NULL)
                        return error_set(err, errlen, -EINVAL,
                                         "only one YAML document per file is supported");
                return 0;
        default: return 0;
        }
}

static void set_mark(const yaml_mark_t *m, int *line, int *col)
{
        if (line != NULL)
                *line = (int)m->line + 1;
        if (col != NULL)
                *col = (int)m->column + 1;
}

/* libyaml names the construct it was inside ("while parsing a flow
 * sequence"). For a bracket or quote left open that is where the mistake
 * is (parsing stops lines later, often at end of file), so it is said in
 * the reader's terms; a block mapping's start (often line 1) is not. */
static const struct {
        const char *libyaml, *said;
} contexts[] = {
        { "while parsing a flow sequence", "unclosed flow sequence started here" },
        { "while parsing a flow mapping", "unclosed flow mapping started here" },
        { "while scanning a quoted scalar", "unterminated quoted string started here" },
};

static void describe_context(const yaml_parser_t *p, struct yamldoc_context *ctx)
{
        if (p->context == NULL || (p->context_mark.line == p->problem_mark.line &&
                                   p->context_mark.column == p->problem_mark.column))
                return;
        for (size_t i = 0; i < sizeof(contexts) / sizeof(contexts[0]); i++)
                if (strcmp(p->context, contexts[i].libyaml) == 0) {
                        set_mark(&p->context_mark, &ctx->line, &ctx->col);
                        snprintf(ctx->what, sizeof(ctx->what), "%s", contexts[i].said);
                        return;
                }
}

static int parse_error(yaml_parser_t *p, int *line, int *col, char *err, size_t errlen,
                       struct yamldoc_context *ctx)
{
        set_mark(&p->problem_mark, line, col);
        if (p->error == YAML_MEMORY_ERROR)
                return error_set(err, errlen, -ENOMEM, "out of memory");
        if (ctx != NULL)
                describe_context(p, ctx);
        return error_set(err, errlen, -EINVAL, "%s%s%s",
                         p->problem != NULL ? p->problem : "invalid YAML",
                         p->context != NULL ? " " : "", p->context != NULL ? p->context : "");
}

int yamldoc_parse(struct ynode **out, const char *data, size_t len, int *line, int *col, char *err,
                  size_t errlen)
{
        return yamldoc_parse_context(out, data, len, line, col, err, errlen, NULL);
}

int yamldoc_parse_context(struct ynode **out, const char *data, size_t len, int *line, int *col,
                          char *err, size_t errlen, struct yamldoc_context *ctx)
{
        yaml_parser_t p;
        yaml_event_t ev;
        struct builder b = { .depth = 0 };
        int rc = 0;
        bool done = false;

        *out = NULL;
        if (ctx != NULL)
                *ctx = (struct yamldoc_context){ .line = 0 };
        if (!yaml_parser_initialize(&p))
                return error_set(err, errlen, -ENOMEM, "out of memory");
        yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
        while (!done && rc == 0) {
                if (!yaml_parser_parse(&p, &ev)) {
                        rc = parse_error(&p, line, col, err, errlen, ctx);
                        break;
                }
                done = ev.type == YAML_STREAM_END_EVENT;
                rc = on_event(&b, &ev, err, errlen);
                if (rc < 0)
                        set_mark(&ev.start_mark, line, col);
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&p);
        if (rc < 0) {
                yamldoc_free(b.root);
                return rc;
        }
        *out = b.root;
        return 0;
}

const struct ynode *yamldoc_get(const struct ynode *map, const char *key)
{
        if (map == NULL || map->kind != YNODE_MAP)
                return NULL;
        for (size_t i = 0; i + 1 < map->count; i += 2)
                if (map->items[i]->kind == YNODE_SCALAR && strcmp(map->items[i]->value, key) == 0)
                        return map->items[i + 1];
        return NULL;
}

void yamldoc_free(struct ynode *n)
{
        if (n == NULL)
                return;
        for (size_t i = 0; i < n->count; i++)
                yamldoc_free(n->items[i]);
        free(n->items);
        free(n->value);
        free(n);
}

static yajl_val yval_new(yajl_type t)
{
        yajl_val v = calloc(1, sizeof(*v));
        if (v != NULL)
                v->type = t;
        return v;
}

/* A plain scalar that parses completely as a number becomes one. */
static yajl_val number_from(const char *s)
{
        char *end;
        yajl_val v;
        unsigned flags = 0;
        long long i;
        double d;

        if (*s == '\0' || strchr("+-.0123456789", *s) == NULL)
                return NULL;
        errno = 0;
        i = strtoll(s, &end, 10);
        if (*end == '\0' && errno == 0)
                flags |= YAJL_NUMBER_INT_VALID;
        errno = 0;
        d = strtod(s, &end);
        if (*end == '\0' && errno == 0 && strpbrk(s, "xXnNiI") == NULL)
                flags |= YAJL_NUMBER_DOUBLE_VALID;
        if (flags == 0)
                return NULL;
        v = yval_new(yajl_t_number);
        if (v == NULL)
                return NULL;
        v->u.number.r = strdup(s);
        if (v->u.number.r == NULL) {
                free(v);
                return NULL;
        }
        v->u.number.i = i;
        v->u.number.d = d;
        v->u.number.flags = flags;
        return v;
}

static yajl_val scalar_to_yajl(const struct ynode *n)
{
        yajl_val v;
        if (n->plain) {
                if (strcmp(n->value, "true") == 0)
                        return yval_new(yajl_t_true);
                if (strcmp(n->value, "false") == 0)
                        return yval_new(yajl_t_false);
                if (n->len == 0 || strcmp(n->value, "null") == 0 || strcmp(n->value, "~") == 0)
                        return yval_new(yajl_t_null);
                v = number_from(n->value);
                if (v != NULL)
                        return v;
        }
        v = yval_new(yajl_t_string);
        if (v == NULL)
                return NULL;
        v->u.string = strdup(n->value);
        if (v->u.string == NULL) {
                free(v);
                return NULL;
        }
        return v;
}

static int map_to_yajl(const struct ynode *n, yajl_val v)
{
        size_t pairs = n->count / 2;
        v->u.object.keys = calloc(pairs + 1, sizeof(*v->u.object.keys));
        if (v->u.object.keys == NULL)
                return -ENOMEM;
        v->u.object.values = calloc(pairs + 1, sizeof(*v->u.object.values));
        if (v->u.object.values == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < pairs; i++) {
                const struct ynode *k = n->items[2 * i];
                if (k->kind != YNODE_SCALAR)
                        return -EINVAL;
                v->u.object.keys[i] = strdup(k->value);
                if (v->u.object.keys[i] == NULL)
                        return -ENOMEM;
                v->u.object.len = i + 1;
                int rc = yamldoc_to_yajl(n->items[2 * i + 1], &v->u.object.values[i]);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int seq_to_yajl(const struct ynode *n, yajl_val v)
{
        v->u.array.values = calloc(n->count + 1, sizeof(*v->u.array.values));
        if (v->u.array.values == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < n->count; i++) {
                int rc = yamldoc_to_yajl(n->items[i], &v->u.array.values[i]);
                v->u.array.len = i + 1;
                if (rc < 0)
                        return rc;
        }
        return 0;
}

int yamldoc_to_yajl(const struct ynode *n, yajl_val *out)
{
        yajl_val v;
        int rc;

        *out = NULL;
        if (n->kind == YNODE_SCALAR) {
                *out = scalar_to_yajl(n);
                return *out != NULL ? 0 : -ENOMEM;
        }
        v = yval_new(n->kind == YNODE_MAP ? yajl_t_object : yajl_t_array);
        if (v == NULL)
                return -ENOMEM;
        rc = n->kind == YNODE_MAP ? map_to_yajl(n, v) : seq_to_yajl(n, v);
        if (rc < 0) {
                yajl_tree_free(v);
                return rc;
        }
        *out = v;
        return 0;
}
