/*
 * test_combine.c: gather, wait, as_completed, wait_for and shield: results
 * and their order, early errors, COLLECT, cancellation in each direction,
 * timeouts, asyncio's counters, lean tasks, misuse, and what is left
 * running (or not) when each call returns.
 */
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef int (*body_fn)(void);

static int run_body(void *arg, void **result)
{
    body_fn fn = (body_fn)(uintptr_t)arg;
    (void)result;
    return fn();
}

static int run(body_fn fn)
{
    return corio_run(run_body, (void *)(uintptr_t)fn, NULL);
}

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

static int kid_run(void *arg, void **result)
{
    struct kid *k = arg;
    k->rc = k->gate ? corio_future_await(k->gate, NULL)
                    : corio_sleep(k->sleep);
    if (k->rc == -ECANCELED && k->cleanup > 0) {
        corio_scope *sh;
        CHECK_EQ(corio_shield(&sh), 0);
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
static void spawn_kids(struct kid *k, size_t n, corio_task **tasks,
                       corio_future **futs)
{
    size_t i;
    for (i = 0; i < n; i++) {
        CHECK_EQ(corio_spawn(kid_run, &k[i], use_lean ? &lean_opts : NULL,
                             &tasks[i]), 0);
        futs[i] = corio_task_future(tasks[i]);
    }
}

static void release_kids(corio_task **tasks, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        corio_task_release(tasks[i]);
}

static corio_future *new_gate(void)
{
    corio_future *g;
    CHECK_EQ(corio_future_new(NULL, &g), 0);
    return g;
}

/* Open a gate and let its kid run to its end: the kid was queued by the
 * gate before this task queues itself with sleep(0). */
static void open_gate(corio_future *g)
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

static int opener_run(void *arg, void **result)
{
    struct opener *o = arg;
    int i;
    (void)result;
    for (i = 0; i < o->n; i++)
        open_gate(o->gates[o->order[i]]);
    return 0;
}

static void release_gates(corio_future **g, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        corio_future_release(g[i]);
}

/* Run fn(arg) as a task and return the task (for cancelling it). */
static corio_task *spawn_fn(corio_coro_fn fn, void *arg)
{
    corio_task *t;
    CHECK_EQ(corio_spawn(fn, arg, use_lean ? &lean_opts : NULL, &t), 0);
    return t;
}

/* ---- gather ------------------------------------------------------------------------ */

static int gather_in_order(void)
{
    corio_future *g[3] = {new_gate(), new_gate(), new_gate()};
    struct kid k[3] = {{.gate = g[0], .value = 1},
                       {.gate = g[1], .value = 2},
                       {.gate = g[2], .value = 3}};
    struct opener op = {g, {1, 2, 0}, 3};
    corio_task *t[3], *ot;
    corio_future *f[3];
    void *res[3] = {0};
    spawn_kids(k, 3, t, f);
    ot = spawn_fn(opener_run, &op);
    CHECK_EQ(corio_gather(f, 3, 0, res, NULL), 0);
    CHECK_EQ(PI(res[0]), 1);
    CHECK_EQ(PI(res[1]), 2);
    CHECK_EQ(PI(res[2]), 3);
    CHECK_EQ(k[1].order, 1); /* completed in another order */
    CHECK_EQ(k[2].order, 2);
    CHECK_EQ(k[0].order, 3);
    CHECK_EQ(corio_gather(f, 3, 0, NULL, NULL), 0); /* results optional */
    CHECK_EQ(corio_task_join(ot, NULL), 0);
    corio_task_release(ot);
    release_kids(t, 3);
    release_gates(g, 3);
    return 0;
}

TEST(combine_gather_results_in_order)
{
    CHECK_EQ(run(gather_in_order), 0);
}

static int gather_first_error(void)
{
    corio_future *g[2] = {new_gate(), new_gate()};
    struct kid k[3] = {{.gate = g[0], .value = 1},
                       {.sleep = 0.01, .fail = -EIO},
                       {.gate = g[1], .fail = -EPIPE}};
    corio_task *t[3];
    corio_future *f[3];
    void *res[3] = {IP(7), IP(7), IP(7)};
    size_t nd = 0;
    spawn_kids(k, 3, t, f);
    CHECK_EQ(corio_gather(f, 3, 0, res, NULL), -EIO);
    CHECK_EQ(k[1].done, 1);
    CHECK_EQ(k[0].done, 0);         /* the others keep running */
    CHECK_EQ(k[2].done, 0);
    CHECK_EQ(PI(res[0]), 7);        /* results untouched */
    CHECK_EQ(PI(res[1]), 7);
    open_gate(g[1]);
    CHECK_EQ(corio_wait(&f[2], 1, CORIO_WAIT_ALL_COMPLETED, 5, &nd), 0);
    CHECK_EQ(nd, 1);
    CHECK_EQ(k[2].done, 1);         /* failed later, quietly */
    open_gate(g[0]);
    CHECK_EQ(corio_task_join(t[0], NULL), 0);
    CHECK_EQ(k[0].rc, 0);           /* never cancelled */
    release_kids(t, 3);             /* no "never retrieved" report */
    release_gates(g, 2);
    return 0;
}

TEST(combine_gather_first_error_returns_early)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(gather_first_error), 0);
    err = corio_test_stderr_end();
    CHECK(strstr(err, "retrieved") == NULL);
    free(err);
}

/* gather returns early, and the caller (main) returns while the other
 * kids still run: corio_run's shutdown cancels them; nothing leaks. */
static int gather_early_then_leave(void)
{
    static struct kid k[3] = {{.sleep = 10}, {.sleep = 0.01, .fail = -EIO},
                              {.sleep = 10}};
    corio_task *t[3];
    corio_future *f[3];
    spawn_kids(k, 3, t, f);
    CHECK_EQ(corio_gather(f, 3, 0, NULL, NULL), -EIO);
    release_kids(t, 3);
    return 0;
}

TEST(combine_gather_early_error_then_shutdown)
{
    CHECK_EQ(run(gather_early_then_leave), 0);
}

static int set_later(void *arg, void **result)
{
    corio_future *f = arg;
    (void)result;
    CHECK_EQ(corio_sleep(0.02), 0);
    CHECK_EQ(corio_future_set_result(f, IP(99)), 0);
    return 0;
}

