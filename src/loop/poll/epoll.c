/*
 * epoll.c: the edge-triggered epoll backend (contract in poll.h).
 *
 * Each fd is registered edge-triggered, with the loop's token as its
 * data, for the directions watch() asks for (the loop's descriptors ask
 * for both at once, and keep readiness bits of their own; its eventfd,
 * signalfd and pidfds ask for input only); the kernel then reports each
 * change of readiness once. A direction, once registered, stays: a watch
 * that asks for fewer costs nothing, one that asks for more widens the
 * registration with one EPOLL_CTL_MOD. A read-only descriptor is not
 * registered for output: an eventfd is writable almost always, and with
 * EPOLLOUT the read that drains it is itself a change the kernel reports,
 * so the next wait came back at once for nothing.
 *
 * State. A table indexed by fd records whether we registered the fd and
 * under which token, so a repeated watch() costs no syscall and unwatch()
 * knows whether there is anything to remove. It grows by doubling to the
 * largest fd seen (16 bytes per fd number, bounded by RLIMIT_NOFILE).
 * Invariant: reg[fd].on is 1 exactly when our last successful epoll_ctl on
 * fd was ADD or MOD (the kernel may have dropped it since, when the fd was
 * closed: see below). The event buffer handed to the kernel grows to the
 * largest `max` asked for and is kept; wait allocates nothing after that.
 *
 * Closed fds. epoll registers a pair (fd number, open file description),
 * and forgets it only when the description's last descriptor is closed.
 *   - Rule: the loop unwatches an fd before closing it. Then nothing can
 *     arrive for it afterwards, dup'd copies or not.
 *   - Closed without unwatch, no other descriptor: the kernel has dropped
 *     the registration; a new fd with the same number gets a new token
 *     from the loop, and watch() re-adds it (MOD fails with ENOENT, so ADD).
 *   - Closed without unwatch while a dup or a fork keeps the description:
 *     the stale registration stays in the kernel and cannot be removed
 *     through the closed number (DEL gives EBADF). Edge-triggered, it
 *     reports only changes (no busy loop), under the old token, which the
 *     loop drops by its generation. unwatch() still returns 0.
 *   - A number whose stale registration points at a description that is
 *     then dup2'd back onto it: ADD fails with EEXIST, and MOD takes over.
 *   - The loop cannot see a close(2) behind its back, so it keeps the
 *     token; before each wait on a watched fd it calls rearm(), whose MOD
 *     fails with ENOENT when the kernel dropped the entry (the number now
 *     names another file), and ADDs the new file.
 *
 * Timeouts. epoll_pwait2 (Linux 5.11) takes a timespec; when it is
 * missing (ENOSYS, or EPERM from a seccomp filter) the process notes it
 * once and uses epoll_wait with the timeout rounded up to whole
 * milliseconds. Either way a wait that comes back empty before its
 * deadline (EINTR, or a kernel that woke early) waits again for what is
 * left, measured against CLOCK_MONOTONIC, so the loop's timers are never
 * early.
 *
 * Limits: regular files and directories cannot be watched (-EPERM: epoll
 * cannot poll them); not thread-safe, a poller belongs to one loop.
 */
#include "alloc.h"
#include "poll.h"
#include "wait_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define KEV_MIN 64 /* kernel events buffer, at first */

struct reg {
    uint64_t token;
    unsigned char on;   /* registered by us (see the invariant above) */
    unsigned char dirs; /* CORIO__POLL_IN/OUT registered, while on */
};

/* Set once epoll_pwait2 proves missing; never cleared. The one piece of
 * process-wide state here: a fact about the kernel, the same for every
 * loop, so it is probed once per process, not once per loop. */
static atomic_int no_pwait2;

struct corio__poller {
    int epfd;
    struct reg *reg;        /* indexed by fd */
    size_t nreg;
    struct epoll_event *kev; /* what the kernel fills */
    int nkev;
};

static int ep_open(corio__poller **out)
{
    corio__poller *p = corio__calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->kev = corio__malloc(KEV_MIN * sizeof(*p->kev));
    if (!p->kev) {
        corio__free(p);
        return -ENOMEM;
    }
    p->nkev = KEV_MIN;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0) {
        int err = -errno;
        corio__free(p->kev);
        corio__free(p);
        return err;
    }
    *out = p;
    return 0;
}

