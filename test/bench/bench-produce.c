/* bench-produce — the e2e benchmark's paced producer.
 *
 *   bench-produce BROKERS TOPIC READY_FILE < KEY<TAB>VALUE lines
 *
 * Connects and learns the topic's leaders, then creates READY_FILE (the
 * pacer starts its clock only then), produces each line the moment it is
 * read (linger.ms 0) and waits for every delivery at end of input. kcat reads its standard input in
 * blocks and so held a paced line until the next ones filled the block (about 45 ms at 20 deals/s),
 * which the benchmark counted as the daemon's latency. Exits 0 when every message was delivered.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_BYTES (1u << 20)

static int failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk;
        (void)opaque;
        if (m->err) {
                fprintf(stderr, "bench-produce: %s\n", rd_kafka_err2str(m->err));
                failed = 1;
        }
}

static rd_kafka_t *producer(const char *brokers)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char why[512];
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, why, sizeof why) ||
            rd_kafka_conf_set(conf, "linger.ms", "0", why, sizeof why)) {
                fprintf(stderr, "bench-produce: %s\n", why);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
        if (rk == NULL) {
                fprintf(stderr, "bench-produce: %s\n", why);
                rd_kafka_conf_destroy(conf);
        }
        return rk;
}

static int produce_line(rd_kafka_t *rk, const char *topic, char *line)
{
        char *tab = strchr(line, '\t'), *value;
        size_t len = strcspn(line, "\n");
        rd_kafka_resp_err_t e;

        line[len] = '\0';
        if (tab == NULL) {
                fprintf(stderr, "bench-produce: a line without a tab\n");
                return -1;
        }
        *tab = '\0';
        value = tab + 1; /* librdkafka's macros cast before adding */
        e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(line, strlen(line)),
                              RD_KAFKA_V_VALUE(value, strlen(value)),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e) {
                fprintf(stderr, "bench-produce: %s\n", rd_kafka_err2str(e));
                return -1;
        }
        rd_kafka_poll(rk, 0);
        return 0;
}

static int ready(rd_kafka_t *rk, const char *topic, const char *path)
{
        rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = t ? rd_kafka_metadata(rk, 0, t, &md, 10000)
                                  : RD_KAFKA_RESP_ERR__FAIL;
        FILE *f;

        if (md)
                rd_kafka_metadata_destroy(md);
        if (t)
                rd_kafka_topic_destroy(t);
        if (e) {
                fprintf(stderr, "bench-produce: no metadata: %s\n", rd_kafka_err2str(e));
                return -1;
        }
        f = fopen(path, "w");
        if (f == NULL || fclose(f) != 0) {
                fprintf(stderr, "bench-produce: cannot create %s\n", path);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static char line[LINE_MAX_BYTES];
        rd_kafka_t *rk;
        int r = 0;

        if (argc != 4) {
                fprintf(stderr, "usage: bench-produce BROKERS TOPIC READY_FILE < KEY<TAB>VALUE "
                                "lines\n");
                return 2;
        }
        rk = producer(argv[1]);
        if (rk == NULL)
                return 1;
        r = ready(rk, argv[2], argv[3]);
        while (r == 0 && fgets(line, sizeof line, stdin) != NULL)
                r = produce_line(rk, argv[2], line);
        if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                fprintf(stderr, "bench-produce: messages still queued after 30 s\n");
                r = -1;
        }
        rd_kafka_destroy(rk);
        return r == 0 && !failed ? 0 : 1;
}
