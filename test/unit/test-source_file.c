/* Unit tests: the JSON-lines source (lines cut out of blocks, not read a
 * byte at a time): what each handed-over line holds, across block
 * boundaries, past the cap, with NUL bytes and without a last newline. */
#undef NDEBUG
#include "cppo/source_file.h"

#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_SEEN 8

struct seen {
        size_t n;
        struct {
                char *data;
                size_t len, size;
                int truncated;
                int64_t line;
        } m[MAX_SEEN];
};

static int keep(void *ctx, const struct raw_message *m)
{
        struct seen *s = ctx;

        assert_true(s->n < MAX_SEEN);
        s->m[s->n].data = malloc(m->len + 1);
        assert_non_null(s->m[s->n].data);
        memcpy(s->m[s->n].data, m->data, m->len);
        s->m[s->n].len = m->len;
        s->m[s->n].size = m->size;
        s->m[s->n].truncated = m->truncated;
        s->m[s->n].line = m->coord.offset;
        s->n++;
        return 0;
}

static void seen_free(struct seen *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->m[i].data);
}

/* Writes bytes to a fresh file; its path into path. */
static void write_file(char *path, const char *bytes, size_t len)
{
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, bytes, len), (ssize_t)len);
        assert_int_equal(close(fd), 0);
}

static void lines_blank_lines_nul_bytes_and_the_last_line(void **state)
{
        static const char in[] = "{\"a\":1}\n  \t\r\n\nab\0cd\n{\"z\":2}";
        char path[] = "/tmp/test-source_file.XXXXXX", err[256] = "";
        struct seen s = { 0 };

        (void)state;
        write_file(path, in, sizeof in - 1);
        assert_int_equal(source_file_run(path, 1024, keep, &s, err, sizeof err), 0);
        assert_int_equal(s.n, 3);
        assert_int_equal(s.m[0].len, 7);
        assert_memory_equal(s.m[0].data, "{\"a\":1}", 7);
        assert_int_equal(s.m[0].line, 1);
        /* blank lines are skipped but counted */
        assert_int_equal(s.m[1].len, 5);
        assert_memory_equal(s.m[1].data, "ab\0cd", 5);
        assert_int_equal(s.m[1].line, 4);
        assert_int_equal(s.m[2].len, 7);
        assert_memory_equal(s.m[2].data, "{\"z\":2}", 7);
        assert_int_equal(s.m[2].line, 5);
        for (size_t i = 0; i < s.n; i++)
                assert_int_equal(s.m[i].truncated, 0);
        seen_free(&s);
        unlink(path);
}

/* Lines longer than a read block (64 KiB), one of them past the cap: the
 * cap's worth of its first bytes, its whole size, and the next line whole. */
static void long_lines_span_blocks_and_the_cap_cuts_them(void **state)
{
        const size_t whole = 200000, cap = 150000, under = 100000;
        size_t len = under + 1 + whole + 1 + 3;
        char *in = malloc(len), path[] = "/tmp/test-source_file.XXXXXX", err[256] = "";
        struct seen s = { 0 };

        (void)state;
        assert_non_null(in);
        for (size_t i = 0; i < under; i++)
                in[i] = (char)('a' + i % 26);
        in[under] = '\n';
        for (size_t i = 0; i < whole; i++)
                in[under + 1 + i] = (char)('0' + i % 10);
        in[under + 1 + whole] = '\n';
        memcpy(in + under + whole + 2, "end", 3);
        write_file(path, in, len);
        assert_int_equal(source_file_run(path, cap, keep, &s, err, sizeof err), 0);
        assert_int_equal(s.n, 3);
        assert_int_equal(s.m[0].len, under);
        assert_int_equal(s.m[0].truncated, 0);
        assert_memory_equal(s.m[0].data, in, under);
        assert_int_equal(s.m[1].len, cap);
        assert_int_equal(s.m[1].truncated, 1);
        assert_int_equal(s.m[1].size, whole);
        assert_memory_equal(s.m[1].data, in + under + 1, cap);
        assert_int_equal(s.m[2].len, 3);
        assert_memory_equal(s.m[2].data, "end", 3);
        assert_int_equal(s.m[2].line, 3);
        seen_free(&s);
        free(in);
        unlink(path);
}

static void a_missing_file_is_reported(void **state)
{
        char err[256] = "";
        struct seen s = { 0 };

        (void)state;
        assert_int_equal(source_file_run("/nonexistent/x.jsonl", 64, keep, &s, err, sizeof err),
                         -ENOENT);
        assert_non_null(strstr(err, "cannot open '/nonexistent/x.jsonl'"));
        assert_int_equal(s.n, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(lines_blank_lines_nul_bytes_and_the_last_line),
                cmocka_unit_test(long_lines_span_blocks_and_the_cap_cuts_them),
                cmocka_unit_test(a_missing_file_is_reported),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
