/*
 * stack.h: coroutine stacks: allocation, guard pages, the pool, overflow
 * reports, and Valgrind/ASan bookkeeping. The layer's interface; its files
 * (arena.c, pool.c, overflow.c) share stack_impl.h besides.
 *
 * A stack is [lo, lo + size) with a guard region of corio__stack_guard_size()
 * bytes right below lo. Stacks are carved from large mappings (arenas) and
 * recycled through a per-thread cache in front of a process-wide free list,
 * so getting a stack in steady state makes no system call and no allocation.
 * Arenas are never unmapped: they live as long as the process, and a stack
 * once carved is only ever recycled (corio__stack_stats_get shows how many
 * are in use, so leaks stay visible).
 *
 * Guard modes, best first. The mode is chosen per stack when it is carved
 * and kept for the stack's life:
 *   CORIO__GUARD_PTE       MADV_GUARD_INSTALL guard pages (Linux 6.13+),
 *                          written into the page tables: a real guard below
 *                          every stack and no extra VMA, so any number of
 *                          guarded stacks fits in the default
 *                          vm.max_map_count.
 *   CORIO__GUARD_MPROTECT  a PROT_NONE region below every stack: a real
 *                          guard, but 2 VMAs per stack, so used only while
 *                          corio's share of the mapping budget lasts.
 *   CORIO__GUARD_CANARY    no protection: the guard region stays writable
 *                          (a buffer that absorbs small overflows) and a
 *                          canary just below lo is checked at every switch
 *                          away; an overflow is reported after the fact.
 * An overflow into a guard page is caught by a SIGSEGV handler running on an
 * alternate signal stack; it prints the coroutine's name, the stack bounds
 * and the faulting address, then aborts. Faults elsewhere go to the handler
 * that was installed before corio's (or the default action). Every thread
 * that runs coroutines must call corio__stack_thread_init first: without
 * an alternate stack the handler itself would overflow, and the kernel
 * kills the process with a bare SIGSEGV.
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

/* Largest usable size corio__stack_get accepts: 1 GiB. */
#define CORIO__STACK_MAX ((size_t)1 << 30)

/* The default usable size outside sanitizer builds: 64 KiB. The stack
 * layer's own constant, so it needs nothing from the coroutine API; the
 * public CORIO_STACK_DEFAULT (corio/coro.h) must equal it, which
 * coro_impl.h, the one header that sees both, asserts. */
#define CORIO__STACK_DEFAULT ((size_t)64 * 1024)

typedef struct corio__stack corio__stack;
struct corio__stack {
    void *lo;            /* lowest usable byte; page aligned */
    size_t size;         /* usable bytes; a multiple of the page size */
    const char *name;    /* owner's name for overflow reports; set by coro.c
                          * after corio__stack_get (cleared by put); NULL
                          * reads as "coro" */
    /* The rest is private to the stack layer (src/core/stack/). */
    corio__stack *next;  /* free-list link while pooled */
    struct corio__arena *arena; /* the mapping it was carved from */
    unsigned valgrind_id;
    unsigned char guard; /* CORIO__GUARD_*; fixed when carved */
    unsigned char cls;   /* size class */
    unsigned char state; /* in use or free (catches a double put) */
    unsigned char trimmed; /* body given back to the kernel while free */
};

/*
 * corio__stack_get: a stack of at least `size` usable bytes (0: the default,
 * CORIO__STACK_DEFAULT, or 256 KiB in sanitizer builds). Sizes are rounded up
 * to a power-of-two number of pages (the size class); st->size tells the
 * result. The stack is guarded as well as the kernel and the mapping budget
 * allow, and registered with Valgrind. The bytes above lo hold whatever the
 * previous user left (only the guard or canary is guaranteed); st->name is
 * NULL.
 *
 * Returns 0 with *out set, -EINVAL (size above CORIO__STACK_MAX), or -ENOMEM
 * (no memory or no mappings left, or the thread cache could not be set up:
 * no pthread key left). On error *out is untouched. Thread-safe; does not
 * block except on the pool's mutex when the thread's cache is empty.
 */
