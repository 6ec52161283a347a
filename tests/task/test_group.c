/*
 * test_group.c: task groups: waiting, first failure cancelling siblings
 * and the body, error lists, outside cancellation, nesting, spawning from
 * children, group cancel, graceful stop, counters.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))


struct kid {
    double sleep;
    int fail;          /* error to return after sleeping, or 0 */
    int rc;            /* what its sleep returned */
    int cleaned;
    int done;
};

static int kid_run(void *arg, void **result)
{
    struct kid *k = arg;
    (void)result;
    k->rc = corio_sleep(k->sleep);
    k->cleaned++;
    k->done = 1;
    if (k->rc)
        return k->rc;
    if (k->fail)
        return corio_fail(k->fail, "kid failed after %.2f s", k->sleep);
    return 0;
}

/* ---- the happy path ------------------------------------------------------------ */

static int all_succeed(void)
{
    struct kid k[3] = {{0.01, 0, 1, 0, 0}, {0.02, 0, 1, 0, 0},
                       {0.0, 0, 1, 0, 0}};
    corio_group *g;
    int i, rc;
    CHECK_EQ(corio_group_open(&g), 0);
    for (i = 0; i < 3; i++)
        CHECK_EQ(corio_group_spawn(g, kid_run, &k[i], NULL, NULL), 0);
    rc = corio_group_wait(g, 0);
    CHECK_EQ(rc, 0);
    for (i = 0; i < 3; i++) {
        CHECK_EQ(k[i].done, 1);
        CHECK_EQ(k[i].rc, 0);
    }
    CHECK_EQ(corio_group_error_count(g), 0);
    CHECK_PTR(corio_group_error(g, 0), NULL);
    corio_group_free(g);
    return 0;
}

TEST(group_waits_for_all)
{
    CHECK_EQ(run(all_succeed), 0);
}

/* ---- first failure cancels siblings and the body ------------------------------- */

static int one_fails(void)
{
    struct kid k[3] = {{10, 0, 1, 0, 0}, {0.01, -EIO, 1, 0, 0},
                       {10, 0, 1, 0, 0}};
    corio_group *g;
    const corio_group_error_info *e;
    int i, rc, body_rc;
    CHECK_EQ(corio_group_open(&g), 0);
    for (i = 0; i < 3; i++)
        CHECK_EQ(corio_group_spawn(g, kid_run, &k[i], NULL, NULL), 0);
    body_rc = corio_sleep(10); /* the body is cancelled too */
    CHECK_EQ(body_rc, -ECANCELED);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 1); /* asyncio */
    rc = corio_group_wait(g, body_rc);
    CHECK_EQ(rc, -EIO);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK_EQ(k[0].rc, -ECANCELED); /* the sleep(10)s were cut */
    CHECK_EQ(k[2].rc, -ECANCELED);
    CHECK_EQ(k[0].cleaned + k[2].cleaned, 2);
    CHECK_EQ(corio_group_error_count(g), 1);
    e = corio_group_error(g, 0);
    CHECK_EQ(e->code, -EIO);
    CHECK_STR_HAS(e->message, "kid failed after 0.01 s");
    CHECK_STR_HAS(e->task_name, "task-");
    CHECK_STR_HAS(e->file, "test_group.c");
    CHECK(e->line > 0);
    corio_group_free(g);
    CHECK_EQ(corio_sleep(0.001), 0); /* the parent is fine after */
    return 0;
}

TEST(group_first_failure_cancels_siblings_and_body)
{
    CHECK_EQ(run(one_fails), 0);
}

struct gate_kid {
    corio_future *gate;
    int fail;
};

/* Waits for the gate, then fails: kids behind one gate wake in the same
 * iteration, so they fail "at once", before the group reacts to either. */
static int gated_kid(void *arg, void **result)
{
    struct gate_kid *k = arg;
    int rc = corio_future_await(k->gate, NULL);
    (void)result;
    return rc ? rc : k->fail;
}

