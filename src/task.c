/*
 * task.c: tasks: a coroutine driven by the loop, and its future.
 *
 * Stepping. The loop resumes a task's coroutine from the ready queue. The
 * coroutine comes back in one of three ways:
 *   - CORIO_AWAITING with corio__parked: it parked itself (loop_impl.h) and
 *     something will wake it;
 *   - CORIO_AWAITING with a corio_future: it used the raw await protocol on
 *     a future; the task waits for that future like corio_future_await;
 *   - CORIO_YIELDED: a bare yield, which is asyncio's sleep(0): run again
 *     in the next iteration;
 *   - finished or failed: the task's future is completed.
 *
 * Cancellation (level-triggered, see task.h) needs no cooperation from the
 * waited-on object: corio_task_cancel calls the parked task's detach
 * function and wakes it with -ECANCELED; later parks see
 * corio__task_cancel_report and fail at once.
 *
 * Task objects are recycled per loop, so in steady state a spawn allocates
 * nothing (its stack comes from the stack pool).
 */
#include "loop_impl.h"
#include "ctxvar_impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TASK_FREE_MAX 65536 /* recycled task objects a loop keeps */

/* What a parked task hands the loop (its address is the token). */
static const char parked_token;
#define PARKED ((void *)&parked_token)

static corio_task *task_of_ready(corio__ready *r)
{
    return (corio_task *)((char *)r - offsetof(corio_task, ready));
}

/* ---- references and freeing ------------------------------------------------------- */

static void task_free(corio_task *t)
{
    corio_loop *loop = t->loop;
    if (t->fut.state == CORIO__FUT_ERROR && !t->fut.retrieved)
        corio__warn("task '%s' (spawned at %s:%d) failed with %s (%s)%s%s "
                    "%s%s%sand nobody retrieved the error",
                    t->name, t->file, t->line, corio_errname(t->fut.err),
                    corio_strerror(t->fut.err), t->message ? ": " : "",
                    t->message ? t->message : "",
                    t->cancel_msg ? "after being cancelled (\"" : "",
                    t->cancel_msg ? t->cancel_msg : "",
                    t->cancel_msg ? "\") " : "");
    corio__coro_fini(&t->coro);
    free(t->message);
    t->message = NULL;
    free(t->cancel_msg);
    t->cancel_msg = NULL;
    corio__ctx_map_release(t->ctxvars);
    t->ctxvars = NULL;
    t->fut.magic = 0;
    if (!loop->closing && loop->task_free_n < TASK_FREE_MAX) {
        t->fut.next_free = (corio_future *)loop->task_free;
        loop->task_free = t;
        loop->task_free_n++;
    } else {
        free(t);
    }
    corio__loop_unref(loop);
}

void corio__task_unref(corio_task *t)
{
    if (--t->fut.refs == 0)
        task_free(t);
}

void corio_task_retain(corio_task *t)
{
    if (t)
        t->fut.refs++;
}

void corio_task_release(corio_task *t)
{
    if (t)
        corio__task_unref(t);
}

/* ---- finishing ---------------------------------------------------------------- */

static void task_finish(corio_task *t, int rc, void *result)
{
    corio_loop *loop = t->loop;
    unsigned char state;
    /* A cancel request no suspension ever reported, standing when the body
     * returns normally, ends the task cancelled (asyncio's _must_cancel:
     * a task that cancels itself and returns without suspending). */
    if (rc == 0 && t->cancel_requests > 0 && !t->cancel_seen)
        rc = -ECANCELED;
    state = rc == 0              ? CORIO__FUT_RESULT
                          : rc == -ECANCELED ? CORIO__FUT_CANCELLED
                                             : CORIO__FUT_ERROR;
    if (t->all_prev)
        t->all_prev->all_next = t->all_next;
    else
        loop->all = t->all_next;
    if (t->all_next)
        t->all_next->all_prev = t->all_prev;
    t->all_next = t->all_prev = NULL;
    loop->ntasks--;
    if (t->scope)
        corio__scopes_abandon(t);
    corio__ctx_leave_whole(t); /* what it set stays in its corio_context */
    /* Its stack will never run again: give it back now, so the next spawn
     * reuses a warm one, rather than when the last handle goes. */
    corio__coro_release_stack(&t->coro);
    corio__future_complete(&t->fut, state, rc, rc == 0 ? result : NULL);
    corio__task_unref(t); /* the loop's reference */
}

