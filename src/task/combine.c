/*
 * combine.c: asyncio's combinators: gather, wait, as_completed, wait_for,
 * shield.
 *
 * gather, wait and as_completed share one structure, a `multi`: a single
 * allocation holding a watch per future. A watch is a wait record with no
 * task (wait.h) linked into its future's waiters while the future is
 * pending; the future's completion calls watch_done synchronously, which
 * records the outcome and wakes the task parked on the multi when the
 * combinator's condition holds. Nothing is on the task's stack, so lean
 * tasks are safe, and registering n watches cannot fail half-way. (A
 * watch reacts inside the completion, as a task parked on the future
 * does, rather than through the ready queue as asyncio's done callbacks
 * do, so the waiting task may resume a loop pass earlier than in asyncio.)
 *
 * Invariants:
 *   - m->nlinked counts watches still linked into their futures;
 *   - every watch holds a reference on its future from multi_new until
 *     multi_free, or for an orphaned gather (owned == 0) until the watch's
 *     future is done; an orphaned multi is freed by its last watch;
 *   - m->task is set only while that task is parked on m (its record's
 *     obj is m); whoever ends the wait (watch_done, the timer, the
 *     record's detach) clears it first.
 *
 * Limit: an orphaned gather watching a plain future that is never
 * completed keeps that future and the multi alive (asyncio's callback
 * keeps its gather alive the same way). Tasks always complete, at the
 * latest when their loop is freed.
 *
 * wait_for is a cancel scope (scope.c) around a park on the future, then,
 * if the park was cut short, a cancel of the future and an uncancellable
 * wait for it (Python 3.11's _cancel_and_wait). shield links two futures
 * with a small heap node watching both.
 */
#include "alloc.h"
#include "task/task_impl.h"

#include <corio/combine.h>
#include <corio/scope.h>
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

enum { KIND_GATHER, KIND_WAIT, KIND_ITER };

typedef struct corio_as_completed multi;
typedef struct watch watch;
typedef struct gather_fut gather_fut;

struct watch {
    corio__wait w;     /* a watcher in f's waiters, while linked */
    multi *m;
    corio_future *f;
    watch *next_done;  /* as_completed: done, not yet handed out */
    void *result;      /* gather: f's outcome, read when it completed */
    int err;
    unsigned char linked;
};

struct corio_as_completed {
    corio__timer timer;    /* the timeout (wait, as_completed) */
    corio_loop *loop;
    corio_task *task;      /* parked on this multi, or NULL */
    size_t n, ndone, nlinked;
    int first_err;         /* gather: the first failure; wait: a failure */
    unsigned char kind;
    unsigned char mode;    /* gather flags, or the wait mode */
    unsigned char owned;   /* the call or iterator still uses it */
    unsigned char timed_out;
    unsigned char freed;   /* as_completed_free while a task waited */
    unsigned char cancelling; /* gather future: inside its cancel loop */
    gather_fut *gf;        /* corio_gather_start's future, while pending */
    watch *q_head, *q_tail; /* as_completed's queue */
    size_t nout;           /* as_completed: handed out */
    watch w[];
};

static watch *watch_of(corio__wait *w)
{
    return CORIO__CONTAINER(w, watch, w);
}

/* Check every entry: a live future of `loop` (or of none), and not the
 * running task's own. */
static int check_futures(corio_future *const *futs, size_t n,
                         const corio_loop *loop, const corio_task *self)
{
    size_t i;
    for (i = 0; i < n; i++) {
        const corio_future *f = futs[i];
        if (!f || f->magic != CORIO__FUTURE_MAGIC ||
            (f->loop && f->loop != loop))
            return -EINVAL;
        if (self && f == &self->fut)
            return -EDEADLK;
    }
    return 0;
}

/* ---- the shared watcher ---------------------------------------------------------- */

static void wake(multi *m)
{
    corio_task *t = m->task;
    if (t) {
        m->task = NULL;
        corio__wait_wake(&t->wait, 0, NULL);
    }
}

static void detach_multi(corio__wait *w)
{
    ((multi *)w->obj)->task = NULL;
}

