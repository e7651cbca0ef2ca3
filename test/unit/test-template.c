/* Unit tests: Mustache templates — escape modes, caps, compile errors. */
#undef NDEBUG
#include "cppo/template.h"

#include "cppo/buf.h"
#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include <cmocka.h>

static const char ctx_json[] =
    "{\"v\":\"a\\\"b\\\\c\\n\\r\\t\\u0001 <&> é\",\"subj\":\"hi\\r\\nBcc: x@evil\","
    "\"n\":3,\"d\":1.5}";

/* Renders src against ctx_json in mode esc; returns the rc. */
static int render(const char *src, enum template_escape esc, struct buf *out)
{
        char err[CPPO_ERRLEN];
        yajl_val ctx = yajl_tree_parse(ctx_json, err, sizeof(err));
        struct template *t = NULL;
        int rc;

        assert_non_null(ctx);
        rc = template_compile(&t, src, strlen(src), err, sizeof(err));
        assert_int_equal(rc, 0);
        rc = template_render(t, ctx, esc, NULL, out, err, sizeof(err));
        template_free(t);
        yajl_tree_free(ctx);
        return rc;
}

/* The output parsed as JSON gives back field "x" equal to want. */
static void assert_json_field(const char *json, const char *want)
{
        const char *path[] = { "x", NULL };
        char err[256];
        yajl_val doc = yajl_tree_parse(json, err, sizeof(err));
        yajl_val x;

        assert_non_null(doc);
        x = yajl_tree_get(doc, path, yajl_t_string);
        assert_non_null(x);
        assert_string_equal(YAJL_GET_STRING(x), want);
        yajl_tree_free(doc);
}

static void html_escapes_and_triple_does_not(void **state)
{
        struct buf b = BUF_INIT(4096);

        assert_int_equal(render("{{d}} {{n}} <{{{v}}}>|{{v}}", TEMPLATE_ESCAPE_HTML, &b), 0);
        assert_string_equal(buf_cstr(&b), "1.5 3 <a\"b\\c\n\r\t\x01 <&> é>|"
                                          "a&quot;b\\c\n\r\t\x01 &lt;&amp;&gt; é");
        buf_deinit(&b);
}

static void text_mode_leaves_values_alone(void **state)
{
        struct buf b = BUF_INIT(4096);

        assert_int_equal(render("{{v}}", TEMPLATE_ESCAPE_TEXT, &b), 0);
        assert_string_equal(buf_cstr(&b), "a\"b\\c\n\r\t\x01 <&> é");
        buf_deinit(&b);
}

/* Raw tags ({{{x}}}, {{&x}}) skip entity escaping only: HEADER output never
 * holds CR/LF and JSON output always parses back to the original value. */
static void raw_tags_keep_the_safety_escaping(void **state)
{
        static const struct {
                const char *src;
                enum template_escape esc;
        } cases[] = {
                { "Re: {{subj}}", TEMPLATE_ESCAPE_HEADER },
                { "Re: {{{subj}}}", TEMPLATE_ESCAPE_HEADER },
                { "Re: {{&subj}}\r\nX: y", TEMPLATE_ESCAPE_HEADER },
                { "{\"x\":\"{{v}}\"}", TEMPLATE_ESCAPE_JSON },
                { "{\"x\":\"{{{v}}}\"}", TEMPLATE_ESCAPE_JSON },
                { "{\"x\":\"{{&v}}\"}", TEMPLATE_ESCAPE_JSON },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct buf b = BUF_INIT(4096);

                assert_int_equal(render(cases[i].src, cases[i].esc, &b), 0);
                if (cases[i].esc == TEMPLATE_ESCAPE_JSON) {
                        assert_json_field(buf_cstr(&b), "a\"b\\c\n\r\t\x01 <&> é");
                } else {
                        assert_null(strpbrk(buf_cstr(&b), "\r\n"));
                        assert_memory_equal(buf_cstr(&b), "Re: hi  Bcc: x@evil", 19);
                }
                buf_deinit(&b);
        }
}

#define OPEN  TEMPLATE_MARK_OPEN
#define CLOSE TEMPLATE_MARK_CLOSE
#define Z     "\xe2\x80\x8b" /* U+200B */
#define RLO   "\xe2\x80\xae" /* U+202E */

/* SLACK mode: values JSON-escaped between marks (raw ones unmarked), so
 * template_text() can escape them for the text type they land in. */
