/*
 * task_impl.h: the task layer as corio's own layers see it: futures,
 * tasks, the task side of waiting (the parking protocol over wait.h's
 * record), cancel scopes, the task layer's per-loop state, and what
 * agen.c, group.c and run.c share. sync/, chan/ and io/ include this
 * header; it includes the loop layer's (loop/loop_impl.h) and wait.h.
 *
 * Parking. Every blocking primitive (futures, sleep, I/O, locks, queues,
 * topics, signals, combinators) waits the same way, through the task's
 * one wait record (wait.h): once it knows it would have to wait, it checks
 * corio__task_cancel_report, starts the record with corio__wait_begin,
 * links it into whatever it waits on and calls corio__wait_park. Whoever
 * satisfies the wait unlinks the record and calls corio__wait_wake; a
 * cancel calls the kind's detach and ends it with -ECANCELED. Nothing
 * about a wait lives on the task's stack, so lean tasks are safe.
 *
 * Per-loop state. What the task layer keeps per loop (live tasks, counts,
 * recycled tasks and futures, async generators, corio_run's state) is a
 * corio__loop_tasks, allocated once when the layer first attaches to the
 * loop (corio__tasks_of), hung off loop->tasks; attaching registers the
 * layer's closers and its deadlock report. The loop sees none of it.
 *
 * Invariants:
 *   - a task is in exactly one place: running, in the ready queue
 *     (queued), parked (t->wait.state == PENDING), or done (debug builds
 *     check it at every scheduling point: CORIO__TASK_CHECK);
 *   - the loop holds a reference on every task not yet done, and counts
 *     it in loop->alive (and in its loop_tasks' ntasks);
 *   - t->fut.state != PENDING  <=>  the task is done and its coroutine
 *     closed;
 *   - loop->tasks, once set, stays until the loop's memory goes.
 */
#ifndef CORIO_TASK_IMPL_H
#define CORIO_TASK_IMPL_H

#include <corio/future.h>
#include <corio/task.h>
#include <errno.h>
#include <stddef.h>

#include "loop/loop_impl.h"
#include "task/wait.h"

/* ---- futures -------------------------------------------------------------- */

enum { CORIO__FUT_PENDING, CORIO__FUT_RESULT, CORIO__FUT_ERROR,
       CORIO__FUT_CANCELLED };

#define CORIO__FUTURE_MAGIC 0x66757475u
#define CORIO__FUTURE_FREE_MAX 4096 /* recycled futures a loop keeps */

/* A future that is part of a bigger object (a gather's): cancel replaces
 * the plain "complete as cancelled", free is called at the last release
 * instead of recycling, and the outcome cannot be set from outside. */
typedef struct corio__future_ops {
    int (*cancel)(corio_future *f);
    void (*free)(corio_future *f);
} corio__future_ops;

struct corio_future {
    unsigned magic;
    int refs;
    unsigned char state;
    unsigned char retrieved;
    unsigned char is_task;
    int err;
    void *result;
    const corio__future_ops *ops; /* NULL: a plain future or a task's */
    corio_loop *loop;
    corio__list waiters;    /* corio__wait records: tasks and watchers */
    corio_future *next_free; /* its loop_tasks' free list */
    /* The task expected to complete it, for reports only (diag.h's
     * corio_diag_future_completer): borrowed, so checked against the
     * loop's live tasks (by address and id) before it is read. */
    struct corio_task *completer;
    uint64_t completer_id;
};

/* ---- tasks ---------------------------------------------------------------- */

