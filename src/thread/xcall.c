/*
 * xcall.c: calls between loops (asyncio's run_coroutine_threadsafe and
 * its concurrent future; contract in corio/thread.h).
 *
 * A corio_xcall is shared by threads, so it is locked (mu) and counted
 * (refs: the caller's handle, the target loop's side until the call is
 * done, each task awaiting it, each cancel in transit). States:
 *   PENDING  posted to the target loop (corio__loop_post), not started;
 *   RUNNING  its task runs there (task set; only that loop's thread
 *            touches it);
 *   DONE     rc and result final; cv broadcast; every waiting task has
 *            been handed to its own loop's port.
 * Completion is a watcher on the task's future (a wait record with no
 * task), so it happens even when the target loop is being freed (done
 * callbacks, which are user callbacks, would be skipped then). A start
 * that runs while the loop is closing completes with -ESHUTDOWN.
 *
 * Waiting tasks (corio_xcall_await) on other loops: each has an xwaiter
 * in the call's list; completion moves it, under mu, to its loop's port,
 * whose thread wakes the task. A cancel of such a task takes its xwaiter
 * back from whichever of the two lists holds it (mu first, then the
 * port's lock: the order completion uses).
 */
#include "alloc.h"
#include "thread/pool.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

enum { X_PENDING, X_RUNNING, X_DONE };

struct corio_xcall {
    atomic_size_t refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* broadcast at DONE */
    corio_loop *loop;        /* the target */
    corio_coro_fn fn;
    void *arg;
    int state;               /* X_* */
    int rc;
    void *result;
    unsigned char cancel;    /* corio_xcall_cancel was called */
    corio_task *task;        /* RUNNING: its task (target loop's thread) */
    corio__wait watch;       /* on the task's future */
    corio__post start;
    corio__post cancel_post;
    corio__list waiters;     /* struct xwaiter, while not DONE */
};

struct xwaiter {
    corio__port_item item;   /* in the port's list once the call is done */
    corio__port *port;       /* the waiting task's loop's (retained) */
    corio_task *task;
    corio_xcall *h;          /* retained */
    unsigned char in_call;   /* in h->waiters (under h->mu) */
};

static void x_unref(corio_xcall *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    corio__free(h);
}

/* The outcome is final: wake plain threads, hand waiting tasks to their
 * loops, drop the loop side's reference. */
static void x_complete(corio_xcall *h, int rc, void *result)
{
    corio__node *n;
    pthread_mutex_lock(&h->mu);
    h->state = X_DONE;
    h->rc = rc;
    h->result = rc == 0 ? result : NULL;
    h->task = NULL;
    while ((n = corio__list_pop(&h->waiters)) != NULL) {
        struct xwaiter *xw = CORIO__CONTAINER(n, struct xwaiter, item.node);
        xw->in_call = 0;
        pthread_mutex_lock(&xw->port->mu);
        corio__port_push_locked(xw->port, &xw->item); /* its task lives */
        pthread_mutex_unlock(&xw->port->mu);
    }
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    x_unref(h);
}

static void x_watch_detach(corio__wait *w)
{
    (void)w;
}

/* The task finished (its future's watcher; the target loop's thread). */
static void x_watch_notify(corio__wait *w)
{
    corio_xcall *h = CORIO__CONTAINER(w, corio_xcall, watch);
    corio_task *t = h->task;
    void *res = NULL;
    int rc = corio_task_result(t, &res);
    x_complete(h, rc, res);
    corio_task_release(t);
}

static const corio__wait_ops x_watch_ops = {"cross-loop call", x_watch_detach,
                                            0, x_watch_notify, NULL};

