/* Benchmark: single-thread decode throughput (events/s) for the same
 * Purchase Agreement Created event bare, wrapped in SQS, and as SNS inside
 * SQS (the fixtures in test/fixtures/aws-events). Prints one line per shape. */
#include "cppo/decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *slurp(const char *name, size_t *len)
{
        char path[1024];
        FILE *f;
        char *data = NULL;
        long n;

        snprintf(path, sizeof path, "%s/aws-events/%s", FIXTURES_DIR, name);
        f = fopen(path, "rb");
        if (f == NULL)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (data = malloc((size_t)n)) != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
                free(data);
                data = NULL;
        }
        fclose(f);
        *len = data ? (size_t)n : 0;
        return data;
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(struct decoder *d, struct decode_result *res, const char *label, const char *file)
{
        size_t len, events = 0;
        char *data = slurp(file, &len);
        double t0, secs;
        const int n = 300000;

        if (data == NULL) {
                fprintf(stderr, "cannot read %s\n", file);
                return 1;
        }
        t0 = now();
        for (int i = 0; i < n; i++) {
                if (decode_message(d, data, len, len, res) < 0 || res->n != 1 ||
                    res->items[0].reason != DECODE_OK) {
                        fprintf(stderr, "%s: did not decode\n", label);
                        free(data);
                        return 1;
                }
                events += res->n;
        }
        secs = now() - t0;
        printf("decode %-12s %6zu bytes/msg  %9.0f events/s  %7.1f MB/s\n", label, len,
               (double)events / secs, (double)len * n / secs / 1e6);
        free(data);
        return 0;
}

int main(void)
{
        struct decoder *d = NULL;
        struct decode_result res;
        int r = 0;

        decode_result_init(&res);
        if (decode_new(&d, NULL) < 0)
                return 1;
        r |= run(d, &res, "raw", "agreement-created-manufacturer-new.json");
        r |= run(d, &res, "sqs", "envelope-sqs-message.json");
        r |= run(d, &res, "sns-in-sqs", "envelope-sns-in-sqs.json");
        r |= run(d, &res, "lambda-batch", "envelope-lambda-sqs-batch.json");
        decode_result_deinit(&res);
        decode_free(d);
        return r;
}
