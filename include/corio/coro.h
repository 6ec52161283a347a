/*
 * corio/coro.h: coroutine objects, driven by hand, with no event loop.
 *
 * A coroutine is a function running on a stack of its own that can suspend in
 * the middle and be resumed later. It is Python's coroutine/generator protocol
 * in C:
 *
 *   Python                         corio
 *   coro = f(x)                    corio_coro_new(f, x, NULL, &co)   CREATED
 *   coro.send(v)                   corio_coro_resume(co, v, &out)
 *   yield v  (in the body)         corio_yield(v, &sent)
 *   await fut (in the body)        corio_await(fut, &sent)
 *   coro.throw(E)                  corio_coro_throw(co, -E, &out)
 *   coro.close()                   corio_coro_close(co)
 *   inspect.getcoroutinestate      corio_coro_state(co)
 *   for x in gen                   while (corio_coro_next(g, &x) == 0)
 *
 * The body has the form `int fn(void *arg, void **result)`: it returns 0
 * after storing its result in *result (which starts as NULL), or a negative
 * errno as its "exception". A positive return is a bug and is reported as
 * -EINVAL.
 *
 * Two kinds of suspension. corio_yield hands a value to whoever resumed the
 * coroutine and resume returns CORIO_YIELDED. corio_await hands an awaitable
 * (a future, for the loop) to the driver and resume returns CORIO_AWAITING;
 * the driver completes it and resumes. A coroutine that drives another and
 * wants that one's awaits to pass through to its own driver (Python's
 * `yield from`, an async generator inside a task) re-awaits what it is handed
 * and resumes the inner coroutine with the answer.
 *
 * Threads. A coroutine may be resumed from any thread, but by one at a time;
 * the object is not locked. Lean coroutines (CORIO_CORO_LEAN) stay on the
 * thread that first resumed them.
 *
 * Memory. Nothing corio keeps for a coroutine (values in flight, state, the
 * saved part of a lean stack) lives on that coroutine's stack.
 */
#ifndef CORIO_CORO_H
#define CORIO_CORO_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_coro corio_coro;

/* The body of a coroutine: 0 with *result set, or a negative errno. */
typedef int (*corio_coro_fn)(void *arg, void **result);

/* Statuses of corio_coro_resume and corio_coro_throw (failures are
 * negative). corio_coro_next follows the "next" convention instead (0, an
 * item; CORIO_END; see error.h). */
#define CORIO_FINISHED 0 /* the body returned 0; out is its result */
#define CORIO_YIELDED 1  /* the body called corio_yield; out is the value */
#define CORIO_AWAITING 2 /* the body called corio_await; out is the awaitable */

/* States (corio_coro_state). */
typedef enum corio_state {
    CORIO_CORO_CREATED,   /* made, body not started */
    CORIO_CORO_RUNNING,   /* its body is executing now */
    CORIO_CORO_SUSPENDED, /* stopped in corio_yield or corio_await */
    CORIO_CORO_NORMAL,    /* running, but inside a resume of another one */
    CORIO_CORO_CLOSED     /* finished, failed or closed; cannot run again */
} corio_state;

/* Flags for corio_coro_opts.flags. */
/* Lean mode: the coroutine runs on a stack shared with other lean
 * coroutines; when it suspends and another needs that stack, the used part
 * is copied out, and copied back before it resumes. Costs a copy of the used
 * stack per switch that needs it; saves the memory of a stack per
 * coroutine. Rule: nobody may keep a pointer into a suspended lean
 * coroutine's stack (a local variable's address handed to another
 * coroutine is invalid while the owner is suspended). */
#define CORIO_CORO_LEAN 0x1u

/* Default usable stack size of a coroutine: 64 KiB (256 KiB in sanitizer
 * builds, whose frames are larger). Only the pages a coroutine touches
 * become resident. */
#define CORIO_STACK_DEFAULT ((size_t)64 * 1024)
/* Smallest stack corio_coro_new accepts; smaller requests are raised. */
#define CORIO_STACK_MIN ((size_t)16 * 1024)

