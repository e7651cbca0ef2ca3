/* Unit tests: configuration loader, yamldoc, error reporting. */
#undef NDEBUG
#include "cppo/config.h"

#include "cppo/error.h"
#include "cppo/yamldoc.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define CONFIG_FIXTURES FIXTURES_DIR "/config"
#define EXAMPLE         FIXTURES_DIR "/../../config/cppo-notify.yaml"
#define SECRET_TEXT     "hunter2-smtp-password"

/* Everything config_errors_print writes. */
static char *printed(const struct config_errors *e)
{
        char *all = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&all, &len);
        assert_non_null(f);
        config_errors_print(e, f);
        fclose(f);
        return all;
}

/* Loads text as a main file that must fail; returns the printed report. */
static char *failed_load_report(const char *path, const char *text, size_t *count)
{
        struct config_errors errs;
        struct config *c = NULL;
        char *all;

        config_errors_init(&errs);
        assert_int_equal(config_load_buffer(&c, path, text, strlen(text), &errs), -EINVAL);
        assert_null(c);
        *count = errs.count;
        all = printed(&errs);
        config_errors_deinit(&errs);
        return all;
}

/* Error lines only (source and caret lines start with two spaces). */
static char *error_lines(const struct config_errors *e)
{
        char *all = printed(e), *out;
        size_t len = strlen(all);
        out = calloc(1, len + 1);
        assert_non_null(out);
        for (char *line = all, *nl; line != NULL && *line != '\0';
             line = nl != NULL ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                size_t n = nl != NULL ? (size_t)(nl - line + 1) : strlen(line);
                if (strncmp(line, "  ", 2) != 0)
                        strncat(out, line, n);
        }
        free(all);
        return out;
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        char *data;
        long n;
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        rewind(f);
        data = calloc(1, (size_t)n + 1);
        assert_non_null(data);
        assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        return data;
}

static int is_bad_yaml(const struct dirent *d)
{
        size_t n = strlen(d->d_name);
        return n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0;
}

static void check_bad_fixture(const char *name)
{
        char path[512], exp_path[512];
        struct config_errors errs;
        struct config *cfg = (struct config *)1;

        snprintf(path, sizeof(path), "bad/%s", name);
        snprintf(exp_path, sizeof(exp_path), "bad/%.*s.expected", (int)(strlen(name) - 5), name);
        config_errors_init(&errs);
        assert_int_equal(config_load(&cfg, path, &errs), -EINVAL);
        assert_null(cfg);
        char *got = error_lines(&errs);
        char *want = slurp(exp_path);
        if (strcmp(got, want) != 0)
                fprintf(stderr, "# %s\n# got:\n%s# want:\n%s", name, got, want);
        assert_string_equal(got, want);
        free(got);
        free(want);
        config_errors_deinit(&errs);
}

/* Every bad/NAME.yaml fails with exactly the lines of bad/NAME.expected. */
static void bad_fixtures_report_exact_errors(void **state)
{
        struct dirent **names = NULL;
        int n;

        assert_int_equal(chdir(CONFIG_FIXTURES), 0);
        setenv("CPPO_TEST_BROKERS", "b:9092", 1);
        unsetenv("CPPO_TEST_UNSET_VAR");
        n = scandir("bad", &names, is_bad_yaml, alphasort);
        assert_true(n >= 40);
        for (int i = 0; i < n; i++) {
                check_bad_fixture(names[i]->d_name);
                free(names[i]);
        }
        free(names);
}

static void example_config_loads_with_values(void **state)
{
        struct config_errors errs;
        struct config *c = NULL;

        config_errors_init(&errs);
        assert_int_equal(config_load(&c, EXAMPLE, &errs), 0);
        assert_int_equal(errs.count, 0);
        assert_string_equal(c->kafka.brokers, "localhost:9092");
        assert_int_equal(c->kafka.topics.count, 1);
        assert_string_equal(c->kafka.topics.items[0], "aws-marketplace-events");
        assert_string_equal(c->kafka.dead_letter_topic, "cppo-notify-dlq");
        assert_int_equal(c->kafka.properties.count, 2);
        assert_string_equal(c->kafka.properties.values[1], "45000");
        assert_string_equal(c->smtp.starttls, "required");
        assert_int_equal(c->smtp.timeout, 30);
        assert_int_equal(c->holds.offer_link_timeout, 72 * 3600);
        assert_int_equal(c->receiver_count, 4);
        const struct config_receiver *r = config_receiver(c, "emea-deals");
        assert_non_null(r);
        assert_int_equal(r->type, CONFIG_RECEIVER_SLACK);
        assert_int_equal(r->rate, 1);
        assert_non_null(strstr(secret_value(r->webhook_url), "https://hooks.slack.com/"));
        assert_non_null(strstr(r->templates.slack, "templates/emea.slack.mustache"));
        r = config_receiver(c, "revops");
        assert_int_equal(r->bcc.count, 1);
        assert_int_equal(r->max_age, 86400);
        assert_null(config_receiver(c, "nobody"));
        config_free(c);
        config_errors_deinit(&errs);
}

