/*
 * agen.c: async generators (corio/agen.h).
 *
 * A generator is a corio_coro of its own. Every operation (next, send,
 * throw, close) resumes it from the caller's coroutine and loops until it
 * yields or ends; whenever it awaits instead (CORIO_AWAITING: a task
 * parking, or a raw corio_await), the caller re-awaits the same object
 * with its own corio_await, so the wait reaches the task's step in the
 * loop (or a hand driver), and the answer is passed back down: resumed
 * with the sent value, or thrown in as the error the caller's await got.
 * The parking protocol needs nothing else: the generator runs as part of
 * the caller's task (corio__task_running is that task), so its waits link
 * the task, and a cancel of the task wakes them.
 *
 * Invariants:
 *   - busy  <=>  an operation is under way (its caller may be suspended
 *     in it), or `pending`: a finalizer task has been spawned for g and
 *     has not started; nobody else may resume g then.
 *   - g->loop != NULL  <=>  g is on that loop's `agens` list; home is then
 *     the loop's thread. It is set when g is first driven by a task and
 *     cleared when the loop is freed or g is destroyed.
 *   - orphan: the user freed g while it was suspended; the finalizer task
 *     (or the loop's teardown, if that task never runs) destroys it.
 *   - A CLOSED generator's stack has been given back.
 */
#include <corio/agen.h>

#include "alloc.h"
#include "task/task_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct corio_agen {
    corio_coro coro;
    corio_loop *loop;             /* the loop it belongs to, or NULL */
    corio__thread *home;          /* that loop's thread */
    corio__node node;             /* in loop->tasks->agens while loop is set */
    unsigned char busy;
    unsigned char pending;        /* a finalizer task is yet to start */
    unsigned char orphan;
    unsigned char at_exit;        /* its finalizer is corio_run's */
    unsigned char sync;           /* closing with nobody to serve waits */
};

/* ---- registration with a loop ------------------------------------------------- */

static void close_agens(corio__closer *c, corio_loop *loop);

/* Link g to loop; the first link registers agen.c's closer. 0, or
 * -ENOMEM when the task layer cannot attach (never when a task of loop
 * runs: it is attached then). */
static int link_to_loop(corio_agen *g, corio_loop *loop, corio__thread *th)
{
    corio__loop_tasks *tl = corio__tasks_of(loop);
    if (!tl)
        return -ENOMEM;
    if (!tl->close_agens.close) {
        tl->close_agens.order = CORIO__CLOSE_AGENS;
        tl->close_agens.close = close_agens;
        corio__loop_add_closer(loop, &tl->close_agens);
    }
    g->loop = loop;
    g->home = th;
    corio__list_push_front(&tl->agens, &g->node);
    return 0;
}

static void unlink_from_loop(corio_agen *g)
{
    if (!g->loop)
        return;
    corio__list_remove(&g->loop->tasks->agens, &g->node);
    g->loop = NULL;
    g->home = NULL;
}

static void close_now(corio_agen *g);

static corio_agen *agen_of(corio__node *n)
{
    return n ? CORIO__CONTAINER(n, corio_agen, node) : NULL;
}

/* Free g. One still suspended (it ignored a close) gets one more close
 * with no driver; if it ignores that too, its frames are dropped without
 * running again. Never corio__coro_fini's own close: that resumes g raw,
 * and a wait in g's cleanup would park whatever task is running (the
 * finalizer, say) with nobody to undo it: its timer or wakeup would later
 * reach a task that went on, or ended. */
static void destroy(corio_agen *g)
{
    unlink_from_loop(g);
    if (g->coro.state == CORIO_CORO_CREATED)
        g->coro.flags |= CORIO__F_DISMISSED; /* never iterated: no warning */
    if (g->coro.state == CORIO_CORO_SUSPENDED) {
        close_now(g);
        if (g->coro.state == CORIO_CORO_SUSPENDED) {
            corio__warn("async generator '%s' ignored its close again; its "
                        "frames are discarded without cleanup",
                        g->coro.name);
            corio__coro_discard(&g->coro);
        }
    }
    corio__coro_fini(&g->coro);
    corio__free(g);
}

/* ---- driving ---------------------------------------------------------------------- */

/*
 * Resume g with `value` (err == 0) or throw err in, and keep it running
 * until it yields or ends, passing its waits up to the caller's driver
 * (see the top of the file). Returns what the coro layer returns:
 * CORIO_YIELDED with *out, CORIO_FINISHED, or an error.
 */