/* Options for corio_coro_new; a zeroed struct (or NULL) means defaults. */
typedef struct corio_coro_opts {
    /* Shown in warnings, overflow reports and dumps. Borrowed: it must stay
     * valid until the coroutine is freed (a string literal is typical).
     * NULL: "coro". */
    const char *name;
    /* Usable bytes of stack (rounded up to whole pages); 0: the default.
     * Ignored in lean mode, whose shared stacks are CORIO_LEAN_STACK_SIZE. */
    size_t stack_size;
    unsigned flags; /* CORIO_CORO_* */
} corio_coro_opts;

/* Size of each shared stack lean coroutines run on: 256 KiB. A lean
 * coroutine's deepest point must fit in it. */
#define CORIO_LEAN_STACK_SIZE ((size_t)256 * 1024)

/*
 * corio_coro_new: make a coroutine that will run fn(arg, &result). Its state
 * is CREATED and fn has not run. Does not suspend.
 *
 * opts may be NULL. The coroutine takes its stack from the thread's pool at
 * its first resume, not here.
 *
 * Returns 0 and stores the coroutine in *out; the caller owns it and must
 * corio_coro_free it. Errors: -EINVAL (fn or out NULL, unknown flags),
 * -ENOMEM. On error *out is untouched.
 */
CORIO_API int corio_coro_new(corio_coro_fn fn, void *arg,
                             const corio_coro_opts *opts, corio_coro **out);

/*
 * corio_coro_resume: run co until it suspends or ends (Python's send).
 * Suspends the caller, if it is itself a coroutine, for as long as co runs;
 * the caller's state is NORMAL meanwhile.
 *
 * value is what the pending corio_yield / corio_await in co returns in
 * *sent; on the first resume it must be NULL.
 *
 * Returns CORIO_YIELDED (out: the yielded value), CORIO_AWAITING (out: the
 * awaitable), CORIO_FINISHED (out: the result; co is now CLOSED) or the
 * negative error the body returned (co is now CLOSED; out is set to NULL).
 * out may be NULL.
 *
 * Misuse, reported without touching co: -EINVAL (co NULL),
 * CORIO_ERUNNING (co is RUNNING or NORMAL), CORIO_ECLOSED (co is CLOSED),
 * CORIO_ENOTSTARTED (value non-NULL and co CREATED), CORIO_EWRONGTHREAD
 * (lean coroutine resumed off its thread), CORIO_ESTACKBUSY (a lean
 * coroutine whose shared stack is held by an active coroutine).
 * Resource failure at the first resume (no stack): -ENOMEM; co stays
 * CREATED and may be resumed again later.
 */
CORIO_API int corio_coro_resume(corio_coro *co, void *value, void **out);

/*
 * corio_coro_next: run generator g to its next item (Python's next(g)),
 * with the "next" convention of error.h:
 *     while ((rc = corio_coro_next(g, &x)) == 0) use(x);
 * Resumes g with NULL, as corio_coro_resume(g, NULL, out), and returns
 *   0 with *out the yielded item;
 *   CORIO_END once g has returned (*out is its result, Python's
 *     StopIteration.value), and at every later call (*out NULL), as
 *     also for a g that failed or was closed;
 *   CORIO_AWAITING if g awaited (*out the awaitable: complete it and
 *     resume g with corio_coro_resume);
 *   the negative error g's body failed with, or resume's misuse errors.
 * out may be NULL.
 */
CORIO_API int corio_coro_next(corio_coro *g, void **out);

/*
 * corio_coro_throw: make the pending corio_yield / corio_await of a
 * SUSPENDED coroutine return `err` (a negative errno), then run co as
 * resume does; co may handle err and go on, or fail. Thrown into a CREATED
 * coroutine, err ends it before its body runs: it becomes CLOSED and
 * throw returns err.
 *
 * Returns what corio_coro_resume returns. Errors besides the body's:
 * -EINVAL (co NULL, or err not negative), and the misuse errors of resume.
 */
CORIO_API int corio_coro_throw(corio_coro *co, int err, void **out);

