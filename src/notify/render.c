/* cppo-notify — rendering a notification for one receiver (see include/cppo/render.h). */
#include "cppo/render.h"

#include "cppo/buf.h"
#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/template.h"
#include "cppo/utf8.h"
#include "channel_internal.h"
#include "render_builtin.h"
#include "render_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define N_KINDS     6
#define N_PARTS     6
#define SUBJECT_MAX 250
/* Payloads nested deeper than this are refused before parsing: yajl frees
 * trees recursively, and no sane payload comes close. */
#define JSON_MAX_DEPTH 64
/* A resolved string: mrkdwn escaping makes a byte at most 7 (U+200B, the
 * byte, U+200B). */
#define TEXT_MAX    (8 * RENDER_MAX_OUTPUT)
#define TEST_PREFIX RENDER_TEST_PREFIX

enum part { P_SUBJECT, P_TEXT, P_HTML, P_SLACK, P_FILE, P_TEAMS };

static const char *const kinds[N_KINDS] = {
        "partner_offer_extended", "new_order",      "amended_offer", "order_ended",
        "attention_needed",       "link_corrected",
};
static const char *const kind_titles[N_KINDS] = {
        "Partner offer extended", "New order",      "Amended offer", "Order ended",
        "Attention needed",       "Link corrected",
};
static const char *const parts[N_PARTS] = { "subject", "text", "html", "slack", "file", "teams" };

const char *render_kind(size_t i)
{
        return i < N_KINDS ? kinds[i] : NULL;
}

/* One compiled template and where it came from, for messages. */
struct slot {
        struct template *t;
        char *name;
};

struct renderer {
        struct slot builtin[N_KINDS][N_PARTS];
        struct slot dir[N_KINDS][N_PARTS]; /* <templates_dir>/<kind>.<part>.mustache */
        struct slot *ov;                   /* overrides, by path */
        size_t n_ov, cap_ov;
        size_t count;
};

void rendered_clear(struct rendered *r)
{
        if (r == NULL)
                return;
        free(r->subject);
        free(r->text);
        free(r->html);
        free(r->body);
        memset(r, 0, sizeof(*r));
}

static int index_of(const char *const *names, size_t n, const char *s)
{
        for (size_t i = 0; s != NULL && i < n; i++)
                if (strcmp(names[i], s) == 0)
                        return (int)i;
        return -1;
}

/* ---- loading ------------------------------------------------------------ */

/* Compiles src into s, named `name`; the engine's "template L:C: what"
 * becomes "name:L:C: what". */
static int compile(struct slot *s, const char *name, const char *src, size_t len, char *err,
                   size_t errlen)
{
        char msg[CPPO_ERRLEN];
        int rc;

        s->name = strdup(name);
        if (s->name == NULL)
                return -ENOMEM;
        rc = template_compile(&s->t, src, len, msg, sizeof(msg));
        if (rc == -EINVAL && strncmp(msg, "template ", 9) == 0)
                return error_set(err, errlen, rc, "%s:%s", name, msg + 9);
        if (rc != 0)
                return error_set(err, errlen, rc, "%s:1:1: %s", name, msg);
        return 0;
}

/* Reads a whole template file into b. 0, -ENOENT (no such file, or a
 * component is not a directory), -EIO, -EINVAL (too large) or -ENOMEM. */
static int read_file(const char *path, struct buf *b, char *err, size_t errlen)
{
        FILE *f = fopen(path, "rb");
        char chunk[4096];
        size_t n;
        int rc = 0, e;

        if (f == NULL) {
                e = errno;
                return error_set(err, errlen, e == ENOENT || e == ENOTDIR ? -ENOENT : -EIO,
                                 "%s: cannot read template: %s", path, strerror(e));
        }
        while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                rc = buf_append(b, chunk, n);
        e = errno;
        if (rc == 0 && ferror(f))
                rc = error_set(err, errlen, -EIO, "%s: cannot read template: %s", path,
                               strerror(e));
        fclose(f);
        if (rc == -E2BIG)
                return error_set(err, errlen, -EINVAL, "%s: template larger than %d bytes", path,
                                 TEMPLATE_MAX_SOURCE);
        return rc;
}