/* ---- stepping ----------------------------------------------------------------- */

static void task_step(corio__ready *r)
{
    corio_task *t = task_of_ready(r);
    corio__thread *th = corio__thread_self();
    void *prev = th->task;
    void *out = NULL;
    int rc;

    t->queued = 0;
    if (t->loop->closing)
        return;
    t->cancel_msg_fixed = 0; /* it sees its cancel (and message) now */
    th->task = t;
    if (t->coro.state == CORIO_CORO_CREATED && t->cancel_requests > 0) {
        rc = corio_coro_throw(&t->coro, -ECANCELED, &out); /* never runs */
    } else if (t->resume_how != CORIO__RESUME_NORMAL) {
        int how = t->resume_how;
        t->resume_how = CORIO__RESUME_NORMAL;
        if (how == CORIO__RESUME_BADYIELD)
            rc = corio_coro_throw(&t->coro, -EINVAL, &out);
        else if (how == CORIO__RESUME_YIELD)
            /* As asyncio's __step with _must_cancel: a cancel standing
             * when a bare yield resumes is thrown in there. */
            rc = corio__task_cancel_report(t)
                     ? corio_coro_throw(&t->coro, -ECANCELED, &out)
                     : corio_coro_resume(&t->coro, NULL, &out);
        else if (t->wake < 0)
            rc = corio_coro_throw(&t->coro, t->wake, &out);
        else
            rc = corio_coro_resume(&t->coro, NULL, &out);
    } else {
        rc = corio_coro_resume(&t->coro, NULL, &out);
    }
    th->task = prev;

    if (rc == CORIO_AWAITING) {
        corio_future *f = out;
        if (out == PARKED)
            return;
        if (f && f->magic == CORIO__FUTURE_MAGIC && f != &t->fut) {
            /* The raw protocol: wait for the future, then resume. */
            t->resume_how = CORIO__RESUME_RAW;
            t->wake = 0;
            if (f->state != CORIO__FUT_PENDING ||
                corio__task_cancel_report(t)) {
                /* Done already, or cancelled: no wait (level-triggered:
                 * a cancelled task's await fails at once). */
                if (f->state == CORIO__FUT_PENDING)
                    t->wake = -ECANCELED;
                t->queued = 1;
                corio__ready_push(t->loop, &t->ready);
                return;
            }
            corio_future_retain(f);
            t->waiter.done = corio__waiter_wake_task;
            corio__future_add_waiter(f, &t->waiter);
            t->detach = corio__detach_from_future;
            t->forward = corio__forward_cancel_to_future;
            t->wait_what = "future (raw await)";
            t->wait_obj = f;
            return;
        }
        /* asyncio's "Task got bad yield": the await fails with -EINVAL. */
        t->resume_how = CORIO__RESUME_BADYIELD;
        t->queued = 1;
        corio__ready_push(t->loop, &t->ready);
        return;
    }
    if (rc == CORIO_YIELDED) { /* a bare yield: sleep(0) */
        t->resume_how = CORIO__RESUME_YIELD;
        t->queued = 1;
        corio__ready_push(t->loop, &t->ready);
        return;
    }
    task_finish(t, rc, out);
}

/* ---- parking ------------------------------------------------------------------- */

void corio__task_deliver_cancel(corio_task *t)
{
    void (*d)(corio_task *);
    /* Only a question here: if the cancel is passed on, the task's wait
     * ends however the awaited future ends, and that decides what it
     * reports; the wake below reports it (corio__task_park). */
    if (!t->detach || !corio__task_cancel_pending(t))
        return;
    if (t->forward && t->forward(t))
        return; /* passed on to what it awaits, which will wake it */
    t->cancel_seen = 1;
    d = t->detach;
    t->detach = NULL;
    d(t);
    corio__task_wake(t, -ECANCELED);
}

int corio__task_park(corio_task *t, void (*detach)(corio_task *),
                     const char *what, const void *obj)
{
    return corio__task_park_forward(t, detach, NULL, what, obj);
}