static void slack_mode_marks_values_inside_json(void **state)
{
        struct buf b = BUF_INIT(4096);

        assert_int_equal(render("{\"x\":\"*{{v}}*\"}", TEMPLATE_ESCAPE_SLACK, &b), 0);
        assert_json_field(buf_cstr(&b), "*" OPEN "a\"b\\c\n\r\t\x01 <&> é" CLOSE "*");
        buf_reset(&b);
        assert_int_equal(render("{\"x\":\"{{{v}}}\"}", TEMPLATE_ESCAPE_SLACK, &b), 0);
        assert_json_field(buf_cstr(&b), "a\"b\\c\n\r\t\x01 <&> é");
        buf_deinit(&b);
}

/* Marks and bidi controls inside a value are dropped: a value can neither
 * end its own marking nor reorder what follows it. */
static void values_cannot_forge_marks_or_reorder(void **state)
{
        static const char src[] = "{{v}}|{{{v}}}";
        char err[CPPO_ERRLEN];
        yajl_val ctx = yajl_tree_parse("{\"v\":\"a\xef\xb7\x91*\xef\xb7\x90"
                                       "b" RLO "c\"}",
                                       err, sizeof(err));
        struct template *t = NULL;
        struct buf b = BUF_INIT(4096);

        assert_non_null(ctx);
        assert_int_equal(template_compile(&t, src, strlen(src), err, sizeof(err)), 0);
        assert_int_equal(template_render(t, ctx, TEMPLATE_ESCAPE_SLACK, NULL, &b, err, sizeof(err)),
                         0);
        assert_string_equal(buf_cstr(&b), OPEN "a*bc" CLOSE "|a*bc");
        buf_reset(&b);
        assert_int_equal(
            template_render(t, ctx, TEMPLATE_ESCAPE_HEADER, NULL, &b, err, sizeof(err)), 0);
        assert_string_equal(buf_cstr(&b), "a\xef\xb7\x91*\xef\xb7\x90"
                                          "bc|"
                                          "a\xef\xb7\x91*\xef\xb7\x90"
                                          "bc");
        buf_deinit(&b);
        template_free(t);
        yajl_tree_free(ctx);
}