static int gather_collect(void)
{
    struct kid k[3] = {{.sleep = 0.01, .value = 5},
                       {.sleep = 0.02, .fail = -EIO},
                       {.sleep = 10}};
    corio_task *t[3], *setter;
    corio_future *f[4];
    void *res[4];
    int errs[4];
    spawn_kids(k, 3, t, f);
    CHECK_EQ(corio_future_new(NULL, &f[3]), 0); /* a plain future too */
    CHECK_EQ(corio_spawn(set_later, f[3], NULL, &setter), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_task_cancel(t[2]), 0); /* a cancelled child */
    CHECK_EQ(corio_gather(f, 4, CORIO_GATHER_COLLECT, res, errs), 0);
    CHECK_EQ(errs[0], 0);
    CHECK_EQ(PI(res[0]), 5);
    CHECK_EQ(errs[1], -EIO);
    CHECK_PTR(res[1], NULL);
    CHECK_EQ(errs[2], -ECANCELED);
    CHECK_PTR(res[2], NULL);
    CHECK_EQ(errs[3], 0);
    CHECK_EQ(PI(res[3]), 99);
    CHECK_EQ(k[0].done + k[1].done + k[2].done, 3); /* waited for all */
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK_EQ(corio_task_join(setter, NULL), 0);
    corio_task_release(setter);
    corio_future_release(f[3]);
    release_kids(t, 3);
    return 0;
}

TEST(combine_gather_collect_mixed)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(gather_collect), 0);
    err = corio_test_stderr_end();
    CHECK(strstr(err, "retrieved") == NULL); /* COLLECT read them all */
    free(err);
}

/* Without COLLECT, a child that is cancelled is an error of gather's, not
 * a cancellation of the caller (asyncio). */
static int gather_child_cancelled(void)
{
    corio_future *g = new_gate();
    struct kid k[2] = {{.sleep = 10}, {.gate = g, .value = 1}};
    corio_task *t[2];
    corio_future *f[2];
    spawn_kids(k, 2, t, f);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_task_cancel(t[0]), 0);
    CHECK_EQ(corio_gather(f, 2, 0, NULL, NULL), -ECANCELED);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK_EQ(k[1].done, 0); /* still running */
    CHECK_EQ(corio_sleep(0.001), 0); /* the caller is fine */
    open_gate(g);
    CHECK_EQ(corio_task_join(t[1], NULL), 0);
    release_kids(t, 2);
    corio_future_release(g);
    return 0;
}

TEST(combine_gather_child_cancelled_is_an_error)
{
    CHECK_EQ(run(gather_child_cancelled), 0);
}

struct gatherer {
    struct kid k[3];
    corio_task *t[3];
    unsigned flags;
    int rc;
    int all_done_at_return;
};

static int gatherer_run(void *arg, void **result)
{
    struct gatherer *g = arg;
    corio_future *f[3];
    void *res[3];
    int errs[3];
    (void)result;
    spawn_kids(g->k, 3, g->t, f);
    g->rc = corio_gather(f, 3, g->flags, res, errs);
    g->all_done_at_return = g->k[0].done && g->k[1].done && g->k[2].done;
    return g->rc;
}

static int gather_cancelled(void)
{
    unsigned flags[2] = {0, CORIO_GATHER_COLLECT};
    int i, j;
    for (i = 0; i < 2; i++) {
        /* One kid needs 20 ms of (shielded) cleanup: gather waits. */
        struct gatherer g = {{{.sleep = 10}, {.sleep = 10, .cleanup = 0.02},
                              {.sleep = 10}},
                             {NULL},
                             flags[i],
                             1,
                             0};
        corio_task *gt = spawn_fn(gatherer_run, &g);
        CHECK_EQ(corio_sleep(0.005), 0);
        CHECK_EQ(corio_task_cancel(gt), 0);
        CHECK_EQ(corio_sleep(0.005), 0);
        CHECK_EQ(corio_task_cancel(gt), 0); /* again, during the cleanup */
        CHECK_EQ(corio_task_join(gt, NULL), -ECANCELED);
        CHECK_EQ(g.rc, -ECANCELED);
        CHECK_EQ(g.all_done_at_return, 1);
        for (j = 0; j < 3; j++) {
            CHECK_EQ(g.k[j].rc, -ECANCELED);
            CHECK(corio_task_cancelled(g.t[j]));
        }
        release_kids(g.t, 3);
        corio_task_release(gt);
    }
    return 0;
}

TEST(combine_gather_cancel_cancels_children)
{
    CHECK_EQ(run(gather_cancelled), 0);
}

/* Inside asyncio.timeout: the deadline cancels the gather, which cancels
 * and waits for the kids; the scope turns it into -ETIMEDOUT. */
static int gather_in_timeout(void)
{
    struct kid k[2] = {{.sleep = 10}, {.sleep = 10, .cleanup = 0.01}};
    corio_task *t[2];
    corio_future *f[2];
    corio_scope *sc;
    int rc;
    spawn_kids(k, 2, t, f);
    CHECK_EQ(corio_timeout(0.02, &sc), 0);
    rc = corio_gather(f, 2, 0, NULL, NULL);
    CHECK_EQ(rc, -ECANCELED);
    CHECK_EQ(corio_scope_close(sc, rc), -ETIMEDOUT);
    CHECK(corio_task_cancelled(t[0]) && corio_task_cancelled(t[1]));
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    release_kids(t, 2);
    return 0;
}

TEST(combine_gather_inside_timeout)
{
    CHECK_EQ(run(gather_in_timeout), 0);
}

/* Already cancelled when it would wait: the pending futures are cancelled
 * too (asyncio's must_cancel cancels the gather future). */
static int gather_cancelled_before(void)
{
    corio_future *f[2];
    CHECK_EQ(corio_future_new(NULL, &f[0]), 0);
    CHECK_EQ(corio_future_new(NULL, &f[1]), 0);
    CHECK_EQ(corio_future_set_result(f[0], IP(1)), 0);
    CHECK_EQ(corio_task_cancel(corio_task_current()), 0);
    CHECK_EQ(corio_gather(f, 2, 0, NULL, NULL), -ECANCELED);
    CHECK(corio_future_cancelled(f[1]));
    CHECK(!corio_future_cancelled(f[0]));
    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    corio_future_release(f[0]);
    corio_future_release(f[1]);
    return 0;
}

TEST(combine_gather_cancelled_before_waiting)
{
    CHECK_EQ(run(gather_cancelled_before), 0);
}

