/* cppo-notify — ISO-8601 timestamps as AWS writes them.
 *
 * Accepted: "YYYY-MM-DDTHH:MM:SS" with optional fraction (".406") and a
 * zone of "Z" or "+HH:MM"/"-HH:MM"; also a bare date "YYYY-MM-DD"
 * (midnight UTC). Times are seconds since the Unix epoch, UTC.
 */
#ifndef CPPO_TIMEFMT_H
#define CPPO_TIMEFMT_H

#include "cppo/error.h"

#include <stddef.h>
#include <stdint.h>

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define TIMEFMT_LEN 21

/* 0, or -EINVAL when s is not a valid timestamp (fields out of range
 * included). */
CPPO_MUST_CHECK int timefmt_parse(const char *s, int64_t *out);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" into out (TIMEFMT_LEN bytes). */
void timefmt_format(int64_t t, char out[TIMEFMT_LEN]);

#endif
