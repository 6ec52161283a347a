/*
 * task.c: tasks: a coroutine driven by the loop, and its future.
 *
 * Stepping. The loop resumes a task's coroutine from the ready queue. The
 * coroutine comes back in one of three ways:
 *   - CORIO_AWAITING with corio__parked: it parked itself (task_impl.h) and
 *     something will wake it;
 *   - CORIO_AWAITING with a corio_future: it used the raw await protocol on
 *     a future; the task waits for that future like corio_future_await;
 *   - CORIO_YIELDED: a bare yield, which is asyncio's sleep(0): run again
 *     in the next iteration;
 *   - finished or failed: the task's future is completed.
 *
 * Cancellation (level-triggered, see task.h) needs no cooperation from the
 * waited-on object: corio_task_cancel ends the parked task's wait record
 * through its kind's detach with -ECANCELED (wait.c); later parks see
 * corio__task_cancel_report and fail at once.
 *
 * Task objects are recycled per loop, so in steady state a spawn allocates
 * nothing (its stack comes from the stack pool).
 */
#include "alloc.h"
#include "task/task_impl.h"
#include "task/ctxvar_impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TASK_FREE_MAX 65536 /* recycled task objects a loop keeps */

/* What a parked task hands the loop (its address is the token). */
#define PARKED ((void *)&corio__parked_token)

_Thread_local corio_task *corio__task_cur
    __attribute__((tls_model("initial-exec")));

static corio_task *task_of_ready(corio__ready *r)
{
    return (corio_task *)((char *)r - offsetof(corio_task, ready));
}

/* ---- the state checker (debug builds) ------------------------------------------ */

#ifndef NDEBUG
static int in_live_list(const corio_task *t)
{
    const corio__loop_tasks *tl = t->loop->tasks;
    return t->all_node.prev != NULL ||
           (tl && tl->all.first == &t->all_node);
}

void corio__task_check(const corio_task *t)
{
    const corio__wait *w = &t->wait;
    int parked = w->state == CORIO__WAIT_PENDING;
    int done = t->fut.state != CORIO__FUT_PENDING;
    int running = t->coro.state == CORIO_CORO_RUNNING ||
                  t->coro.state == CORIO_CORO_NORMAL;
    CORIO_ASSERT(t->fut.magic == CORIO__FUTURE_MAGIC && t->fut.is_task);
    CORIO_ASSERT(t->fut.refs > 0 && t->loop && t->loop->refs > 0);
    CORIO_ASSERT(w->state <= CORIO__WAIT_CANCELLED);
    /* One place at a time. */
    CORIO_ASSERT(parked + t->queued + done + running <= 1);
    if (done) {
        /* (A loop being freed may leave a coroutine that refused its
         * close unfinished: the last handle closes it.) */
        CORIO_ASSERT(t->coro.state == CORIO_CORO_CLOSED || t->loop->closing);
        CORIO_ASSERT(!in_live_list(t));
        return;
    }
    /* Not done: the loop holds it. */
    CORIO_ASSERT(in_live_list(t));
    /* Suspended and not done: something must resume it (while the loop
     * is being freed, nothing is queued any more). */
    if (!running && !t->loop->closing)
        CORIO_ASSERT(parked || t->queued);
    if (parked) {
        CORIO_ASSERT(w->task == t && w->ops && w->ops->detach);
        CORIO_ASSERT(t->coro.state == CORIO_CORO_SUSPENDED);
    }
    if (t->resume_how == CORIO__RESUME_RAW)
        CORIO_ASSERT(w->ops == &corio__future_raw_ops && w->obj);
}
#endif

/* ---- references and freeing ------------------------------------------------------- */

/* A handle used after its last release (debug builds): the task's memory
 * is recycled, and task_free clears the magic, so a join, cancel, retain
 * or release through a dangling handle finds it cleared (until a spawn
 * reuses the object) and aborts with the task's name. Release builds
 * (NDEBUG) check nothing. */
#ifndef NDEBUG
static void check_live(const corio_task *t, const char *call)
{
    if (t->fut.magic == CORIO__FUTURE_MAGIC)
        return;
    fprintf(stderr,
            "corio: %s on task '%s' (spawned at %s:%d) after its last "
            "release: the handle dangles (keep a reference, "
            "corio_task_retain, for as long as you use it)\n",
            call, t->name ? t->name : "?", t->file ? t->file : "?",
            t->line);
    fflush(stderr);
    abort();
}
#define TASK_LIVE(t, call) check_live((t), (call))
#else
#define TASK_LIVE(t, call) ((void)0)
#endif