static int gather_no_wait(void)
{
    corio_future *f[3];
    void *res[3];
    int errs[3], i;
    for (i = 0; i < 3; i++)
        CHECK_EQ(corio_future_new(NULL, &f[i]), 0);
    CHECK_EQ(corio_future_set_result(f[0], IP(1)), 0);
    CHECK_EQ(corio_future_set_error(f[1], -ENOENT), 0);
    CHECK_EQ(corio_future_set_result(f[2], IP(3)), 0);
    /* Everything done: answered without suspending, even if cancelled
     * (as corio_future_await on a done future). */
    CHECK_EQ(corio_task_cancel(corio_task_current()), 0);
    CHECK_EQ(corio_gather(f, 3, 0, res, NULL), -ENOENT);
    CHECK_EQ(corio_gather(f, 3, CORIO_GATHER_COLLECT, res, errs), 0);
    CHECK_EQ(PI(res[0]), 1);
    CHECK_PTR(res[1], NULL);
    CHECK_EQ(errs[1], -ENOENT);
    CHECK_EQ(PI(res[2]), 3);
    CHECK_EQ(corio_gather(f, 1, 0, res, NULL), 0);
    CHECK_EQ(corio_gather(NULL, 0, 0, NULL, NULL), 0); /* gather() */
    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    for (i = 0; i < 3; i++)
        corio_future_release(f[i]);
    return 0;
}

TEST(combine_gather_done_futures_need_no_wait)
{
    CHECK_EQ(run(gather_no_wait), 0);
}

/* The same future twice, and a future failing with the others already
 * done: each entry is reported. */
static int gather_dup(void)
{
    struct kid k = {.sleep = 0.01, .value = 4};
    corio_task *t;
    corio_future *f[3];
    void *res[3];
    spawn_kids(&k, 1, &t, f);
    f[1] = f[0];
    f[2] = f[0];
    CHECK_EQ(corio_gather(f, 3, 0, res, NULL), 0);
    CHECK_EQ(PI(res[0]) + PI(res[1]) + PI(res[2]), 12);
    corio_task_release(t);
    return 0;
}

TEST(combine_gather_duplicates)
{
    CHECK_EQ(run(gather_dup), 0);
}

static int gather_misuse(void)
{
    corio_loop *other;
    corio_future *f[2], *foreign;
    int errs[2];
    CHECK_EQ(corio_future_new(NULL, &f[0]), 0);
    f[1] = NULL;
    CHECK_EQ(corio_gather(NULL, 1, 0, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_gather(f, 2, 0, NULL, NULL), -EINVAL);   /* NULL entry */
    CHECK_EQ(corio_gather(f, 1, 0x10, NULL, NULL), -EINVAL); /* flags */
    CHECK_EQ(corio_gather(f, 1, CORIO_GATHER_COLLECT, NULL, NULL), -EINVAL);
    f[1] = corio_task_future(corio_task_current());
    CHECK_EQ(corio_gather(f, 2, 0, NULL, errs), -EDEADLK);
    CHECK_EQ(corio_loop_new(NULL, &other), 0);
    CHECK_EQ(corio_future_new(other, &foreign), 0);
    f[1] = foreign;
    CHECK_EQ(corio_gather(f, 2, 0, NULL, NULL), -EINVAL);   /* other loop */
    CHECK(!corio_future_done(f[0])); /* nothing happened to it */
    corio_future_release(foreign);
    CHECK_EQ(corio_loop_free(other), 0);
    corio_future_release(f[0]);
    return 0;
}

TEST(combine_gather_misuse)
{
    CHECK_EQ(run(gather_misuse), 0);
}

/* ---- wait ---------------------------------------------------------------------- */

static int wait_modes(void)
{
    corio_future *g[2] = {new_gate(), new_gate()};
    struct kid k[3] = {{.gate = g[0], .value = 1},
                       {.sleep = 0.01, .value = 2},
                       {.gate = g[1], .fail = -EIO}};
    struct opener op1 = {g, {1}, 1}, op2 = {g, {0}, 1};
    corio_task *t[3], *o1, *o2;
    corio_future *f[3];
    size_t nd = 99;
    spawn_kids(k, 3, t, f);
    CHECK_EQ(corio_wait(f, 3, CORIO_WAIT_FIRST_COMPLETED, INFINITY, &nd), 0);
    CHECK_EQ(nd, 1);
    CHECK(corio_future_done(f[1]) && !corio_future_done(f[2]));
    o1 = spawn_fn(opener_run, &op1); /* f[2] fails while we wait */
    CHECK_EQ(corio_wait(f, 3, CORIO_WAIT_FIRST_EXCEPTION, INFINITY, &nd), 0);
    CHECK_EQ(nd, 2);
    CHECK(corio_future_done(f[2]) && !corio_future_done(f[0]));
    o2 = spawn_fn(opener_run, &op2);
    CHECK_EQ(corio_wait(f, 3, CORIO_WAIT_ALL_COMPLETED, INFINITY, &nd), 0);
    CHECK_EQ(nd, 3);
    CHECK_EQ(corio_task_join(o1, NULL), 0);
    CHECK_EQ(corio_task_join(o2, NULL), 0);
    corio_task_release(o1);
    corio_task_release(o2);
    release_gates(g, 2);
    /* Outcomes were not read: reading is the caller's business. */
    CHECK_EQ(corio_future_result(f[2], NULL), -EIO);
    /* Condition already true: no suspension, ndone optional. */
    CHECK_EQ(corio_wait(f, 3, CORIO_WAIT_ALL_COMPLETED, INFINITY, NULL), 0);
    release_kids(t, 3);
    return 0;
}

TEST(combine_wait_modes)
{
    CHECK_EQ(run(wait_modes), 0);
}

/* FIRST_EXCEPTION ignores cancelled futures and ends with all done when
 * nothing fails. */
static int wait_first_exception(void)
{
    struct kid k[2] = {{.sleep = 10}, {.sleep = 0.02, .value = 1}};
    corio_task *t[2];
    corio_future *f[2];
    size_t nd = 0;
    spawn_kids(k, 2, t, f);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_task_cancel(t[0]), 0);
    CHECK_EQ(corio_wait(f, 2, CORIO_WAIT_FIRST_EXCEPTION, INFINITY, &nd), 0);
    CHECK_EQ(nd, 2);
    CHECK(corio_task_cancelled(t[0]));
    CHECK_EQ(k[1].done, 1);
    release_kids(t, 2);
    return 0;
}

TEST(combine_wait_first_exception_ignores_cancelled)
{
    CHECK_EQ(run(wait_first_exception), 0);
}

