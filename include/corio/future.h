/*
 * corio/future.h: futures, the result of something that finishes later.
 *
 * A future is PENDING until it is done one of three ways: with a result,
 * with an error, or cancelled. It never changes again after that. Done
 * callbacks run in the order they were added, each through the loop's
 * ready queue (so never inside set_result); a future made with no loop runs
 * them at once, inside the call that completes it.
 *
 * Awaiting. Inside a task, corio_future_await suspends only that task
 * until the future is done. Inside a coroutine driven by hand (no running
 * loop), it hands the future to the driver through corio_await (the resume
 * returns CORIO_AWAITING with the future as `out`); the driver completes it
 * and resumes, which is the protocol any custom event loop can implement.
 *
 * Futures are reference counted: corio_future_new gives the caller one
 * reference; corio_future_release drops one. Not thread-safe: use a future
 * on its loop's thread.
 */
#ifndef CORIO_FUTURE_H
#define CORIO_FUTURE_H

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_future corio_future;
typedef void (*corio_future_callback)(corio_future *f, void *arg);

/*
 * corio_future_new: a PENDING future bound to `loop` (NULL: the loop
 * running on this thread, or none). Does not suspend. Returns 0 with *out
 * set (the caller's reference), -EINVAL (out NULL), -ENOMEM.
 */
CORIO_API int corio_future_new(corio_loop *loop, corio_future **out);

/* corio_future_retain: take another reference on f (NULL: nothing). */
CORIO_API void corio_future_retain(corio_future *f);
/* Drop a reference; the last one frees the future (a task's future: the
 * task, as corio_task_release). */
CORIO_API void corio_future_release(corio_future *f);

/*
 * corio_future_set_result / corio_future_set_error: complete the future
 * with `result` (borrowed: the future never frees it) or with `err` (a
 * negative errno; -ECANCELED is allowed and means cancelled). Schedules
 * the done callbacks and wakes awaiting tasks. Does not suspend. Returns
 * 0, -EALREADY when the future is already done (nothing changes), -EPERM
 * (a task's future, or a gather future: their outcome is their own),
 * -EINVAL (f NULL, err >= 0).
 */
CORIO_API int corio_future_set_result(corio_future *f, void *result);
CORIO_API int corio_future_set_error(corio_future *f, int err);

/*
 * corio_future_cancel: complete the future as cancelled (a task's future:
 * ask the task to cancel, see corio_task_cancel; a gather future: cancel
 * what it gathers, and it completes once all of that is done, see
 * corio_gather_start). Does not suspend. Returns 0, -EALREADY when it is
 * already done (asyncio's False), -EINVAL (f NULL).
 */
CORIO_API int corio_future_cancel(corio_future *f);

/* corio_future_done: 1 once done (any way), else 0 (also for NULL). */
CORIO_API int corio_future_done(const corio_future *f);
/* corio_future_cancelled: 1 when done by cancellation, else 0. */
CORIO_API int corio_future_cancelled(const corio_future *f);

/*
 * corio_future_result: the outcome of a done future without waiting:
 * 0 with *result set, the error it was completed with, or -ECANCELED.
 * -EAGAIN while pending (asyncio's InvalidStateError), -EINVAL (f NULL).
 * Marks the outcome retrieved (no "never retrieved" report). result may
 * be NULL. Does not suspend.
 */
CORIO_API int corio_future_result(corio_future *f, void **result);

/*
 * corio_future_add_done_callback: call fn(f, arg) once f is done (soon,
 * through the ready queue, if it already is). Does not suspend. fn runs
 * in the context current at this call (loop.h explains callbacks and
 * contexts); corio_future_add_done_callback_in_ctx runs it inside ctx
 * (asyncio's context=; ctx retained until fn has run or is removed).
 * Returns 0, -EINVAL (f or fn NULL; ctx NULL for _in_ctx), -ENOMEM.
 * corio_future_remove_done_callback removes every registration of
 * (fn, arg) not yet run and returns how many it removed, or -EINVAL (f or
 * fn NULL). Neither suspends.
 */
CORIO_API int corio_future_add_done_callback(corio_future *f,
                                             corio_future_callback fn,
                                             void *arg);
CORIO_API int corio_future_add_done_callback_in_ctx(corio_future *f,
                                                    corio_context *ctx,
                                                    corio_future_callback fn,
                                                    void *arg);
CORIO_API int corio_future_remove_done_callback(corio_future *f,
                                                corio_future_callback fn,
                                                void *arg);

/*
 * corio_future_await: wait until f is done and return its outcome as
 * corio_future_result does. A done future returns at once without
 * suspending. Suspends the calling task (or hands f to a hand-driven
 * coroutine's driver, see above).
 *
 * Cancellation: fails with -ECANCELED at once if it would have to wait
 * while a cancel stands (f is left alone: asyncio throws the pending
 * CancelledError before the await happens). A cancel that reaches a
 * task while it waits is passed on to f at once, as asyncio's Task.cancel
 * cancels the future its task awaits: a plain future is cancelled then and
 * there; a task's future asks that task to cancel, and the wait goes on
 * until that task has ended. Either way the call then returns -ECANCELED.
 *
 * Errors besides f's outcome: -EINVAL (f NULL), -EDEADLK (f is the
 * calling task's own future), CORIO_ENOTASK (f pending, outside any task
 * and any coroutine: nothing could ever complete the wait), and in a
 * hand-driven coroutine the errors of corio_await (a thrown error,
 * CORIO_EEXIT). result may be NULL.
 */
CORIO_API int corio_future_await(corio_future *f, void **result);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_FUTURE_H */
