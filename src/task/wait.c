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
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char corio__parked_token = 0;

void corio__wait_abort(corio__wait *w)
{
    w->ops->detach(w); /* may leave a payload for the waiter */
    w->state = CORIO__WAIT_CANCELLED;
    w->value = -ECANCELED;
}

/* corio__wait_park is in task.c, with the direct hand-off it inlines;
 * these are its rare ends (task_impl.h's CORIO__WAIT_PARKED). */
int corio__wait_park_failed(corio__wait *w, int rc)
{
    /* Thrown into or closed while parked (the loop is being freed): the
     * teardown ended the record already, or a wake came first. */
    if (w->state == CORIO__WAIT_PENDING)
        corio__wait_abort(w);
    return rc == CORIO_EEXIT ? -ECANCELED : rc;
}

int corio__wait_park_stray(corio__wait *w)
{
    /* Resumed while PENDING: only a wake or a cancel queues a parked
     * task, so this is a bug (NEVER reported it in debug builds). */
    corio__wait_abort(w);
    return w->value;
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

/* ---- debug mode ---------------------------------------------------------------- */

/* The loop's run hook in debug mode (loop_impl.h): run each node, and
 * stamp a task that parked in its step with the time, for the dump's
 * "waiting for". */
void corio__task_debug_run(corio_loop *loop, size_t count)
{
    for (; count > 0; count--) {
        corio__ready *r = corio__ready_pop(loop);
        corio_task *t;
        if (!r)
            break;
        if (!(t = corio__task_of_step(r))) {
            r->run(r);
            continue;
        }
        t->fut.refs++; /* it may finish and go in its step */
        r->run(r);
        if (corio__task_parked(t))
            t->wait_since = corio__clock_ns(); /* real time */
        corio__task_unref(t);
    }
}

int corio__debug_env(void)
{
    /* Loops on several threads may ask at once: every one computes the
     * same answer, so relaxed order suffices (but the race must not be
     * a data race). */
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        const char *e = getenv("CORIO_DEBUG");
        v = e && *e && strcmp(e, "0") != 0;
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

/* ---- describing (reports and dumps; never on a hot path) ------------------------- */

void corio__wait_descf(corio__wait_desc *d, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (d->len >= sizeof d->text - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(d->text + d->len, sizeof d->text - d->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        d->len += (size_t)n;
    if (d->len >= sizeof d->text)
        d->len = sizeof d->text - 1;
}

void corio__wait_desc_task(corio__wait_desc *d, const corio_task *t)
{
    corio__wait_descf(d, "task '%s' (#%llu)", t->name,
                      (unsigned long long)t->id);
}

void corio__wait_edge(corio__wait_desc *d, corio_task *t, const char *how)
{
    if (!t)
        return;
    if (d->nedges < CORIO__WAIT_DESC_EDGES) {
        d->edge[d->nedges] = t;
        d->edge_how[d->nedges] = how;
    }
    d->nedges++;
}

void corio__wait_describe(const corio__wait *w, corio__wait_desc *d)
{
    memset(d, 0, sizeof *d);
    d->deadline = -1;
    if (!w->ops) {
        corio__wait_descf(d, "nothing");
        return;
    }
    if (w->ops->describe)
        w->ops->describe(w, d);
    else
        corio__wait_descf(d, "%s %p", w->ops->what, w->obj);
}