/* template_text(): each text type, template text vs marked values. */
static void text_types_escape_marked_values(void **state)
{
        static const struct {
                const char *in;
                enum template_text kind;
                const char *want;
        } cases[] = {
                { "*B:* " OPEN "*x* _y_ ~z~ `c`" CLOSE, TEMPLATE_TEXT_MRKDWN,
                  "*B:* " Z "*" Z "x" Z "*" Z " " Z "_" Z "y" Z "_" Z " " Z "~" Z "z" Z "~" Z " " Z
                  "`" Z "c" Z "`" Z },
                { OPEN "<!channel> <@U1> <http://e|l> & a_b" CLOSE, TEMPLATE_TEXT_MRKDWN,
                  "&lt;!channel&gt; &lt;@U1&gt; &lt;http://e|l&gt; &amp; a_b" },
                { "> " OPEN "> q\n  > r a>b" CLOSE, TEMPLATE_TEXT_MRKDWN,
                  "> " Z "&gt; q\n  " Z "&gt; r a&gt;b" },
                { "x\n" OPEN "> q" CLOSE, TEMPLATE_TEXT_MRKDWN, "x\n" Z "&gt; q" },
                { "H: " OPEN "M\xc3\xbcller & S\xc3\xb6hne *1*" CLOSE, TEMPLATE_TEXT_PLAIN,
                  "H: M\xc3\xbcller & S\xc3\xb6hne *1*" },
                { "a\n" OPEN "b\r\nc" RLO "d" CLOSE, TEMPLATE_TEXT_PLAIN, "a\nb\r\nc" RLO "d" },
                { "a\n" OPEN "b\r\nc" RLO "\xe2\x81\xa6"
                  "d" CLOSE,
                  TEMPLATE_TEXT_LINE, "a b  cd" },
                { "plain & <b>", TEMPLATE_TEXT_MRKDWN, "plain & <b>" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct buf b = BUF_INIT(4096);

                assert_int_equal(template_text(cases[i].in, cases[i].kind, &b), 0);
                assert_string_equal(buf_cstr(&b), cases[i].want);
                buf_deinit(&b);
        }
}

static void output_cap_is_e2big(void **state)
{
        struct buf b = BUF_INIT(8);

        assert_int_equal(render("0123456789{{v}}", TEMPLATE_ESCAPE_TEXT, &b), -E2BIG);
        assert_true(b.len <= 8);
        buf_deinit(&b);
}

static void compile_error(const char *src, const char *want)
{
        char err[CPPO_ERRLEN] = "";
        struct template *t = (struct template *)&err;

        assert_int_equal(template_compile(&t, src, strlen(src), err, sizeof(err)), -EINVAL);
        assert_null(t);
        if (!strstr(err, want))
                fprintf(stderr, "# err [%s] want [%s]\n", err, want);
        assert_non_null(strstr(err, want));
}

static void compile_errors_say_where(void **state)
{
        compile_error("ab\n  {{#s}}x", "2:3: unclosed section");
        compile_error("{{#a}}\n{{/b}}", "2:1: mismatched close tag");
        compile_error("x {{/b}}", "1:3: close tag without open section");
        compile_error("x\ny {{v", "2:3: unclosed tag");
        compile_error("{{=<% =}}", "1:1: bad delimiter");
        compile_error("{{= a b c =}}", "1:1: bad delimiter");
        compile_error("{{}}", "1:1: empty tag");
        compile_error("{{{x}}", "1:1: unclosed tag");
}

static void caps_hold(void **state)
{
        char err[CPPO_ERRLEN];
        struct template *t = NULL;
        struct buf src = BUF_INIT(TEMPLATE_MAX_SOURCE + 16);

        for (int i = 0; i <= TEMPLATE_MAX_NESTING; i++)
                assert_int_equal(buf_printf(&src, "{{#s%d}}", i), 0);
        assert_int_equal(template_compile(&t, src.data, src.len, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "nested too deep"));
        buf_reset(&src);
        while (src.len <= TEMPLATE_MAX_SOURCE)
                assert_int_equal(buf_puts(&src, "xxxxxxxx"), 0);
        assert_int_equal(template_compile(&t, src.data, src.len, err, sizeof(err)), -E2BIG);
        buf_deinit(&src);
}

static void recursive_partial_ends_with_error(void **state)
{
        const struct template_partial items[] = { { "p", "x{{>p}}" } };
        const struct template_partials parts = { items, 1 };
        char err[CPPO_ERRLEN];
        struct template *t = NULL;
        struct buf b = BUF_INIT(1 << 16);

        assert_int_equal(template_compile(&t, "{{>p}}", 6, err, sizeof(err)), 0);
        assert_int_equal(
            template_render(t, NULL, TEMPLATE_ESCAPE_TEXT, &parts, &b, err, sizeof(err)), -E2BIG);
        assert_non_null(strstr(err, "partials nested"));
        assert_int_equal(b.len, TEMPLATE_MAX_PARTIAL_DEPTH);
        template_free(t);
        buf_deinit(&b);
}

/* Nested loops that print nothing stop at the step budget. */
static void silent_nested_loops_stop(void **state)
{
        char err[CPPO_ERRLEN];
        const char *json = "{\"l\":[1,2,3,4,5,6,7,8,9,10]}";
        yajl_val ctx = yajl_tree_parse(json, err, sizeof(err));
        struct template *t = NULL;
        struct buf src = BUF_INIT(4096), b = BUF_INIT(64);

        for (int i = 0; i < 12; i++)
                assert_int_equal(buf_puts(&src, "{{#l}}"), 0);
        for (int i = 0; i < 12; i++)
                assert_int_equal(buf_puts(&src, "{{/l}}"), 0);
        assert_int_equal(template_compile(&t, src.data, src.len, err, sizeof(err)), 0);
        assert_int_equal(template_render(t, ctx, TEMPLATE_ESCAPE_TEXT, NULL, &b, err, sizeof(err)),
                         -E2BIG);
        assert_non_null(strstr(err, "steps"));
        template_free(t);
        yajl_tree_free(ctx);
        buf_deinit(&src);
        buf_deinit(&b);
}

static void free_accepts_null(void **state)
{
        template_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(html_escapes_and_triple_does_not),
                cmocka_unit_test(text_mode_leaves_values_alone),
                cmocka_unit_test(raw_tags_keep_the_safety_escaping),
                cmocka_unit_test(slack_mode_marks_values_inside_json),
                cmocka_unit_test(values_cannot_forge_marks_or_reorder),
                cmocka_unit_test(text_types_escape_marked_values),
                cmocka_unit_test(output_cap_is_e2big),
                cmocka_unit_test(compile_errors_say_where),
                cmocka_unit_test(caps_hold),
                cmocka_unit_test(recursive_partial_ends_with_error),
                cmocka_unit_test(silent_nested_loops_stop),
                cmocka_unit_test(free_accepts_null),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
