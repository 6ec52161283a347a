/*
 * mux.h: waiting on several descriptors and a timer from one task.
 *
 * corio's fd waits take one descriptor per task. Happy Eyeballs (several
 * connects in flight) and c-ares (a socket per name server, plus its
 * retry timer) need several, so they gather them in a private epoll
 * instance with a timerfd, and the task waits on that one descriptor
 * (corio_wait_readable on the epoll fd, which is pollable). The member
 * descriptors are never registered with the loop, so their owner may
 * close them with close(2) (c-ares does).
 */
#ifndef CORIO_NET_MUX_H
#define CORIO_NET_MUX_H

#include <stdint.h>

#define CORIO__MUX_TIMER UINT64_MAX /* the data of the timer's event */

typedef struct corio__mux {
    int ep;    /* epoll instance, -1 when not open */
    int timer; /* timerfd in ep */
} corio__mux;

/* Open: 0, -ENOMEM, -EMFILE, -ENFILE. */
int corio__mux_open(corio__mux *m);
/* Close both descriptors (corio_fd_close for the epoll fd). */
void corio__mux_close(corio__mux *m);
/* Watch fd for events (EPOLLIN/EPOLLOUT; 0 removes it), reported with
 * data. 0 or -errno. */
int corio__mux_watch(corio__mux *m, int fd, unsigned events, uint64_t data,
                     int add);
int corio__mux_unwatch(corio__mux *m, int fd);
/* Arm the timer to fire `seconds` from now (< 0: disarm; 0: at once). */
int corio__mux_timer(corio__mux *m, double seconds);
/* Wait (suspends the calling task) until something is ready, then fill
 * up to max events: returns how many (>= 1), or corio_wait_readable's
 * error (-ECANCELED, CORIO_ENOTASK, ...). The timer's event has data
 * CORIO__MUX_TIMER and is disarmed when reported. */
struct epoll_event;
int corio__mux_wait(corio__mux *m, struct epoll_event *ev, int max);

#endif /* CORIO_NET_MUX_H */