/* What a gather, wait or as_completed still waits for: the pending ones,
 * tasks as edges. */
static void describe_multi(const corio__wait *w, corio__wait_desc *d)
{
    const multi *m = (const multi *)w->obj;
    size_t i;
    corio__wait_descf(d, "%s of %zu (%zu done)", w->ops->what, m->n,
                      m->ndone);
    if (corio__heap_node_queued(&m->timer.node)) {
        d->deadline = m->timer.node.key;
        corio__wait_descf(d, ", timeout in %.3f s",
                          (double)(d->deadline - corio__loop_now_ns()) / 1e9);
    }
    for (i = 0; i < m->n; i++) {
        corio_future *f = m->w[i].f;
        if (f && f->state == CORIO__FUT_PENDING && f->is_task)
            corio__wait_edge(d, (corio_task *)f, "awaits");
    }
}

static const corio__wait_ops gather_ops = {"gather", detach_multi, 0, 0,
                                           describe_multi};
static const corio__wait_ops gather_cancelling_ops = {
    "gather (cancelling)", detach_multi, 0, 0, describe_multi};
static const corio__wait_ops wait_ops = {"wait", detach_multi, 0, 0,
                                         describe_multi};
static const corio__wait_ops iter_ops = {"as_completed", detach_multi, 0, 0,
                                         describe_multi};

static int park_on(multi *m, corio_task *t, const corio__wait_ops *ops)
{
    int rc;
    m->task = t;
    rc = corio__wait_park(corio__wait_begin(t, ops, m, 0));
    assert(m->task == NULL);
    return rc;
}

/* w's future is done: what it means for each combinator. */
static void record_done(multi *m, watch *w)
{
    corio_future *f = w->f;
    switch (m->kind) {
    case KIND_GATHER:
        w->err = corio_future_result(f, &w->result); /* marks retrieved */
        m->ndone++;
        if (!(m->mode & CORIO_GATHER_COLLECT) && w->err && !m->first_err) {
            m->first_err = w->err;
            wake(m);
        }
        if (m->ndone == m->n)
            wake(m);
        break;
    case KIND_WAIT:
        m->ndone++;
        if (f->state == CORIO__FUT_ERROR)
            m->first_err = f->err;
        if (m->mode == CORIO_WAIT_FIRST_COMPLETED || m->ndone == m->n ||
            (m->mode == CORIO_WAIT_FIRST_EXCEPTION && m->first_err))
            wake(m);
        break;
    default: /* KIND_ITER */
        m->ndone++;
        w->next_done = NULL;
        if (m->q_tail)
            m->q_tail->next_done = w;
        else
            m->q_head = w;
        m->q_tail = w;
        wake(m);
        break;
    }
}

static void gather_fut_settle(multi *m);

static void watch_done(corio__wait *wt)
{
    watch *w = watch_of(wt);
    multi *m = w->m;
    w->linked = 0;
    m->nlinked--;
    record_done(m, w);
    if (m->gf) {
        gather_fut_settle(m); /* may orphan or free m */
        return;
    }
    if (!m->owned) { /* an orphaned gather: only retrieval was left */
        corio_future_release(w->f);
        if (m->nlinked == 0)
            corio__free(m);
    }
}

static const corio__wait_ops watch_ops = {"combinator watch", 0, 0,
                                          watch_done, 0};

static void unlink_watch(multi *m, watch *w)
{
    if (w->linked) {
        corio__future_remove_waiter(w->f, &w->w);
        w->linked = 0;
        m->nlinked--;
    }
}

static void timer_fire(corio__timer *tm)
{
    multi *m = (multi *)((char *)tm - offsetof(multi, timer));
    size_t i;
    m->timed_out = 1;
    if (m->kind == KIND_ITER) /* what completes later is not handed out */
        for (i = 0; i < m->n; i++)
            unlink_watch(m, &m->w[i]);
    wake(m);
}

/* Arm the timeout: `timeout` seconds from now (the caller rejected NaN);
 * INFINITY (or anything too far to matter) arms nothing. */
