/*
 * waitq.c: the FIFO wait queue every primitive of corio/sync.h parks on
 * (see sync_impl.h for the protocol): a list of the waiting tasks' wait
 * records (wait.h) and their count.
 *
 * Invariants: q->n counts the linked records; a record is linked exactly
 * while it is PENDING here (its task parked on q; an uncancellable wait
 * ignores cancels, so it stays linked until granted or torn down).
 */
#include "sync/sync_impl.h"

#include <errno.h>

void corio__waitq_detach(corio__wait *w)
{
    corio__waitq *q = (corio__waitq *)w->obj;
    CORIO_ASSERT(q->n > 0);
    corio__list_remove(&q->l, &w->node);
    q->n--;
}

/* The kinds (corio__waitq_lock, ...) are defined beside their primitive,
 * with the describe op that knows its struct. */

static int park(corio__waitq *q, corio_task *t, const corio__wait_ops *kind,
                unsigned flags, int *granted)
{
    corio__wait *w = corio__wait_begin(t, kind, q, flags);
    int rc;
    corio__list_push_back(&q->l, &w->node);
    q->n++;
    rc = corio__wait_park(w);
    *granted = w->state == CORIO__WAIT_GRANTED;
    return rc;
}

int corio__waitq_park(corio__waitq *q, corio_task *t,
                      const corio__wait_ops *kind,
                      int *granted)
{
    return park(q, t, kind, 0, granted);
}

int corio__waitq_park_uncancellable(corio__waitq *q, corio_task *t,
                                    const corio__wait_ops *kind, int *granted)
{
    return park(q, t, kind, CORIO__WAIT_UNCANCELLABLE, granted);
}

corio_task *corio__waitq_first(const corio__waitq *q)
{
    corio__wait *w = corio__wait_first(&q->l);
    return w ? w->task : NULL;
}

corio_task *corio__waitq_wake_first(corio__waitq *q, int value)
{
    corio__wait *w = corio__wait_pop(&q->l);
    if (!w)
        return NULL;
    CORIO_ASSERT(q->n > 0);
    q->n--;
    corio__wait_wake(w, value, NULL);
    return w->task;
}

int corio__waitq_loop_ok(const corio__waitq *q, const corio_task *t)
{
    corio__wait *w = corio__wait_first(&q->l);
    if (!t)
        t = corio__task_running();
    return !w || !t || w->task->loop == t->loop;
}
