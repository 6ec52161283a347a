/*
 * bench_libuv_none.c: the libuv rows when libuv was not found at configure
 * time (install libuv1-dev): every row is n/a.
 */
#include "uvrows.h"

#include <errno.h>
#include <stdio.h>

const int bench_have_libuv = 0;

static const char missing[] = "libuv1-dev not installed";

static int none_setup(void **state, const bench_opts *opts, const char **why)
{
    (void)state;
    (void)opts;
    *why = missing;
    return BENCH_NA;
}

static int none_sample(void *state, lb_sample *figure, const char **why)
{
    (void)state;
    (void)figure;
    *why = missing;
    return BENCH_NA;
}

int bench_uv_spawn_setup(void **state, const bench_opts *opts,
                         const char **why)
{
    return none_setup(state, opts, why);
}

int bench_uv_spawn_sample(void *state, lb_sample *ns, const char **why)
{
    return none_sample(state, ns, why);
}

void bench_uv_spawn_teardown(void *state)
{
    (void)state;
}

int bench_uv_idle_pp_setup(void **state, const bench_opts *opts,
                           const char **why)
{
    return none_setup(state, opts, why);
}

int bench_uv_idle_pp_sample(void *state, lb_sample *ns, const char **why)
{
    return none_sample(state, ns, why);
}

void bench_uv_idle_pp_teardown(void *state)
{
    (void)state;
}

int bench_uv_async_pp_setup(void **state, const bench_opts *opts,
                            const char **why)
{
    return none_setup(state, opts, why);
}

int bench_uv_async_pp_sample(void *state, lb_sample *ns, const char **why)
{
    return none_sample(state, ns, why);
}

void bench_uv_async_pp_teardown(void *state)
{
    (void)state;
}

int bench_uv_timers_setup(void **state, const bench_opts *opts,
                          const char **why)
{
    return none_setup(state, opts, why);
}

int bench_uv_timers_sample(void *state, lb_sample *ns, const char **why)
{
    return none_sample(state, ns, why);
}

void bench_uv_timers_teardown(void *state)
{
    (void)state;
}

int bench_uv_sleepers_child(size_t n, double secs)
{
    (void)n;
    (void)secs;
    fprintf(stderr, "corio_bench: built without libuv\n");
    return 2;
}