static int arm_timeout(multi *m, double timeout)
{
    int64_t at;
    int rc = corio__deadline_in(timeout, &at);
    if (rc || at == CORIO__NO_DEADLINE)
        return rc;
    return corio__timer_start(m->loop, &m->timer, at);
}

/* A multi watching futs[0..n); futures already done are recorded at once
 * (in array order). NULL when out of memory. */
static multi *multi_new(int kind, int mode, corio_future *const *futs,
                        size_t n, corio_loop *loop)
{
    multi *m;
    size_t i;
    if (n > (SIZE_MAX - sizeof *m) / sizeof(watch))
        return NULL;
    m = corio__malloc(sizeof *m + n * sizeof(watch));
    if (!m)
        return NULL;
    m->timer.fire = timer_fire;
    corio__heap_node_init(&m->timer.node);
    m->loop = loop;
    m->task = NULL;
    m->n = n;
    m->ndone = m->nlinked = 0;
    m->first_err = 0;
    m->kind = (unsigned char)kind;
    m->mode = (unsigned char)mode;
    m->owned = 1;
    m->timed_out = m->freed = 0;
    m->cancelling = 0;
    m->gf = NULL;
    m->q_head = m->q_tail = NULL;
    m->nout = 0;
    for (i = 0; i < n; i++) {
        watch *w = &m->w[i];
        w->m = m;
        w->f = futs[i];
        w->next_done = NULL;
        w->result = NULL;
        w->err = 0;
        corio_future_retain(w->f);
        if (w->f->state == CORIO__FUT_PENDING) {
            corio__wait_watch(&w->w, &watch_ops, w->f);
            w->linked = 1;
            m->nlinked++;
            corio__future_add_waiter(w->f, &w->w);
        } else {
            w->linked = 0;
            record_done(m, w);
        }
    }
    return m;
}

/* Stop watching, drop every reference, free. */
static void multi_free(multi *m)
{
    size_t i;
    assert(m->owned && !m->task);
    if (m->loop) /* a gather future of loop-less futures has none */
        corio__timer_stop(m->loop, &m->timer);
    for (i = 0; i < m->n; i++) {
        unlink_watch(m, &m->w[i]);
        corio_future_release(m->w[i].f);
    }
    corio__free(m);
}

/* gather returned early: watches still linked stay, to mark their futures'
 * outcomes retrieved; the last one frees m. */
static void multi_orphan(multi *m)
{
    size_t i;
    assert(m->owned && !m->task);
    m->owned = 0;
    for (i = 0; i < m->n; i++)
        if (!m->w[i].linked)
            corio_future_release(m->w[i].f);
    if (m->nlinked == 0)
        corio__free(m);
}

/* ---- gather ---------------------------------------------------------------------- */

/* Every future is done: the outcome without waiting. */
static int gather_done(corio_future *const *futs, size_t n, int collect,
                       void **results, int *errors)
{
    size_t i;
    int first = 0;
    for (i = 0; i < n; i++) {
        int rc = corio_future_result(futs[i], NULL); /* marks retrieved */
        if (rc && !first)
            first = rc;
    }
    if (first && !collect)
        return first;
    for (i = 0; i < n; i++) {
        void *r = NULL;
        int rc = corio_future_result(futs[i], &r);
        if (results)
            results[i] = r;
        if (collect)
            errors[i] = rc;
    }
    return 0;
}

