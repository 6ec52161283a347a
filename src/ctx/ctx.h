/*
 * ctx.h: the machine context switch, the lowest layer of corio.
 *
 * A context is a suspended thread of execution: a stack pointer with the
 * callee-saved registers and floating-point control state pushed below it.
 * corio__ctx_switch saves the running context into `from` and resumes `to`.
 * The build picks one implementation:
 *   ctx_x86_64_sysv.S     x86-64 System V (Linux)
 *   ctx_aarch64_aapcs.S   AArch64 AAPCS64 (Linux)
 *   ctx_ucontext.c        portable fallback (getcontext/makecontext/swapcontext)
 * CORIO_CTX_UCONTEXT is defined when the fallback is in use.
 *
 * What survives a switch is exactly what the ABI makes callee-saved:
 * x86-64: rbx, rbp, r12-r15, rsp, the control bits of MXCSR and the x87
 * control word; AArch64: x19-x30, sp, d8-d15, FPCR. Floating-point control
 * state is written back only when it differs from the live value, so a
 * switch between two sides with different status flags costs no reload.
 *
 * Knows nothing of coroutines, stacks pools or sanitizers; coro.c adds those.
 */
#ifndef CORIO_CTX_H
#define CORIO_CTX_H

#include <stddef.h>

#ifdef CORIO_CTX_UCONTEXT
#include <ucontext.h>
typedef struct corio__ctx {
    ucontext_t uc;
    void *transfer; /* value handed over by the switch that resumes us */
    void (*entry)(void *);
} corio__ctx;
#else
typedef struct corio__ctx {
    void *sp; /* saved stack pointer; the register save area lies above it */
} corio__ctx;
#endif

/*
 * corio__ctx_make: prepare `c` so that the first corio__ctx_switch to it runs
 * entry(arg) on the stack [lo, lo + size), where arg is the third argument of
 * that switch. lo and size must be 16-byte aligned. entry must never return
 * (it ends by switching away for good); if it does, the process traps.
 * Cannot fail.
 */
void corio__ctx_make(corio__ctx *c, void *lo, size_t size,
                     void (*entry)(void *arg));

/*
 * corio__ctx_switch: save the running context into *from and resume *to,
 * handing it `arg`. Returns, once something switches back to *from, the arg
 * of that switch. from and to must differ.
 */
void *corio__ctx_switch(corio__ctx *from, corio__ctx *to, void *arg);

#endif /* CORIO_CTX_H */
