/* cppo-notify — the Slack payload format (see render_internal.h): a Block
 * Kit payload held to Slack's limits, every string resolved for its text
 * type, a top-level "text" fallback always present. */
#include "render_internal.h"

#include "cppo/buf.h"
#include "cppo/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slack's limits, in characters (code points). */
#define SLACK_MAX_BLOCKS  50
#define SLACK_MAX_SECTION 3000
#define SLACK_MAX_FIELD   2000
#define SLACK_MAX_HEADER  150
#define SLACK_MAX_TEXT    40000

static int gen_slack_value(yajl_gen g, yajl_val v);

/* Keys are template text: only marks (from a value written as a key) go. */
static int gen_key(yajl_gen g, const char *key)
{
        return render_gen_text(g, key, TEMPLATE_TEXT_PLAIN, SIZE_MAX);
}

/* The text type of a text object ({"type": "plain_text"|"mrkdwn", "text":
 * ...}); -1 when obj is not one. */
static int text_type(yajl_val obj)
{
        const char *path[] = { "type", NULL };
        yajl_val type = yajl_tree_get(obj, path, yajl_t_string);

        if (type == NULL || !YAJL_IS_OBJECT(obj))
                return -1;
        if (strcmp(type->u.string, "plain_text") == 0)
                return TEMPLATE_TEXT_PLAIN;
        return strcmp(type->u.string, "mrkdwn") == 0 ? TEMPLATE_TEXT_MRKDWN : -1;
}

/* A text object with its text resolved for its type and held to max;
 * one_line (header blocks) puts plain text on one line. */
static int gen_text_object(yajl_gen g, yajl_val obj, size_t max, bool one_line)
{
        int type = text_type(obj), rc = 0;

        if (type < 0)
                return gen_slack_value(g, obj);
        if (type == TEMPLATE_TEXT_PLAIN && one_line)
                type = TEMPLATE_TEXT_LINE;
        yajl_gen_map_open(g);
        for (size_t i = 0; i < obj->u.object.len && rc == 0; i++) {
                yajl_val v = obj->u.object.values[i];

                rc = gen_key(g, obj->u.object.keys[i]);
                if (rc == 0 && strcmp(obj->u.object.keys[i], "text") == 0 && YAJL_IS_STRING(v))
                        rc = render_gen_text(g, v->u.string, (enum template_text)type, max);
                else if (rc == 0)
                        rc = gen_slack_value(g, v);
        }
        yajl_gen_map_close(g);
        return rc;
}

/* Any other part of the payload. Its strings are resolved as mrkdwn: a
 * value can only be shown literally where the payload says plain_text, so
 * no field Slack parses can receive an unescaped <, > or &. */
static int gen_slack_value(yajl_gen g, yajl_val v)
{
        int rc = 0;

        if (YAJL_IS_STRING(v))
                return render_gen_text(g, v->u.string, TEMPLATE_TEXT_MRKDWN, SIZE_MAX);
        if (YAJL_IS_OBJECT(v) && text_type(v) >= 0)
                return gen_text_object(g, v, SIZE_MAX, false);
        if (YAJL_IS_OBJECT(v)) {
                yajl_gen_map_open(g);
                for (size_t i = 0; i < v->u.object.len && rc == 0; i++) {
                        rc = gen_key(g, v->u.object.keys[i]);
                        if (rc == 0)
                                rc = gen_slack_value(g, v->u.object.values[i]);
                }
                yajl_gen_map_close(g);
                return rc;
        }
        if (YAJL_IS_ARRAY(v)) {
                yajl_gen_array_open(g);
                for (size_t i = 0; i < v->u.array.len && rc == 0; i++)
                        rc = gen_slack_value(g, v->u.array.values[i]);
                yajl_gen_array_close(g);
                return rc;
        }
        render_gen_value(g, v);
        return 0;
}

static int gen_block(yajl_gen g, yajl_val b)
{
        const char *path[] = { "type", NULL };
        yajl_val type = yajl_tree_get(b, path, yajl_t_string);
        bool section = type != NULL && strcmp(type->u.string, "section") == 0;
        bool header = type != NULL && strcmp(type->u.string, "header") == 0;
        int rc = 0;

        if (!YAJL_IS_OBJECT(b) || (!section && !header))
                return gen_slack_value(g, b);
        yajl_gen_map_open(g);
        for (size_t i = 0; i < b->u.object.len && rc == 0; i++) {
                const char *key = b->u.object.keys[i];
                yajl_val v = b->u.object.values[i];

                rc = gen_key(g, key);
                if (rc != 0)
                        break;
                if (strcmp(key, "text") == 0) {
                        rc = gen_text_object(g, v, header ? SLACK_MAX_HEADER : SLACK_MAX_SECTION,
                                             header);
                } else if (section && strcmp(key, "fields") == 0 && YAJL_IS_ARRAY(v)) {
                        yajl_gen_array_open(g);
                        for (size_t f = 0; f < v->u.array.len && rc == 0; f++)
                                rc = gen_text_object(g, v->u.array.values[f], SLACK_MAX_FIELD,
                                                     false);
                        yajl_gen_array_close(g);
                } else {
                        rc = gen_slack_value(g, v);
                }
        }
        yajl_gen_map_close(g);
        return rc;
}

