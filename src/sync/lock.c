/*
 * lock.c: asyncio.Lock (corio/sync.h), owned by a task.
 *
 * Invariants: owner == NULL implies no waiters; release hands the lock to
 * the first waiter by making it the owner before it runs (no barging). A
 * woken owner that cannot use the lock (cancelled before it ran, or its
 * loop is being freed) passes it on at once.
 *
 * Limit: the owner is a borrowed pointer; a task that ends holding the
 * lock leaves it held (as in asyncio) and nobody can release it.
 */
#include "sync_impl.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

int corio_lock_new(corio_lock **out)
{
    corio_lock *lk;
    if (!out)
        return -EINVAL;
    lk = calloc(1, sizeof *lk);
    if (!lk)
        return -ENOMEM;
    *out = lk;
    return 0;
}

int corio_lock_free(corio_lock *lk)
{
    if (!lk)
        return 0;
    if (lk->owner || lk->q.n)
        return -EBUSY;
    free(lk);
    return 0;
}

void corio__lock_pass(corio_lock *lk)
{
    lk->owner = corio__waitq_first(&lk->q);
    if (lk->owner)
        corio__waitq_wake_first(&lk->q, 0);
}

int corio_lock_acquire(corio_lock *lk)
{
    corio_task *t = corio__task_running();
    int rc, granted;

    if (!lk)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (lk->owner == t)
        return -EDEADLK;
    if (!lk->owner) {
        assert(lk->q.n == 0);
        lk->owner = t;
        return 0;
    }
    if (!corio__waitq_loop_ok(&lk->q, t) || lk->owner->loop != t->loop)
        return CORIO_EWRONGTHREAD;
    if (corio__task_cancel_report(t))
        return -ECANCELED;
    rc = corio__waitq_park(&lk->q, t, &corio__waitq_lock, &granted);
    if (!granted)
        return rc;
    assert(lk->owner == t);
    if (rc == 0 && !corio__task_cancel_report(t))
        return 0;
    corio__lock_pass(lk); /* handed over, but cancelled before it ran */
    return rc ? rc : -ECANCELED;
}

int corio__lock_take_uncancellable(corio_lock *lk, corio_task *t)
{
    int rc, granted;
    if (!lk->owner) {
        lk->owner = t;
        return 0;
    }
    rc = corio__waitq_park_uncancellable(&lk->q, t, &corio__waitq_lock_cond,
                                         &granted);
    if (!granted)
        return rc;
    assert(lk->owner == t);
    if (rc == 0)
        return 0;
    corio__lock_pass(lk); /* the loop is being freed */
    return rc;
}

int corio_lock_try_acquire(corio_lock *lk)
{
    corio_task *t = corio__task_running();
    if (!lk)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (lk->owner == t)
        return -EDEADLK;
    if (lk->owner)
        return -EBUSY;
    lk->owner = t;
    return 0;
}

int corio_lock_release(corio_lock *lk)
{
    corio_task *t = corio__task_running();
    if (!lk)
        return -EINVAL;
    if (!t || lk->owner != t)
        return -EPERM;
    if (!corio__waitq_loop_ok(&lk->q, t))
        return CORIO_EWRONGTHREAD;
    corio__lock_pass(lk);
    return 0;
}

int corio_lock_locked(const corio_lock *lk)
{
    return lk && lk->owner != NULL;
}

corio_task *corio_lock_owner(const corio_lock *lk)
{
    return lk ? lk->owner : NULL;
}
