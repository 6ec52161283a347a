/*
 * coro_impl.h: the coroutine object and the per-thread state, for corio's
 * own layers (tasks embed a corio_coro; nothing outside src/ sees this).
 *
 * Invariants:
 *   - state RUNNING or NORMAL  <=>  the coroutine is on the resume chain of
 *     some thread; `resumer` is then the coroutine that resumed it (NULL:
 *     the thread's own stack).
 *   - CREATED: no stack yet. CLOSED: the stack is kept until the coroutine
 *     is freed (its last frame is still on it when it leaves).
 *   - Whoever leaves does the bookkeeping of both sides: a resume stores
 *     the sent value through the suspended side's `sent_slot` and fixes
 *     the states; a yield stores the handed-out value through the
 *     resumer's `out_slot` and restores the resumer. The switch itself
 *     carries only the status, so in a normal build it is a tail call and
 *     nothing returns across it.
 *   - A lean coroutine is bound to one shared stack of one thread from its
 *     first run to its end; while it is suspended, either it still occupies
 *     that stack (lean->occupant == it) or its used part is in `save`.
 */
#ifndef CORIO_CORO_IMPL_H
#define CORIO_CORO_IMPL_H

#include <corio/coro.h>
#include <stdint.h>

#include "check.h"

#include "ctx/ctx.h"
#include "fiber.h"
#include "stack/stack.h"

/* The public default and the stack layer's are one number. */
_Static_assert(CORIO_STACK_DEFAULT == CORIO__STACK_DEFAULT,
               "CORIO_STACK_DEFAULT (corio/coro.h) must equal "
               "CORIO__STACK_DEFAULT (core/stack/stack.h)");

#define CORIO__LEAN_MAX 16 /* shared stacks per thread */

typedef struct corio__lean_stack {
    corio__stack *stack;
    struct corio_coro *occupant; /* whose frames are on it now, or NULL */
} corio__lean_stack;

/* Per-thread state: the one documented thread-local of corio. */
typedef struct corio__thread {
    struct corio_coro *current; /* running coroutine; NULL: own stack */
    corio__ctx base;            /* the thread's own context while away */
    corio__fiber base_fiber;
    int ready;                  /* corio__thread_init ran */
    corio__lean_stack lean[CORIO__LEAN_MAX];
} corio__thread;

enum {
    CORIO__F_LEAN = 0x1,      /* runs on a shared stack */
    CORIO__F_CANARY = 0x2,    /* its stack has a canary, no guard: every
                                 switch away from it checks the canary */
    CORIO__F_DISMISSED = 0x4, /* closed before start: no "never resumed" */
    CORIO__F_OWNED = 0x8,     /* corio_coro_new allocated it */
    CORIO__F_NEXT = 0x10      /* resumed by corio_coro_next: the leaving
                                 side hands over 0 for a yield and
                                 CORIO_END for a clean end */
};

struct corio_coro {
    corio__ctx ctx;
    struct corio_coro *resumer;
    void **out_slot;  /* where the resumer wants the handed-out value */
    void **sent_slot; /* where the suspended side wants the sent value */
    int status;  /* when CLOSED: 0 or the error it ended with */
    unsigned char state;
    unsigned char flags;
    corio_coro_fn fn;
    void *arg;
    const char *name;
    corio__stack *stack;      /* own stack, or the shared one (lean) */
    corio__thread *on;        /* thread running it; set by each resume */
    corio__thread *home;      /* lean: the thread it is bound to */
    corio__lean_stack *lean;  /* lean: the shared stack slot */
    void *save;               /* lean: copy of the used stack part */
    size_t save_len, save_cap;
    size_t stack_size;
    corio__fiber fiber;
};

/* corio__coro_init: make a CREATED coroutine in caller storage (tasks embed
 * one). Same checks and errors as corio_coro_new. */
int corio__coro_init(struct corio_coro *co, corio_coro_fn fn, void *arg,
                     const corio_coro_opts *opts);
/* corio__coro_release_stack: give back the stack of a CLOSED coroutine
 * early (before fini), from a stack other than its own. */