static int two_fail_at_once(void)
{
    corio_future *gate;
    struct gate_kid k[2];
    corio_task_opts oa = {0}, ob = {0};
    corio_group *g;
    int rc;
    CHECK_EQ(corio_future_new(NULL, &gate), 0);
    k[0].gate = k[1].gate = gate;
    k[0].fail = -EIO;
    k[1].fail = -EPIPE;
    oa.name = "a";
    ob.name = "b";
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, gated_kid, &k[0], &oa, NULL), 0);
    CHECK_EQ(corio_group_spawn(g, gated_kid, &k[1], &ob, NULL), 0);
    CHECK_EQ(corio_sleep(0.001), 0); /* both are waiting at the gate */
    CHECK_EQ(corio_future_set_result(gate, NULL), 0);
    rc = corio_group_wait(g, 0);
    CHECK_EQ(rc, -EIO); /* the first to finish */
    CHECK_EQ(corio_group_error_count(g), 2); /* both kept */
    CHECK_EQ(strcmp(corio_group_error(g, 0)->task_name, "a"), 0);
    CHECK_EQ(corio_group_error(g, 1)->code, -EPIPE);
    CHECK_EQ(strcmp(corio_group_error(g, 1)->task_name, "b"), 0);
    corio_group_free(g);
    corio_future_release(gate);
    return 0;
}

TEST_FIFO(group_two_children_fail_at_once,
          "the gate wakes both; the first spawned must run first")
{
    CHECK_EQ(run(two_fail_at_once), 0);
}

static int body_fails(void)
{
    struct kid k = {10, 0, 1, 0, 0};
    corio_group *g;
    const corio_group_error_info *e;
    int rc;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &k, NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0.001), 0); /* let the child start */
    rc = corio_group_wait(g, corio_fail(-EBADMSG, "body gave up"));
    CHECK_EQ(rc, -EBADMSG);
    CHECK_EQ(k.rc, -ECANCELED); /* children cancelled */
    CHECK_EQ(corio_group_error_count(g), 1);
    e = corio_group_error(g, 0);
    CHECK_EQ(strcmp(e->task_name, "(body)"), 0);
    CHECK_STR_HAS(e->message, "body gave up");
    corio_group_free(g);
    return 0;
}

TEST(group_body_failure_cancels_children)
{
    CHECK_EQ(run(body_fails), 0);
}

/* ---- cancellation from outside -------------------------------------------------- */

struct outer_arg {
    struct kid kids[2];
    int wait_rc;
};

static int group_parent(void *arg, void **result)
{
    struct outer_arg *o = arg;
    corio_group *g;
    int rc;
    (void)result;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &o->kids[0], NULL, NULL), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &o->kids[1], NULL, NULL), 0);
    rc = corio_sleep(10);
    o->wait_rc = corio_group_wait(g, rc);
    corio_group_free(g);
    return o->wait_rc;
}

static int cancelled_from_outside(void)
{
    struct outer_arg o = {{{10, 0, 1, 0, 0}, {10, 0, 1, 0, 0}}, 1};
    corio_task *t;
    CHECK_EQ(corio_spawn(group_parent, &o, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(o.wait_rc, -ECANCELED);
    CHECK_EQ(o.kids[0].rc, -ECANCELED);
    CHECK_EQ(o.kids[1].rc, -ECANCELED);
    corio_task_release(t);
    return 0;
}

TEST(group_cancelled_from_outside)
{
    CHECK_EQ(run(cancelled_from_outside), 0);
}

/* A child whose cleanup suspends (shielded) while the group is cancelled
 * from outside: the group waits for the cleanup. */
static int slow_cleanup_kid(void *arg, void **result)
{
    int *cleanup_done = arg;
    corio_scope *sh;
    int rc;
    (void)result;
    rc = corio_sleep(10);
    CHECK_EQ(corio_scope_shield(&sh), 0);
    CHECK_EQ(corio_sleep(0.02), 0);
    CHECK_EQ(corio_scope_close(sh, 0), 0);
    *cleanup_done = 1;
    return rc;
}

static int parent_with_slow_cleanup(void *arg, void **result)
{
    corio_group *g;
    int rc;
    (void)result;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, slow_cleanup_kid, arg, NULL, NULL), 0);
    rc = corio_group_wait(g, 0); /* cancelled while waiting here */
    CHECK_EQ(*(int *)arg, 1);    /* cleanup finished before wait ended */
    corio_group_free(g);
    return rc;
}

