/*
 * poll.h: the contract between the loop and its I/O readiness backends.
 *
 * A backend watches file descriptors and reports readiness; it knows
 * nothing of tasks. Each fd is watched with a 64-bit token chosen by the
 * loop (it packs the fd and a generation, so events of a closed fd are
 * recognised and dropped after the number is reused). Backends, one file
 * each:
 *   epoll.c  edge-triggered epoll: an fd is registered once, for in and out
 *            together, and each change of readiness is reported once; later
 *            watch() calls for the same fd and token change nothing (no
 *            syscall).
 *   poll.c   poll(2), level-triggered: the portable reference; the loop
 *            tells it the current interest with every change.
 * The loop keeps the readiness bits itself, so it treats both alike: it
 * clears a bit only when an operation fails with EAGAIN.
 *
 * The rule for closing: unwatch an fd before closing it. epoll registers
 * the open file description, not the number; if a dup or a forked child
 * keeps the description alive, a closed fd that was not unwatched goes on
 * reporting under its old token, and nothing can remove it through the
 * closed number (reliability.md, case 18). Against the rule, the backends
 * still never spin: epoll reports such stale events once per change of
 * readiness; poll reports a closed fd as ERR (POLLNVAL) at each wait until
 * it is unwatched. Either way the old token tells the loop to drop them.
 *
 * Not thread-safe: a poller belongs to one loop.
 */
#ifndef CORIO_POLL_H
#define CORIO_POLL_H

#include <stdint.h>

#define CORIO__POLL_IN 0x1u   /* readable (or peer hung up: a read returns 0) */
#define CORIO__POLL_OUT 0x2u  /* writable */
#define CORIO__POLL_ERR 0x4u  /* error or hang-up: wake readers and writers */

typedef struct corio__poll_event {
    uint64_t token;
    unsigned events; /* CORIO__POLL_* */
} corio__poll_event;

typedef struct corio__poller corio__poller; /* each backend defines it */

typedef struct corio__poller_ops {
    const char *name; /* "epoll", "poll" */
    int edge;         /* 1: edge-triggered (see above) */
    /* Make a poller. 0, -ENOMEM, -EMFILE/-ENFILE, or the backend's errno. */
    int (*open)(corio__poller **out);
    /* Release everything; watched fds are not closed. */
    void (*close)(corio__poller *p);
    /* Watch fd for `events` (IN/OUT; 0 keeps it registered but quiet on a
     * level-triggered backend) with `token`. The first call registers the
     * fd; later ones update interest and token (epoll registers the
     * directions asked for, widens them when asked for more and never
     * narrows them, and makes no syscall while the token is unchanged and
     * nothing new is asked, so the loop must give a new token when an fd
     * number comes back for a new file).
     * Errors: -EBADF (fd negative or not open), -EPERM (a regular file
     * or directory: epoll cannot poll it; poll accepts it, always ready),
     * -EINVAL (bits other than IN/OUT), -ENOMEM, -ENOSPC (epoll's
     * per-user watch limit). */
    int (*watch)(corio__poller *p, int fd, unsigned events, uint64_t token);
    /* Check that fd, watched under `token`, is still registered with the
     * kernel, and register it again if not: a descriptor closed with
     * close(2) behind the loop's back and its number reused leaves a
     * registration the kernel dropped (epoll), so the new file would
     * never be reported. Returns 0 (it was registered), 1 (it had been
     * dropped: registered again now), -ENOENT (fd not watched), or
     * watch()'s errors. epoll: one syscall (EPOLL_CTL_MOD, which also
     * re-arms the edge); poll: none (poll(2) takes the number afresh at
     * every wait, so a reused number is watched as it is). */
    int (*rearm)(corio__poller *p, int fd, uint64_t token);
    /* Stop watching fd, before it is closed (see the rule above); pending
     * events of fd are not reported after this. Never fails for a watched
     * fd, even one already closed; -ENOENT for one that is not watched. */
    int (*unwatch)(corio__poller *p, int fd);
    /* Wait up to timeout_ns nanoseconds (negative: forever, 0: just look)
     * and store at most max events. Returns how many, 0 on timeout,
     * -EINVAL when max < 1, or another negative errno (-EINTR is retried
     * inside with the time left, never returned). Never returns before
     * the timeout unless there are events (so timers are never early), by
     * CLOCK_MONOTONIC; rounds sub-millisecond timeouts up where the kernel
     * call only takes milliseconds. Allocates nothing once the largest max
     * has been seen. When more fds are ready than max, the rest come in
     * later waits. */
    int (*wait)(corio__poller *p, int64_t timeout_ns, corio__poll_event *ev,
                int max);
} corio__poller_ops;

extern const corio__poller_ops corio__poll_epoll;
extern const corio__poller_ops corio__poll_poll;

/* The backend named `name` ("epoll", "poll"), or when name is NULL the one
 * named by $CORIO_BACKEND, or else epoll. NULL for an unknown name. */
const corio__poller_ops *corio__poll_find(const char *name);

#endif /* CORIO_POLL_H */