struct corio_task {
    corio_future fut;       /* first: the task's outcome */
    corio_coro coro;
    corio__ready ready;     /* its step, when queued */
    corio__wait wait;       /* its one wait record (wait.h) */
    corio__timer timer;     /* corio_sleep */
    corio_loop *loop;
    corio__node all_node;   /* in its loop_tasks' all while not done */
    const char *name;
    const char *file;
    int line;
    uint64_t id;
    uint64_t parent_id;     /* the task that spawned it (0: none), reports */
    int64_t wait_since;     /* debug mode (src/diag/): when it last parked,
                               loop ns; 0: not known */
    int cancel_requests;    /* asyncio's _num_cancels_requested */
    unsigned char cancel_seen; /* a suspension reported the cancellation
                                  since the last request (asyncio's
                                  _must_cancel, inverted) */
    struct corio_scope *scope; /* innermost open cancel scope, or NULL */
    struct corio_group *group; /* the group it was spawned into, or NULL */
    int stopping_groups;    /* groups it parents that were asked to stop */
    unsigned char queued;   /* in the ready queue */
    unsigned char resume_how; /* CORIO__RESUME_* for its next step */
    char *message;          /* corio_fail */
    const char *fail_file;  /* where corio_fail was called (read only
                               while message is set); NULL: unknown */
    int fail_line;
    void *fail_trace;       /* debug mode: corio__fail_trace's record of
                               that corio_fail, or NULL (read only while
                               message is set; freed with it) */
    char *cancel_msg;       /* corio_task_cancel_msg's copy, or NULL */
    unsigned char cancel_msg_fixed; /* a cancel woke it and it has not run
                                       since: later cancels keep the
                                       message it will see (asyncio) */
    struct corio__ctx_map *ctxvars; /* its context (ctxvar.c), NULL: empty */
    struct corio_context *ctx_whole; /* spawned into this corio_context, or NULL */
    char autoname[24];
};

enum {
    CORIO__RESUME_NORMAL, /* resume; a parked wait reads t->wait */
    CORIO__RESUME_RAW,    /* waited on a future through raw corio_await:
                             throw t->wait.value in if it is an error */
    CORIO__RESUME_BADYIELD, /* awaited something that is not a future */
    CORIO__RESUME_YIELD     /* a bare corio_yield (sleep(0)): throw in a
                               cancel that stands by then */
};

/* Debug mode's async traceback of a task error nobody retrieved, set by
 * the diagnostics layer (src/diag/) when it is linked in. capture runs in
 * corio_fail when the task's loop is in debug mode (loop->run_hook set),
 * on the task's stack; fp is corio_fail's own frame: it records the C
 * backtrace from corio_fail's caller outward and the chain of spawning
 * tasks, in one corio__malloc'd block (NULL: no memory) that the task
 * frees. print runs under task_free's "nobody retrieved the error"
 * report in debug mode, with that record or NULL (the task failed
 * without corio_fail: the chain as it stands). */
typedef struct corio__fail_trace_hooks {
    void *(*capture)(const corio_task *t, void *fp);
    void (*print)(const corio_task *t, const void *trace);
} corio__fail_trace_hooks;
extern const corio__fail_trace_hooks *corio__fail_trace;

/* ---- the task layer's per-loop state ---------------------------------------- */

typedef struct corio__loop_tasks {
    corio__list all;              /* live tasks (corio_task.all_node) */
    size_t ntasks;
    uint64_t next_task_id;
    corio_task *task_free;        /* recycled task objects */
    size_t task_free_n;
    corio_future *fut_free;       /* recycled futures */
    size_t fut_free_n;
    corio__list agens;            /* async generators iterated here (agen.c) */
    size_t agens_closing;         /* corio_run's closing tasks not yet done */
    void *run_state;              /* corio_run's bookkeeping (run.c) */
    corio__closer close_tasks;    /* task.c: CORIO__CLOSE_TASKS */
    corio__closer close_agens;    /* agen.c, when it first links one */
    corio__closer close_memory;   /* task.c: the recycled objects */
    corio__closer release;        /* task.c: this struct */
} corio__loop_tasks;

/* Attach the task layer to loop (task.c): NULL when out of memory or when
 * the loop is closing. */
corio__loop_tasks *corio__tasks_attach(corio_loop *loop);
/* The task layer's state of loop, attached on first use. */
static inline corio__loop_tasks *corio__tasks_of(corio_loop *loop)
{
    return loop->tasks ? loop->tasks : corio__tasks_attach(loop);
}