static void example_rules_load_in_file_order(void **state)
{
        struct config_errors errs;
        struct config *c = NULL;

        config_errors_init(&errs);
        assert_int_equal(config_load(&c, EXAMPLE, &errs), 0);
        assert_int_equal(c->rule_count, 3);
        assert_string_equal(c->rules[0].name, "new-orders-to-revops");
        assert_true(c->rules[0].cont);
        assert_string_equal(c->rules[2].name, "attention-needed-to-ops");
        assert_false(c->rules[2].cont);
        const char *region[] = { "opportunity", "metadata", "region", NULL };
        yajl_val v = yajl_tree_get(c->rules[1].match, region, yajl_t_array);
        assert_non_null(v);
        assert_string_equal(YAJL_GET_STRING(v->u.array.values[0]), "EMEA");
        const char *kind[] = { "kind", NULL };
        v = yajl_tree_get(c->rules[2].match, kind, yajl_t_array);
        assert_non_null(v);
        assert_string_equal(YAJL_GET_STRING(v->u.array.values[0]), "attention_needed");
        assert_int_equal(c->rules[2].match_line, 5);
        assert_int_equal(c->rules[2].match_col, 7);
        config_free(c);
        config_errors_deinit(&errs);
}

static const char minimal[] =
    "kafka:\n  brokers: \"${CPPO_TEST_BROKERS}\"\n  topics: [a, b]\n"
    "  group: \"cost$$center$x\"\n"
    "smtp:\n  url: smtp://127.0.0.1:2525\n  from: a@b.example\n"
    "receivers:\n  m:\n    type: email\n    include_authorization_contacts: true\n"
    "  f:\n    type: file\n    path: out.jsonl\n";

static void defaults_and_env_expansion(void **state)
{
        struct config_errors errs;
        struct config *c = NULL;

        setenv("CPPO_TEST_BROKERS", "k1:9092,k2:9092", 1);
        config_errors_init(&errs);
        assert_int_equal(
            config_load_buffer(&c, "/nonexistent/dir/main.yaml", minimal, strlen(minimal), &errs),
            0);
        assert_string_equal(c->kafka.brokers, "k1:9092,k2:9092");
        assert_string_equal(c->kafka.group, "cost$center$x");
        assert_int_equal(c->kafka.max_message_bytes, 1048576);
        assert_string_equal(c->store.path, "/var/lib/cppo-notify/state.db");
        assert_string_equal(c->store.synchronous, "full");
        assert_string_equal(c->smtp.starttls, "optional"); /* loopback host */
        assert_string_equal(c->http.listen, "127.0.0.1:9466");
        assert_string_equal(c->rules_dir, "/nonexistent/dir/rules.d");
        assert_string_equal(c->templates_dir, "/nonexistent/dir/templates");
        assert_string_equal(c->log_level, "info");
        assert_false(c->notify_direct_deals);
        const struct config_receiver *f = config_receiver(c, "f");
        assert_string_equal(f->path, "/nonexistent/dir/out.jsonl");
        assert_int_equal(f->max_attempts, 10);
        assert_int_equal(f->concurrency, 1); /* a file is appended to in order */
        assert_int_equal(f->rate, 0);
        assert_int_equal(config_receiver(c, "m")->concurrency, 4);
        assert_int_equal(c->rule_count, 0);
        config_free(c);
        config_errors_deinit(&errs);
}

/* http webhooks are accepted for loopback hosts only (tests run a local
 * stand-in); the bad fixtures hold the refused look-alikes. */
