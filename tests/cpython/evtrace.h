/*
 * evtrace.h: the C half of corio's CPython comparison suite.
 *
 * Each scenario in scenarios/ exists twice, NAME.py (asyncio) and NAME.c
 * (corio), and both print the same event trace through this header and its
 * Python twin evtrace.py. A line is
 *
 *     [  3] worker: cancelled
 *
 * that is, ticks since the run began, who, and what happened. A tick is
 * 10 ms of the loop's clock, rounded down: a sleep of 20 ms shows as tick
 * 2. Each run is on the loop's virtual clock (corio_diag_virtual_clock),
 * as the asyncio half is on evtrace.py's, so ticks do not depend on the
 * machine's load; trace_use_real_time() (or CORIO_TRACE_REAL_TIME=1) keeps
 * the real clock. Lines without a tick ("== case 2", "run: ok") are
 * section headers and outcomes.
 *
 * Errors print as errno names (corio_errname): the Python side maps
 * CancelledError to ECANCELED, TimeoutError to ETIMEDOUT and its
 * Fail("EIO", msg) to EIO.
 *
 * Header-only: every scenario is one C file that includes this.
 */
#ifndef CORIO_EVTRACE_H
#define CORIO_EVTRACE_H

#include <corio.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TRACE_TICK 0.010 /* seconds */

static double trace_t0;
static int trace_real_time; /* trace_use_real_time() */

/* For a scenario about real time passing while the loop is blocked: its
 * runs use the real clock, not the virtual one (as evtrace.py's). */
static void trace_use_real_time(void) __attribute__((unused));
static void trace_use_real_time(void)
{
    trace_real_time = 1;
}

/* Inside a run, the loop's virtual clock (trace_wrapper turns it on, as
 * evtrace.py's run does on the asyncio side): time stands still while
 * anything is ready and jumps to the next deadline when everything waits,
 * so the trace is the same on a loaded machine. Outside a run, the
 * monotonic clock. */
static double trace_clock(void)
{
    struct timespec ts;
    if (corio_loop_current())
        return corio_loop_time(NULL);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whole ticks since the current run began. */
static int ticks(void)
{
    return (int)((trace_clock() - trace_t0) / TRACE_TICK);
}

/* Print one timed event: ev("worker", "slept %d", n). */
static void ev(const char *who, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), unused));
static void ev(const char *who, const char *fmt, ...)
{
    va_list ap;
    printf("[%3d] %s: ", ticks(), who);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* Print an untimed line (a section header). */
static void note(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), unused));
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* Print an untimed header "== title" and restart the clock, so that the
 * cases of one scenario keep their own ticks. */
static void section(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), unused));
static void section(const char *fmt, ...)
{
    va_list ap;
    printf("== ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    trace_t0 = trace_clock();
}

/* The errno name of a negative error ("ECANCELED"). */
static const char *errname(int rc) __attribute__((unused));
static const char *errname(int rc)
{
    return corio_errname(rc);
}

/* The running task's cancelling() count. */
static int cancelling(void) __attribute__((unused));
static int cancelling(void)
{
    return corio_task_cancelling(corio_task_current());
}

/* Print a group's kept failures, as evtrace.py's group_errors prints an
 * ExceptionGroup. */
static void group_errors(const char *who, const corio_group *g)
    __attribute__((unused));
static void group_errors(const char *who, const corio_group *g)
{
    size_t i, n = corio_group_error_count(g);
    ev(who, "group failed: %zu error(s)", n);
    for (i = 0; i < n; i++) {
        const corio_group_error_info *e = corio_group_error(g, i);
        if (e->message && e->message[0])
            ev(who, "  error[%zu] %s %s", i, errname(e->code), e->message);
        else
            ev(who, "  error[%zu] %s", i, errname(e->code));
    }
}

struct trace_main {
    corio_coro_fn fn;
    void *arg;
};

static int trace_wrapper(void *arg, void **result)
{
    struct trace_main *m = arg;
    if (!trace_real_time && !getenv("CORIO_TRACE_REAL_TIME"))
        corio_diag_virtual_clock(corio_loop_current(), 1);
    trace_t0 = trace_clock();
    return m->fn(m->arg, result);
}

/* corio_run(fn, arg) with the clock restarted; print its outcome as
 * evtrace.py's run() does ("run: ok", "run: ok 7", "run: error EIO").
 * Returns corio_run's outcome. */
static int trace_run(corio_coro_fn fn, void *arg) __attribute__((unused));
static int trace_run(corio_coro_fn fn, void *arg)
{
    struct trace_main m = {fn, arg};
    void *res = NULL;
    int rc;
    rc = corio_run(trace_wrapper, &m, &res);
    if (rc != 0)
        note("run: error %s", errname(rc));
    else if (res)
        note("run: ok %ld", (long)(intptr_t)res);
    else
        note("run: ok");
    return rc;
}

/* Python's spelling of a truth value, for flags printed in traces. */
#define TF(x) ((x) ? "True" : "False")

/* Small integers as task results, as in Python. */
#define INT2PTR(n) ((void *)(intptr_t)(n))
#define PTR2INT(p) ((int)(intptr_t)(p))

#endif /* CORIO_EVTRACE_H */
