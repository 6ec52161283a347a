/*
 * ctx_backend.h, ucontext backend: the context as ctx_ucontext.c (beside
 * this file) keeps it, and what portable code may assume of it. ctx.h
 * includes it; the build puts this folder on the include path when it
 * picks the ucontext switch.
 *
 * Invariants: sp is set by every switch away from a context, to the frame
 * address of corio__ctx_switch minus CORIO__CTX_UCONTEXT_SLACK: at or below
 * the lowest byte the suspended side still needs (swapcontext does not
 * tell its exact stack pointer); corio__ctx_make sets it to the stack's
 * lowest byte. It may lie below the stack's own lowest
 * byte when the stack is nearly full; users clamp it to their stack.
 */
#ifndef CORIO_CTX_BACKEND_UCONTEXT_H
#define CORIO_CTX_BACKEND_UCONTEXT_H

#include <ucontext.h>

typedef struct corio__ctx {
    void *sp;       /* at or below the lowest live byte (made/suspended) */
    ucontext_t uc;
    void *transfer; /* value handed over by the switch that resumes us */
    void (*entry)(void *);
} corio__ctx;

/* Bytes below the switch's frame address that may still be live while a
 * context is suspended: the switch's own locals and swapcontext's frame
 * (and an interceptor's, under sanitizers). Generous: a byte too many
 * costs only a byte more to copy. */
#define CORIO__CTX_UCONTEXT_SLACK 2048

/* The switch is C that returns a pointer and has a frame of its own:
 * callers make an ordinary call. */
#define CORIO__CTX_TAIL_SWITCH 0

/* swapcontext restores the whole floating-point environment, status flags
 * included. */
#define CORIO__CTX_KEEPS_FP_STATUS 0

/* makecontext's start frame is libc's: the frame pointer at entry is
 * whatever libc leaves. */
#define CORIO__CTX_ENTRY_FP_ZERO 0

/* Where a suspended context resumes and its frame pointer (for
 * backtraces, src/diag/): from the saved ucontext. Returns 1, or 0 where
 * this architecture's registers are not known here. */
static inline int corio__ctx_saved_frame(const corio__ctx *c, void **pc,
                                         void **fp)
{
#if defined(__x86_64__) && defined(REG_RIP)
    *pc = (void *)c->uc.uc_mcontext.gregs[REG_RIP];
    *fp = (void *)c->uc.uc_mcontext.gregs[REG_RBP];
    return 1;
#elif defined(__aarch64__)
    *pc = (void *)c->uc.uc_mcontext.pc;
    *fp = (void *)c->uc.uc_mcontext.regs[29];
    return 1;
#else
    (void)c;
    *pc = *fp = 0;
    return 0;
#endif
}

#endif /* CORIO_CTX_BACKEND_UCONTEXT_H */
