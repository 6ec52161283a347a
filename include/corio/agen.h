/*
 * corio/agen.h: async generators and async iteration (Python's
 * `async def` with `yield`, `async for`, anext/asend/athrow/aclose).
 *
 * An async generator is a coroutine that produces a stream of items and
 * may wait between them. Its body is an ordinary corio body,
 * `int fn(void *arg, void **result)`, that hands each item to the
 * consumer with corio_yield and waits with any suspending call (sleep,
 * I/O, queues, futures):
 *
 *     static int ticks(void *arg, void **result)
 *     {
 *         for (intptr_t i = 0; i < 3; i++) {
 *             int rc = corio_sleep(0.1);          // suspends the task
 *             if (rc == 0)
 *                 rc = corio_yield((void *)i, NULL); // item to consumer
 *             if (rc)
 *                 return rc;                     // closed or cancelled
 *         }
 *         return 0;                              // the stream ends
 *     }
 *     ...
 *     corio_agen *g;  void *item;  int rc;
 *     corio_agen_new(ticks, NULL, NULL, &g);
 *     while ((rc = corio_agen_next(g, &item)) == 0)   // async for
 *         use(item);
 *     corio_agen_free(g);          // rc: CORIO_END, or the error
 *
 * Where it runs. The generator runs inside whoever calls next: in a task,
 * its waits suspend that whole task (the loop runs others meanwhile) and
 * come back to it, as Python's awaits inside an async generator reach the
 * task through `yield from`. Cancelling the task reaches the generator's
 * pending wait. The generator sees the caller's context variables, cancel
 * scopes and deadlines. Driven from a plain coroutine with no loop, its
 * waits reach that coroutine's driver as CORIO_AWAITING, exactly as the
 * caller's own corio_await would. Called outside any coroutine, next still
 * works for generators that do not wait; a wait fails inside the generator
 * with CORIO_ENOTCORO.
 *
 * Statuses. next, send and throw return 0 with the yielded item in *item;
 * CORIO_END (1) when the generator returned (Python's
 * StopAsyncIteration; it is closed now, and every later call returns
 * CORIO_END again); or a negative error: the one the body failed with
 * (it is closed now), or misuse. The body's *result is ignored (an async
 * generator has no return value in Python either). An item is a borrowed
 * `void *`: corio never looks at it.
 *
 * One operation at a time: while a next, send, throw or close is under
 * way (including while the generator waits inside it), every other call
 * on the same generator returns CORIO_ERUNNING (Python: "anext(): asynchronous
 * generator is already running").
 *
 * Scopes (PEP 789). A generator must not yield while a cancel scope or a
 * task group that it opened itself is open: the consumer's code would run
 * inside the generator's scope, its timeout would cancel the consumer, and
 * the scope could not be closed in order. Such a yield is refused: the
 * corio_yield returns CORIO_EYIELDSCOPE inside the generator, the item is
 * not delivered, and the generator should close its scope and return. A
 * scope opened by the consumer around next is fine (the generator's waits
 * run inside it, as in Python).
 * A generator that returns with a scope or group of its own still open
 * (possible in C, not in Python) is reported on stderr; the scope stays
 * on the consumer's task.
 *
 * Finalization. A generator that has not run to its end should be closed
 * with corio_agen_close, which runs its cleanup and may wait (Python's
 * `await agen.aclose()`). What happens otherwise:
 *   - corio_agen_free of a suspended generator reports it on stderr
 *     ("async generator 'name' freed without aclose") and closes it: on a
 *     thread with a running loop, in a new task (asyncio's finalizer
 *     hook), so free itself never suspends; elsewhere at once, with no
 *     loop to serve its waits: they fail at once (CORIO_ENOTASK).
 *   - A generator first iterated inside a task belongs to that task's
 *     loop. corio_run closes every one that is still unfinished after the
 *     main task and the leftover tasks end (asyncio.run's
 *     shutdown_asyncgens), one task each, concurrently; corio_agen_shutdown
 *     does the same for loops run by hand; corio_loop_free closes the rest
 *     at once (their waits fail with CORIO_ENOTASK). The user still frees
 *     them.
 *
 * Threads: a generator first iterated in a task belongs to that loop and
 * is used on its thread only (elsewhere: CORIO_EWRONGTHREAD). Otherwise
 * the rules of corio_coro objects apply.
 */
