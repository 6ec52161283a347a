/*
 * loop.c: the event loop: ready queue, timers, callback handles, the
 * cross-thread queue, one iteration, run/stop, and teardown.
 *
 * One iteration: wait in the poller (skipped while work is ready, except
 * every POLL_EVERY iterations, then with a zero timeout; until the next
 * timer otherwise), hand I/O events to io.c, move due timers to the ready queue, then run exactly the nodes
 * that were queued at that point. Work queued while they run waits for
 * the next iteration, so a task that yields in a loop cannot starve I/O.
 * A direct hand-off between tasks (task.c) runs the next iteration's only
 * node in place of that iteration when nothing else would run before it
 * (corio__loop_handoff_peek); it counts as an iteration toward POLL_EVERY.
 *
 * Cross-thread calls come in through a lock-free queue (many producers,
 * one consumer) and, only while the loop waits in the poller, an eventfd;
 * each iteration makes at most TSQ_BUDGET of them ready, so a flood from
 * other threads delays a due timer by one share, not by the whole queue,
 * and a producer preempted mid-push holds up neither the loop nor the
 * other producers. Back-pressure: a plain thread's call finding the loop
 * far behind (tsq_max calls waiting) sleeps until it has caught up.
 *
 * Deadlock: when nothing is ready, no timer is pending, no outside wait
 * (descriptor, signal) is counted, no cross-thread work is announced and
 * no cross-thread call is queued, yet things only the loop can wake are
 * alive (tasks, counted by the task layer), nothing can ever wake them:
 * the loop asks report_stuck to say what each waits on and returns
 * -EDEADLK. The loop knows no tasks: the layers above count into it.
 *
 * Teardown: corio_loop_free runs the closers in order (loop_impl.h), the
 * ready queue drained after each; the loop's own timers and poller are
 * two of them.
 *
 * Lifetime: the loop's memory outlives corio_loop_free while objects made
 * on it (futures, tasks, handles) are still referenced; those only see
 * `closing` set and stop scheduling anything. The RELEASE closers run
 * when the last reference goes.
 */
#include "alloc.h"
#include "loop/loop_impl.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WAKE_TOKEN UINT64_MAX
#define EVENTS_MAX 256
#define POLL_EVERY 61 /* iterations with ready work between polls (Tokio's) */
#define TSQ_BUDGET 256 /* cross-thread calls made ready per iteration */
#define HANDLE_FREE_MAX 4096

enum { H_SCHEDULED, H_DONE };

struct corio_handle {
    corio__ready ready;
    corio__timer timer;
    corio_loop *loop;
    corio_callback fn;
    void *arg;
    corio__ctx_cap ctx; /* the context it runs in */
    int refs;
    unsigned char state;
    corio_handle *next_free;
};

typedef struct corio__tsq_node corio__tsq_node; /* call_soon_threadsafe */
struct corio__tsq_node {
    corio__post post; /* first: the cross-thread queue holds posts */
    corio_loop *loop;
    corio_callback fn;
    void *arg;
};

/* ---- clock -------------------------------------------------------------------- */

int64_t corio__clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The running loop (loop_cur, below), for its virtual clock. */
static _Thread_local corio_loop *loop_cur
    __attribute__((tls_model("initial-exec")));

int64_t corio__loop_now_ns(void)
{
    corio_loop *l = loop_cur;
    if (l && l->vclock_on) /* a test's virtual clock (src/diag/) */
        return l->vclock;
    return corio__clock_ns();
}

/* s seconds as nanoseconds, rounded up (never early), saturating at
 * INT64_MAX; s must be > 0 and not NaN. */
static int64_t seconds_to_ns(double s)
{
    double ns = s * 1e9;
    int64_t whole;
    if (ns >= 9.2e18)
        return INT64_MAX;
    whole = (int64_t)ns;
    return (double)whole < ns ? whole + 1 : whole;
}

int corio__deadline_in(double seconds, int64_t *deadline)
{
    int64_t now, ns;
    if (isnan(seconds))
        return -EINVAL;
    if (seconds == INFINITY) {
        *deadline = CORIO__NO_DEADLINE;
        return 0;
    }
    now = corio__loop_now_ns();
    ns = seconds > 0 ? seconds_to_ns(seconds) : 0;
    *deadline = ns > INT64_MAX - now ? CORIO__NO_DEADLINE : now + ns;
    return 0;
}

int corio__deadline_at(double when, int64_t *deadline)
{
    if (isnan(when))
        return -EINVAL;
    *deadline = when == INFINITY ? CORIO__NO_DEADLINE
                : when > 0       ? seconds_to_ns(when)
                                 : 0;
    return 0;
}

