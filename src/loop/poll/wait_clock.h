/*
 * wait_clock.h: the time bookkeeping of a backend's wait, shared by the
 * backends. A wait of timeout_ns (negative: forever) may come back early
 * and empty (EINTR, or a kernel that woke early); it then waits again for
 * what is left, measured on CLOCK_MONOTONIC, so the loop's timers are
 * never early.
 */
#ifndef CORIO_POLL_WAIT_CLOCK_H
#define CORIO_POLL_WAIT_CLOCK_H

#include <stdint.h>
#include <time.h>

typedef struct corio__wait_clock {
    int64_t deadline; /* CLOCK_MONOTONIC ns, when left > 0 */
    int64_t left;     /* ns still to wait; -1: forever; 0: just look */
} corio__wait_clock;

static inline int64_t corio__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void corio__wait_clock_start(corio__wait_clock *c,
                                           int64_t timeout_ns)
{
    c->left = timeout_ns < 0 ? -1 : timeout_ns;
    c->deadline = 0;
    if (c->left > 0) {
        int64_t now = corio__mono_ns();
        c->deadline = c->left > INT64_MAX - now ? INT64_MAX : now + c->left;
    }
}

/* After a kernel wait that gave no event (r: its result, negative for
 * EINTR): 1 if the wait is over, else 0 with c->left set to what is left. */
static inline int corio__wait_clock_done(corio__wait_clock *c, int r)
{
    int64_t now;
    if (c->left == 0)
        return r >= 0;
    if (c->left < 0)
        return 0;
    now = corio__mono_ns();
    if (now >= c->deadline)
        return 1;
    c->left = c->deadline - now;
    return 0;
}

#endif /* CORIO_POLL_WAIT_CLOCK_H */
