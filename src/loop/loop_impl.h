/*
 * loop_impl.h: the loop layer as corio's own layers see it: the ready
 * queue, timers, callback handles, cross-thread calls, deadlines, and the
 * places where the layers above (task, io) hang their per-loop state,
 * counts and teardown. It knows nothing of tasks or futures: those are
 * task/task_impl.h, which includes this header (never the other way).
 *
 * Ready queue. An intrusive FIFO of corio__ready nodes; each node says what
 * running it means (step a task, call a callback, run a future's done
 * callback). Nodes live in their owners, so queueing allocates nothing.
 *
 * Closers. corio_loop_free tears the loop down by running its closers in
 * ascending order (CORIO__CLOSE_*), running what they queued after each;
 * closers of equal order run newest first (LIFO: what attached last
 * comes off first). Each layer registers its own the first time it
 * attaches to a loop (the loop's own timers and poller are closers too),
 * as libuv's handles register their close. Closers of order
 * >= CORIO__CLOSE_RELEASE run only when the loop's memory goes (its last
 * reference), for state that objects outliving corio_loop_free still read.
 *
 * Deadlock. The loop counts, without knowing what they are, the things
 * alive that only it can wake (`alive`: tasks) and the waits an outside
 * event can end (`outside_waits`: descriptors, signals). Nothing ready, no
 * timer, no outside wait, no hold and no cross-thread work while
 * alive > 0 is a deadlock; report_stuck (set by the layer that counts
 * into `alive`) says what each waits on.
 *
 * Invariants:
 *   - a node is in the ready queue at most once;
 *   - closers form a list sorted by order (ties newest first); each runs
 *     once;
 *   - closing != 0 from the start of corio_loop_free on: nothing new may
 *     be scheduled, and no user callback runs.
 */
#ifndef CORIO_LOOP_IMPL_H
#define CORIO_LOOP_IMPL_H

#include <corio/loop.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include "core/coro_impl.h"
#include "list.h"
#include "loop/heap.h"
#include "loop/poll/poll.h"

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

/* ---- the loop --------------------------------------------------------------- */

/* A node another thread hands to the loop (corio__loop_post). */
typedef struct corio__post corio__post;
struct corio__post {
    corio__ready ready;           /* what running it means */
    _Atomic(corio__post *) next;  /* in the loop's cross-thread queue */
};

/* A step of corio_loop_free (see the top of this file). */
typedef struct corio__closer corio__closer;
struct corio__closer {
    corio__closer *next;
    int order;                                   /* CORIO__CLOSE_* */
    void (*close)(corio__closer *c, corio_loop *loop);
};

/* Teardown order. Tasks first (their cleanup still runs, and may drive
 * async generators), then async generators, then the loop's timers and
 * callback handles, then descriptors and signals, then the poller, then
 * the recycled objects of the layers above; RELEASE and later: at the
 * loop's last reference. */
enum {
    CORIO__CLOSE_TASKS = 100,
    CORIO__CLOSE_AGENS = 200,
    CORIO__CLOSE_TIMERS = 300,
    CORIO__CLOSE_IO = 400,
    CORIO__CLOSE_POLLER = 500,
    CORIO__CLOSE_MEMORY = 900,
    CORIO__CLOSE_RELEASE = 1000
};

struct corio__loop_tasks; /* the task layer's per-loop state (opaque here) */

