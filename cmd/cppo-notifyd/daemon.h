/* cppo-notifyd — the run loop.
 *
 * One thread drives the consumer and the store:
 *
 *   until SIGTERM/SIGINT:
 *     read the signalfd                      (no work in a signal handler)
 *     poll a batch from Kafka into the pipeline (one store transaction)
 *     commit, then store the batch's offsets (at-least-once)
 *     ping the watchdog, refresh STATUS= and the metrics
 *
 * On SIGHUP: load the configuration file again. A configuration with errors
 * is logged ("path:line:col: message", one line each) and the running one
 * stays; a valid one is swapped in, except for what only a restart can
 * change (the kafka, store, http and aws sections: config.c's table says
 * which, config_keep_restart_only applies it), which keeps its running
 * value with a warning.
 *
 * On SIGTERM/SIGINT: stop polling, commit the open batch, store and commit
 * the offsets, close the consumer (leaving the group), exit 0.
 *
 * High availability (ha: in the config, on by default with a PostgreSQL
 * store; leader.h): the daemon starts as a standby. It serves /healthz,
 * /readyz (200 "role=standby"), /metrics (cppo_ha_leader 0) and sends
 * READY=1 and STATUS=role=standby..., but runs no consumer, inbox or
 * dispatcher; every ha.poll it tries the leader lock. Once it holds it: the
 * epoch is bumped, the store connections are fenced with it, the
 * dispatcher requeues what a previous leader left SENDING, the pipeline
 * loads the state, the consumer joins the group, and the loop above runs.
 * The leader checks the lock (leader_check) before each batch commit and
 * each routing round, and the dispatcher before each claim.
 *
 * Losing the lead is fail-stop, the simplest correct answer: at the first
 * sign (leader_check, or a commit or claim refused with -ENOLCK) nothing
 * more is committed, claimed or sent, deliveries in flight are abandoned
 * (left SENDING, requeued by the new leader), and the process exits with
 * DAEMON_EXIT_DEPOSED, so that systemd (Restart=on-failure) starts it
 * again: as a standby. Rebuilding the pipeline, consumer and dispatcher
 * in place would be more code for the same outcome.
 */
#ifndef CPPO_DAEMON_H
#define CPPO_DAEMON_H

#include <stdbool.h>

struct config;

/* The exit code after the leadership was lost (EX_TEMPFAIL): "restart
 * me", as a standby. */
#define DAEMON_EXIT_DEPOSED 75

struct daemon_options {
        const char *config_path; /* read again on SIGHUP */
        bool log_level_fixed;    /* --log-level given: log_level in the file is ignored */
};

/* Runs until stopped, taking ownership of cfg (freed before returning,
 * replaced on reload). Returns the exit code: 0 after a clean stop, 1 after
 * a fatal error, DAEMON_EXIT_DEPOSED after losing the leadership. */
int daemon_run(struct config *cfg, const struct daemon_options *o);

#endif
