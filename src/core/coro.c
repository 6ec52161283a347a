/*
 * coro.c: coroutine objects and their manual drive (no event loop).
 *
 * A resume pushes the coroutine onto the calling thread's resume chain: the
 * caller (a coroutine, or the thread's own stack) becomes NORMAL and the
 * callee RUNNING; corio_yield / corio_await / the end of the body pop it
 * again. The side that leaves a switch does the bookkeeping of both
 * sides, so in a normal build the switch is a tail call (SWITCH_RETURN);
 * every switch also tells the sanitizers (fiber.h) and checks the canary
 * of stacks that have no guard.
 *
 * Thread safety: a coroutine object is used by one thread at a time; the
 * only shared state is the stack pool (stack/). After a coroutine comes
 * back from a switch it may be on another thread, so code after a switch
 * never reuses a thread pointer computed before it (finish() reads co->on,
 * which the resumer sets).
 *
 * corio__coro_transfer is the one symmetric switch: the running coroutine
 * suspends and another takes its place on the resume chain (the task
 * layer's direct hand-off between tasks). It is inline in coro_impl.h,
 * with its check, so that a hand-off calls nothing but the switch.
 *
 * Lean coroutines (CORIO_CORO_LEAN) run on one of a few stacks shared per
 * thread. The frames of a suspended lean coroutine stay on its shared stack
 * until another lean coroutine needs that stack; only then are they copied
 * out (from the resumer's own stack, never the one being copied), and they
 * are copied back to the same addresses before it resumes.
 */
#include "alloc.h"
#include "coro_impl.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CORIO_HAVE_VALGRIND
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MAKE_MEM_UNDEFINED(addr, len) ((void)(addr), (void)(len))
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static _Thread_local corio__thread self_tls
    __attribute__((tls_model("initial-exec")));

corio__thread *corio__thread_self(void)
{
    return &self_tls;
}

void corio__warn(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n = snprintf(buf, sizeof buf, "corio: ");
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", buf);
}

static const char *name_of(const corio_coro *co)
{
    return co->name ? co->name : "coro";
}

/* A coroutine corio_coro_new made keeps its creation site (the caller's
 * return address: one store beside the allocation, so always) behind
 * the struct, where tasks and generators, which embed a corio_coro and
 * have sites of their own, pay nothing for it. Only the never-resumed
 * report reads it, and names it in debug mode (CORIO_DEBUG). */
typedef struct owned_coro {
    struct corio_coro co;
    void *site;
} owned_coro;

void (*corio__coro_site_hook)(void *ret, char *buf, size_t len);

static int debug_env(void) /* read only when reporting: no cache */
{
    const char *e = getenv("CORIO_DEBUG");
    return e && *e && strcmp(e, "0") != 0;
}

static void report_never_resumed(const corio_coro *co)
{
    char where[320];
    void *site = co->flags & CORIO__F_OWNED
                     ? ((const owned_coro *)(const void *)co)->site
                     : NULL;
    if (!site) {
        corio__warn("coroutine '%s' was never resumed", name_of(co));
    } else if (!debug_env()) {
        corio__warn("coroutine '%s' was never resumed (CORIO_DEBUG=1 says "
                    "where it was created)", name_of(co));
    } else {
        where[0] = 0;
        if (corio__coro_site_hook)
            corio__coro_site_hook(site, where, sizeof where);
        if (!where[0])
            snprintf(where, sizeof where, "%p (return address)", site);
        corio__warn("coroutine '%s' was never resumed; it was created at %s",
                    name_of(co), where);
    }
}

/* ---- per-thread setup ---------------------------------------------------- */

static void thread_exit(void *arg);
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void exit_key_make(void)
{
    if (pthread_key_create(&exit_key, thread_exit) != 0)
        exit_key = (pthread_key_t)-1;
}

/* For the overflow report (stack.h): the running coroutine's stack. */
static const corio__stack *running_stack(void)
{
    const struct corio_coro *co = self_tls.current;
    return co ? co->stack : NULL;
}