struct corio_loop {
    size_t refs;                  /* owner + objects made on it */
    corio__readyq ready;
    corio__heap timers;
    const corio__poller_ops *pops;
    corio__poller *poller;
    int wake_fd;                  /* eventfd for threadsafe wakeups */
    /* The cross-thread queue (call_soon_threadsafe, posts): lock-free,
     * many producers, one consumer (loop.c, "cross-thread calls").
     * What the producers write sits between two pads, on cache lines of
     * its own: the consumer's end and the rest of the loop stay out of
     * the lines the producers fight over. */
    char tsq_pad0[64];
    _Atomic(corio__post *) tsq_tail; /* producers' end: the newest */
    atomic_uint tsq_users;        /* pushes in flight; TSQ_CLOSED bit */
    atomic_int sleeping;          /* the loop is (about to be) waiting in
                                     the poller: a push must wake it */
    atomic_int wake_pending;      /* an eventfd write is outstanding */
    /* Back-pressure (loop.c, "Back-pressure"): calls pushed and not yet
     * made ready, the bound and low-water mark a waiting producer sees,
     * and the producers waiting (a futex on tsq_wseq) while the loop
     * runs (tsq_running). */
    atomic_size_t tsq_count;
    size_t tsq_max;               /* SIZE_MAX: unbounded */
    size_t tsq_low;
    atomic_uint tsq_wseq;         /* futex word: bumped to wake waiters */
    atomic_uint tsq_waiters;
    atomic_int tsq_running;       /* corio_loop_run under way */
    char tsq_pad1[64];
    corio__post *tsq_head;        /* consumer's end (the loop's thread) */
    corio__post tsq_stub;         /* keeps the queue never empty of nodes */
    /* A cross-thread call taken off the queue but not yet made ready
     * (the loop's thread only): it says more are waiting than one
     * iteration's share took. */
    corio__post *tsq_own;
    int running;
    int stopping;
    unsigned since_poll;          /* iterations since the last poll
                                     (direct hand-offs count as ones) */
    size_t batch_left;            /* nodes of the running iteration's
                                     batch not yet taken */
    unsigned handoff_left;        /* direct hand-offs the running
                                     iteration may still make: set when
                                     its batch's last node starts, 0
                                     otherwise (corio__loop_handoff_peek) */
    int closing;                  /* corio_loop_free in progress */
    corio_handle *handle_free;    /* recycled callback handles */
    size_t handle_free_n;
    atomic_size_t external;       /* holds: corio_loop_hold (any thread) */
    corio__closer *closers;       /* sorted by order, ties newest first */
    corio__closer close_timers, close_poller; /* the loop's own */
    /* The deadlock detector's counts (see the top of this file). */
    size_t alive;                 /* things only this loop can wake */
    size_t outside_waits;         /* waits an outside event can end */
    void (*report_stuck)(corio_loop *loop, const char *why);
    /* Stop corio_loop_run after an iteration when stop_check(stop_arg)
     * returns nonzero (corio_run's "main is done" and "no task left").
     * Asked once per iteration: it must turn true only when a task
     * finishes or outside the loop's batch (corio__loop_handoff_peek). */
    int (*stop_check)(void *arg);
    void *stop_arg;
    /* Per-loop state of the layers above, each owned by its layer. */
    struct corio__loop_tasks *tasks; /* task/task_impl.h */
    /* Descriptor and signal layers (io.c, signal.c). on_event is
     * chained: each installer saves the previous hook and calls it for
     * tokens that are not its own; hooks come off in reverse order (their
     * closers share one order, so they run newest first). Tokens are
     * (generation << 32) | fd; generation 0xFFFFFFFF is reserved for
     * tokens that are not descriptors (the loop's wakeup, UINT64_MAX;
     * signals, 0xFFFFFFFF00000000). */
    void *io;                     /* io.c's per-descriptor table */
    void *sig;                    /* signal.c's signalfd and waiters */
    void *pool;                   /* thread/: the loop's pool, its port */
    int (*on_event)(corio_loop *loop, const corio__poll_event *ev);
    void (*on_iteration)(corio_loop *loop);  /* corio_run's SIGINT check:
                                                once per iteration, not per
                                                direct hand-off (below) */
    /* Debug mode (src/diag/): when set, runs an iteration's `count` ready
     * nodes itself (corio__ready_pop, then run), timing and stamping
     * them; NULL (the default) costs one test per iteration. diag is
     * that layer's per-loop state. */
    void (*run_hook)(corio_loop *loop, size_t count);
    /* Debug mode: called when an iteration finds nothing ready, before it
     * waits (src/diag/'s cycle check); diag: that layer's per-loop state
     * (freed by a closer it registers). */
    void (*idle_hook)(corio_loop *loop);
    void *diag;
    /* A virtual clock for tests (src/diag/, corio_diag_virtual_clock):
     * while vclock_on, the loop's time is vclock, which stands still while
     * work runs and jumps to the next deadline when nothing is ready and
     * no event is pending. */
    int64_t vclock;
    unsigned char vclock_on;
    /* In corio__loops (loop.c) from corio_loop_new until its memory goes:
     * how debuggers find every loop (scripts/corio-gdb.py). */
    corio_loop *all_next, **all_prev;
};

/* Every loop of the process, for debuggers; corio__loops_lock guards it
 * (creation and the last release only). */
extern corio_loop *corio__loops;
/* The diagnostics layer's idle hook, set by that layer when it is linked
 * in (a constructor); CORIO_DEBUG installs it on each loop (task.c). */
extern void (*corio__debug_idle_hook)(corio_loop *loop);
/* Its run hook for CORIO_DEBUG (NULL: not linked in; task.c then stamps
 * parks with its own). */
extern void (*corio__debug_run_hook)(corio_loop *loop, size_t count);

/* ---- context capture --------------------------------------------------------------
 *
 * A callback runs in the context current when it was scheduled (asyncio's
 * copy_context() at call_soon), or in a corio_context given explicitly. A
 * capture is a reference, so capturing never allocates. Running a
 * callback pushes a frame, which is the thread's current context owner
 * until it is popped.
 *
 * What a context is belongs to the task layer (task/ctxvar.c: context
 * variables are task-local); the loop only carries captures and frames.
 * ctxvar.c registers its operations once per process, before main (a
 * constructor: it runs whenever ctxvar.c is linked in, and nothing can
 * make or read a context unless it is). Without them every capture is
 * empty and a callback runs without a frame, which nobody can tell
 * apart. */

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

typedef struct corio__ctx_ops {
    /* Capture ctx (retained), or the current context when ctx is NULL. */
    void (*capture)(corio__ctx_cap *c, struct corio_context *ctx);
    /* Drop what a capture holds (a no-op once moved into a frame). */
    void (*drop)(corio__ctx_cap *c);
    /* Make c the current context until the pop (LIFO); c is moved into
     * fr. -EBUSY, c untouched, when c's explicit context is entered
     * elsewhere (Python's "cannot enter context": the callback must not
     * run). */
    int (*push)(corio__ctx_frame *fr, corio__ctx_cap *c);
    void (*pop)(corio__ctx_frame *fr);
} corio__ctx_ops;

