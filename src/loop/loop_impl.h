/*
 * loop_impl.h: the loop, futures and tasks as corio's own layers see them.
 *
 * Ready queue. An intrusive FIFO of corio__ready nodes; each node says what
 * running it means (step a task, call a callback, run a future's done
 * callback). Nodes live in their owners, so queueing allocates nothing.
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
 * Invariants:
 *   - a task is in exactly one place: running, in the ready queue
 *     (queued), parked (t->wait.state == PENDING), or done (debug builds
 *     check it at every scheduling point: CORIO__TASK_CHECK);
 *   - the loop holds a reference on every task not yet done;
 *   - t->fut.state != PENDING  <=>  the task is done and its coroutine
 *     closed.
 */
#ifndef CORIO_LOOP_IMPL_H
#define CORIO_LOOP_IMPL_H

#include <corio/future.h>
#include <corio/loop.h>
#include <corio/task.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include "core/coro_impl.h"
#include "list.h"
#include "loop/heap.h"
#include "loop/poll/poll.h"
#include "task/wait.h"

/* ---- ready queue ---------------------------------------------------------- */

typedef struct corio__ready corio__ready;
struct corio__ready {
    corio__ready *next;
    void (*run)(corio__ready *r);
};

typedef struct corio__readyq {
    corio__ready *head, *tail;
    size_t n;
} corio__readyq;

/* ---- timers --------------------------------------------------------------- */

typedef struct corio__timer corio__timer;
struct corio__timer {
    corio__heap_node node; /* key: deadline in loop nanoseconds */
    void (*fire)(corio__timer *tm);
};

/* ---- futures -------------------------------------------------------------- */

enum { CORIO__FUT_PENDING, CORIO__FUT_RESULT, CORIO__FUT_ERROR,
       CORIO__FUT_CANCELLED };

#define CORIO__FUTURE_MAGIC 0x66757475u

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
    corio_future *next_free; /* loop's free list */
};

/* ---- tasks ---------------------------------------------------------------- */

