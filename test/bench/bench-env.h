/* cppo-notify benchmarks — what each benchmark reads the same way: the
 * time, and a count from the environment. */
#ifndef CPPO_BENCH_ENV_H
#define CPPO_BENCH_ENV_H

#include <stddef.h>

/* Monotonic seconds (clock.h), for rates and deadlines. */
double bench_now_s(void);

/* The environment variable name as a count in 1..max; dflt when it is
 * unset, empty or anything else. */
size_t bench_env_size(const char *name, size_t dflt, size_t max);

#endif