static void slack_http_webhook_only_to_loopback(void **state)
{
        static const char *const files[] = { "slack-url", "slack-url-loopback-v4",
                                             "slack-url-loopback-v6", "slack-url-localhost" };
        char text[512];

        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                struct config_errors errs;
                struct config *c = NULL;
                snprintf(text, sizeof(text),
                         "kafka:\n  brokers: b\n  topics: [t]\n"
                         "receivers:\n  s:\n    type: slack\n    webhook_url_file: secrets/%s\n",
                         files[i]);
                config_errors_init(&errs);
                int rc = config_load_buffer(&c, CONFIG_FIXTURES "/main.yaml", text, strlen(text),
                                            &errs);
                if (rc != 0)
                        config_errors_print(&errs, stderr);
                assert_int_equal(rc, 0);
                assert_non_null(config_receiver(c, "s")->webhook_url);
                config_free(c);
                config_errors_deinit(&errs);
        }
}

/* A webhook receiver: the URL and a list of secret files (one holding two
 * secrets, for rotation), its headers and timeout; the type's defaults. */
static void webhook_receiver(void **state)
{
        static const char text[] =
            "kafka:\n  brokers: b\n  topics: [t]\n"
            "receivers:\n  crm:\n    type: webhook\n    webhook_url_file: secrets/slack-url\n"
            "    secret_file: [secrets/webhook-secret, secrets/webhook-secret]\n"
            "    headers: { Authorization: Bearer x, X-Env: test }\n    timeout: 5s\n";
        struct config_errors errs;
        struct config *c = NULL;
        const struct config_receiver *r;
        int rc;

        config_errors_init(&errs);
        rc = config_load_buffer(&c, CONFIG_FIXTURES "/main.yaml", text, strlen(text), &errs);
        if (rc != 0)
                config_errors_print(&errs, stderr);
        assert_int_equal(rc, 0);
        r = config_receiver(c, "crm");
        assert_int_equal(r->type, CONFIG_RECEIVER_WEBHOOK);
        assert_string_equal(config_receiver_type_name(r->type), "webhook");
        assert_int_equal(r->signing.count, 2);
        assert_non_null(strchr(secret_value(r->signing.items[0]), '\n')); /* two lines */
        assert_int_equal(r->headers.count, 2);
        assert_string_equal(r->headers.keys[1], "X-Env");
        assert_int_equal(r->timeout, 5);
        assert_int_equal(r->rate, 0);
        assert_int_equal(r->concurrency, 1);
        config_free(c);
        config_errors_deinit(&errs);
}

/* The CLI's store commands load only what they use: unset variables in the
 * daemon's sections are left unset, secrets unread, rules not loaded; the
 * store part still resolves, and the full load refuses the same text. */
static void store_needs_leave_daemon_sections_unresolved(void **state)
{
        static const char text[] =
            "kafka:\n  brokers: \"${CPPO_TEST_UNSET_B}\"\n  topics: [\"${CPPO_TEST_UNSET_T}\"]\n"
            "  max_message_bytes: \"${CPPO_TEST_UNSET_M}\"\n"
            "store:\n  path: \"${CPPO_TEST_STATE}/state.db\"\n"
            "smtp:\n  url: \"${CPPO_TEST_UNSET_U}\"\n  from: a@b.example\n"
            "  password_file: /nonexistent/secret\n"
            "http:\n  listen: \"${CPPO_TEST_UNSET_L}\"\n"
            "receivers:\n  m:\n    type: email\n    to: [\"${CPPO_TEST_UNSET_TO}\"]\n"
            "  s:\n    type: slack\n    webhook_url_file: \"${CPPO_TEST_UNSET_W}\"\n"
            "rules_dir: /nonexistent/rules.d\n"
            "holds:\n  offer_link_timeout: 5d\n";
        static const char other[] = "kafka: {brokers: b, topic: [t]}\n"
                                    "receivers: {f: {type: file, path: x}}\n";
        struct config_errors errs;
        struct config *c = NULL;

        setenv("CPPO_TEST_STATE", "/srv/cppo", 1);
        config_errors_init(&errs);
        assert_int_equal(config_load_buffer_for(&c, "/nonexistent/main.yaml", text, strlen(text),
                                                CONFIG_NEED_STORE, &errs),
                         0);
        assert_int_equal(errs.count, 0);
        assert_string_equal(c->store.path, "/srv/cppo/state.db");
        assert_int_equal(c->holds.offer_link_timeout, 5 * 86400);
        assert_null(c->kafka.brokers);
        assert_int_equal(c->kafka.max_message_bytes, 1048576); /* the default */
        assert_null(c->smtp.url);
        assert_null(c->smtp.password); /* not read */
        assert_string_equal(c->http.listen, "127.0.0.1:9466");
        assert_null(config_receiver(c, "s")->webhook_url);
        assert_int_equal(c->rule_count, 0); /* the missing rules_dir is not read */
        config_free(c);

        /* Kafka needed: its variables are reported, the others still not. */
        assert_int_equal(config_load_buffer_for(&c, "/nonexistent/main.yaml", text, strlen(text),
                                                CONFIG_NEED_KAFKA, &errs),
                         -EINVAL);
        assert_int_equal(errs.count, 3);
        for (size_t i = 0; i < errs.count; i++)
                assert_non_null(strstr(errs.items[i].message, "CPPO_TEST_UNSET_"));
        assert_int_equal(errs.items[0].line, 2);
        config_errors_deinit(&errs);

        /* Everything (the daemon, check): every variable, the secret and
         * the rules directory are errors. */
        config_errors_init(&errs);
        assert_int_equal(
            config_load_buffer(&c, "/nonexistent/main.yaml", text, strlen(text), &errs), -EINVAL);
        assert_null(c);
        assert_int_equal(errs.count, 9);
        config_errors_deinit(&errs);

        /* Other mistakes are reported whatever the mask. */
        config_errors_init(&errs);
        assert_int_equal(config_load_buffer_for(&c, "/nonexistent/main.yaml", other, strlen(other),
                                                CONFIG_NEED_STORE, &errs),
                         -EINVAL);
        assert_int_equal(errs.count, 2); /* unknown "topic", missing "topics" */
        config_errors_deinit(&errs);
}