double corio_loop_time(const corio_loop *loop)
{
    (void)loop;
    return (double)corio__loop_now_ns() / 1e9;
}

/* loop_cur (above): the loop running on this thread, or NULL: the loop
 * layer's own thread-local. */
corio_loop *corio_loop_current(void)
{
    return loop_cur;
}

/* ---- ready queue --------------------------------------------------------------- */

static corio__ready *ready_pop(corio_loop *loop)
{
    corio__ready *r = loop->ready.head;
    if (r) {
        loop->ready.head = r->next;
        if (!loop->ready.head)
            loop->ready.tail = NULL;
        loop->ready.n--;
    }
    return r;
}

corio__ready *corio__ready_pop(corio_loop *loop)
{
    return ready_pop(loop);
}

int corio__loop_timer_due(corio_loop *loop)
{
    corio__heap_node *top = corio__heap_top(&loop->timers);
    return top && top->key <= corio__loop_now_ns();
}

/* The direct hand-offs the iteration may make once its batch's last node
 * runs (loop_impl.h, corio__loop_handoff_peek): none when the next
 * iteration would do more than run the one ready node. */
static unsigned handoff_budget(corio_loop *loop)
{
    if (!loop->running || loop->stopping || loop->closing ||
        loop->run_hook || loop->tsq_own ||
        loop->since_poll + 1 >= POLL_EVERY)
        return 0;
    if (loop->stop_check && loop->stop_check(loop->stop_arg))
        return 0; /* this iteration is the loop's last */
    return POLL_EVERY - 1 - loop->since_poll;
}

/* ---- timers --------------------------------------------------------------------- */

int corio__timer_start(corio_loop *loop, corio__timer *tm, int64_t deadline)
{
    tm->node.key = deadline;
    return corio__heap_push(&loop->timers, &tm->node);
}

void corio__timer_stop(corio_loop *loop, corio__timer *tm)
{
    corio__heap_remove(&loop->timers, &tm->node);
}

/* ---- callback handles ------------------------------------------------------------- */

static void handle_unref(corio_handle *h)
{
    corio_loop *loop = h->loop;
    if (--h->refs > 0)
        return;
    corio__ctx_capture_drop(&h->ctx);
    if (!loop->closing && loop->handle_free_n < HANDLE_FREE_MAX) {
        h->next_free = loop->handle_free;
        loop->handle_free = h;
        loop->handle_free_n++;
    } else {
        corio__free(h);
    }
    corio__loop_unref(loop);
}

const corio__ctx_ops *corio__ctx_ops_registered;

/* Run fn(arg) in the context cap holds (moved out of it). A context
 * entered elsewhere cannot be entered (asyncio's RuntimeError, which its
 * loop logs): the call is skipped and reported. */
void corio__call_in_ctx(corio__ctx_cap *cap, void (*fn)(void *),
                        void *arg)
{
    const corio__ctx_ops *ops = corio__ctx_ops_registered;
    corio__ctx_frame fr;
    if (!ops) { /* no contexts in this program: nothing to enter */
        fn(arg);
        return;
    }
    if (ops->push(&fr, cap) != 0) {
        corio__warn("callback %p skipped: its context %p is already "
                    "entered (by a task or corio_context_run)",
                    (void *)(uintptr_t)fn, (void *)cap->ctx);
        return;
    }
    fn(arg);
    ops->pop(&fr);
}

static void handle_run(corio__ready *r)
{
    corio_handle *h = (corio_handle *)r;
    corio_loop *loop = h->loop;
    if (h->state == H_SCHEDULED) {
        h->state = H_DONE;
        if (!loop->closing)
            corio__call_in_ctx(&h->ctx, h->fn, h->arg);
    }
    handle_unref(h);
}

static void handle_timer_fire(corio__timer *tm)
{
    corio_handle *h =
        (corio_handle *)((char *)tm - offsetof(corio_handle, timer));
    corio__ready_push(h->loop, &h->ready);
}

static int handle_new(corio_loop *loop, corio_context *ctx, corio_callback fn,
                      void *arg, corio_handle **out)
{
    corio_handle *h = loop->handle_free;
    if (h) {
        loop->handle_free = h->next_free;
        loop->handle_free_n--;
    } else {
        h = corio__malloc(sizeof *h);
        if (!h)
            return -ENOMEM;
    }
    memset(h, 0, sizeof *h);
    h->ready.run = handle_run;
    h->timer.fire = handle_timer_fire;
    corio__heap_node_init(&h->timer.node);
    h->loop = loop;
    h->fn = fn;
    h->arg = arg;
    corio__ctx_capture(&h->ctx, ctx); /* a reference: never allocates */
    h->refs = 1; /* the loop's, while scheduled */
    h->state = H_SCHEDULED;
    loop->refs++;
    *out = h;
    return 0;
}

