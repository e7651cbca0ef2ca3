/* cppo-notify — telling the service manager how we are (sd_notify).
 *
 * Every call is a no-op when not started by systemd (NOTIFY_SOCKET unset)
 * or when built without libsystemd.
 */
#ifndef CPPO_SERVICE_H
#define CPPO_SERVICE_H

#include <stdint.h>

void service_ready(void);
/* RELOADING=1 with the monotonic timestamp systemd wants for notify-reload. */
void service_reloading(void);
void service_stopping(void);
void service_watchdog(void);
/* STATUS=<text>, one line. */
void service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Microseconds between watchdog pings systemd expects (WatchdogSec), or 0
 * when the watchdog is off. Ping at half that interval. */
uint64_t service_watchdog_usec(void);

#endif