void corio__coro_release_stack(struct corio_coro *co);
/* corio__coro_discard: drop the frames of a SUSPENDED coroutine without
 * running it again (no cleanup runs); it becomes CLOSED and its stack goes
 * back. For owners that already tried to close it their own way. */
void corio__coro_discard(struct corio_coro *co);
/* corio__coro_canary_leave: the canary check of a coroutine with
 * CORIO__F_CANARY leaving its stack (reports an overflow and aborts). Out
 * of line: the inline transfer below only tests the flag. */
void corio__coro_canary_leave(const struct corio_coro *co);

/*
 * The direct hand-off, inline where a task parks (task_impl.h), so that it
 * costs a few loads and stores and the switch itself, with no call of its
 * own. `co` must be the running coroutine of this thread (RUNNING, so its
 * `on` is this thread); debug builds check it.
 *
 * corio__coro_can_transfer: 1 if co may hand over to `to` with
 * corio__coro_transfer: `to` is SUSPENDED with its frames in place (a
 * stack of its own, or a lean one occupying its shared stack on this
 * thread), and co was resumed plainly (not by corio_coro_next). co != to
 * is the caller's to know. Changes nothing.
 */
static inline __attribute__((always_inline)) int
corio__coro_can_transfer(const struct corio_coro *co,
                         const struct corio_coro *to)
{
    CORIO_ASSERT(co->state == CORIO_CORO_RUNNING && co->on &&
                 co->on->current == co && co != to);
    return !(co->flags & CORIO__F_NEXT) &&
           to->state == CORIO_CORO_SUSPENDED &&
           (__builtin_expect(!(to->flags & CORIO__F_LEAN), 1) ||
            (to->home == co->on && to->lean->occupant == to));
}
/*
 * corio__coro_transfer: a symmetric switch from co to `to`. co suspends
 * as corio_await does (its call returns what a later resume or throw hands
 * it; `sent` is its sent slot) and `to` takes its place on the resume
 * chain: to's pending suspension returns 0 (its sent value NULL), and what
 * to hands out when it next suspends or ends goes to the resumer of the
 * one that left, as if that one had handed it. Only after
 * corio__coro_can_transfer(co, to) said 1. The switch is called from the
 * caller's own frame (so a backtrace of the suspended co names it), with
 * the sanitizers told around it in that same frame (fiber.h).
 */
static inline __attribute__((always_inline)) int
corio__coro_transfer(struct corio_coro *co, struct corio_coro *to,
                     void **sent)
{
    corio__thread *t = co->on;
    void *back;

    if (__builtin_expect(co->flags & CORIO__F_CANARY, 0))
        corio__coro_canary_leave(co);
    if (to->sent_slot)
        *to->sent_slot = NULL;
    co->state = CORIO_CORO_SUSPENDED;
    co->sent_slot = sent; /* (out_slot is read only while co runs) */
    to->resumer = co->resumer;
    to->on = t;
    to->out_slot = co->out_slot;
    to->state = CORIO_CORO_RUNNING;
    t->current = to;
    corio__fiber_leave(&co->fiber, &to->fiber, 0);
    back = corio__ctx_handoff(&co->ctx, &to->ctx, NULL);
    corio__fiber_arrive(&co->fiber);
    return (int)(intptr_t)back;
}
/* corio__coro_fini: what corio_coro_free does, without freeing co itself. */
int corio__coro_fini(struct corio_coro *co);

/* The calling thread's state (never NULL). */
corio__thread *corio__thread_self(void);

/* corio__coro_site_hook: how the never-resumed report names where a
 * corio_coro_new coroutine was made (its caller's return address, `ret`):
 * NULL, the address in hex; the diagnostics layer (src/diag/), when
 * linked in, sets it to write "function (file:line)" into buf. Called in
 * debug mode (CORIO_DEBUG) only, from any stack. */
extern void (*corio__coro_site_hook)(void *ret, char *buf, size_t len);

/* corio__warn: print "corio: <message>\n" to stderr. */
void corio__warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* CORIO_CORO_IMPL_H */