struct corio_task {
    corio_future fut;       /* first: the task's outcome */
    corio_coro coro;
    corio__ready ready;     /* its step, when queued */
    corio__wait wait;       /* its one wait record (wait.h) */
    corio__timer timer;     /* corio_sleep */
    corio_loop *loop;
    corio__node all_node;   /* in loop->all while not done */
    const char *name;
    const char *file;
    int line;
    uint64_t id;
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

/* ---- the loop --------------------------------------------------------------- */

typedef struct corio__tsq_node corio__tsq_node; /* call_soon_threadsafe */

struct corio_loop {
    size_t refs;                  /* owner + live futures and tasks */
    corio__readyq ready;
    corio__heap timers;
    const corio__poller_ops *pops;
    corio__poller *poller;
    int wake_fd;                  /* eventfd for threadsafe wakeups */
    atomic_int wake_pending;      /* an eventfd write is outstanding */
    pthread_mutex_t tsq_lock;
    corio__tsq_node *tsq_head, *tsq_tail;
    int tsq_closed;
    int running;
    int stopping;
    unsigned since_poll;          /* iterations since the last poll */
    int closing;                  /* corio_loop_free in progress */
    corio__list all;              /* live tasks (corio_task.all_node) */
    corio__list agens;            /* async generators iterated here (agen.c) */
    size_t agens_closing;         /* corio_run's closing tasks not yet done */
    size_t ntasks;
    uint64_t next_task_id;
    corio_task *task_free;        /* recycled task objects */
    size_t task_free_n;
    corio_future *fut_free;       /* recycled futures */
    size_t fut_free_n;
    corio_handle *handle_free;    /* recycled callback handles */
    size_t handle_free_n;
    int stop_when_idle;           /* corio_run's shutdown: stop at 0 tasks */
    size_t io_waiting;            /* tasks parked on descriptors */
    atomic_size_t external;       /* holds: corio_loop_hold (any thread) */
    corio_future *stop_on;        /* corio_run: stop when this is done */
    void *run_state;              /* corio_run's bookkeeping */
    /* Descriptor and signal layers (io.c, signal.c). on_event and io_fini
     * are chained: each installer saves the previous hook, calls it for
     * tokens that are not its own and at teardown, and hooks come off in
     * reverse order. Tokens are (generation << 32) | fd; generation
     * 0xFFFFFFFF is reserved for tokens that are not descriptors (the
     * loop's wakeup, UINT64_MAX; signals, 0xFFFFFFFF00000000). */
    void *io;                     /* io.c's per-descriptor table */
    void *sig;                    /* signal.c's signalfd and waiters */
    void (*io_fini)(corio_loop *loop);
    int (*on_event)(corio_loop *loop, const corio__poll_event *ev);
    void (*on_iteration)(corio_loop *loop);  /* corio_run's SIGINT check */
};

/* ---- context capture (ctxvar.c) --------------------------------------------------
 *
 * A callback runs in the context current when it was scheduled (asyncio's
 * copy_context() at call_soon), or in a corio_context given explicitly. A
 * capture is a reference, so capturing never allocates. Running a
 * callback pushes a frame, which is the thread's current context owner
 * until it is popped. */

typedef struct corio__ctx_cap {
    struct corio__ctx_map *map; /* a snapshot (a reference), or NULL */
    struct corio_context *ctx;      /* or an explicit context (a reference) */
} corio__ctx_cap;

typedef struct corio__ctx_frame corio__ctx_frame;
struct corio__ctx_frame {
    struct corio__ctx_map *map;  /* the callback's values */
    uint64_t id;
    struct corio_context *entered;   /* the explicit context it runs in */
    corio__ctx_frame *prev;
};

/* Capture ctx (retained), or the current context when ctx is NULL. */
void corio__ctx_capture(corio__ctx_cap *c, struct corio_context *ctx);
/* Drop what a capture holds (a no-op once moved into a frame). */
void corio__ctx_capture_drop(corio__ctx_cap *c);
/* Make c the current context until the pop (LIFO); c is moved into fr.
 * -EBUSY, c untouched, when c's explicit context is entered elsewhere
 * (Python's "cannot enter context": the callback must not run). */
int corio__ctx_frame_push(corio__ctx_frame *fr, corio__ctx_cap *c);
void corio__ctx_frame_pop(corio__ctx_frame *fr);
/* A reference to the current context's map (a spawn's copy). */
struct corio__ctx_map *corio__ctx_current(void);
/* A task spawned into ctx enters it for its whole life (its own map is
 * dropped): -EBUSY if ctx is entered. leave, when the task finishes,
 * gives the map back (no-op without one). */
int corio__ctx_enter_whole(corio_task *t, struct corio_context *ctx);
void corio__ctx_leave_whole(corio_task *t);
/* 1 if ctx is entered (by a task or a callback). */
int corio__ctx_busy(const struct corio_context *ctx);

/* ---- internal calls ----------------------------------------------------------- */

/* Run fn(arg) as a loop callback in the context cap holds (loop.c). */
void corio__call_in_ctx(corio__ctx_cap *cap, void (*fn)(void *),
                        void *arg);

void corio__ready_push(corio_loop *loop, corio__ready *r);
/* Drop a reference on the loop's memory (futures and tasks hold one). */
void corio__loop_unref(corio_loop *loop);

/* The running task of this thread, or NULL. */
static inline corio_task *corio__task_running(void)
{
    return (corio_task *)corio__thread_self()->task;
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
 * consistent, and the loop holds it (in loop->all, referenced) while it
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
    w->task = t;
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

/* Timers on the loop's heap. */
int corio__timer_start(corio_loop *loop, corio__timer *tm, int64_t deadline);
void corio__timer_stop(corio_loop *loop, corio__timer *tm);
int64_t corio__loop_now_ns(void);

/* Deadlines. Every duration or point in time that enters the library goes
 * through one of these two, so all agree: the result is an absolute loop
 * time in nanoseconds (the clock of corio__loop_now_ns), rounded up so a
 * wait never ends early, saturating at CORIO__NO_DEADLINE. +INFINITY means
 * no deadline (CORIO__NO_DEADLINE); a duration <= 0, or a point in time at
 * or before 0, means now (as in asyncio); NaN is -EINVAL and *deadline is
 * left alone. A finite value too large to represent also saturates to
 * CORIO__NO_DEADLINE (292 years). */
#define CORIO__NO_DEADLINE INT64_MAX
/* `seconds` from now. */
int corio__deadline_in(double seconds, int64_t *deadline);
/* The loop clock (corio_loop_time) reaching `when`. */
int corio__deadline_at(double when, int64_t *deadline);

/* Cancel every live task of the loop (corio_run's shutdown). */
void corio__loop_cancel_all(corio_loop *loop);
/* Print what each live task waits on (the deadlock report). */
void corio__loop_report_waits(corio_loop *loop, const char *why);

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
/* Free every task and recycled object of a loop being freed (task.c). */
void corio__tasks_fini(corio_loop *loop);
/* Async generators of a loop (agen.c). shutdown starts a task closing
 * each unfinished one not in use and returns how many it started
 * (corio_run's shutdown_asyncgens); the last of them to finish stops the
 * loop. fini, at corio_loop_free after the tasks are gone, closes the
 * rest at once and detaches them. */
size_t corio__agens_shutdown(corio_loop *loop);
void corio__agens_fini(corio_loop *loop);

#endif /* CORIO_LOOP_IMPL_H */
