/*
 * barrier.c: asyncio.Barrier (corio/sync.h).
 *
 * The last party to arrive wakes every waiter at once, handing each its
 * arrival index through the park's return value, and the barrier is
 * empty again: there is no draining phase to wait out, since waking
 * needs no lock to be retaken (asyncio's DRAINING and RESETTING states
 * exist because its waiters must reacquire a Condition's lock). Indices
 * are given in FIFO order among the waiters present at release, so they
 * are distinct even after some waiters left (asyncio's count-based index
 * can repeat then).
 *
 * States: filling (broken == 0) or broken; reset returns to filling.
 */
#include "alloc.h"
#include "sync/sync_impl.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

struct corio_barrier {
    corio__waitq q; /* the parties waiting; q.n < parties */
    int parties;
    int broken;
};

static void describe_barrier(const corio__wait *w, corio__wait_desc *d)
{
    const corio_barrier *b = (const corio_barrier *)w->obj;
    corio__wait_descf(d, "barrier %p (%zu of %d parties arrived)",
                      (const void *)b, b->q.n, b->parties);
}

const corio__wait_ops corio__waitq_barrier = {"barrier", corio__waitq_detach, 0,
                                              0, describe_barrier};

int corio_barrier_new(int parties, corio_barrier **out)
{
    corio_barrier *b;
    if (!out || parties < 1)
        return -EINVAL;
    b = corio__calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->parties = parties;
    *out = b;
    return 0;
}

int corio_barrier_free(corio_barrier *b)
{
    if (!b)
        return 0;
    if (b->q.n)
        return -EBUSY;
    corio__free(b);
    return 0;
}

int corio_barrier_wait(corio_barrier *b)
{
    corio_task *t = corio__task_running();
    int rc, granted, idx;

    if (!b)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (b->broken)
        return -EPIPE;
    if (!corio__waitq_loop_ok(&b->q, t))
        return CORIO_EWRONGTHREAD;
    if ((int)b->q.n + 1 == b->parties) {
        for (idx = 0; corio__waitq_wake_first(&b->q, idx); idx++)
            ;
        assert(idx == b->parties - 1);
        return idx;
    }
    if (corio__task_cancel_report(t))
        return -ECANCELED;
    rc = corio__waitq_park(&b->q, t, &corio__waitq_barrier, &granted);
    if (granted && rc >= 0 && corio__task_cancel_report(t))
        rc = -ECANCELED;
    return rc;
}

static int wake_all_broken(corio_barrier *b, int broken)
{
    if (!corio__waitq_loop_ok(&b->q, NULL))
        return CORIO_EWRONGTHREAD;
    b->broken = broken;
    while (corio__waitq_wake_first(&b->q, -EPIPE))
        ;
    return 0;
}

int corio_barrier_reset(corio_barrier *b)
{
    return b ? wake_all_broken(b, 0) : -EINVAL;
}

int corio_barrier_abort(corio_barrier *b)
{
    return b ? wake_all_broken(b, 1) : -EINVAL;
}

int corio_barrier_parties(const corio_barrier *b)
{
    return b ? b->parties : 0;
}

int corio_barrier_n_waiting(const corio_barrier *b)
{
    return b ? (int)b->q.n : 0;
}

int corio_barrier_broken(const corio_barrier *b)
{
    return b && b->broken;
}