/* The registered operations (loop.c holds the pointer), or NULL. */
extern const corio__ctx_ops *corio__ctx_ops_registered;

static inline void corio__ctx_capture(corio__ctx_cap *c,
                                      struct corio_context *ctx)
{
    const corio__ctx_ops *ops = corio__ctx_ops_registered;
    c->map = NULL;
    c->ctx = NULL;
    if (ops)
        ops->capture(c, ctx);
}

static inline void corio__ctx_capture_drop(corio__ctx_cap *c)
{
    const corio__ctx_ops *ops = corio__ctx_ops_registered;
    if (ops)
        ops->drop(c);
}

/* ---- internal calls ----------------------------------------------------------- */

/* Run fn(arg) as a loop callback in the context cap holds (loop.c). */
void corio__call_in_ctx(corio__ctx_cap *cap, void (*fn)(void *),
                        void *arg);

/* Queue r at the tail of the ready queue (inline: every wake ends here). */
static inline void corio__ready_push(corio_loop *loop, corio__ready *r)
{
    r->next = NULL;
    if (loop->ready.tail)
        loop->ready.tail->next = r;
    else
        loop->ready.head = r;
    loop->ready.tail = r;
    loop->ready.n++;
}
/* From any thread (the caller keeps loop's memory alive): queue p to be
 * run (p->ready.run) by the loop's thread in a coming iteration, and
 * wake the loop. Allocates nothing, and never waits on back-pressure (it
 * counts toward the bound). 0, or -ESHUTDOWN once corio_loop_free
 * has begun (p is not queued). Posts queued when corio_loop_free begins
 * are run then, with loop->closing set: their owners clean up. */
int corio__loop_post(corio_loop *loop, corio__post *p);

/* corio_loop_call_soon_threadsafe for corio's own threads (a watchdog):
 * never waits on back-pressure, pushes over the bound. Returns as it. */
int corio__loop_call_soon_soft(corio_loop *loop, corio_callback fn, void *arg);
/* Take the first ready node, or NULL (for run_hook). */
corio__ready *corio__ready_pop(corio_loop *loop);
/* The direct hand-off (task.c, Go's runnext). corio__loop_handoff_peek:
 * the one node the loop's next iteration would run first with nothing
 * before it, or NULL. That is: the running iteration's batch is done, the
 * node is alone in the ready queue, and the next iteration would neither
 * poll (POLL_EVERY is not reached), nor make a timer or a cross-thread
 * call ready, nor stop the loop; no debug run hook is set. The caller may
 * then run that node at once, in place of that iteration, after
 * corio__loop_handoff_take (which takes it off the queue and counts the
 * iteration toward POLL_EVERY, so a chain of hand-offs ends at the next
 * poll, and timers and I/O never starve).
 *
 * Most of that is decided once per iteration, when the last node of its
 * batch starts (loop.c sets handoff_left: 0 when the loop is stopping,
 * closing, has a run hook, cross-thread calls to make ready, or
 * stop_check says stop; else the hand-offs left before the next poll), so
 * the check per hand-off is the queue's length, that budget and, only
 * while timers are pending, whether one is due. Consequences, by design:
 * on_iteration (corio_run's SIGINT check) and stop_check run once per
 * iteration, not per hand-off (a SIGINT is seen at the latest when the
 * chain ends, within POLL_EVERY hand-offs); so stop_check must only turn
 * true when a task finishes (which ends any chain) or outside the loop's
 * batch, as corio_run's does; corio_loop_stop ends a chain at once. */
int corio__loop_timer_due(corio_loop *loop); /* loop.c: a timer is due */
static inline corio__ready *corio__loop_handoff_peek(corio_loop *loop)
{
    if (loop->ready.n != 1 || loop->handoff_left == 0)
        return NULL;
    if (loop->timers.n && corio__loop_timer_due(loop))
        return NULL; /* the next iteration runs it */
    return loop->ready.head;
}
static inline void corio__loop_handoff_take(corio_loop *loop)
{
    loop->ready.head = loop->ready.tail = NULL; /* it was alone */
    loop->ready.n = 0;
    loop->handoff_left--;
    loop->since_poll++;
}
/* Drop a reference on the loop's memory (objects made on it hold one). */
void corio__loop_unref(corio_loop *loop);
/* Register c (its order and close set) to run at the loop's teardown. */
void corio__loop_add_closer(corio_loop *loop, corio__closer *c);

/* Timers on the loop's heap. */
int corio__timer_start(corio_loop *loop, corio__timer *tm, int64_t deadline);
void corio__timer_stop(corio_loop *loop, corio__timer *tm);
int64_t corio__loop_now_ns(void);
/* The real monotonic clock, whatever the loop's (diagnostics time steps
 * with it). */
int64_t corio__clock_ns(void);

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

#endif /* CORIO_LOOP_IMPL_H */
