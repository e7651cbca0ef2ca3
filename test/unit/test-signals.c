/* Unit tests: signals read through a signalfd; sd_notify messages received
 * on a real unix datagram socket standing in for systemd. */
#undef NDEBUG
#include "cppo/service.h"
#include "cppo/signals.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

static void blocked_signals_arrive_through_the_fd(void **state)
{
        int fd = signals_open();

        assert_true(fd >= 0);
        assert_int_equal(signals_next(fd), 0);
        assert_int_equal(raise(SIGHUP), 0);
        assert_int_equal(signals_next(fd), SIGHUP);
        assert_int_equal(raise(SIGTERM), 0);
        assert_int_equal(signals_next(fd), SIGTERM);
        assert_int_equal(signals_next(fd), 0);
        signals_close(fd);
        signals_close(-1);
}

static void notify_messages_reach_the_socket(void **state)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        char buf[256];
        ssize_t n;
        int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        assert_true(s >= 0);
        snprintf(addr.sun_path, sizeof addr.sun_path, "/tmp/cppo-notify-test-%d.sock",
                 (int)getpid());
        unlink(addr.sun_path);
        assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
        setenv("NOTIFY_SOCKET", addr.sun_path, 1);

        service_ready();
        n = recv(s, buf, sizeof buf - 1, MSG_DONTWAIT);
#if HAVE_LIBSYSTEMD
        assert_true(n > 0);
        buf[n] = '\0';
        assert_string_equal(buf, "READY=1");
        service_status("events/s=%d\nholds=%d", 5, 2);
        n = recv(s, buf, sizeof buf - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_string_equal(buf, "STATUS=events/s=5 holds=2");
        service_reloading();
        n = recv(s, buf, sizeof buf - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_non_null(strstr(buf, "RELOADING=1\nMONOTONIC_USEC="));
#else
        assert_true(n < 0);
#endif
        unsetenv("NOTIFY_SOCKET");
        assert_int_equal(service_watchdog_usec(), 0);
        close(s);
        unlink(addr.sun_path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(blocked_signals_arrive_through_the_fd),
                cmocka_unit_test(notify_messages_reach_the_socket),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
