/* cppo-notify — Mustache templates for notification bodies.
 *
 * Implements the Mustache spec's core modules (interpolation, sections,
 * inverted sections, comments, partials, set delimiters; no lambdas). The
 * data model is a yajl tree: notification contexts are JSON documents.
 *
 * Escaping depends on where the output goes (enum template_escape). Values
 * written with {{x}} get the full escaping of the mode; {{{x}}} and {{&x}}
 * skip only the HTML / mrkdwn escaping. They still get JSON string escaping
 * in SLACK and JSON modes and the single-line rule in HEADER mode, so no
 * event data can break a JSON payload or inject a mail header. Template text
 * itself is never escaped (a JSON template writes its own quotes), except
 * that HEADER mode turns every CR and LF of the whole output into a space.
 *
 * Slack needs two escapings in one payload: a header block is plain_text
 * (shown as written, no entities), a section is mrkdwn (entities, and data
 * must not format or ping). Which one applies is only known once the JSON
 * is parsed, so SLACK mode writes every {{x}} value JSON-escaped between
 * TEMPLATE_MARK_OPEN and TEMPLATE_MARK_CLOSE (U+FDD0 and U+FDD1, Unicode
 * noncharacters reserved for internal use; dropped from the values
 * themselves), and the caller resolves each parsed string with
 * template_text() for the text type it has.
 *
 * Caps: TEMPLATE_MAX_SOURCE bytes of source, TEMPLATE_MAX_NESTING nested
 * sections per template, TEMPLATE_MAX_PARTIAL_DEPTH nested partials (so a
 * recursive partial ends with an error, not a stack overflow),
 * TEMPLATE_MAX_STEPS nodes visited per render (nested loops over lists that
 * print nothing would otherwise run for ever), and the output buf's own max
 * (-E2BIG).
 */
#ifndef CPPO_TEMPLATE_H
#define CPPO_TEMPLATE_H

#include "cppo/error.h"

#include "cppo/buf.h"

#include <stddef.h>
#include <yajl/yajl_tree.h>

#define TEMPLATE_MAX_SOURCE        (1024 * 1024)
#define TEMPLATE_MAX_NESTING       64
#define TEMPLATE_MAX_PARTIAL_DEPTH 32
#define TEMPLATE_MAX_STEPS         (4 * 1000 * 1000)

enum template_escape {
        TEMPLATE_ESCAPE_HTML,   /* & < > " as entities (spec behaviour) */
        TEMPLATE_ESCAPE_TEXT,   /* no escaping */
        TEMPLATE_ESCAPE_HEADER, /* one line: CR and LF become spaces, bidi controls dropped */
        TEMPLATE_ESCAPE_SLACK,  /* JSON string escaping, bidi controls dropped;
                                 * {{x}} values marked, see above */
        TEMPLATE_ESCAPE_JSON,   /* JSON string escaping */
};

#define TEMPLATE_MARK_OPEN  "\xef\xb7\x90" /* U+FDD0: a marked value starts */
#define TEMPLATE_MARK_CLOSE "\xef\xb7\x91" /* U+FDD1: it ends */

/* How a string of a rendered payload is shown (template_text()). */
enum template_text {
        /* Slack mrkdwn. In marked values: & < > become entities (so no
         * <!channel>, <@U..> or <url|label> can come from data); * _ ~ and
         * the backtick get U+200B ZERO WIDTH SPACE on both sides, and a >
         * at the start of a line one before it, so data cannot format or
         * quote while every visible character stays what the data said.
         * Template text is left alone: it is the template's own mrkdwn. */
        TEMPLATE_TEXT_MRKDWN,
        TEMPLATE_TEXT_PLAIN, /* shown as written (Slack plain_text): marks dropped */
        /* PLAIN on one line: CR and LF become spaces; the bidi embeddings,
         * overrides and isolates U+202A..U+202E and U+2066..U+2069 are
         * dropped, so a value cannot reorder what is shown after it. */
        TEMPLATE_TEXT_LINE,
};

struct template;

/* One partial: {{>name}} renders `source` (compiled when used). */
struct template_partial {
        const char *name;
        const char *source;
};

/* A small name -> source map; a name not in it renders as nothing. */
struct template_partials {
        const struct template_partial *items;
        size_t count;
};

/* Compiles len bytes of text. 0, -EINVAL (syntax: err says "line:col" and
 * what is wrong), -E2BIG (a cap) or -ENOMEM. */
CPPO_MUST_CHECK int template_compile(struct template **out, const char *text, size_t len, char *err,
                                     size_t errlen);
void template_free(struct template *t);

/* Appends s, a string of a rendered payload (marks resolved, see above),
 * to out as kind says. 0, -E2BIG (out's cap) or -ENOMEM. */
CPPO_MUST_CHECK int template_text(const char *s, enum template_text kind, struct buf *out);

/* Appends the rendering of t against ctx (may be NULL) to out. partials may
 * be NULL. 0, -E2BIG (output cap, partial depth), -EINVAL (a partial does not
 * compile) or -ENOMEM; on failure out holds a partial rendering. */
CPPO_MUST_CHECK int template_render(const struct template *t, const yajl_val ctx,
                                    enum template_escape esc,
                                    const struct template_partials *partials, struct buf *out,
                                    char *err, size_t errlen);

#endif
