/*
 * ctx_backend.h, assembly backend: the context as the assembly switches
 * beside this file (ctx_x86_64_sysv.S, ctx_aarch64_aapcs.S) lay it out,
 * and what portable code may assume of them. ctx.h includes it; the build
 * puts this folder on the include path when it picks an assembly switch,
 * and the ucontext folder's header of the same name otherwise.
 *
 * Invariants: sp is the first member (the assembly reads and writes it at
 * offset 0). For a suspended context it is exact: the register save area
 * starts there, and nothing below it is live.
 */
#ifndef CORIO_CTX_BACKEND_ASM_H
#define CORIO_CTX_BACKEND_ASM_H

typedef struct corio__ctx {
    void *sp; /* saved stack pointer; the register save area lies above it */
} corio__ctx;

/* The switch is a leaf in assembly that returns its arg in the return
 * register untouched, so a caller may declare the same symbol with an
 * int-shaped signature and tail-call it. */
#define CORIO__CTX_TAIL_SWITCH 1

/* x86-64 has corio__ctx_handoff of its own (ctx.h); elsewhere it is
 * corio__ctx_switch. */
#if defined(__x86_64__)
#define CORIO__CTX_HAVE_HANDOFF 1
#endif

/* A switch leaves the floating-point status flags (MXCSR 0-5, FPSR) as
 * they are: only the control state is saved and restored. */
#define CORIO__CTX_KEEPS_FP_STATUS 1

/* A made context's entry runs with a zero frame pointer (rbp, x29), so
 * frame-pointer walks end there. */
#define CORIO__CTX_ENTRY_FP_ZERO 1

/* Where a suspended context resumes and its frame pointer, read from the
 * saved frame at sp (layouts in the .S files), for backtraces of
 * suspended coroutines (src/diag/, scripts/corio-gdb.py). Returns 1, or 0
 * when unknown. AArch64 return addresses may carry a pointer
 * authentication code: callers strip it before symbolizing. */
#if defined(__x86_64__)
#define CORIO__CTX_FP_SLOT 48
#define CORIO__CTX_PC_SLOT 56
#elif defined(__aarch64__)
#define CORIO__CTX_FP_SLOT 80
#define CORIO__CTX_PC_SLOT 88
#endif
static inline int corio__ctx_saved_frame(const corio__ctx *c, void **pc,
                                         void **fp)
{
#ifdef CORIO__CTX_PC_SLOT
    const char *sp = (const char *)c->sp;
    *fp = *(void *const *)(sp + CORIO__CTX_FP_SLOT);
    *pc = *(void *const *)(sp + CORIO__CTX_PC_SLOT);
    return 1;
#else
    (void)c;
    *pc = *fp = 0;
    return 0;
#endif
}

#endif /* CORIO_CTX_BACKEND_ASM_H */
