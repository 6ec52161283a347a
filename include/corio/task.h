/*
 * corio/task.h: tasks, sleeping, and corio_run.
 *
 * A task is a coroutine scheduled on a loop, plus a future that holds its
 * outcome (asyncio's Task). The loop resumes it whenever what it waits for
 * is done. Python's `await` becomes a call that suspends only the calling
 * task: corio_task_join, corio_future_await, corio_sleep, the I/O calls.
 *
 * Cancellation is level-triggered. corio_task_cancel asks a task to stop:
 * its pending suspension returns -ECANCELED, and so does every suspending
 * call it makes afterwards, at once, for as long as the request stands
 * (a C caller that ignores one error cannot block forever). asyncio's
 * counters are kept: each cancel adds a request, corio_task_uncancel
 * withdraws one, corio_task_cancelling counts them; suspensions work again
 * once the count is back to 0 (how timeouts absorb their own cancel). A
 * task cancelled before it started never runs its body. A body that
 * returns -ECANCELED ends the task as cancelled; so does a body that
 * returns normally while a cancel request stands that no suspension ever
 * reported (asyncio's rule for a task that cancels itself and returns
 * without awaiting again).
 *
 * The await protocol inside a task: a bare corio_yield is asyncio's
 * sleep(0) (the task runs again in the next iteration), and
 * corio_await(f) with a corio_future makes the task wait until f is done,
 * then resumes it (the await returns 0, or -ECANCELED if the task was
 * cancelled meanwhile). Awaiting any other object makes the await fail
 * with -EINVAL (asyncio's "bad yield"); the check reads the object's first
 * word, so it must be at least that big.
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
    unsigned flags;     /* CORIO_CORO_LEAN: run on a shared stack */
} corio_task_opts;

/*
 * corio_spawn: start fn(arg, &result) as a task on the loop running on
 * this thread. It first runs in a coming iteration (asyncio's
 * create_task). Does not suspend. If out is not NULL, *out gets a handle
 * the caller must drop with corio_task_release. The spawn site (file:line)
 * is recorded for reports.
 *
 * Returns 0, -EINVAL (fn NULL, bad opts), -ENOMEM (no memory or no stack),
 * CORIO_ENOTASK. On error nothing was started and *out is untouched.
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

CORIO_API void corio_task_retain(corio_task *t);
/* Drop a handle. The task keeps running if it has not finished. */
CORIO_API void corio_task_release(corio_task *t);

/*
 * corio_task_join: wait for t to finish (asyncio's `await task`) and return
 * its outcome: 0 with *result set, its error, or -ECANCELED if it was
 * cancelled. Suspends the calling task. If the caller is cancelled while
 * waiting, the cancel is passed on to t (as asyncio's Task.cancel passes
 * it to the task it awaits) and the join goes on until t has ended; it
 * then returns -ECANCELED, since the caller's own request still stands,
 * even if t refused the cancel. A task cannot join itself (-EDEADLK).
 * Outside a task: CORIO_ENOTASK.
 */
CORIO_API int corio_task_join(corio_task *t, void **result);

/* corio_task_result: t's outcome without waiting, as
 * corio_future_result: -EAGAIN while it runs. */
CORIO_API int corio_task_result(corio_task *t, void **result);

/*
 * corio_task_cancel: request that t stop (see above). Does not suspend;
 * the task sees -ECANCELED at its pending or next suspension. Returns 0,
 * or -EALREADY when t is already done (asyncio's False).
 */
CORIO_API int corio_task_cancel(corio_task *t);
/* corio_task_uncancel: withdraw one request; returns how many remain. */
CORIO_API int corio_task_uncancel(corio_task *t);
/* corio_task_cancelling: how many cancel requests stand. */
CORIO_API int corio_task_cancelling(const corio_task *t);

CORIO_API int corio_task_done(const corio_task *t);
CORIO_API int corio_task_cancelled(const corio_task *t);
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
 * returns how many there are in all.
 */
CORIO_API size_t corio_loop_tasks(corio_loop *loop, corio_task **buf,
                                  size_t cap);

/*
 * corio_fail: attach a message to the running task's failure and return
 * err, for `return corio_fail(-EIO, "reading %s", path);`. The message is
 * printed in reports and kept with the task. Outside a task it only
 * returns err.
 */
CORIO_API int corio_fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * corio_sleep: suspend the calling task for `seconds` (never less).
 * corio_sleep(0) yields to the loop once: every other ready task runs
 * before this one continues (asyncio.sleep(0)). Returns 0, -ECANCELED
 * (cancelled before or while sleeping), CORIO_ENOTASK outside a task.
 */
CORIO_API int corio_sleep(double seconds);

/*
 * corio_run: asyncio.run for C. Makes a loop, runs main(arg, &result) as
 * its main task until it finishes, then cancels every task still alive and
 * waits for them, closes the async generators left unfinished (each in a
 * task, as asyncio.run's shutdown_asyncgens; see agen.h), frees the loop
 * and returns main's outcome: 0 with
 * *result set, its error, or -ECANCELED. While it runs, SIGINT cancels the
 * main task (its cleanup runs) instead of killing the process, provided
 * SIGINT had its default disposition (ignored or handled by the program,
 * it is left alone, as asyncio.run does); the disposition is restored
 * afterwards. If nothing can ever
 * run again while main waits, returns -EDEADLK after printing what each
 * task waits on. CORIO_ERUNNING if a loop already runs on this thread,
 * -ENOMEM, or the loop's errors. result may be NULL.
 */
CORIO_API int corio_run(corio_coro_fn main, void *arg, void **result);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_TASK_H */
