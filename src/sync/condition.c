/*
 * condition.c: asyncio.Condition (corio/sync.h) over a corio_lock.
 *
 * wait: release the lock, park on the condition's queue, then take the
 * lock back with an uncancellable wait that keeps its place in the lock's
 * queue (asyncio loops on acquire() and re-queues after each cancel;
 * corio's level-triggered cancel would make that loop spin). A waiter
 * that was notified but returns -ECANCELED (cancelled before it ran, or
 * while it retook the lock) passes the notification to the next waiter,
 * so notify(n) never wakes fewer than n waiters that return 0 while
 * enough wait (Python 3.13 does this; 3.11 loses the notification).
 */
#include "alloc.h"
#include "sync/sync_impl.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

struct corio_cond {
    corio__waitq q;
    corio_lock *lock; /* &own, or the caller's */
    corio_lock own;
};

static void describe_cond(const corio__wait *w, corio__wait_desc *d)
{
    const corio_cond *c = (const corio_cond *)w->obj;
    corio__wait_descf(d, "condition %p (%zu waiting; a notify wakes it)",
                      (const void *)c, c->q.n);
}

const corio__wait_ops corio__waitq_cond = {"condition", corio__waitq_detach, 0,
                                           0, describe_cond};

int corio_cond_new(corio_lock *lock, corio_cond **out)
{
    corio_cond *c;
    if (!out)
        return -EINVAL;
    c = corio__calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->lock = lock ? lock : &c->own;
    *out = c;
    return 0;
}

int corio_cond_free(corio_cond *c)
{
    if (!c)
        return 0;
    if (c->q.n || c->own.owner || c->own.q.n)
        return -EBUSY;
    corio__free(c);
    return 0;
}

corio_lock *corio_cond_lock(corio_cond *c)
{
    return c ? c->lock : NULL;
}

static int wake_n(corio_cond *c, int n)
{
    int woken = 0;
    while (woken < n && corio__waitq_wake_first(&c->q, 0))
        woken++;
    return woken;
}

int corio_cond_wait(corio_cond *c)
{
    corio_task *t = corio__task_running();
    int rc, rc2, granted;

    if (!c)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (c->lock->owner != t)
        return -EPERM;
    if (!corio__waitq_loop_ok(&c->q, t))
        return CORIO_EWRONGTHREAD;
    if (corio__task_cancel_report(t))
        return -ECANCELED; /* the lock was never let go */
    corio__lock_pass(c->lock);
    rc = corio__waitq_park(&c->q, t, &corio__waitq_cond, &granted);
    rc2 = corio__lock_take_uncancellable(c->lock, t);
    if (rc2 == 0 && rc == 0 && corio__task_cancel_report(t))
        rc = -ECANCELED; /* cancelled after the notify, or while retaking */
    if (rc2)
        rc = rc2; /* the loop is being freed: lock not held */
    if (granted && rc != 0)
        wake_n(c, 1); /* notified, but cannot use it: pass it on */
    return rc;
}

int corio_cond_wait_for(corio_cond *c, int (*pred)(void *arg), void *arg)
{
    int rc;
    if (!c || !pred)
        return -EINVAL;
    while (!pred(arg))
        if ((rc = corio_cond_wait(c)) != 0)
            return rc;
    return 0;
}

int corio_cond_notify(corio_cond *c, int n)
{
    corio_task *t = corio__task_running();
    if (!c)
        return -EINVAL;
    if (!t || c->lock->owner != t)
        return -EPERM;
    if (!corio__waitq_loop_ok(&c->q, t))
        return CORIO_EWRONGTHREAD;
    return n > 0 ? wake_n(c, n) : 0;
}

int corio_cond_notify_all(corio_cond *c)
{
    return corio_cond_notify(c, INT_MAX);
}
