/* cppo-notify — the notification's JSON document (see render_internal.h
 * and doc/webhook.md): one object re-emitted compact on one line, what the
 * file receiver appends and the webhook receiver POSTs. */
#include "render_internal.h"

#include "cppo/json.h"

#include <stdint.h>
#include <string.h>

/* The document's "version": raised when a field changes meaning or goes
 * away (adding one does not), so a consumer can refuse what it does not
 * know. */
#define DOCUMENT_VERSION 1

/* The file line: "version" first; its top-level strings ("summary", ...)
 * are one line by contract; "context" keeps the values exactly
 * (JSON-escaped, so they cannot break the line either). "version" and
 * "test" are always there, whatever the template wrote: "test" true only
 * for cppo-notifyctl send-test. */
static int file_finish(yajl_gen g, yajl_val root, const struct render_info *info)
{
        int rc = 0;

        yajl_gen_map_open(g);
        json_str(g, "version");
        yajl_gen_integer(g, DOCUMENT_VERSION);
        for (size_t i = 0; i < root->u.object.len && rc == 0; i++) {
                const char *key = root->u.object.keys[i];
                yajl_val v = root->u.object.values[i];

                if (strcmp(key, "test") == 0 || strcmp(key, "version") == 0)
                        continue;
                json_str(g, key);
                if (YAJL_IS_STRING(v))
                        rc = render_gen_text(g, v->u.string, TEMPLATE_TEXT_LINE, SIZE_MAX);
                else
                        render_gen_value(g, v);
        }
        json_str(g, "test");
        yajl_gen_bool(g, info->test);
        yajl_gen_map_close(g);
        return rc;
}

const struct render_format render_file = {
        .part = "file",
        .escape = TEMPLATE_ESCAPE_JSON,
        .finish = file_finish,
};