static int load_file(struct slot *s, const char *path, char *err, size_t errlen)
{
        struct buf b = BUF_INIT(TEMPLATE_MAX_SOURCE);
        int rc = read_file(path, &b, err, errlen);

        if (rc == 0)
                rc = compile(s, path, buf_cstr(&b), b.len, err, errlen);
        buf_deinit(&b);
        return rc;
}

static int load_builtins(struct renderer *r, char *err, size_t errlen)
{
        char name[128];

        for (size_t i = 0; i < render_builtin_count; i++) {
                const struct render_builtin *b = &render_builtins[i];
                int k = index_of(kinds, N_KINDS, b->kind), p = index_of(parts, N_PARTS, b->part);
                int rc;

                if (k < 0 || p < 0)
                        continue;
                snprintf(name, sizeof(name), "(built-in)/%s", b->name);
                rc = compile(&r->builtin[k][p], name, b->source, b->len, err, errlen);
                if (rc != 0)
                        return rc;
                r->count++;
        }
        return 0;
}

/* Every <kind>.<part>.mustache present in dir; absent ones are skipped. */
static int load_dir(struct renderer *r, const char *dir, char *err, size_t errlen)
{
        struct buf path = BUF_INIT(4096);
        int rc = 0;

        for (int k = 0; k < N_KINDS && rc == 0; k++) {
                for (int p = 0; p < N_PARTS && rc == 0; p++) {
                        buf_reset(&path);
                        rc = buf_printf(&path, "%s/%s.%s.mustache", dir, kinds[k], parts[p]);
                        if (rc == 0)
                                rc = load_file(&r->dir[k][p], buf_cstr(&path), err, errlen);
                        if (rc == 0)
                                r->count++;
                        else if (rc == -ENOENT)
                                rc = 0;
                }
        }
        if (rc == -E2BIG)
                rc = error_set(err, errlen, -EINVAL, "templates_dir '%s': path too long", dir);
        buf_deinit(&path);
        return rc;
}

static const struct slot *find_override(const struct renderer *r, const char *path)
{
        for (size_t i = 0; i < r->n_ov; i++)
                if (r->ov[i].name != NULL && strcmp(r->ov[i].name, path) == 0)
                        return &r->ov[i];
        return NULL;
}

static int add_override(struct renderer *r, const char *path, char *err, size_t errlen)
{
        int rc;

        if (path == NULL || find_override(r, path) != NULL)
                return 0;
        if (r->n_ov == r->cap_ov) {
                size_t cap = r->cap_ov ? 2 * r->cap_ov : 8;
                struct slot *ov = realloc(r->ov, cap * sizeof(*ov));

                if (ov == NULL)
                        return -ENOMEM;
                r->ov = ov;
                r->cap_ov = cap;
        }
        memset(&r->ov[r->n_ov], 0, sizeof(r->ov[0]));
        rc = load_file(&r->ov[r->n_ov], path, err, errlen);
        /* kept even on failure, so renderer_free releases its name */
        r->n_ov++;
        if (rc == 0)
                r->count++;
        return rc;
}

static const char *template_path(const struct config_templates *t, enum part p)
{
        const char *paths[N_PARTS] = { t->subject, t->text, t->html, t->slack, t->file, t->teams };

        return paths[p];
}

static int add_overrides(struct renderer *r, const struct config_templates *t, char *err,
                         size_t errlen)
{
        for (int p = 0; p < N_PARTS; p++) {
                int rc = add_override(r, template_path(t, (enum part)p), err, errlen);

                if (rc != 0)
                        return rc;
        }
        return 0;
}

