/*
 * ctx_ucontext.c: corio's portable context switch, on getcontext,
 * makecontext and swapcontext. The build uses it (with this folder on the
 * include path, for ctx_backend.h) where no assembly switch exists, or
 * when asked to.
 *
 * A context is a ucontext_t, plus the entry function and a `transfer` slot:
 * a switch stores its arg in the target's slot before swapping, and the
 * target reads its own slot once it runs again. So the arg of the first
 * switch into a made context is in the slot when the trampoline starts.
 * A switch also records in from->sp a low mark for the frames it leaves
 * behind (ctx_backend.h), as the assembly switches record the exact one.
 *
 * Invariants: makecontext passes only int arguments, so the trampoline gets
 * the context's address split into two 32-bit halves. uc_link is NULL and
 * the trampoline traps if entry returns, as the assembly versions do.
 *
 * Limits: swapcontext also saves and restores the signal mask with a system
 * call, so a switch costs hundreds of nanoseconds instead of a few, and it
 * restores the whole floating-point environment (status flags included).
 * Sanitizers must be told about the switches by the caller, as for the
 * assembly versions.
 */
#include "ctx_backend.h" /* this folder's: the layout this file keeps */
#include "../ctx.h"

#include <assert.h>
#include <stdint.h>
#include <ucontext.h>

static void ctx_trampoline(unsigned int hi, unsigned int lo)
{
    uintptr_t p = ((uintptr_t)hi << 16 << 16) | (uintptr_t)lo;
    corio__ctx *c = (corio__ctx *)p;
    c->entry(c->transfer);
    __builtin_trap(); /* entry must never return */
}

void corio__ctx_make(corio__ctx *c, void *lo, size_t size,
                     void (*entry)(void *arg))
{
    uintptr_t p = (uintptr_t)c;
    int rc;

    assert(((uintptr_t)lo & 15) == 0 && (size & 15) == 0);
    rc = getcontext(&c->uc);
    assert(rc == 0); /* fails only where the call is unimplemented */
    (void)rc;
    c->uc.uc_stack.ss_sp = lo;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_stack.ss_flags = 0;
    c->uc.uc_link = NULL;
    c->sp = lo; /* low mark of a made context: the whole stack may be live */
    c->entry = entry;
    c->transfer = NULL;
    makecontext(&c->uc, (void (*)(void))ctx_trampoline, 2,
                (unsigned int)(p >> 16 >> 16), (unsigned int)p);
}

void *corio__ctx_switch(corio__ctx *from, corio__ctx *to, void *arg)
{
    int rc;

    assert(from != to);
    /* Everything live below this frame belongs to the switch itself and
     * swapcontext: within the slack. */
    from->sp = (void *)((uintptr_t)__builtin_frame_address(0) -
                        CORIO__CTX_UCONTEXT_SLACK);
    to->transfer = arg;
    rc = swapcontext(&from->uc, &to->uc);
    assert(rc == 0); /* fails only where the call is unimplemented */
    (void)rc;
    return from->transfer;
}
