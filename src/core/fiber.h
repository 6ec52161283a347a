/*
 * fiber.h: telling AddressSanitizer and ThreadSanitizer about stack
 * switches. Every corio context switch is bracketed by these calls; in a
 * normal build they compile to nothing.
 *
 * ASan: before a switch, corio__fiber_leave(&save_of_leaving_side, target
 * stack); right after it, on the target stack, corio__fiber_arrive(save of
 * the arriving side). A side that leaves for good passes a NULL save slot so
 * ASan frees its fake stack.
 * TSan: each coroutine owns a fiber made at its first run; a switch is
 * __tsan_switch_to_fiber(target, 0), which also orders the two sides.
 * TSan keeps a signal that lands while the thread runs ordinary code in
 * the pending list of the fiber then running, and runs its handler only
 * when that same fiber next passes an intercepted call. A coroutine that
 * parks right after such a signal took it away with it: the loop fiber
 * then slept in the poller while the handler that would wake it waited
 * for the parked coroutine (corio_run's SIGINT, seen as a rare hang of
 * a TSan test). So TSan builds block every signal for the switch itself:
 * the leaving side's pthread_sigmask runs the handlers pending on its
 * fiber, and the arriving side's restores the mask, so whatever the
 * kernel held meanwhile lands on the fiber that runs next. Two system
 * calls a switch, in TSan builds only.
 * Valgrind registration is done by stack/arena.c, which owns the memory.
 *
 * These helpers are always inlined: the frame that calls
 * __tsan_switch_to_fiber must be the frame that performs the switch, or
 * TSan pops a function entry from the wrong fiber's shadow stack when the
 * helper returns on the other side.
 */
#ifndef CORIO_FIBER_H
#define CORIO_FIBER_H

#include <stddef.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif

#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define CORIO_ASAN 1
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
                                    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
                                     const void **bottom_old, size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#else
#define CORIO_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define CORIO_TSAN 1
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
void __tsan_set_fiber_name(void *fiber, const char *name);
#include <signal.h>
#include <time.h>
/* The thread's signal mask from a switch's leaving side to its arriving
 * side (coro.c). */
extern _Thread_local sigset_t corio__fiber_sigmask;
#else
#define CORIO_TSAN 0
#endif

/* What the sanitizers need to know about one side of a switch. */
typedef struct corio__fiber {
#if CORIO_ASAN
    void *fake_stack;   /* ASan's saved fake-stack handle while away */
    const void *bottom; /* lowest address of the stack */
    size_t size;
#endif
#if CORIO_TSAN
    void *tsan;
#endif
    char unused_; /* keeps the struct non-empty in normal builds */
} corio__fiber;

#define CORIO__INLINE static inline __attribute__((always_inline))

/* Run before a thread's base fiber first waits in the poller (loop.c).
 * TSan (as shipped with clang 14) gives each fiber its signal context
 * lazily, at the fiber's first blocking call, and that allocation is not
 * reentrant: a signal that lands while it runs is recorded in a second
 * context that the interrupted allocation then overwrites, so its handler
 * never runs. Seen as corio_run's SIGINT, sent by a pool thread just as
 * the loop first entered poll(2), lost, and the loop asleep for good.
 * This makes the allocation happen here, with every signal blocked, by a
 * call TSan treats as blocking that returns at once and touches nothing:
 * sigtimedwait for no signal with a zero timeout (not poll, which the
 * test suite's fault shim counts). Nothing in other builds. */
CORIO__INLINE void corio__fiber_prepare_wait(void)
{
#if CORIO_TSAN
    static const struct timespec now = {0, 0};
    sigset_t all, old, none;
    sigfillset(&all);
    sigemptyset(&none);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    (void)sigtimedwait(&none, NULL, &now);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
#endif
}

CORIO__INLINE void corio__fiber_leave(corio__fiber *from, const corio__fiber *to,
                                      int for_good)
{
#if CORIO_ASAN
    __sanitizer_start_switch_fiber(for_good ? NULL : &from->fake_stack,
                                   to->bottom, to->size);
#endif
#if CORIO_TSAN
    {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &corio__fiber_sigmask);
    }
    __tsan_switch_to_fiber(to->tsan, 0);
#endif
    (void)from;
    (void)to;
    (void)for_good;
}

CORIO__INLINE void corio__fiber_arrive(corio__fiber *self)
{
#if CORIO_ASAN
    __sanitizer_finish_switch_fiber(self->fake_stack, NULL, NULL);
#endif
#if CORIO_TSAN
    pthread_sigmask(SIG_SETMASK, &corio__fiber_sigmask, NULL);
#endif
    (void)self;
}

#endif /* CORIO_FIBER_H */
