/* cppo-notify — the clocks, under names that say which clock.
 *
 * mono: CLOCK_MONOTONIC, for intervals, deadlines and backoff; it never jumps
 * and has no relation to the calendar. wall: CLOCK_REALTIME, for timestamps
 * that are stored, printed or compared with times from elsewhere (AWS, Kafka).
 * None of these can fail on Linux for these clock ids, so they return the
 * value directly.
 */
#ifndef CPPO_CLOCK_H
#define CPPO_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds (arbitrary origin). */
int64_t clock_mono_ms(void);
/* Monotonic microseconds (same origin as clock_mono_ms; systemd's
 * MONOTONIC_USEC wants this unit). */
int64_t clock_mono_us(void);
/* Wall clock: milliseconds since the Unix epoch. */
int64_t clock_wall_ms(void);
/* Wall clock: whole seconds since the Unix epoch (what the store keeps). */
int64_t clock_wall_s(void);
/* Wall clock as a timespec, for pthread_cond_timedwait and seeding. */
struct timespec clock_wall_ts(void);

#endif