static int thread_init(corio__thread *t)
{
    int rc = corio__stack_thread_init();
    if (rc)
        return rc;
    corio__stack_set_running_fn(running_stack);
#if CORIO_ASAN
    {
        pthread_attr_t a;
        void *lo = NULL;
        size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &a) == 0) {
            pthread_attr_getstack(&a, &lo, &size);
            pthread_attr_destroy(&a);
        }
        t->base_fiber.bottom = lo;
        t->base_fiber.size = size;
    }
#endif
#if CORIO_TSAN
    t->base_fiber.tsan = __tsan_get_current_fiber();
#endif
    pthread_once(&exit_once, exit_key_make);
    if (exit_key != (pthread_key_t)-1)
        pthread_setspecific(exit_key, t);
    t->ready = 1;
    return 0;
}

/* At thread exit: give back the shared stacks no suspended lean coroutine
 * still occupies. A lean coroutine must be finished or freed before its
 * thread exits; one that is not keeps its stack, and is reported. */
static void thread_exit(void *arg)
{
    corio__thread *t = arg;
    int i;
    for (i = 0; i < CORIO__LEAN_MAX; i++) {
        corio__lean_stack *ls = &t->lean[i];
        if (!ls->stack)
            continue;
        if (ls->occupant && ls->occupant->state != CORIO_CORO_CLOSED) {
            corio__warn("thread exits while lean coroutine '%s' is "
                        "suspended on it", name_of(ls->occupant));
            continue;
        }
        corio__stack_put(ls->stack);
        ls->stack = NULL;
    }
    corio__stack_thread_fini();
}

/* ---- switching ----------------------------------------------------------- */

CORIO__INLINE void canary_check(const corio__stack *st)
{
    if (unlikely(st->guard == CORIO__GUARD_CANARY) && corio__stack_check(st))
        corio__stack_overflow_report(st, NULL);
}

/* The same check for a coroutine leaving its stack, from its flags (no
 * load of the stack object on the switch path). */
CORIO__INLINE void canary_check_co(const corio_coro *co)
{
    if (unlikely(co->flags & CORIO__F_CANARY))
        canary_check(co->stack);
}

/*
 * SWITCH_RETURN: switch to `to`, handing it `arg`, and return (as an int)
 * what is handed to us when something switches back.
 *
 * Where it may (SWITCH_TAIL), this is a tail call: the asm switch returns
 * straight to whoever called resume or yield, so no C frame of corio's
 * returns across a switch (each such return would be a mispredicted return
 * on the other side). Sanitizer builds need code after the switch (ASan's
 * finish_switch_fiber, and TSan wants the annotating frame to be the
 * switching one), and a backend whose switch is C returning a pointer
 * (CORIO__CTX_TAIL_SWITCH 0, the ucontext fallback) cannot be reached by
 * the int-shaped alias, so those builds make an ordinary call. The choice
 * is a constant: the compiler keeps one branch.
 */
#define SWITCH_TAIL (CORIO__CTX_TAIL_SWITCH && !CORIO_ASAN && !CORIO_TSAN)

#if CORIO_TSAN
_Thread_local sigset_t corio__fiber_sigmask; /* fiber.h */
#endif

/* The same symbol, declared with the int-in-a-register shape used here. */
int corio__ctx_switch_int(corio__ctx *from, corio__ctx *to, intptr_t arg)
    __asm__("corio__ctx_switch");

#define SWITCH_RETURN(from_fiber, from, to, arg)                             \
    do {                                                                     \
        void *back_;                                                         \
        if (SWITCH_TAIL)                                                     \
            return corio__ctx_switch_int((from), (to), (intptr_t)(arg));     \
        back_ = corio__ctx_switch((from), (to), (void *)(intptr_t)(arg));    \
        corio__fiber_arrive(from_fiber);                                     \
        return (int)(intptr_t)back_;                                         \
    } while (0)

static _Noreturn void finish(corio_coro *co, int rc, void *result);