/* " by task 'p' (#n)" for the task that spawned t, if it still lives. */
static const char *spawner(const corio_task *t, char *buf, size_t len)
{
    corio_task *p = corio__task_by_id(t->loop, t->parent_id);
    buf[0] = 0;
    if (p)
        snprintf(buf, len, " by task '%s' (#%llu)", p->name,
                 (unsigned long long)p->id);
    else if (t->parent_id)
        snprintf(buf, len, " by task #%llu",
                 (unsigned long long)t->parent_id);
    return buf;
}

/* " at file:line" of the corio_fail that gave t its message, or "". */
static const char *fail_site(const corio_task *t, char *buf, size_t len)
{
    buf[0] = 0;
    if (t->message && t->fail_file)
        snprintf(buf, len, " at %s:%d", t->fail_file, t->fail_line);
    return buf;
}

const corio__fail_trace_hooks *corio__fail_trace;

static void task_free(corio_task *t)
{
    corio_loop *loop = t->loop;
    char by[160], at[160];
    if (t->fut.state == CORIO__FUT_ERROR && !t->fut.retrieved) {
        corio__warn("task '%s' (spawned at %s:%d%s) failed%s with %s (%s)%s%s "
                    "%s%s%sand nobody retrieved the error",
                    t->name, t->file, t->line, spawner(t, by, sizeof by),
                    fail_site(t, at, sizeof at), corio_errname(t->fut.err),
                    corio_strerror(t->fut.err), t->message ? ": " : "",
                    t->message ? t->message : "",
                    t->cancel_msg ? "after being cancelled (\"" : "",
                    t->cancel_msg ? t->cancel_msg : "",
                    t->cancel_msg ? "\") " : "");
        if (corio__fail_trace &&
            (loop->run_hook || (t->message && t->fail_trace)))
            corio__fail_trace->print(t, t->message ? t->fail_trace : NULL);
    }
    corio__coro_fini(&t->coro);
    if (t->message) { /* the usual case has none: no call */
        if (t->fail_trace)
            corio__free(t->fail_trace);
        corio__free(t->message);
    }
    t->message = NULL;
    if (t->cancel_msg)
        corio__free(t->cancel_msg);
    t->cancel_msg = NULL;
    if (t->ctxvars)
        corio__ctx_map_release(t->ctxvars);
    t->ctxvars = NULL;
    t->fut.magic = 0;
    if (!loop->closing && loop->tasks->task_free_n < TASK_FREE_MAX) {
        corio__loop_tasks *tl = loop->tasks; /* attached: t was spawned */
        t->fut.next_free = (corio_future *)tl->task_free;
        tl->task_free = t;
        tl->task_free_n++;
    } else {
        corio__free(t);
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
    if (t) {
        TASK_LIVE(t, "corio_task_retain");
        t->fut.refs++;
    }
}

void corio_task_release(corio_task *t)
{
    if (t) {
        TASK_LIVE(t, "corio_task_release");
        corio__task_unref(t);
    }
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
    CORIO_ASSERT(!corio__task_parked(t) && !t->queued);
    corio__list_remove(&loop->tasks->all, &t->all_node);
    loop->tasks->ntasks--;
    loop->alive--;
    if (t->scope)
        corio__scopes_abandon(t);
    if (t->ctx_whole) /* what it set stays in its corio_context */
        corio__ctx_leave_whole(t);
    /* Its stack will never run again: give it back now, so the next spawn
     * reuses a warm one, rather than when the last handle goes. */
    corio__coro_release_stack(&t->coro);
    corio__future_complete(&t->fut, state, rc, rc == 0 ? result : NULL);
    CORIO__TASK_CHECK(t);
    corio__task_unref(t); /* the loop's reference */
}

/* ---- stepping ----------------------------------------------------------------- */

void corio__task_step(corio__ready *r)
{
    corio_task *t = task_of_ready(r);
    corio_task *prev = corio__task_cur;
    void *out = NULL;
    int rc;

    CORIO__TASK_CHECK(t);
    t->queued = 0;
    if (t->loop->closing)
        return;
    /* Only a wake or a cancel queues a parked task (wait.c); a stray
     * step must not resume it (its own wake will queue it again). */
    if (NEVER(corio__task_parked(t)))
        return;
    t->cancel_msg_fixed = 0; /* it sees its cancel (and message) now */
    corio__task_cur = t;
    if (t->coro.state == CORIO_CORO_CREATED && t->cancel_requests > 0) {
        rc = corio_coro_throw(&t->coro, -ECANCELED, &out); /* never runs */
    } else if (t->resume_how != CORIO__RESUME_NORMAL) {
        int how = t->resume_how;
        t->resume_how = CORIO__RESUME_NORMAL;
        if (how == CORIO__RESUME_RAW) /* the reference the wait held */
            corio_future_release((corio_future *)t->wait.obj);
        if (how == CORIO__RESUME_BADYIELD)
            rc = corio_coro_throw(&t->coro, -EINVAL, &out);
        else if (how == CORIO__RESUME_YIELD)
            /* As asyncio's __step with _must_cancel: a cancel standing
             * when a bare yield resumes is thrown in there. */
            rc = corio__task_cancel_report(t)
                     ? corio_coro_throw(&t->coro, -ECANCELED, &out)
                     : corio_coro_resume(&t->coro, NULL, &out);
        else if (t->wait.value < 0)
            rc = corio_coro_throw(&t->coro, t->wait.value, &out);
        else
            rc = corio_coro_resume(&t->coro, NULL, &out);
    } else {
        rc = corio_coro_resume(&t->coro, NULL, &out);
    }
    /* The task coming back may not be t: a direct hand-off (below) puts
     * the task it switches to in the place of the one that left. */
    t = corio__task_cur;
    corio__task_cur = prev;

    if (rc == CORIO_AWAITING) {
        corio_future *f = out;
        if (out == PARKED) {
            CORIO__TASK_CHECK(t);
            return;
        }
        if (f && f->magic == CORIO__FUTURE_MAGIC && f != &t->fut) {
            /* The raw protocol: wait for the future, then resume. The
             * record holds a reference on f until the next step. */
            t->resume_how = CORIO__RESUME_RAW;
            corio_future_retain(f);
            if (f->state != CORIO__FUT_PENDING ||
                corio__task_cancel_report(t)) {
                /* Done already, or cancelled: no wait (level-triggered:
                 * a cancelled task's await fails at once). */
                corio__wait *w = corio__wait_begin(t, &corio__future_raw_ops,
                                                   f, 0);
                corio__wait_grant_now(w, f->state == CORIO__FUT_PENDING
                                             ? -ECANCELED
                                             : 0);
                corio__task_ready(t);
                CORIO__TASK_CHECK(t);
                return;
            }
            corio__future_wait_begin(f, t, &corio__future_raw_ops);
            CORIO__TASK_CHECK(t);
            return;
        }
        /* asyncio's "Task got bad yield": the await fails with -EINVAL. */
        t->resume_how = CORIO__RESUME_BADYIELD;
        corio__task_ready(t);
        CORIO__TASK_CHECK(t);
        return;
    }
    if (rc == CORIO_YIELDED) { /* a bare yield: sleep(0) */
        t->resume_how = CORIO__RESUME_YIELD;
        corio__task_ready(t);
        CORIO__TASK_CHECK(t);
        return;
    }
    if (t->coro.state == CORIO_CORO_CREATED) /* no stack: it never ran */
        corio_coro_close(&t->coro);
    task_finish(t, rc, out);
}

corio_task *corio__task_of_step(corio__ready *r)
{
    return r->run == corio__task_step ? task_of_ready(r) : NULL;
}

/* ---- direct hand-off ------------------------------------------------------------ */

/*
 * Go's runnext. A task that wakes one other task and then parks (a future
 * completed and then awaited, an event set, a queue item given to a
 * waiting getter) would return to the loop, whose next iteration would run
 * the woken task first. When nothing would run before it in that
 * iteration (the loop decides: corio__loop_handoff_peek), switch to it
 * directly instead: one switch instead of two and no loop round. The
 * code is inline in task_impl.h (corio__task_handoff, the park's
 * CORIO__WAIT_SWITCH and CORIO__WAIT_PARKED), so the hot waits reach the switch from their
 * own frame; this is the out-of-line park for the others. What
 * the step does before a plain resume is done there; what it does after
 * one is done by the step that resumed the first task of the chain,
 * for whichever task comes back (corio__task_cur). Only a plain resume is
 * handed to (a task being thrown into, or resumed after a raw await or a
 * bare yield, goes through the loop). The loop counts every hand-off as an
 * iteration, so a chain ends at the next poll of I/O, at a due timer, and
 * when the loop is asked to stop: nothing starves, and the order in which
 * tasks run is the loop's.
 */
int corio__wait_park(corio__wait *w)
{
    int rc = CORIO__WAIT_SWITCH(w);
    return CORIO__WAIT_PARKED(w, rc);
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

/* Inlined into both public spawns: a wrapper call would cost spawn+join
 * several percent. */
static inline __attribute__((always_inline)) int
spawn(corio_loop *loop, corio_context *ctx, corio_coro_fn fn, void *arg,
      const corio_task_opts *opts, corio_task **out, const char *file,
      int line)
{
    static const corio_task_opts defaults;
    corio__loop_tasks *tl;
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
    if (!(tl = corio__tasks_of(loop)))
        return -ENOMEM;
    if ((t = tl->task_free) != NULL) {
        tl->task_free = (corio_task *)t->fut.next_free;
        tl->task_free_n--;
    } else if ((t = corio__malloc(sizeof *t)) == NULL) {
        return -ENOMEM;
    }
    co.name = NULL;
    co.stack_size = opts->stack_size;
    co.flags = opts->flags;
    rc = corio__coro_init(&t->coro, fn, arg, &co);
    if (rc) {
        corio__free(t);
        return rc;
    }
    corio__future_init(&t->fut, loop);
    t->fut.is_task = 1;
    t->ready.run = corio__task_step;
    t->timer.fire = NULL;
    corio__heap_node_init(&t->timer.node);
    t->loop = loop;
    t->id = tl->next_task_id++;
    t->name = opts->name ? opts->name : auto_name(t->autoname, t->id);
    t->coro.name = t->name;
    t->file = file ? file : "?";
    t->line = line;
    t->parent_id = corio__task_cur ? corio__task_cur->id : 0;
    t->wait_since = 0;
    t->cancel_requests = 0;
    t->cancel_seen = 0;
    t->scope = NULL;
    t->group = NULL;
    t->stopping_groups = 0;
    t->queued = 1;
    t->resume_how = CORIO__RESUME_NORMAL;
    t->wait.task = t; /* for good: corio__wait_begin leaves it */
    t->wait.state = CORIO__WAIT_IDLE;
    t->wait.ops = NULL;
    t->wait.obj = NULL;
    t->wait.node.next = t->wait.node.prev = NULL;
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
    corio__list_push_front(&tl->all, &t->all_node);
    tl->ntasks++;
    loop->alive++;
    loop->refs++;
    corio__ready_push(loop, &t->ready);
    CORIO__TASK_CHECK(t);
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
        corio__free(msg);
    } else {
        corio__free(t->cancel_msg);
        t->cancel_msg = msg;
        /* Reaching a parked task fixes what it will see. */
        if (corio__task_parked(t) && corio__task_cancel_pending(t))
            t->cancel_msg_fixed = 1;
    }
    corio__task_deliver_cancel(t); /* unless a shield keeps it out */
}

int corio_task_cancel(corio_task *t)
{
    if (!t)
        return -EINVAL;
    TASK_LIVE(t, "corio_task_cancel");
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
    TASK_LIVE(t, "corio_task_cancel_msg");
    if (t->fut.state != CORIO__FUT_PENDING)
        return -EALREADY;
    if (msg && !(copy = corio__strdup(msg)))
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
        corio__free(t->cancel_msg);
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
    TASK_LIVE(t, "corio_task_join");
    if (!corio__task_running() && t->fut.state == CORIO__FUT_PENDING &&
        !corio_coro_current())
        return CORIO_ENOTASK;
    return corio_future_await(&t->fut, result);
}

int corio_task_result(corio_task *t, void **result)
{
    if (!t)
        return -EINVAL;
    TASK_LIVE(t, "corio_task_result");
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
    corio__node *nd, *nx;
    size_t n = 0;
    if (!loop || !loop->tasks)
        return 0;
    if (!buf)
        cap = 0;
    CORIO__LIST_EACH(nd, nx, &loop->tasks->all) {
        corio_task *t = CORIO__CONTAINER(nd, corio_task, all_node);
        if (n < cap)
            buf[n] = t;
        n++;
    }
    return n;
}

corio_task *corio__task_by_id(corio_loop *loop, uint64_t id)
{
    corio__node *nd, *nx;
    if (!loop->tasks || id == 0)
        return NULL;
    CORIO__LIST_EACH(nd, nx, &loop->tasks->all) {
        corio_task *t = CORIO__CONTAINER(nd, corio_task, all_node);
        if (t->id == id)
            return t;
    }
    return NULL;
}

corio_task *corio__task_find(corio_loop *loop, const void *p, uint64_t id)
{
    corio_task *t = corio__task_by_id(loop, id);
    return t == p ? t : NULL;
}

/* fp: the frame of corio_fail(_at) itself, where debug mode's backtrace
 * of the failure starts (corio__fail_trace). */
static int fail(const char *file, int line, int err, const char *fmt,
                va_list ap, void *fp)
{
    corio_task *t = corio__task_running();
    void *trace = NULL;
    char buf[256];
    if (!t || !fmt)
        return err;
    vsnprintf(buf, sizeof buf, fmt, ap);
    if (t->message) {
        if (t->fail_trace)
            corio__free(t->fail_trace);
        corio__free(t->message);
    }
    if (t->loop->run_hook && corio__fail_trace) /* debug mode */
        trace = corio__fail_trace->capture(t, fp);
    t->message = corio__strdup(buf); /* no memory: the error still stands */
    if (!t->message && trace) {
        corio__free(trace);
        trace = NULL;
    }
    t->fail_trace = trace;
    t->fail_file = file;
    t->fail_line = line;
    return err;
}

int(corio_fail)(int err, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = fail(NULL, 0, err, fmt, ap, __builtin_frame_address(0));
    va_end(ap);
    return rc;
}

int corio_fail_at(const char *file, int line, int err, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = fail(file, line, err, fmt, ap, __builtin_frame_address(0));
    va_end(ap);
    return rc;
}

/* ---- sleeping ------------------------------------------------------------------------ */

static void sleep_fire(corio__timer *tm)
{
    corio_task *t = CORIO__CONTAINER(tm, corio_task, timer);
    corio__wait_wake(&t->wait, 0, NULL);
}

static void detach_from_timer(corio__wait *w)
{
    corio__timer_stop(w->task->loop, &w->task->timer);
}

static void detach_from_ready(corio__wait *w)
{
    (void)w; /* a sleep(0) is granted and queued from the start */
}

static void describe_sleep(const corio__wait *w, corio__wait_desc *d)
{
    int64_t at = w->task->timer.node.key;
    if (at == CORIO__NO_DEADLINE) {
        corio__wait_descf(d, "sleep forever (until cancelled)");
        return;
    }
    d->deadline = at;
    corio__wait_descf(d, "sleep, %.3f s left",
                      (double)(at - corio__loop_now_ns()) / 1e9);
}

static const corio__wait_ops sleep_ops = {"sleep", detach_from_timer, 0, 0,
                                          describe_sleep};
static const corio__wait_ops yield_ops = {"sleep(0)", detach_from_ready, 0,
                                          0, 0};

int corio_sleep(double seconds)
{
    corio_task *t = corio__task_running();
    corio__wait *w;
    int64_t at;
    int rc;

    if (isnan(seconds))
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (corio__task_cancel_now(t))
        return -ECANCELED;
    if (!(seconds > 0)) {
        /* Granted in advance: nothing but the ready queue resumes it. */
        w = corio__wait_begin(t, &yield_ops, NULL, 0);
        corio__wait_grant_now(w, 0);
        corio__task_ready(t);
        rc = corio__wait_park(w);
    } else {
        /* INFINITY keeps a timer too (at the end of time): a task that
         * sleeps forever waits for a cancel, not a deadlock report. */
        corio__deadline_in(seconds, &at);
        t->timer.fire = sleep_fire;
        if ((rc = corio__timer_start(t->loop, &t->timer, at)) != 0)
            return rc;
        rc = corio__wait_park(corio__wait_begin(t, &sleep_ops, NULL, 0));
    }
    if (rc == 0 && corio__task_cancel_now(t))
        rc = -ECANCELED;
    return rc;
}

/* ---- reports and teardown -------------------------------------------------------- */

/* The deadlock report (the loop's report_stuck): what each live task
 * waits on. */
static void report_waits(corio_loop *loop, const char *why)
{
    corio__loop_tasks *tl = loop->tasks;
    corio__node *nd, *nx;
    fprintf(stderr, "corio: %s; %zu task(s) alive:\n", why, tl->ntasks);
    CORIO__LIST_EACH(nd, nx, &tl->all) {
        corio_task *t = CORIO__CONTAINER(nd, corio_task, all_node);
        fprintf(stderr, "  task '%s' (spawned at %s:%d) ", t->name, t->file,
                t->line);
        if (corio__task_parked(t)) {
            corio__wait_desc d;
            corio__wait_describe(&t->wait, &d);
            fprintf(stderr, "waits on %s", d.text);
        } else if (t->queued)
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
    corio__node *nd, *nx;
    if (!loop->tasks)
        return;
    CORIO__LIST_EACH(nd, nx, &loop->tasks->all)
        corio_task_cancel(CORIO__CONTAINER(nd, corio_task, all_node));
}

/* Closer CORIO__CLOSE_TASKS: close every live task (its cleanup runs, and
 * every suspension in it fails) and finish it cancelled. */
static void close_tasks(corio__closer *c, corio_loop *loop)
{
    corio__loop_tasks *tl = CORIO__CONTAINER(c, corio__loop_tasks,
                                             close_tasks);
    corio_task *prev = corio__task_cur;
    corio_task *t;

    while (!corio__list_empty(&tl->all)) {
        t = CORIO__CONTAINER(corio__list_first(&tl->all), corio_task,
                             all_node);
        t->cancel_requests++; /* every suspension in cleanup fails */
        if (corio__task_parked(t))
            corio__wait_abort(&t->wait); /* uncancellable ones too */
        if (t->resume_how == CORIO__RESUME_RAW) { /* the wait's reference */
            t->resume_how = CORIO__RESUME_NORMAL;
            corio_future_release((corio_future *)t->wait.obj);
        }
        corio__task_cur = t;
        corio_coro_close(&t->coro); /* CREATED: just closed */
        corio__task_cur = prev;
        task_finish(t, -ECANCELED, NULL);
    }
    (void)loop;
}

/* Closer CORIO__CLOSE_MEMORY: the recycled tasks and futures (no task is
 * recycled once the loop is closing; a future released while it closes
 * may be, until this runs, and goes with the rest). */
static void close_memory(corio__closer *c, corio_loop *loop)
{
    corio__loop_tasks *tl = CORIO__CONTAINER(c, corio__loop_tasks,
                                             close_memory);
    corio_future *f;
    corio_task *t;
    while ((t = tl->task_free) != NULL) {
        tl->task_free = (corio_task *)t->fut.next_free;
        corio__free(t);
    }
    tl->task_free_n = 0;
    while ((f = tl->fut_free) != NULL) {
        tl->fut_free = f->next_free;
        corio__free(f);
        corio__loop_unref(loop); /* a recycled future keeps its reference
                                    (future.c); the owner's holds it */
    }
    /* Full for good: a future released from now on is freed, not listed
     * (future.c's release tests only this count, not loop->closing). */
    tl->fut_free_n = CORIO__FUTURE_FREE_MAX;
}

/* Closer CORIO__CLOSE_RELEASE: the state itself, at the loop's last
 * reference (done tasks and futures still read it until then). */
static void release_tasks(corio__closer *c, corio_loop *loop)
{
    corio__loop_tasks *tl = CORIO__CONTAINER(c, corio__loop_tasks, release);
    loop->tasks = NULL;
    loop->report_stuck = NULL;
    corio__free(tl);
}

corio__loop_tasks *corio__tasks_attach(corio_loop *loop)
{
    corio__loop_tasks *tl;
    if (loop->tasks)
        return loop->tasks;
    if (loop->closing || !(tl = corio__calloc(1, sizeof *tl)))
        return NULL;
    tl->next_task_id = 1;
    tl->close_tasks.order = CORIO__CLOSE_TASKS;
    tl->close_tasks.close = close_tasks;
    tl->close_memory.order = CORIO__CLOSE_MEMORY;
    tl->close_memory.close = close_memory;
    tl->release.order = CORIO__CLOSE_RELEASE;
    tl->release.close = release_tasks;
    corio__loop_add_closer(loop, &tl->close_tasks);
    corio__loop_add_closer(loop, &tl->close_memory);
    corio__loop_add_closer(loop, &tl->release);
    loop->report_stuck = report_waits;
    if (corio__debug_env()) { /* CORIO_DEBUG: stamp parks (wait.c) */
        loop->run_hook = corio__debug_run_hook ? corio__debug_run_hook
                                               : corio__task_debug_run;
        loop->idle_hook = corio__debug_idle_hook; /* src/diag/, if linked */
    }
    loop->tasks = tl;
    return tl;
}