static int wait_timeout(void)
{
    corio_future *g = new_gate();
    struct kid k[2] = {{.gate = g, .value = 1}, {.sleep = 10}};
    corio_task *t[2];
    corio_future *f[2];
    size_t nd = 99;
    double t0;
    int mode;
    spawn_kids(k, 2, t, f);
    open_gate(g);
    corio_future_release(g);
    for (mode = CORIO_WAIT_FIRST_EXCEPTION; mode <= CORIO_WAIT_ALL_COMPLETED;
         mode++) {
        t0 = now_s();
        CHECK_EQ(corio_wait(f, 2, mode, 0.05, &nd), 0); /* not an error */
        CHECK(now_s() - t0 >= 0.05);
        CHECK_EQ(nd, 1);
        CHECK(corio_future_done(f[0]) && !corio_future_done(f[1]));
    }
    CHECK_EQ(k[1].done, 0); /* not cancelled */
    nd = 99;
    CHECK_EQ(corio_wait(f, 2, CORIO_WAIT_ALL_COMPLETED, 0, &nd), 0);
    CHECK_EQ(nd, 1); /* timeout 0: a look, no wait */
    CHECK_EQ(corio_wait(f, 2, CORIO_WAIT_ALL_COMPLETED, -1, &nd), 0);
    CHECK_EQ(corio_task_cancel(t[1]), 0);
    CHECK_EQ(corio_wait(f + 1, 1, CORIO_WAIT_ALL_COMPLETED, 5, &nd), 0);
    CHECK_EQ(nd, 1);
    release_kids(t, 2);
    return 0;
}

TEST(combine_wait_timeout)
{
    CHECK_EQ(run(wait_timeout), 0);
}

struct waiter {
    corio_future *f[2];
    int mode;
    double timeout;
    size_t nd;
    int rc;
};

static int waiter_run(void *arg, void **result)
{
    struct waiter *w = arg;
    (void)result;
    w->rc = corio_wait(w->f, 2, w->mode, w->timeout, &w->nd);
    return w->rc;
}

static int wait_cancelled(void)
{
    struct kid k[2];
    corio_task *t[2];
    int mode;
    for (mode = CORIO_WAIT_FIRST_COMPLETED; mode <= CORIO_WAIT_ALL_COMPLETED;
         mode++) {
        struct waiter w = {{NULL}, mode, mode == 1 ? 10.0 : INFINITY, 99, 1};
        corio_future *g[2] = {new_gate(), new_gate()};
        corio_task *wt;
        memset(k, 0, sizeof k);
        k[0].gate = g[0];
        k[1].gate = g[1];
        spawn_kids(k, 2, t, w.f);
        wt = spawn_fn(waiter_run, &w);
        CHECK_EQ(corio_sleep(0.005), 0);
        CHECK_EQ(corio_task_cancel(wt), 0);
        CHECK_EQ(corio_task_join(wt, NULL), -ECANCELED);
        CHECK_EQ(w.rc, -ECANCELED);
        CHECK_EQ(w.nd, 99);                     /* untouched */
        CHECK(!corio_future_done(w.f[0]));      /* futures not cancelled */
        CHECK(!corio_future_done(w.f[1]));
        open_gate(g[0]);
        open_gate(g[1]);
        release_gates(g, 2);
        CHECK_EQ(corio_task_join(t[0], NULL), 0);
        CHECK_EQ(corio_task_join(t[1], NULL), 0);
        CHECK_EQ(k[0].rc, 0);
        release_kids(t, 2);
        corio_task_release(wt);
    }
    return 0;
}

TEST(combine_wait_cancelled)
{
    CHECK_EQ(run(wait_cancelled), 0);
}

static int wait_misuse(void)
{
    corio_future *f[2];
    size_t nd = 7;
    CHECK_EQ(corio_future_new(NULL, &f[0]), 0);
    f[1] = NULL;
    CHECK_EQ(corio_wait(f, 0, CORIO_WAIT_ALL_COMPLETED, 1, &nd), -EINVAL);
    CHECK_EQ(corio_wait(NULL, 1, CORIO_WAIT_ALL_COMPLETED, 1, &nd), -EINVAL);
    CHECK_EQ(corio_wait(f, 2, CORIO_WAIT_ALL_COMPLETED, 1, &nd), -EINVAL);
    CHECK_EQ(corio_wait(f, 1, 3, 1, &nd), -EINVAL);
    CHECK_EQ(corio_wait(f, 1, -1, 1, &nd), -EINVAL);
    CHECK_EQ(corio_wait(f, 1, CORIO_WAIT_ALL_COMPLETED, NAN, &nd), -EINVAL);
    f[1] = corio_task_future(corio_task_current());
    CHECK_EQ(corio_wait(f, 2, CORIO_WAIT_FIRST_COMPLETED, 1, &nd), -EDEADLK);
    CHECK_EQ(nd, 7);
    corio_future_release(f[0]);
    return 0;
}

TEST(combine_wait_misuse)
{
    CHECK_EQ(run(wait_misuse), 0);
}

/* ---- as_completed -------------------------------------------------------------------- */

static int as_completed_order(void)
{
    corio_future *g[3] = {new_gate(), new_gate(), new_gate()};
    struct kid k[3] = {{.gate = g[0], .value = 1},
                       {.gate = g[1], .value = 2},
                       {.gate = g[2], .fail = -EIO}};
    struct opener op = {g, {1, 2, 0}, 3};
    corio_task *t[3], *ot;
    corio_future *f[4], *got = NULL;
    corio_as_completed *it;
    void *r;
    spawn_kids(k, 3, t, f);
    CHECK_EQ(corio_future_new(NULL, &f[3]), 0);
    CHECK_EQ(corio_future_set_result(f[3], IP(0)), 0); /* done already */
    CHECK_EQ(corio_as_completed_new(f, 4, INFINITY, &it), 0);
    ot = spawn_fn(opener_run, &op);
    CHECK_EQ(corio_as_completed_next(it, &got), 0);
    CHECK_PTR(got, f[3]); /* done ones first */
    CHECK_EQ(corio_as_completed_next(it, &got), 0);
    CHECK_PTR(got, f[1]);
    CHECK_EQ(corio_future_result(got, &r), 0);
    CHECK_EQ(PI(r), 2);
    CHECK_EQ(corio_as_completed_next(it, &got), 0);
    CHECK_PTR(got, f[2]);
    CHECK_EQ(corio_future_result(got, NULL), -EIO);
    CHECK_EQ(corio_as_completed_next(it, &got), 0);
    CHECK_PTR(got, f[0]);
    got = NULL;
    CHECK_EQ(corio_as_completed_next(it, &got), 1); /* exhausted */
    CHECK_EQ(corio_as_completed_next(it, &got), 1);
    CHECK_PTR(got, NULL);
    corio_as_completed_free(it);
    corio_future_release(f[3]);
    CHECK_EQ(corio_task_join(ot, NULL), 0);
    corio_task_release(ot);
    release_kids(t, 3);
    release_gates(g, 3);
    /* Nothing to take: exhausted at once. */
    CHECK_EQ(corio_as_completed_new(NULL, 0, 1, &it), 0);
    CHECK_EQ(corio_as_completed_next(it, &got), 1);
    corio_as_completed_free(it);
    return 0;
}