int corio__task_park_forward(corio_task *t, void (*detach)(corio_task *),
                             int (*forward)(corio_task *), const char *what,
                             const void *obj)
{
    int rc;
    t->detach = detach;
    t->forward = forward;
    t->wait_what = what;
    t->wait_obj = obj;
    t->wake = 0;
    rc = corio_await(PARKED, NULL);
    if (rc == 0) {
        /* Running again, so no longer parked, however it was resumed (a
         * sleep(0) comes back from the ready queue without a wake): a
         * stale detach would let a later cancel queue a running task. */
        t->detach = NULL;
        t->forward = NULL;
        t->wait_what = NULL;
        t->wait_obj = NULL;
        return t->wake;
    }
    t->forward = NULL;
    /* Thrown into or closed while parked (the loop is being freed): still
     * linked to what it waited on. */
    if (t->detach) {
        void (*d)(corio_task *) = t->detach;
        t->detach = NULL;
        d(t);
    }
    return rc == CORIO_EEXIT ? -ECANCELED : rc;
}

void corio__task_wake(corio_task *t, int err)
{
    if (t->resume_how == CORIO__RESUME_RAW && t->wait_obj)
        corio_future_release((corio_future *)t->wait_obj); /* its ref */
    t->detach = NULL;
    t->forward = NULL;
    t->wait_what = NULL;
    t->wait_obj = NULL;
    t->wake = err;
    if (!t->queued && !t->loop->closing) {
        t->queued = 1;
        corio__ready_push(t->loop, &t->ready);
    }
}

/* ---- spawning -------------------------------------------------------------------- */

/* "task-N" into buf (24 bytes), without the cost of snprintf on the spawn
 * path. */
static const char *auto_name(char *buf, uint64_t id)
{
    char digits[20];
    int n = 0, i = 5;
    do
        digits[n++] = (char)('0' + id % 10);
    while ((id /= 10) != 0);
    memcpy(buf, "task-", 5);
    while (n > 0)
        buf[i++] = digits[--n];
    buf[i] = 0;
    return buf;
}

static int spawn(corio_loop *loop, corio_context *ctx, corio_coro_fn fn,
                 void *arg, const corio_task_opts *opts, corio_task **out,
                 const char *file, int line)
{
    static const corio_task_opts defaults;
    corio_coro_opts co;
    corio_task *t;
    int rc;

    if (!fn)
        return -EINVAL;
    if (!opts)
        opts = &defaults;
    if (opts->flags & ~CORIO_CORO_LEAN)
        return -EINVAL;
    if (!loop && !(loop = corio_loop_current()))
        return CORIO_ENOTASK;
    if (loop->closing)
        return -ESHUTDOWN;
    if (ctx && corio__ctx_busy(ctx))
        return -EBUSY;
    if ((t = loop->task_free) != NULL) {
        loop->task_free = (corio_task *)t->fut.next_free;
        loop->task_free_n--;
    } else if ((t = malloc(sizeof *t)) == NULL) {
        return -ENOMEM;
    }
    co.name = NULL;
    co.stack_size = opts->stack_size;
    co.flags = opts->flags;
    rc = corio__coro_init(&t->coro, fn, arg, &co);
    if (rc) {
        free(t);
        return rc;
    }
    corio__future_init(&t->fut, loop);
    t->fut.is_task = 1;
    t->ready.run = task_step;
    t->timer.fire = NULL;
    corio__heap_node_init(&t->timer.node);
    t->loop = loop;
    t->id = loop->next_task_id++;
    t->name = opts->name ? opts->name : auto_name(t->autoname, t->id);
    t->coro.name = t->name;
    t->file = file ? file : "?";
    t->line = line;
    t->cancel_requests = 0;
    t->cancel_seen = 0;
    t->scope = NULL;
    t->group = NULL;
    t->stopping_groups = 0;
    t->wake = 0;
    t->queued = 1;
    t->resume_how = CORIO__RESUME_NORMAL;
    t->detach = NULL;
    t->forward = NULL;
    t->wait_what = NULL;
    t->wait_obj = NULL;
    t->message = NULL;
    t->cancel_msg = NULL;
    t->cancel_msg_fixed = 0;
    /* asyncio copies the spawner's context (a task's, or a callback's);
     * sharing it is O(1) (ctxvar.c copies on write). Elsewhere: the empty
     * context. Spawned into a corio_context, the task runs inside it. */
    t->ctx_whole = NULL;
    if (ctx) {
        t->ctxvars = NULL;
        corio__ctx_enter_whole(t, ctx); /* not busy: checked above */
    } else {
        t->ctxvars = corio__ctx_current();
    }
    t->all_prev = NULL;
    t->all_next = loop->all;
    if (loop->all)
        loop->all->all_prev = t;
    loop->all = t;
    loop->ntasks++;
    loop->refs++;
    corio__ready_push(loop, &t->ready);
    if (out) {
        t->fut.refs++;
        *out = t;
    }
    return 0;
}