/* First code on a new coroutine's stack; arg is the coroutine. */
static void entry(void *arg)
{
    corio_coro *co = arg;
    void *result = NULL;
    int rc;

    corio__fiber_arrive(&co->fiber);
    rc = co->fn(co->arg, &result);
    if (rc > 0) /* the contract allows 0 or a negative errno */
        rc = -EINVAL;
    finish(co, rc, result);
}

/* The body has returned: hand the outcome over and leave for good. The
 * stack stays with the coroutine until it is freed. */
static _Noreturn void finish(corio_coro *co, int rc, void *result)
{
    corio__thread *t = co->on;
    corio_coro *r = co->resumer;

    co->status = rc;
    co->state = CORIO_CORO_CLOSED;
    if (co->out_slot)
        *co->out_slot = rc == 0 ? result : NULL;
    t->current = r;
    if (r)
        r->state = CORIO_CORO_RUNNING;
    canary_check_co(co);
    corio__fiber_leave(&co->fiber, r ? &r->fiber : &t->base_fiber, 1);
    if ((co->flags & CORIO__F_NEXT) && rc == 0)
        rc = CORIO_END; /* the next convention's end; co->status stays 0 */
    corio__ctx_switch(&co->ctx, r ? &r->ctx : &t->base, (void *)(intptr_t)rc);
    abort(); /* a closed coroutine is never switched to */
}

/* ---- lean stacks --------------------------------------------------------- */

static char *stack_top(const corio__stack *st)
{
    return (char *)st->lo + st->size;
}

/* Lowest live byte of a suspended lean coroutine's frames: the low mark
 * its switch recorded (ctx.h), kept inside the stack. */
static char *lean_low(const corio_coro *co)
{
    uintptr_t lo = (uintptr_t)co->stack->lo, sp = (uintptr_t)co->ctx.sp;
    return (char *)(sp > lo ? sp : lo);
}

/* Copy a suspended occupant's frames out of its shared stack. */
static int lean_save(corio_coro *occ)
{
    char *top = stack_top(occ->stack);
    char *low = lean_low(occ);
    size_t used = (size_t)(top - low);

    if (used > occ->save_cap) {
        size_t cap = (used + 255) & ~(size_t)255;
        void *p = corio__malloc(cap);
        if (!p)
            return -ENOMEM;
        corio__free(occ->save);
        occ->save = p;
        occ->save_cap = cap;
    }
#if CORIO_ASAN
    __asan_unpoison_memory_region(low, used);
#endif
    memcpy(occ->save, low, used);
    occ->save_len = used;
    occ->lean->occupant = NULL;
    return 0;
}

/* Make co the occupant of its shared stack, with its frames in place. */
static int lean_enter(corio_coro *co)
{
    corio__lean_stack *ls = co->lean;
    corio_coro *occ = ls->occupant;
    int rc;

    if (occ == co)
        return 0;
    if (occ && occ->state != CORIO_CORO_CLOSED) { /* closed: frames dead */
        if (occ->state != CORIO_CORO_SUSPENDED)
            return CORIO_ESTACKBUSY;
        rc = lean_save(occ);
        if (rc)
            return rc;
    }
    ls->occupant = co;
    ls->stack->name = co->name;
    if (co->state != CORIO_CORO_CREATED) {
        char *dst = stack_top(ls->stack) - co->save_len;
#if CORIO_ASAN
        __asan_unpoison_memory_region(dst, co->save_len);
#endif
        /* Memcheck saw this part of the shared stack die when an earlier
         * occupant's stack pointer rose past it; make it addressable so
         * the copy brings the saved frames' definedness back with it. */
        VALGRIND_MAKE_MEM_UNDEFINED(dst, co->save_len);
        memcpy(dst, co->save, co->save_len);
    }
    return 0;
}

/* Bind a CREATED lean coroutine to a shared stack of thread t: an empty
 * one, else one whose occupant is suspended, else a new one. */
