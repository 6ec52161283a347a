/*
 * corio/scope.h: cancel scopes: timeouts, move-on deadlines and shields.
 *
 * A scope is a region of a task's code, opened and closed in LIFO order by
 * that task (Python's `async with asyncio.timeout(...)`, Trio's
 * CancelScope). Cancelling a scope (by hand, or when its deadline passes)
 * cancels the suspending calls made inside it, and only those: they return
 * -ECANCELED, level-triggered, until the code leaves the scope. Scopes
 * nest; the effective deadline is the earliest one in force. A shield
 * scope stops cancellation from outside it (an enclosing scope or
 * corio_task_cancel) from reaching the calls inside it, so cleanup can
 * suspend; it does not stop its own or inner scopes.
 *
 * The typical shape, asyncio.timeout in C:
 *
 *     corio_scope *sc;
 *     if ((rc = corio_scope_timeout(2.0, &sc)) != 0) return rc;
 *     rc = do_work();                 // its suspensions fail with
 *                                     // -ECANCELED once 2 s have passed
 *     rc = corio_scope_close(sc, rc); // -ECANCELED from our own expiry
 *                                     // becomes -ETIMEDOUT
 *
 * corio_scope_close takes the body's outcome and returns the scope's: a
 * scope converts only the cancellation it caused itself, never one that
 * came from outside it (an outer scope's, or corio_task_cancel's).
 *
 * asyncio's counters stay consistent: a scope whose deadline passes does
 * what asyncio.timeout does, corio_task_cancel on its task when it fires
 * and corio_task_uncancel when it closes, so corio_task_cancelling() gives
 * the same numbers as Python 3.11 in the same situation.
 *
 * Memory: scopes are allocated by corio (not on the task's stack, so lean
 * tasks are safe) and freed by corio_scope_close.
 */
#ifndef CORIO_SCOPE_H
#define CORIO_SCOPE_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_scope corio_scope;

/* What closing a scope that cancelled itself does with the -ECANCELED it
 * caused. */
enum corio_scope_kind {
    CORIO_SCOPE_FAIL,    /* turn it into -ETIMEDOUT (asyncio.timeout,
                            Trio's fail_after) */
    CORIO_SCOPE_MOVE_ON, /* turn it into 0 (Trio's move_on_after) */
    CORIO_SCOPE_SHIELD   /* a shield: outer cancellation does not enter */
};

/*
 * corio_scope_open: open a scope of `kind` in the running task, with a
 * deadline on the loop clock (`deadline`, seconds; INFINITY for none).
 * Does not suspend. Returns 0 with *out set, -EINVAL (unknown kind, NaN
 * deadline), -ENOMEM, CORIO_ENOTASK (not in a task). A deadline already
 * past cancels the scope at once.
 */
CORIO_API int corio_scope_open(int kind, double deadline, corio_scope **out);

/* Shorthands: relative timeouts and a shield. */
CORIO_API int corio_scope_timeout(double seconds, corio_scope **out);
CORIO_API int corio_scope_timeout_at(double deadline, corio_scope **out);
CORIO_API int corio_scope_move_on_after(double seconds, corio_scope **out);
CORIO_API int corio_scope_shield(corio_scope **out);

/*
 * corio_scope_close: leave the scope (it must be the innermost open scope
 * of the running task) and free it. `rc` is the outcome of the code inside;
 * the return value is the outcome after the scope: rc itself, except that
 * rc == -ECANCELED caused by this scope's own cancellation (and by nothing
 * outside it) becomes -ETIMEDOUT for FAIL scopes and 0 for MOVE_ON scopes.
 * Never suspends. Misuse: CORIO_ESCOPE (not the innermost scope, or another
 * task's), leaving the scope open.
 */
CORIO_API int corio_scope_close(corio_scope *s, int rc);

/*
 * corio_scope_cancel: cancel the scope by hand. Suspending calls inside it
 * fail with -ECANCELED from now on; a call waiting now is woken. Closing
 * it converts like an expired deadline. Idempotent. Never suspends.
 */
CORIO_API void corio_scope_cancel(corio_scope *s);

/*
 * corio_scope_reschedule: move the deadline (asyncio's Timeout.reschedule):
 * INFINITY removes it; a time already past cancels the scope now. Does
 * nothing to a scope already cancelled. Returns 0, -EINVAL (NaN),
 * -ENOMEM.
 */
CORIO_API int corio_scope_reschedule(corio_scope *s, double deadline);

/* The deadline on the loop clock, or INFINITY. */
CORIO_API double corio_scope_deadline(const corio_scope *s);

/* 1 once the scope has been cancelled (its deadline passed, or by hand):
 * asyncio's Timeout.expired(), Trio's cancel_called. */
CORIO_API int corio_scope_cancelled(const corio_scope *s);

/*
 * corio_current_deadline: the earliest deadline in force for the running
 * task (up to the nearest shield), on the loop clock; INFINITY when there
 * is none (or outside a task), -INFINITY when a scope in force is already
 * cancelled (Trio's current_effective_deadline).
 */
CORIO_API double corio_current_deadline(void);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_SCOPE_H */