int corio_task_spawn_at(corio_loop *loop, corio_coro_fn fn, void *arg,
                        const corio_task_opts *opts, corio_task **out,
                        const char *file, int line)
{
    return spawn(loop, NULL, fn, arg, opts, out, file, line);
}

int corio_task_spawn_in_ctx_at(corio_loop *loop, corio_context *ctx,
                               corio_coro_fn fn, void *arg,
                               const corio_task_opts *opts, corio_task **out,
                               const char *file, int line)
{
    if (!ctx)
        return -EINVAL;
    return spawn(loop, ctx, fn, arg, opts, out, file, line);
}

/* ---- cancellation --------------------------------------------------------------- */

/* Add a cancel request carrying msg (owned; NULL for none). The message
 * replaces the one before, as asyncio's _cancel_message, unless a cancel
 * already woke the task and it has not run since: it will see that one's
 * (asyncio throws the CancelledError of the future it waited on). */
static void task_cancel(corio_task *t, char *msg)
{
    t->cancel_requests++;
    t->cancel_seen = 0;
    if (t->cancel_msg_fixed) {
        free(msg);
    } else {
        free(t->cancel_msg);
        t->cancel_msg = msg;
        /* Reaching a parked task fixes what it will see. */
        if (t->detach && corio__task_cancel_pending(t))
            t->cancel_msg_fixed = 1;
    }
    corio__task_deliver_cancel(t); /* unless a shield keeps it out */
}

int corio_task_cancel(corio_task *t)
{
    if (!t)
        return -EINVAL;
    if (t->fut.state != CORIO__FUT_PENDING)
        return -EALREADY;
    task_cancel(t, NULL);
    return 0;
}

int corio_task_cancel_msg(corio_task *t, const char *msg)
{
    char *copy = NULL;
    int rc = 0;
    if (!t)
        return -EINVAL;
    if (t->fut.state != CORIO__FUT_PENDING)
        return -EALREADY;
    if (msg && !(copy = strdup(msg)))
        rc = -ENOMEM; /* the cancel still goes: it must never be lost */
    task_cancel(t, copy);
    return rc;
}

const char *corio_task_cancel_message(const corio_task *t)
{
    return t ? t->cancel_msg : NULL;
}

int corio_task_uncancel(corio_task *t)
{
    if (!t)
        return -EINVAL;
    if (t->cancel_requests > 0 && --t->cancel_requests == 0) {
        /* No request stands: its message goes with it. */
        free(t->cancel_msg);
        t->cancel_msg = NULL;
        t->cancel_msg_fixed = 0;
    }
    return t->cancel_requests;
}

int corio_task_cancelling(const corio_task *t)
{
    return t ? t->cancel_requests : 0;
}

/* ---- queries ---------------------------------------------------------------------- */

int corio_task_join(corio_task *t, void **result)
{
    if (!t)
        return -EINVAL;
    if (!corio__task_running() && t->fut.state == CORIO__FUT_PENDING &&
        !corio_coro_current())
        return CORIO_ENOTASK;
    return corio_future_await(&t->fut, result);
}

int corio_task_result(corio_task *t, void **result)
{
    if (!t)
        return -EINVAL;
    return corio_future_result(&t->fut, result);
}

int corio_task_done(const corio_task *t)
{
    return t && t->fut.state != CORIO__FUT_PENDING;
}

int corio_task_cancelled(const corio_task *t)
{
    return t && t->fut.state == CORIO__FUT_CANCELLED;
}

const char *corio_task_name(const corio_task *t)
{
    return t ? t->name : "";
}

corio_future *corio_task_future(corio_task *t)
{
    return t ? &t->fut : NULL;
}