TEST(combine_as_completed_order)
{
    CHECK_EQ(run(as_completed_order), 0);
}

static int as_completed_timeout(void)
{
    corio_future *g[2] = {new_gate(), new_gate()};
    struct kid k[3] = {{.sleep = 10},
                       {.gate = g[0], .value = 2},
                       {.gate = g[1], .value = 3}};
    corio_task *t[3];
    corio_future *f[3], *got = NULL;
    corio_as_completed *it;
    double t0 = now_s();
    spawn_kids(k, 3, t, f);
    /* What completes after the timeout is not handed out: the timeout is
     * long enough for the gates below to beat it on a loaded machine. */
    CHECK_EQ(corio_as_completed_new(f, 3, 0.2, &it), 0);
    open_gate(g[0]); /* two done before the timeout */
    open_gate(g[1]);
    release_gates(g, 2);
    CHECK_EQ(corio_sleep(0.25), 0); /* and then it passes */
    CHECK_EQ(corio_as_completed_next(it, &got), 0);
    CHECK_PTR(got, f[1]);
    CHECK_EQ(corio_as_completed_next(it, &got), 0);
    CHECK_PTR(got, f[2]);
    got = NULL;
    CHECK_EQ(corio_as_completed_next(it, &got), -ETIMEDOUT);
    CHECK_EQ(corio_as_completed_next(it, &got), -ETIMEDOUT); /* sticky */
    CHECK_PTR(got, NULL);
    CHECK(now_s() - t0 < 5);
    CHECK_EQ(k[0].done, 0); /* not cancelled */
    corio_as_completed_free(it);
    CHECK_EQ(corio_task_cancel(t[0]), 0);
    CHECK_EQ(corio_task_join(t[0], NULL), -ECANCELED); /* k is ours */
    release_kids(t, 3);

    /* Waiting when the timeout passes. */
    memset(k, 0, sizeof k);
    k[0].sleep = 10;
    spawn_kids(k, 1, t, f);
    t0 = now_s();
    CHECK_EQ(corio_as_completed_new(f, 1, 0.03, &it), 0);
    CHECK_EQ(corio_as_completed_next(it, &got), -ETIMEDOUT);
    CHECK(now_s() - t0 >= 0.03);
    corio_as_completed_free(it);
    /* Timeout 0: only what is done now. */
    CHECK_EQ(corio_as_completed_new(f, 1, 0, &it), 0);
    CHECK_EQ(corio_as_completed_next(it, &got), -ETIMEDOUT);
    corio_as_completed_free(it);
    CHECK_EQ(corio_task_cancel(t[0]), 0);
    CHECK_EQ(corio_task_join(t[0], NULL), -ECANCELED);
    release_kids(t, 1);
    return 0;
}

TEST(combine_as_completed_timeout)
{
    CHECK_EQ(run(as_completed_timeout), 0);
}

struct taker {
    corio_as_completed *it;
    corio_future *got;
    int rc;
};

static int taker_run(void *arg, void **result)
{
    struct taker *tk = arg;
    (void)result;
    tk->rc = corio_as_completed_next(tk->it, &tk->got);
    return 0;
}

static int as_completed_cancel_busy_free(void)
{
    corio_future *g = new_gate();
    struct kid k[1] = {{.gate = g, .value = 1}};
    corio_task *t[1], *tt, *tt2;
    corio_future *f[1], *got;
    struct taker tk = {NULL, NULL, 1}, tk2 = {NULL, NULL, 1};
    spawn_kids(k, 1, t, f);
    CHECK_EQ(corio_as_completed_new(f, 1, INFINITY, &tk.it), 0);
    tk2.it = tk.it;
    tt = spawn_fn(taker_run, &tk);
    tt2 = spawn_fn(taker_run, &tk2);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(tk2.rc, -EBUSY); /* one waiter at a time */
    CHECK_EQ(corio_task_cancel(tt), 0);
    CHECK_EQ(corio_task_join(tt, NULL), 0);
    CHECK_EQ(tk.rc, -ECANCELED);
    CHECK(!corio_future_done(f[0])); /* not cancelled */
    open_gate(g);
    corio_future_release(g);
    /* Still usable. */
    CHECK_EQ(corio_as_completed_next(tk.it, &got), 0);
    CHECK_PTR(got, f[0]);
    CHECK_EQ(corio_as_completed_next(tk.it, &got), 1);
    corio_as_completed_free(tk.it);
    corio_task_release(tt);
    corio_task_release(tt2);
    release_kids(t, 1);

    /* Freed by another task while one waits in next. */
    memset(k, 0, sizeof k);
    k[0].sleep = 10;
    spawn_kids(k, 1, t, f);
    tk.rc = 1;
    CHECK_EQ(corio_as_completed_new(f, 1, INFINITY, &tk.it), 0);
    tt = spawn_fn(taker_run, &tk);
    CHECK_EQ(corio_sleep(0.005), 0);
    corio_as_completed_free(tk.it);
    CHECK_EQ(corio_task_join(tt, NULL), 0);
    CHECK_EQ(tk.rc, -ESHUTDOWN);
    CHECK_EQ(corio_task_cancel(t[0]), 0);
    CHECK_EQ(corio_task_join(t[0], NULL), -ECANCELED);
    corio_task_release(tt);
    release_kids(t, 1);
    return 0;
}

TEST(combine_as_completed_cancel_busy_free)
{
    CHECK_EQ(run(as_completed_cancel_busy_free), 0);
}

static int as_completed_misuse(void)
{
    corio_future *f[2], *got;
    corio_as_completed *it = NULL;
    CHECK_EQ(corio_future_new(NULL, &f[0]), 0);
    f[1] = NULL;
    CHECK_EQ(corio_as_completed_new(f, 1, 1, NULL), -EINVAL);
    CHECK_EQ(corio_as_completed_new(NULL, 1, 1, &it), -EINVAL);
    CHECK_EQ(corio_as_completed_new(f, 2, 1, &it), -EINVAL);
    CHECK_EQ(corio_as_completed_new(f, 1, NAN, &it), -EINVAL);
    CHECK_PTR(it, NULL);
    CHECK_EQ(corio_as_completed_next(NULL, &got), -EINVAL);
    CHECK_EQ(corio_as_completed_new(f, 1, 1, &it), 0);
    CHECK_EQ(corio_as_completed_next(it, NULL), -EINVAL);
    corio_as_completed_free(it);
    corio_as_completed_free(NULL);
    corio_future_release(f[0]); /* pending, unwatched: freed */
    return 0;
}

