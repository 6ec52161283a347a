/*
 * test_combine_wait.c: corio_wait (each mode, FIRST_EXCEPTION ignoring
 * cancelled futures, timeout, cancellation, misuse), as_completed (order,
 * timeout, cancelling a busy waiter, misuse) and wait_for (success,
 * timeout, cancellation from outside and before waiting, inside a scope,
 * misuse).
 */

#include "test.h"
#include "run_body.h"
#include "combine_kids.h"

#include <corio.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

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
    CHECK_EQ(corio_as_completed_next(it, &got), CORIO_END); /* exhausted */
    CHECK_EQ(corio_as_completed_next(it, &got), CORIO_END);
    CHECK_PTR(got, NULL);
    corio_as_completed_free(it);
    corio_future_release(f[3]);
    CHECK_EQ(corio_task_join(ot, NULL), 0);
    corio_task_release(ot);
    release_kids(t, 3);
    release_gates(g, 3);
    /* Nothing to take: exhausted at once. */
    CHECK_EQ(corio_as_completed_new(NULL, 0, 1, &it), 0);
    CHECK_EQ(corio_as_completed_next(it, &got), CORIO_END);
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
    double t0;
    spawn_kids(k, 3, t, f);
    /* What is done before the timeout is handed out after it passes; what
     * is not done by then never is. Two kids are done before the timeout
     * starts (open_gate runs each to its end), so no timing decides it. */
    open_gate(g[0]);
    open_gate(g[1]);
    release_gates(g, 2);
    CHECK(k[1].done && k[2].done);
    CHECK_EQ(corio_as_completed_new(f, 3, 0.2, &it), 0);
    CHECK_EQ(corio_sleep(0.25), 0); /* and then it passes */
    CHECK_EQ(corio_as_completed_next(it, &got), 0);
    CHECK_PTR(got, f[1]);
    CHECK_EQ(corio_as_completed_next(it, &got), 0);
    CHECK_PTR(got, f[2]);
    got = NULL;
    CHECK_EQ(corio_as_completed_next(it, &got), -ETIMEDOUT);
    CHECK_EQ(corio_as_completed_next(it, &got), -ETIMEDOUT); /* sticky */
    CHECK_PTR(got, NULL);
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

TEST_FIFO(combine_as_completed_timeout,
          "open_gate's one sleep(0) lets the woken child end first")
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
    CHECK_EQ(corio_as_completed_next(tk.it, &got), CORIO_END);
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

TEST_FIFO(combine_as_completed_cancel_busy_free,
          "the taker spawned first must reach the iterator first")
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
    CHECK_EQ(corio_scope_timeout(0.01, &sc), 0);
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
