/*
 * corio/task.h: tasks and sleeping (corio_run is in corio/run.h).
 *
 * A task is a coroutine scheduled on a loop, plus a future that holds its
 * outcome (asyncio's Task). The loop resumes it whenever what it waits for
 * is done. Python's `await` becomes a call that suspends only the calling
 * task: corio_task_join, corio_future_await, corio_sleep, the I/O calls.
 *
 * Cancellation is level-triggered. corio_task_cancel asks a task to stop:
 * its pending wait returns -ECANCELED, and for as long as the request
 * stands, every call that would have to wait fails with -ECANCELED at
 * once (a C caller that ignores one error cannot block forever). A call
 * that need not wait (a free lock, a set event, a done future) succeeds,
 * as asyncio's fast paths do; the cancel is delivered at the next real
 * wait. Each suspending call's comment says "Cancellation: fails with
 * -ECANCELED at once if it would have to wait while a cancel stands" and
 * what it does beyond that, or how it differs (docs/design.md lists the
 * differences). asyncio's counters are kept: each cancel adds a request,
 * corio_task_uncancel withdraws one, corio_task_cancelling counts them;
 * waits work again once the count is back to 0 (how timeouts absorb their
 * own cancel). A task cancelled before it started never runs its body. A
 * body that returns -ECANCELED ends the task as cancelled; so does a body
 * that returns normally while a cancel request stands that no suspension
 * ever reported (asyncio's rule for a task that cancels itself and
 * returns without awaiting again).
 *
 * The await protocol inside a task: a bare corio_yield is asyncio's
 * sleep(0) (the task runs again in the next iteration; a cancel that
 * stands when it resumes makes it return -ECANCELED, as asyncio throws
 * CancelledError into the task's next step), and corio_await(f) with a corio_future makes
 * the task wait until f is done, then resumes it (the await returns 0, or
 * -ECANCELED at once if it would have to wait while a cancel stands, or
 * if the task was cancelled meanwhile). Awaiting any other object, NULL
 * included, makes the await fail with -EINVAL (asyncio's "bad yield");
 * the check reads the object's first word, so it must be at least that
 * big.
 *
 * Stacks: the rule a program may rely on. A task spawned with default
 * options (stack_size 0, no flags) or with a stack_size runs on a stack of
 * its own from its first step to its end, and its frames never move. So
 * the address of a task's local may be handed to other tasks, callbacks
 * and threads, and used while the task is suspended, in any wait (a
 * corio_sleep included), for as long as the function that owns the local
 * has not returned (the usual C rule). A lean task (CORIO_CORO_LEAN) may
 * not do this: while it is suspended its frames may be copied off the
 * stack it shares and that memory used by another task, so a pointer into
 * a lean task's stack is good only while that task runs; hand out heap
 * memory instead. corio itself keeps nothing on any task's stack. What
 * each costs (docs/coro.md, "Stacks and modes"): a task of its own stack
 * keeps at least one page (4 KiB) resident while it lives and pays a page
 * fault for each newly touched page; a lean task keeps only its used
 * frames (typically a few hundred bytes) and pays a copy at switches
 * that need one.
 *
 * Handles. corio_task_spawn hands out a reference if asked; the loop holds
 * its own until the task is done, so dropping a handle never loses a
 * running task. A task that failed and whose error nobody retrieved (by
 * join, corio_task_result or its future) is reported when it is freed,
 * with its name and spawn site.
 */
#ifndef CORIO_TASK_H
#define CORIO_TASK_H

#include <stddef.h>
#include "coro.h"
#include "future.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_task corio_task;

typedef struct corio_task_opts {
    /* Shown in reports and dumps; borrowed (must outlive the task; a string
     * literal is typical). NULL: "task-N", N counting from 1 per loop. */
    const char *name;
    size_t stack_size;  /* 0: CORIO_STACK_DEFAULT */
    unsigned flags;     /* CORIO_CORO_LEAN: run on a shared stack (see
                         * "Stacks" above: no pointers into it may be
                         * used while the task is suspended) */
} corio_task_opts;

/*
 * corio_spawn: start fn(arg, &result) as a task on the loop running on
 * this thread. It first runs in a coming iteration (asyncio's
 * create_task). Its context variables start as a copy of the current
 * context (the running task's, or the running callback's; see ctxvar.h).
 * Does not suspend. opts may be NULL (defaults). If out is not NULL, *out
 * gets a handle (a reference) the caller must drop with
 * corio_task_release. The spawn site (file:line) is recorded for reports
 * (file NULL shows as "?"). The task's stack is taken at its first step,
 * not here: a task that cannot get one fails with -ENOMEM then.
 *
 * Returns 0, -EINVAL (fn NULL, unknown opts flags), -ENOMEM (no memory
 * for the task), -ESHUTDOWN (the loop is being freed), CORIO_ENOTASK (no
 * loop given and none running on this thread; a loop callback may spawn).
 * On error nothing was started and *out is untouched.
 */
