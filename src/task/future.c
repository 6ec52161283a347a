/*
 * future.c: futures: a pending outcome, its waiters and done callbacks.
 *
 * A future keeps a list of wait records (wait.h) in the order they came:
 * tasks parked on it (their own record) and watchers: done callbacks (a
 * small node allocated per callback, a record with no task) and the
 * combinators' watches. Completing the future pops every record and wakes
 * it; tasks are made runnable and callbacks queued, both through the
 * loop's ready queue, so they run in registration order and never inside
 * the call that completed the future. A future with no loop runs its
 * callbacks at once instead.
 *
 * A task's future is the first member of the task; its reference count is
 * the task's, and cancelling it cancels the task.
 */
#include "alloc.h"
#include "task/task_impl.h"

#include <errno.h>
#include <stdlib.h>

#define FUTURE_FREE_MAX CORIO__FUTURE_FREE_MAX

typedef struct cb_node {
    corio__wait w;       /* a watcher: no task */
    corio__ready r;
    corio_future *f;
    corio_future_callback fn;
    void *arg;
    corio__ctx_cap ctx; /* the context it runs in */
} cb_node;

void corio__future_init(corio_future *f, corio_loop *loop)
{
    f->magic = CORIO__FUTURE_MAGIC;
    f->refs = 1;
    f->state = CORIO__FUT_PENDING;
    f->retrieved = 0;
    f->is_task = 0;
    f->ops = NULL;
    f->err = 0;
    f->result = NULL;
    f->loop = loop;
    corio__list_init(&f->waiters);
    f->next_free = NULL;
    f->completer = NULL;
}

/* corio_future_new's path when the loop's free list has nothing for it:
 * attach the task layer, or allocate. find: loop is NULL and no task
 * runs (or its loop is closing): the running loop's, if any. */
static __attribute__((noinline)) int
future_new_slow(corio_loop *loop, int find, corio_future **out)
{
    corio__loop_tasks *tl = NULL;
    corio_future *f;
    if (find)
        loop = corio_loop_current();
    if (loop)
        tl = corio__tasks_of(loop); /* NULL: no memory, or closing */
    if (tl && tl->fut_free) {
        f = tl->fut_free;
        tl->fut_free = f->next_free;
        tl->fut_free_n--;
    } else {
        f = corio__malloc(sizeof *f);
        if (!f)
            return -ENOMEM;
        if (loop)
            loop->refs++;
    }
    corio__future_init(f, loop);
    *out = f;
    return 0;
}

int corio_future_new(corio_loop *loop, corio_future **out)
{
    corio__loop_tasks *tl;
    corio_task *t;
    corio_future *f;
    if (!out)
        return -EINVAL;
    if (__builtin_expect(!loop, 1)) { /* a task's loop: one load, no call */
        if ((t = corio__task_running()) == NULL || t->loop->closing)
            return future_new_slow(NULL, 1, out);
        loop = t->loop;
    }
    if (!(tl = loop->tasks) || !(f = tl->fut_free))
        return future_new_slow(loop, 0, out);
    /* A recycled future kept its reference on the loop, and the rest of
     * what corio__future_init sets but this: it was plain (no ops, not a
     * task's), of this loop, and went with no waiter (future_free). */
    tl->fut_free = f->next_free;
    tl->fut_free_n--;
    f->magic = CORIO__FUTURE_MAGIC;
    f->refs = 1;
    f->state = CORIO__FUT_PENDING;
    f->retrieved = 0;
    f->err = 0;
    f->result = NULL;
    f->completer = NULL;
    *out = f;
    return 0;
}

void corio_future_retain(corio_future *f)
{
    if (f)
        f->refs++;
}

static void drop_callbacks(corio_future *f);

/* A plain future's last reference went, the uncommon way: done callbacks
 * that never ran, a bigger object's free, an error nobody retrieved, no
 * room (or no loop) to recycle it. */
