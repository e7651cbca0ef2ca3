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
 * On SIGTERM: stop polling, commit the open batch, store and commit the
 * offsets, close the consumer (leaving the group), exit 0.
 */
#ifndef CPPO_DAEMON_H
#define CPPO_DAEMON_H

struct config;

/* Returns the exit code: 0 after a clean stop, 1 after a fatal error. */
int daemon_run(const struct config *cfg);

#endif