/* A config with a loaded password and a later error: the report names
 * files only. */
static void secrets_never_printed(void **state)
{
        static const char text[] =
            "kafka:\n  brokers: b\n  topics: [t]\n"
            "smtp:\n  password_file: secrets/smtp-password\n"
            "receivers:\n  s:\n    type: slack\n    webhook_url_file: secrets/smtp-password\n"
            "log_level: loud\n";
        size_t count = 0;
        char *all = failed_load_report(CONFIG_FIXTURES "/main.yaml", text, &count);

        assert_int_equal(count, 2);
        assert_non_null(strstr(all, "does not hold an https URL"));
        assert_null(strstr(all, SECRET_TEXT));
        assert_null(strstr(all, "hunter2"));
        free(all);
}

static struct config *load_ok(const char *text);

/* store.url (PostgreSQL) replaces store.path; its password comes from
 * password_file; neither value is quoted in any error. */
static void store_url_and_password_file(void **state)
{
        static const char ok[] = "kafka: {brokers: b, topics: [t]}\n"
                                 "receivers: {f: {type: file, path: x}}\n"
                                 "store:\n  url: postgresql://cppo@db.example:5432/cppo\n"
                                 "  password_file: secrets/smtp-password\n";
        static const char both[] = "kafka: {brokers: b, topics: [t]}\n"
                                   "receivers: {f: {type: file, path: x}}\n"
                                   "store:\n  path: /srv/state.db\n"
                                   "  url: postgresql://u:pw-in-url@h/d\n";
        static const char scheme[] = "kafka: {brokers: b, topics: [t]}\n"
                                     "receivers: {f: {type: file, path: x}}\n"
                                     "store: {url: 'mysql://u:pw-in-url@h/d'}\n";
        static const char no_url[] = "kafka: {brokers: b, topics: [t]}\n"
                                     "receivers: {f: {type: file, path: x}}\n"
                                     "store: {password_file: secrets/smtp-password}\n";
        struct config_errors errs;
        struct config *c = NULL;
        size_t count = 0;
        char *all;

        config_errors_init(&errs);
        assert_int_equal(
            config_load_buffer(&c, CONFIG_FIXTURES "/main.yaml", ok, strlen(ok), &errs), 0);
        config_errors_deinit(&errs);
        assert_string_equal(config_store_target(c), "postgresql://cppo@db.example:5432/cppo");
        assert_non_null(config_store_password(c));
        assert_non_null(strstr(config_store_password(c), SECRET_TEXT));
        config_free(c);
        c = load_ok("kafka: {brokers: b, topics: [t]}\nreceivers: {f: {type: file, path: x}}\n");
        assert_string_equal(config_store_target(c), "/var/lib/cppo-notify/state.db");
        assert_null(config_store_password(c));
        config_free(c);

        all = failed_load_report("x.yaml", both, &count);
        assert_int_equal(count, 1);
        assert_non_null(
            strstr(all, "x.yaml:5:8: store.url and store.path are mutually exclusive: give one"));
        assert_null(strstr(all, "pw-in-url"));
        free(all);
        all = failed_load_report("x.yaml", scheme, &count);
        assert_int_equal(count, 1);
        assert_non_null(
            strstr(all, "x.yaml:3:14: store.url must be a postgresql:// or postgres:// URL"));
        assert_null(strstr(all, "pw-in-url"));
        free(all);
        all = failed_load_report(CONFIG_FIXTURES "/main.yaml", no_url, &count);
        assert_int_equal(count, 1);
        assert_non_null(strstr(all, "store.password_file needs store.url"));
        assert_null(strstr(all, SECRET_TEXT));
        free(all);
}

