/* Unit tests: the AWS credential chain, each source against the local
 * stand-ins (test/tools/catalog-standin.py), refresh of expiring
 * credentials, and no secret in any error. */
#undef NDEBUG
#include "cppo/aws_creds.h"

#include "aws-standin.h"
#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static const char *const aws_vars[] = {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_EC2_METADATA_DISABLED",
};

static char dir[] = "/tmp/cppo-aws-creds-XXXXXX";

/* Every test starts from nothing: no AWS variable, a HOME without .aws,
 * IMDS off (so no test waits on 169.254.169.254). */
static int clean_env(void **state)
{
        for (size_t i = 0; i < sizeof aws_vars / sizeof aws_vars[0]; i++)
                unsetenv(aws_vars[i]);
        setenv("HOME", dir, 1);
        setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
        return 0;
}

static void write_file(const char *name, const char *text, char *path, size_t cap)
{
        snprintf(path, cap, "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* The error text carries neither secret. */
static void assert_no_secret(const char *text, const char *secret, const char *token)
{
        assert_null(strstr(text, secret));
        if (token)
                assert_null(strstr(text, token));
}

static void environment_first(void **state)
{
        struct aws_creds *c = NULL;
        setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
        setenv("AWS_SESSION_TOKEN", "env-token", 1);
        assert_int_equal(aws_creds_resolve(&c, NULL, NULL, 0), 0);
        assert_string_equal(aws_creds_source(c), "environment");
        assert_string_equal(aws_creds_access_key_id(c), "AKIDENV");
        assert_string_equal(secret_value(aws_creds_secret_key(c)), "env-secret");
        assert_string_equal(secret_value(aws_creds_session_token(c)), "env-token");
        assert_int_equal(aws_creds_expiration(c), 0);
        assert_false(aws_creds_refresh_due(c, time(NULL)));
        aws_creds_free(c);
}

static void half_an_environment_is_an_error(void **state)
{
        struct aws_creds *c = NULL;
        char err[CPPO_ERRLEN] = "";
        setenv("AWS_SECRET_ACCESS_KEY", "lonely-secret", 1);
        assert_int_equal(aws_creds_resolve(&c, NULL, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "AWS_ACCESS_KEY_ID"));
        assert_no_secret(err, "lonely-secret", NULL);
}

static const char credentials_file[] = "# test credentials\n"
                                       "[default]\n"
                                       "aws_access_key_id = AKIDDEFAULT\n"
                                       "aws_secret_access_key = default-secret\n"
                                       "\n"
                                       "[prod]\n"
                                       "aws_access_key_id=AKIDPROD\n"
                                       "aws_secret_access_key=prod-secret\n"
                                       "aws_session_token = prod-token\n"
                                       "[assumer]\n"
                                       "role_arn = arn:aws:iam::111122223333:role/x\n"
                                       "source_profile = default\n"
                                       "[half]\n"
                                       "aws_secret_access_key = half-secret\n";

static const char config_file[] = "[default]\n"
                                  "region = us-east-1\n"
                                  "[profile staging]\n"
                                  "aws_access_key_id = AKIDSTAGING\n"
                                  "aws_secret_access_key = staging-secret\n";

static void shared_files_and_profiles(void **state)
{
        char cred[512], conf[512], err[CPPO_ERRLEN] = "";
        struct aws_creds *c = NULL;
        write_file("credentials", credentials_file, cred, sizeof cred);
        write_file("config", config_file, conf, sizeof conf);
        setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
        setenv("AWS_CONFIG_FILE", conf, 1);

        assert_int_equal(aws_creds_resolve(&c, NULL, NULL, 0), 0);
        assert_string_equal(aws_creds_source(c), "shared file profile default");
        assert_string_equal(aws_creds_access_key_id(c), "AKIDDEFAULT");
        aws_creds_free(c);

        setenv("AWS_PROFILE", "prod", 1);
        assert_int_equal(aws_creds_resolve(&c, NULL, NULL, 0), 0);
        assert_string_equal(aws_creds_source(c), "shared file profile prod");
        assert_string_equal(secret_value(aws_creds_session_token(c)), "prod-token");
        aws_creds_free(c);

        /* [profile staging] lives in the config file. */
        struct aws_creds_opts o = { .profile = "staging" };
        assert_int_equal(aws_creds_resolve(&c, &o, NULL, 0), 0);
        assert_string_equal(aws_creds_access_key_id(c), "AKIDSTAGING");
        aws_creds_free(c);

        /* An explicit profile wins over the environment, AWS_PROFILE does not. */
        setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
        assert_int_equal(aws_creds_resolve(&c, &o, NULL, 0), 0);
        assert_string_equal(aws_creds_access_key_id(c), "AKIDSTAGING");
        aws_creds_free(c);
        assert_int_equal(aws_creds_resolve(&c, NULL, NULL, 0), 0);
        assert_string_equal(aws_creds_source(c), "environment");
        aws_creds_free(c);

        o.profile = "nonexistent";
        assert_int_equal(aws_creds_resolve(&c, &o, err, sizeof err), -ENOENT);
        assert_non_null(strstr(err, "'nonexistent'"));
}

static void unusable_profiles_say_why(void **state)
{
        char cred[512], err[CPPO_ERRLEN] = "";
        struct aws_creds *c = NULL;
        write_file("credentials", credentials_file, cred, sizeof cred);
        setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
        struct aws_creds_opts o = { .profile = "assumer" };
        assert_int_equal(aws_creds_resolve(&c, &o, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "role_arn"));
        o.profile = "half";
        assert_int_equal(aws_creds_resolve(&c, &o, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "needs both"));
        assert_no_secret(err, "half-secret", NULL);
}

static void nothing_found_lists_what_was_tried(void **state)
{
        struct aws_creds *c = NULL;
        char err[CPPO_ERRLEN] = "";
        assert_int_equal(aws_creds_resolve(&c, NULL, err, sizeof err), -ENOENT);
        assert_null(c);
        assert_non_null(strstr(err, "environment"));
        assert_non_null(strstr(err, "imds disabled"));
}

static void container_relative_uri(void **state)
{
        struct standin s;
        struct aws_creds *c = NULL;
        char err[CPPO_ERRLEN] = "";
        const char *const args[] = { "--mode", "container", "--auth-token", "ecs-auth-token",
                                     NULL };
        assert_int_equal(standin_start(&s, args), 0);
        struct aws_creds_opts o = { .container_host = s.url };
        setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/task-1", 1);
        setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-auth-token", 1);
        assert_int_equal(aws_creds_resolve(&c, &o, err, sizeof err), 0);
        assert_string_equal(aws_creds_source(c), "container");
        assert_string_equal(aws_creds_access_key_id(c), "ASIASTANDIN0001");
        assert_string_equal(secret_value(aws_creds_session_token(c)),
                            "standin-token-for-ASIASTANDIN0001");
        assert_true(aws_creds_expiration(c) > time(NULL));
        aws_creds_free(c);

        /* A wrong authorization token is refused, and not echoed. */
        setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-auth-token", 1);
        assert_int_equal(aws_creds_resolve(&c, &o, err, sizeof err), -EACCES);
        assert_non_null(strstr(err, "container credentials: http status 403"));
        assert_no_secret(err, "wrong-auth-token", "ecs-auth-token");
        standin_stop(&s);
}

static void container_full_uri_with_token_file(void **state)
{
        struct standin s;
        struct aws_creds *c = NULL;
        char url[128], tokfile[512], err[CPPO_ERRLEN] = "";
        const char *const args[] = { "--mode", "container", "--auth-token", "eks-pod-token", NULL };
        assert_int_equal(standin_start(&s, args), 0);
        snprintf(url, sizeof url, "%s/eks/credentials", s.url);
        write_file("token", "eks-pod-token\n", tokfile, sizeof tokfile);
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
        setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-is-set", 1);
        setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokfile, 1);
        assert_int_equal(aws_creds_resolve(&c, NULL, err, sizeof err), 0);
        assert_string_equal(aws_creds_source(c), "container");
        aws_creds_free(c);
        standin_stop(&s);

        /* Plain http to anything but a loopback or the ECS/EKS hosts. */
        static const char *const remote[] = {
                "http://creds.example.com/x",
                "http://127.0.0.1.example.com/x",
                "http://169.254.170.2.example.com/",
                "http://[::1/x",
                "ftp://127.0.0.1/x",
        };
        for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
                setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", remote[i], 1);
                assert_int_equal(aws_creds_resolve(&c, NULL, err, sizeof err), -EINVAL);
                assert_non_null(strstr(err, "https"));
        }
}

