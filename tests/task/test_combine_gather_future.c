/*
 * test_combine_gather_future.c: corio_gather_start, gather as a future:
 * cancelled before anyone awaits it, awaited after it is done, a child
 * failing, COLLECT, a cancelled awaiter, plain futures, a dropped handle,
 * futures with no loop, misuse and -ENOMEM.
 */

#include "test.h"
#include "oom.h"
#include "run_body.h"
#include "combine_kids.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>

static int cancel_before_await(void)
{
    corio_future *g[2] = {new_gate(), new_gate()};
    struct kid k[2] = {{.gate = g[0]}, {.gate = g[1]}};
    corio_task *t[2];
    corio_future *f[2], *gf;
    void *r = IP(1);
    spawn_kids(k, 2, t, f);
    CHECK_EQ(corio_gather_start(f, 2, 0, &gf), 0);
    CHECK(!corio_future_done(gf));
    CHECK_EQ(corio_future_cancel(gf), 0);
    CHECK_EQ(corio_task_cancelling(t[0]), 1); /* children asked to stop */
    CHECK_EQ(corio_task_cancelling(t[1]), 1);
    CHECK(!corio_future_done(gf)); /* until the children are done */
    CHECK_EQ(corio_future_await(gf, &r), -ECANCELED);
    CHECK(corio_future_cancelled(gf));
    CHECK(corio_task_cancelled(t[0]) && corio_task_cancelled(t[1]));
    CHECK_EQ(k[0].done + k[1].done, 0); /* cancelled before they started */
    CHECK_EQ(corio_future_cancel(gf), -EALREADY);
    CHECK_EQ(corio_gather_result(gf, NULL, NULL), -ECANCELED);
    corio_future_release(gf);
    release_kids(t, 2);
    release_gates(g, 2);
    return 0;
}

TEST(gather_future_cancel_before_await)
{
    CHECK_EQ(run(cancel_before_await), 0);
}

static int await_after_done(void)
{
    corio_future *g[3] = {new_gate(), new_gate(), new_gate()};
    struct kid k[3] = {{.gate = g[0], .value = 1},
                       {.gate = g[1], .value = 2},
                       {.gate = g[2], .value = 3}};
    corio_task *t[3];
    corio_future *f[3], *gf;
    void **arr = NULL;
    void *res[3] = {0};
    spawn_kids(k, 3, t, f);
    CHECK_EQ(corio_gather_start(f, 3, 0, &gf), 0);
    CHECK_EQ(corio_gather_result(gf, res, NULL), -EAGAIN);
    open_gate(g[2]);
    open_gate(g[0]);
    CHECK(!corio_future_done(gf));
    open_gate(g[1]);
    CHECK(corio_future_done(gf)); /* nobody awaited it */
    CHECK_EQ(corio_future_await(gf, (void **)&arr), 0);
    CHECK(arr != NULL);
    CHECK_EQ(PI(arr[0]), 1);
    CHECK_EQ(PI(arr[1]), 2);
    CHECK_EQ(PI(arr[2]), 3);
    CHECK_EQ(corio_gather_result(gf, res, NULL), 0);
    CHECK_EQ(PI(res[0]), 1);
    CHECK_EQ(PI(res[2]), 3);
    CHECK_EQ(corio_future_set_result(gf, NULL), -EPERM);
    CHECK_EQ(corio_future_set_error(gf, -EIO), -EPERM);
    corio_future_release(gf);
    release_kids(t, 3);
    release_gates(g, 3);
    return 0;
}

TEST_FIFO(gather_future_await_after_done,
          "open_gate's one sleep(0) lets the woken child end first")
{
    CHECK_EQ(run(await_after_done), 0);
}

static int child_fails(void)
{
    corio_future *g[2] = {new_gate(), new_gate()};
    struct kid k[2] = {{.gate = g[0], .fail = -EIO}, {.gate = g[1]}};
    corio_task *t[2];
    corio_future *f[2], *gf;
    spawn_kids(k, 2, t, f);
    CHECK_EQ(corio_gather_start(f, 2, 0, &gf), 0);
    open_gate(g[0]);
    CHECK(corio_future_done(gf)); /* the first failure settles it */
    CHECK(!corio_task_done(t[1])); /* the other runs on */
    CHECK_EQ(corio_future_await(gf, NULL), -EIO);
    CHECK_EQ(corio_gather_result(gf, NULL, NULL), -EIO);
    corio_future_release(gf); /* still watching t[1] for retrieval */
    open_gate(g[1]);
    CHECK(corio_task_done(t[1]));
    release_kids(t, 2);
    release_gates(g, 2);
    return 0;
}

TEST_FIFO(gather_future_child_fails,
          "open_gate's one sleep(0) lets the woken child end first")
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(child_fails), 0);
    err = corio_test_stderr_end();
    CHECK_EQ(strlen(err), 0); /* every outcome was retrieved */
    free(err);
}