TEST(combine_as_completed_misuse)
{
    CHECK_EQ(run(as_completed_misuse), 0);
}

/* ---- wait_for ------------------------------------------------------------------------- */

static int wait_for_success(void)
{
    struct kid k[2] = {{.sleep = 0.01, .value = 42},
                       {.sleep = 0.01, .fail = -ENOSPC}};
    corio_task *t[2];
    corio_future *f[2];
    void *r = NULL;
    spawn_kids(k, 2, t, f);
    CHECK_EQ(corio_wait_for(f[0], 5, &r), 0);
    CHECK_EQ(PI(r), 42);
    r = IP(1);
    CHECK_EQ(corio_wait_for(f[1], 5, &r), -ENOSPC);
    CHECK_EQ(PI(r), 1); /* untouched on error */
    CHECK_EQ(corio_wait_for(f[0], 0, &r), 0); /* done: outcome, no wait */
    CHECK_EQ(PI(r), 42);
    CHECK_EQ(corio_wait_for(f[0], INFINITY, NULL), 0);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    release_kids(t, 2);

    memset(k, 0, sizeof k);
    k[0].sleep = 0.01;
    k[0].value = 5;
    spawn_kids(k, 1, t, f);
    CHECK_EQ(corio_wait_for(f[0], INFINITY, &r), 0); /* no timeout */
    CHECK_EQ(PI(r), 5);
    release_kids(t, 1);
    return 0;
}

TEST(combine_wait_for_success)
{
    CHECK_EQ(run(wait_for_success), 0);
}

static int wait_for_timeout(void)
{
    /* The kid needs 30 ms of cleanup once cancelled: wait_for waits. */
    struct kid k = {.sleep = 10, .cleanup = 0.03};
    corio_task *t;
    corio_future *f, *pf;
    double t0 = now_s();
    void *r = IP(3);
    spawn_kids(&k, 1, &t, &f);
    CHECK_EQ(corio_wait_for(f, 0.02, &r), -ETIMEDOUT);
    CHECK(now_s() - t0 >= 0.05);
    CHECK(corio_task_done(t));      /* finished before wait_for returned */
    CHECK(corio_task_cancelled(t));
    CHECK_EQ(PI(r), 3);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK_EQ(corio_sleep(0.001), 0); /* the caller is not cancelled */
    corio_task_release(t);

    /* A plain future: cancelled. Timeout 0 with a pending future. */
    CHECK_EQ(corio_future_new(NULL, &pf), 0);
    CHECK_EQ(corio_wait_for(pf, 0.01, NULL), -ETIMEDOUT);
    CHECK(corio_future_cancelled(pf));
    corio_future_release(pf);
    CHECK_EQ(corio_future_new(NULL, &pf), 0);
    CHECK_EQ(corio_wait_for(pf, 0, NULL), -ETIMEDOUT);
    CHECK(corio_future_cancelled(pf));
    corio_future_release(pf);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);

    /* A task that swallows the cancel: its result comes back (3.11). */
    memset(&k, 0, sizeof k);
    k.sleep = 10;
    k.swallow = 1;
    k.value = 8;
    spawn_kids(&k, 1, &t, &f);
    CHECK_EQ(corio_wait_for(f, 0.01, &r), 0);
    CHECK_EQ(PI(r), 8);
    corio_task_release(t);

    /* One that fails in its cleanup: its error. */
    memset(&k, 0, sizeof k);
    k.sleep = 10;
    k.swallow = 1;
    k.fail = -EXDEV;
    spawn_kids(&k, 1, &t, &f);
    CHECK_EQ(corio_wait_for(f, 0.01, &r), -EXDEV);
    corio_task_release(t);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    return 0;
}

TEST(combine_wait_for_timeout)
{
    CHECK_EQ(run(wait_for_timeout), 0);
}

struct wf {
    corio_future *f;
    double timeout;
    int rc;
    int inner_done_at_return;
    int cancelling_after;
};

static int wf_run(void *arg, void **result)
{
    struct wf *w = arg;
    (void)result;
    w->rc = corio_wait_for(w->f, w->timeout, NULL);
    w->inner_done_at_return = corio_future_done(w->f);
    w->cancelling_after = corio_task_cancelling(corio_task_current());
    return w->rc;
}

static int wait_for_outer_cancel(void)
{
    double timeouts[3] = {10, INFINITY, 0.02};
    int i;
    for (i = 0; i < 3; i++) {
        struct kid k = {.sleep = 10, .cleanup = 0.1};
        struct wf w = {NULL, timeouts[i], 1, 0, -1};
        corio_task *t, *wt;
        spawn_kids(&k, 1, &t, &w.f);
        wt = spawn_fn(wf_run, &w);
        CHECK_EQ(corio_sleep(0.01), 0);
        CHECK_EQ(corio_task_cancel(wt), 0);
        /* i == 2: the timeout passes during the kid's cleanup; the
         * outside cancel still wins. */
        CHECK_EQ(corio_task_join(wt, NULL), -ECANCELED);
        CHECK_EQ(w.rc, -ECANCELED);
        CHECK_EQ(w.inner_done_at_return, 1);
        CHECK(corio_task_cancelled(t));
        CHECK_EQ(w.cancelling_after, 1); /* only the outside request */
        corio_task_release(wt);
        corio_task_release(t);
    }
    return 0;
}

TEST(combine_wait_for_outer_cancel)
{
    CHECK_EQ(run(wait_for_outer_cancel), 0);
}

/* Cancelled already when it starts: the pending future is cancelled too. */
static int wait_for_cancelled_before(void)
{
    corio_future *pf;
    CHECK_EQ(corio_future_new(NULL, &pf), 0);
    CHECK_EQ(corio_task_cancel(corio_task_current()), 0);
    CHECK_EQ(corio_wait_for(pf, 1, NULL), -ECANCELED);
    CHECK(corio_future_cancelled(pf));
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 1);
    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    corio_future_release(pf);
    return 0;
}

TEST(combine_wait_for_cancelled_before)
{
    CHECK_EQ(run(wait_for_cancelled_before), 0);
}