/* ---- context capture, the task side (ctxvar.c) -------------------------------- */

/* A reference to the current context's map (a spawn's copy). */
struct corio__ctx_map *corio__ctx_current(void);
/* 1 if ctx is entered (by a task or a callback). */
int corio__ctx_busy(const struct corio_context *ctx);

/* A task spawned into ctx enters it for its whole life (its own map is
 * dropped): -EBUSY if ctx is entered. leave, when the task finishes,
 * gives the map back (no-op without one). */
int corio__ctx_enter_whole(corio_task *t, struct corio_context *ctx);
void corio__ctx_leave_whole(corio_task *t);
/* ---- internal calls ----------------------------------------------------------- */

/* The running task of this thread, or NULL: the task layer's own
 * thread-local (task.c), set around each step; initial-exec like the
 * coroutine layer's, so reading it is one load. */
extern _Thread_local corio_task *corio__task_cur
    __attribute__((tls_model("initial-exec")));
static inline corio_task *corio__task_running(void)
{
    return corio__task_cur;
}

/* 1 if a park by t would return -ECANCELED at once: the innermost
 * cancelled scope comes before any shield, or (no shield on the way) the
 * task has cancel requests. A pure question: it changes nothing. */
int corio__task_cancel_pending(const corio_task *t);
/* corio__task_cancel_pending, for a caller that turns a 1 into -ECANCELED
 * for t's body: it also notes that a suspension reported the request, so a
 * body that then returns normally ends with its result, not cancelled
 * (asyncio's _must_cancel is cleared by the CancelledError it throws). */
int corio__task_cancel_report(corio_task *t);
/* 0 when no cancel can stand on t (no scope, no request): the common
 * case, in two loads and one branch (expected not taken); 1 when
 * corio__task_cancel_pending must be asked. */
static inline int corio__task_cancel_maybe(const corio_task *t)
{
    return __builtin_expect(((uintptr_t)t->scope |
                             (uintptr_t)(t->cancel_requests > 0)) != 0,
                            0);
}
/* corio__task_cancel_report, inline where no cancel can stand. */
static inline int corio__task_cancel_now(corio_task *t)
{
    return corio__task_cancel_maybe(t) && corio__task_cancel_report(t);
}
/* Wake t with -ECANCELED if it is parked and a cancel now reaches it. */
void corio__task_deliver_cancel(corio_task *t);
/* Group scopes (scope.c, for group.c): a scope of kind CORIO__SCOPE_GROUP
 * behaves like a plain scope whose close converts nothing. push opens one
 * on the running task t; pop closes s if it is t's innermost scope (0) or
 * reports CORIO_ESCOPE; pop does not withdraw the cancel request a
 * cancelled scope added (the group's wait decides, as asyncio does). */
#define CORIO__SCOPE_GROUP 3
int corio__scope_push(corio_task *t, int kind, struct corio_scope **out);
int corio__scope_pop(corio_task *t, struct corio_scope *s);
void corio__scope_cancel(struct corio_scope *s);
/* Free the scopes a finished task left open (scope.c), with a warning. */
void corio__scopes_abandon(corio_task *t);

/* 1 while t is parked (its record PENDING). */
static inline int corio__task_parked(const corio_task *t)
{
    return t->wait.state == CORIO__WAIT_PENDING;
}
/* Debug builds: check t's invariants at a scheduling point (task.c):
 * a task is in exactly one place (its coroutine running; suspended and
 * either queued or parked on its wait record; or done), its record is
 * consistent, and the loop holds it (in loop->tasks->all, referenced) while it
 * is not done. Compiled out under NDEBUG. */
#ifdef NDEBUG
#define CORIO__TASK_CHECK(t) ((void)0)
#else
void corio__task_check(const corio_task *t);
#define CORIO__TASK_CHECK(t) corio__task_check(t)
#endif
/* Queue t's next step (a wake, a cancel, the raw await, yields). t must
 * not be queued already. */