static int call_soon(corio_loop *loop, corio_context *ctx, corio_callback fn,
                     void *arg, corio_handle **out)
{
    corio_handle *h;
    int rc;
    if (!loop || !fn)
        return -EINVAL;
    if ((rc = handle_new(loop, ctx, fn, arg, &h)) != 0)
        return rc;
    corio__ready_push(loop, &h->ready);
    if (out) {
        h->refs++;
        *out = h;
    }
    return 0;
}

int corio_loop_call_soon(corio_loop *loop, corio_callback fn, void *arg,
                         corio_handle **out)
{
    return call_soon(loop, NULL, fn, arg, out);
}

int corio_loop_call_soon_in_ctx(corio_loop *loop, corio_context *ctx,
                                corio_callback fn, void *arg,
                                corio_handle **out)
{
    if (!ctx)
        return -EINVAL;
    return call_soon(loop, ctx, fn, arg, out);
}

static int call_at_ns(corio_loop *loop, corio_context *ctx, int64_t deadline,
                      corio_callback fn, void *arg, corio_handle **out)
{
    corio_handle *h;
    int rc;
    if (!loop || !fn)
        return -EINVAL;
    if ((rc = handle_new(loop, ctx, fn, arg, &h)) != 0)
        return rc;
    if ((rc = corio__timer_start(loop, &h->timer, deadline)) != 0) {
        h->state = H_DONE;
        handle_unref(h);
        return rc;
    }
    if (out) {
        h->refs++;
        *out = h;
    }
    return 0;
}

int corio_loop_call_later(corio_loop *loop, double delay, corio_callback fn,
                          void *arg, corio_handle **out)
{
    int64_t at;
    int rc = corio__deadline_in(delay, &at);
    return rc ? rc : call_at_ns(loop, NULL, at, fn, arg, out);
}

int corio_loop_call_at(corio_loop *loop, double when, corio_callback fn,
                       void *arg, corio_handle **out)
{
    int64_t at;
    int rc = corio__deadline_at(when, &at);
    return rc ? rc : call_at_ns(loop, NULL, at, fn, arg, out);
}

int corio_loop_call_later_in_ctx(corio_loop *loop, corio_context *ctx,
                                 double delay, corio_callback fn, void *arg,
                                 corio_handle **out)
{
    int64_t at;
    if (!ctx || corio__deadline_in(delay, &at) != 0)
        return -EINVAL;
    return call_at_ns(loop, ctx, at, fn, arg, out);
}

int corio_loop_call_at_in_ctx(corio_loop *loop, corio_context *ctx, double when,
                              corio_callback fn, void *arg,
                              corio_handle **out)
{
    int64_t at;
    if (!ctx || corio__deadline_at(when, &at) != 0)
        return -EINVAL;
    return call_at_ns(loop, ctx, at, fn, arg, out);
}

int corio_handle_cancel(corio_handle *h)
{
    if (!h)
        return -EINVAL;
    if (h->state != H_SCHEDULED)
        return -EALREADY;
    h->state = H_DONE;
    if (corio__heap_node_queued(&h->timer.node)) {
        corio__timer_stop(h->loop, &h->timer);
        handle_unref(h); /* the loop's reference */
    }
    /* If it sits in the ready queue, handle_run skips it and drops the
     * loop's reference there. */
    return 0;
}

void corio_handle_release(corio_handle *h)
{
    if (h)
        handle_unref(h);
}

/* ---- cross-thread calls --------------------------------------------------------- */

static void tsq_run(corio__ready *r)
{
    corio__tsq_node *n = (corio__tsq_node *)r; /* post.ready is first */
    /* Contexts never cross threads: the empty one. */
    corio__ctx_cap empty = {NULL, NULL};
    if (!n->loop->closing)
        corio__call_in_ctx(&empty, n->fn, n->arg);
    corio__free(n);
}

