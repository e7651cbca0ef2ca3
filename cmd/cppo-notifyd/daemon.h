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
 */
#ifndef CPPO_DAEMON_H
#define CPPO_DAEMON_H

#include <stdbool.h>

struct config;

struct daemon_options {
        const char *config_path; /* read again on SIGHUP */
        bool log_level_fixed;    /* --log-level given: log_level in the file is ignored */
};

/* Runs until stopped, taking ownership of cfg (freed before returning,
 * replaced on reload). Returns the exit code: 0 after a clean stop, 1 after
 * a fatal error. */
int daemon_run(struct config *cfg, const struct daemon_options *o);

#endif