/* wait_for inside an asyncio.timeout-style scope that expires first: the
 * scope's cancellation is "outside" for wait_for. */
static int wait_for_in_scope(void)
{
    struct kid k = {.sleep = 10};
    corio_task *t;
    corio_future *f;
    corio_scope *sc;
    int rc;
    spawn_kids(&k, 1, &t, &f);
    CHECK_EQ(corio_timeout(0.01, &sc), 0);
    rc = corio_wait_for(f, 5, NULL);
    CHECK_EQ(rc, -ECANCELED);
    CHECK_EQ(corio_scope_close(sc, rc), -ETIMEDOUT);
    CHECK(corio_task_cancelled(t));
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    corio_task_release(t);
    return 0;
}

TEST(combine_wait_for_inside_scope)
{
    CHECK_EQ(run(wait_for_in_scope), 0);
}

static int wait_for_misuse(void)
{
    corio_loop *other;
    corio_future *foreign;
    CHECK_EQ(corio_wait_for(NULL, 1, NULL), -EINVAL);
    CHECK_EQ(corio_wait_for(corio_task_future(corio_task_current()), 1,
                            NULL), -EDEADLK);
    CHECK_EQ(corio_loop_new(NULL, &other), 0);
    CHECK_EQ(corio_future_new(other, &foreign), 0);
    CHECK_EQ(corio_wait_for(foreign, 1, NULL), -EINVAL);
    CHECK_EQ(corio_wait_for(foreign, NAN, NULL), -EINVAL);
    corio_future_release(foreign);
    CHECK_EQ(corio_loop_free(other), 0);
    return 0;
}

TEST(combine_wait_for_misuse)
{
    CHECK_EQ(run(wait_for_misuse), 0);
}

/* ---- shield --------------------------------------------------------------------- */

struct shielded {
    corio_task *inner;
    int rc;
};

static int await_shielded(void *arg, void **result)
{
    struct shielded *s = arg;
    corio_future *outer;
    (void)result;
    CHECK_EQ(corio_future_shield(corio_task_future(s->inner), &outer), 0);
    s->rc = corio_future_await(outer, NULL); /* cancelled here */
    CHECK(corio_future_cancelled(outer));
    corio_future_release(outer);
    return s->rc;
}

static int shield_task(void)
{
    corio_future *g = new_gate();
    struct kid k = {.gate = g, .value = 77};
    struct shielded s = {NULL, 1};
    corio_future *f;
    corio_task *at;
    void *r = NULL;
    spawn_kids(&k, 1, &s.inner, &f);
    at = spawn_fn(await_shielded, &s);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(corio_task_cancel(at), 0);
    CHECK_EQ(corio_task_join(at, NULL), -ECANCELED);
    CHECK_EQ(s.rc, -ECANCELED);
    CHECK(!corio_task_done(s.inner)); /* not cancelled: runs on */
    open_gate(g);
    corio_future_release(g);
    CHECK_EQ(corio_task_join(s.inner, &r), 0);
    CHECK_EQ(k.rc, 0);
    CHECK_EQ(PI(r), 77);
    corio_task_release(at);
    corio_task_release(s.inner);
    return 0;
}

TEST(combine_shield_cancel_leaves_inner_running)
{
    CHECK_EQ(run(shield_task), 0);
}

static int shield_outcomes(void)
{
    struct kid k[3] = {{.sleep = 0.01, .value = 6},
                       {.sleep = 0.01, .fail = -EMLINK},
                       {.sleep = 10}};
    corio_task *t[3];
    corio_future *f[3], *o[3], *d, *od, *pf, *po;
    void *r = NULL;
    int i;
    spawn_kids(k, 3, t, f);
    for (i = 0; i < 3; i++)
        CHECK_EQ(corio_future_shield(f[i], &o[i]), 0);
    CHECK(o[0] != f[0]);
    CHECK_EQ(corio_future_await(o[0], &r), 0); /* completes like inner */
    CHECK_EQ(PI(r), 6);
    CHECK_EQ(corio_future_await(o[1], NULL), -EMLINK);
    CHECK_EQ(corio_task_cancel(t[2]), 0); /* inner cancelled: outer too */
    CHECK_EQ(corio_future_await(o[2], NULL), -ECANCELED);
    CHECK(corio_future_cancelled(o[2]));
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    for (i = 0; i < 3; i++)
        corio_future_release(o[i]);
    release_kids(t, 3);

    /* Already done: f itself, with a reference. */
    CHECK_EQ(corio_future_new(NULL, &d), 0);
    CHECK_EQ(corio_future_set_result(d, IP(2)), 0);
    CHECK_EQ(corio_future_shield(d, &od), 0);
    CHECK_PTR(od, d);
    corio_future_release(od);
    CHECK_EQ(corio_future_result(d, &r), 0);
    corio_future_release(d);

    /* Cancelling outer by hand; the caller may drop outer while inner
     * is pending, and inner may be dropped by its owner first. */
    CHECK_EQ(corio_future_new(NULL, &pf), 0);
    CHECK_EQ(corio_future_shield(pf, &po), 0);
    CHECK_EQ(corio_future_cancel(po), 0);
    CHECK(!corio_future_done(pf));
    corio_future_release(po);
    CHECK_EQ(corio_future_shield(pf, &po), 0);
    corio_future_release(po);              /* outer dropped, still linked */
    CHECK_EQ(corio_future_set_result(pf, IP(1)), 0); /* frees the link */
    corio_future_release(pf);

    CHECK_EQ(corio_future_shield(NULL, &po), -EINVAL);
    CHECK_EQ(corio_future_shield(NULL, NULL), -EINVAL);
    return 0;
}

TEST(combine_shield_outcomes_and_ownership)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(shield_outcomes), 0);
    err = corio_test_stderr_end();
    CHECK(strstr(err, "retrieved") == NULL); /* passed on = retrieved */
    free(err);
}

/* A shielded inner failing after its outer was cancelled is nobody's
 * outcome: reported as never retrieved, as asyncio logs it. */
static int shield_unretrieved(void)
{
    struct kid k = {.sleep = 0.01, .fail = -EROFS};
    corio_task *t;
    corio_future *f, *o;
    spawn_kids(&k, 1, &t, &f);
    CHECK_EQ(corio_future_shield(f, &o), 0);
    CHECK_EQ(corio_future_cancel(o), 0);
    corio_future_release(o);
    /* Let the kid fail, without reading its outcome (no join): a fixed
     * sleep would race its 10 ms one on a loaded machine. */
    for (int i = 0; i < 500 && !k.done; i++)
        CHECK_EQ(corio_sleep(0.01), 0);
    CHECK(k.done);
    corio_task_release(t);
    return 0;
}

