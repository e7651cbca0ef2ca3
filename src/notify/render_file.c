/* cppo-notify — the file receiver's document (see render_internal.h): one
 * JSON object re-emitted compact on one line. */
#include "render_internal.h"

#include "cppo/json.h"

#include <stdint.h>
#include <string.h>

/* The file line: its top-level strings ("summary", ...) are one line by
 * contract; "context" keeps the values exactly (JSON-escaped, so they
 * cannot break the line either). "test" is always there, true only for
 * cppo-notifyctl send-test, whatever the template wrote. */
static int file_finish(yajl_gen g, yajl_val root, const struct render_info *info)
{
        int rc = 0;

        yajl_gen_map_open(g);
        for (size_t i = 0; i < root->u.object.len && rc == 0; i++) {
                const char *key = root->u.object.keys[i];
                yajl_val v = root->u.object.values[i];

                if (strcmp(key, "test") == 0)
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
