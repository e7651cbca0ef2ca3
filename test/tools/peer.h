/* peer.h — start a test peer process from C, read its ready line, talk to
 * it over its stdin/stdout, and always stop it by PID.
 *
 *   struct peer p;
 *   char *argv[] = { MOCK_KAFKA, "--topic", "mp:3", NULL };
 *   assert_int_equal(peer_start(&p, argv, 10000), 0);   p.ready = first line
 *   peer_send(&p, "down 1\n"); peer_readline(&p, buf, sizeof buf, 5000);
 *   peer_stop(&p);     SIGTERM, wait up to 5 s, then SIGKILL
 *
 * peer_stop_all() stops every peer still running (call it from teardown;
 * peer_start also registers it with atexit), so a failed assertion does not
 * leave a process behind.
 */
#ifndef CPPO_TEST_PEER_H
#define CPPO_TEST_PEER_H

#include <stddef.h>
#include <sys/types.h>

struct peer {
        pid_t pid;
        int in;          /* its stdin */
        int out;         /* its stdout */
        char ready[512]; /* first line it printed, without the newline */
};

int peer_start(struct peer *p, char *const argv[], int timeout_ms);
int peer_send(struct peer *p, const char *line);
/* One line (without newline) within timeout_ms; 0, -ETIMEDOUT or -EIO. */
int peer_readline(struct peer *p, char *buf, size_t size, int timeout_ms);
void peer_stop(struct peer *p);
void peer_stop_all(void);

#endif