#define corio_spawn(fn, arg, opts, out)                                    \
    corio_task_spawn_at(NULL, (fn), (arg), (opts), (out), __FILE__, __LINE__)

/* corio_loop_spawn: the same on a given loop (running or not), for
 * starting work before corio_loop_run. */
#define corio_loop_spawn(loop, fn, arg, opts, out)                         \
    corio_task_spawn_at((loop), (fn), (arg), (opts), (out), __FILE__,      \
                        __LINE__)

CORIO_API int corio_task_spawn_at(corio_loop *loop, corio_coro_fn fn,
                                  void *arg, const corio_task_opts *opts,
                                  corio_task **out, const char *file,
                                  int line);

/*
 * corio_spawn_in_ctx: corio_spawn into the context ctx (asyncio's
 * create_task(coro, context=ctx)) instead of a copy of the spawner's.
 * The task runs inside ctx from its first step to its end, as if its
 * whole body were wrapped in corio_context_run(ctx, ...): what it sets stays
 * in ctx, and corio_context_get(ctx, ...) reads its live values meanwhile.
 * ctx is retained until the task ends.
 *
 * Difference from asyncio, which enters the context at each step: ctx
 * stays entered for the task's whole life, so while the task lives,
 * another spawn into ctx, corio_context_run(ctx) and callbacks given ctx are
 * refused (-EBUSY, or the callback skipped), as entering an entered
 * Context is in Python. (corio_context_run may suspend, so per-step entry
 * could not rule out two owners at once.)
 *
 * Returns as corio_spawn, plus -EINVAL (ctx NULL) and -EBUSY (ctx is
 * entered now: by a running corio_context_run, a callback, or a live task
 * spawned into it). On error nothing was started and ctx is untouched.
 */
#define corio_spawn_in_ctx(ctx, fn, arg, opts, out)                        \
    corio_task_spawn_in_ctx_at(NULL, (ctx), (fn), (arg), (opts), (out),    \
                               __FILE__, __LINE__)
#define corio_loop_spawn_in_ctx(loop, ctx, fn, arg, opts, out)             \
    corio_task_spawn_in_ctx_at((loop), (ctx), (fn), (arg), (opts), (out),  \
                               __FILE__, __LINE__)

CORIO_API int corio_task_spawn_in_ctx_at(corio_loop *loop, corio_context *ctx,
                                         corio_coro_fn fn, void *arg,
                                         const corio_task_opts *opts,
                                         corio_task **out, const char *file,
                                         int line);

/* corio_task_retain: take another handle (a reference) on t; drop it with
 * corio_task_release. Both do nothing for NULL. Using a handle after its
 * last release is misuse: debug builds (no NDEBUG) abort naming the task
 * when join, cancel, result, retain or release meet one. */
CORIO_API void corio_task_retain(corio_task *t);
/* Drop a handle. The task keeps running if it has not finished. */
CORIO_API void corio_task_release(corio_task *t);

/*
 * corio_task_join: wait for t to finish (asyncio's `await task`) and return
 * its outcome: 0 with *result set (result may be NULL), its error, or
 * -ECANCELED if it was cancelled; marks the outcome retrieved. Suspends
 * the calling task while t runs; a done t answers at once, anywhere. In a
 * coroutine driven by hand it hands t's future to the driver, as
 * corio_future_await does.
 *
 * Cancellation: fails with -ECANCELED at once if it would have to wait
 * while a cancel stands (t is left alone). A cancel that reaches the
 * caller while it waits is passed on to t (as asyncio's Task.cancel
 * passes it to the task it awaits) and the join goes on until t has
 * ended; it then returns -ECANCELED, since the caller's own request still
 * stands, even if t refused the cancel.
 *
 * Errors besides t's outcome: -EINVAL (t NULL), -EDEADLK (t is the
 * calling task), CORIO_ENOTASK (t not done, outside any task or
 * coroutine), and in a hand-driven coroutine the errors of corio_await.
 */
CORIO_API int corio_task_join(corio_task *t, void **result);

/* corio_task_result: t's outcome without waiting, as
 * corio_future_result: -EAGAIN while it runs, -EINVAL (t NULL). Does not
 * suspend. */
CORIO_API int corio_task_result(corio_task *t, void **result);

