/*
 * semaphore.c: asyncio.Semaphore and BoundedSemaphore (corio/sync.h).
 *
 * Invariants: value > 0 implies no waiters (release hands a permit to the
 * first waiter instead of counting it, so nobody barges); for a bounded
 * semaphore, value <= bound, and value + permits held == bound. A woken
 * waiter that cannot use its permit gives it back the same way.
 */
#include "alloc.h"
#include "sync/sync_impl.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

struct corio_sem {
    corio__waitq q;
    int value;
    int bound; /* -1: unbounded */
};

static void describe_sem(const corio__wait *w, corio__wait_desc *d)
{
    const corio_sem *s = (const corio_sem *)w->obj;
    corio__wait_descf(d, "semaphore %p (value %d", (const void *)s, s->value);
    if (s->bound >= 0)
        corio__wait_descf(d, " of %d", s->bound);
    corio__wait_descf(d, "; %zu waiting)", s->q.n);
}

const corio__wait_ops corio__waitq_sem = {"semaphore", corio__waitq_detach, 0,
                                          0, describe_sem};

static int sem_make(int value, int bound, corio_sem **out)
{
    corio_sem *s;
    if (!out || value < 0)
        return -EINVAL;
    s = corio__calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->value = value;
    s->bound = bound;
    *out = s;
    return 0;
}

int corio_sem_new(int value, corio_sem **out)
{
    return sem_make(value, -1, out);
}

int corio_sem_new_bounded(int value, corio_sem **out)
{
    return sem_make(value, value, out);
}

int corio_sem_free(corio_sem *s)
{
    if (!s)
        return 0;
    if (s->q.n)
        return -EBUSY;
    corio__free(s);
    return 0;
}

static void give(corio_sem *s)
{
    if (!corio__waitq_wake_first(&s->q, 0))
        s->value++;
}

int corio_sem_acquire(corio_sem *s)
{
    corio_task *t = corio__task_running();
    int rc, granted;

    if (!s)
        return -EINVAL;
    if (s->value > 0) {
        assert(s->q.n == 0);
        s->value--;
        return 0;
    }
    if (!t)
        return CORIO_ENOTASK;
    if (!corio__waitq_loop_ok(&s->q, t))
        return CORIO_EWRONGTHREAD;
    if (corio__task_cancel_report(t))
        return -ECANCELED;
    rc = corio__waitq_park(&s->q, t, &corio__waitq_sem, &granted);
    if (!granted)
        return rc;
    if (rc == 0 && !corio__task_cancel_report(t))
        return 0;
    give(s); /* handed a permit, but cancelled before it ran */
    return rc ? rc : -ECANCELED;
}

int corio_sem_try_acquire(corio_sem *s)
{
    if (!s)
        return -EINVAL;
    if (s->value == 0)
        return -EAGAIN;
    s->value--;
    return 0;
}

int corio_sem_release(corio_sem *s)
{
    if (!s)
        return -EINVAL;
    if ((s->bound >= 0 && s->value >= s->bound) || s->value == INT_MAX)
        return -EOVERFLOW; /* value > 0: nobody waits, nothing to hand */
    if (!corio__waitq_loop_ok(&s->q, NULL))
        return CORIO_EWRONGTHREAD;
    give(s);
    return 0;
}

int corio_sem_value(const corio_sem *s)
{
    return s ? s->value : 0;
}

int corio_sem_locked(const corio_sem *s)
{
    return s && s->value == 0;
}