static int lean_bind(corio__thread *t, corio_coro *co)
{
    corio__lean_stack *pick = NULL, *fresh = NULL;
    int i, rc;

    for (i = 0; i < CORIO__LEAN_MAX; i++) {
        corio__lean_stack *ls = &t->lean[i];
        if (!ls->stack) {
            if (!fresh)
                fresh = ls;
        } else if (!ls->occupant ||
                   ls->occupant->state == CORIO_CORO_CLOSED) {
            pick = ls;
            break;
        } else if (!pick && ls->occupant->state == CORIO_CORO_SUSPENDED) {
            pick = ls;
        }
    }
    if (!pick) {
        if (!fresh)
            return CORIO_ESTACKBUSY;
        rc = corio__stack_get(CORIO_LEAN_STACK_SIZE, &fresh->stack);
        if (rc)
            return rc;
        pick = fresh;
    }
    co->lean = pick;
    co->home = t;
    co->stack = pick->stack;
    return 0;
}

static void fiber_bounds(corio_coro *co)
{
    if (co->stack->guard == CORIO__GUARD_CANARY)
        co->flags |= CORIO__F_CANARY;
    else
        co->flags &= (unsigned char)~CORIO__F_CANARY;
#if CORIO_ASAN
    co->fiber.bottom = co->stack->lo;
    co->fiber.size = co->stack->size;
#endif
#if CORIO_TSAN
    if (!co->fiber.tsan) {
        co->fiber.tsan = __tsan_create_fiber(0);
        __tsan_set_fiber_name(co->fiber.tsan, name_of(co));
    }
#endif
    (void)co;
}

/* Give up co's stack (at free, or when its frames are discarded). */
static void release(corio_coro *co)
{
    if (co->flags & CORIO__F_LEAN) {
        if (co->lean && co->lean->occupant == co)
            co->lean->occupant = NULL;
        corio__free(co->save);
        co->save = NULL;
        co->save_len = co->save_cap = 0;
        co->lean = NULL;
    } else if (co->stack) {
        corio__stack_put(co->stack);
    }
    co->stack = NULL; /* (CORIO__F_CANARY may stay: no switch follows) */
#if CORIO_TSAN
    if (co->fiber.tsan) {
        __tsan_destroy_fiber(co->fiber.tsan);
        co->fiber.tsan = NULL;
    }
#endif
}

void corio__coro_release_stack(corio_coro *co)
{
    if (co->state == CORIO_CORO_CLOSED)
        release(co);
}

void corio__coro_discard(corio_coro *co)
{
    co->state = CORIO_CORO_CLOSED;
    release(co);
}

/* ---- resume -------------------------------------------------------------- */

/* Give a CREATED coroutine its stack and first frame, or bring a lean one's
 * frames back. Nothing changes on failure. */
static int prepare(corio__thread *t, corio_coro *co)
{
    int rc;

    if (unlikely(!t->ready) && (rc = thread_init(t)) != 0)
        return rc;
    if (co->flags & CORIO__F_LEAN) {
        if (co->state == CORIO_CORO_CREATED) {
            rc = lean_bind(t, co);
            if (rc)
                return rc;
        } else if (co->home != t) {
            return CORIO_EWRONGTHREAD;
        }
        rc = lean_enter(co);
        if (rc)
            return rc;
        if (co->state == CORIO_CORO_CREATED)
            corio__ctx_make(&co->ctx, co->stack->lo, co->stack->size, entry);
    } else if (co->state == CORIO_CORO_CREATED) {
        rc = corio__stack_get(co->stack_size, &co->stack);
        if (rc)
            return rc;
        co->stack->name = co->name;
        corio__ctx_make(&co->ctx, co->stack->lo, co->stack->size, entry);
    }
    fiber_bounds(co);
    return 0;
}

/*
 * The switch into co, ready to run (its stack prepared, the sent value
 * stored), from `self`, the running side of thread t (NULL: the thread's
 * own stack), whose canary was checked. No calls but the switch, so in a
 * normal build this is a handful of stores and a tail jump.
 */