/* ha: auto follows the store, true on SQLite is refused where it is
 * written, poll must stay below takeover. */
static void ha_section(void **state)
{
        static const char base[] = "kafka: {brokers: b, topics: [t]}\n"
                                   "receivers: {f: {type: file, path: x}}\n";
        static const char pg[] = "kafka: {brokers: b, topics: [t]}\n"
                                 "receivers: {f: {type: file, path: x}}\n"
                                 "store: {url: 'postgresql://h/d'}\n"
                                 "ha: {takeover: 20s, poll: 2s}\n";
        static const char sqlite_true[] = "kafka: {brokers: b, topics: [t]}\n"
                                          "receivers: {f: {type: file, path: x}}\n"
                                          "ha:\n  enabled: true\n";
        static const char slow_poll[] = "kafka: {brokers: b, topics: [t]}\n"
                                        "receivers: {f: {type: file, path: x}}\n"
                                        "store: {url: 'postgresql://h/d'}\n"
                                        "ha: {takeover: 6s, poll: 3s}\n";
        struct config *c;
        size_t count = 0;
        char *all;

        (void)state;
        c = load_ok(base);
        assert_false(config_ha_enabled(c)); /* auto on SQLite */
        assert_string_equal(c->ha.enabled, "auto");
        assert_int_equal(c->ha.takeover, 10);
        assert_int_equal(c->ha.poll, 1);
        config_free(c);
        c = load_ok(pg);
        assert_true(config_ha_enabled(c)); /* auto on PostgreSQL */
        assert_int_equal(c->ha.takeover, 20);
        assert_int_equal(c->ha.poll, 2);
        config_free(c);
        c = load_ok("kafka: {brokers: b, topics: [t]}\nreceivers: {f: {type: file, path: x}}\n"
                    "store: {url: 'postgresql://h/d'}\nha: {enabled: false}\n");
        assert_false(config_ha_enabled(c));
        config_free(c);

        all = failed_load_report("x.yaml", sqlite_true, &count);
        assert_int_equal(count, 1);
        assert_non_null(strstr(all, "x.yaml:4:12: ha.enabled: true needs a PostgreSQL store"));
        free(all);
        all = failed_load_report("x.yaml", slow_poll, &count);
        assert_int_equal(count, 1);
        assert_non_null(
            strstr(all, "x.yaml:4:26: ha.poll (3s) must be at least 4s shorter than ha.takeover"));
        free(all);
}

static void caret_under_column(void **state)
{
        static const char text[] =
            "kafka:\n  brokers: b\n  topics: [t]\n  bogus: 1\nreceivers: {}\n";
        size_t count = 0;
        char *all = failed_load_report("x.yaml", text, &count);

        assert_int_equal(count, 1);
        assert_string_equal(all, "x.yaml:4:3: unknown key \"bogus\" in kafka\n"
                                 "    bogus: 1\n"
                                 "    ^\n");
        free(all);
}

/* Every prefix of the example must fail or load cleanly, never crash. */
static void truncated_inputs_do_not_crash(void **state)
{
        char *text = slurp(EXAMPLE);
        size_t n = strlen(text);
        for (size_t cut = 0; cut < n; cut += 7) {
                struct config_errors errs;
                struct config *c = NULL;
                config_errors_init(&errs);
                int rc = config_load_buffer(&c, "/nonexistent/t.yaml", text, cut, &errs);
                assert_true(rc == 0 || rc == -EINVAL);
                assert_true(rc == 0 ? c != NULL : errs.count > 0);
                config_free(c);
                config_errors_deinit(&errs);
        }
        free(text);
}

