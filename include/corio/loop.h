/*
 * corio/loop.h: the event loop, its clock and its callbacks.
 *
 * A loop runs on one thread. Each iteration it waits for I/O readiness or
 * the next timer (not at all while something is ready), moves due timers
 * and ready I/O waiters to the ready queue, then runs what was in the ready
 * queue when the iteration began, in FIFO order (work scheduled meanwhile
 * runs in the next iteration, as in asyncio). Tasks (task.h) and callbacks
 * share that queue.
 *
 * Only corio_loop_call_soon_threadsafe,
 * corio_loop_try_call_soon_threadsafe, corio_loop_hold and
 * corio_loop_unhold may be called from another thread.
 * Everything else is for the loop's own thread.
 *
 * Time is the loop's monotonic clock (CLOCK_MONOTONIC), in seconds as a
 * double, like asyncio's loop.time().
 */
#ifndef CORIO_LOOP_H
#define CORIO_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_loop corio_loop;
typedef struct corio_handle corio_handle;
typedef struct corio_context corio_context; /* ctxvar.h */
typedef void (*corio_callback)(void *arg);

/* The default bound on cross-thread calls waiting for a loop (see
 * corio_loop_call_soon_threadsafe), and the value that means no bound. */
#define CORIO_THREADSAFE_MAX_DEFAULT 256
#define CORIO_THREADSAFE_UNBOUNDED SIZE_MAX

typedef struct corio_loop_opts {
    /* I/O backend: "epoll" or "poll"; NULL: $CORIO_BACKEND, else epoll. */
    const char *backend;
    /* Back-pressure: how many cross-thread calls may wait for the loop
     * before corio_loop_call_soon_threadsafe, called from a thread that
     * runs no loop, waits for the loop to catch up (see there). 0:
     * CORIO_THREADSAFE_MAX_DEFAULT; CORIO_THREADSAFE_UNBOUNDED: never
     * wait. */
    size_t threadsafe_max;
} corio_loop_opts;

/*
 * corio_loop_new: make a loop (not running). opts may be NULL.
 * Returns 0 with *out set (the caller frees it with corio_loop_free), or
 * -EINVAL (out NULL, unknown backend), -ENOMEM, -EMFILE/-ENFILE (no
 * descriptors for the poller or the wakeup eventfd). On error *out is
 * untouched. Does not suspend.
 */
CORIO_API int corio_loop_new(const corio_loop_opts *opts, corio_loop **out);

/*
 * corio_loop_free: release the loop. Tasks still alive are abandoned:
 * their coroutines are closed (cleanup runs, but a suspending call in it
 * returns -ECANCELED at once) and the task objects freed once nobody holds
 * a handle. Pending callbacks are dropped. Returns 0, or CORIO_ERUNNING
 * when called while the loop runs (nothing is freed).
 */
CORIO_API int corio_loop_free(corio_loop *loop);

/*
 * corio_loop_run: run until corio_loop_stop is called. Does not suspend
 * (it blocks the thread). Returns 0 after a stop; CORIO_ERUNNING when this
 * loop, or another one on this thread, is already running; -EDEADLK when
 * nothing can ever happen again (no ready work, timer, watched descriptor,
 * signal wait or cross-thread work) while tasks are still waiting: the
 * report of what each waits on is printed to stderr; -ESHUTDOWN when the
 * loop is being freed (called from cleanup that corio_loop_free runs);
 * -EINVAL (loop NULL). Poller failures are returned as their negative
 * errno.
 */
CORIO_API int corio_loop_run(corio_loop *loop);

/* corio_loop_stop: make the running loop return after the current
 * iteration. Before it runs, the next run returns after one iteration.
 * Does not suspend. */
CORIO_API void corio_loop_stop(corio_loop *loop);

/* corio_loop_time: the loop's clock, in seconds. Every loop shares one
 * clock, so loop is not read and may be NULL. */
CORIO_API double corio_loop_time(const corio_loop *loop);

/* corio_loop_current: the loop running on this thread, or NULL. */
CORIO_API corio_loop *corio_loop_current(void);

/*
 * Callbacks and context variables (ctxvar.h). Every callback runs in the
 * context that was current when it was scheduled (the running task's, or
 * the running callback's; the empty context elsewhere), as asyncio's
 * call_soon copies the context: it reads the values of that moment, and
 * what it sets stays in its own copy. Capturing takes a reference, never
 * an allocation. The _in_ctx variants run it inside ctx instead
 * (asyncio's context= argument): what it sets stays in ctx. They retain
 * ctx until the callback has run or is dropped, and return -EINVAL for a
 * NULL ctx. If ctx is entered elsewhere when the callback is due (by a
 * corio_context_run under way, or a task spawned into it), the callback is
 * skipped and a line goes to stderr (asyncio logs the RuntimeError).
 * corio_loop_call_soon_threadsafe callbacks run in the empty context:
 * contexts never cross threads.
 *
 * corio_loop_call_soon: run fn(arg) in a coming iteration, after what is
 * already queued. Does not suspend. If out is not NULL it receives a handle
 * (a reference the caller must drop with corio_handle_release) that can
 * cancel the call. Returns 0, -EINVAL (loop or fn NULL), -ENOMEM.
 */
CORIO_API int corio_loop_call_soon(corio_loop *loop, corio_callback fn,
                                   void *arg, corio_handle **out);