/* The queue is Vyukov's intrusive MPSC queue. A producer swaps itself in
 * as the tail (one atomic exchange) and then links the old tail to it; it
 * never waits for anyone, so a producer preempted in the middle holds up
 * no one: the consumer just sees the queue end before that link until it
 * is made. The consumer owns tsq_head; a stub node keeps the list from
 * ever being empty of nodes, so the producers never touch tsq_head.
 *
 * Waking. A push writes the eventfd only when the loop is in the poller
 * or about to be (`sleeping`), at most once until the loop reads it
 * (`wake_pending`): a loop busy with a flood costs its producers no
 * system call and pops the queue every iteration. The loop sets sleeping,
 * then looks at the queue again; a producer links its node, then reads
 * sleeping; both with a full fence between, so one of the two sees the
 * other (no lost wake-up).
 *
 * Closing. tsq_users counts the pushes in flight, with TSQ_CLOSED set by
 * corio_loop_free, which then wakes the pushes waiting on back-pressure
 * and waits for the count to drop to 0 (so that wait is short) before it
 * takes what is queued and closes the eventfd.
 *
 * Back-pressure. tsq_count counts the calls pushed and not yet made
 * ready (every push adds one before it links, each share takes off what
 * it made ready). A producer that may wait (a plain thread's
 * call_soon_threadsafe) and finds tsq_count at tsq_max while the loop
 * runs registers in tsq_waiters and sleeps on the futex tsq_wseq until
 * tsq_count is at most tsq_low, the loop stops running, or the loop is
 * freed. The loop wakes them (bumps tsq_wseq, FUTEX_WAKE all) when a
 * share takes tsq_count from above tsq_low to tsq_low or below, when
 * corio_loop_run returns, and in corio_loop_free: one system call per
 * drain at most, none while no one waits. No wake-up is lost: each side
 * changes its word (tsq_waiters; tsq_count, tsq_running) before reading
 * the other's, all sequentially consistent, and a waiter reads tsq_wseq
 * before it looks, so a bump after the look fails its FUTEX_WAIT. A
 * waiter whose look came after a share's, and saw tsq_count pushed back
 * over tsq_low by others, is woken by the next drain: while tsq_count is
 * over tsq_low there are calls in the queue, so the running loop keeps
 * taking shares. Waiters are pushes in flight (between tsq_enter and
 * tsq_leave), so corio_loop_free waits for them to leave. */
#define TSQ_CLOSED 0x80000000u

enum { PUSH_SOFT, PUSH_WAIT, PUSH_TRY }; /* over the bound: push, wait, refuse */

/* Enter a push (0), or -ESHUTDOWN once corio_loop_free has begun. */
static int tsq_enter(corio_loop *loop)
{
    if (atomic_fetch_add(&loop->tsq_users, 1) & TSQ_CLOSED) {
        atomic_fetch_sub(&loop->tsq_users, 1);
        return -ESHUTDOWN;
    }
    return 0;
}

static void tsq_leave(corio_loop *loop)
{
    atomic_fetch_sub_explicit(&loop->tsq_users, 1, memory_order_release);
}

/* Write the eventfd unless a write is already outstanding. Between
 * tsq_enter and tsq_leave, so the loop cannot close the eventfd
 * meanwhile. */
static void wake(corio_loop *loop)
{
    if (!atomic_load(&loop->wake_pending) &&
        atomic_exchange(&loop->wake_pending, 1) == 0) {
        uint64_t one = 1;
        ssize_t w;
        do
            w = write(loop->wake_fd, &one, sizeof one);
        while (w < 0 && errno == EINTR);
        if (w < 0) /* not written: let the next push try again */
            atomic_store(&loop->wake_pending, 0);
    }
}

/* Link p in at the tail (any thread; the loop's own when it re-queues
 * the stub). */
static void tsq_link(corio_loop *loop, corio__post *p)
{
    corio__post *prev;
    atomic_store_explicit(&p->next, NULL, memory_order_relaxed);
    prev = atomic_exchange_explicit(&loop->tsq_tail, p, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, p, memory_order_release);
}

/* Wake every producer waiting on back-pressure (they look again). */
static void tsq_wake_waiters(corio_loop *loop)
{
    atomic_fetch_add(&loop->tsq_wseq, 1);
    syscall(SYS_futex, &loop->tsq_wseq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL,
            NULL, 0);
}

/* The bound is reached while the loop runs (a push should wait). */
static int tsq_over(corio_loop *loop)
{
    return atomic_load_explicit(&loop->tsq_count, memory_order_relaxed) >=
               loop->tsq_max &&
           atomic_load(&loop->tsq_running);
}

/* Sleep until the loop has taken the queue down to tsq_low, stopped
 * running, or is being freed (-ESHUTDOWN). Inside tsq_enter. */
static int tsq_wait(corio_loop *loop)
{
    int rc = 0;
    atomic_fetch_add(&loop->tsq_waiters, 1);
    for (;;) {
        unsigned seq = atomic_load(&loop->tsq_wseq);
        if (atomic_load(&loop->tsq_users) & TSQ_CLOSED) {
            rc = -ESHUTDOWN;
            break;
        }
        if (!atomic_load(&loop->tsq_running) ||
            atomic_load(&loop->tsq_count) <= loop->tsq_low)
            break;
        /* Returns at once if tsq_wseq moved since it was read. */
        syscall(SYS_futex, &loop->tsq_wseq, FUTEX_WAIT_PRIVATE, seq, NULL,
                NULL, 0);
    }
    atomic_fetch_sub(&loop->tsq_waiters, 1);
    return rc;
}

