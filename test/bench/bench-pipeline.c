/* Benchmark: the ingest path from Kafka into the store, beside a plain
 * consumer of the same topic.
 *
 *   bench-pipeline MOCK_KAFKA GEN_EVENTS_PY [PG_SERVER_PY]
 *
 * Starts the mock Kafka cluster (test/tools/mock-kafka, its own process,
 * over TCP), produces BENCH_EVENTS (default 100,000) messages from
 * gen-events.py (raw EventBridge events, keyed by deal, BENCH_ENVELOPES to
 * change that) to a topic of 32 partitions (the mock keeps at most 5 MiB per
 * partition), then measures, each in its own consumer group from the start
 * of the topic:
 *   plain      a librdkafka consumer that only counts messages;
 *   pipeline   source_kafka + pipeline (decode, ledger, correlate, one store
 *              transaction per poll batch, offsets after commit) into a
 *              fresh SQLite store, synchronous=FULL (the default), then the
 *              same with synchronous=NORMAL, then (given PG_SERVER_PY,
 *              test/tools/pg-server.py) into a fresh PostgreSQL database on
 *              a local server with fsync on (the same durability as FULL).
 * Rates are messages/s from the first message handed over to the last one
 * (pipeline: to the last commit), so the group join delay of the mock is
 * not counted. Prints the figures, the ratio and the store size per 100k
 * events (SQLite: db + wal, after the checkpoint at close; PostgreSQL: the
 * tables with their indexes, as `store stats` counts). Asserts nothing about
 * speed; exits non-zero only when a run does not see every message.
 * BENCH_KEEP=1 leaves the stores (and their directory) for inspection;
 * BENCH_BATCH sets the poll batch (default 1000, as cppo-notifyd).
 */
#include "bench-env.h"
#include "cppo/log.h"
#include "cppo/pipeline.h"
#include "cppo/source_kafka.h"
#include "cppo/store.h"
#include "peer.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* the largest count an environment variable may ask for */
#define ENV_MAX 1000000

#define TOPIC          "bench"
#define PARTITIONS     "32"
#define LINE_MAX_BYTES (1u << 20)
#define RUN_TIMEOUT_S  300.0

static const char *const kafka_props[] = {
        "session.timeout.ms",       "6000", "heartbeat.interval.ms", "500",
        "reconnect.backoff.max.ms", "1000",
};

/* ---- the events ---- */

struct events {
        char **lines; /* "deal-N\t<json>" */
        size_t n;
        size_t bytes;
};

static void events_free(struct events *e)
{
        for (size_t i = 0; i < e->n; i++)
                free(e->lines[i]);
        free(e->lines);
}

/* Runs gen-events.py for enough deals and keeps the first `want` lines. */
static int generate(struct events *e, const char *gen, size_t want, const char *envelopes)
{
        char cmd[2048];
        char *line = malloc(LINE_MAX_BYTES);
        FILE *f;

        e->lines = calloc(want, sizeof *e->lines);
        if (line == NULL || e->lines == NULL) {
                free(line);
                return -1;
        }
        /* about 7 messages per deal; a margin so that `want` are there */
        snprintf(cmd, sizeof cmd,
                 "python3 '%s' --deals %zu --seed 5 --keyed --malformed-pct 0 "
                 "--envelopes %s",
                 gen, want / 6 + 100, envelopes);
        f = popen(cmd, "r");
        while (f && e->n < want && fgets(line, LINE_MAX_BYTES, f)) {
                size_t len = strcspn(line, "\n");
                line[len] = '\0';
                if ((e->lines[e->n] = strdup(line)) == NULL)
                        break;
                e->bytes += len;
                e->n++;
        }
        while (f && fgets(line, LINE_MAX_BYTES, f))
                ; /* drain, so that the generator exits cleanly */
        free(line);
        if (f == NULL || pclose(f) != 0 || e->n != want) {
                fprintf(stderr, "gen-events.py gave %zu of %zu lines\n", e->n, want);
                return -1;
        }
        return 0;
}

/* ---- producing ---- */

