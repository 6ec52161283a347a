/*
 * bench_fcontext.c: the Boost.Context rows: a ping-pong over fcontext, the
 * assembly switch underneath Boost.Context and Boost.Coroutine2.
 *
 * fcontext is a C++ library, but jump_fcontext and make_fcontext are plain
 * extern "C" assembly, so C declares them here; the declarations follow
 * boost/context/detail/fcontext.hpp (Boost 1.74). transfer_t, two
 * pointers, comes back in registers (rax:rdx, x0:x1) as in C++.
 *
 * On x86-64 jump_fcontext saves MXCSR and the x87 control word on the way
 * out and loads the other side's on the way in, status flags included; the
 * "FP status differs" row shows what that costs when the two sides' flags
 * differ.
 */
#include "bench.h"
#include "refctx.h"
#include "switch.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

typedef void *fcontext_t;
typedef struct {
    fcontext_t fctx;
    void *data;
} transfer_t;

transfer_t jump_fcontext(fcontext_t const to, void *vp);
fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

struct fctx_state {
    fcontext_t co;  /* the suspended coroutine side */
    void *value;
    void *stack;
    unsigned clean; /* FP register with flags cleared (FP variant) */
};

/* The coroutine side: bounce every value straight back. Never returns. */
static void fctx_body(transfer_t t)
{
    for (;;)
        t = jump_fcontext(t.fctx, t.data);
}

static void fctx_body_fp(transfer_t t)
{
    for (;;) {
        bench_fp_dirty();
        t = jump_fcontext(t.fctx, t.data);
    }
}

static int setup(void **state, void (*body)(transfer_t), int fp,
                 const char **why)
{
    struct fctx_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    if (fp) {
        int rc = bench_fp_prepare(&s->clean, why);
        if (rc) {
            free(s);
            return rc;
        }
    }
    s->stack = bench_stack_alloc(SWITCH_STACK_SIZE);
    if (!s->stack) {
        free(s);
        return -ENOMEM;
    }
    /* make_fcontext takes the top of the stack (it grows down). */
    s->co = make_fcontext((char *)s->stack + SWITCH_STACK_SIZE,
                          SWITCH_STACK_SIZE, body);
    /* Start the body so that every timed iteration is a steady one. */
    transfer_t t = jump_fcontext(s->co, s);
    s->co = t.fctx;
    s->value = t.data;
    *state = s;
    return 0;
}

int bench_fctx_setup(void **state, const char **why)
{
    return setup(state, fctx_body, 0, why);
}

int bench_fctx_setup_fp(void **state, const char **why)
{
    return setup(state, fctx_body_fp, 1, why);
}

int bench_fctx_run(void *state, uint64_t n)
{
    struct fctx_state *s = state;
    fcontext_t co = s->co;
    void *v = s->value;
    for (uint64_t i = 0; i < n; i++) {
        transfer_t t = jump_fcontext(co, v);
        co = t.fctx;
        v = t.data;
    }
    s->co = co;
    s->value = v;
    return v == s ? 0 : -EPROTO;
}

int bench_fctx_run_fp(void *state, uint64_t n)
{
    struct fctx_state *s = state;
    fcontext_t co = s->co;
    void *v = s->value;
    for (uint64_t i = 0; i < n; i++) {
        bench_fp_set(s->clean);
        transfer_t t = jump_fcontext(co, v);
        co = t.fctx;
        v = t.data;
    }
    s->co = co;
    s->value = v;
    return v == s ? 0 : -EPROTO;
}

/* The body is abandoned mid-loop: it owns nothing, so freeing its stack
 * is all the cleanup there is. */
void bench_fctx_teardown(void *state)
{
    struct fctx_state *s = state;
    bench_stack_free(s->stack, SWITCH_STACK_SIZE);
    free(s);
}