/* Append p to the cross-thread queue and wake the loop if it waits: 0,
 * -ESHUTDOWN once corio_loop_free has begun, or -EAGAIN (mode PUSH_TRY,
 * over the bound); p is not queued on error. */
static int tsq_push(corio_loop *loop, corio__post *p, int mode)
{
    if (tsq_enter(loop) != 0)
        return -ESHUTDOWN;
    if (mode != PUSH_SOFT && tsq_over(loop)) {
        int rc = mode == PUSH_TRY ? -EAGAIN : tsq_wait(loop);
        if (rc != 0) {
            tsq_leave(loop);
            return rc;
        }
    }
    atomic_fetch_add_explicit(&loop->tsq_count, 1, memory_order_relaxed);
    tsq_link(loop, p);
    atomic_thread_fence(memory_order_seq_cst); /* link, then look */
    if (atomic_load_explicit(&loop->sleeping, memory_order_relaxed))
        wake(loop);
    tsq_leave(loop);
    return 0;
}

/* Take the oldest call off the queue (the loop's thread), or NULL when
 * none is there or the oldest is not linked yet (its producer is between
 * its exchange and its link: it wakes the loop after linking if the loop
 * sleeps). */
static corio__post *tsq_pop(corio_loop *loop)
{
    corio__post *h = loop->tsq_head, *n;
    n = atomic_load_explicit(&h->next, memory_order_acquire);
    if (h == &loop->tsq_stub) {
        if (!n)
            return NULL;
        loop->tsq_head = h = n;
        n = atomic_load_explicit(&h->next, memory_order_acquire);
    }
    if (!n) {
        /* h is the last linked node: take it only by putting the stub
         * behind it, unless a producer is already linking after it. */
        if (atomic_load_explicit(&loop->tsq_tail, memory_order_acquire) != h)
            return NULL;
        tsq_link(loop, &loop->tsq_stub);
        n = atomic_load_explicit(&h->next, memory_order_acquire);
        if (!n)
            return NULL;
    }
    loop->tsq_head = n;
    return h;
}

int corio__loop_post(corio_loop *loop, corio__post *p)
{
    return tsq_push(loop, p, PUSH_SOFT);
}

static int call_threadsafe(corio_loop *loop, corio_callback fn, void *arg,
                           int mode)
{
    corio__tsq_node *n;
    int rc;
    if (!loop || !fn)
        return -EINVAL;
    n = corio__malloc(sizeof *n);
    if (!n)
        return -ENOMEM;
    n->post.ready.run = tsq_run;
    n->loop = loop;
    n->fn = fn;
    n->arg = arg;
    if ((rc = tsq_push(loop, &n->post, mode)) != 0)
        corio__free(n);
    return rc;
}

int corio_loop_call_soon_threadsafe(corio_loop *loop, corio_callback fn,
                                    void *arg)
{
    /* A thread running a loop never waits (loops posting to each other
     * must not deadlock). */
    return call_threadsafe(loop, fn, arg, loop_cur ? PUSH_SOFT : PUSH_WAIT);
}

int corio_loop_try_call_soon_threadsafe(corio_loop *loop, corio_callback fn,
                                        void *arg)
{
    return call_threadsafe(loop, fn, arg, PUSH_TRY);
}

int corio__loop_call_soon_soft(corio_loop *loop, corio_callback fn, void *arg)
{
    return call_threadsafe(loop, fn, arg, PUSH_SOFT);
}

int corio_loop_hold(corio_loop *loop)
{
    if (!loop)
        return -EINVAL;
    atomic_fetch_add(&loop->external, 1);
    return 0;
}

int corio_loop_unhold(corio_loop *loop)
{
    size_t n;
    if (!loop)
        return -EINVAL;
    n = atomic_load(&loop->external);
    do {
        if (n == 0)
            return -EINVAL;
    } while (!atomic_compare_exchange_weak(&loop->external, &n, n - 1));
    if (n == 1 && tsq_enter(loop) == 0) {
        /* The last hold: a loop asleep only because of it must wake and
         * look again (it may now be deadlocked). Always written: the loop
         * may have counted the hold before it set `sleeping`. */
        wake(loop);
        tsq_leave(loop);
    }
    return 0;
}

