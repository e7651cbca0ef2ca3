/* Unit tests: the JSON writer's steps and json_take. */
#undef NDEBUG
#include "cppo/json.h"

#include "cppo/model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_steps(void **state)
{
        (void)state;
        yajl_gen g = json_new();
        const char *v[] = { "a", "b\"c" };
        char x[] = "x", *one[] = { x };
        struct strlist l = { .v = one, .n = 1 };
        char *text = NULL;

        assert_non_null(g);
        assert_int_equal(yajl_gen_map_open(g), yajl_gen_status_ok);
        assert_int_equal(json_string(g, "s", "v"), 0);
        assert_int_equal(json_string(g, "n", NULL), 0);
        assert_int_equal(json_bool(g, "b", true), 0);
        assert_int_equal(json_int(g, "i", -42), 0);
        assert_int_equal(json_strv(g, "v", v, 2), 0);
        assert_int_equal(json_strlist(g, "l", &l), 0);
        assert_int_equal(json_strlist(g, "e", NULL), 0);
        assert_int_equal(yajl_gen_map_close(g), yajl_gen_status_ok);
        assert_int_equal(json_take(g, &text), 0);
        assert_string_equal(text, "{\"s\":\"v\",\"n\":null,\"b\":true,\"i\":-42,"
                                  "\"v\":[\"a\",\"b\\\"c\"],\"l\":[\"x\"],\"e\":[]}");
        free(text);
        json_free(g);
        json_free(NULL);
}

/* A bare array as the whole document (key NULL). */
static void test_bare_array(void **state)
{
        (void)state;
        yajl_gen g = json_new();
        const char *v[] = { "k" };
        char *text = NULL;

        assert_int_equal(json_strv(g, NULL, v, 1), 0);
        assert_int_equal(json_take(g, &text), 0);
        assert_string_equal(text, "[\"k\"]");
        free(text);
        json_free(g);
}

/* A step the generator refuses (a value where a key belongs) reports it. */
static void test_refused_step(void **state)
{
        (void)state;
        yajl_gen g = json_new();

        assert_int_equal(yajl_gen_map_open(g), yajl_gen_status_ok);
        assert_int_not_equal(json_bool(g, NULL, true), 0);
        json_free(g);
}

/* A command's --json line: the text and a newline; a stored document
 * spliced in before the brace. */
static void test_print(void **state)
{
        char out[256] = { 0 };
        FILE *f = fmemopen(out, sizeof out - 1, "w");
        yajl_gen g = json_new();

        (void)state;
        assert_non_null(f);
        yajl_gen_map_open(g);
        json_string(g, "kind", "new_order");
        yajl_gen_map_close(g);
        assert_int_equal(json_print(g, f), 0);
        json_free(g);
        g = json_new();
        yajl_gen_map_open(g);
        json_int(g, "n", 2);
        assert_int_equal(json_print_splice(g, f, "context", "{\"a\":[1]}", ",\"x\":true"), 0);
        json_free(g);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(out, "{\"kind\":\"new_order\"}\n"
                                 "{\"n\":2,\"context\":{\"a\":[1]},\"x\":true}\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_steps),
                cmocka_unit_test(test_bare_array),
                cmocka_unit_test(test_refused_step),
                cmocka_unit_test(test_print),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
