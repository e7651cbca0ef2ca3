/* cppo-notify — signals through a signalfd (see include/cppo/signals.h). */
#include "cppo/signals.h"

#include "cppo/error.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void handled_set(sigset_t *set)
{
        sigemptyset(set);
        sigaddset(set, SIGTERM);
        sigaddset(set, SIGINT);
        sigaddset(set, SIGHUP);
}

int signals_open(void)
{
        sigset_t set;
        int fd;

        handled_set(&set);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return -errno;
        fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int signals_next(int fd)
{
        struct signalfd_siginfo si;
        ssize_t n = read(fd, &si, sizeof si);

        if (n == (ssize_t)sizeof si)
                return (int)si.ssi_signo;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        return n < 0 ? -errno : -EIO;
}

void signals_close(int fd)
{
        sigset_t set;

        if (fd < 0)
                return;
        close(fd);
        handled_set(&set);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
}
