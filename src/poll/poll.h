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
 *            watch() calls for the same fd change nothing (no syscall).
 *   poll.c   poll(2), level-triggered: the portable reference; the loop
 *            tells it the current interest with every change.
 * The loop keeps the readiness bits itself, so it treats both alike: it
 * clears a bit only when an operation fails with EAGAIN.
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
     * fd; later ones update interest and token. Errors: -EBADF, -EPERM (a
     * regular file: not pollable with epoll), -ENOMEM, -ENOSPC. */
    int (*watch)(corio__poller *p, int fd, unsigned events, uint64_t token);
    /* Stop watching fd, before it is closed. Never fails for a watched fd;
     * -ENOENT for one that is not watched. */
    int (*unwatch)(corio__poller *p, int fd);
    /* Wait up to timeout_ns nanoseconds (-1: forever, 0: just look) and
     * store at most max events. Returns how many, 0 on timeout, or a
     * negative errno (-EINTR is retried inside, never returned). Never
     * returns before the timeout unless there are events (so timers are
     * never early); rounds sub-millisecond timeouts up where the kernel
     * call only takes milliseconds. */
    int (*wait)(corio__poller *p, int64_t timeout_ns, corio__poll_event *ev,
                int max);
} corio__poller_ops;

extern const corio__poller_ops corio__poll_epoll;
extern const corio__poller_ops corio__poll_poll;

/* The backend named `name` ("epoll", "poll"), or when name is NULL the one
 * named by $CORIO_BACKEND, or else epoll. NULL for an unknown name. */
const corio__poller_ops *corio__poll_find(const char *name);

#endif /* CORIO_POLL_H */