/*
 * corio_loop_call_later / corio_loop_call_at: run fn(arg) once `delay`
 * seconds have passed / once the loop clock reaches `when`. Never early;
 * calls due at the same time run in the order they were made. A negative
 * delay (or a time already past) counts as now; INFINITY (or a value too
 * large to represent) never comes due, until cancelled. Returns as
 * corio_loop_call_soon (-ENOMEM also when the timer cannot be queued), and
 * -EINVAL for a NaN delay or time.
 */
CORIO_API int corio_loop_call_later(corio_loop *loop, double delay,
                                    corio_callback fn, void *arg,
                                    corio_handle **out);
CORIO_API int corio_loop_call_at(corio_loop *loop, double when,
                                 corio_callback fn, void *arg,
                                 corio_handle **out);

/* The same, run inside ctx (see above). */
CORIO_API int corio_loop_call_soon_in_ctx(corio_loop *loop, corio_context *ctx,
                                          corio_callback fn, void *arg,
                                          corio_handle **out);
CORIO_API int corio_loop_call_later_in_ctx(corio_loop *loop, corio_context *ctx,
                                           double delay, corio_callback fn,
                                           void *arg, corio_handle **out);
CORIO_API int corio_loop_call_at_in_ctx(corio_loop *loop, corio_context *ctx,
                                        double when, corio_callback fn,
                                        void *arg, corio_handle **out);

/*
 * corio_loop_call_soon_threadsafe: from any thread, have the loop run
 * fn(arg) soon, and wake it if it is waiting. Wakeups are coalesced: many
 * calls before the loop wakes cost one eventfd write. The calls run in
 * the order made (each thread's in its own order), a bounded share per
 * loop iteration, so that a flood of them from other threads never holds
 * up timers and I/O for long (a due timer waits for at most one share).
 * Returns 0, -EINVAL (loop or fn NULL), -ENOMEM, or -ESHUTDOWN once the
 * loop is being freed (fn will not run). Does not suspend; may block a
 * thread that runs no loop (back-pressure, below).
 *
 * Back-pressure. While the loop runs and at least threadsafe_max calls
 * (corio_loop_opts; 256 by default) wait for it, a call from a thread
 * that runs no loop blocks that thread (asleep on a futex, no spinning)
 * until the loop has taken the waiting calls down to half the bound,
 * then queues fn. A flood from such threads thus leaves the CPU to the
 * loop instead of piling up work it cannot reach. It never waits:
 *   - on a thread inside corio_loop_run (a task or callback of any loop,
 *     posting to its own loop or another): it queues over the bound, so
 *     loops posting to each other can never deadlock;
 *   - while the loop is not running (calls queued before corio_loop_run,
 *     or between runs, are not bounded), and a return from corio_loop_run
 *     lets every waiting caller queue its call;
 *   - inside corio's own machinery (thread-pool completions, the posts of
 *     corio_run_coroutine_threadsafe, the diagnostics watchdog's dump
 *     request), which queues over the bound too.
 * The bound is thus soft: callers that do not wait, and callers that
 * checked it at the same moment, can take the queue past it.
 * corio_loop_free wakes every waiting caller, which then returns
 * -ESHUTDOWN (fn will not run). A caller that must not block uses
 * corio_loop_try_call_soon_threadsafe. A waiting caller must not hold
 * anything the loop's callbacks wait for (a mutex they lock): the loop
 * could then never catch up.
 */
CORIO_API int corio_loop_call_soon_threadsafe(corio_loop *loop,
                                              corio_callback fn, void *arg);

/*
 * corio_loop_try_call_soon_threadsafe: corio_loop_call_soon_threadsafe
 * that never waits and honours the bound from every thread: while the
 * loop runs with threadsafe_max calls or more waiting for it, it returns
 * -EAGAIN and queues nothing (fn will not run), whichever thread calls it
 * (a loop's own callback can use it to back off from a busy loop). Else
 * returns as corio_loop_call_soon_threadsafe. Does not suspend.
 */
CORIO_API int corio_loop_try_call_soon_threadsafe(corio_loop *loop,
                                                  corio_callback fn,
                                                  void *arg);

/*
 * corio_loop_hold / corio_loop_unhold: from any thread, tell the loop
 * that work done elsewhere (another thread, a library callback) will
 * reach it later through corio_loop_call_soon_threadsafe. While at least
 * one hold stands, a loop with nothing else to do waits for that work
 * instead of reporting a deadlock (-EDEADLK) about the tasks waiting for
 * it (libuv's uv_ref, for outside work). Take the hold before handing the
 * work out; release it after the work's call_soon_threadsafe (or in the
 * callback). Releasing the last hold wakes the loop so it looks again.
 * Holds do not keep corio_run from finishing once main is done. The loop
 * must outlive the calls; holds left at corio_loop_free are ignored.
 * Never suspend. Return 0, or -EINVAL (loop NULL; unhold with no hold
 * standing).
 */
CORIO_API int corio_loop_hold(corio_loop *loop);
CORIO_API int corio_loop_unhold(corio_loop *loop);

/*
 * corio_handle_cancel: stop a scheduled callback from running. Does not
 * suspend. Returns 0 if it will not run now, -EALREADY if it already ran
 * or was cancelled, -EINVAL (h NULL).
 */
CORIO_API int corio_handle_cancel(corio_handle *h);

/* corio_handle_release: drop the caller's reference. */
CORIO_API void corio_handle_release(corio_handle *h);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_LOOP_H */
