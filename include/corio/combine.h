/*
 * corio/combine.h: waiting on several futures at once: gather, wait,
 * as_completed, wait_for and shield (asyncio's combinators).
 *
 * Every call takes futures; pass a task as corio_task_future(t). The
 * futures are borrowed: they must stay alive for the call (corio also
 * holds a reference on each while it watches it) and belong to the loop
 * running on this thread, or to no loop. A future may be listed twice;
 * each entry is counted and reported on its own.
 *
 * Rules shared by the suspending calls here, as for corio_future_await:
 *   - Cancellation: fails with -ECANCELED at once if it would have to
 *     wait while a cancel stands (task.h), and a cancel of the caller
 *     (corio_task_cancel, an enclosing scope) that comes while it waits
 *     ends the wait with -ECANCELED. A call whose answer is already known
 *     (every future done, wait's condition already met or its timeout
 *     <= 0, a done future queued in as_completed) returns it without
 *     suspending. gather and wait_for differ: where they would fail, they
 *     first cancel the futures still pending and wait until those are
 *     done (see each);
 *   - a timeout is in seconds, INFINITY for none; NaN is -EINVAL;
 *   - waiting for the calling task's own future is -EDEADLK;
 *   - outside a task: CORIO_ENOTASK; on any error the out-parameters are
 *     untouched and nothing stays registered on the futures (gather's
 *     early error, below, is the one documented exception).
 * Memory: gather, wait and as_completed allocate once, in proportion to
 * n (gather and wait nothing when they need not wait); wait_for and
 * shield a small fixed amount. Nothing lives on the caller's stack, so lean tasks may use
 * every call; the arrays passed in are read only while the caller runs.
 */
#ifndef CORIO_COMBINE_H
#define CORIO_COMBINE_H

#include <stddef.h>
#include "future.h"
#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* corio_gather flags. */
#define CORIO_GATHER_COLLECT 0x1u /* asyncio's return_exceptions=True */

/*
 * corio_gather: wait until every future in futs[0..n) is done (asyncio's
 * `await gather(*fs)`). Suspends the calling task.
 *
 * Without CORIO_GATHER_COLLECT: returns 0 once all are done, with
 * results[i] set to futs[i]'s result, in the order of futs whatever the
 * order of completion. As soon as one future fails (with an error, or by
 * being cancelled: -ECANCELED, as asyncio treats a cancelled child), it
 * returns that error, results untouched, and the other futures keep
 * running (as asyncio). corio keeps watching them until each is done, to
 * mark their outcomes retrieved (no "never retrieved" report, as asyncio's
 * gather does), holding a reference on each until then; the allocation
 * goes with the last one. When several futures are already done at the
 * call, the first failed one in array order is the one reported.
 *
 * With CORIO_GATHER_COLLECT (return_exceptions=True): waits for every
 * future and returns 0; errors[i] gets 0 or futs[i]'s error (-ECANCELED
 * for a cancelled one) and results[i] its result or NULL.
 *
 * Cancellation: unlike the rule (task.h), not at once: if the caller is
 * cancelled while gathering (or a cancel stands when it would have to
 * wait), every future not yet done is cancelled (corio_future_cancel: a
 * task gets a cancel request), gather waits until all of them are done,
 * and returns -ECANCELED (results and errors untouched). Unlike asyncio
 * it waits for all of them (asyncio's gather raises when the first child
 * reports), so that no child still runs when gather returns: C children
 * often borrow the caller's stack. Further cancels during that wait do
 * not cut it short.
 *
 * results may be NULL; errors may be NULL only without COLLECT (it is not
 * used then). Every outcome gather reads is marked retrieved. n == 0
 * returns 0 at once (asyncio's gather() of nothing).
 *
 * Returns 0, the first error (see above), -ECANCELED, -EINVAL (futs NULL
 * with n > 0, a NULL or foreign-loop future, unknown flags, COLLECT
 * without errors), -EDEADLK (the caller's own future is in futs),
 * -ENOMEM, CORIO_ENOTASK.
 */
CORIO_API int corio_gather(corio_future *const *futs, size_t n,
                           unsigned flags, void **results, int *errors);