/*
 * corio_task_cancel: request that t stop (see above). Does not suspend;
 * the task sees -ECANCELED at its pending wait or its next call that
 * would have to wait. Returns 0, -EALREADY when t is already done
 * (asyncio's False), -EINVAL (t NULL).
 */
CORIO_API int corio_task_cancel(corio_task *t);
/*
 * corio_task_cancel_msg: corio_task_cancel with a message (asyncio's
 * task.cancel(msg)), which the cancelled task, whoever joins it and the
 * reports can read with corio_task_cancel_message. msg is copied (NULL:
 * no message, as corio_task_cancel). Does not suspend.
 *
 * Which message stands: each cancel replaces the message of the one
 * before (a cancel without one clears it), as asyncio's last
 * cancel(msg) wins, except once a cancel has woken the task from a
 * suspension and it has not run since: it sees that cancel's message,
 * as in asyncio, where the first cancel's CancelledError travels through
 * the future it awaited. A cancel passed on to the task t awaits
 * (corio_task_join, corio_future_await) carries the message on. When
 * corio_task_uncancel withdraws the last request, the message goes too.
 * It is freed with the task.
 *
 * Returns 0; -EALREADY when t is done (nothing recorded); -EINVAL (t
 * NULL); -ENOMEM when the copy fails: the cancel request is made all the
 * same (a cancel is never lost), without a message.
 */
CORIO_API int corio_task_cancel_msg(corio_task *t, const char *msg);
/*
 * corio_task_cancel_message: the message of t's standing (or, once t is
 * done, last) cancellation, or NULL (none, or t NULL). Borrowed: valid
 * until the next cancel or uncancel of t, or until t is freed.
 */
CORIO_API const char *corio_task_cancel_message(const corio_task *t);
/* corio_task_uncancel: withdraw one request; returns how many remain
 * (never below 0), or -EINVAL (t NULL). Does not suspend. */
CORIO_API int corio_task_uncancel(corio_task *t);
/* corio_task_cancelling: how many cancel requests stand. */
CORIO_API int corio_task_cancelling(const corio_task *t);

/* corio_task_done: 1 once t is done (any way), else 0 (also for NULL). */
CORIO_API int corio_task_done(const corio_task *t);
/* corio_task_cancelled: 1 when t ended cancelled, else 0. */
CORIO_API int corio_task_cancelled(const corio_task *t);
/* corio_task_name: t's name (the one given, or "task-N"); borrowed; ""
 * for NULL. */
CORIO_API const char *corio_task_name(const corio_task *t);
/* corio_task_future: t's future (borrowed; retain it to keep it). */
CORIO_API corio_future *corio_task_future(corio_task *t);
/* The message given with corio_fail, or NULL. Valid while t lives. */
CORIO_API const char *corio_task_message(const corio_task *t);
/* The running task on this thread, or NULL. */
CORIO_API corio_task *corio_task_current(void);

/*
 * corio_loop_tasks: the tasks of `loop` not yet done (asyncio's
 * all_tasks): stores up to cap of them in buf (borrowed pointers) and
 * returns how many there are in all. buf may be NULL (then it only
 * counts); a NULL loop has none (0). Does not suspend.
 */
CORIO_API size_t corio_loop_tasks(corio_loop *loop, corio_task **buf,
                                  size_t cap);

/*
 * corio_fail: attach a message to the running task's failure and return
 * err, for `return corio_fail(-EIO, "reading %s", path);`. The message is
 * printed in reports and kept with the task, with the site of the call
 * (the macro passes __FILE__ and __LINE__ to corio_fail_at; the function,
 * called as (corio_fail)(...), records none). Outside a task, or with fmt
 * NULL, it only returns err. Does not suspend.
 */
CORIO_API int corio_fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
CORIO_API int corio_fail_at(const char *file, int line, int err,
                            const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define corio_fail(...) corio_fail_at(__FILE__, __LINE__, __VA_ARGS__)

/*
 * corio_sleep: suspend the calling task for `seconds` (never less).
 * corio_sleep(0) yields to the loop once: every other ready task runs
 * before this one continues (asyncio.sleep(0)); so does a negative time.
 * INFINITY sleeps until cancelled. Returns 0, -ECANCELED, -EINVAL (seconds
 * is NaN), -ENOMEM (no room for the timer), CORIO_ENOTASK outside a task.
 * Cancellation: fails with -ECANCELED at once if it would have to wait
 * while a cancel stands (a sleep always waits, sleep(0) included).
 */
CORIO_API int corio_sleep(double seconds);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_TASK_H */
