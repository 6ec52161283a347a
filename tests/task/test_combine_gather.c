/*
 * test_combine_gather.c: corio_gather: results in order, the first error
 * returning early, COLLECT with mixed outcomes, cancelled children,
 * cancellation of the gathering task (children cancelled too), gather
 * inside a timeout, futures already done, duplicates and misuse.
 */

#include "test.h"
#include "run_body.h"
#include "combine_kids.h"

#include <corio.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

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
    CHECK_EQ(corio_scope_timeout(0.02, &sc), 0);
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
