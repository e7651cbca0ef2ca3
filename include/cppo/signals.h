/* cppo-notify — signals as file descriptor reads (no work in handlers).
 *
 * signals_open() blocks SIGTERM, SIGINT and SIGHUP for the calling thread
 * (call it before starting any thread, so every thread inherits the mask)
 * and returns a non-blocking signalfd the main loop reads with
 * signals_next().
 */
#ifndef CPPO_SIGNALS_H
#define CPPO_SIGNALS_H

#include "cppo/error.h"

/* The signalfd (>= 0), or a negative errno. */
CPPO_MUST_CHECK int signals_open(void);

/* The next pending signal number, 0 when none is pending, or a negative
 * errno. */
CPPO_MUST_CHECK int signals_next(int fd);

/* Closes fd and unblocks the signals. fd < 0 is ignored. */
void signals_close(int fd);

#endif
