/*
 * ctx.h: the machine context switch, the lowest layer of corio.
 *
 * A context is a suspended thread of execution: a stack pointer with the
 * callee-saved registers and floating-point control state pushed below it.
 * corio__ctx_switch saves the running context into `from` and resumes `to`.
 * The build picks one backend, a folder beside this file:
 *   asm/ctx_x86_64_sysv.S       x86-64 System V (Linux)
 *   asm/ctx_aarch64_aapcs.S     AArch64 AAPCS64 (Linux)
 *   ucontext/ctx_ucontext.c     portable fallback (getcontext/makecontext/
 *                               swapcontext)
 * and puts that folder on the include path, so "ctx_backend.h" below is the
 * chosen backend's. Each backend header provides the same names, and
 * portable code asks them instead of asking which backend it is:
 *   corio__ctx                  the context; its first member, `void *sp`,
 *                               is, while the context is made or suspended,
 *                               at or below the lowest byte it still needs
 *                               (exact for the assembly switches; an
 *                               estimate that may reach below the stack for
 *                               ucontext, so clamp it to the stack)
 *   CORIO__CTX_TAIL_SWITCH      1 if a caller may tail-call the switch
 *                               through an int-shaped declaration of the
 *                               same symbol (see coro.c)
 *   CORIO__CTX_KEEPS_FP_STATUS  1 if a switch leaves the FP status flags
 *   CORIO__CTX_ENTRY_FP_ZERO    1 if a made context's entry runs with a
 *                               zero frame pointer
 *
 * What survives a switch is exactly what the ABI makes callee-saved:
 * x86-64: rbx, rbp, r12-r15, rsp, the control bits of MXCSR and the x87
 * control word; AArch64: x19-x30, sp, d8-d15, FPCR. Floating-point control
 * state is written back only when it differs from the live value, so a
 * switch between two sides with different status flags costs no reload.
 * Status flags (MXCSR 0-5, FPSR) are caller-saved and not carried over;
 * the ucontext fallback happens to restore them, but nothing may rely on
 * that.
 * The signal mask is the thread's, not the context's (the fallback does
 * save and restore it, at the price of a system call per switch).
 *
 * Knows nothing of coroutines, stack pools or sanitizers; coro.c adds those.
 * Sanitizers must be told about every switch by the caller: ASan's
 * start/finish_switch_fiber around it, and TSan's __tsan_switch_to_fiber
 * in the same function that calls corio__ctx_switch (TSan's shadow call
 * stack changes at that call, so a helper entered before it and left after
 * it unbalances both fibers' shadow stacks).
 *
 * No shadow stacks: the switch does not move x86 CET shadow stacks or
 * AArch64 Guarded Control Stacks, so the objects never claim SHSTK or GCS,
 * and a program linked with them runs with those features off.
 */
#ifndef CORIO_CTX_H
#define CORIO_CTX_H

#include <stddef.h>

#include "ctx_backend.h"

/*
 * corio__ctx_make: prepare `c` so that the first corio__ctx_switch to it runs
 * entry(arg) on the stack [lo, lo + size), where arg is the third argument of
 * that switch. lo and size must be 16-byte aligned; entry starts with the
 * stack aligned as after any call, and unwinders stop at its caller. The
 * new context inherits the floating-point control state live at this call.
 * Writes only a small frame at the top of the stack and relies on nothing
 * already there. entry must never return (it ends by switching away for
 * good); if it does, the process dies of SIGILL (SIGTRAP for the fallback
 * on some architectures). Cannot fail.
 */
void corio__ctx_make(corio__ctx *c, void *lo, size_t size,
                     void (*entry)(void *arg));

/*
 * corio__ctx_switch: save the running context into *from and resume *to,
 * handing it `arg`: to's own pending corio__ctx_switch returns arg, or, if
 * to was just made, its entry gets arg. Returns, once something switches
 * back to *from, the arg of that switch. from and to must differ; *to must
 * be made or suspended, never one that is running or has finished.
 */
void *corio__ctx_switch(corio__ctx *from, corio__ctx *to, void *arg);

/*
 * corio__ctx_handoff: corio__ctx_switch, tuned for a switch between two
 * sides that often suspend at the same call site (the task layer's direct
 * hand-off): same contract, same frame, so either resumes a context the
 * other suspended. Backends without a tuned one (CORIO__CTX_HAVE_HANDOFF
 * unset) make it corio__ctx_switch itself.
 */
#ifdef CORIO__CTX_HAVE_HANDOFF
void *corio__ctx_handoff(corio__ctx *from, corio__ctx *to, void *arg);
#else
#define corio__ctx_handoff corio__ctx_switch
#endif

#endif /* CORIO_CTX_H */
