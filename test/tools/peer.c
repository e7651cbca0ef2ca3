/* peer.c — test peer processes (see peer.h). */
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PEERS 16

/* PIDs, not struct pointers: a failed assertion longjmps out of the test
 * whose stack held the struct peer. */
static pid_t running[MAX_PEERS];

static void track(pid_t pid)
{
        static int registered;

        for (int i = 0; i < MAX_PEERS; i++) {
                if (running[i] == 0) {
                        running[i] = pid;
                        break;
                }
        }
        if (!registered) {
                atexit(peer_stop_all);
                registered = 1;
        }
}

static void untrack(pid_t pid)
{
        for (int i = 0; i < MAX_PEERS; i++)
                if (running[i] == pid)
                        running[i] = 0;
}

/* SIGTERM, wait up to 5 s, SIGKILL. */
static void stop_pid(pid_t pid)
{
        int status;

        kill(pid, SIGTERM);
        for (int i = 0; i < 50; i++) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return;
                nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
}

int peer_start(struct peer *p, char *const argv[], int timeout_ms)
{
        int to[2], from[2];

        memset(p, 0, sizeof *p);
        p->pid = -1;
        if (pipe2(to, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(from, O_CLOEXEC) < 0) {
                close(to[0]);
                close(to[1]);
                return -errno;
        }
        p->pid = fork();
        if (p->pid == 0) {
                dup2(to[0], STDIN_FILENO);
                dup2(from[1], STDOUT_FILENO);
                execv(argv[0], argv);
                _exit(127);
        }
        close(to[0]);
        close(from[1]);
        p->in = to[1];
        p->out = from[0];
        if (p->pid < 0) {
                close(p->in);
                close(p->out);
                return -EAGAIN;
        }
        track(p->pid);
        if (peer_readline(p, p->ready, sizeof p->ready, timeout_ms) < 0) {
                peer_stop(p);
                return -ETIMEDOUT;
        }
        return 0;
}

int peer_send(struct peer *p, const char *line)
{
        size_t n = strlen(line);

        return write(p->in, line, n) == (ssize_t)n ? 0 : -EIO;
}

int peer_readline(struct peer *p, char *buf, size_t size, int timeout_ms)
{
        size_t len = 0;

        while (len + 1 < size) {
                struct pollfd pfd = { p->out, POLLIN, 0 };
                char c;
                int n = poll(&pfd, 1, timeout_ms);
                if (n == 0)
                        return -ETIMEDOUT;
                if (n < 0 || read(p->out, &c, 1) != 1)
                        return -EIO;
                if (c == '\n')
                        break;
                buf[len++] = c;
        }
        buf[len] = '\0';
        return 0;
}

void peer_stop(struct peer *p)
{
        if (p->pid <= 0)
                return;
        stop_pid(p->pid);
        untrack(p->pid);
        close(p->in);
        close(p->out);
        p->pid = -1;
}

void peer_stop_all(void)
{
        for (int i = 0; i < MAX_PEERS; i++) {
                if (running[i] > 0)
                        stop_pid(running[i]);
                running[i] = 0;
        }
}