/* The eventfd was readable: drain it, so the next push that finds the
 * loop asleep writes again. */
static void wake_read(corio_loop *loop)
{
    uint64_t v;
    ssize_t r;
    do
        r = read(loop->wake_fd, &v, sizeof v);
    while (r < 0 && errno == EINTR);
    atomic_store(&loop->wake_pending, 0);
}

/* Make at most TSQ_BUDGET cross-thread calls ready: one share per
 * iteration, so that a flood from other threads delays a due timer by a
 * share, never by the whole queue (timers run every iteration, the poller
 * is looked at every POLL_EVERY). A call beyond the share is taken into
 * tsq_own, which tells the next iteration not to wait. */
static void tsq_share(corio_loop *loop)
{
    corio__post *n = loop->tsq_own;
    unsigned k = 0;
    loop->tsq_own = NULL;
    if (n) {
        corio__ready_push(loop, &n->ready);
        k++;
    }
    for (; k < TSQ_BUDGET && (n = tsq_pop(loop)) != NULL; k++)
        corio__ready_push(loop, &n->ready);
    if (k == TSQ_BUDGET)
        loop->tsq_own = tsq_pop(loop);
    if (k) { /* back-pressure: wake the waiters once the queue drained */
        size_t was = atomic_fetch_sub(&loop->tsq_count, k);
        if (was > loop->tsq_low && was - k <= loop->tsq_low &&
            atomic_load(&loop->tsq_waiters) != 0)
            tsq_wake_waiters(loop);
    }
}

/* corio_loop_run begins / ends: the bound holds only in between. */
static void tsq_run_begin(corio_loop *loop)
{
    atomic_store(&loop->tsq_running, 1);
}

static void tsq_run_end(corio_loop *loop)
{
    atomic_store(&loop->tsq_running, 0);
    if (atomic_load(&loop->tsq_waiters) != 0)
        tsq_wake_waiters(loop);
}

/* Nothing queued, not even a node still being linked (for the deadlock
 * check: a thread that pushes without corio_loop_hold may always come too
 * late). Pushes in flight are not counted: corio_loop_unhold is one, and
 * the loop, having read its wake-up, must see the deadlock. */
static int tsq_empty(corio_loop *loop)
{
    return !loop->tsq_own && loop->tsq_head == &loop->tsq_stub &&
           atomic_load(&loop->tsq_tail) == &loop->tsq_stub;
}

/* Before a wait with a timeout: tell producers to wake the loop, then
 * look once more; 1 if a call can be taken at once (do not wait). */
static int tsq_sleep_begin(corio_loop *loop)
{
    atomic_store(&loop->sleeping, 1);
    atomic_thread_fence(memory_order_seq_cst); /* say so, then look */
    if (!loop->tsq_own)
        loop->tsq_own = tsq_pop(loop);
    return loop->tsq_own != NULL;
}

/* ---- one iteration ---------------------------------------------------------------- */

static int nothing_can_happen(corio_loop *loop)
{
    return loop->ready.n == 0 && loop->timers.n == 0 && !loop->tsq_own &&
           loop->outside_waits == 0 && atomic_load(&loop->external) == 0 &&
           loop->alive > 0 && !atomic_load(&loop->wake_pending) &&
           tsq_empty(loop);
}

static void run_timers(corio_loop *loop)
{
    int64_t now;
    corio__heap_node *top;
    if (loop->timers.n == 0)
        return; /* no clock read when nothing is pending */
    now = corio__loop_now_ns();
    while ((top = corio__heap_top(&loop->timers)) && top->key <= now) {
        corio__timer *tm = (corio__timer *)top;
        corio__heap_pop(&loop->timers);
        tm->fire(tm);
    }
}

