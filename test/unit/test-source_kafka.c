/* Unit tests: Kafka source against librdkafka's mock cluster (over TCP on
 * 127.0.0.1, created in this process by a separate client handle). */
#undef NDEBUG
#include "cppo/source_kafka.h"

#include "cppo/error.h"
#include "cppo/log.h"
#include "cppo/metrics.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define TOPIC      "events"
#define N_MESSAGES 300

struct mock {
        rd_kafka_t *rk; /* owns the cluster; also used to produce */
        rd_kafka_mock_cluster_t *mc;
        char bootstraps[512];
};

static struct mock mock;

static int setup(void **state)
{
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();

        rd_kafka_conf_set(conf, "bootstrap.servers", "", err, sizeof err);
        mock.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (mock.rk == NULL)
                return -1;
        mock.mc = rd_kafka_mock_cluster_new(mock.rk, 1);
        if (mock.mc == NULL)
                return -1;
        rd_kafka_mock_topic_create(mock.mc, TOPIC, 2, 1);
        snprintf(mock.bootstraps, sizeof mock.bootstraps, "%s",
                 rd_kafka_mock_cluster_bootstraps(mock.mc));
        return 0;
}

static int teardown(void **state)
{
        rd_kafka_mock_cluster_destroy(mock.mc);
        rd_kafka_destroy(mock.rk);
        return 0;
}