static void yamldoc_scalars_become_json_types(void **state)
{
        static const char text[] =
            "{a: 42, b: \"42\", c: 1.5, d: ~, e: false, f: text, g: [null, -3]}";
        struct ynode *root = NULL;
        yajl_val v = NULL;

        assert_int_equal(yamldoc_parse(&root, text, strlen(text), NULL, NULL, NULL, 0), 0);
        assert_int_equal(yamldoc_to_yajl(root, &v), 0);
        assert_true(YAJL_IS_INTEGER(v->u.object.values[0]));
        assert_int_equal(YAJL_GET_INTEGER(v->u.object.values[0]), 42);
        assert_true(YAJL_IS_STRING(v->u.object.values[1]));
        assert_true(YAJL_IS_DOUBLE(v->u.object.values[2]));
        assert_false(YAJL_IS_INTEGER(v->u.object.values[2]));
        assert_true(YAJL_IS_NULL(v->u.object.values[3]));
        assert_true(YAJL_IS_FALSE(v->u.object.values[4]));
        assert_string_equal(YAJL_GET_STRING(v->u.object.values[5]), "text");
        assert_true(YAJL_IS_NULL(v->u.object.values[6]->u.array.values[0]));
        assert_int_equal(YAJL_GET_INTEGER(v->u.object.values[6]->u.array.values[1]), -3);
        yajl_tree_free(v);
        yamldoc_free(root);
}