static int load_config(struct renderer *r, const struct config *cfg, char *err, size_t errlen)
{
        int rc = 0;

        if (cfg->templates_dir != NULL)
                rc = load_dir(r, cfg->templates_dir, err, errlen);
        for (size_t i = 0; rc == 0 && i < cfg->receiver_count; i++)
                rc = add_overrides(r, &cfg->receivers[i].templates, err, errlen);
        for (size_t i = 0; rc == 0 && i < cfg->rule_count; i++)
                rc = add_overrides(r, &cfg->rules[i].templates, err, errlen);
        return rc;
}

int renderer_new(struct renderer **out, const struct config *cfg, char *err, size_t errlen)
{
        struct renderer *r = calloc(1, sizeof(*r));
        int rc;

        *out = NULL;
        if (r == NULL)
                return -ENOMEM;
        rc = load_builtins(r, err, errlen);
        if (rc == 0 && cfg != NULL)
                rc = load_config(r, cfg, err, errlen);
        if (rc != 0) {
                renderer_free(r);
                return rc;
        }
        *out = r;
        return 0;
}

size_t renderer_template_count(const struct renderer *r)
{
        return r != NULL ? r->count : 0;
}

static void slot_clear(struct slot *s)
{
        template_free(s->t);
        free(s->name);
}

void renderer_free(struct renderer *r)
{
        if (r == NULL)
                return;
        for (int k = 0; k < N_KINDS; k++) {
                for (int p = 0; p < N_PARTS; p++) {
                        slot_clear(&r->builtin[k][p]);
                        slot_clear(&r->dir[k][p]);
                }
        }
        for (size_t i = 0; i < r->n_ov; i++)
                slot_clear(&r->ov[i]);
        free(r->ov);
        free(r);
}

/* ---- JSON helpers ------------------------------------------------------- */

/* Re-emits a parsed tree; depth is bounded by json_depth_ok() beforehand. */
void render_gen_value(yajl_gen g, yajl_val v)
{
        if (YAJL_IS_STRING(v)) {
                json_str(g, v->u.string);
        } else if (YAJL_IS_NUMBER(v)) {
                yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        } else if (YAJL_IS_OBJECT(v)) {
                yajl_gen_map_open(g);
                for (size_t i = 0; i < v->u.object.len; i++) {
                        json_str(g, v->u.object.keys[i]);
                        render_gen_value(g, v->u.object.values[i]);
                }
                yajl_gen_map_close(g);
        } else if (YAJL_IS_ARRAY(v)) {
                yajl_gen_array_open(g);
                for (size_t i = 0; i < v->u.array.len; i++)
                        render_gen_value(g, v->u.array.values[i]);
                yajl_gen_array_close(g);
        } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
                yajl_gen_bool(g, YAJL_IS_TRUE(v));
        } else {
                yajl_gen_null(g);
        }
}

/* True when no array or object in s nests deeper than JSON_MAX_DEPTH. */
static bool json_depth_ok(const char *s, size_t len)
{
        bool in_str = false;
        int depth = 0;

        for (size_t i = 0; i < len; i++) {
                char c = s[i];

                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = false;
                } else if (c == '"') {
                        in_str = true;
                } else if (c == '[' || c == '{') {
                        if (++depth > JSON_MAX_DEPTH)
                                return false;
                } else if (c == ']' || c == '}') {
                        depth--;
                }
        }
        return true;
}

/* Parses rendered JSON; on failure err says which template and why. */
static int parse_json(yajl_val *out, const struct buf *b, const struct slot *s, char *err,
                      size_t errlen)
{
        char msg[256];

        if (!json_depth_ok(buf_cstr(b), b->len))
                return error_set(err, errlen, -EINVAL, "%s: output nests deeper than %d levels",
                                 s->name, JSON_MAX_DEPTH);
        *out = yajl_tree_parse(buf_cstr(b), msg, sizeof(msg));
        if (*out == NULL) {
                /* yajl's message spans lines; keep the first */
                msg[strcspn(msg, "\n")] = '\0';
                return error_set(err, errlen, -EINVAL, "%s: output is not valid JSON: %s", s->name,
                                 msg);
        }
        if (!YAJL_IS_OBJECT(*out)) {
                yajl_tree_free(*out);
                *out = NULL;
                return error_set(err, errlen, -EINVAL, "%s: output is not a JSON object", s->name);
        }
        return 0;
}