static void produce(int from, int to)
{
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *p;

        assert_int_equal(
            rd_kafka_conf_set(conf, "bootstrap.servers", mock.bootstraps, err, sizeof err),
            RD_KAFKA_CONF_OK);
        p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        assert_non_null(p);
        for (int i = from; i < to; i++) {
                char payload[64];
                int n = snprintf(payload, sizeof payload, "{\"n\":%d}", i);
                rd_kafka_topic_t *t = rd_kafka_topic_new(p, TOPIC, NULL);
                assert_int_equal(rd_kafka_produce(t, i % 2, RD_KAFKA_MSG_F_COPY, payload, (size_t)n,
                                                  NULL, 0, NULL),
                                 0);
                rd_kafka_topic_destroy(t);
        }
        assert_int_equal(rd_kafka_flush(p, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_destroy(p);
}

struct seen {
        int count;
        int hits[N_MESSAGES * 2];
        int truncated;
        size_t truncated_size;
};

static int record(void *ctx, const struct raw_message *m)
{
        struct seen *s = ctx;
        int n = -1;

        if (m->truncated) {
                s->truncated++;
                s->truncated_size = m->size;
        }
        if (sscanf(m->data, "{\"n\":%d}", &n) == 1 && n >= 0 && n < N_MESSAGES * 2)
                s->hits[n]++;
        s->count++;
        return 0;
}

static struct source_kafka *open_consumer(const char *group, const char *strategy)
{
        const char *topics[] = { TOPIC };
        const char *props[] = {
                "session.timeout.ms",       "6000", "heartbeat.interval.ms",         "500",
                "reconnect.backoff.max.ms", "1000", "partition.assignment.strategy", strategy,
        };
        struct source_kafka_options o = {
                .brokers = mock.bootstraps,
                .topics = topics,
                .n_topics = 1,
                .group = group,
                .properties = props,
                .n_properties = 4,
                .max_message_bytes = 1024,
        };
        struct source_kafka *k = NULL;
        char err[CPPO_ERRLEN] = "";

        assert_int_equal(source_kafka_new(&k, &o, err, sizeof err), 0);
        return k;
}

/* Polls until `want` messages arrived or 30 s passed (bounded). */
static void consume(struct source_kafka *k, struct seen *s, int want, bool store)
{
        for (int round = 0; round < 300 && s->count < want; round++) {
                int n = source_kafka_poll_batch(k, 100, 100, record, s);
                assert_true(n >= 0);
                if (store)
                        assert_int_equal(source_kafka_store_offsets(k), 0);
        }
}

static void resumes_at_stored_offset_and_redelivers_unstored(void **state)
{
        struct seen *s = calloc(1, sizeof *s);
        struct source_kafka *k;

        assert_non_null(s);
        produce(0, 100);
        k = open_consumer("g-resume", "range");
        consume(k, s, 100, true);
        assert_int_equal(s->count, 100);
        assert_true(source_kafka_assigned(k));
        assert_int_equal(source_kafka_commit(k), 0);
        source_kafka_free(k);

        /* 50 more, read without storing: they must come back. */
        produce(100, 150);
        memset(s, 0, sizeof *s);
        k = open_consumer("g-resume", "range");
        consume(k, s, 50, false);
        assert_int_equal(s->count, 50);
        for (int i = 100; i < 150; i++)
                assert_int_equal(s->hits[i], 1);
        source_kafka_free(k);

        memset(s, 0, sizeof *s);
        k = open_consumer("g-resume", "range");
        consume(k, s, 50, true);
        assert_int_equal(s->count, 50);
        for (int i = 0; i < 100; i++)
                assert_int_equal(s->hits[i], 0);
        source_kafka_free(k);
        free(s);
}

static void cooperative_protocol_consumes_everything(void **state)
{
        struct seen *s = calloc(1, sizeof *s);
        struct source_kafka *k;

        assert_non_null(s);
        k = open_consumer("g-coop", "cooperative-sticky");
        consume(k, s, 150, true);
        assert_int_equal(s->count, 150);
        for (int i = 0; i < 150; i++)
                assert_int_equal(s->hits[i], 1);
        assert_int_equal(source_kafka_assignment_size(k), 2);
        source_kafka_free(k);
        free(s);
}

static void oversized_message_arrives_truncated(void **state)
{
        char err[512], big[4096];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        struct seen *s = calloc(1, sizeof *s);
        rd_kafka_t *p;
        struct source_kafka *k;

        assert_non_null(s);
        memset(big, 'x', sizeof big);
        rd_kafka_conf_set(conf, "bootstrap.servers", mock.bootstraps, err, sizeof err);
        p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        assert_non_null(p);
        rd_kafka_topic_t *t = rd_kafka_topic_new(p, TOPIC, NULL);
        assert_int_equal(
            rd_kafka_produce(t, 0, RD_KAFKA_MSG_F_COPY, big, sizeof big, NULL, 0, NULL), 0);
        rd_kafka_topic_destroy(t);
        assert_int_equal(rd_kafka_flush(p, 10000), 0);
        rd_kafka_destroy(p);

        k = open_consumer("g-big", "range");
        consume(k, s, 151, true);
        assert_int_equal(s->count, 151);
        assert_int_equal(s->truncated, 1);
        assert_int_equal(s->truncated_size, sizeof big); /* the whole size, for the reason */
        source_kafka_free(k);
        free(s);
}

struct partitions_seen {
        int count;
        int per_partition[2];
};

static int count_partition(void *ctx, const struct raw_message *m)
{
        struct partitions_seen *s = ctx;

        if (m->coord.partition >= 0 && m->coord.partition < 2)
                s->per_partition[m->coord.partition]++;
        s->count++;
        return 0;
}

struct lag_sum {
        int partitions;
        int64_t total;
};

static void add_lag(void *ctx, const char *topic, int32_t partition, int64_t lag)
{
        struct lag_sum *l = ctx;

        assert_string_equal(topic, TOPIC);
        assert_true(partition == 0 || partition == 1);
        assert_true(lag >= 0);
        l->partitions++;
        l->total += lag;
}

/* Runs after the tests above produced 151 messages (150 + 1 oversized). The
 * lag of a partition is what was not handed over yet; when everything was,
 * it is 0. */
static void lag_is_what_was_not_handed_over(void **state)
{
        struct partitions_seen s = { 0 };
        struct lag_sum l = { 0 };
        struct source_kafka *k = open_consumer("g-lag", "range");

        /* Small batches until both partitions have a position (bounded). */
        for (int round = 0; round < 300 && (!s.per_partition[0] || !s.per_partition[1]); round++)
                assert_true(source_kafka_poll_batch(k, 5, 100, count_partition, &s) >= 0);
        assert_true(s.per_partition[0] > 0 && s.per_partition[1] > 0);
        assert_int_equal(source_kafka_lag(k, add_lag, &l), 2);
        assert_int_equal(l.partitions, 2);
        assert_int_equal(l.total, 151 - s.count);

        for (int round = 0; round < 300 && s.count < 151; round++)
                assert_true(source_kafka_poll_batch(k, 100, 100, count_partition, &s) >= 0);
        assert_int_equal(s.count, 151);
        memset(&l, 0, sizeof l);
        assert_int_equal(source_kafka_lag(k, add_lag, &l), 2);
        assert_int_equal(l.total, 0);
        source_kafka_free(k);
}

static void bad_property_names_the_property_not_the_value(void **state)
{
        const char *topics[] = { TOPIC };
        const char *props[] = { "sasl.password", "hunter2", "session.timeout.ms", "s3cr3t-value" };
        struct source_kafka_options o = {
                .brokers = mock.bootstraps,
                .topics = topics,
                .n_topics = 1,
                .group = "g",
                .properties = props,
                .n_properties = 2,
        };
        const char *unknown[] = { "no.such.property", "x" };
        struct source_kafka *k = NULL;
        char err[CPPO_ERRLEN] = "";

        assert_int_equal(source_kafka_new(&k, &o, err, sizeof err), -EINVAL);
        assert_null(k);
        assert_non_null(strstr(err, "session.timeout.ms"));
        assert_null(strstr(err, "s3cr3t-value"));
        o.properties = unknown;
        o.n_properties = 1;
        assert_int_equal(source_kafka_new(&k, &o, err, sizeof err), -EINVAL);
        assert_string_equal(err, "unknown kafka property \"no.such.property\"");
        o.n_topics = 0;
        assert_int_equal(source_kafka_new(&k, &o, err, sizeof err), -EINVAL);
        source_kafka_free(NULL);
}

/* stderr into a temporary file while a test watches the log. */
struct capture {
        int saved;
        FILE *tmp;
};

static void capture_start(struct capture *c)
{
        fflush(stderr);
        c->tmp = tmpfile();
        assert_non_null(c->tmp);
        c->saved = dup(STDERR_FILENO);
        assert_true(c->saved >= 0);
        assert_true(dup2(fileno(c->tmp), STDERR_FILENO) >= 0);
}

/* Everything written since capture_start (free() it); stderr restored. */
static char *capture_stop(struct capture *c)
{
        char *text = calloc(1, 1 << 20);
        size_t n;

        assert_non_null(text);
        fflush(stderr);
        assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
        close(c->saved);
        rewind(c->tmp);
        n = fread(text, 1, (1 << 20) - 1, c->tmp);
        text[n] = '\0';
        fclose(c->tmp);
        fputs(text, stderr); /* still visible in the test log */
        return text;
}

/* librdkafka's table: group and fetch settings are the consumer's, acks
 * and linger the producer's, connection settings both. */
static void property_scope_comes_from_librdkafka(void **state)
{
        assert_int_equal(source_kafka_property_scope("session.timeout.ms"), 'C');
        assert_int_equal(source_kafka_property_scope("auto.offset.reset"), 'C');
        assert_int_equal(source_kafka_property_scope("linger.ms"), 'P');
        assert_int_equal(source_kafka_property_scope("acks"), 'P');
        assert_int_equal(source_kafka_property_scope("security.protocol"), '*');
        assert_int_equal(source_kafka_property_scope("sasl.password"), '*');
        assert_int_equal(source_kafka_property_scope("session.timeout"), 0);
        assert_int_equal(source_kafka_property_scope("no.such.property"), 0);
        assert_true(source_kafka_property_applies("session.timeout.ms", 'C'));
        assert_false(source_kafka_property_applies("session.timeout.ms", 'P'));
        assert_false(source_kafka_property_applies("linger.ms", 'C'));
        assert_true(source_kafka_property_applies("no.such.property", 'P'));
}

/* librdkafka's own lines are the project's key=value lines; a producer
 * property in kafka.properties (meant for the dead-letter producer) is not
 * given to the consumer, so librdkafka does not warn about it. */
static void librdkafka_logs_through_the_project_logger(void **state)
{
        const char *topics[] = { TOPIC };
        const char *props[] = { "linger.ms", "5", "topic.metadata.refresh.fast.cnt", "10" };
        struct source_kafka_options o = {
                .brokers = mock.bootstraps,
                .topics = topics,
                .n_topics = 1,
                .group = "logs",
                .properties = props,
                .n_properties = 2,
        };
        struct source_kafka *k = NULL;
        char err[CPPO_ERRLEN] = "";
        struct capture c;
        char *text;

        capture_start(&c);
        int r = source_kafka_new(&k, &o, err, sizeof err);
        source_kafka_free(k);
        text = capture_stop(&c);
        assert_int_equal(r, 0);
        /* deprecated property: librdkafka warns, through log_library */
        const char *line = strstr(text, "warning: kafka log facility=CONFWARN message=\"[thrd:");
        assert_non_null(line);
        assert_non_null(strstr(line, "]: Configuration property topic.metadata.refresh.fast.cnt is "
                                     "deprecated"));
        assert_null(strstr(text, "linger.ms"));
        assert_null(strstr(text, "will be ignored"));
        assert_null(strstr(text, "|CONFWARN|")); /* librdkafka's own format */
        free(text);
}

/* A committed offset beyond the end (a topic recreated, or messages gone)
 * makes librdkafka reset it: one warning line and one count. */
static void offset_reset_is_a_warning_and_a_metric(void **state)
{
        rd_kafka_topic_partition_list_t *at = rd_kafka_topic_partition_list_new(2);
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        struct metrics *m = NULL;
        struct source_kafka *k = NULL;
        struct seen s = { 0 };
        struct capture c;
        char err[512], *text;
        rd_kafka_t *committer;

        produce(0, 10);
        rd_kafka_conf_set(conf, "bootstrap.servers", mock.bootstraps, err, sizeof err);
        rd_kafka_conf_set(conf, "group.id", "reset", err, sizeof err);
        committer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
        assert_non_null(committer);
        rd_kafka_topic_partition_list_add(at, TOPIC, 0)->offset = 100000;
        rd_kafka_topic_partition_list_add(at, TOPIC, 1)->offset = 100000;
        assert_int_equal(rd_kafka_commit(committer, at, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_topic_partition_list_destroy(at);
        rd_kafka_consumer_close(committer);
        rd_kafka_destroy(committer);

        assert_int_equal(metrics_new(&m), 0);
        struct metric *resets = metrics_counter(m, "t_offset_resets_total", "resets", NULL);
        assert_non_null(resets);
        const char *topics[] = { TOPIC };
        struct source_kafka_options o = {
                .brokers = mock.bootstraps,
                .topics = topics,
                .n_topics = 1,
                .group = "reset",
                .offset_resets = resets,
        };
        capture_start(&c);
        assert_int_equal(source_kafka_new(&k, &o, err, sizeof err), 0);
        /* bounded: until both partitions were reset and re-read */
        for (int round = 0; round < 300 && (source_kafka_offset_resets(k) < 2 || s.count < 10);
             round++)
                assert_true(source_kafka_poll_batch(k, 100, 100, record, &s) >= 0);
        uint64_t n = source_kafka_offset_resets(k);
        source_kafka_free(k);
        text = capture_stop(&c);
        assert_int_equal(n, 2);
        assert_true(metric_value(resets, NULL) == 2.0);
        assert_true(s.count >= 10); /* auto.offset.reset earliest: read from the start */
        assert_non_null(strstr(text, "warning: kafka offset reset, messages may have been "
                                     "skipped facility=OFFSET message=\"[thrd:"));
        assert_non_null(strstr(text, "]: " TOPIC " [0]: offset reset (at offset 100000"));
        assert_non_null(strstr(text, "]: " TOPIC " [1]: offset reset (at offset 100000"));
        free(text);
        metrics_free(m);
}

/* The shipped default keeps a broker that holds empty fetches to their
 * full wait (the mock) from adding librdkafka's 500 ms to every event;
 * kafka.properties still wins. */
static void fetch_wait_default_is_short_and_overridable(void **state)
{
        const char *topics[] = { TOPIC };
        const char *props[] = { "session.timeout.ms", "6000", "fetch.wait.max.ms", "250" };
        struct source_kafka_options o = {
                .brokers = mock.bootstraps,
                .topics = topics,
                .n_topics = 1,
                .group = "fw",
                .properties = props,
                .n_properties = 1,
        };
        struct source_kafka *k = NULL;
        char err[CPPO_ERRLEN] = "", v[32] = "";

        (void)state;
        assert_int_equal(source_kafka_new(&k, &o, err, sizeof err), 0);
        assert_int_equal(source_kafka_property_value(k, "fetch.wait.max.ms", v, sizeof v), 0);
        assert_string_equal(v, "50");
        assert_int_equal(source_kafka_property_value(k, "no.such.property", v, sizeof v), -ENOENT);
        source_kafka_free(k);
        o.n_properties = 2;
        assert_int_equal(source_kafka_new(&k, &o, err, sizeof err), 0);
        assert_int_equal(source_kafka_property_value(k, "fetch.wait.max.ms", v, sizeof v), 0);
        assert_string_equal(v, "250");
        source_kafka_free(k);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(bad_property_names_the_property_not_the_value),
                cmocka_unit_test(resumes_at_stored_offset_and_redelivers_unstored),
                cmocka_unit_test(cooperative_protocol_consumes_everything),
                cmocka_unit_test(oversized_message_arrives_truncated),
                cmocka_unit_test(lag_is_what_was_not_handed_over),
                cmocka_unit_test(property_scope_comes_from_librdkafka),
                cmocka_unit_test(fetch_wait_default_is_short_and_overridable),
                cmocka_unit_test(librdkafka_logs_through_the_project_logger),
                cmocka_unit_test(offset_reset_is_a_warning_and_a_metric),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
