/* Conformance: every test of the Mustache spec suites in $CPPO_MUSTACHE_SPEC
 * (meson option mustache_spec), one TAP line each. The suites are external
 * data, not part of the repository: when the directory is absent the whole
 * test is reported as skipped, with the reason, never as passed. */
#undef NDEBUG
#include "cppo/buf.h"
#include "cppo/error.h"
#include "cppo/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_tree.h>

#define MAX_PARTIALS 16

static const char *const suites[] = {
        "comments", "delimiters", "interpolation", "inverted", "partials", "sections",
};

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "rb");
        struct buf b = BUF_INIT(8 << 20);
        char chunk[4096];
        size_t n;

        if (!f)
                return NULL;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                if (buf_append(&b, chunk, n) != 0)
                        break;
        }
        fclose(f);
        return buf_steal(&b);
}

static const char *field(yajl_val test, const char *key)
{
        const char *path[] = { key, NULL };

        return YAJL_GET_STRING(yajl_tree_get(test, path, yajl_t_string));
}

/* Runs one spec test; 1 when the output matches. */
static int run_one(yajl_val test)
{
        const char *dpath[] = { "data", NULL }, *ppath[] = { "partials", NULL };
        yajl_val data = yajl_tree_get(test, dpath, yajl_t_any);
        yajl_val parts = yajl_tree_get(test, ppath, yajl_t_object);
        struct template_partial items[MAX_PARTIALS];
        struct template_partials pm = { items, 0 };
        const char *tpl = field(test, "template"), *want = field(test, "expected");
        struct buf out = BUF_INIT(1 << 20);
        struct template *t = NULL;
        char err[CPPO_ERRLEN];
        int ok = 0;

        for (size_t i = 0; parts && i < parts->u.object.len && i < MAX_PARTIALS; i++) {
                items[i].name = parts->u.object.keys[i];
                items[i].source = YAJL_GET_STRING(parts->u.object.values[i]);
                pm.count++;
        }
        if (!tpl || !want)
                return 0;
        if (template_compile(&t, tpl, strlen(tpl), err, sizeof(err)) != 0 ||
            template_render(t, data, TEMPLATE_ESCAPE_HTML, &pm, &out, err, sizeof(err)) != 0)
                fprintf(stderr, "# error: %s\n", err);
        else if (strcmp(buf_cstr(&out), want) == 0)
                ok = 1;
        else
                fprintf(stderr, "# got: [%s]\n# want: [%s]\n", buf_cstr(&out), want);
        template_free(t);
        buf_deinit(&out);
        return ok;
}

static int run_suite(const char *dir, const char *name, int *num, int *passed)
{
        const char *tpath[] = { "tests", NULL };
        char path[4096], err[256];
        char *text;
        yajl_val doc, tests;

        snprintf(path, sizeof(path), "%s/%s.json", dir, name);
        text = slurp(path);
        if (!text) {
                printf("not ok %d - %s: cannot read %s\n", ++*num, name, path);
                return -1;
        }
        doc = yajl_tree_parse(text, err, sizeof(err));
        free(text);
        tests = yajl_tree_get(doc, tpath, yajl_t_array);
        if (!tests) {
                printf("not ok %d - %s: no tests array\n", ++*num, name);
                yajl_tree_free(doc);
                return -1;
        }
        for (size_t i = 0; i < tests->u.array.len; i++) {
                int ok = run_one(tests->u.array.values[i]);

                *passed += ok;
                printf("%s %d - %s: %s\n", ok ? "ok" : "not ok", ++*num, name,
                       field(tests->u.array.values[i], "name"));
        }
        yajl_tree_free(doc);
        return 0;
}

int main(void)
{
        const char *dir = getenv("CPPO_MUSTACHE_SPEC");
        int num = 0, passed = 0, bad = 0;
        struct stat st;

        if (!dir || !*dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
                printf("1..0 # SKIP Mustache spec suites not found at '%s' "
                       "(meson configure -Dmustache_spec=DIR)\n",
                       dir ? dir : "");
                return 0;
        }
        for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
                bad |= run_suite(dir, suites[i], &num, &passed) != 0;
        printf("1..%d\n# passed %d/%d\n", num, passed, num);
        return bad || passed != num || num == 0;
}