static int cancel_during_child_cleanup(void)
{
    int cleanup_done = 0;
    corio_task *t;
    CHECK_EQ(corio_spawn(parent_with_slow_cleanup, &cleanup_done, NULL, &t),
             0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(corio_task_cancel(t), 0); /* again, while the child cleans */
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(cleanup_done, 1);
    corio_task_release(t);
    return 0;
}

TEST(group_cancelled_while_child_in_cleanup)
{
    CHECK_EQ(run(cancel_during_child_cleanup), 0);
}

static int group_in_timeout(void)
{
    struct kid k = {10, 0, 1, 0, 0};
    corio_scope *sc;
    corio_group *g;
    int rc;
    CHECK_EQ(corio_scope_timeout(0.01, &sc), 0);
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &k, NULL, NULL), 0);
    rc = corio_group_wait(g, 0);
    CHECK_EQ(rc, -ECANCELED);
    corio_group_free(g);
    rc = corio_scope_close(sc, rc);
    CHECK_EQ(rc, -ETIMEDOUT);
    CHECK_EQ(k.rc, -ECANCELED);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    return 0;
}

TEST(group_inside_timeout)
{
    CHECK_EQ(run(group_in_timeout), 0);
}

/* ---- nesting, spawning from children, cancel, stop ---------------------------------- */

static corio_group *shared_group;

static int spawner_kid(void *arg, void **result)
{
    struct kid *k = arg;
    (void)result;
    CHECK_EQ(corio_group_spawn(shared_group, kid_run, k, NULL, NULL), 0);
    return 0;
}

static int spawn_from_child(void)
{
    struct kid k = {0.01, 0, 1, 0, 0};
    corio_group *g;
    CHECK_EQ(corio_group_open(&g), 0);
    shared_group = g;
    CHECK_EQ(corio_group_spawn(g, spawner_kid, &k, NULL, NULL), 0);
    CHECK_EQ(corio_group_wait(g, 0), 0);
    CHECK_EQ(k.done, 1); /* the grandchild was waited for too */
    CHECK_EQ(corio_group_spawn(g, kid_run, &k, NULL, NULL), -ESHUTDOWN);
    CHECK_EQ(corio_group_wait(g, 0), CORIO_ESCOPE); /* twice */
    corio_group_free(g);
    return 0;
}

TEST(group_spawn_from_child)
{
    CHECK_EQ(run(spawn_from_child), 0);
}

static int inner_group_task(void *arg, void **result)
{
    struct kid *k = arg;
    corio_group *g;
    (void)result;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &k[0], NULL, NULL), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &k[1], NULL, NULL), 0);
    {
        int rc = corio_group_wait(g, 0);
        corio_group_free(g);
        return rc;
    }
}

static int nested_groups(void)
{
    struct kid inner[2] = {{10, 0, 1, 0, 0}, {0.01, -ENOSPC, 1, 0, 0}};
    struct kid sibling = {10, 0, 1, 0, 0};
    corio_group *g;
    int rc;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, inner_group_task, inner, NULL, NULL), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &sibling, NULL, NULL), 0);
    rc = corio_group_wait(g, 0);
    CHECK_EQ(rc, -ENOSPC); /* propagated up through the inner group */
    CHECK_EQ(inner[0].rc, -ECANCELED);
    CHECK_EQ(sibling.rc, -ECANCELED);
    corio_group_free(g);
    return 0;
}

TEST(group_nested)
{
    CHECK_EQ(run(nested_groups), 0);
}

static int cancel_by_hand(void)
{
    struct kid k[2] = {{10, 0, 1, 0, 0}, {10, 0, 1, 0, 0}};
    corio_group *g;
    int rc;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &k[0], NULL, NULL), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &k[1], NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    corio_group_cancel(g);
    rc = corio_sleep(10);
    CHECK_EQ(rc, -ECANCELED); /* the body is cancelled */
    rc = corio_group_wait(g, rc);
    CHECK_EQ(rc, 0);          /* quietly */
    CHECK_EQ(k[0].rc, -ECANCELED);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &k[0], NULL, NULL), -ESHUTDOWN);
    corio_group_free(g);
    return 0;
}