static __attribute__((noinline)) void future_last_release(corio_future *f)
{
    corio_loop *loop = f->loop;
    if (f->waiters.first)
        drop_callbacks(f); /* it never completed: they never run */
    if (f->ops) {
        f->ops->free(f);
        return;
    }
    if (f->state == CORIO__FUT_ERROR && !f->retrieved)
        corio__warn("future %p failed with %s (%s) and nobody retrieved it",
                    (void *)f, corio_errname(f->err), corio_strerror(f->err));
    f->magic = 0;
    if (loop && !loop->closing && loop->tasks &&
        loop->tasks->fut_free_n < FUTURE_FREE_MAX) {
        f->next_free = loop->tasks->fut_free;
        loop->tasks->fut_free = f;
        loop->tasks->fut_free_n++;
        return;
    }
    corio__free(f);
    if (loop)
        corio__loop_unref(loop);
}

/* The last reference of a plain future: back on its loop's free list,
 * keeping its reference on the loop (corio_future_new takes it over;
 * task.c's close_memory drops it), when nothing else needs doing. */
static inline void future_free(corio_future *f)
{
    corio_loop *loop = f->loop;
    corio__loop_tasks *tl;
    /* (Or-ed where both sides are plain loads: fewer branches. A closing
     * loop is not asked: one whose recycled objects went (task.c's
     * close_memory) reads as full, and one whose objects have not gone
     * yet frees this one with them.) */
    if (((uintptr_t)f->waiters.first | (uintptr_t)f->ops) != 0 || !loop ||
        !(tl = loop->tasks) || tl->fut_free_n >= FUTURE_FREE_MAX ||
        f->state == CORIO__FUT_ERROR) {
        /* (An error goes the slow way, which reports it if nobody
         * retrieved it. Not tested here with `retrieved`: the compiler
         * would read both bytes at once, and the load, spanning the two
         * one-byte stores that wrote them moments ago, would wait for
         * both instead of taking their values from the store buffer.) */
        future_last_release(f);
        return;
    }
    f->magic = 0;
    f->next_free = tl->fut_free;
    tl->fut_free = f;
    tl->fut_free_n++;
}

void corio_future_release(corio_future *f)
{
    if (!f)
        return;
    if (f->is_task) {
        corio__task_unref((corio_task *)f);
        return;
    }
    if (--f->refs == 0)
        future_free(f);
}

/* Completing with more than one waiter, or a watcher (a callback may run
 * and drop the last reference: f is kept alive until done). */
static __attribute__((noinline)) void wake_all(corio_future *f)
{
    corio__wait *w;
    while ((w = corio__wait_pop(&f->waiters)) != NULL) {
        if (!w->task) {
            /* A watcher's notify may run a callback that drops the last
             * reference: keep f alive until done. (Waking a task runs
             * nothing: it only queues the task.) */
            f->refs++;
            corio__wait_wake(w, 0, NULL);
            while ((w = corio__wait_pop(&f->waiters)) != NULL)
                corio__wait_wake(w, 0, NULL);
            corio_future_release(f);
            return;
        }
        corio__wait_wake(w, 0, NULL); /* the waiter reads f's outcome */
    }
}

/* The common hand-off inline: one task waits (wakes it, no list walk). */
static inline __attribute__((always_inline)) int
complete(corio_future *f, unsigned char state, int err, void *result)
{
    corio__wait *w;
    if (f->state != CORIO__FUT_PENDING)
        return -EALREADY;
    f->state = state;
    f->err = err;
    f->result = result;
    w = corio__wait_first(&f->waiters);
    if (!w)
        return 0;
    if (w->task && !w->node.next) {
        f->waiters.first = f->waiters.last = NULL;
        w->node.prev = NULL;
        corio__wait_wake(w, 0, NULL); /* the waiter reads f's outcome */
        return 0;
    }
    wake_all(f);
    return 0;
}

int corio__future_complete(corio_future *f, unsigned char state, int err,
                           void *result)
{
    return complete(f, state, err, result);
}

int corio_future_set_result(corio_future *f, void *result)
{
    if (!f)
        return -EINVAL;
    if (f->is_task || f->ops)
        return -EPERM; /* a task's outcome is its body's, a gather's its
                          children's */
    return complete(f, CORIO__FUT_RESULT, 0, result);
}

int corio_future_set_error(corio_future *f, int err)
{
    if (!f || err >= 0)
        return -EINVAL;
    if (f->is_task || f->ops)
        return -EPERM;
    if (err == -ECANCELED)
        return corio__future_complete(f, CORIO__FUT_CANCELLED, err, NULL);
    return corio__future_complete(f, CORIO__FUT_ERROR, err, NULL);
}