static int drive(corio_agen *g, void *value, int err, void **out)
{
    corio__thread *th = corio__thread_self();
    corio_task *t = corio__task_running();
    const struct corio_scope *entry = t ? t->scope : NULL;
    int rc;

    *out = NULL;
    g->busy = 1;
    if (t && !g->loop && !g->sync)
        (void)link_to_loop(g, t->loop, th); /* attached: t runs on it */
    rc = err ? corio_coro_throw(&g->coro, err, out)
             : corio_coro_resume(&g->coro, value, out);
    for (;;) {
        if (rc == CORIO_AWAITING) {
            void *back = NULL;
            if (g->sync)
                err = CORIO_ENOTASK; /* being closed with no driver */
            else if (!th->current)
                err = CORIO_ENOTASK; /* a wait with no task, no driver */
            else
                err = corio_await(*out, &back);
            rc = err ? corio_coro_throw(&g->coro, err, out)
                     : corio_coro_resume(&g->coro, back, out);
            continue;
        }
        if (rc == CORIO_YIELDED && t && t->scope != entry) {
            /* PEP 789: a scope g opened would leak into the consumer. */
            rc = corio_coro_throw(&g->coro, CORIO_EYIELDSCOPE, out);
            continue;
        }
        break;
    }
    g->busy = 0;
    if (rc != CORIO_YIELDED) {
        *out = NULL;
        corio__coro_release_stack(&g->coro);
        if (t && t->scope != entry) /* C lets a body leave one open */
            corio__warn("async generator '%s' ended with a cancel scope or "
                        "task group of its own still open; task '%s' now "
                        "runs inside it", g->coro.name, t->name);
    }
    return rc;
}

/* The checks every operation makes first: 0 to go on. */
static int check(const corio_agen *g)
{
    if (!g)
        return -EINVAL;
    /* The thread first: another thread must not read `busy`, which the
     * owner changes unsynchronized (home is set before g can be shared). */
    if (g->home && g->home != corio__thread_self())
        return CORIO_EWRONGTHREAD;
    if (g->busy)
        return CORIO_ERUNNING;
    return 0;
}

/* next, send and throw: map the coro layer's statuses to the agen ones. */
static int step(corio_agen *g, void *value, int err, void **item)
{
    void *out = NULL;
    int rc = check(g);

    if (item)
        *item = NULL;
    if (rc)
        return rc;
    if (g->coro.state == CORIO_CORO_CLOSED)
        return CORIO_END;
    if (value && g->coro.state == CORIO_CORO_CREATED)
        return CORIO_ENOTSTARTED;
    rc = drive(g, value, err, &out);
    if (rc == CORIO_YIELDED) {
        if (item)
            *item = out;
        return 0;
    }
    if (rc == CORIO_FINISHED)
        return CORIO_END;
    return rc;
}

int corio_agen_new(corio_coro_fn fn, void *arg, const corio_coro_opts *opts,
                   corio_agen **out)
{
    corio_coro_opts o;
    corio_agen *g;
    int rc;

    if (!fn || !out)
        return -EINVAL;
    memset(&o, 0, sizeof o);
    if (opts)
        o = *opts;
    if (!o.name)
        o.name = "agen";
    g = corio__calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    if ((rc = corio__coro_init(&g->coro, fn, arg, &o)) != 0) {
        corio__free(g);
        return rc;
    }
    *out = g;
    return 0;
}

int corio_agen_next(corio_agen *g, void **item)
{
    return step(g, NULL, 0, item);
}

int corio_agen_send(corio_agen *g, void *value, void **item)
{
    return step(g, value, 0, item);
}

int corio_agen_throw(corio_agen *g, int err, void **item)
{
    if (err >= 0) {
        if (item)
            *item = NULL;
        return -EINVAL;
    }
    return step(g, NULL, err, item);
}

int corio_agen_close(corio_agen *g)
{
    void *out;
    int rc = check(g);

    if (rc)
        return rc;
    switch (g->coro.state) {
    case CORIO_CORO_CREATED:
        return corio_coro_close(&g->coro); /* never runs */
    case CORIO_CORO_SUSPENDED:
        break;
    default:
        return 0;
    }
    rc = drive(g, NULL, CORIO_EEXIT, &out);
    if (rc == CORIO_YIELDED)
        return CORIO_EIGNORED;
    if (rc == CORIO_FINISHED || rc == CORIO_EEXIT)
        return 0;
    return rc;
}

/* ---- finalization ------------------------------------------------------------------ */

static void report_close(corio_agen *g, int rc)
{
    if (rc == CORIO_EIGNORED)
        corio__warn("async generator '%s' ignored aclose: it yielded while "
                    "being closed", g->coro.name);
    else if (rc < 0 && rc != -ECANCELED)
        corio__warn("async generator '%s' failed while being closed: %s",
                    g->coro.name, corio_strerror(rc));
}

/* Close g with no driver: its waits fail at once with CORIO_ENOTASK. The
 * running task, if any, is hidden meanwhile, so that g's waits do not
 * park it at all: a park undone by the thrown error still leaves some
 * waits behind (a sleep(0) has queued the task already). */
static void close_now(corio_agen *g)
{
    corio_task *task = corio__task_cur;

    g->busy = 0;
    g->sync = 1;
    corio__task_cur = NULL;
    report_close(g, corio_agen_close(g));
    corio__task_cur = task;
    g->sync = 0;
}