static int set_all(rd_kafka_conf_t *conf, const char *const *kv, size_t n)
{
        char why[256];

        for (size_t i = 0; i + 1 < n; i += 2)
                if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], why, sizeof why) !=
                    RD_KAFKA_CONF_OK) {
                        fprintf(stderr, "kafka property %s: %s\n", kv[i], why);
                        return -1;
                }
        return 0;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk;
        if (m->err)
                (*(size_t *)opaque)++;
}

static int produce_all(const char *brokers, const struct events *e)
{
        const char *const props[] = { "bootstrap.servers",
                                      brokers,
                                      "linger.ms",
                                      "20",
                                      "queue.buffering.max.messages",
                                      "1000000",
                                      "message.max.bytes",
                                      "1048576" };
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        size_t failed = 0;
        char why[256];
        rd_kafka_t *rk;

        if (conf == NULL || set_all(conf, props, sizeof props / sizeof props[0]) < 0)
                return -1;
        rd_kafka_conf_set_opaque(conf, &failed);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
        if (rk == NULL) {
                fprintf(stderr, "producer: %s\n", why);
                return -1;
        }
        for (size_t i = 0; i < e->n; i++) {
                char *tab = strchr(e->lines[i], '\t');
                rd_kafka_resp_err_t err;
                size_t klen = tab ? (size_t)(tab - e->lines[i]) : 0;
                const char *value = tab ? tab + 1 : e->lines[i];
                do {
                        err = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_KEY(e->lines[i], klen),
                            RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(rk, 100);
                } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                if (err)
                        failed++;
                rd_kafka_poll(rk, 0);
        }
        if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
                failed++;
        rd_kafka_destroy(rk);
        if (failed)
                fprintf(stderr, "%zu messages not delivered\n", failed);
        return failed ? -1 : 0;
}

/* ---- (a) the plain consumer ---- */

struct timing {
        size_t n;
        double first, last;
};

static double rate(const struct timing *t)
{
        return t->last > t->first ? (double)t->n / (t->last - t->first) : 0;
}

static rd_kafka_t *plain_consumer(const char *brokers)
{
        const char *const props[] = { "bootstrap.servers",
                                      brokers,
                                      "group.id",
                                      "bench-plain",
                                      "auto.offset.reset",
                                      "earliest",
                                      "enable.partition.eof",
                                      "false" };
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *topics;
        char why[256];
        rd_kafka_t *rk;

        if (conf == NULL || set_all(conf, props, sizeof props / sizeof props[0]) < 0 ||
            set_all(conf, kafka_props, sizeof kafka_props / sizeof kafka_props[0]) < 0)
                return NULL;
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
        if (rk == NULL) {
                fprintf(stderr, "consumer: %s\n", why);
                return NULL;
        }
        rd_kafka_poll_set_consumer(rk);
        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, TOPIC, RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(rk, topics) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                rd_kafka_destroy(rk);
                rk = NULL;
        }
        rd_kafka_topic_partition_list_destroy(topics);
        return rk;
}