int corio_gather(corio_future *const *futs, size_t n, unsigned flags,
                 void **results, int *errors)
{
    corio_task *t = corio__task_running();
    int collect = (flags & CORIO_GATHER_COLLECT) != 0;
    size_t i, pending = 0;
    multi *m;
    int rc;

    if ((!futs && n > 0) || (flags & ~CORIO_GATHER_COLLECT) ||
        (collect && !errors))
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if ((rc = check_futures(futs, n, t->loop, t)) != 0)
        return rc;
    for (i = 0; i < n; i++)
        pending += futs[i]->state == CORIO__FUT_PENDING;
    if (pending == 0)
        return gather_done(futs, n, collect, results, errors);
    if (!(m = multi_new(KIND_GATHER, (int)flags, futs, n, t->loop)))
        return -ENOMEM;

    for (;;) {
        if (!collect && m->first_err) { /* as soon as one fails */
            rc = m->first_err;
            multi_orphan(m);
            return rc;
        }
        if (m->ndone == n)
            break;
        if (corio__task_cancel_report(t) ||
            park_on(m, t, &gather_ops) != 0)
            goto cancelled;
    }
    for (i = 0; i < n; i++) {
        watch *w = &m->w[i];
        if (results)
            results[i] = w->err ? NULL : w->result;
        if (collect)
            errors[i] = w->err;
    }
    multi_free(m);
    return 0;

cancelled:
    /* asyncio cancels the children; corio also waits for them, so none
     * runs on after gather returns. Completions may unlink other watches
     * (a cancelled plain future completes at once): test each entry. */
    for (i = 0; i < n; i++)
        if (m->w[i].linked)
            corio_future_cancel(m->w[i].f);
    while (m->ndone < n && !t->loop->closing)
        park_on(m, t, &gather_cancelling_ops);
    multi_free(m);
    return -ECANCELED;
}

/* ---- gather as a future ----------------------------------------------------------- */

/* corio_gather_start's future. While it is pending, its multi watches the
 * children and holds a reference on it (so a dropped handle still
 * settles); results and errors are filled just before it completes with
 * a result. */
struct gather_fut {
    corio_future fut;      /* first: what the caller holds */
    multi *m;              /* watching the children while fut is pending */
    size_t n;
    unsigned flags;
    unsigned char cancel_requested;
    int *errors;           /* n entries, after results[] */
    void *results[];
};

static int gather_fut_cancel(corio_future *f);
static void gather_fut_free(corio_future *f);

static const corio__future_ops gather_fut_ops = {gather_fut_cancel,
                                             gather_fut_free};

static void gather_fut_complete(gather_fut *g, int err)
{
    unsigned char state = err == 0            ? CORIO__FUT_RESULT
                          : err == -ECANCELED ? CORIO__FUT_CANCELLED
                                              : CORIO__FUT_ERROR;
    corio__future_complete(&g->fut, state, err, err ? NULL : g->results);
    corio_future_release(&g->fut); /* the watching side's reference */
}

/* A child is done (or g was just made): complete g if its outcome is
 * known. The first failure completes it at once (without COLLECT, and
 * unless it is being cancelled); the multi is then orphaned and goes on
 * marking the other children's outcomes retrieved. Otherwise g completes
 * when every child is done: cancelled if a cancel was requested (even
 * with COLLECT, as asyncio), else with the results. */
static void gather_fut_settle(multi *m)
{
    gather_fut *g = m->gf;
    size_t i;
    int err;

    if (m->cancelling)
        return; /* gather_fut_cancel settles once its loop is over */
    if (!g->cancel_requested && !(g->flags & CORIO_GATHER_COLLECT) &&
        m->first_err) {
        err = m->first_err;
        g->m = NULL;
        m->gf = NULL;
        multi_orphan(m);
        gather_fut_complete(g, err);
        return;
    }
    if (m->ndone < m->n)
        return;
    if (!g->cancel_requested)
        for (i = 0; i < m->n; i++) {
            g->results[i] = m->w[i].err ? NULL : m->w[i].result;
            g->errors[i] = m->w[i].err;
        }
    g->m = NULL;
    m->gf = NULL;
    multi_free(m);
    gather_fut_complete(g, g->cancel_requested ? -ECANCELED : 0);
}

/* Cancel every child not yet done; g completes (cancelled) once all are. */
static int gather_fut_cancel(corio_future *f)
{
    gather_fut *g = (gather_fut *)f;
    multi *m = g->m;
    size_t i;

    if (f->state != CORIO__FUT_PENDING)
        return -EALREADY;
    g->cancel_requested = 1;
    /* A plain child completes inside its cancel, and that could settle g
     * and free m under this loop: settle after it. */
    m->cancelling = 1;
    for (i = 0; i < m->n; i++)
        if (m->w[i].linked)
            corio_future_cancel(m->w[i].f);
    m->cancelling = 0;
    gather_fut_settle(m);
    return 0;
}

