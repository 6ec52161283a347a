/*
 * bench_switch.c: the context-switch suite: what one resume + yield round
 * trip (two switches) costs in corio, next to a hand-written minimal switch
 * (the physical reference), glibc's swapcontext and Boost.Context.
 *
 * Every row is the same ping-pong: a driver on the thread's own stack
 * resumes a coroutine-like context, handing it a pointer; the context hands
 * the pointer straight back and suspends. One iteration is one round trip.
 * Every context is started during setup, so the timed loop holds only
 * steady-state switches (no first-resume stack allocation).
 *
 * Rows: the reference (refctx.h) called straight from both loops; the same
 * reference behind one C function per side (what the call-and-return shape
 * of a resume/yield API costs by itself, see wrapped_resume); corio in its
 * default and lean modes; glibc swapcontext; Boost.Context fcontext
 * (bench_fcontext.c). Each ratio is against the reference running the same
 * loop.
 *
 * "FP status differs" rows. MXCSR on x86-64 (FPSR on AArch64) holds
 * control bits (rounding mode, exception masks, FTZ/DAZ), which the ABI
 * makes callee-saved, and sticky exception-status flags, which it leaves
 * caller-saved like any scratch register. A switch that saves and loads the
 * whole register per side keeps each side's flags apart, and then loads a
 * value unlike the live one whenever the two sides' flags differ; some CPUs
 * charge heavily for that. To make the flags differ at every switch, the
 * same way for every implementation:
 *   - the coroutine side divides 1.0 by 3.0 before each yield, raising the
 *     inexact flag (PE / IXC): at each switch into the driver the live
 *     flags hold PE, while the driver last ran with them clear;
 *   - the driver writes the register back with its flags clear right before
 *     each resume: at each switch into the coroutine the live flags are
 *     clear, while the coroutine last ran with PE set.
 * The driver's write is not part of any switch, but it and the division
 * are in the timed loop of every FP row alike, so those rows take their
 * ratio against the reference running the very same loop ("reference, FP
 * status differs"; the reference switch never touches the FP register):
 * the ratio compares switches, not FP work.
 */
#include "bench.h"
#include "refctx.h"
#include "suites.h"
#include "switch.h"

#include <corio/coro.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

/* ---- floating-point status ------------------------------------------- */

/* volatile: the division must happen at run time, every time. */
static volatile double fp_num = 1.0, fp_den = 3.0, fp_sink;

void bench_fp_dirty(void)
{
    fp_sink = fp_num / fp_den;
}

int bench_fp_prepare(unsigned *clean, const char **why)
{
    unsigned flags = bench_fp_status_bits();
    if (flags == 0) {
        *why = "no FP status flags on this architecture";
        return BENCH_NA;
    }
    *clean = bench_fp_get() & ~flags;
    bench_fp_set(*clean);
    bench_fp_dirty();
    unsigned raised = bench_fp_get() & flags;
    bench_fp_set(*clean);
    return raised ? 0 : -EIO;
}

/* ---- reference: the hand-written switch ------------------------------ */

struct ref_state {
    void *main_sp; /* the driver, while the context runs */
    void *co_sp;   /* the context, while suspended */
    void *value;
    void *stack;
    unsigned clean;
    uint64_t returns; /* wrapped variant: returns across a switch */
};

static void ref_body(void *arg)
{
    struct ref_state *s = arg;
    void *v = arg;
    for (;;)
        v = bench_ref_switch(&s->co_sp, s->main_sp, v);
}

static void ref_body_fp(void *arg)
{
    struct ref_state *s = arg;
    void *v = arg;
    for (;;) {
        bench_fp_dirty();
        v = bench_ref_switch(&s->co_sp, s->main_sp, v);
    }
}

static int ref_setup_with(void **state, void (*body)(void *), int fp,
                          const char **why)
{
    struct ref_state *s = calloc(1, sizeof *s);
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
    s->co_sp = bench_ref_make((char *)s->stack + SWITCH_STACK_SIZE, body);
    if (!s->co_sp) {
        bench_stack_free(s->stack, SWITCH_STACK_SIZE);
        free(s);
        *why = "no hand-written switch for this architecture";
        return BENCH_NA;
    }
    s->value = bench_ref_switch(&s->main_sp, s->co_sp, s);
    *state = s;
    return 0;
}

static int ref_setup(void **state, const char **why)
{
    return ref_setup_with(state, ref_body, 0, why);
}

static int ref_setup_fp(void **state, const char **why)
{
    return ref_setup_with(state, ref_body_fp, 1, why);
}

static int ref_run(void *state, uint64_t n)
{
    struct ref_state *s = state;
    void *v = s->value;
    for (uint64_t i = 0; i < n; i++)
        v = bench_ref_switch(&s->main_sp, s->co_sp, v);
    s->value = v;
    return v == s ? 0 : -EPROTO;
}