static int iterate(corio_loop *loop)
{
    corio__poll_event ev[EVENTS_MAX];
    corio__heap_node *top;
    int64_t timeout = -1;
    int n = 0, i, poll = 1, slept = 0;

    if (!loop->tsq_own) /* a cross-thread call waiting: do not wait */
        loop->tsq_own = tsq_pop(loop);
    if (loop->ready.n || loop->stopping || loop->tsq_own) {
        /* Work is ready: look at the poller only every POLL_EVERY
         * iterations (without waiting), so a task that keeps yielding
         * cannot starve I/O and ready work costs no system call. */
        timeout = 0;
        poll = ++loop->since_poll >= POLL_EVERY || loop->stopping;
    } else if ((top = corio__heap_top(&loop->timers)) != NULL) {
        timeout = top->key - corio__loop_now_ns();
        if (timeout < 0)
            timeout = 0;
    } else if (nothing_can_happen(loop)) {
        if (loop->report_stuck)
            loop->report_stuck(loop, "deadlock: nothing can wake (work "
                                     "another thread will deliver needs "
                                     "corio_loop_hold)");
        return -EDEADLK;
    }
    if (loop->idle_hook && !loop->ready.n) /* debug mode (loop_impl.h) */
        loop->idle_hook(loop);
    if (timeout > 0 && loop->vclock_on) /* virtual: never wait for time */
        timeout = 0;
    if (poll) {
        loop->since_poll = 0;
        if (timeout != 0) { /* producers must wake it from now on */
            slept = 1;
            if (tsq_sleep_begin(loop))
                timeout = 0;
        }
        n = loop->pops->wait(loop->poller, timeout, ev, EVENTS_MAX);
        if (slept)
            atomic_store_explicit(&loop->sleeping, 0, memory_order_relaxed);
        if (n < 0)
            return n;
    }
    /* Virtual clock: nothing ready and no event now: jump to the next
     * deadline. */
    if (loop->vclock_on && n == 0 && !loop->ready.n && !loop->tsq_own &&
        (top = corio__heap_top(&loop->timers)) != NULL &&
        top->key > loop->vclock)
        loop->vclock = top->key;
    for (i = 0; i < n; i++) {
        if (ev[i].token == WAKE_TOKEN)
            wake_read(loop);
        else if (loop->on_event)
            loop->on_event(loop, &ev[i]);
    }
    if (loop->on_iteration)
        loop->on_iteration(loop);
    tsq_share(loop);
    run_timers(loop);
    if (loop->run_hook) { /* debug mode (loop_impl.h) */
        loop->run_hook(loop, loop->ready.n);
        return 0;
    }
    /* batch_left, not a local count: a direct hand-off (task.c) may
     * happen only once the batch is done. */
    for (loop->batch_left = loop->ready.n; loop->batch_left > 0;) {
        corio__ready *r = ready_pop(loop);
        if (--loop->batch_left == 0)
            loop->handoff_left = handoff_budget(loop);
        r->run(r);
    }
    loop->handoff_left = 0;
    return 0;
}

int corio_loop_run(corio_loop *loop)
{
    int rc;
    if (!loop)
        return -EINVAL;
    if (loop->running || loop_cur)
        return CORIO_ERUNNING;
    if (loop->closing)
        return -ESHUTDOWN;
    loop->running = 1;
    loop_cur = loop;
    corio__fiber_prepare_wait(); /* TSan builds only (fiber.h) */
    tsq_run_begin(loop);
    for (;;) {
        rc = iterate(loop);
        if (rc || loop->stopping)
            break;
        if (loop->stop_check && loop->stop_check(loop->stop_arg))
            break;
    }
    tsq_run_end(loop);
    loop->stopping = 0;
    loop->running = 0;
    loop_cur = NULL;
    return rc;
}

void corio_loop_stop(corio_loop *loop)
{
    if (loop) {
        loop->stopping = 1;
        loop->handoff_left = 0; /* a chain of hand-offs ends here */
    }
}

/* ---- creation and teardown ---------------------------------------------------------- */

corio_loop *corio__loops;
void (*corio__debug_idle_hook)(corio_loop *loop);
void (*corio__debug_run_hook)(corio_loop *loop, size_t count);
static pthread_mutex_t loops_lock = PTHREAD_MUTEX_INITIALIZER;

void corio__loop_add_closer(corio_loop *loop, corio__closer *c)
{
    corio__closer **p = &loop->closers;
    while (*p && (*p)->order < c->order)
        p = &(*p)->next;
    c->next = *p; /* before its equals: newest first */
    *p = c;
}

/* The loop's own closers. Timers left: callback handles drop the
 * reference their schedule held; other timers went with their owners
 * (a task's with the task). */
static void close_timers(corio__closer *c, corio_loop *loop)
{
    corio__heap_node *top;
    (void)c;
    while ((top = corio__heap_pop(&loop->timers)) != NULL) {
        corio__timer *tm = (corio__timer *)top;
        if (tm->fire == handle_timer_fire)
            handle_unref((corio_handle *)((char *)tm -
                                          offsetof(corio_handle, timer)));
    }
}

static void close_poller(corio__closer *c, corio_loop *loop)
{
    corio_handle *h;
    (void)c;
    loop->pops->unwatch(loop->poller, loop->wake_fd);
    close(loop->wake_fd);
    loop->pops->close(loop->poller);
    corio__heap_fini(&loop->timers);
    while ((h = loop->handle_free) != NULL) {
        loop->handle_free = h->next_free;
        corio__free(h);
    }
}

