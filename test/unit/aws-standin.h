/* Test helper: runs test/tools/catalog-standin.py (catalog, container or
 * imds mode) as a child process on a free loopback port. */
#ifndef CPPO_TEST_AWS_STANDIN_H
#define CPPO_TEST_AWS_STANDIN_H

#include <sys/types.h>

struct standin {
        pid_t pid;
        int port;
        char url[64]; /* "http://127.0.0.1:PORT" */
};

/* Starts the stand-in with the extra arguments (NULL-terminated) and waits
 * (bounded) for its "ready PORT" line. 0, or -1 when it did not start. */
int standin_start(struct standin *s, const char *const *args);

/* SIGTERM, then waits for that one PID. */
void standin_stop(struct standin *s);

/* POSTs a JSON control command to /_standin/control. 0 or -1. */
int standin_control(const struct standin *s, const char *json);

/* GETs /_standin/stats into out (NUL-terminated, truncated). 0 or -1. */
int standin_stats(const struct standin *s, char *out, size_t cap);

/* A number from the stats, e.g. standin_stat(s, "\"DescribeEntity\": ")
 * for the value after that text, or -1. */
long standin_stat(const struct standin *s, const char *after);

#endif
