/* cppo-notify — what render.c shares with the channels' payload formats
 * (private to src/notify/). render.c renders the template part a format
 * names and parses it; the format (render_<channel>.c) re-emits the parsed
 * payload within its channel's limits. Formats run wherever rendering runs
 * (the notify loop, cppo-notifyctl explain), never on a dispatch worker, so
 * they live beside their channel_<name>.c, not in it. A channel points at
 * its format (struct channel.render); e-mail has none: its parts (subject,
 * text, html) are render.c's own.
 */
#ifndef CPPO_RENDER_INTERNAL_H
#define CPPO_RENDER_INTERNAL_H

#include "cppo/render.h"
#include "cppo/template.h"

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* The visible marker of a value cut short. */
#define RENDER_TRUNCATED "\xe2\x80\xa6 (truncated)"
/* What a send-test message says in every channel (the context's "test"). */
#define RENDER_TEST_PREFIX "[TEST] "
#define RENDER_TEST_NOTE   "*TEST MESSAGE* sent by cppo-notifyctl send-test: not a real deal"

/* What a format knows of the notification besides the payload. */
struct render_info {
        const char *fallback; /* "<kind title>: <notification key>" */
        const char *kind;     /* "new_order", ... */
        bool test;            /* cppo-notifyctl send-test */
        const char *template; /* the template's name, for err */
        char *err;            /* why finish failed, where it says */
        size_t errlen;
};

struct render_format {
        const char *part;            /* the template part: "slack", "file", ... */
        enum template_escape escape; /* how {{x}} values are written into it */
        /* Re-emits the parsed payload (a JSON object) into g: 0, -E2BIG or
         * -ENOMEM. */
        int (*finish)(yajl_gen g, yajl_val root, const struct render_info *info);
};

extern const struct render_format render_slack, render_file, render_teams;

/* ---- render.c's helpers for the formats ---- */

/* Re-emits a parsed tree as it is (depth already bounded). */
void render_gen_value(yajl_gen g, yajl_val v);

/* s resolved as kind (template.h: marked values escaped, or shown as
 * written) and held to max code points ("… (truncated)" when cut), as an
 * owned string in *out. 0, -E2BIG or -ENOMEM. */
int render_resolve(const char *s, enum template_text kind, size_t max, char **out);

/* render_resolve()'s result written as a JSON string. */
int render_gen_text(yajl_gen g, const char *s, enum template_text kind, size_t max);

/* s as an owned string of at most max code points: when longer, cut on a
 * code point boundary and ended with mark. NULL on -ENOMEM. */
char *render_truncated(const char *s, size_t max, const char *mark);

#endif
