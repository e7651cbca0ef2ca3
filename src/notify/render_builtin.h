/* cppo-notify — the built-in templates, generated at build time from
 * config/templates/<kind>.<part>.mustache by src/notify/gen-templates.py.
 * Private to src/render.c. */
#ifndef CPPO_RENDER_BUILTIN_H
#define CPPO_RENDER_BUILTIN_H

#include <stddef.h>

struct render_builtin {
        const char *kind;   /* "new_order", ... */
        const char *part;   /* "subject", "text", "html", "slack", "file", "teams" */
        const char *name;   /* the file name, for messages */
        const char *source; /* NUL-terminated */
        size_t len;
};

extern const struct render_builtin render_builtins[];
extern const size_t render_builtin_count;

#endif
