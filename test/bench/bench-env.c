/* cppo-notify benchmarks — see bench-env.h. */
#include "bench-env.h"

#include "cppo/clock.h"

#include <stdlib.h>

double bench_now_s(void)
{
        return (double)clock_mono_us() / 1e6;
}

size_t bench_env_size(const char *name, size_t dflt, size_t max)
{
        const char *v = getenv(name);
        char *end;
        unsigned long long n;

        if (v == NULL || *v == '\0')
                return dflt;
        n = strtoull(v, &end, 10);
        return *end == '\0' && n > 0 && n <= max ? (size_t)n : dflt;
}