static int ref_run_fp(void *state, uint64_t n)
{
    struct ref_state *s = state;
    void *v = s->value;
    for (uint64_t i = 0; i < n; i++) {
        bench_fp_set(s->clean);
        v = bench_ref_switch(&s->main_sp, s->co_sp, v);
    }
    s->value = v;
    return v == s ? 0 : -EPROTO;
}

/*
 * The reference switch behind one C function on each side, shaped like a
 * library's resume() and yield(): the switch returns into the function,
 * which does a little work and returns to its caller. The CPU predicts
 * that return from its return-address stack, which still holds the other
 * side's calls, so it mispredicts on both sides of every round trip. The
 * row prices the call-and-return shape of such an API by itself, apart
 * from anything a library does inside it. (The plain reference loops call
 * the switch directly and never return across it.)
 */
__attribute__((noinline)) static void *wrapped_resume(struct ref_state *s,
                                                      void *v)
{
    v = bench_ref_switch(&s->main_sp, s->co_sp, v);
    s->returns++; /* work after the switch: no tail call */
    return v;
}

__attribute__((noinline)) static void *wrapped_yield(struct ref_state *s,
                                                     void *v)
{
    v = bench_ref_switch(&s->co_sp, s->main_sp, v);
    s->returns++;
    return v;
}

static void ref_body_wrapped(void *arg)
{
    struct ref_state *s = arg;
    void *v = arg;
    for (;;)
        v = wrapped_yield(s, v);
}

static int ref_setup_wrapped(void **state, const char **why)
{
    return ref_setup_with(state, ref_body_wrapped, 0, why);
}

static int ref_run_wrapped(void *state, uint64_t n)
{
    struct ref_state *s = state;
    void *v = s->value;
    for (uint64_t i = 0; i < n; i++)
        v = wrapped_resume(s, v);
    s->value = v;
    return v == s ? 0 : -EPROTO;
}

/* The context is abandoned mid-loop; it owns nothing but its stack. */
static void ref_teardown(void *state)
{
    struct ref_state *s = state;
    bench_stack_free(s->stack, SWITCH_STACK_SIZE);
    free(s);
}

/* ---- corio ------------------------------------------------------------ */

struct corio_row_state {
    corio_coro *co;
    void *value;
    unsigned clean;
};

/* Yield back whatever each resume sends, until closed. */
static int corio_body(void *arg, void **result)
{
    void *v = arg;
    for (;;) {
        int rc = corio_yield(v, &v);
        if (rc == CORIO_EEXIT)
            break;
        if (rc < 0)
            return rc;
    }
    *result = NULL;
    return 0;
}

static int corio_body_fp(void *arg, void **result)
{
    void *v = arg;
    for (;;) {
        bench_fp_dirty();
        int rc = corio_yield(v, &v);
        if (rc == CORIO_EEXIT)
            break;
        if (rc < 0)
            return rc;
    }
    *result = NULL;
    return 0;
}

static int corio_setup_with(void **state, corio_coro_fn body, unsigned flags,
                            int fp, const char **why)
{
    struct corio_row_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    if (fp) {
        int rc = bench_fp_prepare(&s->clean, why);
        if (rc) {
            free(s);
            return rc;
        }
    }
    corio_coro_opts opts = {"bench", 0, flags};
    int rc = corio_coro_new(body, s, &opts, &s->co);
    if (rc == 0) {
        rc = corio_coro_resume(s->co, NULL, &s->value);
        if (rc != CORIO_YIELDED) {
            corio_coro_free(s->co);
            rc = rc < 0 ? rc : -EPROTO;
        } else {
            rc = 0;
        }
    }
    if (rc) {
        free(s);
        return rc;
    }
    *state = s;
    return 0;
}

static int corio_setup(void **state, const char **why)
{
    return corio_setup_with(state, corio_body, 0, 0, why);
}

static int corio_setup_fp(void **state, const char **why)
{
    return corio_setup_with(state, corio_body_fp, 0, 1, why);
}

static int corio_setup_lean(void **state, const char **why)
{
    return corio_setup_with(state, corio_body, CORIO_CORO_LEAN, 0, why);
}

static int corio_run(void *state, uint64_t n)
{
    struct corio_row_state *s = state;
    void *v = s->value;
    for (uint64_t i = 0; i < n; i++) {
        int rc = corio_coro_resume(s->co, v, &v);
        if (rc != CORIO_YIELDED)
            return rc < 0 ? rc : -EPROTO;
    }
    s->value = v;
    return v == s ? 0 : -EPROTO;
}