static inline void corio__task_ready(corio_task *t)
{
    if (NEVER(t->queued) || t->loop->closing)
        return;
    t->queued = 1;
    corio__ready_push(t->loop, &t->ready);
}
/* See wait.h. */
static inline void corio__wait_wake(corio__wait *w, int value, void *payload)
{
    if (NEVER(w->state != CORIO__WAIT_PENDING))
        return; /* woken twice, or never parked */
    w->state = CORIO__WAIT_GRANTED;
    w->value = value;
    w->payload = payload;
    if (w->task) {
        corio__task_ready(w->task);
        CORIO__TASK_CHECK(w->task);
    } else {
        w->ops->notify(w);
    }
}
/* See wait.h. t is the running task, or the task whose step the loop is
 * finishing (a raw await, task.c). */
static inline corio__wait *corio__wait_begin(corio_task *t,
                                             const corio__wait_ops *ops,
                                             const void *obj, unsigned flags)
{
    corio__wait *w = &t->wait;
    CORIO_ASSERT(ops && ops->detach);
    CORIO_ASSERT(w->state != CORIO__WAIT_PENDING); /* one wait at a time */
    CORIO_ASSERT(w->task == t); /* set once, by the spawn */
    w->ops = ops;
    w->obj = obj;
    w->payload = NULL;
    w->value = 0;
    w->state = CORIO__WAIT_PENDING;
    w->flags = (unsigned char)flags;
    return w;
}
/* The token a parked coroutine awaits (wait.c; task.c's step knows it). */
extern const char corio__parked_token;
/* A task's step, what its ready node runs (task.c). */
void corio__task_step(corio__ready *r);

/* The direct hand-off (task.c's comment says why and when): the task the
 * running task t may switch straight to as it parks, taken off the ready
 * queue and made ready to run as the loop's step would, or NULL. */
static inline __attribute__((always_inline)) corio_task *
corio__task_handoff(corio_task *t)
{
    corio__ready *r;
    corio_task *n;

    /* RUNNING, not NORMAL: t's own coroutine parks, not one it resumed
     * (a generator parks into it, not to the loop). */
    if ((r = corio__loop_handoff_peek(t->loop)) == NULL ||
        r->run != corio__task_step || t->coro.state != CORIO_CORO_RUNNING)
        return NULL;
    n = (corio_task *)((char *)r - offsetof(corio_task, ready));
    /* (n is queued, so not parked: CORIO__TASK_CHECK below says so in
     * debug builds. It may be t itself: a sleep(0) queues its task.) */
    if (n->resume_how != CORIO__RESUME_NORMAL || n == t ||
        !corio__coro_can_transfer(&t->coro, &n->coro))
        return NULL;
    CORIO__TASK_CHECK(n);
    corio__loop_handoff_take(t->loop);
    n->queued = 0;
    n->cancel_msg_fixed = 0; /* it sees its cancel (and message) now */
    return n;
}

/* corio__wait_park (wait.h), inline for the hot waits (a future's await,
 * an event's wait, a queue's get), in two steps:
 *   rc = CORIO__WAIT_SWITCH(w);      (suspends)
 *   rc = CORIO__WAIT_PARKED(w, rc);  (what corio__wait_park returns)
 * SWITCH suspends the running task, parked on w: it switches straight to
 * the one task its wake made ready when the loop allows it (the direct
 * hand-off), else back to the loop. Macros, not inline functions, so that
 * the switch is called from the waiting function's own code: a parked
 * task's backtrace (scripts/corio-gdb.py, src/diag/) names the call it
 * waits in (corio_event_wait), not a helper inlined into it. w and rc must
 * be variables (read more than once). */
#define CORIO__WAIT_SWITCH(w)                                               \
    (corio__wait_handoff(w)                                                 \
         ? corio__coro_transfer(&(w)->task->coro, &corio__task_cur->coro,   \
                                NULL)                                       \
         : corio_await((void *)&corio__parked_token, NULL))