static int collect_mixed(void)
{
    corio_future *g[3] = {new_gate(), new_gate(), new_gate()};
    struct kid k[3] = {{.gate = g[0], .value = 7},
                       {.gate = g[1], .fail = -EIO},
                       {.gate = g[2]}};
    corio_task *t[3];
    corio_future *f[3], *gf;
    void *res[3] = {IP(9), IP(9), IP(9)};
    int errs[3] = {1, 1, 1};
    spawn_kids(k, 3, t, f);
    CHECK_EQ(corio_gather_start(f, 3, CORIO_GATHER_COLLECT, &gf), 0);
    open_gate(g[1]);
    CHECK(!corio_future_done(gf));
    open_gate(g[0]);
    CHECK_EQ(corio_task_cancel(t[2]), 0);
    CHECK_EQ(corio_future_await(gf, NULL), 0);
    CHECK_EQ(corio_gather_result(gf, res, NULL), -EINVAL); /* errors */
    CHECK_EQ(corio_gather_result(gf, res, errs), 0);
    CHECK_EQ(PI(res[0]), 7);
    CHECK(res[1] == NULL && res[2] == NULL);
    CHECK_EQ(errs[0], 0);
    CHECK_EQ(errs[1], -EIO);
    CHECK_EQ(errs[2], -ECANCELED);
    corio_future_release(gf);
    release_kids(t, 3);
    release_gates(g, 3);
    return 0;
}

TEST(gather_future_collect)
{
    CHECK_EQ(run(collect_mixed), 0);
}

/* Cancelled even with COLLECT (asyncio's issue 32684 rule). */
static int collect_cancelled(void)
{
    corio_future *g[2] = {new_gate(), new_gate()};
    struct kid k[2] = {{.gate = g[0], .value = 1}, {.gate = g[1]}};
    corio_task *t[2];
    corio_future *f[2], *gf;
    int errs[2];
    spawn_kids(k, 2, t, f);
    CHECK_EQ(corio_gather_start(f, 2, CORIO_GATHER_COLLECT, &gf), 0);
    open_gate(g[0]);
    CHECK_EQ(corio_future_cancel(gf), 0);
    CHECK_EQ(corio_future_await(gf, NULL), -ECANCELED);
    CHECK_EQ(corio_gather_result(gf, NULL, errs), -ECANCELED);
    CHECK(corio_task_cancelled(t[1]));
    CHECK_EQ(corio_task_result(t[0], NULL), 0);
    corio_future_release(gf);
    release_kids(t, 2);
    release_gates(g, 2);
    return 0;
}

TEST_FIFO(gather_future_cancel_with_collect,
          "open_gate's one sleep(0) lets the woken child end first")
{
    CHECK_EQ(run(collect_cancelled), 0);
}

/* A task awaiting the gather future is cancelled: the cancel goes to the
 * gather, which cancels the children; the await returns once all are
 * done, so a child's (shielded, suspending) cleanup has finished. */
struct awaiter {
    corio_future *gf;
    int rc;
};

static int awaits_gather(void *arg, void **result)
{
    struct awaiter *a = arg;
    (void)result;
    a->rc = corio_future_await(a->gf, NULL);
    return a->rc;
}

static int awaiter_cancelled(void)
{
    corio_future *g[2] = {new_gate(), new_gate()};
    struct kid k[2] = {{.gate = g[0], .cleanup = 0.002}, {.gate = g[1]}};
    struct awaiter a = {NULL, 1};
    corio_task *t[2], *at;
    corio_future *f[2];
    spawn_kids(k, 2, t, f);
    CHECK_EQ(corio_gather_start(f, 2, 0, &a.gf), 0);
    at = spawn_fn(awaits_gather, &a);
    CHECK_EQ(corio_sleep(0), 0); /* kids and awaiter are waiting */
    CHECK_EQ(corio_task_cancel(at), 0);
    CHECK_EQ(corio_task_join(at, NULL), -ECANCELED);
    CHECK_EQ(a.rc, -ECANCELED);
    CHECK(k[0].done && k[1].done); /* cleanup finished before */
    CHECK(corio_future_cancelled(a.gf));
    corio_future_release(a.gf);
    corio_task_release(at);
    release_kids(t, 2);
    release_gates(g, 2);
    return 0;
}

TEST_FIFO(gather_future_awaiter_cancelled,
          "open_gate's one sleep(0) lets the woken child end first")
{
    CHECK_EQ(run(awaiter_cancelled), 0);
}

