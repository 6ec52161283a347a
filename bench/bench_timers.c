/*
 * bench_timers.c: the timers suite: what a one-shot timer costs, from
 * scheduling it to its callback, with a million pending at once.
 *
 * Workload: 1,000,000 callbacks with delays uniform in [0, 1 s) (--quick:
 * 10,000 in [0, 20 ms)), drawn from splitmix64 with a fixed seed, the
 * same sequence in every row (loop_bench.py has the same generator). The
 * figure is CPU time (getrusage: user + system) per timer from the first
 * scheduling call to the last callback, not wall time, which is about the
 * spread whatever the loop does. It covers the heap inserts, the wake-ups
 * of the loop while timers come due, and the callbacks.
 *
 * Rows: corio_loop_call_later on a loop kept across samples (its timer
 * heap stays grown, as in a long-lived program); libuv uv_timer_t
 * (uv_timer_init + uv_timer_start; delays in whole milliseconds, as libuv
 * takes them); asyncio loop.call_later.
 */
#include "loopbench.h"
#include "suites.h"
#include "uvrows.h"

#include <corio/loop.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Each sample lasts the spread (1 s) at least: fewer of them. */
#define TIMER_SAMPLES 3

struct timers_state {
    corio_loop *loop;
    double *delay;
    size_t n, fired;
};

static void timer_cb(void *arg)
{
    struct timers_state *s = arg;
    if (++s->fired == s->n)
        corio_loop_stop(s->loop);
}

static int timers_setup(void **state, const bench_opts *opts,
                        const char **why)
{
    struct timers_state *s = calloc(1, sizeof *s);
    uint64_t seed = LB_TIMER_SEED;
    int rc;
    (void)why;
    if (!s)
        return -ENOMEM;
    s->n = LB_TIMERS(opts->quick);
    s->delay = malloc(s->n * sizeof *s->delay);
    if (!s->delay) {
        free(s);
        return -ENOMEM;
    }
    if ((rc = corio_loop_new(NULL, &s->loop)) != 0) {
        free(s->delay);
        free(s);
        return rc;
    }
    for (size_t i = 0; i < s->n; i++)
        s->delay[i] = lb_uniform(&seed) * LB_TIMER_SPREAD_SEC(opts->quick);
    *state = s;
    return 0;
}

static int timers_sample(void *state, lb_sample *cpu_ns_per_timer,
                         const char **why)
{
    struct timers_state *s = state;
    uint64_t c0, c1;
    int rc = 0;
    (void)why;
    s->fired = 0;
    c0 = lb_cpu_ns();
    for (size_t i = 0; i < s->n && rc == 0; i++)
        rc = corio_loop_call_later(s->loop, s->delay[i], timer_cb, s, NULL);
    if (rc == 0)
        rc = corio_loop_run(s->loop);
    c1 = lb_cpu_ns();
    cpu_ns_per_timer->value = (double)(c1 - c0) / (double)s->n;
    return rc ? rc : s->fired == s->n ? 0 : -EPROTO;
}

static void timers_teardown(void *state)
{
    struct timers_state *s = state;
    corio_loop_free(s->loop);
    free(s->delay);
    free(s);
}

/* ---- asyncio ----------------------------------------------------------- */

static int py_setup(void **state, const bench_opts *opts, const char **why)
{
    *state = (void *)opts; /* outlives the table */
    return lb_python_setup(why);
}

static int py_sample(void *state, lb_sample *cpu_ns_per_timer,
                     const char **why)
{
    const bench_opts *opts = state;
    char out[512], n[32], spread[32], seed[32];
    snprintf(n, sizeof n, "%d", LB_TIMERS(opts->quick));
    snprintf(spread, sizeof spread, "%g", LB_TIMER_SPREAD_SEC(opts->quick));
    snprintf(seed, sizeof seed, "%u", LB_TIMER_SEED);
    const char *args[] = {"timers", n, spread, seed, NULL};
    int rc = lb_python_run(args, 300, out, sizeof out, why);
    if (rc)
        return rc;
    return lb_field(out, "cpu_ns_per_timer", &cpu_ns_per_timer->value)
               ? -EPROTO
               : 0;
}

/* ---- the table --------------------------------------------------------- */

enum { ROW_CORIO, ROW_UV, ROW_PY, NROWS };

static const lb_row rows[NROWS] = {
    [ROW_CORIO] = {"corio (corio_loop_call_later)", timers_setup,
                   timers_sample, timers_teardown, TIMER_SAMPLES, NULL},
    [ROW_UV] = {"libuv (uv_timer_t)", bench_uv_timers_setup,
                bench_uv_timers_sample, bench_uv_timers_teardown,
                TIMER_SAMPLES, NULL},
    [ROW_PY] = {"Python asyncio (loop.call_later)", py_setup, py_sample, NULL,
                1, NULL},
};

static int timers_run(const bench_opts *opts)
{
    char title[128];
    lb_result res[NROWS];
    snprintf(title, sizeof title,
             "Timers: %s one-shot timers, random delays in [0, %g s), CPU "
             "time",
             lb_commas(LB_TIMERS(opts->quick)),
             LB_TIMER_SPREAD_SEC(opts->quick));
    lb_table table = {title, "CPU ns/timer", 1, rows, NROWS,
                      {{"vs libuv", ROW_UV}, {"vs asyncio", ROW_PY}}, NULL};
    int rc = lb_table_run(&table, opts, &res[0]);
    printf("\n"
           "  CPU time (getrusage user + system) from the first scheduling "
           "call to the\n"
           "  last callback, per timer; all rows get the same delays "
           "(splitmix64,\n"
           "  seed %u); libuv rounds them down to whole milliseconds. "
           "Samples: %d\n"
           "  (each takes the spread in wall time); asyncio: one.\n"
           "\n"
           "  Earlier figures, for context only (not measured by this run):\n"
           "    libuv 2,243 ns/timer; Tokio 2,777 ns.\n",
           LB_TIMER_SEED, TIMER_SAMPLES);
    if (!opts->quick && res[ROW_CORIO].ok && res[ROW_UV].ok)
        printf("  target: corio below libuv: %.1f vs %.1f CPU ns/timer "
               "(%s)\n",
               res[ROW_CORIO].median, res[ROW_UV].median,
               res[ROW_CORIO].median < res[ROW_UV].median ? "met" : "MISSED");
    return rc;
}

const bench_suite bench_suite_timers = {
    "timers",
    "1,000,000 one-shot timers: CPU time per timer vs libuv and asyncio",
    timers_run,
};
