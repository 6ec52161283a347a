/*
 * stack.h: coroutine stacks: allocation, guard pages, the pool, overflow
 * reports, and Valgrind registration.
 *
 * A stack is [lo, lo + size) with a guard below lo. Stacks are carved from
 * large mappings (arenas) and recycled through a per-thread cache in front of
 * a process-wide free list, so getting a stack in steady state makes no
 * system call and no allocation.
 *
 * Guard modes, best first; the pool picks the best the kernel and the
 * mapping budget allow, per arena:
 *   CORIO__GUARD_PTE       MADV_GUARD_INSTALL guard pages (Linux 6.13+): a
 *                          real guard below every stack and no extra VMA,
 *                          so any number of guarded stacks fits in the
 *                          default vm.max_map_count.
 *   CORIO__GUARD_MPROTECT  a PROT_NONE page below every stack: a real guard,
 *                          but 2 VMAs per stack, so used only while corio's
 *                          share of the mapping budget lasts.
 *   CORIO__GUARD_CANARY    no guard page: a canary pattern at the bottom of
 *                          the stack, checked at every switch away; an
 *                          overflow is reported after the fact, by name.
 * An overflow into a guard page is caught by a SIGSEGV handler running on an
 * alternate signal stack; it prints the coroutine's name, the stack bounds
 * and the faulting address, then aborts. Faults elsewhere go to the handler
 * that was installed before corio's (or the default action).
 *
 * Out of memory or out of mappings is -ENOMEM to the caller, never an abort.
 */
#ifndef CORIO_STACK_H
#define CORIO_STACK_H

#include <stddef.h>

enum {
    CORIO__GUARD_PTE = 1,
    CORIO__GUARD_MPROTECT = 2,
    CORIO__GUARD_CANARY = 3
};

typedef struct corio__stack corio__stack;
struct corio__stack {
    void *lo;            /* lowest usable byte; 16-byte aligned */
    size_t size;         /* usable bytes; a multiple of the page size */
    const char *name;    /* owner's name for overflow reports; set by coro.c */
    corio__stack *next;  /* free-list link while pooled */
    struct corio__arena *arena; /* the mapping it was carved from */
    unsigned valgrind_id;
    unsigned char guard; /* CORIO__GUARD_* */
};

/*
 * corio__stack_get: a stack of at least `size` usable bytes (0: the
 * default), guarded as well as the budget allows, registered with Valgrind.
 * The bytes above lo hold whatever the previous user left (only the guard
 * or canary is guaranteed). Returns 0 with *out set, or -ENOMEM (no memory
 * or no mappings left), or -EINVAL (size absurdly large). Thread-safe.
 */
int corio__stack_get(size_t size, corio__stack **out);

/* corio__stack_put: give a stack back (to this thread's cache). Never
 * fails, even when the kernel refuses to split or trim a mapping. */
void corio__stack_put(corio__stack *st);

/*
 * corio__stack_check: 0 if st's canary (CANARY mode) is intact, -EFAULT if
 * the bottom of the stack was overwritten. Always 0 for guarded stacks.
 */
int corio__stack_check(const corio__stack *st);

/*
 * corio__stack_overflow_report: print the overflow report for st
 * ("corio: stack overflow in coroutine 'name' ...") and abort. Used by the
 * SIGSEGV handler and by coro.c when a canary check fails. Async-signal-safe.
 */
_Noreturn void corio__stack_overflow_report(const corio__stack *st,
                                            const void *addr);

/*
 * corio__stack_thread_init: make this thread ready to run coroutines:
 * install the process's SIGSEGV/SIGBUS handler once, and give the thread
 * an alternate signal stack if it has none. Idempotent and cheap after the
 * first call on a thread. Returns 0 or -ENOMEM.
 */
int corio__stack_thread_init(void);

/* corio__stack_thread_fini: return this thread's cached stacks to the
 * process pool and drop the alternate signal stack corio installed.
 * Called automatically at thread exit; harmless to call twice. */
void corio__stack_thread_fini(void);

/* Counters, for tests and benchmarks. */
typedef struct corio__stack_stats {
    size_t in_use;        /* stacks handed out and not put back */
    size_t cached;        /* free stacks held in pools */
    size_t arenas;        /* mappings made */
    size_t vmas;          /* VMAs corio estimates it created */
    size_t by_guard[4];   /* stacks made in each guard mode */
} corio__stack_stats;
void corio__stack_stats_get(corio__stack_stats *out);

/* Test hooks: force a guard mode for stacks made from now on (0: automatic),
 * and cap the number of VMAs corio may create (0: automatic). */
void corio__stack_debug_force_guard(int mode);
void corio__stack_debug_vma_budget(size_t vmas);

#endif /* CORIO_STACK_H */