/* Plain futures complete inside their cancel: the gather settles once. */
static int plain_futures(void)
{
    corio_future *p[3] = {new_gate(), new_gate(), new_gate()};
    corio_future *dup[4], *gf;
    void **arr;
    CHECK_EQ(corio_future_set_result(p[1], IP(5)), 0);
    CHECK_EQ(corio_gather_start(p, 3, 0, &gf), 0);
    CHECK_EQ(corio_future_cancel(gf), 0);
    CHECK(corio_future_cancelled(gf)); /* at once: nothing runs on */
    CHECK(corio_future_cancelled(p[0]) && corio_future_cancelled(p[2]));
    corio_future_release(gf);

    /* Duplicates, all done: settles at once with the results. */
    dup[0] = dup[1] = dup[2] = dup[3] = p[1];
    CHECK_EQ(corio_gather_start(dup, 4, 0, &gf), 0);
    CHECK(corio_future_done(gf));
    CHECK_EQ(corio_future_result(gf, (void **)&arr), 0);
    CHECK_EQ(PI(arr[3]), 5);
    corio_future_release(gf);

    /* Nothing to gather: done with an empty result. */
    CHECK_EQ(corio_gather_start(NULL, 0, 0, &gf), 0);
    CHECK(corio_future_done(gf));
    CHECK_EQ(corio_gather_result(gf, NULL, NULL), 0);
    corio_future_release(gf);

    /* One already failed: the gather fails at once. */
    corio_future_release(p[0]);
    corio_future_release(p[2]);
    CHECK_EQ(corio_future_set_error(p[0] = new_gate(), -EPIPE), 0);
    dup[0] = p[0];
    dup[1] = p[2] = new_gate();
    CHECK_EQ(corio_gather_start(dup, 2, 0, &gf), 0);
    CHECK_EQ(corio_future_result(gf, NULL), -EPIPE);
    CHECK_EQ(corio_future_set_result(p[2], NULL), 0); /* after: fine */
    corio_future_release(gf);
    release_gates(p, 3);
    return 0;
}

TEST(gather_future_plain_futures)
{
    CHECK_EQ(run(plain_futures), 0);
}

/* Dropping the handle does not stop it; an error nobody reads is
 * reported when it goes. */
static int dropped(void)
{
    corio_future *g[1] = {new_gate()};
    struct kid k[1] = {{.gate = g[0], .fail = -EIO}};
    corio_task *t[1];
    corio_future *f[1], *gf;
    spawn_kids(k, 1, t, f);
    CHECK_EQ(corio_gather_start(f, 1, 0, &gf), 0);
    corio_future_release(gf);
    open_gate(g[0]);
    CHECK(k[0].done);
    release_kids(t, 1);
    release_gates(g, 1);
    return 0;
}

TEST_FIFO(gather_future_dropped_handle,
          "open_gate's one sleep(0) lets the woken child end first")
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(dropped), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "gather future");
    CHECK_STR_HAS(err, "EIO");
    free(err);
}

/* No loop anywhere: futures with no loop, completed by hand. */
TEST(gather_future_without_loop)
{
    corio_future *p[2], *gf;
    void **arr;
    CHECK_EQ(corio_future_new(NULL, &p[0]), 0);
    CHECK_EQ(corio_future_new(NULL, &p[1]), 0);
    CHECK_EQ(corio_gather_start(p, 2, 0, &gf), 0);
    CHECK_EQ(corio_future_set_result(p[1], IP(2)), 0);
    CHECK(!corio_future_done(gf));
    CHECK_EQ(corio_future_set_result(p[0], IP(1)), 0);
    CHECK(corio_future_done(gf));
    CHECK_EQ(corio_future_result(gf, (void **)&arr), 0);
    CHECK_EQ(PI(arr[0]), 1);
    CHECK_EQ(PI(arr[1]), 2);
    corio_future_release(gf);
    corio_future_release(p[0]);
    corio_future_release(p[1]);
}

static int misuse(void)
{
    corio_future *p = new_gate(), *gf = IP(1), *bad[1] = {NULL};
    corio_future *self[1] = {corio_task_future(corio_task_current())};
    CHECK_EQ(corio_gather_start(&p, 1, 0, NULL), -EINVAL);
    CHECK_EQ(corio_gather_start(NULL, 1, 0, &gf), -EINVAL);
    CHECK_EQ(corio_gather_start(bad, 1, 0, &gf), -EINVAL);
    CHECK_EQ(corio_gather_start(&p, 1, 0x80, &gf), -EINVAL);
    CHECK_EQ(corio_gather_start(self, 1, 0, &gf), -EDEADLK);
    CHECK(gf == IP(1)); /* untouched */
    CHECK_EQ(corio_gather_result(NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_gather_result(p, NULL, NULL), -EINVAL); /* not one */
    corio_future_release(p);
    return 0;
}

TEST(gather_future_misuse)
{
    CHECK_EQ(run(misuse), 0);
}

/* Out of memory: -ENOMEM, *out untouched, nothing left registered. */
static int enomem(void)
{
    enum { N = 1 << 19 }; /* a watch array of tens of MiB */
    corio_future *p = new_gate(), *gf = IP(1), **futs;
    size_t i;
    int rc;
    oom_require();
    CHECK((futs = malloc(N * sizeof *futs)) != NULL);
    for (i = 0; i < N; i++)
        futs[i] = p;
    oom_begin();
    rc = corio_gather_start(futs, N, 0, &gf);
    oom_end();
    CHECK_EQ(rc, -ENOMEM);
    CHECK(gf == IP(1));
    CHECK_EQ(corio_future_set_result(p, NULL), 0); /* no stale watcher */
    CHECK_EQ(corio_sleep(0), 0);
    free(futs);
    corio_future_release(p);
    return 0;
}

TEST(gather_future_enomem)
{
    CHECK_EQ(run(enomem), 0);
}