static void ep_close(corio__poller *p)
{
    if (!p)
        return;
    close(p->epfd);
    corio__free(p->reg);
    corio__free(p->kev);
    corio__free(p);
}

/* Make reg[fd] exist. 0 or -ENOMEM (table unchanged). */
static int reg_reserve(corio__poller *p, int fd)
{
    size_t want = (size_t)fd + 1, n = p->nreg ? p->nreg : 64;
    struct reg *r;
    if (want <= p->nreg)
        return 0;
    while (n < want)
        n *= 2; /* fd <= INT_MAX: cannot overflow size_t */
    r = corio__realloc(p->reg, n * sizeof(*r));
    if (!r)
        return -ENOMEM;
    memset(r + p->nreg, 0, (n - p->nreg) * sizeof(*r));
    p->reg = r;
    p->nreg = n;
    return 0;
}

static int ctl(corio__poller *p, int op, int fd, uint64_t token,
               unsigned dirs)
{
    struct epoll_event e;
    memset(&e, 0, sizeof(e));
    e.events = EPOLLET | (dirs & CORIO__POLL_IN ? EPOLLIN | EPOLLRDHUP : 0) |
               (dirs & CORIO__POLL_OUT ? EPOLLOUT : 0);
    e.data.u64 = token;
    return epoll_ctl(p->epfd, op, fd, &e) < 0 ? -errno : 0;
}

/* Register fd under token, or move it to a new token. No syscall when fd
 * is already ours under this token. 0, or -EBADF (fd not open), -EPERM
 * (not pollable: a regular file, a directory), -ENOMEM, -ENOSPC (the
 * user's epoll watch limit), -EINVAL (unknown bits in events). On failure
 * the registration is as before, except that one the kernel turns out to
 * have dropped is forgotten. */
static int ep_watch(corio__poller *p, int fd, unsigned events, uint64_t token)
{
    struct reg *r;
    int err;
    if (fd < 0)
        return -EBADF;
    if (events & ~(CORIO__POLL_IN | CORIO__POLL_OUT))
        return -EINVAL;
    if ((size_t)fd < p->nreg && p->reg[fd].on && p->reg[fd].token == token &&
        !(events & ~p->reg[fd].dirs))
        return 0; /* nothing new asked (0, "quiet", included) */
    if (events == 0) /* registered but quiet: nothing edge-triggered */
        events = CORIO__POLL_IN | CORIO__POLL_OUT;
    /* The table grows only for a descriptor that exists. */
    if ((size_t)fd >= p->nreg && fcntl(fd, F_GETFD) < 0)
        return -errno;
    err = reg_reserve(p, fd);
    if (err)
        return err;
    r = &p->reg[fd];
    if (r->on && r->token == token)
        events |= r->dirs; /* widen, never narrow */
    if (r->on) {
        /* A new token for the same number: normally after close and reuse
         * without unwatch, when the kernel dropped the old entry. */
        err = ctl(p, EPOLL_CTL_MOD, fd, token, events);
        if (err == -ENOENT) {
            r->on = 0;
            err = ctl(p, EPOLL_CTL_ADD, fd, token, events);
        }
    } else {
        err = ctl(p, EPOLL_CTL_ADD, fd, token, events);
        if (err == -EEXIST) /* a stale entry for this very description */
            err = ctl(p, EPOLL_CTL_MOD, fd, token, events);
    }
    if (err)
        return err;
    r->on = 1;
    r->token = token;
    r->dirs = (unsigned char)events;
    return 0;
}

/* Check fd's registration with the kernel (poll.h): MOD under the same
 * token; ENOENT means the kernel dropped it (fd closed behind our back,
 * its number since reused by another file): ADD it again. 0, 1 (added
 * again), -ENOENT (not ours), or the errors of ep_watch. */
static int ep_rearm(corio__poller *p, int fd, uint64_t token)
{
    int err;
    if (fd < 0 || (size_t)fd >= p->nreg || !p->reg[fd].on)
        return -ENOENT;
    err = ctl(p, EPOLL_CTL_MOD, fd, token, p->reg[fd].dirs);
    if (err != -ENOENT) {
        if (err == 0)
            p->reg[fd].token = token;
        return err;
    }
    err = ctl(p, EPOLL_CTL_ADD, fd, token, p->reg[fd].dirs);
    if (err) {
        p->reg[fd].on = 0; /* the kernel has nothing for fd now */
        return err;
    }
    p->reg[fd].token = token;
    return 1;
}