int corio_loop_new(const corio_loop_opts *opts, corio_loop **out)
{
    const corio__poller_ops *pops;
    corio_loop *loop;
    int rc;

    if (!out)
        return -EINVAL;
    pops = corio__poll_find(opts ? opts->backend : NULL);
    if (!pops)
        return -EINVAL;
    loop = corio__calloc(1, sizeof *loop);
    if (!loop)
        return -ENOMEM;
    loop->refs = 1;
    loop->pops = pops;
    loop->wake_fd = -1;
    corio__heap_init(&loop->timers);
    loop->tsq_head = &loop->tsq_stub; /* empty: the stub alone */
    atomic_init(&loop->tsq_tail, &loop->tsq_stub);
    loop->tsq_max = opts && opts->threadsafe_max
                        ? opts->threadsafe_max
                        : CORIO_THREADSAFE_MAX_DEFAULT;
    loop->tsq_low = loop->tsq_max == CORIO_THREADSAFE_UNBOUNDED
                        ? SIZE_MAX
                        : loop->tsq_max / 2;
    if ((rc = pops->open(&loop->poller)) != 0)
        goto fail;
    loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->wake_fd < 0) {
        rc = -errno;
        goto fail;
    }
    if ((rc = pops->watch(loop->poller, loop->wake_fd, CORIO__POLL_IN,
                          WAKE_TOKEN)) != 0)
        goto fail;
    loop->close_timers.order = CORIO__CLOSE_TIMERS;
    loop->close_timers.close = close_timers;
    corio__loop_add_closer(loop, &loop->close_timers);
    loop->close_poller.order = CORIO__CLOSE_POLLER;
    loop->close_poller.close = close_poller;
    corio__loop_add_closer(loop, &loop->close_poller);
    pthread_mutex_lock(&loops_lock);
    if ((loop->all_next = corio__loops) != NULL)
        corio__loops->all_prev = &loop->all_next;
    loop->all_prev = &corio__loops;
    corio__loops = loop;
    pthread_mutex_unlock(&loops_lock);
    *out = loop;
    return 0;
fail:
    if (loop->wake_fd >= 0)
        close(loop->wake_fd);
    if (loop->poller)
        pops->close(loop->poller);
    corio__free(loop);
    return rc;
}

/* Run (in closing mode: no user callbacks) everything queued. */
static void drain_ready(corio_loop *loop)
{
    corio__ready *r;
    while ((r = ready_pop(loop)) != NULL)
        r->run(r);
}

/* Run, in order, the closers before `until` (they unlink themselves
 * from the list as they run). */
static void run_closers(corio_loop *loop, int until)
{
    corio__closer *c;
    while ((c = loop->closers) != NULL && c->order < until) {
        loop->closers = c->next;
        c->next = NULL;
        c->close(c, loop);
        drain_ready(loop);
    }
}

/* The last reference went: the RELEASE closers, then the memory. Out of
 * line, so the unref every object's release makes stays a decrement. */
__attribute__((noinline, cold)) static void loop_release(corio_loop *loop)
{
    pthread_mutex_lock(&loops_lock);
    if ((*loop->all_prev = loop->all_next) != NULL)
        loop->all_next->all_prev = loop->all_prev;
    pthread_mutex_unlock(&loops_lock);
    run_closers(loop, INT32_MAX);
    corio__free(loop);
}

void corio__loop_unref(corio_loop *loop)
{
    if (--loop->refs == 0)
        loop_release(loop);
}

int corio_loop_free(corio_loop *loop)
{
    corio__post *n;

    if (!loop)
        return 0;
    if (loop->running)
        return CORIO_ERUNNING;
    loop->closing = 1;
    /* Refuse new pushes, and let those in flight finish (a few
     * instructions and perhaps an eventfd write; producers waiting on
     * back-pressure are woken and leave with -ESHUTDOWN). */
    atomic_fetch_or(&loop->tsq_users, TSQ_CLOSED);
    tsq_wake_waiters(loop); /* producers waiting on back-pressure */
    while ((atomic_load(&loop->tsq_users) & ~TSQ_CLOSED) != 0)
        sched_yield();
    /* Run in closing mode, oldest first (the one taken but not yet made
     * ready, then the queue): a callback is skipped (and its node freed),
     * a post's owner sees `closing` and cleans up. */
    if ((n = loop->tsq_own) != NULL)
        corio__ready_push(loop, &n->ready);
    loop->tsq_own = NULL;
    while ((n = tsq_pop(loop)) != NULL)
        corio__ready_push(loop, &n->ready);
    drain_ready(loop);
    run_closers(loop, CORIO__CLOSE_RELEASE);
    corio__loop_unref(loop);
    return 0;
}