const char *corio_task_message(const corio_task *t)
{
    return t ? t->message : NULL;
}

corio_task *corio_task_current(void)
{
    return corio__task_running();
}

size_t corio_loop_tasks(corio_loop *loop, corio_task **buf, size_t cap)
{
    corio_task *t;
    size_t n = 0;
    if (!loop)
        return 0;
    if (!buf)
        cap = 0;
    for (t = loop->all; t; t = t->all_next) {
        if (n < cap)
            buf[n] = t;
        n++;
    }
    return n;
}

int corio_fail(int err, const char *fmt, ...)
{
    corio_task *t = corio__task_running();
    va_list ap;
    char buf[256];
    if (!t || !fmt)
        return err;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(t->message);
    t->message = strdup(buf); /* no memory: the error still stands */
    return err;
}

/* ---- sleeping ------------------------------------------------------------------------ */

static void sleep_fire(corio__timer *tm)
{
    corio_task *t = (corio_task *)((char *)tm - offsetof(corio_task, timer));
    corio__task_wake(t, 0);
}

static void detach_from_timer(corio_task *t)
{
    corio__timer_stop(t->loop, &t->timer);
}

static void detach_from_ready(corio_task *t)
{
    (void)t; /* a sleep(0) is already queued; the cancel wake is a no-op */
}

int corio_sleep(double seconds)
{
    corio_task *t = corio__task_running();
    int64_t at;
    int rc;

    if (isnan(seconds))
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (corio__task_cancel_report(t))
        return -ECANCELED;
    if (!(seconds > 0)) {
        if (!t->queued) {
            t->queued = 1;
            corio__ready_push(t->loop, &t->ready);
        }
        rc = corio__task_park(t, detach_from_ready, "sleep(0)", NULL);
    } else {
        /* INFINITY keeps a timer too (at the end of time): a task that
         * sleeps forever waits for a cancel, not a deadlock report. */
        corio__deadline_in(seconds, &at);
        t->timer.fire = sleep_fire;
        if ((rc = corio__timer_start(t->loop, &t->timer, at)) != 0)
            return rc;
        rc = corio__task_park(t, detach_from_timer, "sleep", NULL);
    }
    if (rc == 0 && corio__task_cancel_report(t))
        rc = -ECANCELED;
    return rc;
}

/* ---- reports and teardown -------------------------------------------------------- */

void corio__loop_report_waits(corio_loop *loop, const char *why)
{
    corio_task *t;
    fprintf(stderr, "corio: %s; %zu task(s) alive:\n", why, loop->ntasks);
    for (t = loop->all; t; t = t->all_next) {
        fprintf(stderr, "  task '%s' (spawned at %s:%d) ", t->name, t->file,
                t->line);
        if (t->wait_what)
            fprintf(stderr, "waits on %s %p", t->wait_what, t->wait_obj);
        else if (t->queued)
            fprintf(stderr, "is ready to run");
        else
            fprintf(stderr, "is not waiting on anything corio knows");
        if (t->cancel_requests > 0)
            fprintf(stderr, ", cancelling=%d%s%s%s", t->cancel_requests,
                    t->cancel_msg ? " (\"" : "",
                    t->cancel_msg ? t->cancel_msg : "",
                    t->cancel_msg ? "\")" : "");
        fputc('\n', stderr);
    }
    fflush(stderr);
}

void corio__loop_cancel_all(corio_loop *loop)
{
    corio_task *t, *next;
    for (t = loop->all; t; t = next) {
        next = t->all_next;
        corio_task_cancel(t);
    }
}

void corio__tasks_fini(corio_loop *loop)
{
    corio__thread *th = corio__thread_self();
    corio_task *t;
    void *prev = th->task;

    while ((t = loop->all) != NULL) {
        t->cancel_requests++; /* every suspension in cleanup fails */
        t->forward = NULL;
        if (t->detach) {
            void (*d)(corio_task *) = t->detach;
            t->detach = NULL;
            d(t);
        }
        th->task = t;
        corio_coro_close(&t->coro); /* CREATED: just closed */
        th->task = prev;
        task_finish(t, -ECANCELED, NULL);
    }
    while ((t = loop->task_free) != NULL) {
        loop->task_free = (corio_task *)t->fut.next_free;
        free(t);
    }
    loop->task_free_n = 0;
}
