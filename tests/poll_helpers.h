/*
 * poll_helpers.h: what the poller tests (test_poll*.c) share: the list of
 * backends and EACH_BACKEND, descriptor pairs, clocks, and checks on the
 * events a wait reports.
 */
#ifndef CORIO_TEST_POLL_HELPERS_H
#define CORIO_TEST_POLL_HELPERS_H

#include "loop/poll/poll.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN CORIO__POLL_IN
#define OUT CORIO__POLL_OUT
#define ERR CORIO__POLL_ERR
#define MS 1000000LL

static const corio__poller_ops *const backends[] = {&corio__poll_epoll,
                                                    &corio__poll_poll};

/* for (ops in backends), announcing each on stdout */
#define EACH_BACKEND(ops)                                                  \
    for (size_t be_ = 0;                                                   \
         be_ < 2 && ((ops) = backends[be_], printf("  [%s]\n",             \
                                                   (ops)->name), 1);       \
         be_++)

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline corio__poller *open_poller(const corio__poller_ops *ops)
{
    corio__poller *p = NULL;
    CHECK_EQ(ops->open(&p), 0);
    CHECK(p != NULL);
    return p;
}

static inline void make_pipe(int fds[2])
{
    CHECK_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static inline void make_socketpair(int fds[2])
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        0, fds),
             0);
}

static inline void close2(const int fds[2])
{
    close(fds[0]);
    close(fds[1]);
}

static inline void put(int fd, const char *s)
{
    CHECK_EQ(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static inline void drain(int fd)
{
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

/* Events reported for token among n (ORed), or 0. */
static inline unsigned events_for(const corio__poll_event *ev, int n, uint64_t token)
{
    unsigned e = 0;
    int i;
    for (i = 0; i < n; i++)
        if (ev[i].token == token)
            e |= ev[i].events;
    return e;
}

/* Each event's bits are a subset of IN|OUT|ERR, never 0, and ERR comes
 * with both IN and OUT. */
static inline void check_shape(const corio__poll_event *ev, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        CHECK(ev[i].events != 0);
        CHECK((ev[i].events & ~(IN | OUT | ERR)) == 0);
        if (ev[i].events & ERR)
            CHECK((ev[i].events & (IN | OUT)) == (IN | OUT));
    }
}

static inline int wait_ev(const corio__poller_ops *ops, corio__poller *p,
                          int64_t timeout_ns, corio__poll_event *ev, int max)
{
    int n = ops->wait(p, timeout_ns, ev, max);
    CHECK(n >= 0);
    CHECK(n <= max);
    check_shape(ev, n);
    return n;
}

#endif /* CORIO_TEST_POLL_HELPERS_H */