/* The body of a finalizer task: aclose, report, and destroy an orphan. */
static int finalize(void *arg, void **result)
{
    corio_agen *g = arg;
    corio_loop *loop = corio_loop_current();
    int at_exit = g->at_exit;
    (void)result;
    g->busy = g->pending = g->at_exit = 0; /* held for us since the spawn */
    report_close(g, corio_agen_close(g));
    if (g->orphan)
        destroy(g);
    /* corio_run's shutdown waits for these, not for what they started. */
    if (at_exit && loop && --loop->tasks->agens_closing == 0)
        corio_loop_stop(loop);
    return 0;
}

/* Start a task on `loop` that closes g; g stays busy until it runs. */
static int spawn_finalizer(corio_agen *g, corio_loop *loop, corio_task **out)
{
    corio_task_opts opts;
    int rc;

    memset(&opts, 0, sizeof opts);
    opts.name = g->coro.name;
    rc = corio_task_spawn_at(loop, finalize, g, &opts, out, "aclose", 0);
    if (rc == 0)
        g->busy = g->pending = 1;
    return rc;
}

int corio_agen_free(corio_agen *g)
{
    corio__thread *th = corio__thread_self();
    corio_loop *loop = corio_loop_current();
    int rc;

    if (!g)
        return 0;
    if ((rc = check(g)) != 0)
        return rc;
    if (g->coro.state != CORIO_CORO_SUSPENDED) {
        destroy(g);
        return 0;
    }
    corio__warn("async generator '%s' freed without aclose; closing it",
                g->coro.name);
    if (loop && !loop->closing && (!g->loop || g->loop == loop)) {
        if ((g->loop || link_to_loop(g, loop, th) == 0) &&
            spawn_finalizer(g, loop, NULL) == 0) {
            g->orphan = 1;
            return 0;
        }
    }
    close_now(g);
    destroy(g);
    return 0;
}

/* Unfinished generators of `loop` that nobody is using. */
static int closable(const corio_agen *g)
{
    return !g->busy && g->coro.state == CORIO_CORO_SUSPENDED;
}

int corio_agen_shutdown(void)
{
    corio_task *t = corio__task_running();
    corio_task **tasks;
    corio_agen *g;
    size_t n = 0, i;
    int rc = 0;

    if (!t)
        return CORIO_ENOTASK;
    for (g = agen_of(t->loop->tasks->agens.first); g; g = agen_of(g->node.next))
        n += closable(g);
    if (n == 0)
        return 0;
    if (corio__task_cancel_report(t))
        return -ECANCELED; /* it would wait for the closing tasks */
    tasks = corio__calloc(n, sizeof *tasks);
    i = 0;
    for (g = agen_of(t->loop->tasks->agens.first); g && i < n;
         g = agen_of(g->node.next)) {
        if (!closable(g))
            continue;
        if (!tasks || spawn_finalizer(g, t->loop, &tasks[i]) != 0) {
            close_now(g);
            rc = -ENOMEM;
            continue;
        }
        i++;
    }
    for (n = 0; n < i; n++) {
        int jrc = corio_task_join(tasks[n], NULL);
        if (jrc == -ECANCELED && rc == 0)
            rc = -ECANCELED;
        corio_task_release(tasks[n]);
    }
    corio__free(tasks);
    return rc;
}

size_t corio__agens_shutdown(corio_loop *loop)
{
    corio__loop_tasks *tl = loop->tasks;
    size_t n = 0;
    corio_agen *g;

    if (!tl)
        return 0;
    for (g = agen_of(tl->agens.first); g; g = agen_of(g->node.next)) {
        if (g->pending && tl->ntasks == 0)
            g->busy = g->pending = 0; /* its finalizer was cancelled
                                         before it ran: try again */
        if (!closable(g))
            continue;
        if (spawn_finalizer(g, loop, NULL) == 0) {
            g->at_exit = 1;
            n++;
        } else {
            close_now(g);
        }
    }
    tl->agens_closing = n;
    return n;
}

/* Closer CORIO__CLOSE_AGENS (after the tasks that may be driving them):
 * close the generators left at once and detach them. */
static void close_agens(corio__closer *c, corio_loop *loop)
{
    corio__loop_tasks *tl = CORIO__CONTAINER(c, corio__loop_tasks,
                                             close_agens);
    corio_agen *g;

    (void)loop;
    while ((g = agen_of(tl->agens.first)) != NULL) {
        unlink_from_loop(g);
        if (g->busy && !g->pending) {
            /* Its operation's task was torn down and g went on waiting
             * (it ignored the close): its frames refer to a dead task,
             * so it must not run again. Left as it is. */
            corio__warn("async generator '%s' was still running when its "
                        "loop was freed; it is abandoned",
                        g->coro.name);
            continue;
        }
        g->pending = 0;
        if (g->coro.state == CORIO_CORO_SUSPENDED)
            close_now(g);
        if (g->orphan)
            destroy(g);
    }
}

corio_state corio_agen_state(const corio_agen *g)
{
    if (!g)
        return CORIO_CORO_CLOSED;
    if (g->busy)
        return CORIO_CORO_RUNNING;
    return (corio_state)g->coro.state;
}

const char *corio_agen_name(const corio_agen *g)
{
    return g ? g->coro.name : "agen";
}
