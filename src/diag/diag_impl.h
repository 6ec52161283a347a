/*
 * diag_impl.h: what the diagnostics layer (src/diag/, the top layer)
 * shares between its files: backtraces of tasks from their saved
 * contexts, symbols for program counters, and the dump's writers.
 *
 * Backtraces walk frame pointers: a suspended coroutine's saved frame
 * (ctx_backend.h's corio__ctx_saved_frame) gives where it resumes and its
 * frame pointer; each frame record then holds the caller's frame pointer
 * and return address ([fp], [fp + 8] on x86-64 and AArch64). The walk
 * stays inside the coroutine's stack and stops at the first record that
 * is not above the last one, so a frame compiled without frame pointers
 * ends it early instead of misleading it. A lean coroutine's frames may
 * be copied out of its shared stack: addresses are translated into the
 * copy.
 *
 * Symbols: libdw (elfutils), when its header was found at configure time
 * and libdw.so.1 can be loaded at run time (dlopen: nothing links to it),
 * gives function names of static functions too, and file:line; otherwise
 * dladdr gives the nearest exported symbol and the object, and the dump
 * prints object+offset for addr2line.
 */
#ifndef CORIO_DIAG_IMPL_H
#define CORIO_DIAG_IMPL_H

#include <corio/diag.h>

#include "task/task_impl.h"

#include <stdint.h>
#include <stdio.h>

#define CORIO__BT_MAX 48 /* frames kept per backtrace */

/* A program counter, symbolized. */
typedef struct corio__sym {
    char name[128];     /* function, or "" */
    uintptr_t offset;   /* pc - function start */
    char file[192];     /* source file, or "" */
    int line;           /* 0: unknown */
    char object[192];   /* the binary or library */
    uintptr_t obj_off;  /* pc - the object's load base */
} corio__sym;

/* The frames of t (suspended: from its saved context; running on this
 * thread: from here): up to cap return addresses into pcs, innermost
 * first. Returns how many (0: none known). */
size_t corio__bt_task(const corio_task *t, void **pcs, size_t cap);
/* Walk frame records from (pc, fp) inside [lo, hi); co, when not NULL,
 * is a lean coroutine whose frames may be in its copy. */
size_t corio__bt_walk(void *pc, void *fp, uintptr_t lo, uintptr_t hi,
                      const struct corio_coro *co, void **pcs, size_t cap);
/* Symbolize pc (a return address when is_return: looked up at pc - 1).
 * Takes a lock; not for signal handlers. */
void corio__bt_symbolize(void *pc, int is_return, corio__sym *out);
/* The same with dladdr only (little stack). */
void corio__bt_symbolize_dladdr(void *pc, int is_return, corio__sym *out);
/* Symbolize a backtrace (pcs[0] a resume address, the rest return
 * addresses) on a helper thread (libdw needs a thread's stack): a
 * malloc'd array of n, or NULL when out of memory. */
corio__sym *corio__bt_symbolize_all(void *const *pcs, size_t n);
/* "libdw" or "dladdr": what symbolizes, for the dump's header. */
const char *corio__bt_symbolizer(void);
/* Print frames, one a line, each line starting with indent. */
void corio__bt_print(FILE *out, const char *indent, void *const *pcs,
                     size_t n);
/* Write header, then the frames (indented), to stderr in one write, so
 * the report never interleaves with other output; from the watchdog
 * threads: it allocates nothing through the program's allocator (the
 * loop's thread may be stopped inside it), and a report longer than its
 * fixed buffer is cut. */
void corio__bt_report(const char *header, void *const *pcs, size_t n);
/* Close out, a stream fmemopen'd over text[cap], and write what it holds
 * (cut at cap) to stderr in one write. */
void corio__bt_emit(FILE *out, const char *text, size_t cap);

/* What a signal handler on the loop's thread captures (sigdump.c): the
 * running task, copied, and the frames where it was interrupted. */