CORIO__INLINE int enter_go(corio__thread *t, corio_coro *self, corio_coro *co,
                           void **out, intptr_t arg)
{
    co->resumer = self;
    co->on = t;
    co->out_slot = out;
    co->state = CORIO_CORO_RUNNING;
    t->current = co;
    if (self) {
        self->state = CORIO_CORO_NORMAL;
        corio__fiber_leave(&self->fiber, &co->fiber, 0);
        SWITCH_RETURN(&self->fiber, &self->ctx, &co->ctx, arg);
    }
    corio__fiber_leave(&t->base_fiber, &co->fiber, 0);
    SWITCH_RETURN(&t->base_fiber, &t->base, &co->ctx, arg);
}

/*
 * Switch into co (SUSPENDED or CREATED, checked by the caller) from the
 * running side of this thread. `arg` is what co's pending suspension
 * returns (its first run: the coroutine itself, for entry). Returns the
 * status co hands back when it yields, awaits or ends.
 */
static int enter(corio_coro *co, void **out, intptr_t arg, unsigned mode)
{
    corio__thread *t = &self_tls;
    corio_coro *self = t->current;
    int rc;

    co->flags |= mode; /* the leaving side clears it (suspend) */
    if (unlikely(!t->ready || co->flags & CORIO__F_LEAN ||
                 co->state == CORIO_CORO_CREATED)) {
        if (co->state == CORIO_CORO_CREATED)
            arg = (intptr_t)co;
        rc = prepare(t, co);
        if (rc)
            return rc;
    }
    if (self)
        canary_check_co(self);
    return enter_go(t, self, co, out, arg);
}

/* The misuse checks shared by resume, throw and close. */
static int check_resumable(const corio_coro *co)
{
    switch (co->state) {
    case CORIO_CORO_SUSPENDED:
    case CORIO_CORO_CREATED:
        return 0;
    case CORIO_CORO_CLOSED:
        return CORIO_ECLOSED;
    default:
        return CORIO_ERUNNING;
    }
}

/* Resume co; mode is CORIO__F_NEXT for corio_coro_next, else 0. The
 * public calls tail-call this, so in a normal build the switch back
 * returns straight to their caller. */
CORIO__INLINE int resume(corio_coro *co, void *value, void **out,
                         unsigned mode)
{
    int rc;
    if (unlikely(!co))
        return -EINVAL;
    if (likely(co->state == CORIO_CORO_SUSPENDED)) {
        /* Lean coroutines may still fail to come back (wrong thread, busy
         * stack); they take the value only once they can. */
        if (unlikely(co->flags & CORIO__F_LEAN)) {
            corio__thread *t = &self_tls;
            if (co->home != t)
                return CORIO_EWRONGTHREAD;
            if ((rc = lean_enter(co)) != 0)
                return rc;
        }
        if (co->sent_slot)
            *co->sent_slot = value;
        return enter(co, out, 0, mode);
    }
    if ((rc = check_resumable(co)) != 0)
        return rc;
    if (value) /* CREATED */
        return CORIO_ENOTSTARTED;
    return enter(co, out, 0, mode);
}

/* 1 if co, SUSPENDED, may be switched to from thread t without
 * preparing anything: a stack of its own, or a lean coroutine whose
 * frames still occupy its shared stack of t; t already set up. */
CORIO__INLINE int frames_here(const corio__thread *t, const corio_coro *co)
{
    return likely(t->ready) &&
           (likely(!(co->flags & CORIO__F_LEAN)) ||
            (co->home == t && co->lean->occupant == co));
}

/* Not inlined into corio_coro_resume: its fast path stays call-free. */
static __attribute__((noinline)) int resume_any(corio_coro *co, void *value,
                                                void **out)
{
    return resume(co, value, out, 0);
}