/*
 * corio_gather_start: gather as a future (what asyncio.gather returns
 * before anyone awaits it). *out is a new future that completes as
 * corio_gather would return: with the first failure (without
 * CORIO_GATHER_COLLECT; the other futures keep running and are watched
 * until done so their outcomes are marked retrieved), or once every
 * future is done. Does not suspend and needs no running task: the
 * gathering goes on whether or not anybody awaits *out, and its outcome
 * can be read later.
 *
 * Reading the outcome, once *out is done (corio_future_await, or a done
 * callback): corio_gather_result copies it out with corio_gather's
 * convention. corio_future_result / corio_future_await on *out give 0
 * with a `void **` array of the n results (owned by *out: valid while
 * the caller holds it), the first error, or -ECANCELED.
 *
 * Cancelling *out (corio_future_cancel, or cancelling a task that awaits
 * it) cancels every future not yet done; *out completes as cancelled once
 * all of them are done (even with COLLECT, as asyncio), so no child runs
 * on after it. Returns 0 then, or -EALREADY if *out is already done.
 * Its outcome cannot be set from outside (set_result and set_error:
 * -EPERM).
 *
 * Ownership: the caller gets one reference on *out and drops it with
 * corio_future_release (dropping it does not stop the gathering: corio
 * holds a reference of its own until *out is done). Every future in futs
 * is retained until it is done or *out settles. Memory: *out and its
 * result arrays are one allocation, plus gather's watch array while
 * futures are pending. An error outcome nobody reads is reported when
 * *out is freed, as for any future.
 *
 * *out belongs to the loop running on this thread, or else to the loop
 * of the futures (or to none: then its waiters run at once, see
 * future.h). n == 0 gives a future already done with an empty result.
 *
 * Returns 0 with *out set, -EINVAL (out NULL, futs NULL with n > 0, a NULL
 * or foreign-loop future, unknown flags), -EDEADLK (the running task's
 * own future is in futs), -ENOMEM. On error nothing was started or
 * registered and *out is untouched.
 */
CORIO_API int corio_gather_start(corio_future *const *futs, size_t n,
                                 unsigned flags, corio_future **out);

/*
 * corio_gather_result: the outcome of a done gather future made by
 * corio_gather_start, without waiting: 0 with results[i] (may be NULL)
 * and, with COLLECT, errors[i] set as corio_gather sets them; the first
 * failure; -ECANCELED. -EAGAIN while pending. -EINVAL (f NULL or not a
 * gather future, COLLECT without errors). Marks the outcome retrieved.
 * Never suspends.
 */
CORIO_API int corio_gather_result(corio_future *f, void **results,
                                  int *errors);

/* corio_wait modes (asyncio's return_when). */
enum corio_wait_mode {
    CORIO_WAIT_FIRST_COMPLETED, /* any future done */
    CORIO_WAIT_FIRST_EXCEPTION, /* any future failed with an error other
                                   than -ECANCELED, or all done */
    CORIO_WAIT_ALL_COMPLETED    /* all done */
};

/*
 * corio_wait: wait until the condition of `mode` holds for futs[0..n),
 * or until `timeout` seconds have passed (asyncio.wait). Suspends the
 * calling task, unless the condition already holds or timeout <= 0.
 *
 * Returns 0 in both cases: as in asyncio, a timeout is not an error. If
 * ndone is not NULL, *ndone gets how many entries of futs are done; the
 * caller tells done from pending with corio_future_done (asyncio's
 * (done, pending) sets). Outcomes are not read, so nothing is marked
 * retrieved.
 *
 * Cancellation: fails with -ECANCELED at once if it would have to wait
 * while a cancel stands, or when a cancel comes while it waits; *ndone
 * untouched; the futures are NOT cancelled (as asyncio.wait).
 *
 * Errors: -EINVAL (futs NULL, n == 0 as asyncio's ValueError for an empty
 * set, a NULL or foreign-loop future, unknown mode, NaN timeout),
 * -EDEADLK (the caller's own future is in futs), -ENOMEM, CORIO_ENOTASK.
 */
CORIO_API int corio_wait(corio_future *const *futs, size_t n, int mode,
                         double timeout, size_t *ndone);

typedef struct corio_as_completed corio_as_completed;

/*
 * as_completed: take futures in the order they complete.
 *
 *     corio_as_completed *it;
 *     corio_future *f;
 *     if ((rc = corio_as_completed_new(futs, n, 5.0, &it)) != 0) return rc;
 *     while ((rc = corio_as_completed_next(it, &f)) == 0) {
 *         int err = corio_future_result(f, &r);  // sets r: read it after
 *         use(err, r);
 *     }
 *     corio_as_completed_free(it);      // rc: CORIO_END, -ETIMEDOUT...
 *
 * corio_as_completed_new watches futs[0..n) from now on, and the timeout
 * (seconds, INFINITY for none) counts from now. Futures already done come
 * first, in array order. Does not suspend. n == 0 gives an iterator that
 * is exhausted at once. The iterator holds a reference on each future
 * until it is freed, so the futures it hands out stay valid until then.
 * Returns 0 with *out set, -EINVAL (out NULL, futs NULL with n > 0, a
 * NULL or foreign-loop future, NaN timeout), -ENOMEM, CORIO_ENOTASK (no
 * loop runs on this thread; a task is not needed).
 */