/* The post: start the task on the target loop (its thread). */
static void x_start(corio__ready *r)
{
    corio_xcall *h = CORIO__CONTAINER(r, corio_xcall, start.ready);
    corio_loop *loop = h->loop;
    corio_task *t;
    int rc, cancel;

    pthread_mutex_lock(&h->mu);
    cancel = h->cancel;
    pthread_mutex_unlock(&h->mu);
    if (loop->closing) {
        x_complete(h, -ESHUTDOWN, NULL);
        return;
    }
    if (cancel) {
        x_complete(h, -ECANCELED, NULL);
        return;
    }
    rc = corio_task_spawn_at(loop, h->fn, h->arg, NULL, &t,
                             "corio_run_coroutine_threadsafe", 0);
    if (rc) {
        x_complete(h, rc, NULL);
        return;
    }
    pthread_mutex_lock(&h->mu);
    h->task = t;
    h->state = X_RUNNING;
    cancel = h->cancel;
    pthread_mutex_unlock(&h->mu);
    corio__wait_watch(&h->watch, &x_watch_ops, h);
    corio__future_add_waiter(&t->fut, &h->watch);
    if (cancel)
        corio_task_cancel(t);
}

/* A cancel in transit (the target loop's thread). */
static void x_cancel_run(corio__ready *r)
{
    corio_xcall *h = CORIO__CONTAINER(r, corio_xcall, cancel_post.ready);
    corio_task *t = NULL;
    pthread_mutex_lock(&h->mu);
    if (h->state == X_RUNNING)
        t = h->task; /* alive: only this thread completes it */
    pthread_mutex_unlock(&h->mu);
    if (t && !h->loop->closing)
        corio_task_cancel(t);
    x_unref(h);
}

int corio_run_coroutine_threadsafe(corio_loop *loop, corio_coro_fn fn,
                                   void *arg, corio_xcall **out)
{
    corio_xcall *h;
    pthread_condattr_t ca;
    int rc;
    if (!loop || !fn)
        return -EINVAL;
    if (!(h = corio__calloc(1, sizeof *h)))
        return -ENOMEM;
    if (pthread_mutex_init(&h->mu, NULL) != 0) {
        corio__free(h);
        return -ENOMEM;
    }
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        pthread_mutex_destroy(&h->mu);
        corio__free(h);
        return -ENOMEM;
    }
    atomic_init(&h->refs, out ? 2 : 1);
    h->loop = loop;
    h->fn = fn;
    h->arg = arg;
    h->state = X_PENDING;
    corio__list_init(&h->waiters);
    h->start.ready.run = x_start;
    h->cancel_post.ready.run = x_cancel_run;
    if ((rc = corio__loop_post(loop, &h->start)) != 0) {
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->mu);
        corio__free(h);
        return rc;
    }
    if (out)
        *out = h;
    return 0;
}

/* The outcome of a done call; h->mu held. */
static int outcome_locked(corio_xcall *h, void **result)
{
    if (h->rc == 0 && result)
        *result = h->result;
    return h->rc;
}