/* Forget fd: 0 when it was watched (even if it has been closed already and
 * the kernel refuses the removal), -ENOENT when it was not. */
static int ep_unwatch(corio__poller *p, int fd)
{
    struct epoll_event e; /* kernels before 2.6.9 want one even for DEL */
    if (fd < 0 || (size_t)fd >= p->nreg || !p->reg[fd].on)
        return -ENOENT;
    p->reg[fd].on = 0;
    memset(&e, 0, sizeof(e));
    /* Errors mean the fd was closed (EBADF), or its entry already went
     * with its description (ENOENT), or the number now names another,
     * unpollable file (EPERM): nothing of ours is left to remove. */
    (void)epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, &e);
    return 0;
}

static unsigned translate(uint32_t k)
{
    unsigned e = 0;
    if (k & (EPOLLERR | EPOLLHUP))
        e = CORIO__POLL_ERR | CORIO__POLL_IN | CORIO__POLL_OUT;
    if (k & (EPOLLIN | EPOLLRDHUP | EPOLLPRI))
        e |= CORIO__POLL_IN;
    if (k & EPOLLOUT)
        e |= CORIO__POLL_OUT;
    return e;
}

/* One kernel wait: left_ns < 0 forever, else at most that long (rounded
 * up to milliseconds without epoll_pwait2). Returns the count or -errno. */
static int kernel_wait(corio__poller *p, int64_t left_ns, int max)
{
    int ms, r;
#ifdef SYS_epoll_pwait2
    if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
        struct timespec ts, *tsp = NULL;
        if (left_ns >= 0) {
            ts.tv_sec = (time_t)(left_ns / 1000000000);
            ts.tv_nsec = (long)(left_ns % 1000000000);
            tsp = &ts;
        }
        r = (int)syscall(SYS_epoll_pwait2, p->epfd, p->kev, max, tsp, NULL,
                         (size_t)(_NSIG / 8));
        if (r >= 0)
            return r;
        if (errno != ENOSYS && errno != EPERM)
            return -errno;
        /* Fall back to epoll_wait, now and from now on. */
        atomic_store_explicit(&no_pwait2, 1, memory_order_relaxed);
    }
#endif
    if (left_ns < 0)
        ms = -1;
    else if (left_ns > (int64_t)INT_MAX * 1000000)
        ms = INT_MAX; /* the caller waits again for the rest */
    else
        ms = (int)((left_ns + 999999) / 1000000);
    r = epoll_wait(p->epfd, p->kev, max, ms);
    return r >= 0 ? r : -errno;
}

/* Wait for events (see poll.h). -EINVAL when max < 1. */
static int ep_wait(corio__poller *p, int64_t timeout_ns, corio__poll_event *ev,
                   int max)
{
    corio__wait_clock clock;
    int r, i, n = 0;
    if (max < 1)
        return -EINVAL;
    if (max > p->nkev) {
        /* Grow for next time; if memory is short, report fewer now. */
        struct epoll_event *k = corio__realloc(p->kev, (size_t)max * sizeof(*k));
        if (k) {
            p->kev = k;
            p->nkev = max;
        }
    }
    if (max > p->nkev)
        max = p->nkev;
    corio__wait_clock_start(&clock, timeout_ns);
    for (;;) {
        r = kernel_wait(p, clock.left, max);
        if (r < 0 && r != -EINTR)
            return r;
        for (i = 0; i < r; i++) {
            unsigned e = translate(p->kev[i].events);
            if (!e)
                continue;
            ev[n].token = p->kev[i].data.u64;
            ev[n].events = e;
            n++;
        }
        if (n > 0)
            return n;
        /* Interrupted, or back empty: done only if the time is up. */
        if (corio__wait_clock_done(&clock, r))
            return 0;
    }
}

const corio__poller_ops corio__poll_epoll = {
    .name = "epoll",
    .edge = 1,
    .open = ep_open,
    .close = ep_close,
    .watch = ep_watch,
    .rearm = ep_rearm,
    .unwatch = ep_unwatch,
    .wait = ep_wait,
};
