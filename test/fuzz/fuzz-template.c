/* Fuzz target: compile arbitrary bytes as a template; when they compile,
 * render against a fixed small context (with a recursive partial) in every
 * escape mode. */
#include "cppo/buf.h"
#include "cppo/error.h"
#include "cppo/template.h"

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ctx_json[] =
    "{\"a\":\"x<&>\\\"\\r\\n\",\"n\":1.5,\"i\":7,\"t\":true,\"f\":false,\"z\":null,"
    "\"list\":[1,{\"a\":\"in\"},[]],\"o\":{\"a\":{\"b\":\"deep\"}},\"e\":[]}";

static const struct template_partial partial_items[] = {
        { "p", "{{a}}\n{{#list}}{{>p}}{{/list}}" },
        { "q", "  {{=<% %>=}}<%a%>\n" },
        { "bad", "{{#x}}" },
};

static const struct template_partials partials = { partial_items, 3 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const enum template_escape modes[] = {
                TEMPLATE_ESCAPE_HTML,  TEMPLATE_ESCAPE_TEXT, TEMPLATE_ESCAPE_HEADER,
                TEMPLATE_ESCAPE_SLACK, TEMPLATE_ESCAPE_JSON,
        };
        char err[CPPO_ERRLEN];
        struct template *t = NULL;
        yajl_val ctx;

        if (template_compile(&t, (const char *)data, size, err, sizeof(err)) != 0)
                return 0;
        ctx = yajl_tree_parse(ctx_json, err, sizeof(err));
        for (size_t i = 0; ctx && i < sizeof(modes) / sizeof(modes[0]); i++) {
                struct buf out = BUF_INIT(1 << 16);

                (void)template_render(t, ctx, modes[i], &partials, &out, err, sizeof(err));
                buf_deinit(&out);
        }
        yajl_tree_free(ctx);
        template_free(t);
        return 0;
}
