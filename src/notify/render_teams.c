/* cppo-notify — the Microsoft Teams payload format (see render_internal.h):
 * a Workflows webhook message, {"type": "message", "attachments": [{
 * "contentType": "application/vnd.microsoft.card.adaptive", "content":
 * <Adaptive Card 1.5>}]}, rendered in SLACK escape mode (values JSON-escaped
 * and marked, template.h) and resolved here:
 *
 *   - the template's own text is its own markdown and is kept as written;
 *   - a value (between the marks) is neutralised for the card's markdown
 *     subset (TextBlock and FactSet text: **bold**, _italic_, lists,
 *     [label](url), and the links Teams makes of bare addresses): a U+200B
 *     ZERO WIDTH SPACE after each character that could start or close
 *     formatting, a list or a link, so every visible character stays what
 *     the data said and none of it formats or links. Inside an id (a "-",
 *     "_" or ":" between two letters or digits, a "." between two digits)
 *     nothing is added, so ids copy cleanly;
 *   - a value may not appear in a property that takes a URL (url, iconUrl,
 *     ...): no data may form a link;
 *   - a test message gets a first TextBlock saying so.
 *
 * The message is held under Teams' size limit by cutting its longest texts
 * with a visible "… (truncated)": the whole card is rendered again with a
 * lower cap per string until it fits. */
#include "render_internal.h"

#include "cppo/buf.h"
#include "cppo/error.h"
#include "cppo/json.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Microsoft documents a message size limit of 28 KB for Teams incoming
 * webhooks and bot messages ("Send messages using Incoming Webhooks" and
 * "Format your bot messages", learn.microsoft.com/microsoftteams/platform:
 * "The message size limit is 28 KB"; beyond it the post fails, HTTP 413).
 * 1 KB is left for what the Workflows flow wraps around the card. */
#define TEAMS_MAX_BYTES (27 * 1024)
#define TEAMS_MAX_TEXT  4000 /* code points of one string, at first */
#define TEAMS_MIN_TEXT  32   /* ... and at the least, before giving up */
#define ZWSP            "\xe2\x80\x8b"
#define MARK_LEN        3 /* TEMPLATE_MARK_OPEN and _CLOSE are 3 bytes each */
#define TEST_BLOCK_TEXT "**TEST MESSAGE** sent by cppo-notifyctl send-test: not a real deal"

struct teams {
        size_t max; /* code points of one string */
        bool test;
        const struct render_info *info;
};

/* ---- values ---- */

static bool alnum_at(const char *v, size_t n, size_t i)
{
        return i < n && isalnum((unsigned char)v[i]);
}

/* Whether the value's byte v[i] needs a U+200B after it. */
static bool needs_break(const char *v, size_t n, size_t i)
{
        char c = v[i];
        bool between = i > 0 && alnum_at(v, n, i - 1) && alnum_at(v, n, i + 1);

        if (strchr("*~`[]()<>#|\\!+={}", c) != NULL || c == '@')
                return true;
        if (c == '-' || c == '_' || c == ':')
                return !between;
        if (c == '.') /* a domain's dot: not between two digits (1.5, 10.0.0.1) */
                return !(i > 0 && isdigit((unsigned char)v[i - 1]) && i + 1 < n &&
                         isdigit((unsigned char)v[i + 1]));
        return false;
}

static int neutralise(const char *v, size_t n, struct buf *out)
{
        int rc = 0;

        for (size_t i = 0; i < n && rc == 0; i++) {
                rc = buf_append(out, &v[i], 1);
                if (rc == 0 && needs_break(v, n, i))
                        rc = buf_append(out, ZWSP, strlen(ZWSP));
        }
        return rc;
}

/* s with its values neutralised, held to max code points, as an owned
 * string; *data: whether s held a value. */
static int resolve(const char *s, size_t max, char **out, bool *data)
{
        struct buf b = BUF_INIT(4 * (RENDER_MAX_OUTPUT + 1024));
        const char *p = s;
        int rc = 0;

        *out = NULL;
        *data = false;
        while (rc == 0 && *p != '\0') {
                const char *open = strstr(p, TEMPLATE_MARK_OPEN);
                const char *close = open != NULL ? strstr(open, TEMPLATE_MARK_CLOSE) : NULL;

                if (open == NULL || close == NULL) { /* the rest is template text */
                        rc = buf_append(&b, p, strlen(p));
                        break;
                }
                *data = true;
                rc = buf_append(&b, p, (size_t)(open - p));
                if (rc == 0)
                        rc = neutralise(open + MARK_LEN, (size_t)(close - open - MARK_LEN), &b);
                p = close + MARK_LEN;
        }
        if (rc == 0 && (*out = render_truncated(buf_cstr(&b), max, RENDER_TRUNCATED)) == NULL)
                rc = -ENOMEM;
        buf_deinit(&b);
        return rc;
}

/* ---- the card ---- */

/* Properties that take a URL (Action.OpenUrl's url, Image's url,
 * iconUrl, backgroundImage's url, ...). */
static bool url_key(const char *key)
{
        size_t n = strlen(key);

        return n >= 3 && strcasecmp(key + n - 3, "url") == 0;
}