int corio__stack_get(size_t size, corio__stack **out);

/* corio__stack_put: give a stack back (to this thread's cache); any thread
 * may put a stack another got. NULL is ignored. Never fails, even when the
 * kernel refuses to trim memory. Putting the same stack twice is a bug
 * (asserted). */
void corio__stack_put(corio__stack *st);

/*
 * corio__stack_check: 0 if st's canary (CANARY mode) is intact, -EFAULT if
 * the bytes just below lo were overwritten. Always 0 for guarded stacks.
 * Cheap (a few loads); coro.c calls it at every switch away from a CANARY
 * stack.
 */
int corio__stack_check(const corio__stack *st);

/*
 * corio__stack_overflow_report: write
 *   corio: stack overflow in coroutine 'NAME' (stack LO-HI, fault at ADDR)
 * to stderr and abort (SIGABRT, with the default action restored first so
 * no handler catches it). addr NULL means the canary check found the
 * overflow; the message then ends "canary overwritten" instead of the
 * fault address. Uses write(2) only: async-signal-safe.
 */
_Noreturn void corio__stack_overflow_report(const corio__stack *st,
                                            const void *addr);

/*
 * corio__stack_set_running_fn: tell the overflow handler how to find the
 * stack of the coroutine running on the calling thread (coro.c sets it
 * once; fn returns NULL when the thread runs on its own stack). fn is
 * called from the SIGSEGV handler, so it must be async-signal-safe.
 */
void corio__stack_set_running_fn(const corio__stack *(*fn)(void));

/*
 * corio__stack_thread_init: make this thread ready to run coroutines:
 * install the process's SIGSEGV/SIGBUS handler once, give the thread an
 * alternate signal stack (taken from the pool) if it has none, and arrange
 * for corio__stack_thread_fini to run at thread exit. Idempotent and cheap
 * after the first call on a thread. Returns 0 or -ENOMEM.
 */
int corio__stack_thread_init(void);

/* corio__stack_thread_fini: return this thread's cached stacks to the
 * process pool and drop the alternate signal stack corio installed (unless
 * the thread is running on it). Runs automatically at thread exit (a
 * pthread key destructor); harmless to call twice, and the thread may use
 * the pool again afterwards. */
void corio__stack_thread_fini(void);

/* Counters, for tests and benchmarks. Exact when no other thread is using
 * the pool at the same moment. */
typedef struct corio__stack_stats {
    size_t in_use;        /* stacks handed out and not put back */
    size_t cached;        /* free stacks held in the thread caches and pool */
    size_t trimmed;       /* of those, in the pool with memory given back */
    size_t arenas;        /* mappings made */
    size_t vmas;          /* VMAs corio estimates it created */
    size_t vma_budget;    /* the cap on vmas for MPROTECT guards (0: not
                           * computed yet) */
    size_t by_guard[4];   /* stacks carved in each guard mode */
} corio__stack_stats;
void corio__stack_stats_get(corio__stack_stats *out);

/* The usable size corio__stack_get(size) would give, or 0 if it would
 * fail with -EINVAL. */
size_t corio__stack_size_for(size_t size);

/* Bytes of the guard region below every stack: at least a page and at
 * least 16 KiB, so frames of a few KiB cannot jump it. */
size_t corio__stack_guard_size(void);

/* Test hooks: force a guard mode for stacks carved from now on (0:
 * automatic; a forced mode the kernel or budget cannot give falls back to
 * the next weaker one; stacks already in the pool keep their mode), and cap
 * the number of VMAs corio may create (0: automatic, see arena.c). */
void corio__stack_debug_force_guard(int mode);
void corio__stack_debug_vma_budget(size_t vmas);

#endif /* CORIO_STACK_H */