static void imds_v2(void **state)
{
        struct standin s;
        struct aws_creds *c = NULL;
        char err[CPPO_ERRLEN] = "";
        const char *const args[] = { "--mode", "imds", "--role", "deal-notifier", NULL };
        assert_int_equal(standin_start(&s, args), 0);
        unsetenv("AWS_EC2_METADATA_DISABLED");
        setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", s.url, 1);
        assert_int_equal(aws_creds_resolve(&c, NULL, err, sizeof err), 0);
        assert_string_equal(aws_creds_source(c), "imds role deal-notifier");
        assert_string_equal(aws_creds_access_key_id(c), "ASIASTANDIN0001");
        aws_creds_free(c);
        standin_stop(&s);

        /* Nothing listening: the chain says what IMDS answered. */
        assert_int_equal(aws_creds_resolve(&c, NULL, err, sizeof err), -ENOENT);
        assert_non_null(strstr(err, "imds"));
}

/* Temporary credentials are fetched again 5 minutes before they expire;
 * a failed refresh keeps credentials that are still valid. The clock is
 * passed in, so nothing here waits. */
static void provider_refreshes_expiring_credentials(void **state)
{
        struct standin s;
        struct aws_credprov *p = NULL;
        const struct aws_creds *c = NULL;
        char err[CPPO_ERRLEN] = "";
        const char *const args[] = { "--mode", "container", "--expires-in", "900", NULL };
        assert_int_equal(standin_start(&s, args), 0);
        struct aws_creds_opts o = { .container_host = s.url };
        setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds", 1);
        assert_int_equal(aws_credprov_new(&p, &o), 0);
        int64_t now = time(NULL);

        assert_int_equal(aws_credprov_get(p, now, &c, err, sizeof err), 0);
        assert_string_equal(aws_creds_access_key_id(c), "ASIASTANDIN0001");
        int64_t exp = aws_creds_expiration(c);
        assert_int_equal(aws_credprov_get(p, exp - 301, &c, NULL, 0), 0);
        assert_int_equal(aws_credprov_resolves(p), 1);
        assert_string_equal(aws_creds_access_key_id(c), "ASIASTANDIN0001");

        assert_int_equal(aws_credprov_get(p, exp - 300, &c, NULL, 0), 0);
        assert_int_equal(aws_credprov_resolves(p), 2);
        assert_string_equal(aws_creds_access_key_id(c), "ASIASTANDIN0002");
        assert_int_equal(standin_stat(&s, "\"fetches\": "), 2);

        /* The endpoint goes away: still-valid credentials are kept... */
        standin_stop(&s);
        exp = aws_creds_expiration(c);
        assert_int_equal(aws_credprov_get(p, exp - 100, &c, err, sizeof err), 0);
        assert_string_equal(aws_creds_access_key_id(c), "ASIASTANDIN0002");
        /* ...until they expire. */
        assert_int_equal(aws_credprov_get(p, exp + 1, &c, err, sizeof err), -ECONNREFUSED);
        assert_non_null(strstr(err, "container credentials"));
        aws_credprov_free(p);
}