int corio_future_cancel(corio_future *f)
{
    if (!f)
        return -EINVAL;
    if (f->state != CORIO__FUT_PENDING)
        return -EALREADY;
    if (f->is_task)
        return corio_task_cancel((corio_task *)f);
    if (f->ops)
        return f->ops->cancel(f);
    return corio__future_complete(f, CORIO__FUT_CANCELLED, -ECANCELED, NULL);
}

int corio_future_done(const corio_future *f)
{
    return f && f->state != CORIO__FUT_PENDING;
}

int corio_future_cancelled(const corio_future *f)
{
    return f && f->state == CORIO__FUT_CANCELLED;
}

/* f's outcome, f done: the result through *result, or its error. */
static inline int future_outcome(corio_future *f, void **result)
{
    f->retrieved = 1;
    if (__builtin_expect(f->state == CORIO__FUT_RESULT, 1)) {
        if (result)
            *result = f->result;
        return 0;
    }
    if (result)
        *result = NULL;
    return f->err;
}

int corio_future_result(corio_future *f, void **result)
{
    if (!f)
        return -EINVAL;
    if (f->state == CORIO__FUT_PENDING)
        return -EAGAIN;
    return future_outcome(f, result);
}

/* ---- done callbacks -------------------------------------------------------- */

static void cb_call(void *arg)
{
    cb_node *n = arg;
    n->fn(n->f, n->arg);
}

static void cb_done(corio__wait *w);
static const corio__wait_ops cb_ops = {"done callback", 0, 0, cb_done,
                                       0};

static void cb_run(corio__ready *r)
{
    cb_node *n = (cb_node *)((char *)r - offsetof(cb_node, r));
    corio_future *f = n->f;
    corio__call_in_ctx(&n->ctx, cb_call, n);
    corio__ctx_capture_drop(&n->ctx);
    corio__free(n);
    corio_future_release(f);
}

static void cb_done(corio__wait *w)
{
    cb_node *n = CORIO__CONTAINER(w, cb_node, w);
    corio_future *f = n->f;
    corio_future_retain(f);
    if (f->loop && !f->loop->closing) {
        n->r.run = cb_run;
        corio__ready_push(f->loop, &n->r);
    } else {
        cb_run(&n->r);
    }
}

static int add_done_callback(corio_future *f, corio_context *ctx,
                             corio_future_callback fn, void *arg)
{
    cb_node *n;
    if (!f || !fn)
        return -EINVAL;
    n = corio__malloc(sizeof *n);
    if (!n)
        return -ENOMEM;
    corio__wait_watch(&n->w, &cb_ops, f);
    n->f = f;
    n->fn = fn;
    n->arg = arg;
    corio__ctx_capture(&n->ctx, ctx); /* a reference: never allocates */
    if (f->state != CORIO__FUT_PENDING)
        corio__wait_wake(&n->w, 0, NULL);
    else
        corio__future_add_waiter(f, &n->w);
    return 0;
}

int corio_future_add_done_callback(corio_future *f, corio_future_callback fn,
                                   void *arg)
{
    return add_done_callback(f, NULL, fn, arg);
}

int corio_future_add_done_callback_in_ctx(corio_future *f, corio_context *ctx,
                                          corio_future_callback fn, void *arg)
{
    if (!ctx)
        return -EINVAL;
    return add_done_callback(f, ctx, fn, arg);
}

/* Free the done callbacks of a future that is freed pending. */
static void drop_callbacks(corio_future *f)
{
    corio__node *nd, *nx;
    CORIO__LIST_EACH(nd, nx, &f->waiters) {
        corio__wait *w = CORIO__CONTAINER(nd, corio__wait, node);
        if (w->ops == &cb_ops) {
            cb_node *n = CORIO__CONTAINER(w, cb_node, w);
            corio__future_remove_waiter(f, w);
            corio__ctx_capture_drop(&n->ctx);
            corio__free(n);
        }
    }
}

