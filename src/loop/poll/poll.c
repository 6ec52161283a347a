/*
 * poll.c: the level-triggered poll(2) backend (contract in poll.h); the
 * portable reference the tests hold epoll to.
 *
 * State. A dense array of struct pollfd, handed to the kernel as it is,
 * with the loop's token for each entry beside it, and an index from fd
 * number to entry. unwatch() moves the last entry into the freed one, so
 * both stay dense and every watch/unwatch is O(1); a wait is O(watched),
 * as poll(2) itself is.
 * Invariants, for 0 <= i < n:
 *   - pfd[i].fd is the fd, or ~fd (negative: poll skips the entry) while
 *     the interest is 0;
 *   - slot[fd] == i + 1, and slot[fd] == 0 for an fd not watched.
 *
 * Interest. IN asks for POLLIN (and POLLRDHUP), OUT for POLLOUT; the loop
 * updates it with every change. An fd with interest 0 stays registered but
 * reports nothing, not even errors, so a closed one cannot spin the loop.
 * Errors, hang-ups and POLLNVAL (an fd closed without unwatch) are
 * reported as ERR|IN|OUT, again at every wait until the loop reacts.
 *
 * Fairness. When more entries are ready than the caller has room for,
 * the next wait's scan starts after the last one reported, so every ready
 * fd gets its turn.
 *
 * Timeouts: ppoll takes a timespec (nanoseconds); a wait that comes back
 * empty early (EINTR) waits again for what is left, by CLOCK_MONOTONIC.
 * ThreadSanitizer builds wait in poll(2) instead (milliseconds, rounded
 * up): TSan runs a signal's handler late, when the thread next leaves an
 * intercepted call, and its ppoll interceptor is not one it delivers
 * signals in while blocked, so corio_run's SIGINT handler (which wakes
 * the loop) waited for an event that only it could bring.
 *
 * Limits: any fd poll(2) accepts, regular files included (always ready);
 * memory: 16 bytes per watched fd plus 4 per fd number.
 */
#include "alloc.h"
#include "poll.h"
#include "wait_clock.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sys/poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef POLLRDHUP
#define POLLRDHUP 0
#endif

struct corio__poller {
    struct pollfd *pfd; /* dense: n in use, cap allocated */
    uint64_t *token;    /* token[i] goes with pfd[i] */
    size_t n, cap;
    uint32_t *slot;     /* slot[fd]: entry + 1, or 0 */
    size_t nslot;
    size_t scan;        /* where the next wait starts looking */
};

static int pl_open(corio__poller **out)
{
    corio__poller *p = corio__calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    *out = p;
    return 0;
}

static void pl_close(corio__poller *p)
{
    if (!p)
        return;
    corio__free(p->pfd);
    corio__free(p->token);
    corio__free(p->slot);
    corio__free(p);
}

static short interest(unsigned events)
{
    short e = 0;
    if (events & CORIO__POLL_IN)
        e |= POLLIN | POLLRDHUP;
    if (events & CORIO__POLL_OUT)
        e |= POLLOUT;
    return e;
}

/* Room for one more entry and for slot[fd]. 0 or -ENOMEM; what grew
 * stays grown (harmless), nothing else changes. */
static int reserve(corio__poller *p, int fd)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct pollfd *pfd = corio__realloc(p->pfd, cap * sizeof(*pfd));
        uint64_t *tok;
        if (!pfd)
            return -ENOMEM;
        p->pfd = pfd;
        tok = corio__realloc(p->token, cap * sizeof(*tok));
        if (!tok)
            return -ENOMEM;
        p->token = tok;
        p->cap = cap;
    }
    if ((size_t)fd >= p->nslot) {
        size_t n = p->nslot ? p->nslot : 64;
        uint32_t *s;
        while (n <= (size_t)fd)
            n *= 2;
        s = corio__realloc(p->slot, n * sizeof(*s));
        if (!s)
            return -ENOMEM;
        memset(s + p->nslot, 0, (n - p->nslot) * sizeof(*s));
        p->slot = s;
        p->nslot = n;
    }
    return 0;
}

/* Register fd, or update its interest and token. 0, -EBADF (fd < 0, or
 * not open when first watched), -EINVAL (unknown bits), -ENOMEM. */