int corio_xcall_wait(corio_xcall *h, double timeout, void **result)
{
    struct timespec until;
    int rc = 0;
    if (!h || isnan(timeout))
        return -EINVAL;
    pthread_mutex_lock(&h->mu);
    if (h->state != X_DONE && corio_loop_current() == h->loop) {
        pthread_mutex_unlock(&h->mu);
        return -EDEADLK;
    }
    if (h->state != X_DONE && timeout > 0 && timeout < 1e9) {
        int64_t t = corio__loop_now_ns() + (int64_t)(timeout * 1e9) + 1;
        until.tv_sec = (time_t)(t / 1000000000);
        until.tv_nsec = (long)(t % 1000000000);
    }
    while (h->state != X_DONE && timeout > 0 && rc != ETIMEDOUT) {
        if (timeout >= 1e9) /* INFINITY, or as good as */
            pthread_cond_wait(&h->cv, &h->mu);
        else
            rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
    }
    rc = h->state == X_DONE ? outcome_locked(h, result) : -ETIMEDOUT;
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* ---- a task on some loop awaiting the call -------------------------------------- */

static void xw_deliver(corio__port_item *it)
{
    struct xwaiter *xw = CORIO__CONTAINER(it, struct xwaiter, item);
    xw->task->loop->outside_waits--;
    corio__wait_wake(&xw->task->wait, 0, xw);
}

static void xw_detach(corio__wait *w)
{
    struct xwaiter *xw = (struct xwaiter *)w->obj;
    corio_xcall *h = xw->h;
    xw->task->loop->outside_waits--;
    pthread_mutex_lock(&h->mu);
    if (xw->in_call) {
        corio__list_remove(&h->waiters, &xw->item.node);
        xw->in_call = 0;
    } else { /* done: handed to our port, not delivered yet */
        pthread_mutex_lock(&xw->port->mu);
        corio__list_remove(&xw->port->done, &xw->item.node);
        pthread_mutex_unlock(&xw->port->mu);
    }
    pthread_mutex_unlock(&h->mu);
}

static void xw_describe(const corio__wait *w, corio__wait_desc *d)
{
    const struct xwaiter *xw = w->obj;
    corio__wait_descf(d, "cross-loop call %p on loop %p", (void *)xw->h,
                      (void *)xw->h->loop);
}

static const corio__wait_ops xw_ops = {"cross-loop call", xw_detach, 0, 0,
                                       xw_describe};

int corio_xcall_await(corio_xcall *h, void **result)
{
    corio_task *t = corio__task_running();
    struct xwaiter *xw;
    corio__port *port;
    corio__wait *w;
    int rc;
    if (!h)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    pthread_mutex_lock(&h->mu);
    if (h->state == X_DONE) {
        rc = outcome_locked(h, result);
        pthread_mutex_unlock(&h->mu);
        return rc;
    }
    pthread_mutex_unlock(&h->mu);
    if (corio__task_cancel_report(t))
        return -ECANCELED;
    if (!(port = corio__port_of(t->loop)))
        return t->loop->closing ? -ESHUTDOWN : -ENOMEM;
    if (!(xw = corio__calloc(1, sizeof *xw)))
        return -ENOMEM;
    xw->item.deliver = xw_deliver;
    xw->port = port;
    xw->task = t;
    xw->h = h;
    pthread_mutex_lock(&h->mu);
    if (h->state == X_DONE) { /* finished meanwhile */
        rc = outcome_locked(h, result);
        pthread_mutex_unlock(&h->mu);
        corio__free(xw);
        return rc;
    }
    corio__port_retain(port);
    atomic_fetch_add(&h->refs, 1);
    xw->in_call = 1;
    corio__list_push_back(&h->waiters, &xw->item.node);
    pthread_mutex_unlock(&h->mu);
    t->loop->outside_waits++;
    w = corio__wait_begin(t, &xw_ops, xw, 0);
    rc = corio__wait_park(w);
    if (w->state == CORIO__WAIT_GRANTED) {
        pthread_mutex_lock(&h->mu);
        rc = outcome_locked(h, result);
        pthread_mutex_unlock(&h->mu);
    } else if (rc == 0) {
        rc = -ECANCELED;
    }
    corio__port_release(port);
    x_unref(h);
    corio__free(xw);
    return rc;
}

int corio_xcall_cancel(corio_xcall *h)
{
    int post = 0;
    if (!h)
        return -EINVAL;
    pthread_mutex_lock(&h->mu);
    if (h->state == X_DONE) {
        pthread_mutex_unlock(&h->mu);
        return -EALREADY;
    }
    if (!h->cancel && h->state == X_RUNNING)
        post = 1;
    h->cancel = 1;
    if (post) {
        /* Not done, so the loop lives: its thread needs mu to finish. */
        atomic_fetch_add(&h->refs, 1);
        if (corio__loop_post(h->loop, &h->cancel_post) != 0)
            atomic_fetch_sub(&h->refs, 1); /* being freed: it cancels */
    }
    pthread_mutex_unlock(&h->mu);
    return 0;
}

int corio_xcall_done(corio_xcall *h)
{
    int done;
    if (!h)
        return 0;
    pthread_mutex_lock(&h->mu);
    done = h->state == X_DONE;
    pthread_mutex_unlock(&h->mu);
    return done;
}

void corio_xcall_release(corio_xcall *h)
{
    if (h)
        x_unref(h);
}
