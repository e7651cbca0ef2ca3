/* cppo-notify — leader election with fencing (high availability on
 * PostgreSQL, issue 15).
 *
 * Instances sharing one PostgreSQL store elect one leader: the instance
 * whose dedicated connection (separate from every store connection) holds
 * the session-level advisory lock LEADER_LOCK_KEY. The lock lives as long
 * as that connection, so a leader that dies or loses the connection loses
 * it, and the server hands it to the next standby that asks.
 *
 * Holding the lock is not enough to be safe: a deposed leader may still be
 * running a batch. So on acquiring it, leader_try() increments ha_leader's
 * epoch in a transaction of its own; the new epoch is the fencing token.
 * The caller fences its store connections with it and the lock
 * connection's server process (leader_token(), store_fence()) before
 * doing any work: a fenced commit or delivery claim reads the row FOR
 * SHARE and fails with -ENOLCK once the epoch moved or the lock is no
 * longer granted to that process. The increment waits
 * for any deposed leader's transaction holding the row FOR SHARE, so once
 * it returns no commit or claim of an older epoch can succeed.
 *
 * How fast a silent death is noticed: the lock connection asks the server
 * for TCP keepalives and a TCP user timeout (and sets libpq's own on the
 * client side) derived from the takeover budget, see leader_options. A
 * SIGKILLed leader frees the lock at once (its kernel closes the socket).
 *
 * One thread uses a struct leader (libpq connections are not shared).
 */
#ifndef CPPO_LEADER_H
#define CPPO_LEADER_H

#include "cppo/error.h"
#include "cppo/store.h" /* the lock key (LEADER_LOCK_KEY) and the fencing token */

#include <stdint.h>
/* application_name of the lock connection (pg_stat_activity). */
#define LEADER_APPLICATION_NAME "cppo-notify-leader"

struct leader;

struct leader_options {
        const char *target;   /* a postgresql:// URL (store.url) */
        const char *password; /* NULL: libpq's own PGPASSWORD, PGPASSFILE, service file */
        const char *identity; /* "host:pid", written to ha_leader.holder; at most 255 bytes */
        /* ha.takeover and ha.poll, seconds (takeover > poll >= 1; the
         * config asks takeover >= poll + 4, below that D is 3 s anyway
         * and the promise does not hold). The lock
         * connection's keepalives are set so that the server drops a
         * vanished leader's connection (freeing the lock) within
         * D = takeover - poll - 1 seconds: idle D/2, then 3 probes every
         * (D - D/2) / 3 seconds (each at least 1 s), TCP user timeout D.
         * A standby polling every `poll` then takes the lock within
         * takeover - 1 s, leaving a second for the epoch bump. For the
         * defaults (10 s, 1 s): D = 8, idle 4 s + 3 x 1 s = 7 s. */
        int takeover_s;
        int poll_s;
};

/* Opens the lock connection (not yet trying the lock). 0, -ENOMEM, -EINVAL
 * (bad options), or -EIO with err saying why (never the password). The
 * connection is opened again by leader_try() when it is lost. */
CPPO_MUST_CHECK int leader_new(struct leader **out, const struct leader_options *o, char *err,
                               size_t errlen);

/* Tries to become the leader, without waiting for the lock: 1 leader (the
 * epoch was incremented: leader_epoch()), 0 another instance holds the
 * lock, or a negative errno (-EIO connection lost or the server refused;
 * -EBUSY the epoch bump waited past the takeover budget, the lock is given
 * back) with leader_error() saying why. Once leader, returns 1 at once. */
CPPO_MUST_CHECK int leader_try(struct leader *l);

/* The epoch of the current leadership (> 0), or 0 when not leader. */
int64_t leader_epoch(const struct leader *l);

/* The fencing token of the current leadership for store_fence(): the
 * epoch and the server process of the lock connection (as the server
 * reported it when the epoch was taken); lock_pid -1 when that connection
 * is gone (every fenced statement then refuses); zeros when not leader. */
struct store_fence_token leader_token(const struct leader *l);

/* Whether the leadership still holds: 0 yes, -ENOLCK it is lost (the lock
 * connection closed or broke, or ha_leader shows another epoch), after
 * which l stays not-leader (the daemon stops). Cheap: it reads what the
 * socket already has (no wait); at most once per poll interval it also
 * asks the server, in one round trip, that the lock is granted to this
 * session and the epoch unchanged. */
CPPO_MUST_CHECK int leader_check(struct leader *l);

/* The lock connection's socket, for a poll set (readable when the server
 * sends something: mostly the notice of its end); -1 when closed. */
CPPO_MUST_CHECK int leader_fd(const struct leader *l);

/* Why the last call failed or the leadership ended, no secret; "" when
 * nothing failed. */
const char *leader_error(const struct leader *l);

/* Closes the connection, which gives the lock back at once (a clean stop
 * lets a standby take over without waiting for keepalives). NULL is
 * accepted. */
void leader_free(struct leader *l);

#endif