static int run_plain(const char *brokers, size_t want, struct timing *t)
{
        rd_kafka_t *rk = plain_consumer(brokers);
        double deadline = bench_now_s() + RUN_TIMEOUT_S;

        if (rk == NULL)
                return -1;
        while (t->n < want && bench_now_s() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (m == NULL)
                        continue;
                if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        if (t->n++ == 0)
                                t->first = bench_now_s();
                        t->last = bench_now_s();
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return t->n == want ? 0 : -1;
}

/* ---- (b) source_kafka + pipeline + store ---- */

/* One store the pipeline runs into. */
struct target {
        const char *label;    /* "synchronous=FULL", ... */
        const char *group;    /* its own consumer group */
        const char *db;       /* a path, or a postgresql:// URL */
        bool normal;          /* SQLite synchronous=NORMAL */
        const char *password; /* PostgreSQL */
};

struct counted {
        struct pipeline *p;
        struct timing *t;
};

static int counted_handle(void *ctx, const struct raw_message *m)
{
        struct counted *c = ctx;

        if (c->t->n++ == 0)
                c->t->first = bench_now_s();
        return pipeline_handle(c->p, m);
}

static int consume_into(struct source_kafka *k, struct pipeline *p, size_t want, struct timing *t)
{
        struct counted c = { p, t };
        double deadline = bench_now_s() + RUN_TIMEOUT_S;
        int r = 0;

        while (r >= 0 && t->n < want && bench_now_s() < deadline) {
                r = source_kafka_poll_batch(k, bench_env_size("BENCH_BATCH", 1000, ENV_MAX), 200,
                                            counted_handle, &c);
                if (r >= 0)
                        r = pipeline_commit(p, (int64_t)time(NULL));
                if (r >= 0)
                        r = source_kafka_store_offsets(k);
        }
        t->last = bench_now_s();
        return r < 0 || t->n != want ? -1 : 0;
}

static long long file_size(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static int run_pipeline(const char *brokers, size_t want, const struct target *tg, struct timing *t,
                        struct pipeline_stats *stats)
{
        const char *topics[] = { TOPIC };
        struct source_kafka_options ko = {
                .brokers = brokers,
                .topics = topics,
                .n_topics = 1,
                .group = tg->group,
                .properties = kafka_props,
                .n_properties = sizeof kafka_props / sizeof kafka_props[0] / 2,
        };
        struct store_options so = { .synchronous_normal = tg->normal, .password = tg->password };
        struct pipeline_options po = { 0 };
        struct source_kafka *k = NULL;
        struct pipeline *p = NULL;
        struct store *s = NULL;
        char err[512] = "";
        int r = store_open(&s, tg->db, &so, err, sizeof err);

        po.store = s;
        if (r == 0)
                r = pipeline_new(&p, &po, err, sizeof err);
        if (r == 0)
                r = source_kafka_new(&k, &ko, err, sizeof err);
        if (r == 0)
                r = consume_into(k, p, want, t);
        if (p)
                *stats = *pipeline_stats(p);
        source_kafka_free(k);
        pipeline_free(p);
        store_close(s); /* the last connection: checkpoints the WAL */
        if (r < 0)
                fprintf(stderr, "pipeline run failed after %zu messages: %s\n", t->n, err);
        return r;
}

static int add_bytes(void *ctx, const struct store_table_stat *t)
{
        if (t->bytes > 0)
                *(long long *)ctx += t->bytes;
        return 0;
}

/* A PostgreSQL database's tables and indexes, as `store stats` counts them. */
static long long pg_bytes(const struct target *tg)
{
        struct store_options so = { .read_only = true, .password = tg->password };
        struct store *s = NULL;
        long long bytes = 0;
        char err[512];

        if (store_open(&s, tg->db, &so, err, sizeof err) < 0 ||
            store_table_stats(s, add_bytes, &bytes) < 0)
                bytes = -1;
        store_close(s);
        return bytes;
}

static void print_figures(const struct target *tg, const struct timing *t,
                          const struct pipeline_stats *st, double plain)
{
        printf("pipeline (%-18s) %8.0f events/s  ratio to plain %.2f  "
               "(%llu events new, %llu duplicates, %llu notifications, %llu commits)\n",
               tg->label, rate(t), plain > 0 ? rate(t) / plain : 0, (unsigned long long)st->events,
               (unsigned long long)st->duplicates, (unsigned long long)st->notifications,
               (unsigned long long)st->commits);
}

static int pipeline_figures(const char *brokers, size_t want, const struct target *tg, double plain)
{
        struct pipeline_stats st = { 0 };
        struct timing t = { 0 };
        int r = run_pipeline(brokers, want, tg, &t, &st);
        long long bytes;
        char wal[600];

        if (r == 0)
                print_figures(tg, &t, &st, plain);
        if (strncmp(tg->db, "postgresql://", 13) == 0) {
                bytes = r == 0 ? pg_bytes(tg) : -1;
                if (bytes >= 0)
                        printf("store size (%-18s) %.1f MB per 100k events (tables and indexes "
                               "%lld bytes)\n",
                               tg->label, (double)bytes / 1e6 * 100000.0 / (double)want, bytes);
                return r;
        }
        snprintf(wal, sizeof wal, "%s-wal", tg->db);
        bytes = file_size(tg->db) + file_size(wal);
        if (r == 0)
                printf("store size (%-18s) %.1f MB per 100k events (db %lld + wal %lld bytes)\n",
                       tg->label, (double)bytes / 1e6 * 100000.0 / (double)want, file_size(tg->db),
                       file_size(wal));
        if (getenv("BENCH_KEEP") == NULL) { /* else left for a look with sqlite3 */
                unlink(tg->db);
                unlink(wal);
        }
        return r;
}

/* The PostgreSQL run: a fresh server (pg-server.py, fsync on), its URL and
 * password from its ready line and file. */
static int pg_figures(const char *brokers, size_t want, const char *pg_server, double plain)
{
        char env[] = "/usr/bin/env", python[] = "python3", fsync_opt[] = "--fsync", on[] = "on";
        char *argv[] = { env, python, (char *)pg_server, fsync_opt, on, NULL };
        char url[256] = "", pwfile[256] = "", password[128] = "";
        struct peer pg;
        FILE *f;
        int r = peer_start(&pg, argv, 90000);

        if (r < 0 || sscanf(pg.ready, "ready %255s %255s", url, pwfile) != 2) {
                fprintf(stderr, "pg-server.py did not start\n");
                if (r == 0)
                        peer_stop(&pg);
                return -1;
        }
        f = fopen(pwfile, "r");
        if (f == NULL || fgets(password, sizeof password, f) == NULL)
                r = -1;
        if (f)
                fclose(f);
        password[strcspn(password, "\n")] = '\0';
        if (r == 0) {
                struct target tg = { "PostgreSQL", "bench-pipeline-pg", url, false, password };
                r = pipeline_figures(brokers, want, &tg, plain);
        }
        peer_stop(&pg);
        return r;
}

static int bench(const char *brokers, const struct events *e, const char *dir,
                 const char *pg_server)
{
        struct timing plain = { 0 };
        char full[512], normal[512];

        if (produce_all(brokers, e) < 0 || run_plain(brokers, e->n, &plain) < 0) {
                fprintf(stderr, "the plain consumer read %zu of %zu\n", plain.n, e->n);
                return -1;
        }
        printf("plain consumer                %8.0f events/s\n", rate(&plain));
        snprintf(full, sizeof full, "%s/bench-full.db", dir);
        snprintf(normal, sizeof normal, "%s/bench-normal.db", dir);
        const struct target sqlite[] = {
                { "synchronous=FULL", "bench-pipeline-full", full, false, NULL },
                { "synchronous=NORMAL", "bench-pipeline-normal", normal, true, NULL },
        };
        for (size_t i = 0; i < sizeof sqlite / sizeof sqlite[0]; i++)
                if (pipeline_figures(brokers, e->n, &sqlite[i], rate(&plain)) < 0)
                        return -1;
        return pg_server ? pg_figures(brokers, e->n, pg_server, rate(&plain)) : 0;
}

int main(int argc, char **argv)
{
        size_t want = bench_env_size("BENCH_EVENTS", 100000, ENV_MAX);
        const char *envelopes = getenv("BENCH_ENVELOPES") ? getenv("BENCH_ENVELOPES") : "raw";
        char dir[] = "/tmp/bench-pipeline.XXXXXX";
        char brokers_opt[] = "--brokers", three[] = "3", topic_opt[] = "--topic";
        char topic[] = TOPIC ":" PARTITIONS;
        char *peer_argv[] = {
                argc > 1 ? argv[1] : NULL, brokers_opt, three, topic_opt, topic, NULL
        };
        struct events e = { 0 };
        struct peer kafka;
        int r;

        if (argc != 3 && argc != 4) {
                fprintf(stderr, "usage: bench-pipeline MOCK_KAFKA GEN_EVENTS_PY [PG_SERVER_PY]\n");
                return 2;
        }
        log_set_level(LOG_LEVEL_WARNING);
        if (mkdtemp(dir) == NULL || generate(&e, argv[2], want, envelopes) < 0)
                return 1;
        printf("%zu messages, %s envelopes, %.0f bytes on average, topic of %s partitions\n", e.n,
               envelopes, (double)e.bytes / (double)e.n, PARTITIONS);
        fflush(stdout);
        r = peer_start(&kafka, peer_argv, 10000);
        if (r == 0) {
                r = bench(kafka.ready, &e, dir, argc == 4 ? argv[3] : NULL);
                peer_stop(&kafka);
        }
        events_free(&e);
        if (getenv("BENCH_KEEP") == NULL)
                rmdir(dir);
        else
                fprintf(stderr, "stores kept in %s\n", dir);
        return r < 0 ? 1 : 0;
}