TEST(group_cancel_by_hand)
{
    CHECK_EQ(run(cancel_by_hand), 0);
}

struct polite {
    int saw_stop;
    int rc;
};

/* Works in small steps until asked to stop, then cleans up with a
 * suspending call that must still work during the grace period. */
static int polite_kid(void *arg, void **result)
{
    struct polite *p = arg;
    (void)result;
    while (!corio_stop_requested()) {
        int rc = corio_sleep(0.002);
        if (rc)
            return p->rc = rc;
    }
    p->saw_stop = 1;
    p->rc = corio_sleep(0.005); /* still works */
    return p->rc;
}

static int stubborn_kid(void *arg, void **result)
{
    int *rc = arg;
    (void)result;
    *rc = corio_sleep(10); /* ignores the request; cut at the deadline */
    return *rc;
}

#define GRACE 0.25

static int graceful(void)
{
    struct polite p = {0, 1};
    int stubborn_rc = 1;
    corio_group *g;
    double t0;
    int rc;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, polite_kid, &p, NULL, NULL), 0);
    CHECK_EQ(corio_group_spawn(g, stubborn_kid, &stubborn_rc, NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK(!corio_stop_requested());
    t0 = now_s();
    /* The polite kid needs about 7 ms of it; the rest is room for a
     * loaded machine (the stubborn kid waits it out). */
    CHECK_EQ(corio_group_stop(g, GRACE), 0);
    CHECK(corio_stop_requested());
    rc = corio_group_wait(g, 0);
    CHECK_EQ(rc, 0);
    CHECK_EQ(p.saw_stop, 1);
    CHECK_EQ(p.rc, 0);
    CHECK_EQ(stubborn_rc, -ECANCELED);
    CHECK(now_s() - t0 >= GRACE);
    CHECK(!corio_stop_requested());
    corio_group_free(g);
    return 0;
}

TEST(group_graceful_stop)
{
    CHECK_EQ(run(graceful), 0);
}

/* ---- misuse ----------------------------------------------------------------------- */

static int wrong_order(void)
{
    corio_group *g;
    corio_scope *sc;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_scope_timeout(10, &sc), 0);
    CHECK_EQ(corio_group_wait(g, 0), CORIO_ESCOPE); /* sc is innermost */
    CHECK_EQ(corio_scope_close(sc, 0), 0);
    CHECK_EQ(corio_group_wait(g, 0), 0);
    corio_group_free(g);
    return 0;
}

TEST(group_wait_out_of_order)
{
    CHECK_EQ(run(wrong_order), 0);
}

static int freed_early(void)
{
    struct kid k = {10, 0, 1, 0, 0};
    corio_group *g;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, kid_run, &k, NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0.001), 0); /* let the child start */
    corio_group_free(g); /* misuse: reported, child cancelled */
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(k.rc, -ECANCELED);
    return 0;
}

TEST(group_freed_before_wait_is_reported)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(freed_early), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "freed before its wait");
    free(err);
}

TEST(group_outside_task)
{
    corio_group *g = NULL;
    CHECK_EQ(corio_group_open(&g), CORIO_ENOTASK);
    CHECK_PTR(g, NULL);
}

/* Many children, lean and not: nothing leaks, all are waited for. */
static int many_children(void)
{
    static struct kid k[2000];
    corio_task_opts lean = {0};
    corio_group *g;
    int i;
    lean.flags = CORIO_CORO_LEAN;
    CHECK_EQ(corio_group_open(&g), 0);
    for (i = 0; i < 2000; i++) {
        k[i].sleep = (i % 7) * 0.001;
        CHECK_EQ(corio_group_spawn(g, kid_run, &k[i], i % 2 ? &lean : NULL,
                                   NULL), 0);
    }
    CHECK_EQ(corio_group_wait(g, 0), 0);
    for (i = 0; i < 2000; i++)
        CHECK_EQ(k[i].done, 1);
    corio_group_free(g);
    return 0;
}

TEST(group_many_children)
{
    CHECK_EQ(run(many_children), 0);
}
