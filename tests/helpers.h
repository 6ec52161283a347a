/*
 * helpers.h: small helpers several test files share (include it where
 * needed; test.h does not).
 *
 *   now_s()       CLOCK_MONOTONIC in seconds. For lower bounds only ("the
 *                 timer did not fire early") and for printing: no test may
 *                 assert an upper bound on elapsed time (docs/design.md,
 *                 "The test runner and the no-timing rule").
 *   settle()      from a task: yield (sleep(0)) a few times, so tasks that
 *                 are ready run and park where they wait next. It orders
 *                 tasks of one loop only; it never waits for a thread,
 *                 a process or the kernel (use a pipe, an event or a count).
 *   settle_n(n)   the same, n times.
 *   wait_until(cond_fn, arg)
 *                 from a task: yield until cond_fn(arg) is true. Takes as
 *                 many loop iterations as it needs (the runner's timeout
 *                 is the only bound), so a slow machine is never a failure.
 */
#ifndef CORIO_TEST_HELPERS_H
#define CORIO_TEST_HELPERS_H

#include <corio.h>
#include <time.h>

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void settle_n(int n)
{
    int i;
    for (i = 0; i < n; i++)
        corio_sleep(0);
}

static inline void settle(void)
{
    settle_n(8);
}

/* Yields until cond(arg) holds; returns 0, or the error of the yield
 * (-ECANCELED when the task is cancelled meanwhile). */
static inline int wait_until(int (*cond)(void *), void *arg)
{
    while (!cond(arg)) {
        int rc = corio_sleep(0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

#endif /* CORIO_TEST_HELPERS_H */