/* The generator's text as an owned string. */
static int gen_take(yajl_gen g, char **out)
{
        const unsigned char *p;
        size_t len;

        if (yajl_gen_get_buf(g, &p, &len) != yajl_gen_status_ok)
                return -EINVAL;
        *out = strndup((const char *)p, len);
        return *out != NULL ? 0 : -ENOMEM;
}

/* ---- UTF-8 truncation --------------------------------------------------- */

/* s as an owned string of at most max code points: when longer, cut on a
 * code point boundary and end with `mark`. NULL on -ENOMEM. */
char *render_truncated(const char *s, size_t max, const char *mark)
{
        size_t keep = 0, cps = 0, mlen = utf8_count(mark), room = max > mlen ? max - mlen : 0;
        char *out;

        if (utf8_count(s) <= max)
                return strdup(s);
        for (; s[keep]; keep++) {
                if (!utf8_is_continuation((unsigned char)s[keep]) && cps++ == room)
                        break;
        }
        out = malloc(keep + strlen(mark) + 1);
        if (out == NULL)
                return NULL;
        memcpy(out, s, keep);
        memcpy(out + keep, mark, strlen(mark) + 1);
        return out;
}

/* ---- the template data: the context plus a derived "view" --------------- */

static yajl_val get(yajl_val ctx, const char *a, const char *b, yajl_type t)
{
        const char *path[] = { a, b, NULL };

        return yajl_tree_get(ctx, path, t);
}

static size_t count_strings(yajl_val arr)
{
        size_t n = 0;

        for (size_t i = 0; arr != NULL && i < arr->u.array.len; i++)
                n += YAJL_IS_STRING(arr->u.array.values[i]);
        return n;
}

/* name: [{"value": s, "last": bool}] for the strings of arr, so a template
 * can put separators between items; name_text: them joined with ", ", or
 * null when there are none. */
static int gen_list(yajl_gen g, const char *name, yajl_val arr)
{
        struct buf joined = BUF_INIT(64 * 1024);
        size_t n = count_strings(arr), seen = 0;
        char key[64];
        int rc = 0;

        json_str(g, name);
        yajl_gen_array_open(g);
        for (size_t i = 0; arr != NULL && i < arr->u.array.len && rc == 0; i++) {
                yajl_val v = arr->u.array.values[i];

                if (!YAJL_IS_STRING(v))
                        continue;
                yajl_gen_map_open(g);
                json_str(g, "value");
                json_str(g, v->u.string);
                json_str(g, "last");
                yajl_gen_bool(g, ++seen == n);
                yajl_gen_map_close(g);
                rc = buf_printf(&joined, "%s%s", seen > 1 ? ", " : "", v->u.string);
        }
        yajl_gen_array_close(g);
        snprintf(key, sizeof(key), "%s_text", name);
        json_str(g, key);
        if (n > 0 && rc == 0)
                json_str(g, buf_cstr(&joined));
        else
                yajl_gen_null(g);
        buf_deinit(&joined);
        return rc;
}

/* metadata: [{"key": k, "value": v, "last": bool}]: Mustache cannot walk
 * an object's members. */