int corio_coro_resume(corio_coro *co, void *value, void **out)
{
    corio__thread *t = &self_tls;
    corio_coro *self;

    /* The steady state: a suspended coroutine whose frames are in place
     * (a stack of its own, or a lean one still occupying its shared
     * stack on this thread), resumed on a thread already set up, from a
     * side with no canary. */
    if (likely(co != NULL) && likely(co->state == CORIO_CORO_SUSPENDED) &&
        frames_here(t, co)) {
        self = t->current;
        if (likely(!self || !(self->flags & CORIO__F_CANARY))) {
            if (co->sent_slot)
                *co->sent_slot = value;
            return enter_go(t, self, co, out, 0);
        }
    }
    return resume_any(co, value, out);
}

int corio_coro_next(corio_coro *g, void **out)
{
    if (g && g->state == CORIO_CORO_CLOSED) { /* exhausted: the end again */
        if (out)
            *out = NULL;
        return CORIO_END;
    }
    /* The statuses of the next convention come from the leaving side
     * (suspend, finish), so nothing runs here after the switch. */
    return resume(g, NULL, out, CORIO__F_NEXT);
}

int corio_coro_throw(corio_coro *co, int err, void **out)
{
    int rc;
    if (!co || err >= 0)
        return -EINVAL;
    if ((rc = check_resumable(co)) != 0)
        return rc;
    if (co->state == CORIO_CORO_CREATED) {
        co->state = CORIO_CORO_CLOSED;
        co->status = err;
        co->flags |= CORIO__F_DISMISSED;
        if (out)
            *out = NULL;
        return err;
    }
    return enter(co, out, err, 0);
}

int corio_coro_close(corio_coro *co)
{
    int rc;
    if (!co)
        return -EINVAL;
    switch (co->state) {
    case CORIO_CORO_CREATED:
        co->state = CORIO_CORO_CLOSED;
        co->status = 0;
        co->flags |= CORIO__F_DISMISSED;
        return 0;
    case CORIO_CORO_CLOSED:
        return 0;
    case CORIO_CORO_SUSPENDED:
        break;
    default:
        return CORIO_ERUNNING;
    }
    rc = enter(co, NULL, CORIO_EEXIT, 0);
    if (rc == CORIO_YIELDED || rc == CORIO_AWAITING)
        return CORIO_EIGNORED;
    if (co->state != CORIO_CORO_CLOSED) /* could not run (lean misuse) */
        return rc;
    if (rc == CORIO_EEXIT)
        co->status = rc = 0;
    return rc;
}

/* ---- suspension (inside the coroutine) ----------------------------------- */

/* Leave co, the running coroutine of thread t, for its resumer, handing
 * it `value` with status `kind` (co's canary checked, its next-convention
 * status already applied). No calls but the switch. */
CORIO__INLINE int leave_go(corio__thread *t, corio_coro *co, int kind,
                           void *value, void **sent)
{
    corio_coro *r = co->resumer;

    co->state = CORIO_CORO_SUSPENDED;
    co->sent_slot = sent;
    if (co->out_slot)
        *co->out_slot = value;
    t->current = r;
    if (r) {
        r->state = CORIO_CORO_RUNNING;
        corio__fiber_leave(&co->fiber, &r->fiber, 0);
        SWITCH_RETURN(&co->fiber, &co->ctx, &r->ctx, kind);
    }
    corio__fiber_leave(&co->fiber, &t->base_fiber, 0);
    SWITCH_RETURN(&co->fiber, &co->ctx, &t->base, kind);
}

/* suspend's rarer cases: the next convention, a stack with a canary. */
static __attribute__((noinline)) int suspend_slow(corio__thread *t,
                                                  corio_coro *co, int kind,
                                                  void *value, void **sent)
{
    if (co->flags & CORIO__F_NEXT) {
        co->flags &= ~(unsigned)CORIO__F_NEXT;
        if (kind == CORIO_YIELDED)
            kind = 0; /* an item, in the next convention */
    }
    canary_check_co(co);
    return leave_go(t, co, kind, value, sent);
}