typedef struct corio__snapshot {
    int has_task;
    uint64_t id;
    char name[64];
    const char *file; /* a string literal (__FILE__) or "?" */
    int line;
    void *pcs[CORIO__BT_MAX];
    size_t npcs;
} corio__snapshot;
/* Fill s from a handler running on loop's thread (ucv: its ucontext;
 * th_lo/th_hi: that thread's own stack). Async-signal-safe. */
void corio__diag_capture(corio__snapshot *s, const corio_loop *loop,
                         void *ucv, uintptr_t th_lo, uintptr_t th_hi);
/* The calling thread's stack bounds (0, 0 when unknown). */
void corio__diag_thread_stack(uintptr_t *lo, uintptr_t *hi);

/* The diagnostics layer's per-loop state (loop->diag), made on first use
 * on the loop's thread, freed with the loop's memory (cycles.c). */
#define CORIO__DIAG_REPORTED_MAX 64
typedef struct corio__diag_state {
    corio__closer release;
    uint64_t last_sig;        /* cycle check: the parked set last seen */
    size_t last_n;
    uint64_t reported[CORIO__DIAG_REPORTED_MAX]; /* cycles printed */
    size_t nreported;
    /* Metrics, counted by the run hook in debug mode (slow.c). */
    int64_t since;            /* loop ns when the state was made */
    uint64_t iterations;
    int64_t busy_ns;
    uint64_t steps;
    /* The schedule shuffler (shuffle.c): 0 off. carried: how many nodes
     * the last batch's own steps queued (the next batch's front; the rest
     * came from timers, descriptors and other threads), once known. */
    uint64_t seed, rng;
    corio__ready **batch;
    size_t batch_cap;
    size_t carried;
    unsigned char carried_known;
    /* At corio_loop_free, before its tasks go: the dump on a signal and
     * the slow-step watchdog let go of the loop (their threads would
     * otherwise outlive it). Registered once, on first use. */
    corio__closer let_go;
    unsigned char let_go_set;
} corio__diag_state;
/* Register ds's let_go closer on loop (once). */
void corio__diag_let_go_at_free(corio_loop *loop, corio__diag_state *ds);
/* What let_go runs (sigdump.c, slow.c): stop for this loop, if on. */
void corio__diag_sigdump_let_go(corio_loop *loop);
void corio__diag_slow_let_go(corio_loop *loop);
/* Pop the iteration's count ready nodes into ds->batch, the task steps
 * that earlier steps made ready (the batch's first ds->carried nodes) in a
 * seeded order; callbacks, and steps woken by timers, descriptors or other
 * threads this iteration, keep their places. NULL when out of memory
 * (nothing popped). */
corio__ready **corio__diag_shuffled(corio_loop *loop, corio__diag_state *ds,
                                    size_t count);
corio__diag_state *corio__diag_state_of(corio_loop *loop);
/* corio_diag_shuffle, saying the seed on stderr only when announce (the
 * environment's CORIO_SHUFFLE_SEED already names it: no banner). */
int corio__diag_shuffle_set(corio_loop *loop, unsigned long long seed,
                            int announce);
/* The run hook of debug mode (slow.c): stamps parks, times steps, counts
 * metrics, reports slow steps when a threshold is set. */
void corio__diag_run(corio_loop *loop, size_t count);

/* Debug mode's idle hook (cycles.c): report cycles of tasks waiting on
 * each other, each once. */
void corio__diag_cycle_check(corio_loop *loop);

/* Slow steps seen on loop since the watchdog was set on it (slow.c). */
unsigned long long corio__diag_slow_count(const corio_loop *loop);

/* Install debug mode's creation sites and tracebacks for the lower layers'
 * reports (traceback.c). */
void corio__diag_traceback_hooks(void);

/* Write s as a JSON string (quotes included). */
void corio__json_str(FILE *out, const char *s);

#endif /* CORIO_DIAG_IMPL_H */