static int gen_string(yajl_gen g, const char *key, const char *s, const struct teams *t)
{
        char *r = NULL;
        bool data = false;
        int rc = resolve(s, t->max, &r, &data);

        if (rc == 0 && data && key != NULL && url_key(key))
                rc = error_set(t->info->err, t->info->errlen, -EINVAL,
                               "%s: \"%s\" holds a value: no data may form a link",
                               t->info->template ? t->info->template : "teams", key);
        if (rc == 0)
                json_str(g, r);
        free(r);
        return rc;
}

static void gen_test_block(yajl_gen g)
{
        yajl_gen_map_open(g);
        json_string(g, "type", "TextBlock");
        json_string(g, "text", TEST_BLOCK_TEXT);
        json_string(g, "color", "Attention");
        json_str(g, "wrap");
        yajl_gen_bool(g, 1);
        yajl_gen_map_close(g);
}

static int gen_value(yajl_gen g, const char *key, yajl_val v, const struct teams *t);

static bool is_card(yajl_val obj)
{
        const char *path[] = { "type", NULL };
        yajl_val type = yajl_tree_get(obj, path, yajl_t_string);

        return type != NULL && strcmp(type->u.string, "AdaptiveCard") == 0;
}

static int gen_object(yajl_gen g, yajl_val v, const struct teams *t)
{
        bool card = is_card(v);
        int rc = 0;

        yajl_gen_map_open(g);
        for (size_t i = 0; i < v->u.object.len && rc == 0; i++) {
                const char *key = v->u.object.keys[i];
                yajl_val val = v->u.object.values[i];
                char *k = NULL;

                /* keys are template text: only marks (a value written as a key) go */
                rc = render_resolve(key, TEMPLATE_TEXT_PLAIN, SIZE_MAX, &k);
                if (rc == 0)
                        json_str(g, k);
                if (rc == 0 && card && t->test && strcmp(k, "body") == 0 && YAJL_IS_ARRAY(val)) {
                        yajl_gen_array_open(g);
                        gen_test_block(g);
                        for (size_t e = 0; e < val->u.array.len && rc == 0; e++)
                                rc = gen_value(g, NULL, val->u.array.values[e], t);
                        yajl_gen_array_close(g);
                } else if (rc == 0) {
                        rc = gen_value(g, k, val, t);
                }
                free(k);
        }
        yajl_gen_map_close(g);
        return rc;
}

static int gen_value(yajl_gen g, const char *key, yajl_val v, const struct teams *t)
{
        int rc = 0;

        if (YAJL_IS_STRING(v))
                return gen_string(g, key, v->u.string, t);
        if (YAJL_IS_OBJECT(v))
                return gen_object(g, v, t);
        if (YAJL_IS_ARRAY(v)) {
                yajl_gen_array_open(g);
                for (size_t i = 0; i < v->u.array.len && rc == 0; i++)
                        rc = gen_value(g, key, v->u.array.values[i], t);
                yajl_gen_array_close(g);
                return rc;
        }
        render_gen_value(g, v);
        return 0;
}

/* The message with every string held to max code points: its size in
 * *len, its text in *out (owned). */
static int render_at(yajl_val root, const struct teams *t, char **out, size_t *len)
{
        yajl_gen g = json_new();
        const unsigned char *p;
        int rc;

        *out = NULL;
        if (g == NULL)
                return -ENOMEM;
        rc = gen_value(g, NULL, root, t);
        if (rc == 0 && yajl_gen_get_buf(g, &p, len) != yajl_gen_status_ok)
                rc = -EINVAL;
        if (rc == 0) {
                *out = strndup((const char *)p, *len);
                rc = *out != NULL ? 0 : -ENOMEM;
        }
        yajl_gen_free(g);
        return rc;
}

static int teams_finish(yajl_gen g, yajl_val root, const struct render_info *info)
{
        struct teams t = { .max = TEAMS_MAX_TEXT, .test = info->test, .info = info };
        yajl_val fitted;
        char *text = NULL;
        size_t len = 0;
        int rc = render_at(root, &t, &text, &len);

        /* too large: cut every long text shorter until it fits */
        while (rc == 0 && len > TEAMS_MAX_BYTES && t.max > TEAMS_MIN_TEXT) {
                free(text);
                t.max /= 2;
                rc = render_at(root, &t, &text, &len);
        }
        if (rc == 0 && len > TEAMS_MAX_BYTES)
                rc = error_set(info->err, info->errlen, -E2BIG,
                               "%s: the Teams message stays larger than %d bytes with every "
                               "text cut to %zu characters",
                               info->template ? info->template : "teams", TEAMS_MAX_BYTES, t.max);
        if (rc == 0) { /* into g, as the other formats write theirs */
                fitted = yajl_tree_parse(text, NULL, 0);
                rc = fitted != NULL ? 0 : -ENOMEM;
                if (rc == 0)
                        render_gen_value(g, fitted);
                yajl_tree_free(fitted);
        }
        free(text);
        return rc;
}

const struct render_format render_teams = {
        .part = "teams",
        .escape = TEMPLATE_ESCAPE_SLACK,
        .finish = teams_finish,
};
