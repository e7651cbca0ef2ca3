/* Test helper: the catalog stand-in as a child process. */
#include "aws-standin.h"

#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define START_WAIT_MS 15000
#define ARGS_MAX      24

static int read_ready(int fd, int *port)
{
        char line[64];
        size_t n = 0;
        while (n < sizeof line - 1) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, START_WAIT_MS) <= 0)
                        return -1;
                ssize_t r = read(fd, line + n, 1);
                if (r <= 0)
                        return -1;
                if (line[n] == '\n')
                        break;
                n++;
        }
        line[n] = '\0';
        return sscanf(line, "ready %d", port) == 1 ? 0 : -1;
}

int standin_start(struct standin *s, const char *const *args)
{
        const char *root = getenv("CPPO_SOURCE_ROOT");
        char script[1024];
        char *argv[ARGS_MAX];
        int fds[2];
        size_t n = 0;
        snprintf(script, sizeof script, "%s/test/tools/catalog-standin.py", root ? root : ".");
        argv[n++] = (char *)"/usr/bin/python3";
        argv[n++] = script;
        for (; args != NULL && *args != NULL && n < ARGS_MAX - 1; args++)
                argv[n++] = (char *)*args;
        argv[n] = NULL;
        if (pipe(fds) != 0)
                return -1;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        int rc = posix_spawn(&s->pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        if (rc != 0) {
                close(fds[0]);
                return -1;
        }
        rc = read_ready(fds[0], &s->port);
        close(fds[0]);
        if (rc != 0) {
                standin_stop(s);
                return -1;
        }
        snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
        return 0;
}

void standin_stop(struct standin *s)
{
        if (s->pid > 0) {
                kill(s->pid, SIGTERM);
                waitpid(s->pid, NULL, 0);
        }
        s->pid = 0;
}

struct sink {
        char *out;
        size_t cap, len;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
        struct sink *k = ud;
        size_t len = size * n;
        size_t room = k->cap > k->len + 1 ? k->cap - k->len - 1 : 0;
        size_t take = len < room ? len : room;
        memcpy(k->out + k->len, p, take);
        k->len += take;
        k->out[k->len] = '\0';
        return len;
}

static int http(const struct standin *s, const char *path, const char *body, char *out, size_t cap)
{
        char url[128];
        char dummy[8];
        struct sink k = { out ? out : dummy, out ? cap : sizeof dummy, 0 };
        CURL *e = curl_easy_init();
        long status = 0;
        if (e == NULL)
                return -1;
        snprintf(url, sizeof url, "%s%s", s->url, path);
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)&k);
        if (body != NULL)
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        CURLcode rc = curl_easy_perform(e);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(e);
        return rc == CURLE_OK && status == 200 ? 0 : -1;
}

int standin_control(const struct standin *s, const char *json)
{
        return http(s, "/_standin/control", json, NULL, 0);
}

int standin_stats(const struct standin *s, char *out, size_t cap)
{
        return http(s, "/_standin/stats", NULL, out, cap);
}

long standin_stat(const struct standin *s, const char *after)
{
        char stats[4096];
        if (standin_stats(s, stats, sizeof stats) != 0)
                return -1;
        const char *p = strstr(stats, after);
        return p ? strtol(p + strlen(after), NULL, 10) : 0;
}