static void gather_fut_free(corio_future *f)
{
    gather_fut *g = (gather_fut *)f;
    corio_loop *loop = f->loop;
    assert(!g->m);
    if (f->state == CORIO__FUT_ERROR && !f->retrieved)
        corio__warn("gather future %p failed with %s (%s) and nobody "
                    "retrieved it",
                    (void *)f, corio_errname(f->err), corio_strerror(f->err));
    f->magic = 0;
    corio__free(g);
    if (loop)
        corio__loop_unref(loop);
}

int corio_gather_start(corio_future *const *futs, size_t n, unsigned flags,
                       corio_future **out)
{
    corio_task *t = corio__task_running();
    corio_loop *loop = corio_loop_current();
    gather_fut *g;
    size_t i;
    multi *m;
    int rc;

    if ((!futs && n > 0) || (flags & ~CORIO_GATHER_COLLECT) || !out)
        return -EINVAL;
    for (i = 0; !loop && i < n; i++)
        if (futs[i])
            loop = futs[i]->loop;
    if ((rc = check_futures(futs, n, loop, t)) != 0)
        return rc;
    if (n > (SIZE_MAX - sizeof *g) / (sizeof(void *) + sizeof(int)))
        return -ENOMEM;
    if (!(g = corio__malloc(sizeof *g + n * (sizeof(void *) + sizeof(int)))))
        return -ENOMEM;
    corio__future_init(&g->fut, loop);
    g->fut.ops = &gather_fut_ops;
    g->m = NULL;
    g->n = n;
    g->flags = flags;
    g->cancel_requested = 0;
    g->errors = (int *)&g->results[n];
    if (!(m = multi_new(KIND_GATHER, (int)flags, futs, n, loop))) {
        corio__free(g);
        return -ENOMEM;
    }
    if (loop)
        loop->refs++;
    g->fut.refs++; /* the multi's, until g completes */
    g->m = m;
    m->gf = g;
    *out = &g->fut;
    gather_fut_settle(m); /* done already (n == 0, a failure, all done)? */
    return 0;
}

int corio_gather_result(corio_future *f, void **results, int *errors)
{
    gather_fut *g = (gather_fut *)f;
    size_t i;

    if (!f || f->magic != CORIO__FUTURE_MAGIC || f->ops != &gather_fut_ops ||
        ((g->flags & CORIO_GATHER_COLLECT) && !errors))
        return -EINVAL;
    if (f->state == CORIO__FUT_PENDING)
        return -EAGAIN;
    f->retrieved = 1;
    if (f->state != CORIO__FUT_RESULT)
        return f->err;
    for (i = 0; i < g->n; i++) {
        if (results)
            results[i] = g->results[i];
        if (g->flags & CORIO_GATHER_COLLECT)
            errors[i] = g->errors[i];
    }
    return 0;
}

/* ---- wait ---------------------------------------------------------------------- */

static int wait_holds(int mode, size_t ndone, size_t n, int failed)
{
    return ndone == n || (mode == CORIO_WAIT_FIRST_COMPLETED && ndone > 0) ||
           (mode == CORIO_WAIT_FIRST_EXCEPTION && failed);
}

int corio_wait(corio_future *const *futs, size_t n, int mode, double timeout,
               size_t *ndone)
{
    corio_task *t = corio__task_running();
    size_t i, done = 0;
    int failed = 0, rc;
    multi *m;

    if (!futs || n == 0 || mode < CORIO_WAIT_FIRST_COMPLETED ||
        mode > CORIO_WAIT_ALL_COMPLETED || isnan(timeout))
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if ((rc = check_futures(futs, n, t->loop, t)) != 0)
        return rc;
    for (i = 0; i < n; i++) {
        done += futs[i]->state != CORIO__FUT_PENDING;
        failed |= futs[i]->state == CORIO__FUT_ERROR;
    }
    if (wait_holds(mode, done, n, failed) || !(timeout > 0)) {
        if (ndone)
            *ndone = done;
        return 0;
    }
    if (corio__task_cancel_report(t))
        return -ECANCELED;
    if (!(m = multi_new(KIND_WAIT, mode, futs, n, t->loop)))
        return -ENOMEM;
    if ((rc = arm_timeout(m, timeout)) != 0) {
        multi_free(m);
        return rc;
    }
    /* Woken only once the condition holds or the timeout passed. */
    rc = park_on(m, t, &wait_ops);
    done = m->ndone;
    multi_free(m);
    if (rc)
        return rc;
    if (ndone)
        *ndone = done;
    return 0;
}

