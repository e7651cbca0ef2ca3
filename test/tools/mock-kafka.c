/* mock-kafka — a Kafka cluster for tests, on librdkafka's mock cluster.
 *
 *   mock-kafka [--brokers N] [--topic NAME[:PARTITIONS]]...
 *
 * Prints its bootstrap servers (127.0.0.1 ports) as the first line of
 * standard output, then reads control lines on standard input and answers
 * each with "ok" or "error: ...":
 *
 *   down N              take broker N down (connections refused)
 *   up N                bring broker N back
 *   err APIKEY CNT CODE the next CNT requests of API key APIKEY fail with
 *                       error CODE (numbers: Produce=0, Fetch=1, Metadata=3,
 *                       OffsetCommit=8, JoinGroup=11)
 *   rtt N MS            add MS milliseconds of round trip to broker N
 *   topic NAME P        create a topic with P partitions
 *
 * Exits 0 on end of input, SIGTERM or SIGINT. Signals are read through a
 * signalfd polled beside standard input; no work happens in a handler.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static int parse_int(const char *s, long min, long max, long *out)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec)
{
        char name[256];
        const char *colon = strchr(spec, ':');
        long parts = 3;
        size_t len = colon ? (size_t)(colon - spec) : strlen(spec);

        if (len == 0 || len >= sizeof name || (colon && parse_int(colon + 1, 1, 1000, &parts) < 0))
                return -1;
        memcpy(name, spec, len);
        name[len] = '\0';
        return rd_kafka_mock_topic_create(mc, name, (int)parts, 1) ? -1 : 0;
}

/* One control line; returns the answer's text ("ok" or an error). */
static const char *control(rd_kafka_mock_cluster_t *mc, char *line)
{
        char *argv[5] = { 0 };
        long a = 0, b = 0, c = 0;
        int argc = 0;

        for (char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save); tok && argc < 5;
             tok = strtok_r(NULL, " \t\r\n", &save))
                argv[argc++] = tok;
        if (argc == 2 && strcmp(argv[0], "down") == 0 && parse_int(argv[1], 1, 100, &a) == 0)
                return rd_kafka_mock_broker_set_down(mc, (int32_t)a) ? "error: down failed" : "ok";
        if (argc == 2 && strcmp(argv[0], "up") == 0 && parse_int(argv[1], 1, 100, &a) == 0)
                return rd_kafka_mock_broker_set_up(mc, (int32_t)a) ? "error: up failed" : "ok";
        if (argc == 3 && strcmp(argv[0], "rtt") == 0 && parse_int(argv[1], 1, 100, &a) == 0 &&
            parse_int(argv[2], 0, 600000, &b) == 0)
                return rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b) ? "error: rtt failed"
                                                                            : "ok";
        if (argc == 4 && strcmp(argv[0], "err") == 0 && parse_int(argv[1], 0, 100, &a) == 0 &&
            parse_int(argv[2], 1, 1000, &b) == 0 && parse_int(argv[3], -200, 200, &c) == 0) {
                for (long i = 0; i < b; i++)
                        rd_kafka_mock_push_request_errors(mc, (int16_t)a, 1,
                                                          (rd_kafka_resp_err_t)c);
                return "ok";
        }
        if (argc == 3 && strcmp(argv[0], "topic") == 0) {
                char spec[300];
                snprintf(spec, sizeof spec, "%s:%s", argv[1], argv[2]);
                return create_topic(mc, spec) ? "error: topic failed" : "ok";
        }
        return "error: unknown command";
}

static int usage(void)
{
        fprintf(stderr, "usage: mock-kafka [--brokers N] [--topic NAME[:PARTITIONS]]...\n");
        return 2;
}

/* Reads control lines until end of input or a stop signal. */
static void serve(rd_kafka_mock_cluster_t *mc, int sigfd)
{
        char line[512];
        struct pollfd fds[2] = { { STDIN_FILENO, POLLIN, 0 }, { sigfd, POLLIN, 0 } };

        for (;;) {
                if (poll(fds, 2, -1) < 0 && errno != EINTR)
                        return;
                if (fds[1].revents)
                        return; /* SIGTERM or SIGINT */
                if (fds[0].revents == 0)
                        continue;
                if (fgets(line, sizeof line, stdin) == NULL)
                        return;
                printf("%s\n", control(mc, line));
                fflush(stdout);
        }
}

int main(int argc, char **argv)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_mock_cluster_t *mc;
        rd_kafka_t *rk;
        sigset_t set;
        long brokers = 3;
        int sigfd;

        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        sigfd = signalfd(-1, &set, SFD_CLOEXEC);
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--brokers") == 0 &&
                    (i + 1 >= argc || parse_int(argv[++i], 1, 10, &brokers) < 0))
                        return usage();
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (rk == NULL || sigfd < 0) {
                fprintf(stderr, "mock-kafka: %s\n", rk ? "signalfd failed" : errstr);
                return 1;
        }
        mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
        for (int i = 1; mc && i < argc; i++) {
                if (strcmp(argv[i], "--brokers") == 0)
                        i++;
                else if (strcmp(argv[i], "--topic") != 0 || i + 1 >= argc ||
                         create_topic(mc, argv[++i]) < 0)
                        return usage();
        }
        if (mc == NULL) {
                fprintf(stderr, "mock-kafka: cannot create the mock cluster\n");
                return 1;
        }
        printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        serve(mc, sigfd);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        close(sigfd);
        return 0;
}