static void yamldoc_limits_and_refusals(void **state)
{
        char deep[400];
        struct ynode *root = NULL;
        int line = 0, col = 0;
        char err[CPPO_ERRLEN];

        memset(deep, '[', sizeof(deep));
        assert_int_equal(yamldoc_parse(&root, deep, sizeof(deep), &line, &col, err, sizeof(err)),
                         -E2BIG);
        assert_null(root);
        assert_int_equal(yamldoc_parse(&root, "a: *x", 5, &line, &col, err, sizeof(err)), -EINVAL);
        assert_int_equal(
            yamldoc_parse(&root, "a: 1\n---\nb: 2\n", 14, &line, &col, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "only one YAML document per file is supported");
        assert_int_equal(yamldoc_parse(&root, "", 0, &line, &col, err, sizeof(err)), 0);
        assert_null(root);
        assert_int_equal(yamldoc_parse(&root, "{a: [1, 2]}", 11, NULL, NULL, NULL, 0), 0);
        assert_null(yamldoc_get(root, "b"));
        assert_int_equal(yamldoc_get(root, "a")->count, 2);
        yamldoc_free(root);
}

static void unreadable_main_file(void **state)
{
        struct config_errors errs;
        struct config *c = NULL;

        config_errors_init(&errs);
        assert_int_equal(config_load(&c, "/nonexistent/cppo.yaml", &errs), -EINVAL);
        assert_int_equal(errs.count, 1);
        assert_string_equal(errs.items[0].message, "cannot read file: No such file or directory");
        config_errors_deinit(&errs);
}

/* A source line shown under an error never carries a secret's value: lines
 * under kafka.properties, or whose key (or a key they are nested under)
 * names a password, token, secret or URL, keep only their key. */
static void error_lines_never_show_secrets(void **state)
{
        static const struct {
                const char *yaml;
                const char *shown; /* the source line as shown */
        } cases[] = {
                { "kafka:\n  brokers: b:9092\n  topics: [t]\n  group: g\n  properties:\n"
                  "    sasl.password: *Abc123\n",
                  "    sasl.password: <redacted>" },
                { "kafka:\n  brokers: b:9092\n  topics: [t]\n  group: g\n  properties:\n"
                  "    ssl.key.location: *Abc123\n",
                  "    ssl.key.location: <redacted>" },
                { "smtp:\n  url: smtp://u:*Abc123@h\n  from: *Abc123\n", "  from: *Abc123" },
                { "smtp:\n  password_file: *Abc123\n", "  password_file: <redacted>" },
                { "receivers:\n  hook: { type: slack, webhook_url_file: *Abc123 }\n",
                  "  hook: <redacted>" },
                /* a webhook's headers may carry credentials: every one of
                 * them, not only the first (a sibling of a redacted line) */
                { "receivers:\n  w:\n    type: webhook\n    headers:\n      X-A: 1\n"
                  "      Authorization: *Abc123\n",
                  "      Authorization: <redacted>" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct config_errors errs;
                struct config *c = NULL;
                bool seen = false;

                config_errors_init(&errs);
                assert_int_equal(config_load_buffer(&c, "/nonexistent/main.yaml", cases[i].yaml,
                                                    strlen(cases[i].yaml), &errs),
                                 -EINVAL);
                for (size_t k = 0; k < errs.count; k++) {
                        const char *src = errs.items[k].source;
                        if (strstr(cases[i].shown, "Abc123") == NULL)
                                assert_null(strstr(src, "Abc123"));
                        seen = seen || strcmp(src, cases[i].shown) == 0;
                }
                if (!seen)
                        fprintf(stderr, "# case %zu: '%s' not among the %zu errors' lines\n", i,
                                cases[i].shown, errs.count);
                assert_true(seen);
                config_errors_deinit(&errs);
        }
}

/* The aws section: absent (no sync), defaults, explicit values, and each
 * mistake reported at its path:line:col. */
static void aws_section(void **state)
{
        static const char base[] = "kafka: {brokers: b, topics: [t]}\n"
                                   "receivers: {f: {type: file, path: x}}\n";
        static const struct {
                const char *aws;
                int line, col;
                const char *message;
        } bad[] = {
                { "aws:\n  region: US East\n", 4, 11, "is not a region name" },
                { "aws:\n  endpoint: ftp://catalog.example\n", 4, 13, "invalid URL" },
                { "aws:\n  sync_interval: 10s\n", 4, 18, "must be between 60s and 604800s" },
                { "aws:\n  sync_interval: soon\n", 4, 18, "expected a duration" },
                { "aws:\n  enabled: yes\n", 4, 12, "expected a boolean" },
                { "aws:\n  regoin: us-east-1\n", 4, 3, "unknown key \"regoin\" in aws" },
        };
        char text[512];
        struct config_errors errs;
        struct config *c = NULL;
        (void)state;

        config_errors_init(&errs);
        assert_int_equal(
            config_load_buffer(&c, "/nonexistent/main.yaml", base, strlen(base), &errs), 0);
        assert_false(c->aws.present);
        assert_false(config_aws_sync(c));
        config_free(c);

        snprintf(text, sizeof text, "%saws: {}\n", base);
        assert_int_equal(
            config_load_buffer(&c, "/nonexistent/main.yaml", text, strlen(text), &errs), 0);
        assert_true(config_aws_sync(c));
        assert_string_equal(c->aws.region, "us-east-1");
        assert_null(c->aws.endpoint);
        assert_null(c->aws.profile);
        assert_int_equal(c->aws.sync_interval, 15 * 60);
        config_free(c);

        snprintf(text, sizeof text,
                 "%saws:\n  enabled: false\n  region: eu-west-1\n"
                 "  endpoint: http://127.0.0.1:8080\n  profile: seller\n  sync_interval: 2h\n",
                 base);
        assert_int_equal(
            config_load_buffer(&c, "/nonexistent/main.yaml", text, strlen(text), &errs), 0);
        assert_true(c->aws.present);
        assert_false(config_aws_sync(c));
        assert_string_equal(c->aws.region, "eu-west-1");
        assert_string_equal(c->aws.endpoint, "http://127.0.0.1:8080");
        assert_string_equal(c->aws.profile, "seller");
        assert_int_equal(c->aws.sync_interval, 7200);
        config_free(c);

        /* store commands do not need it: an unset variable is not an error */
        snprintf(text, sizeof text, "%saws:\n  endpoint: ${CPPO_TEST_UNSET_AWS}\n", base);
        assert_int_equal(config_load_buffer_for(&c, "/nonexistent/main.yaml", text, strlen(text),
                                                CONFIG_NEED_STORE, &errs),
                         0);
        config_free(c);
        assert_int_equal(config_load_buffer_for(&c, "/nonexistent/main.yaml", text, strlen(text),
                                                CONFIG_NEED_AWS, &errs),
                         -EINVAL);
        assert_int_equal(errs.count, 1);
        config_errors_deinit(&errs);

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                config_errors_init(&errs);
                snprintf(text, sizeof text, "%s%s", base, bad[i].aws);
                assert_int_equal(
                    config_load_buffer(&c, "/nonexistent/main.yaml", text, strlen(text), &errs),
                    -EINVAL);
                if (errs.count != 1 || errs.items[0].line != bad[i].line ||
                    errs.items[0].col != bad[i].col ||
                    strstr(errs.items[0].message, bad[i].message) == NULL)
                        fprintf(stderr, "# case %zu: %zu errors, first %d:%d %s\n", i, errs.count,
                                errs.count ? errs.items[0].line : 0,
                                errs.count ? errs.items[0].col : 0,
                                errs.count ? errs.items[0].message : "");
                assert_int_equal(errs.count, 1);
                assert_int_equal(errs.items[0].line, bad[i].line);
                assert_int_equal(errs.items[0].col, bad[i].col);
                assert_non_null(strstr(errs.items[0].message, bad[i].message));
                config_errors_deinit(&errs);
        }
}

/* A main file that must load (path /n/main.yaml). */
static struct config *load_ok(const char *text)
{
        struct config_errors errs;
        struct config *c = NULL;

        config_errors_init(&errs);
        assert_int_equal(config_load_buffer(&c, "/n/main.yaml", text, strlen(text), &errs), 0);
        config_errors_deinit(&errs);
        return c;
}

/* Reload: the restart-only sections (kafka, store, http, aws) keep their
 * running values, named once each; everything else takes the new ones. */
static void reload_keeps_restart_only_keys(void **state)
{
        static const char running_text[] =
            "kafka: {brokers: b, topics: [t], properties: {sasl.password: s1}}\n"
            "receivers: {f: {type: file, path: x}}\n"
            "store: {busy_timeout: 30s}\n";
        static const char next_text[] =
            "kafka: {brokers: b, topics: [t, u], group: g2, properties: {sasl.password: s2}}\n"
            "receivers: {f: {type: file, path: y}}\n"
            "store: {busy_timeout: 10s, url: 'postgresql://h/d'}\n"
            "http: {listen: '127.0.0.1:0'}\n"
            "aws: {region: eu-west-1}\n"
            "holds: {offer_link_timeout: 1h}\n"
            "log_level: debug\n";
        struct config *running = load_ok(running_text), *next = load_ok(next_text);
        struct config *same = load_ok(running_text), *cut = load_ok(next_text);
        char changed[CPPO_ERRLEN] = "x", small[10];
        (void)state;

        assert_int_equal(config_keep_restart_only(running, same, changed, sizeof changed), 0);
        assert_string_equal(changed, "");
        assert_int_equal(config_keep_restart_only(running, same, NULL, 0), 0);
        assert_int_equal(config_keep_restart_only(running, cut, small, sizeof small), 0);
        assert_string_equal(small, "kafka.top"); /* cut short, still terminated */
        assert_int_equal(config_keep_restart_only(running, next, changed, sizeof changed), 0);
        assert_string_equal(changed, "kafka.topics,kafka.group,kafka.properties,"
                                     "store.url,store.busy_timeout,http.listen,aws.region,aws");
        config_free(running); /* next holds copies, not pointers into running */
        assert_int_equal(next->kafka.topics.count, 1);
        assert_string_equal(next->kafka.topics.items[0], "t");
        assert_string_equal(next->kafka.group, "cppo-notify");
        assert_string_equal(next->kafka.properties.values[0], "s1");
        assert_int_equal(next->store.busy_timeout, 30);
        assert_null(next->store.url);
        assert_string_equal(next->http.listen, "127.0.0.1:9466");
        assert_false(next->aws.present);
        assert_string_equal(next->aws.region, "us-east-1");
        /* what a reload is for */
        assert_string_equal(config_receiver(next, "f")->path, "/n/y");
        assert_int_equal(next->holds.offer_link_timeout, 3600);
        assert_string_equal(next->log_level, "debug");
        config_free(next);
        config_free(same);
        config_free(cut);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(example_config_loads_with_values),
                cmocka_unit_test(example_rules_load_in_file_order),
                cmocka_unit_test(defaults_and_env_expansion),
                cmocka_unit_test(store_needs_leave_daemon_sections_unresolved),
                cmocka_unit_test(slack_http_webhook_only_to_loopback),
                cmocka_unit_test(webhook_receiver),
                cmocka_unit_test(secrets_never_printed),
                cmocka_unit_test(caret_under_column),
                cmocka_unit_test(truncated_inputs_do_not_crash),
                cmocka_unit_test(yamldoc_scalars_become_json_types),
                cmocka_unit_test(yamldoc_limits_and_refusals),
                cmocka_unit_test(unreadable_main_file),
                cmocka_unit_test(bad_fixtures_report_exact_errors),
                cmocka_unit_test(error_lines_never_show_secrets),
                cmocka_unit_test(aws_section),
                cmocka_unit_test(reload_keeps_restart_only_keys),
                cmocka_unit_test(store_url_and_password_file),
                cmocka_unit_test(ha_section),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