static int pl_watch(corio__poller *p, int fd, unsigned events, uint64_t token)
{
    size_t i;
    int err;
    if (fd < 0)
        return -EBADF;
    if (events & ~(CORIO__POLL_IN | CORIO__POLL_OUT))
        return -EINVAL;
    if ((size_t)fd < p->nslot && p->slot[fd]) {
        i = p->slot[fd] - 1;
    } else {
        /* Refuse a closed fd now, as epoll would, rather than report
         * POLLNVAL at every wait. */
        if (fcntl(fd, F_GETFD) < 0)
            return -errno;
        err = reserve(p, fd);
        if (err)
            return err;
        i = p->n++;
        p->slot[fd] = (uint32_t)(i + 1);
        p->pfd[i].revents = 0;
    }
    p->pfd[i].fd = events ? fd : ~fd;
    p->pfd[i].events = interest(events);
    p->token[i] = token;
    return 0;
}

/* Nothing to check (poll.h): poll(2) is given the number at every wait.
 * 0, or -ENOENT when fd is not watched. No syscall. */
static int pl_rearm(corio__poller *p, int fd, uint64_t token)
{
    if (fd < 0 || (size_t)fd >= p->nslot || !p->slot[fd])
        return -ENOENT;
    p->token[p->slot[fd] - 1] = token;
    return 0;
}

/* Forget fd: 0, or -ENOENT when it was not watched. No syscall. */
static int pl_unwatch(corio__poller *p, int fd)
{
    size_t i, last;
    if (fd < 0 || (size_t)fd >= p->nslot || !p->slot[fd])
        return -ENOENT;
    i = p->slot[fd] - 1;
    last = --p->n;
    p->slot[fd] = 0;
    if (i != last) {
        int moved = p->pfd[last].fd < 0 ? ~p->pfd[last].fd : p->pfd[last].fd;
        p->pfd[i] = p->pfd[last];
        p->token[i] = p->token[last];
        p->slot[moved] = (uint32_t)(i + 1);
    }
    return 0;
}

static unsigned translate(short r)
{
    unsigned e = 0;
    if (r & (POLLERR | POLLHUP | POLLNVAL))
        e = CORIO__POLL_ERR | CORIO__POLL_IN | CORIO__POLL_OUT;
    if (r & (POLLIN | POLLRDHUP | POLLPRI))
        e |= CORIO__POLL_IN;
    if (r & POLLOUT)
        e |= CORIO__POLL_OUT;
    return e;
}

/* Collect up to max of the `ready` entries poll marked, starting at the
 * scan position. Returns how many were stored. */
static int collect(corio__poller *p, int ready, corio__poll_event *ev,
                   int max)
{
    size_t k, i = p->scan < p->n ? p->scan : 0;
    int out = 0;
    for (k = 0; k < p->n && ready > 0 && out < max; k++) {
        unsigned e;
        if (p->pfd[i].revents) {
            ready--;
            e = translate(p->pfd[i].revents);
            if (e) {
                ev[out].token = p->token[i];
                ev[out].events = e;
                out++;
            }
        }
        if (++i == p->n)
            i = 0;
    }
    p->scan = i;
    return out;
}

#if defined(__SANITIZE_THREAD__)
#define CORIO__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORIO__TSAN 1
#endif
#endif
#ifndef CORIO__TSAN
#define CORIO__TSAN 0
#endif

/* Wait for events (see poll.h). -EINVAL when max < 1. */
static int pl_wait(corio__poller *p, int64_t timeout_ns, corio__poll_event *ev,
                   int max)
{
    corio__wait_clock clock;
    if (max < 1)
        return -EINVAL;
    corio__wait_clock_start(&clock, timeout_ns);
    for (;;) {
        struct timespec ts, *tsp = NULL;
        int r;
        if (clock.left >= 0) {
            ts.tv_sec = (time_t)(clock.left / 1000000000);
            ts.tv_nsec = (long)(clock.left % 1000000000);
            tsp = &ts;
        }
#if CORIO__TSAN
        r = poll(p->pfd, (nfds_t)p->n,
                 !tsp ? -1
                      : clock.left > (int64_t)INT_MAX * 1000000
                            ? INT_MAX
                            : (int)((clock.left + 999999) / 1000000));
        (void)ts;
#else
        r = ppoll(p->pfd, (nfds_t)p->n, tsp, NULL);
#endif
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r > 0) {
            int n = collect(p, r, ev, max);
            if (n > 0)
                return n;
        }
        /* Interrupted, or back empty: done only if the time is up. */
        if (corio__wait_clock_done(&clock, r))
            return 0;
    }
}

const corio__poller_ops corio__poll_poll = {
    .name = "poll",
    .edge = 0,
    .open = pl_open,
    .close = pl_close,
    .watch = pl_watch,
    .rearm = pl_rearm,
    .unwatch = pl_unwatch,
    .wait = pl_wait,
};
