/* cppo-notify — rebuilding the correlation state from the store.
 *
 * The daemon (through the pipeline) and read-only tools such as
 * `cppo-notifyctl explain --state` start from what the store holds: every
 * authorization, offer, agreement, hold and notification key.
 */
#ifndef CPPO_STATE_H
#define CPPO_STATE_H

#include "cppo/error.h"

#include "cppo/correlate.h"
#include "cppo/store.h"

/* A new state holding everything s stores. 0 or a negative errno. */
CPPO_MUST_CHECK int state_load(struct store *s, struct corr_state **out);

#endif