/* Leave for the resumer, handing it `value` with status `kind`. */
CORIO__INLINE int suspend(int kind, void *value, void **sent)
{
    corio__thread *t = &self_tls;
    corio_coro *co = t->current;

    if (unlikely(!co))
        return CORIO_ENOTCORO;
    if (unlikely(co->flags & (CORIO__F_NEXT | CORIO__F_CANARY)))
        return suspend_slow(t, co, kind, value, sent);
    return leave_go(t, co, kind, value, sent);
}

void corio__coro_canary_leave(const corio_coro *co)
{
    canary_check(co->stack);
}

int corio_yield(void *value, void **sent)
{
    return suspend(CORIO_YIELDED, value, sent);
}

int corio_await(void *awaitable, void **sent)
{
    return suspend(CORIO_AWAITING, awaitable, sent);
}

/* ---- life cycle ---------------------------------------------------------- */

int corio__coro_init(corio_coro *co, corio_coro_fn fn, void *arg,
                     const corio_coro_opts *opts)
{
    static const corio_coro_opts defaults;
    if (!co || !fn)
        return -EINVAL;
    if (!opts)
        opts = &defaults;
    if (opts->flags & ~CORIO_CORO_LEAN)
        return -EINVAL;
    memset(co, 0, sizeof *co);
    co->fn = fn;
    co->arg = arg;
    co->name = opts->name;
    co->state = CORIO_CORO_CREATED;
    co->stack_size = opts->stack_size;
    if (opts->flags & CORIO_CORO_LEAN)
        co->flags |= CORIO__F_LEAN;
    return 0;
}

int corio_coro_new(corio_coro_fn fn, void *arg, const corio_coro_opts *opts,
                   corio_coro **out)
{
    owned_coro *oc;
    corio_coro *co;
    int rc;
    if (!fn || !out)
        return -EINVAL;
    oc = corio__malloc(sizeof *oc);
    if (!oc)
        return -ENOMEM;
    co = &oc->co;
    rc = corio__coro_init(co, fn, arg, opts);
    if (rc) {
        corio__free(oc);
        return rc;
    }
    oc->site = __builtin_return_address(0);
    co->flags |= CORIO__F_OWNED;
    *out = co;
    return 0;
}

int corio__coro_fini(corio_coro *co)
{
    int rc;
    switch (co->state) {
    case CORIO_CORO_RUNNING:
    case CORIO_CORO_NORMAL:
        return CORIO_ERUNNING;
    case CORIO_CORO_CREATED:
        if (!(co->flags & CORIO__F_DISMISSED))
            report_never_resumed(co);
        break;
    case CORIO_CORO_SUSPENDED:
        rc = corio_coro_close(co);
        if (co->state == CORIO_CORO_SUSPENDED) {
            corio__warn("coroutine '%s' could not be closed (%s); its frames "
                        "are discarded without cleanup",
                        name_of(co), corio_strerror(rc));
            corio__coro_discard(co);
        }
        break;
    default:
        break;
    }
    co->state = CORIO_CORO_CLOSED;
    release(co);
    return 0;
}

int corio_coro_free(corio_coro *co)
{
    int rc;
    if (!co)
        return 0;
    rc = corio__coro_fini(co);
    if (rc)
        return rc;
    if (co->flags & CORIO__F_OWNED)
        corio__free(co);
    return 0;
}

/* ---- queries ------------------------------------------------------------- */

corio_state corio_coro_state(const corio_coro *co)
{
    return co ? (corio_state)co->state : CORIO_CORO_CLOSED;
}

const char *corio_state_name(corio_state state)
{
    static const char *const names[] = {"CREATED", "RUNNING", "SUSPENDED",
                                        "NORMAL", "CLOSED"};
    unsigned i = (unsigned)state;
    return i < sizeof names / sizeof names[0] ? names[i] : "?";
}

const char *corio_coro_name(const corio_coro *co)
{
    return co ? name_of(co) : "coro";
}

int corio_coro_error(const corio_coro *co)
{
    return co && co->state == CORIO_CORO_CLOSED ? co->status : 0;
}

corio_coro *corio_coro_current(void)
{
    return self_tls.current;
}