static void redact_removes_both_secrets(void **state)
{
        struct aws_creds *c = NULL;
        assert_int_equal(aws_creds_new(&c, "test", "AKID", "s3cr3t", "t0k3n", 0), 0);
        char text[] = "a s3cr3t and a t0k3n and s3cr3t again, AKID stays";
        aws_creds_redact(c, text);
        assert_string_equal(text, "a ****** and a ***** and ****** again, AKID stays");
        aws_creds_free(c);
        assert_int_equal(aws_creds_new(&c, "test", "AKID", "", NULL, 0), -EINVAL);
}

int main(void)
{
        if (mkdtemp(dir) == NULL)
                return 1;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(environment_first, clean_env),
                cmocka_unit_test_setup(half_an_environment_is_an_error, clean_env),
                cmocka_unit_test_setup(shared_files_and_profiles, clean_env),
                cmocka_unit_test_setup(unusable_profiles_say_why, clean_env),
                cmocka_unit_test_setup(nothing_found_lists_what_was_tried, clean_env),
                cmocka_unit_test_setup(container_relative_uri, clean_env),
                cmocka_unit_test_setup(container_full_uri_with_token_file, clean_env),
                cmocka_unit_test_setup(imds_v2, clean_env),
                cmocka_unit_test_setup(provider_refreshes_expiring_credentials, clean_env),
                cmocka_unit_test_setup(redact_removes_both_secrets, clean_env),
        };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                rc = rc ? rc : 1;
        return rc;
}