/* ---- as_completed ---------------------------------------------------------------- */

int corio_as_completed_new(corio_future *const *futs, size_t n,
                           double timeout, corio_as_completed **out)
{
    corio_loop *loop = corio_loop_current();
    multi *m;
    int rc;

    if (!out || (!futs && n > 0) || isnan(timeout))
        return -EINVAL;
    if (!loop)
        return CORIO_ENOTASK;
    if ((rc = check_futures(futs, n, loop, NULL)) != 0)
        return rc;
    if (!(m = multi_new(KIND_ITER, 0, futs, n, loop)))
        return -ENOMEM;
    if (m->nlinked > 0) {
        if (!(timeout > 0))
            timer_fire(&m->timer); /* those done now are still handed out */
        else if ((rc = arm_timeout(m, timeout)) != 0) {
            multi_free(m);
            return rc;
        }
    }
    *out = m;
    return 0;
}

int corio_as_completed_next(corio_as_completed *m, corio_future **f)
{
    corio_task *t = corio__task_running();
    int rc;

    if (!m || !f)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (m->task)
        return -EBUSY;
    for (;;) {
        watch *w = m->q_head;
        if (w) {
            m->q_head = w->next_done;
            if (!m->q_head)
                m->q_tail = NULL;
            m->nout++;
            *f = w->f;
            return 0;
        }
        if (m->nout == m->n)
            return CORIO_END;
        if (m->timed_out)
            return -ETIMEDOUT;
        if (corio__task_cancel_report(t))
            return -ECANCELED;
        rc = park_on(m, t, &iter_ops);
        if (m->freed) {
            corio__free(m);
            return -ESHUTDOWN;
        }
        if (rc)
            return rc;
    }
}

void corio_as_completed_free(corio_as_completed *m)
{
    corio_task *t;
    size_t i;
    if (!m)
        return;
    t = m->task;
    m->task = NULL;
    corio__timer_stop(m->loop, &m->timer);
    for (i = 0; i < m->n; i++) {
        unlink_watch(m, &m->w[i]);
        corio_future_release(m->w[i].f);
    }
    if (t) { /* misuse: a task waits in next; it frees m when it runs */
        m->freed = 1;
        corio__wait_wake(&t->wait, 0, NULL);
        return;
    }
    corio__free(m);
}

/* ---- wait_for ---------------------------------------------------------------------- */

static void describe_wait_for(const corio__wait *w, corio__wait_desc *d)
{
    corio__wait_descf(d, "%s: ", w->ops->what);
    corio__future_describe((const corio_future *)w->obj, d);
}

static const corio__wait_ops wait_for_ops = {"wait_for", corio__future_detach,
                                            0, 0, describe_wait_for};
static const corio__wait_ops wait_for_cancelling_ops = {
    "wait_for (cancelling)", corio__future_detach, 0, 0, describe_wait_for};

/* Park t until f is done or a cancel reaches t. */
static int park_on_future(corio_task *t, corio_future *f,
                          const corio__wait_ops *ops)
{
    return corio__wait_park(corio__future_wait_begin(f, t, ops));
}

