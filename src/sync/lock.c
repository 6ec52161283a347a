/*
 * lock.c: asyncio.Lock (corio/sync.h), owned by a task.
 *
 * Invariants: owner == NULL implies no waiters; release hands the lock to
 * the first waiter by making it the owner before it runs (no barging). A
 * woken owner that cannot use the lock (cancelled before it ran, or its
 * loop is being freed) passes it on at once.
 *
 * The lock holds a reference on its owner task (set_owner), so the owner
 * cannot be freed or its object recycled for a new task while it holds the
 * lock: a new task never inherits a lock a finished one held, and
 * corio_lock_owner's answer is always a live object. A task that ends
 * holding the lock leaves it held (as in asyncio: nobody can release it);
 * corio_lock_free of such a lock drops the reference and frees it.
 */
#include "alloc.h"
#include "sync/sync_impl.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

int corio_lock_new(corio_lock **out)
{
    corio_lock *lk;
    if (!out)
        return -EINVAL;
    lk = corio__calloc(1, sizeof *lk);
    if (!lk)
        return -ENOMEM;
    *out = lk;
    return 0;
}

/* Make t (NULL: nobody) the owner, moving the lock's task reference. */
static void set_owner(corio_lock *lk, corio_task *t)
{
    corio_task *old = lk->owner;
    if (t)
        corio_task_retain(t);
    lk->owner = t;
    if (old)
        corio__task_unref(old);
}

int corio_lock_free(corio_lock *lk)
{
    if (!lk)
        return 0;
    if (lk->q.n || (lk->owner && !corio_task_done(lk->owner)))
        return -EBUSY;
    set_owner(lk, NULL); /* an owner that ended holding it */
    corio__free(lk);
    return 0;
}

/* ---- reports ------------------------------------------------------------------ */

void corio__lock_describe(const corio_lock *lk, corio__wait_desc *d)
{
    corio__wait_descf(d, "lock %p", (const void *)lk);
    if (lk->owner) {
        corio__wait_descf(d, " held by ");
        corio__wait_desc_task(d, lk->owner);
        if (corio_task_done(lk->owner))
            corio__wait_descf(d, ", which ended holding it");
        corio__wait_edge(d, lk->owner, "held by");
    }
    if (lk->q.n > 1)
        corio__wait_descf(d, ", %zu waiting", lk->q.n);
}

static void describe_lock(const corio__wait *w, corio__wait_desc *d)
{
    corio__lock_describe((const corio_lock *)w->obj, d);
}

const corio__wait_ops corio__waitq_lock = {"lock", corio__waitq_detach, 0, 0,
                                           describe_lock};

static void describe_lock_cond(const corio__wait *w, corio__wait_desc *d)
{
    corio__wait_descf(d, "condition's ");
    corio__lock_describe((const corio_lock *)w->obj, d);
    corio__wait_descf(d, " (re-acquiring after a wait)");
}

const corio__wait_ops corio__waitq_lock_cond = {
    "lock (condition)", corio__waitq_detach, 0, 0, describe_lock_cond};

void corio__lock_pass(corio_lock *lk)
{
    corio_task *next = corio__waitq_first(&lk->q);
    set_owner(lk, next);
    if (next)
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
        set_owner(lk, t);
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
        set_owner(lk, t);
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
        return -EAGAIN; /* would have to wait: every _try_ call's code */
    set_owner(lk, t);
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
