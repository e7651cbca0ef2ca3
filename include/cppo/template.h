/* cppo-notify — Mustache templates for notification bodies.
 *
 * Implements the Mustache spec's core modules (interpolation, sections,
 * inverted sections, comments, partials, set delimiters; no lambdas). The
 * data model is a yajl tree: notification contexts are JSON documents.
 *
 * Escaping depends on where the output goes (enum template_escape). Values
 * written with {{x}} get the full escaping of the mode; {{{x}}} and {{&x}}
 * skip only the HTML / mrkdwn entity escaping. They still get JSON string
 * escaping in SLACK and JSON modes and the CR/LF rule in HEADER mode, so no
 * event data can break a JSON payload or inject a mail header. Template text
 * itself is never escaped (a JSON template writes its own quotes), except
 * that HEADER mode turns every CR and LF of the whole output into a space.
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

#include "cppo/buf.h"

#include <stddef.h>
#include <yajl/yajl_tree.h>

#define TEMPLATE_MAX_SOURCE (1024 * 1024)
#define TEMPLATE_MAX_NESTING 64
#define TEMPLATE_MAX_PARTIAL_DEPTH 32
#define TEMPLATE_MAX_STEPS (4 * 1000 * 1000)

enum template_escape {
        TEMPLATE_ESCAPE_HTML,   /* & < > " as entities (spec behaviour) */
        TEMPLATE_ESCAPE_TEXT,   /* no escaping */
        TEMPLATE_ESCAPE_HEADER, /* no escaping; CR and LF become spaces */
        TEMPLATE_ESCAPE_SLACK,  /* & < > as entities, then JSON string escaping */
        TEMPLATE_ESCAPE_JSON,   /* JSON string escaping */
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
int template_compile(struct template **out, const char *text, size_t len, char *err,
                     size_t errlen);
void template_free(struct template *t);

/* Appends the rendering of t against ctx (may be NULL) to out. partials may
 * be NULL. 0, -E2BIG (output cap, partial depth), -EINVAL (a partial does not
 * compile) or -ENOMEM; on failure out holds a partial rendering. */
int template_render(const struct template *t, const yajl_val ctx, enum template_escape esc,
                    const struct template_partials *partials, struct buf *out, char *err,
                    size_t errlen);

#endif