#define CORIO__WAIT_PARKED(w, rc)                                           \
    (__builtin_expect((rc) != 0, 0) ? corio__wait_park_failed((w), (rc))   \
     : NEVER((w)->state == CORIO__WAIT_PENDING) ? corio__wait_park_stray(w) \
                                                : (w)->value)
/* The hand-off's decision for the park of w: 1 when the task it switches
 * to is taken and made the running one (corio__task_cur). */
static inline __attribute__((always_inline)) int
corio__wait_handoff(corio__wait *w)
{
    corio_task *t = w->task, *n;
    if (t != corio__task_cur || (n = corio__task_handoff(t)) == NULL)
        return 0; /* to the loop, or to a raw driver's coroutine */
    corio__task_cur = n;
    return 1;
}
/* The rare ends of a park (wait.c): the switch returned rc != 0 (thrown
 * into or closed while parked); resumed with w still PENDING (a bug). */
int corio__wait_park_failed(corio__wait *w, int rc);
int corio__wait_park_stray(corio__wait *w);

/* Cancel every live task of the loop (corio_run's shutdown). */
void corio__loop_cancel_all(corio_loop *loop);

/* The live task of loop at address t with id `id`, or NULL (task.c): for
 * reports holding a borrowed pointer that may have ended. */
corio_task *corio__task_find(corio_loop *loop, const void *t, uint64_t id);
/* The live task of loop with id `id`, or NULL (task.c). */
corio_task *corio__task_by_id(corio_loop *loop, uint64_t id);

/* The task whose step r is, or NULL (another kind of ready node). */
corio_task *corio__task_of_step(corio__ready *r);
/* Debug mode (wait.c): the loop's run hook that stamps parks
 * (t->wait_since), and whether CORIO_DEBUG asks for it (task.c sets the
 * hook on a loop when the task layer attaches to it). */
void corio__task_debug_run(corio_loop *loop, size_t count);
int corio__debug_env(void);
/* The task a group belongs to (group.c), for reports. */
corio_task *corio__group_parent(const struct corio_group *g);

/* Release a task reference (task.c). */
void corio__task_unref(corio_task *t);
/* Future internals shared with task.c. */
void corio__future_init(corio_future *f, corio_loop *loop);
int corio__future_complete(corio_future *f, unsigned char state, int err,
                           void *result);
/* Link a PENDING record (a task's, or a watcher) at the tail of f's
 * waiters; f's completion wakes it with value 0. */
static inline void corio__future_add_waiter(corio_future *f, corio__wait *w)
{
    corio__list_push_back(&f->waiters, &w->node);
}
static inline void corio__future_remove_waiter(corio_future *f,
                                               corio__wait *w)
{
    corio__list_remove(&f->waiters, &w->node);
}
/* Kinds of task waits on the future w->obj (future.c): detach unlinks
 * from it; the first two pass a cancel on to the future. */
extern const corio__wait_ops corio__future_await_ops;  /* "future" */
extern const corio__wait_ops corio__future_raw_ops;    /* raw await */
void corio__future_detach(corio__wait *w);
/* Describe f for a wait on it: a join (an edge to its task), or a future
 * and the task expected to complete it (an edge) where known. */
void corio__future_describe(const corio_future *f, corio__wait_desc *d);
/* Start t's wait on the pending future f with ops and link it. */
static inline corio__wait *corio__future_wait_begin(corio_future *f,
                                                    corio_task *t,
                                                    const corio__wait_ops *ops)
{
    corio__wait *w = corio__wait_begin(t, ops, f, 0);
    CORIO_ASSERT(f->state == CORIO__FUT_PENDING);
    corio__future_add_waiter(f, w);
    return w;
}
/* Async generators of a loop (agen.c). shutdown starts a task closing
 * each unfinished one not in use and returns how many it started
 * (corio_run's shutdown_asyncgens); the last of them to finish stops the
 * loop. agen.c's closer (close_agens, registered when it first links a
 * generator to the loop), after the tasks are gone, closes the rest at
 * once and detaches them. */
size_t corio__agens_shutdown(corio_loop *loop);

#endif /* CORIO_TASK_IMPL_H */
