/*
 * bench_fcontext_none.c: the Boost.Context rows when the library was not
 * found at configure time: every row is n/a.
 */
#include "bench.h"
#include "switch.h"

#include <errno.h>
#include <stddef.h>

static const char missing[] = "libboost-context-dev not installed";

int bench_fctx_setup(void **state, const char **why)
{
    (void)state;
    *why = missing;
    return BENCH_NA;
}

int bench_fctx_setup_fp(void **state, const char **why)
{
    return bench_fctx_setup(state, why);
}

int bench_fctx_run(void *state, uint64_t n)
{
    (void)state;
    (void)n;
    return -ENOSYS;
}

int bench_fctx_run_fp(void *state, uint64_t n)
{
    return bench_fctx_run(state, n);
}

void bench_fctx_teardown(void *state)
{
    (void)state;
}