CORIO_API int corio_as_completed_new(corio_future *const *futs, size_t n,
                                     double timeout,
                                     corio_as_completed **out);

/*
 * corio_as_completed_next: the next future to complete. Suspends the
 * calling task until one is done, unless one already is. Returns:
 *   0 with *f set (borrowed; f is done: read it with corio_future_result);
 *   CORIO_END when every future has been handed out (asyncio's
 *     StopIteration), and again at every later call;
 *   -ETIMEDOUT once the timeout has passed, for this and every later call
 *     (futures done before the timeout are still handed out first; the
 *     rest are no longer watched; as asyncio's TimeoutError);
 *   -ECANCELED: fails at once if it would have to wait while a cancel
 *     stands, or when a cancel comes while it waits (the futures are
 *     not cancelled; the iterator stays usable);
 *   -EINVAL (NULL it or f), -EBUSY (another task is waiting in next on
 *     the same iterator), -ESHUTDOWN (the iterator was freed by another
 *     task while this one waited; it is gone), CORIO_ENOTASK (not in a
 *     task).
 * *f is untouched unless 0 is returned.
 */
CORIO_API int corio_as_completed_next(corio_as_completed *it,
                                      corio_future **f);

/*
 * corio_as_completed_free: stop watching, drop the iterator's references
 * and free it (futures not yet handed out keep running). Never suspends.
 * If a task is waiting in next, it is woken with -ESHUTDOWN and the memory
 * goes when it has run. NULL: no-op.
 */
CORIO_API void corio_as_completed_free(corio_as_completed *it);

/*
 * corio_wait_for: wait for f for at most `timeout` seconds (asyncio's
 * wait_for, Python 3.11 semantics). Suspends the calling task.
 *
 *   - f done in time (or already done): its outcome, as
 *     corio_future_result (0 with *result set, or its error), marked
 *     retrieved.
 *   - timeout: f is cancelled and wait_for waits until f is really done,
 *     so a task never runs on after wait_for returns (bpo-32751); then
 *     -ETIMEDOUT if f ended cancelled, else f's own outcome (a task that
 *     swallowed the cancel and returned a result gives 0 and its result,
 *     one that failed gives its error, as 3.11).
 *   - Cancellation: unlike the rule (task.h), not at once: if a cancel
 *     stands when it would have to wait, or comes while it waits (f not
 *     done), f is cancelled, wait_for waits until f is done (further
 *     cancels do not cut that short), and returns -ECANCELED whatever f's
 *     outcome.
 *   - a timeout and an outside cancel together: -ECANCELED (the outside
 *     cancel wins, as with corio_scope_timeout).
 *
 * The timeout is a cancel scope (corio_scope_timeout): its expiry adds a cancel
 * request to the caller, withdrawn before the call returns (as Python
 * 3.12's wait_for, built on asyncio.timeout), so corio_task_cancelling
 * is the same after the call as before unless a cancel came from
 * outside. timeout <= 0 with f pending cancels f at once and waits for it;
 * INFINITY means no timeout. result may be NULL; it is written only when
 * 0 is returned.
 *
 * Errors: -EINVAL (f NULL or not a future, f of another loop, NaN
 * timeout), -EDEADLK (f is the caller's own future), -ENOMEM (no room
 * for the timeout), CORIO_ENOTASK (not in a task).
 */
CORIO_API int corio_wait_for(corio_future *f, double timeout, void **result);

/*
 * corio_future_shield: protect f from cancellation through *outer
 * (asyncio.shield). *outer is a new future that completes like f (same
 * result, same error, cancelled if f is cancelled); cancelling *outer,
 * or a task awaiting *outer (corio_future_await cancels the future it
 * waits on), does not cancel f, which runs on to completion. If f is
 * already done, *outer is f itself with a new reference (asyncio returns
 * the inner future). Does not suspend; needs no running task.
 *
 * Ownership: the caller gets one reference on *outer and drops it with
 * corio_future_release. Until f is done or *outer is, corio holds a
 * reference on both (the link between them is freed then). f's outcome
 * is marked retrieved when it is passed on to *outer.
 *
 * Returns 0 with *outer set, -EINVAL (f or outer NULL, f not a future),
 * -ENOMEM.
 */
CORIO_API int corio_future_shield(corio_future *f, corio_future **outer);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_COMBINE_H */
