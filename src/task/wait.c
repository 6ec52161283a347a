/*
 * wait.c: parking a task on its wait record, waking it, cancelling it
 * (the protocol is in wait.h; the task side of it in task_impl.h).
 *
 * The wake path is short on purpose (the direct hand-off between tasks
 * builds on it): check the record is PENDING, write the outcome, queue
 * the task. A task is queued only here (and by spawn, yields and the raw
 * await in task.c), and a record leaves PENDING only here, so a parked
 * task cannot be resumed by anything but its own wake or cancel.
 *
 * Cancellation: corio__task_deliver_cancel ends a PENDING record with
 * -ECANCELED after its kind's detach, unless the wait is uncancellable or
 * its kind forwards the cancel (a task awaiting a future cancels that
 * future, and keeps waiting for it to finish).
 */
#include "task/task_impl.h"

#include <errno.h>

const char corio__parked_token = 0;

void corio__wait_abort(corio__wait *w)
{
    w->ops->detach(w); /* may leave a payload for the waiter */
    w->state = CORIO__WAIT_CANCELLED;
    w->value = -ECANCELED;
}

int corio__wait_park(corio__wait *w)
{
    int rc = corio_await((void *)&corio__parked_token, NULL);
    if (rc == 0) {
        /* Resumed: only a wake or a cancel queues a parked task. */
        if (NEVER(w->state == CORIO__WAIT_PENDING))
            corio__wait_abort(w);
        return w->value;
    }
    /* Thrown into or closed while parked (the loop is being freed): the
     * teardown ended the record already, or a wake came first. */
    if (w->state == CORIO__WAIT_PENDING)
        corio__wait_abort(w);
    return rc == CORIO_EEXIT ? -ECANCELED : rc;
}

void corio__task_deliver_cancel(corio_task *t)
{
    corio__wait *w = &t->wait;
    /* Only a question here: a cancel passed on ends the wait however the
     * awaited future ends, and that decides what the task reports. */
    if (w->state != CORIO__WAIT_PENDING ||
        (w->flags & CORIO__WAIT_UNCANCELLABLE) ||
        !corio__task_cancel_pending(t))
        return;
    if (w->ops->forward && w->ops->forward(w))
        return; /* passed on to what it awaits, which will wake it */
    t->cancel_seen = 1; /* the wait reports it: -ECANCELED */
    corio__wait_abort(w);
    corio__task_ready(t);
    CORIO__TASK_CHECK(t);
}