/* A context block with one mrkdwn element: code's own text, not data. */
static void gen_note_block(yajl_gen g, const char *note)
{
        yajl_gen_map_open(g);
        json_str(g, "type");
        json_str(g, "context");
        json_str(g, "elements");
        yajl_gen_array_open(g);
        yajl_gen_map_open(g);
        json_str(g, "type");
        json_str(g, "mrkdwn");
        json_str(g, "text");
        json_str(g, note);
        yajl_gen_map_close(g);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
}

/* At most SLACK_MAX_BLOCKS: a test message starts with the test marker;
 * when too many, the first ones and a context block saying how many were
 * dropped. */
static int gen_blocks(yajl_gen g, yajl_val blocks, bool test)
{
        size_t n = blocks->u.array.len, room = SLACK_MAX_BLOCKS - (test ? 1 : 0);
        size_t keep = n > room ? room - 1 : n;
        char note[128];
        int rc = 0;

        yajl_gen_array_open(g);
        if (test)
                gen_note_block(g, RENDER_TEST_NOTE);
        for (size_t i = 0; i < keep && rc == 0; i++)
                rc = gen_block(g, blocks->u.array.values[i]);
        if (keep < n) {
                snprintf(note, sizeof(note),
                         "\xe2\x80\xa6 %zu more blocks dropped (Slack accepts at most %d)",
                         n - keep, SLACK_MAX_BLOCKS);
                gen_note_block(g, note);
        }
        yajl_gen_array_close(g);
        return rc;
}

/* "text", the notification fallback: the template's text v (may be NULL)
 * when not empty, else `fallback`; RENDER_TEST_PREFIX first in a test message. */
static int gen_fallback(yajl_gen g, yajl_val v, const char *fallback, bool test)
{
        struct buf b = BUF_INIT(SLACK_MAX_TEXT * 4 + 64);
        char *t = NULL;
        int rc = v != NULL ? render_resolve(v->u.string, TEMPLATE_TEXT_MRKDWN, SLACK_MAX_TEXT, &t)
                           : 0;

        if (rc == 0)
                rc = buf_printf(&b, "%s%s", test ? RENDER_TEST_PREFIX : "",
                                t != NULL && t[0] != '\0' ? t : fallback);
        json_str(g, "text");
        if (rc == 0)
                rc = render_gen_text(g, buf_cstr(&b), TEMPLATE_TEXT_PLAIN, SLACK_MAX_TEXT);
        free(t);
        buf_deinit(&b);
        return rc;
}

/* The payload within Slack's limits, with a non-empty top-level "text"
 * whatever the template wrote; a test message says so in both. */
static int gen_slack(yajl_gen g, yajl_val root, const char *fallback, bool test)
{
        bool has_text = false;
        int rc = 0;

        yajl_gen_map_open(g);
        for (size_t i = 0; i < root->u.object.len && rc == 0; i++) {
                const char *key = root->u.object.keys[i];
                yajl_val v = root->u.object.values[i];

                if (strcmp(key, "text") == 0) {
                        /* where the template put it; once */
                        if (!has_text && YAJL_IS_STRING(v))
                                rc = gen_fallback(g, v, fallback, test);
                        has_text = true;
                        continue;
                }
                rc = gen_key(g, key);
                if (rc == 0 && strcmp(key, "blocks") == 0 && YAJL_IS_ARRAY(v))
                        rc = gen_blocks(g, v, test);
                else if (rc == 0)
                        rc = gen_slack_value(g, v);
        }
        if (rc == 0 && !has_text)
                rc = gen_fallback(g, NULL, fallback, test);
        yajl_gen_map_close(g);
        return rc;
}

static int slack_finish(yajl_gen g, yajl_val root, const struct render_info *info)
{
        return gen_slack(g, root, info->fallback, info->test);
}

const struct render_format render_slack = {
        .part = "slack",
        .escape = TEMPLATE_ESCAPE_SLACK,
        .finish = slack_finish,
};