int corio_wait_for(corio_future *f, double timeout, void **result)
{
    corio_task *t = corio__task_running();
    corio_scope *sc = NULL;
    void *res = NULL;
    int rc, interrupted = 0;

    if (!f || f->magic != CORIO__FUTURE_MAGIC || isnan(timeout))
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (f->loop && f->loop != t->loop)
        return -EINVAL;
    if (f == &t->fut)
        return -EDEADLK;
    if (f->state == CORIO__FUT_PENDING) {
        if (timeout != INFINITY && (rc = corio_scope_timeout(timeout, &sc)) != 0)
            return rc;
        corio_future_retain(f);
        if (!corio__task_cancel_report(t))
            park_on_future(t, f, &wait_for_ops);
        if (f->state == CORIO__FUT_PENDING) {
            /* Our deadline or an outside cancel: cancel f and wait until
             * it is really done, whatever else is cancelled meanwhile. */
            interrupted = 1;
            corio_future_cancel(f);
            while (f->state == CORIO__FUT_PENDING && !t->loop->closing)
                park_on_future(t, f, &wait_for_cancelling_ops);
        }
        rc = f->state == CORIO__FUT_PENDING ? -ECANCELED
                                            : corio_future_result(f, &res);
        corio_future_release(f);
        if (interrupted) {
            /* Closing converts -ECANCELED only if our deadline alone
             * caused it; -ECANCELED back means a cancel from outside. */
            int why = sc ? corio_scope_close(sc, -ECANCELED) : -ECANCELED;
            if (why != -ETIMEDOUT)
                return why;
            if (rc == -ECANCELED)
                rc = -ETIMEDOUT;
        } else if (sc) {
            corio_scope_close(sc, 0); /* done in time */
        }
    } else {
        rc = corio_future_result(f, &res);
    }
    if (rc == 0 && result)
        *result = res;
    return rc;
}

/* ---- shield ------------------------------------------------------------------------ */

typedef struct shield_link {
    corio__wait on_inner; /* in inner's waiters while both are pending */
    corio__wait on_outer; /* in outer's */
    corio_future *inner, *outer;
} shield_link;

static void link_free(shield_link *l)
{
    corio_future_release(l->inner);
    corio_future_release(l->outer);
    corio__free(l);
}

/* inner is done: pass its outcome on to outer. */
static void shield_inner_done(corio__wait *w)
{
    shield_link *l = CORIO__CONTAINER(w, shield_link, on_inner);
    corio_future *inner = l->inner;
    void *res = NULL;
    int rc;
    corio__future_remove_waiter(l->outer, &l->on_outer);
    rc = corio_future_result(inner, &res); /* marks retrieved */
    if (rc)
        corio_future_set_error(l->outer, rc); /* -ECANCELED: cancelled */
    else
        corio_future_set_result(l->outer, res);
    link_free(l);
}

/* outer is done first (cancelled, usually): inner runs on, unwatched. */
static void shield_outer_done(corio__wait *w)
{
    shield_link *l = CORIO__CONTAINER(w, shield_link, on_outer);
    corio__future_remove_waiter(l->inner, &l->on_inner);
    link_free(l);
}

static const corio__wait_ops shield_inner_ops = {"shield (inner)", 0, 0,
                                                shield_inner_done, 0};
static const corio__wait_ops shield_outer_ops = {"shield (outer)", 0, 0,
                                                shield_outer_done, 0};

int corio_future_shield(corio_future *f, corio_future **outer)
{
    shield_link *l;
    corio_future *o;
    int rc;

    if (!f || !outer || f->magic != CORIO__FUTURE_MAGIC)
        return -EINVAL;
    if (f->state != CORIO__FUT_PENDING) { /* asyncio returns f itself */
        corio_future_retain(f);
        *outer = f;
        return 0;
    }
    if (!(l = corio__malloc(sizeof *l)))
        return -ENOMEM;
    if ((rc = corio_future_new(f->loop, &o)) != 0) {
        corio__free(l);
        return rc;
    }
    l->inner = f;
    l->outer = o;
    corio_future_retain(f);
    corio_future_retain(o);
    corio__wait_watch(&l->on_inner, &shield_inner_ops, f);
    corio__wait_watch(&l->on_outer, &shield_outer_ops, o);
    corio__future_add_waiter(f, &l->on_inner);
    corio__future_add_waiter(o, &l->on_outer);
    *outer = o;
    return 0;
}