/*
 * corio_coro_close: end co (Python's close). A SUSPENDED coroutine sees its
 * pending corio_yield / corio_await return CORIO_EEXIT and runs to its end,
 * doing its cleanup (which may resume other coroutines, but must not
 * suspend itself). CREATED and CLOSED coroutines just become CLOSED.
 *
 * Returns 0 when co ended by returning 0 or CORIO_EEXIT (or was not
 * running). If the body instead returned another error during close, that
 * error is returned (co is CLOSED). If it suspended again, returns
 * CORIO_EIGNORED: co is SUSPENDED still, and a later close or free tries
 * again. Misuse: -EINVAL (NULL), CORIO_ERUNNING, and the lean-mode errors
 * of resume.
 */
CORIO_API int corio_coro_close(corio_coro *co);

/*
 * corio_coro_free: close co if it is SUSPENDED (running its cleanup, as
 * corio_coro_close does), then release it and its stack. A coroutine freed
 * while CREATED prints a warning naming it ("coroutine 'name' was never
 * resumed"), like Python's "never awaited". A coroutine that ignores the
 * close is freed anyway with a warning; its frames are discarded without
 * cleanup. NULL is a no-op returning 0.
 *
 * Returns 0, or CORIO_ERUNNING when co is RUNNING or NORMAL (nothing is
 * freed).
 */
CORIO_API int corio_coro_free(corio_coro *co);

/* corio_coro_state: co's state; NULL gives CORIO_CORO_CLOSED, so
 * corio_coro_state(corio_coro_current()) is safe anywhere. Never fails. */
CORIO_API corio_state corio_coro_state(const corio_coro *co);

/* corio_state_name: "CREATED", "RUNNING", "SUSPENDED", "NORMAL", "CLOSED",
 * or "?" for a value that is none of them. Static; never NULL. */
CORIO_API const char *corio_state_name(corio_state state);

/* corio_coro_name: the name given at creation, or "coro" (also for a NULL
 * co). Never NULL. */
CORIO_API const char *corio_coro_name(const corio_coro *co);

/*
 * corio_coro_error: for a CLOSED coroutine, the negative error its body
 * failed with, or 0 if it finished (or was closed) cleanly. 0 otherwise
 * (and for NULL).
 */
CORIO_API int corio_coro_error(const corio_coro *co);

/* corio_coro_current: the coroutine running on this thread, or NULL when
 * the thread is on its own stack. Never fails. */
CORIO_API corio_coro *corio_coro_current(void);

/*
 * corio_yield: suspend the running coroutine, handing `value` to whoever
 * resumed it (its resume returns CORIO_YIELDED with out = value).
 *
 * Suspends. Returns 0 with *sent set to the value of the next resume
 * (sent may be NULL), or the error thrown in by corio_coro_throw, or
 * CORIO_EEXIT when the coroutine is being closed. Called outside any
 * coroutine: CORIO_ENOTCORO, without suspending.
 *
 * A body that handles thrown errors and carries on must still leave on
 * CORIO_EEXIT (Python's `except Exception`, not `except BaseException`):
 *     rc = corio_yield(v, &sent);
 *     if (rc == CORIO_EEXIT) return rc;           // being closed
 *     if (rc < 0) { note(rc); continue; }         // a thrown error
 * Suspending again while being closed makes close return CORIO_EIGNORED.
 *
 * Inside a task, a bare yield is asyncio's sleep(0) and does not look at
 * cancellation: it returns 0 even while a cancel stands (task.h).
 */
CORIO_API int corio_yield(void *value, void **sent);

/*
 * corio_await: suspend the running coroutine, handing `awaitable` to its
 * driver (its resume returns CORIO_AWAITING with out = awaitable). The
 * driver is expected to complete the awaitable and resume. This is the
 * protocol primitive a custom driver understands; higher layers (futures,
 * the loop) build on it.
 *
 * Suspends. Returns as corio_yield does. awaitable may be NULL here; a
 * task's loop, as driver, accepts only a corio_future (anything else,
 * NULL included, makes the await fail with -EINVAL; see task.h).
 * Cancellation, inside a task: fails with -ECANCELED at once if it would
 * have to wait while a cancel stands (a done future returns 0).
 */
CORIO_API int corio_await(void *awaitable, void **sent);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_CORO_H */
