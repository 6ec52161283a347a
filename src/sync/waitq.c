/*
 * waitq.c: the FIFO wait queue every primitive of corio/sync.h parks on
 * (see sync_impl.h for the protocol).
 *
 * Invariants: q->n counts the linked nodes; a linked node's done is NULL;
 * a node is linked exactly while its task is parked here (for an
 * uncancellable wait: also between a cancel waking it and its next park).
 */
#include "sync_impl.h"

#include <assert.h>
#include <errno.h>

/* The marker a woken waiter carries in t->waiter.done; never called. */
static void granted_mark(corio__waiter *w, corio_future *f)
{
    (void)w;
    (void)f;
    assert(0);
}

static corio_task *task_of(corio__waiter *w)
{
    return (corio_task *)((char *)w - offsetof(corio_task, waiter));
}

static void link_tail(corio__waitq *q, corio_task *t)
{
    corio__waiter *w = &t->waiter;
    w->done = NULL;
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    q->n++;
}

static void unlink_node(corio__waitq *q, corio__waiter *w)
{
    assert(q->n > 0);
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
    q->n--;
}

static void detach(corio_task *t)
{
    unlink_node((corio__waitq *)t->wait_obj, &t->waiter);
}

static void detach_none(corio_task *t)
{
    (void)t; /* stays linked: the wait goes on */
}

int corio__waitq_park(corio__waitq *q, corio_task *t, const char *what,
                      int *granted)
{
    int rc;
    link_tail(q, t);
    rc = corio__task_park(t, detach, what, q);
    *granted = t->waiter.done == granted_mark;
    return rc;
}

int corio__waitq_park_uncancellable(corio__waitq *q, corio_task *t,
                                    const char *what, int *granted)
{
    int rc;
    link_tail(q, t);
    for (;;) {
        rc = corio__task_park(t, detach_none, what, q);
        if (t->waiter.done == granted_mark) {
            *granted = 1;
            return rc;
        }
        if (t->loop->closing) { /* nothing will wake it: give up */
            unlink_node(q, &t->waiter);
            *granted = 0;
            return rc ? rc : -ECANCELED;
        }
        /* Woken by a cancel: still linked, in its place. Park again. */
    }
}

corio_task *corio__waitq_first(const corio__waitq *q)
{
    return q->head ? task_of(q->head) : NULL;
}

corio_task *corio__waitq_wake_first(corio__waitq *q, int value)
{
    corio__waiter *w = q->head;
    corio_task *t;
    if (!w)
        return NULL;
    t = task_of(w);
    unlink_node(q, w);
    w->done = granted_mark;
    corio__task_wake(t, value);
    return t;
}

int corio__waitq_loop_ok(const corio__waitq *q, const corio_task *t)
{
    if (!t)
        t = corio__task_running();
    return !q->head || !t || task_of(q->head)->loop == t->loop;
}
