/* Unit tests: jscan's fast path (plain documents walked without yajl)
 * gives what yajl gives: the same status, message and captured values for
 * every document, valid or not; it decides the plain ones itself. A
 * differential test over sample documents and many mutations of them. */
#undef NDEBUG
#include "cppo/jscan.h"

#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct jscan_path paths[] = {
        { "id", JSCAN_STRING, 0 },
        { "detail-type", JSCAN_STRING, 1 },
        { "Body", JSCAN_STRING, 2 },
        { "Records[].body", JSCAN_STRING, 3 },
        { "Records[].messageId", JSCAN_STRING, 4 },
        { "detail.offer.id", JSCAN_STRING, 5 },
        { "detail.targetedBuyerAccountIds", JSCAN_STRING_ARRAY, 6 },
        { "detail.renewal", JSCAN_BOOL, 7 },
        { "detail.metadata", JSCAN_STRING_MAP, 8 },
        { "detail.name", JSCAN_STRING, 9 },
};

static const char *const samples[] = {
        "{\"id\":\"e-1\",\"detail-type\":\"Offer Released\",\"source\":\"aws.marketplacecatalog\","
        "\"time\":\"2025-01-01T00:00:00Z\",\"resources\":[],\"detail\":{\"offer\":{\"id\":"
        "\"offer-1\",\"name\":\"Deal\"},\"targetedBuyerAccountIds\":[\"111\",\"222\"],"
        "\"renewal\":true,\"metadata\":{\"crm\":\"x-1\",\"tier\":\"gold\"},\"n\":-12.5e+3,"
        "\"z\":0,\"f\":false,\"nul\":null,\"deep\":[[{\"a\":[1,2,{\"b\":null}]}],{}]}}",
        " {\r\n\t\"Body\" : \"{\\\"id\\\":\\\"inner\\\",\\\"detail\\\":{\\\"name\\\":"
        "\\\"a\\\\\\\\b\\/c\\n\\t\\r\\b\\f\\\"}}\" , \"MessageId\":\"m-1\" } \n",
        "{\"Records\":[{\"messageId\":\"r1\",\"body\":\"{}\"},{\"messageId\":\"r2\","
        "\"body\":\"x\"}],\"id\":\"\"}",
        "{\"detail\":{\"name\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00\",\"renewal\":false}}",
        "{\"id\":123}",
        "{\"detail\":{\"offer\":{\"id\":[\"not\",\"a string\"]}}}",
        "{\"detail\":{\"targetedBuyerAccountIds\":[\"1\",2]}}",
        "{}",
        "[1,2,3]",
        "\"just a string\"",
        "{\"a\":1}{\"b\":2}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":tru}",
        "{\"a\":\"x\",}",
        "{\"a\"\v:\f1}",
        "",
};

/* The run's outcome as text: status, message, every value. */
static char *outcome(struct jscan *s, const char *doc, size_t len)
{
        size_t cap = 4096 + 4 * len, used = 0;
        char *out = malloc(cap);
        int st = jscan_run(s, doc, len);

        assert_non_null(out);
        used += (size_t)snprintf(out + used, cap - used, "%d|%s|%zu", st, jscan_error(s),
                                 jscan_count(s));
        for (size_t i = 0; st == JSCAN_OK && i < jscan_count(s); i++) {
                const struct jscan_value *v = jscan_value(s, i);
                assert_true(used + v->len + 256 < cap);
                used += (size_t)snprintf(out + used, cap - used, "|%d,%d,%d,%s,%zu:", v->field,
                                         (int)v->elem, v->boolean, v->key ? v->key : "-", v->len);
                if (v->str)
                        memcpy(out + used, v->str, v->len);
                used += v->str ? v->len : 0;
                out[used] = '\0';
        }
        return out;
}

static void same(struct jscan *fast, struct jscan *slow, const char *doc, size_t len)
{
        char *a = outcome(fast, doc, len), *b = outcome(slow, doc, len);

        if (strcmp(a, b) != 0)
                fail_msg("document <%.*s>: fast <%s>, yajl <%s>", (int)len, doc, a, b);
        free(a);
        free(b);
}

static void new_pair(struct jscan **fast, struct jscan **slow)
{
        assert_int_equal(jscan_new(fast, paths, sizeof paths / sizeof paths[0], 16, 1 << 20), 0);
        assert_int_equal(jscan_new(slow, paths, sizeof paths / sizeof paths[0], 16, 1 << 20), 0);
        jscan_set_fast(*slow, false);
}

static void samples_match_yajl_and_plain_ones_skip_it(void **state)
{
        struct jscan *fast, *slow;

        (void)state;
        new_pair(&fast, &slow);
        for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
                same(fast, slow, samples[i], strlen(samples[i]));
        /* the first three are plain, and so are the two wrong types' documents
         * up to the refusal (which yajl then confirms) */
        assert_true(jscan_fast_count(fast) >= 3);
        assert_int_equal(jscan_fast_count(slow), 0);
        jscan_free(fast);
        jscan_free(slow);
}

/* Bytes that change a document's meaning or validity. */
static const char interesting[] = "\"\\{}[],: \t\n\r\v\f01-.eE+tfnulxb/";

static void mutations_match_yajl(void **state)
{
        struct jscan *fast, *slow;
        unsigned seed = 12345;
        char doc[2048];

        (void)state;
        new_pair(&fast, &slow);
        for (int trial = 0; trial < 60000; trial++) {
                const char *from = samples[trial % 4];
                size_t len = strlen(from);
                int edits = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 3;

                memcpy(doc, from, len);
                for (int e = 0; e < edits && len > 0 && len < sizeof doc - 1; e++) {
                        unsigned r = (seed = seed * 1103515245u + 12345u) >> 8;
                        size_t at = r % len;
                        char c = r % 7 == 0    ? (char)(r >> 12)
                                 : r % 11 == 0 ? '\0'
                                               : interesting[(r >> 4) % (sizeof interesting - 1)];
                        switch ((r >> 20) % 4) {
                        case 0: doc[at] = c; break;
                        case 1: /* insert */
                                memmove(doc + at + 1, doc + at, len - at);
                                doc[at] = c;
                                len++;
                                break;
                        case 2: /* delete */
                                memmove(doc + at, doc + at + 1, len - at - 1);
                                len--;
                                break;
                        default: len = at; break; /* cut */
                        }
                }
                same(fast, slow, doc, len);
        }
        jscan_free(fast);
        jscan_free(slow);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(samples_match_yajl_and_plain_ones_skip_it),
                cmocka_unit_test(mutations_match_yajl),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
