/* Unit tests: dead-letter producer, read back from librdkafka's mock
 * cluster over TCP. */
#undef NDEBUG
#include "cppo/dlq.h"

#include "cppo/error.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void header_values_are_printable_ascii(void **state)
{
        char out[16];

        dlq_header_safe(out, sizeof out, "a\r\nBcc: \xc3\xa9x");
        assert_string_equal(out, "a??Bcc: ??x");
        dlq_header_safe(out, 4, "abcdef");
        assert_string_equal(out, "abc");
        dlq_header_safe(out, sizeof out, NULL);
        assert_string_equal(out, "");
}

static const char *header(rd_kafka_headers_t *h, const char *name, char *buf, size_t n)
{
        const void *v;
        size_t len;

        if (rd_kafka_header_get_last(h, name, &v, &len) != RD_KAFKA_RESP_ERR_NO_ERROR || len >= n)
                return NULL;
        memcpy(buf, v, len);
        buf[len] = '\0';
        return buf;
}

/* What the dead-letter topic held, copied out before the consumer goes. */
struct got {
        char payload[64];
        size_t len;
        char reason[300], message[300], origin[300];
};

static bool copy_message(const rd_kafka_message_t *m, struct got *g)
{
        rd_kafka_headers_t *h = NULL;

        if (m->len > sizeof g->payload || rd_kafka_message_headers(m, &h) != 0)
                return false;
        memcpy(g->payload, m->payload, m->len);
        g->len = m->len;
        return header(h, "cppo-reason", g->reason, sizeof g->reason) &&
               header(h, "cppo-message", g->message, sizeof g->message) &&
               header(h, "cppo-origin", g->origin, sizeof g->origin);
}

static bool read_one(const char *bootstraps, struct got *g)
{
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
        rd_kafka_t *c;
        bool ok = false;

        rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof err);
        rd_kafka_conf_set(conf, "group.id", "dlq-reader", err, sizeof err);
        c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
        assert_non_null(c);
        rd_kafka_topic_partition_list_add(parts, "dead", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
        assert_int_equal(rd_kafka_assign(c, parts), 0);
        rd_kafka_topic_partition_list_destroy(parts);
        for (int i = 0; i < 100 && !ok; i++) { /* at most ~10 s */
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
                if (m && m->err == 0)
                        ok = copy_message(m, g);
                if (m)
                        rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
        return ok;
}

static void rejected_message_arrives_with_reason_headers(void **state)
{
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *owner;
        rd_kafka_mock_cluster_t *mc;
        struct dlq *d = NULL;
        const char payload[] = "{\"broken\": \x01 json";
        struct raw_message msg = { payload, sizeof payload - 1, { "mp-events", 2, 41 }, 0, 0, 0 };
        struct got g = { 0 };

        rd_kafka_conf_set(conf, "bootstrap.servers", "", err, sizeof err);
        owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        assert_non_null(owner);
        mc = rd_kafka_mock_cluster_new(owner, 1);
        rd_kafka_mock_topic_create(mc, "dead", 1, 1);

        assert_int_equal(
            dlq_new(&d, rd_kafka_mock_cluster_bootstraps(mc), "dead", NULL, 0, err, sizeof err), 0);
        assert_int_equal(dlq_send(d, &msg, "invalid_json", "bad byte\r\nX-Evil: 1"), 0);
        assert_int_equal(dlq_flush(d, 10000), 0);

        assert_true(read_one(rd_kafka_mock_cluster_bootstraps(mc), &g));
        assert_int_equal(g.len, sizeof payload - 1);
        assert_memory_equal(g.payload, payload, g.len);
        assert_string_equal(g.reason, "invalid_json");
        assert_string_equal(g.message, "bad byte??X-Evil: 1");
        assert_string_equal(g.origin, "mp-events/2/41");

        dlq_free(d);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(owner);
}

static void bad_property_is_refused(void **state)
{
        const char *props[] = { "linger.ms", "not-a-number" };
        struct dlq *d = NULL;
        char err[CPPO_ERRLEN];

        assert_int_equal(dlq_new(&d, "127.0.0.1:1", "dead", props, 1, err, sizeof err), -EINVAL);
        assert_null(d);
        assert_non_null(strstr(err, "linger.ms"));
        assert_null(strstr(err, "not-a-number"));
        dlq_free(NULL);
}

/* Everything dlq_new and dlq_free write to stderr (free() it). */
static char *stderr_of_producer(const char *const *props, size_t n, int *rc)
{
        char err[CPPO_ERRLEN], *text = calloc(1, 1 << 16);
        struct dlq *d = NULL;
        FILE *tmp = tmpfile();
        int saved;
        size_t len;

        assert_non_null(text);
        assert_non_null(tmp);
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        assert_true(saved >= 0 && dup2(fileno(tmp), STDERR_FILENO) >= 0);
        *rc = dlq_new(&d, "127.0.0.1:1", "dead", props, n, err, sizeof err);
        if (*rc == 0) {
                dlq_free(d);
        }
        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        rewind(tmp);
        len = fread(text, 1, (1 << 16) - 1, tmp);
        text[len] = '\0';
        fclose(tmp);
        fputs(text, stderr);
        return text;
}

/* kafka.properties serve the consumer first: the producer gets only what
 * applies to producers, so librdkafka has nothing to warn about on start;
 * its lines (here a deprecation) come out as the project's key=value. */
static void consumer_properties_are_not_given_to_the_producer(void **state)
{
        const char *props[] = {
                "session.timeout.ms",
                "6000",
                "group.instance.id",
                "cppo-1",
                "auto.offset.reset",
                "earliest",
                "linger.ms",
                "5",
                "security.protocol",
                "plaintext",
                "topic.metadata.refresh.fast.cnt",
                "10",
        };
        int rc = -1;
        char *text = stderr_of_producer(props, 6, &rc);

        assert_int_equal(rc, 0);
        assert_null(strstr(text, "consumer property"));
        assert_null(strstr(text, "will be ignored"));
        assert_null(strstr(text, "session.timeout.ms"));
        const char *line = strstr(text, "warning: kafka log facility=CONFWARN message=\"[thrd:");
        assert_non_null(line);
        assert_non_null(strstr(line, "topic.metadata.refresh.fast.cnt is deprecated"));
        assert_null(strstr(text, "|CONFWARN|")); /* librdkafka's own format */
        free(text);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(header_values_are_printable_ascii),
                cmocka_unit_test(bad_property_is_refused),
                cmocka_unit_test(consumer_properties_are_not_given_to_the_producer),
                cmocka_unit_test(rejected_message_arrives_with_reason_headers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