static void gen_metadata(yajl_gen g, yajl_val md)
{
        size_t n = 0, seen = 0;

        for (size_t i = 0; md != NULL && i < md->u.object.len; i++)
                n += YAJL_IS_STRING(md->u.object.values[i]);
        json_str(g, "metadata");
        yajl_gen_array_open(g);
        for (size_t i = 0; md != NULL && i < md->u.object.len; i++) {
                if (!YAJL_IS_STRING(md->u.object.values[i]))
                        continue;
                yajl_gen_map_open(g);
                json_str(g, "key");
                json_str(g, md->u.object.keys[i]);
                json_str(g, "value");
                json_str(g, md->u.object.values[i]->u.string);
                json_str(g, "last");
                yajl_gen_bool(g, ++seen == n);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        json_str(g, "has_metadata");
        yajl_gen_bool(g, n > 0);
}

/* {"<name>": true}: lets a template branch on an enumerated value. */
static void gen_flag(yajl_gen g, const char *key, const char *name)
{
        json_str(g, key);
        yajl_gen_map_open(g);
        if (name != NULL && name[0] != '\0') {
                json_str(g, name);
                yajl_gen_bool(g, 1);
        }
        yajl_gen_map_close(g);
}

/* What templates need and Mustache cannot compute; documented in render.h. */
static int gen_view(yajl_gen g, yajl_val ctx, int k)
{
        yajl_val link = get(ctx, "offer", "link", yajl_t_string);
        yajl_val late = get(ctx, "offer", "late_reason", yajl_t_string);
        int rc;

        json_str(g, "view");
        yajl_gen_map_open(g);
        json_str(g, "kind_title");
        json_str(g, kind_titles[k]);
        json_str(g, "test");
        yajl_gen_bool(g, YAJL_IS_TRUE(get(ctx, "test", NULL, yajl_t_any)));
        gen_flag(g, "kind_is", kinds[k]);
        gen_flag(g, "link_is", link != NULL ? link->u.string : NULL);
        gen_flag(g, "late_is", late != NULL ? late->u.string : NULL);
        gen_metadata(g, get(ctx, "opportunity", "metadata", yajl_t_object));
        rc = gen_list(g, "buyer_account_ids", get(ctx, "buyer", "account_ids", yajl_t_array));
        if (rc == 0)
                rc = gen_list(g, "notify", get(ctx, "opportunity", "notify", yajl_t_array));
        if (rc == 0)
                rc = gen_list(g, "source_event_keys",
                              get(ctx, "source_event_keys", NULL, yajl_t_array));
        yajl_gen_map_close(g);
        return rc;
}

/* The notification's context document, which must be a JSON object. */
static int parse_context(yajl_val *out, const struct notification *n, char *err, size_t errlen)
{
        const char *json = n->context_json != NULL ? n->context_json : "";

        *out = json_depth_ok(json, strlen(json)) ? yajl_tree_parse(json, NULL, 0) : NULL;
        if (YAJL_IS_OBJECT(*out))
                return 0;
        yajl_tree_free(*out);
        *out = NULL;
        return error_set(err, errlen, -EINVAL, "notification '%s': context is not a JSON object",
                         n->key ? n->key : "?");
}

/* The context document with "view" added, parsed. */
static int build_data(yajl_val *out, const struct notification *n, int k, char *err, size_t errlen)
{
        yajl_val ctx = NULL;
        yajl_gen g = NULL;
        char *text = NULL;
        int rc = parse_context(&ctx, n, err, errlen);

        *out = NULL;
        if (rc == 0 && (g = json_new()) == NULL)
                rc = -ENOMEM;
        if (rc != 0)
                goto out;
        yajl_gen_map_open(g);
        for (size_t i = 0; i < ctx->u.object.len; i++) {
                if (strcmp(ctx->u.object.keys[i], "view") == 0)
                        continue;
                json_str(g, ctx->u.object.keys[i]);
                render_gen_value(g, ctx->u.object.values[i]);
        }
        rc = gen_view(g, ctx, k);
        yajl_gen_map_close(g);
        if (rc == 0)
                rc = gen_take(g, &text);
        if (rc == 0) {
                *out = yajl_tree_parse(text, NULL, 0);
                rc = *out != NULL ? 0 : -ENOMEM;
        }
out:
        free(text);
        if (g != NULL)
                yajl_gen_free(g);
        yajl_tree_free(ctx);
        return rc;
}

/* ---- strings of a payload ---------------------------------------------- */

/* s resolved as kind (template.h: marked values escaped for mrkdwn, or
 * shown as written) and held to max code points, as an owned string. */
int render_resolve(const char *s, enum template_text kind, size_t max, char **out)
{
        struct buf b = BUF_INIT(TEXT_MAX);
        int rc = template_text(s, kind, &b);

        *out = NULL;
        if (rc == 0 && (*out = render_truncated(buf_cstr(&b), max, RENDER_TRUNCATED)) == NULL)
                rc = -ENOMEM;
        buf_deinit(&b);
        return rc;
}

int render_gen_text(yajl_gen g, const char *s, enum template_text kind, size_t max)
{
        char *t = NULL;
        int rc = render_resolve(s, kind, max, &t);

        if (rc == 0)
                json_str(g, t);
        free(t);
        return rc;
}

/* ---- rendering ---------------------------------------------------------- */

static int pick(const struct renderer *r, const struct config_receiver *rcv,
                const struct config_rule *rule, int k, enum part p, const struct slot **out,
                char *err, size_t errlen)
{
        const char *path = rule != NULL ? template_path(&rule->templates, p) : NULL;

        if (path == NULL && rcv != NULL)
                path = template_path(&rcv->templates, p);
        if (path != NULL) {
                *out = find_override(r, path);
                if (*out == NULL || (*out)->t == NULL)
                        return error_set(err, errlen, -ENOENT, "template '%s' was not loaded",
                                         path);
                return 0;
        }
        *out = r->dir[k][p].t != NULL ? &r->dir[k][p] : &r->builtin[k][p];
        if ((*out)->t == NULL)
                return error_set(err, errlen, -EINVAL, "no %s template for kind '%s'", parts[p],
                                 kinds[k]);
        return 0;
}

/* Renders one part into b, prefixing any error with the template's name. */
static int render_part(const struct slot *s, yajl_val data, enum template_escape esc, struct buf *b,
                       char *err, size_t errlen)
{
        char msg[CPPO_ERRLEN];
        int rc = template_render(s->t, data, esc, NULL, b, msg, sizeof(msg));

        if (rc != 0)
                return error_set(err, errlen, rc, "%s: %s", s->name, msg);
        return 0;
}

/* The subject on one line, trimmed, at most SUBJECT_MAX characters;
 * TEST_PREFIX first in a test message. */
static int finish_subject(struct buf *b, bool test, char **out)
{
        const char *s = buf_cstr(b);
        size_t len = b->len;
        struct buf t = BUF_INIT(RENDER_MAX_OUTPUT + sizeof(TEST_PREFIX));
        int rc;

        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
        if (b->data != NULL)
                b->data[len] = '\0';
        while (*s == ' ' || *s == '\t')
                s++;
        rc = buf_printf(&t, "%s%s", test ? TEST_PREFIX : "", s);
        if (rc == 0 && (*out = render_truncated(buf_cstr(&t), SUBJECT_MAX, "\xe2\x80\xa6")) == NULL)
                rc = -ENOMEM;
        buf_deinit(&t);
        return rc;
}

/* Parses a JSON part and has the channel's format re-emit it compact on
 * one line, held to the channel's limits. */
static int finish_json(const struct slot *s, const struct buf *b, const struct render_format *f,
                       const struct render_info *info, char **out, char *err, size_t errlen)
{
        yajl_val doc = NULL;
        yajl_gen g = NULL;
        int rc = parse_json(&doc, b, s, err, errlen);

        if (rc != 0)
                return rc;
        g = json_new();
        if (g == NULL) {
                rc = -ENOMEM;
                goto out;
        }
        rc = f->finish(g, doc, info);
        if (rc == 0)
                rc = gen_take(g, out);
out:
        if (g != NULL)
                yajl_gen_free(g);
        yajl_tree_free(doc);
        return rc;
}

struct job {
        const struct renderer *r;
        const struct config_receiver *rcv;
        const struct config_rule *rule;
        const struct notification *n;
        int kind;
        bool test; /* the context's "test" is true: cppo-notifyctl send-test */
        yajl_val data;
        struct buf b;
        char *err;
        size_t errlen;
};

static int render_one(struct job *j, enum part p, enum template_escape esc, const struct slot **s)
{
        int rc = pick(j->r, j->rcv, j->rule, j->kind, p, s, j->err, j->errlen);

        buf_reset(&j->b);
        return rc != 0 ? rc : render_part(*s, j->data, esc, &j->b, j->err, j->errlen);
}

static int take_text(struct job *j, char **out)
{
        *out = strdup(buf_cstr(&j->b));
        return *out != NULL ? 0 : -ENOMEM;
}

static int render_email(struct job *j, struct rendered *out)
{
        const struct slot *s;
        int rc = render_one(j, P_SUBJECT, TEMPLATE_ESCAPE_HEADER, &s);

        if (rc == 0)
                rc = finish_subject(&j->b, j->test, &out->subject);
        if (rc == 0)
                rc = render_one(j, P_TEXT, TEMPLATE_ESCAPE_TEXT, &s);
        if (rc == 0)
                rc = take_text(j, &out->text);
        if (rc == 0)
                rc = render_one(j, P_HTML, TEMPLATE_ESCAPE_HTML, &s);
        if (rc == 0)
                rc = take_text(j, &out->html);
        return rc;
}

static int render_payload(struct job *j, const struct render_format *f, struct rendered *out)
{
        char fallback[512];
        struct render_info info = { .fallback = fallback,
                                    .kind = kinds[j->kind],
                                    .test = j->test,
                                    .err = j->err,
                                    .errlen = j->errlen };
        int p = index_of(parts, N_PARTS, f->part);
        const struct slot *s;
        int rc = p < 0 ? -EINVAL : render_one(j, (enum part)p, f->escape, &s);

        snprintf(fallback, sizeof(fallback), "%s: %s", kind_titles[j->kind],
                 j->n->key ? j->n->key : "");
        if (rc == 0) {
                info.template = s->name;
                rc = finish_json(s, &j->b, f, &info, &out->body, j->err, j->errlen);
        }
        return rc;
}

/* The receiver's payload format; NULL: the e-mail parts. */
static const struct render_format *format_of(const struct config_receiver *rcv)
{
        const struct channel *ch = rcv != NULL ? channel_get(rcv->type) : NULL;

        return ch != NULL ? ch->render : NULL;
}

int render_notification(const struct renderer *r, const struct config_receiver *rcv,
                        const struct config_rule *rule, const struct notification *n,
                        struct rendered *out, char *err, size_t errlen)
{
        struct job j = { .r = r, .rcv = rcv, .rule = rule, .n = n, .err = err, .errlen = errlen };
        const struct render_format *fmt = format_of(rcv);
        int rc;

        memset(out, 0, sizeof(*out));
        buf_init(&j.b, RENDER_MAX_OUTPUT);
        j.kind = index_of(kinds, N_KINDS, n->kind);
        if (j.kind < 0)
                return error_set(err, errlen, -EINVAL, "unknown notification kind '%s'",
                                 n->kind ? n->kind : "(null)");
        rc = build_data(&j.data, n, j.kind, err, errlen);
        if (rc == 0)
                j.test = YAJL_IS_TRUE(get(j.data, "view", "test", yajl_t_any));
        if (rc == 0)
                rc = fmt == NULL ? render_email(&j, out) : render_payload(&j, fmt, out);
        if (rc != 0)
                rendered_clear(out);
        buf_deinit(&j.b);
        yajl_tree_free(j.data);
        return rc;
}
