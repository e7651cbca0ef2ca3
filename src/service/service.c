/* cppo-notify — sd_notify wrappers (see include/cppo/service.h). */
#include "cppo/service.h"
#include "cppo/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#define NOTIFY(s) sd_notify(0, (s))
#else
#define NOTIFY(s) ((void)(s))
#endif

void service_ready(void)
{
        NOTIFY("READY=1");
}

void service_reloading(void)
{
        char msg[96];

        snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
                 (unsigned long long)clock_mono_us());
        NOTIFY(msg);
}

void service_stopping(void)
{
        NOTIFY("STOPPING=1");
}

void service_watchdog(void)
{
        NOTIFY("WATCHDOG=1");
}

void service_status(const char *fmt, ...)
{
        char msg[512] = "STATUS=";
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg + 7, sizeof msg - 7, fmt, ap);
        va_end(ap);
        for (char *p = msg; *p; p++) /* one line: a newline would start a new field */
                if (*p == '\n')
                        *p = ' ';
        NOTIFY(msg);
}

uint64_t service_watchdog_usec(void)
{
#if HAVE_LIBSYSTEMD
        uint64_t usec = 0;

        if (sd_watchdog_enabled(0, &usec) > 0)
                return usec;
#endif
        return 0;
}