TEST(combine_shield_inner_error_after_outer_cancel_is_reported)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(shield_unretrieved), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "nobody retrieved");
    free(err);
}

/* Shield without a loop: a loopless future. */
TEST(combine_shield_without_loop)
{
    corio_future *f, *o;
    void *r = NULL;
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_future_shield(f, &o), 0);
    CHECK_EQ(corio_future_set_result(f, IP(9)), 0);
    CHECK(corio_future_done(o));
    CHECK_EQ(corio_future_result(o, &r), 0);
    CHECK_EQ(PI(r), 9);
    corio_future_release(o);
    corio_future_release(f);
}

/* ---- lean tasks, many futures, outside a loop, deadlock report ------------------- */

/* The kids' records live on the heap: a lean task's stack is copied away
 * while it is suspended, so other tasks must not point into it. */
static int everything(void *arg, void **result)
{
    struct kid *k = calloc(4, sizeof *k);
    corio_task *t[4];
    corio_future *f[4], *got, *o;
    corio_as_completed *it;
    void *res[4];
    int errs[4], i, n = 0;
    size_t nd;
    (void)arg;
    (void)result;
    for (i = 0; i < 4; i++) {
        k[i].sleep = 0.004 * (4 - i);
        k[i].value = i + 1;
    }
    k[2].fail = -EIO;
    spawn_kids(k, 4, t, f);
    CHECK_EQ(corio_wait(f, 4, CORIO_WAIT_FIRST_COMPLETED, INFINITY, &nd), 0);
    CHECK(nd >= 1); /* timings: at least the first */
    CHECK_EQ(corio_as_completed_new(f, 4, 5, &it), 0);
    while (corio_as_completed_next(it, &got) == 0)
        n++;
    corio_as_completed_free(it);
    CHECK_EQ(n, 4);
    CHECK_EQ(corio_gather(f, 4, CORIO_GATHER_COLLECT, res, errs), 0);
    CHECK_EQ(PI(res[3]), 4);
    CHECK_EQ(errs[2], -EIO);
    CHECK_EQ(corio_gather(f, 4, 0, res, NULL), -EIO);
    release_kids(t, 4);
    memset(k, 0, 4 * sizeof *k);
    k[0].sleep = 10;
    k[0].cleanup = 0.01;
    k[1].sleep = 0.01;
    k[1].value = 3;
    spawn_kids(k, 2, t, f);
    CHECK_EQ(corio_future_shield(f[1], &o), 0);
    CHECK_EQ(corio_wait_for(o, 5, &res[0]), 0);
    CHECK_EQ(PI(res[0]), 3);
    corio_future_release(o);
    CHECK_EQ(corio_wait_for(f[0], 0.01, NULL), -ETIMEDOUT);
    CHECK(corio_task_done(t[0]));
    release_kids(t, 2);
    free(k);
    return 0;
}

static int lean_everything(void)
{
    corio_task *a, *b;
    use_lean = 1; /* lean callers with lean kids, two at once */
    a = spawn_fn(everything, NULL);
    b = spawn_fn(everything, NULL);
    CHECK_EQ(corio_task_join(a, NULL), 0);
    CHECK_EQ(corio_task_join(b, NULL), 0);
    corio_task_release(a);
    corio_task_release(b);
    return 0;
}

TEST(combine_lean_tasks)
{
    CHECK_EQ(run(lean_everything), 0);
}

static int many(void)
{
    enum { N = 2000 };
    static struct kid k[N];
    static corio_task *t[N];
    static corio_future *f[N];
    static void *res[N];
    corio_as_completed *it;
    corio_future *got;
    size_t i, n = 0;
    for (i = 0; i < N; i++) {
        k[i].sleep = (double)(i % 7) * 0.001;
        k[i].value = (intptr_t)i;
    }
    use_lean = 1;
    spawn_kids(k, N, t, f);
    CHECK_EQ(corio_as_completed_new(f, N, INFINITY, &it), 0);
    CHECK_EQ(corio_gather(f, N, 0, res, NULL), 0);
    for (i = 0; i < N; i++)
        CHECK_EQ(PI(res[i]), (intptr_t)i);
    while (corio_as_completed_next(it, &got) == 0)
        n++;
    CHECK_EQ(n, N);
    corio_as_completed_free(it);
    release_kids(t, N);
    return 0;
}

TEST(combine_many_futures)
{
    CHECK_EQ(run(many), 0);
}

TEST(combine_outside_loop)
{
    corio_future *f, *o = NULL;
    corio_as_completed *it = NULL;
    size_t nd = 5;
    void *r = IP(1);
    int errs[1];
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_gather(&f, 1, 0, &r, NULL), CORIO_ENOLOOP);
    CHECK_EQ(corio_gather(&f, 1, CORIO_GATHER_COLLECT, &r, errs),
             CORIO_ENOLOOP);
    CHECK_EQ(corio_wait(&f, 1, CORIO_WAIT_ALL_COMPLETED, 1, &nd),
             CORIO_ENOLOOP);
    CHECK_EQ(corio_as_completed_new(&f, 1, 1, &it), CORIO_ENOLOOP);
    CHECK_EQ(corio_wait_for(f, 1, &r), CORIO_ENOLOOP);
    CHECK_EQ(nd, 5);
    CHECK_PTR(it, NULL);
    CHECK_EQ(PI(r), 1);
    CHECK(!corio_future_done(f));
    CHECK_EQ(corio_future_shield(f, &o), 0); /* needs no loop */
    CHECK_EQ(corio_future_cancel(o), 0);
    corio_future_release(o);
    corio_future_release(f);
}

/* Waiting on futures nobody will complete: corio_run's deadlock report
 * names the wait, then the shutdown cancels the gather and its futures. */
static int stuck(void)
{
    corio_future *f[2];
    int rc;
    CHECK_EQ(corio_future_new(NULL, &f[0]), 0);
    CHECK_EQ(corio_future_new(NULL, &f[1]), 0);
    rc = corio_gather(f, 2, 0, NULL, NULL);
    CHECK_EQ(rc, -ECANCELED);
    CHECK(corio_future_cancelled(f[0]) && corio_future_cancelled(f[1]));
    corio_future_release(f[0]);
    corio_future_release(f[1]);
    return rc;
}

TEST(combine_deadlock_is_reported)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(stuck), -EDEADLK);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "waits on gather");
    free(err);
}
