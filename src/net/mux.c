/*
 * mux.c: several descriptors and a timer behind one waitable descriptor
 * (see mux.h). Level-triggered, so an event not handled is reported again.
 */
#include "net/mux.h"

#include <corio/io.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

int corio__mux_open(corio__mux *m)
{
    struct epoll_event ev = {0};
    int rc;
    m->ep = epoll_create1(EPOLL_CLOEXEC);
    if (m->ep < 0)
        return -errno;
    m->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (m->timer < 0) {
        rc = -errno;
        close(m->ep);
        m->ep = -1;
        return rc;
    }
    ev.events = EPOLLIN;
    ev.data.u64 = CORIO__MUX_TIMER;
    if (epoll_ctl(m->ep, EPOLL_CTL_ADD, m->timer, &ev) < 0) {
        rc = -errno;
        close(m->timer);
        close(m->ep);
        m->ep = -1;
        return rc;
    }
    return 0;
}

void corio__mux_close(corio__mux *m)
{
    if (m->ep < 0)
        return;
    close(m->timer);
    corio_fd_close(m->ep); /* the loop may have it registered */
    m->ep = -1;
}

int corio__mux_watch(corio__mux *m, int fd, unsigned events, uint64_t data,
                     int add)
{
    struct epoll_event ev = {0};
    ev.events = events;
    ev.data.u64 = data;
    if (epoll_ctl(m->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0)
        return -errno;
    return 0;
}

int corio__mux_unwatch(corio__mux *m, int fd)
{
    if (epoll_ctl(m->ep, EPOLL_CTL_DEL, fd, NULL) < 0)
        return -errno;
    return 0;
}

int corio__mux_timer(corio__mux *m, double seconds)
{
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (seconds >= 0) {
        if (seconds > 1e9)
            seconds = 1e9;
        its.it_value.tv_sec = (time_t)seconds;
        its.it_value.tv_nsec =
            (long)((seconds - (double)its.it_value.tv_sec) * 1e9);
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1; /* zero would disarm it */
    }
    if (timerfd_settime(m->timer, 0, &its, NULL) < 0)
        return -errno;
    return 0;
}

int corio__mux_wait(corio__mux *m, struct epoll_event *ev, int max)
{
    int n, i, rc;
    uint64_t ticks;
    for (;;) {
        n = epoll_wait(m->ep, ev, max, 0);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n > 0)
            break;
        if ((rc = corio_wait_readable(m->ep)) != 0)
            return rc;
    }
    for (i = 0; i < n; i++)
        if (ev[i].data.u64 == CORIO__MUX_TIMER)
            (void)!read(m->timer, &ticks, sizeof ticks); /* disarms it */
    return n;
}
