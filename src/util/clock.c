/* cppo-notify — clock readings (see include/cppo/clock.h). */
#include "cppo/clock.h"

static struct timespec read_clock(clockid_t id)
{
        struct timespec ts;

        /* Only EINVAL/EFAULT are possible, neither with these ids. */
        (void)clock_gettime(id, &ts);
        return ts;
}

static int64_t to_ms(struct timespec ts)
{
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
        return to_ms(read_clock(CLOCK_MONOTONIC));
}

int64_t clock_mono_us(void)
{
        struct timespec ts = read_clock(CLOCK_MONOTONIC);

        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_wall_ms(void)
{
        return to_ms(read_clock(CLOCK_REALTIME));
}

int64_t clock_wall_s(void)
{
        return (int64_t)read_clock(CLOCK_REALTIME).tv_sec;
}

struct timespec clock_wall_ts(void)
{
        return read_clock(CLOCK_REALTIME);
}
