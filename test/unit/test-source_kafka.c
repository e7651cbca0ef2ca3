/* Unit tests: Kafka source against librdkafka's mock cluster (over TCP on
 * 127.0.0.1, created in this process by a separate client handle). */
#undef NDEBUG
#include "cppo/source_kafka.h"

#include "cppo/error.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define TOPIC "events"
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

        assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", mock.bootstraps, err,
                                           sizeof err), RD_KAFKA_CONF_OK);
        p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        assert_non_null(p);
        for (int i = from; i < to; i++) {
                char payload[64];
                int n = snprintf(payload, sizeof payload, "{\"n\":%d}", i);
                rd_kafka_topic_t *t = rd_kafka_topic_new(p, TOPIC, NULL);
                assert_int_equal(rd_kafka_produce(t, i % 2, RD_KAFKA_MSG_F_COPY, payload,
                                                  (size_t)n, NULL, 0, NULL), 0);
                rd_kafka_topic_destroy(t);
        }
        assert_int_equal(rd_kafka_flush(p, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_destroy(p);
}

struct seen {
        int count;
        int hits[N_MESSAGES * 2];
        int truncated;
};

static int record(void *ctx, const struct raw_message *m)
{
        struct seen *s = ctx;
        int n = -1;

        if (m->truncated)
                s->truncated++;
        if (sscanf(m->data, "{\"n\":%d}", &n) == 1 && n >= 0 && n < N_MESSAGES * 2)
                s->hits[n]++;
        s->count++;
        return 0;
}

static struct source_kafka *open_consumer(const char *group, const char *strategy)
{
        const char *topics[] = { TOPIC };
        const char *props[] = {
                "session.timeout.ms", "6000", "heartbeat.interval.ms", "500",
                "reconnect.backoff.max.ms", "1000", "partition.assignment.strategy", strategy,
        };
        struct source_kafka_options o = {
                .brokers = mock.bootstraps, .topics = topics, .n_topics = 1, .group = group,
                .properties = props, .n_properties = 4, .max_message_bytes = 1024,
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
        assert_int_equal(rd_kafka_produce(t, 0, RD_KAFKA_MSG_F_COPY, big, sizeof big, NULL, 0,
                                          NULL), 0);
        rd_kafka_topic_destroy(t);
        assert_int_equal(rd_kafka_flush(p, 10000), 0);
        rd_kafka_destroy(p);

        k = open_consumer("g-big", "range");
        consume(k, s, 151, true);
        assert_int_equal(s->count, 151);
        assert_int_equal(s->truncated, 1);
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
                .brokers = mock.bootstraps, .topics = topics, .n_topics = 1, .group = "g",
                .properties = props, .n_properties = 2,
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(bad_property_names_the_property_not_the_value),
                cmocka_unit_test(resumes_at_stored_offset_and_redelivers_unstored),
                cmocka_unit_test(cooperative_protocol_consumes_everything),
                cmocka_unit_test(oversized_message_arrives_truncated),
                cmocka_unit_test(lag_is_what_was_not_handed_over),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
