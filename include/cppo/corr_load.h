/* cppo-notify — loading the correlation state from the store.
 *
 * The daemon (through the pipeline) and read-only tools such as
 * `cppo-notifyctl explain --state` start from what the store holds: every
 * authorization, offer, agreement, hold and notification key. Apart from
 * correlate.h so that the core stays pure: only this loader knows the store.
 */
#ifndef CPPO_CORR_LOAD_H
#define CPPO_CORR_LOAD_H

#include "cppo/error.h"

#include "cppo/correlate.h"
#include "cppo/store.h"

/* A new correlation state holding everything s stores; the caller frees it
 * with corr_state_free(). 0, -ENOMEM or store_load()'s negative errno
 * (nothing half loaded: *out is untouched on failure). */
CPPO_MUST_CHECK int corr_state_load(struct store *s, struct corr_state **out);

#endif
