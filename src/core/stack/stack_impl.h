/*
 * stack_impl.h: what the files of the stack layer share, and nothing else
 * includes. stack.h is the layer's interface; behind it:
 *   arena.c     arenas and guards: the geometry, carving, guard modes,
 *               canaries, the VMA budget, finding a guard's owner
 *   pool.c      size classes, thread caches, the process-wide pool,
 *               trimming, thread init/fini, stats
 *   overflow.c  the SIGSEGV/SIGBUS handler and the overflow report
 *
 * Invariants: the geometry is written once, inside the pool's pthread_once
 * (pool.c), before any stack exists, and only read afterwards (the fault
 * handler included). Everything arena.c keeps about arenas and guards is
 * changed only under corio__stack_lock, the pool's mutex, so a fork
 * (which takes that mutex first) never copies it half-updated.
 */
#ifndef CORIO_STACK_IMPL_H
#define CORIO_STACK_IMPL_H

#include "stack.h"

#include <pthread.h>
#include <stddef.h>

#define CORIO__STACK_NCLASS_MAX 24 /* size classes: 4 KiB pages .. 1 GiB */

/* A descriptor's state; a freshly carved stack is FREE (its descriptor
 * comes zeroed from mmap). */
enum { CORIO__STACK_FREE = 0, CORIO__STACK_USED = 1 };

/* Sizes every file needs; fixed by corio__stack_geom_init. */
typedef struct corio__stack_geometry {
    size_t page;         /* the system page size */
    unsigned page_shift; /* log2(page) */
    size_t guard;        /* bytes of guard below every stack */
    size_t align;        /* of arena bases (larger under Valgrind) */
    int valgrind;        /* running under Valgrind */
} corio__stack_geometry;

/* Hidden in the declaration too, so other files of the library read them
 * PC-relative, as a static, with no GOT load (class_of on the get path). */
#define CORIO__STACK_HIDDEN __attribute__((visibility("hidden")))

extern corio__stack_geometry corio__stack_geom CORIO__STACK_HIDDEN;

/* The pool's mutex: guards the pool's lists and all of arena.c's state. */
extern pthread_mutex_t corio__stack_lock CORIO__STACK_HIDDEN;

/* ---- arena.c ------------------------------------------------------------ */

/* Measure the page size, detect Valgrind and size the guards. Called once,
 * from the pool's pthread_once, before anything else here. */
void corio__stack_geom_init(void);

/* Carve a new stack of size class c (page << c usable bytes), in a new
 * arena if the current one is full. Returns 0 with *out set (state FREE,
 * name NULL), or -ENOMEM. Called under corio__stack_lock. */
int corio__stack_carve(unsigned c, corio__stack **out);

/* The stack whose guard region holds addr (PTE or MPROTECT mode only), or
 * NULL. Async-signal-safe: reads only what carving published. */
const corio__stack *corio__stack_guard_owner(const void *addr);

/* Fill the arena and guard counters of *out (arenas, vmas, vma_budget,
 * by_guard). Called under corio__stack_lock. */
void corio__stack_arena_stats(corio__stack_stats *out);

/* ---- overflow.c --------------------------------------------------------- */

/* Install the process's SIGSEGV/SIGBUS handler; only the first call does
 * anything. */
void corio__stack_handler_install(void);

#endif /* CORIO_STACK_IMPL_H */