int corio_future_remove_done_callback(corio_future *f,
                                      corio_future_callback fn, void *arg)
{
    corio__node *nd, *nx;
    int removed = 0;
    if (!f || !fn)
        return -EINVAL;
    CORIO__LIST_EACH(nd, nx, &f->waiters) {
        corio__wait *w = CORIO__CONTAINER(nd, corio__wait, node);
        cb_node *n = CORIO__CONTAINER(w, cb_node, w);
        if (w->ops == &cb_ops && n->fn == fn && n->arg == arg) {
            corio__future_remove_waiter(f, w);
            corio__ctx_capture_drop(&n->ctx);
            corio__free(n);
            removed++;
        }
    }
    return removed;
}

/* ---- awaiting ---------------------------------------------------------------- */

/* A cancel of a task parked on the future w->obj: a plain future
 * completes as cancelled here and wakes the task at once; a task's future
 * asks that task to cancel, and the waiter waits for its end. */
static int forward_cancel(corio__wait *w)
{
    corio_future *f = (corio_future *)w->obj;
    /* A task's future: ask that task to cancel, with the waiting task's
     * cancel message (-ENOMEM: cancelled all the same). */
    if (f->state != CORIO__FUT_PENDING)
        return 0;
    if (f->is_task)
        return corio_task_cancel_msg((corio_task *)f, w->task->cancel_msg) !=
               -EALREADY;
    return corio_future_cancel(f) == 0;
}

void corio__future_detach(corio__wait *w)
{
    corio__future_remove_waiter((corio_future *)w->obj, w);
}

void corio__future_describe(const corio_future *f, corio__wait_desc *d)
{
    corio_task *c;
    if (f->is_task) {
        corio__wait_descf(d, "join of ");
        corio__wait_desc_task(d, (const corio_task *)f);
        corio__wait_edge(d, (corio_task *)f, "joins");
        return;
    }
    corio__wait_descf(d, "%sfuture %p", f->ops ? "gather " : "",
                      (const void *)f);
    c = f->completer && f->loop
            ? corio__task_find(f->loop, f->completer, f->completer_id)
            : NULL;
    if (c) {
        corio__wait_descf(d, " to be completed by ");
        corio__wait_desc_task(d, c);
        corio__wait_edge(d, c, "completed by");
    } else if (f->completer) {
        corio__wait_descf(d, " (its completer task #%llu has ended)",
                          (unsigned long long)f->completer_id);
    } else {
        corio__wait_descf(d, " (completer unknown)");
    }
}

static void describe_await(const corio__wait *w, corio__wait_desc *d)
{
    corio__future_describe((const corio_future *)w->obj, d);
}

const corio__wait_ops corio__future_await_ops = {
    "future", corio__future_detach, forward_cancel, 0, describe_await};
const corio__wait_ops corio__future_raw_ops = {
    "future (raw await)", corio__future_detach, forward_cancel, 0,
    describe_await};

int corio_future_await(corio_future *f, void **result)
{
    corio_task *t;
    corio__wait *w;
    int rc;

    if (!f)
        return -EINVAL;
    if (f->state != CORIO__FUT_PENDING)
        return corio_future_result(f, result);
    t = corio__task_running();
    if (!t) {
        /* Driven by hand: hand the future to the driver until it is done. */
        if (!corio_coro_current())
            return CORIO_ENOTASK; /* neither a task nor a driver */
        do {
            rc = corio_await(f, NULL);
            if (rc)
                return rc;
        } while (f->state == CORIO__FUT_PENDING);
        return corio_future_result(f, result);
    }
    if (&t->fut == f)
        return -EDEADLK;
    if (corio__task_cancel_now(t))
        return -ECANCELED;
    f->refs++; /* the wait's own: f outlives it whoever releases f */
    w = corio__future_wait_begin(f, t, &corio__future_await_ops);
    rc = CORIO__WAIT_SWITCH(w); /* the park, inline (task_impl.h) */
    rc = CORIO__WAIT_PARKED(w, rc);
    if (__builtin_expect(rc == 0, 1))
        /* A cancel that reached us while we waited on f wins. */
        rc = corio__task_cancel_now(t) ? -ECANCELED : future_outcome(f, result);
    else if (rc == -ECANCELED) /* closed while parked (loop freed): as asyncio */
        corio_future_cancel(f);
    if (f->is_task) /* corio_future_release, inline */
        corio__task_unref((corio_task *)f);
    else if (--f->refs == 0)
        future_free(f);
    return rc;
}
