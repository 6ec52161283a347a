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

/* Write s as a JSON string (quotes included). */
void corio__json_str(FILE *out, const char *s);

#endif /* CORIO_DIAG_IMPL_H */