#ifndef CORIO_AGEN_H
#define CORIO_AGEN_H

#include <stddef.h>
#include "coro.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_agen corio_agen;

/* The generator returned: the end of the stream (StopAsyncIteration). */
#define CORIO_END 1

/*
 * corio_agen_new: make an async generator that will run fn(arg, &result).
 * Nothing runs yet. opts as for corio_coro_new (name, stack size, LEAN);
 * NULL for defaults (name "agen"). Does not suspend.
 *
 * Returns 0 with the generator in *out (the caller frees it), -EINVAL (fn
 * or out NULL, bad opts) or -ENOMEM; on error *out is untouched.
 */
CORIO_API int corio_agen_new(corio_coro_fn fn, void *arg,
                             const corio_coro_opts *opts, corio_agen **out);

/*
 * corio_agen_next: run g until it yields its next item or ends (Python's
 * `await anext(g)`). Suspends the calling task while g waits. Returns 0
 * with *item set, CORIO_END, or an error (see above; on anything but
 * 0, *item is NULL). item may be NULL. Misuse: -EINVAL (g NULL),
 * CORIO_ERUNNING (an operation on g is under way), CORIO_EWRONGTHREAD.
 */
CORIO_API int corio_agen_next(corio_agen *g, void **item);

/*
 * corio_agen_send: as next, but g's pending corio_yield returns `value` in
 * its *sent (Python's asend). value must be NULL for a generator that has
 * not started (CORIO_ENOTSTARTED otherwise; nothing runs).
 */
CORIO_API int corio_agen_send(corio_agen *g, void *value, void **item);

/*
 * corio_agen_throw: make g's pending corio_yield return `err` (negative),
 * then run it as next does (Python's athrow): g may handle it and yield
 * again (0 with the item), return (CORIO_END), or fail (its error,
 * usually err). Thrown into a generator that has not started, err closes
 * it without running it and is returned. A closed generator gives
 * CORIO_END. -EINVAL if err is not negative.
 */
CORIO_API int corio_agen_throw(corio_agen *g, int err, void **item);

/*
 * corio_agen_close: end g (Python's aclose). A suspended generator sees
 * its pending corio_yield return CORIO_EEXIT and runs its cleanup, which
 * may wait (suspending the calling task). Returns 0 when g returned 0 or
 * CORIO_EEXIT, or was not started or already closed; the error g returned
 * otherwise (g is closed either way); CORIO_EIGNORED if g yielded again
 * (it stays suspended; the item is dropped); -EINVAL, CORIO_ERUNNING,
 * CORIO_EWRONGTHREAD.
 */
CORIO_API int corio_agen_close(corio_agen *g);

/*
 * corio_agen_free: release g. A suspended generator is reported and
 * closed first (see Finalization): in a task on a running loop, the close
 * runs in a new task that frees g afterwards. One that ignores that close
 * (yields again) is closed once more at once, its waits failing with
 * CORIO_ENOTASK, and if it yields yet again its frames are dropped without
 * running (reported). Never suspends. NULL is a
 * no-op. Returns 0, or CORIO_ERUNNING (an operation on g is under way;
 * nothing is freed) or CORIO_EWRONGTHREAD.
 */
CORIO_API int corio_agen_free(corio_agen *g);

/*
 * corio_agen_shutdown: close every unfinished async generator that
 * belongs to the running loop and is not in use, each in a task of its
 * own, and wait for them all (asyncio's loop.shutdown_asyncgens). Errors
 * a generator raises while closing are reported on stderr, not returned.
 * Suspends. Returns 0; -ECANCELED when the caller was cancelled (the
 * closing task it was waiting for gets the cancel, as a join passes it
 * on; the others go on unattended); -ENOMEM when some could not be
 * started (those were closed at once, their waits failing); CORIO_ENOTASK
 * outside a task.
 */
CORIO_API int corio_agen_shutdown(void);

/* corio_agen_state: CREATED, RUNNING (an operation is under way, also
 * while g waits inside it), SUSPENDED (at a yield) or CLOSED. NULL gives
 * CLOSED. */
CORIO_API corio_state corio_agen_state(const corio_agen *g);

/* corio_agen_name: the name given at creation, or "agen". Never NULL. */
CORIO_API const char *corio_agen_name(const corio_agen *g);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_AGEN_H */
