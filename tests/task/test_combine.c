/*
 * test_combine.c: shield (an outer cancel leaves the inner task running,
 * outcomes and ownership, an inner error after the outer cancel reported,
 * use without a loop), and all the combinators together with lean tasks,
 * many futures, calls outside a loop and the deadlock report. gather is
 * in test_combine_gather.c; wait, as_completed and wait_for in
 * test_combine_wait.c; the kids all of them wait on in combine_kids.h.
 */

#include "test.h"
#include "run_body.h"
#include "combine_kids.h"

#include <corio.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

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
    CHECK_EQ(corio_gather(&f, 1, 0, &r, NULL), CORIO_ENOTASK);
    CHECK_EQ(corio_gather(&f, 1, CORIO_GATHER_COLLECT, &r, errs),
             CORIO_ENOTASK);
    CHECK_EQ(corio_wait(&f, 1, CORIO_WAIT_ALL_COMPLETED, 1, &nd),
             CORIO_ENOTASK);
    CHECK_EQ(corio_as_completed_new(&f, 1, 1, &it), CORIO_ENOTASK);
    CHECK_EQ(corio_wait_for(f, 1, &r), CORIO_ENOTASK);
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
