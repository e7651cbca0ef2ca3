/* Unit tests: file-backed secrets. */
#undef NDEBUG
#include "cppo/secret.h"

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

#define SECRETS FIXTURES_DIR "/config/secrets/"

static void file_loads_and_newline_is_stripped(void **state)
{
        struct secret *s = NULL;
        char err[CPPO_ERRLEN] = "";

        assert_int_equal(secret_load_file(&s, SECRETS "smtp-password", err, sizeof(err)), 0);
        assert_string_equal(secret_value(s), "hunter2-smtp-password");
        assert_int_equal(secret_len(s), strlen("hunter2-smtp-password"));
        assert_string_equal(secret_source(s), SECRETS "smtp-password");
        secret_free(s);
}

static void crlf_is_stripped(void **state)
{
        struct secret *s = NULL;

        assert_int_equal(secret_load_file(&s, SECRETS "slack-url", NULL, 0), 0);
        assert_string_equal(secret_value(s), "https://hooks.slack.example/services/T000/B000/XYZ");
        secret_free(s);
}

static void missing_file_error_names_path(void **state)
{
        struct secret *s = NULL;
        char err[CPPO_ERRLEN] = "";

        assert_int_equal(secret_load_file(&s, SECRETS "nope", err, sizeof(err)), -ENOENT);
        assert_null(s);
        assert_non_null(strstr(err, SECRETS "nope"));
}

static void empty_file_is_rejected(void **state)
{
        struct secret *s = NULL;
        char err[CPPO_ERRLEN] = "";

        assert_int_equal(secret_load_file(&s, SECRETS "empty", err, sizeof(err)), -EINVAL);
        assert_null(s);
        assert_non_null(strstr(err, "empty"));
}

static void oversized_file_is_rejected_without_content(void **state)
{
        char path[] = "/tmp/cppo-secret-XXXXXX";
        char big[SECRET_MAX + 10];
        struct secret *s = NULL;
        char err[CPPO_ERRLEN] = "";
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        memset(big, 'Q', sizeof(big));
        assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
        close(fd);
        assert_int_equal(secret_load_file(&s, path, err, sizeof(err)), -E2BIG);
        assert_null(strstr(err, "QQQQ"));
        unlink(path);
}

static void new_rejects_nul_and_copies(void **state)
{
        struct secret *s = NULL;
        char v[] = "abc";

        assert_int_equal(secret_new(&s, "a\0b", 3), -EINVAL);
        assert_int_equal(secret_new(&s, v, 3), 0);
        v[0] = 'z';
        assert_string_equal(secret_value(s), "abc");
        assert_string_equal(secret_source(s), "");
        secret_free(s);
        secret_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(file_loads_and_newline_is_stripped),
                cmocka_unit_test(crlf_is_stripped),
                cmocka_unit_test(missing_file_error_names_path),
                cmocka_unit_test(empty_file_is_rejected),
                cmocka_unit_test(oversized_file_is_rejected_without_content),
                cmocka_unit_test(new_rejects_nul_and_copies),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
