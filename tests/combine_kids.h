/*
 * combine_kids.h: the kids the combinator tests (test_combine*.c) wait on:
 * tasks that sleep or wait at a gate (a plain future the test opens), then
 * succeed, fail, run a shielded cleanup or swallow their cancellation, and
 * record the order they finished in. Static state is per test file (each
 * case runs in a process of its own).
 */
#ifndef CORIO_TEST_COMBINE_KIDS_H
#define CORIO_TEST_COMBINE_KIDS_H

#include "test.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

/* ---- kids: sleep (or wait at a gate), then succeed or fail --------------------------
 *
 * Where a test needs one kid to finish before another, or not to finish
 * yet, the kid waits at a gate (a plain future) the test opens: timings
 * alone are not reliable on a loaded machine.
 */

static int finished; /* kids finished so far, for completion order */

struct kid {
    double sleep;
    corio_future *gate; /* if set: wait for it instead of sleeping */
    int fail;          /* error to return after sleeping, or 0 */
    intptr_t value;    /* result on success */
    double cleanup;    /* on cancel: shielded cleanup that suspends */
    int swallow;       /* on cancel: uncancel and succeed anyway */
    int rc;            /* what its sleep returned */
    int done;
    int order;         /* 1 for the first kid to finish, ... */
};

static inline int kid_run(void *arg, void **result)
{
    struct kid *k = arg;
    k->rc = k->gate ? corio_future_await(k->gate, NULL)
                    : corio_sleep(k->sleep);
    if (k->rc == -ECANCELED && k->cleanup > 0) {
        corio_scope *sh;
        CHECK_EQ(corio_scope_shield(&sh), 0);
        CHECK_EQ(corio_sleep(k->cleanup), 0);
        CHECK_EQ(corio_scope_close(sh, 0), 0);
    }
    if (k->rc == -ECANCELED && k->swallow) {
        corio_task_uncancel(corio_task_current());
        k->rc = 0;
    }
    k->done = 1;
    k->order = ++finished;
    if (k->rc)
        return k->rc;
    if (k->fail)
        return corio_fail(k->fail, "kid failed after %.3f s", k->sleep);
    *result = IP(k->value);
    return 0;
}

static const corio_task_opts lean_opts = {NULL, 0, CORIO_CORO_LEAN};
static int use_lean; /* spawn kids lean */

/* Spawn kids k[0..n) and fill futs with their futures. */
static inline void spawn_kids(struct kid *k, size_t n, corio_task **tasks,
                              corio_future **futs)
{
    size_t i;
    for (i = 0; i < n; i++) {
        CHECK_EQ(corio_spawn(kid_run, &k[i], use_lean ? &lean_opts : NULL,
                             &tasks[i]), 0);
        futs[i] = corio_task_future(tasks[i]);
    }
}

static inline void release_kids(corio_task **tasks, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        corio_task_release(tasks[i]);
}

static inline corio_future *new_gate(void)
{
    corio_future *g;
    CHECK_EQ(corio_future_new(NULL, &g), 0);
    return g;
}

/* Open a gate and let its kid run to its end: the kid was queued by the
 * gate before this task queues itself with sleep(0). */
static inline void open_gate(corio_future *g)
{
    CHECK_EQ(corio_future_set_result(g, NULL), 0);
    CHECK_EQ(corio_sleep(0), 0);
}

/* A task that opens gates in a given order while the test waits. */
struct opener {
    corio_future **gates;
    int order[4];
    int n;
};

static inline int opener_run(void *arg, void **result)
{
    struct opener *o = arg;
    int i;
    (void)result;
    for (i = 0; i < o->n; i++)
        open_gate(o->gates[o->order[i]]);
    return 0;
}

static inline void release_gates(corio_future **g, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        corio_future_release(g[i]);
}

/* Run fn(arg) as a task and return the task (for cancelling it). */
static inline corio_task *spawn_fn(corio_coro_fn fn, void *arg)
{
    corio_task *t;
    CHECK_EQ(corio_spawn(fn, arg, use_lean ? &lean_opts : NULL, &t), 0);
    return t;
}

#endif /* CORIO_TEST_COMBINE_KIDS_H */