static int corio_run_fp(void *state, uint64_t n)
{
    struct corio_row_state *s = state;
    void *v = s->value;
    for (uint64_t i = 0; i < n; i++) {
        bench_fp_set(s->clean);
        int rc = corio_coro_resume(s->co, v, &v);
        if (rc != CORIO_YIELDED)
            return rc < 0 ? rc : -EPROTO;
    }
    s->value = v;
    return v == s ? 0 : -EPROTO;
}

/* Free closes the coroutine: its yield returns CORIO_EEXIT and it ends. */
static void corio_teardown(void *state)
{
    struct corio_row_state *s = state;
    corio_coro_free(s->co);
    free(s);
}

/* ---- glibc ucontext ----------------------------------------------------- */

struct uc_state {
    ucontext_t main, co;
    void *stack;
};

/* makecontext passes only ints; the one live context comes through here. */
static struct uc_state *uc_starting;

static void uc_body(void)
{
    struct uc_state *s = uc_starting;
    for (;;)
        swapcontext(&s->co, &s->main);
}

static int uc_setup(void **state, const char **why)
{
    struct uc_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->stack = bench_stack_alloc(SWITCH_STACK_SIZE);
    if (!s->stack || getcontext(&s->co) != 0) {
        int err = s->stack ? -errno : -ENOMEM;
        bench_stack_free(s->stack, SWITCH_STACK_SIZE);
        free(s);
        return err;
    }
    s->co.uc_stack.ss_sp = s->stack;
    s->co.uc_stack.ss_size = SWITCH_STACK_SIZE;
    s->co.uc_link = NULL;
    makecontext(&s->co, uc_body, 0);
    uc_starting = s;
    if (swapcontext(&s->main, &s->co) != 0) {
        int err = -errno;
        bench_stack_free(s->stack, SWITCH_STACK_SIZE);
        free(s);
        return err;
    }
    *state = s;
    return 0;
}

static int uc_run(void *state, uint64_t n)
{
    struct uc_state *s = state;
    for (uint64_t i = 0; i < n; i++)
        if (swapcontext(&s->main, &s->co) != 0)
            return -errno;
    return 0;
}

static void uc_teardown(void *state)
{
    struct uc_state *s = state;
    bench_stack_free(s->stack, SWITCH_STACK_SIZE);
    free(s);
}

/* ---- the table ---------------------------------------------------------- */

enum { ROW_REF = 0, ROW_REF_FP = 2 };

static const bench_row rows[] = {
    [ROW_REF] = {"reference (hand-written switch)", ref_setup, ref_run,
                 ref_teardown, ROW_REF},
    {"reference behind resume()/yield() calls", ref_setup_wrapped,
     ref_run_wrapped, ref_teardown, ROW_REF},
    [ROW_REF_FP] = {"reference, FP status differs", ref_setup_fp, ref_run_fp,
                    ref_teardown, ROW_REF_FP},
    {"corio", corio_setup, corio_run, corio_teardown, ROW_REF},
    {"corio, FP status differs", corio_setup_fp, corio_run_fp,
     corio_teardown, ROW_REF_FP},
    {"corio lean (CORIO_CORO_LEAN)", corio_setup_lean, corio_run,
     corio_teardown, ROW_REF},
    {"glibc swapcontext", uc_setup, uc_run, uc_teardown, ROW_REF},
    {"Boost fcontext", bench_fctx_setup, bench_fctx_run, bench_fctx_teardown,
     ROW_REF},
    {"Boost fcontext, FP status differs", bench_fctx_setup_fp,
     bench_fctx_run_fp, bench_fctx_teardown, ROW_REF_FP},
};

static const bench_table table = {
    "Context switch: resume + yield round trip (2 switches)",
    "ns/round-trip",
    "ns/switch",
    2.0,
    rows,
    (int)(sizeof rows / sizeof rows[0]),
};

static int switch_run(const bench_opts *opts)
{
    int rc = bench_table_run(&table, opts);
    printf("\n"
           "  vs ref: against the reference running the same loop (FP rows:\n"
           "  against \"reference, FP status differs\"). spread: half the\n"
           "  range of the samples, as a share of the median.\n"
           "  \"behind resume()/yield() calls\": the same switch, each side\n"
           "  calling it through a C function that returns afterwards (the\n"
           "  shape of a resume/yield API): the return mispredicts.\n"
           "\n"
           "  Earlier figures, for context only (not measured by this run):\n"
           "    hand-written switch 3.3 ns/switch; Boost fcontext 4.05 ns\n"
           "    (62.8 ns with differing MXCSR status); glibc swapcontext\n"
           "    184 ns; Go Gosched 75 ns; Tokio Notify ping-pong 132 ns;\n"
           "    CPython coro.send() 200 ns.\n");
    return rc;
}

const bench_suite bench_suite_switch = {
    "switch",
    "context switch: resume + yield round trip vs a hand-written switch",
    switch_run,
};
