/*
 * test_agen_edge_teardown.c: adversarial cases for the end of async
 * generators (corio/agen.h): cleanups that open groups, spawn tasks or
 * ignore the close, frees from callbacks and from the finalizer-pending
 * window, corio_run and corio_loop_free while a task is parked inside
 * next, and thousands of unfinished generators at the end of corio_run.
 */

#include "test.h"
#include "run_body.h"
#include "agen_edge_gens.h"

#include <corio.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

static int next_once(void *arg, void **result)
{
    return corio_agen_next(arg, result);
}

/* ---- cleanups that open groups and spawn tasks --------------------------------- */

static int child_sleeper(void *arg, void **result)
{
    struct edge *s = arg;
    int rc;
    (void)result;
    rc = corio_sleep(0.002);
    if (rc == 0)
        s->children_done++;
    return rc;
}

/* Yields forever; its cleanup runs a group of three children and waits
 * for them. */
static int group_cleanup_gen(void *arg, void **result)
{
    struct edge *s = arg;
    (void)result;
    for (int i = 0;; i++) {
        int rc = corio_yield(IP(i), NULL);
        if (rc) {
            corio_group *gr;
            s->last_rc = rc;
            s->rc1 = corio_group_open(&gr);
            if (s->rc1 == 0) {
                for (int k = 0; k < 3; k++)
                    CHECK_EQ(corio_group_spawn(gr, child_sleeper, s, NULL,
                                               NULL),
                             0);
                s->cleanup_rc = corio_group_wait(gr, 0);
                corio_group_free(gr);
            }
            s->cleanup++;
            return rc;
        }
        s->yielded++;
    }
}

static struct edge gs[3];
static corio_agen *gg[3];

static int group_cleanup_body(void)
{
    void *x;
    for (int i = 0; i < 3; i++) {
        gs[i] = (struct edge){0};
        CHECK_EQ(corio_agen_new(group_cleanup_gen, &gs[i], NULL, &gg[i]), 0);
        CHECK_EQ(corio_agen_next(gg[i], &x), 0);
    }
    /* 0: closed by hand; the close waits for the group. */
    CHECK_EQ(corio_agen_close(gg[0]), 0);
    CHECK_EQ(gs[0].cleanup, 1);
    CHECK_EQ(gs[0].children_done, 3);
    CHECK_EQ(gs[0].cleanup_rc, 0);
    CHECK_EQ(gs[0].last_rc, CORIO_EEXIT);
    CHECK_EQ(corio_agen_free(gg[0]), 0);
    /* 1: freed without aclose: its finalizer task runs the group. */
    CHECK_EQ(corio_agen_free(gg[1]), 0);
    CHECK_EQ(gs[1].cleanup, 0);
    WAIT_FOR(gs[1].cleanup == 1 && gs[1].children_done == 3);
    CHECK_EQ(gs[1].cleanup, 1);
    CHECK_EQ(gs[1].children_done, 3);
    CHECK_EQ(gs[1].cleanup_rc, 0);
    /* 2: left for corio_run's shutdown. */
    return 0;
}

TEST(agen_edge_cleanup_opens_group)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(group_cleanup_body), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "freed without aclose");
    free(err);
    CHECK_EQ(gs[2].cleanup, 1);
    CHECK_EQ(gs[2].rc1, 0);
    CHECK_EQ(gs[2].children_done, 3); /* the group ran to its end */
    CHECK_EQ(gs[2].cleanup_rc, 0);
    CHECK_EQ(corio_agen_state(gg[2]), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_free(gg[2]), 0);
}

/* Its cleanup spawns a task that outlives it (fire and forget). */
static int long_child(void *arg, void **result)
{
    struct edge *s = arg;
    (void)result;
    s->rc2 = corio_sleep(8.0);
    s->children_done++;
    return 0;
}

static int spawning_cleanup_gen(void *arg, void **result)
{
    struct edge *s = arg;
    int rc;
    (void)result;
    rc = corio_yield(IP(1), NULL);
    s->last_rc = rc;
    s->rc1 = corio_spawn(long_child, s, NULL, NULL);
    s->cleanup++;
    return rc;
}

static struct edge spawn_s;
static corio_agen *spawn_g;

static int spawning_cleanup_body(void)
{
    spawn_s = (struct edge){0};
    CHECK_EQ(corio_agen_new(spawning_cleanup_gen, &spawn_s, NULL, &spawn_g),
             0);
    CHECK_EQ(corio_agen_next(spawn_g, NULL), 0);
    return 0; /* left for corio_run */
}

/* asyncio.run does not wait for tasks that a generator's cleanup starts
 * during shutdown_asyncgens: corio_run cancels them, as it does the
 * leftovers, instead of waiting out their 8 s sleep. */
TEST(agen_edge_cleanup_spawns_task_at_run_end)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(spawning_cleanup_body), 0);
    err = corio_test_stderr_end();
    free(err);
    CHECK_EQ(spawn_s.cleanup, 1);
    CHECK_EQ(spawn_s.rc1, 0);
    /* Cancelled before it ever ran (as asyncio.run drops it unrun), not
     * waited for: its 8 s sleep never began. */
    CHECK_EQ(spawn_s.children_done, 0);
    CHECK_EQ(corio_agen_free(spawn_g), 0);
}

/* ---- a cleanup that ignores the close, then waits ------------------------------ */

/* First close: ignored (yields again). Second close: waits in cleanup. */
static int twice_gen(void *arg, void **result)
{
    struct edge *s = arg;
    (void)result;
    s->rc1 = corio_yield(IP(1), NULL);
    s->rc2 = corio_yield(IP(2), NULL);
    s->cleanup_rc = corio_sleep(s->cleanup_wait);
    s->cleanup++;
    return s->rc2;
}

static struct edge twice_s;

static int orphan_ignores_body(void)
{
    corio_coro_opts o = {.name = "twice"};
    corio_agen *g;
    double w = twice_s.cleanup_wait;
    twice_s = (struct edge){.cleanup_rc = 1, .cleanup_wait = w};
    CHECK_EQ(corio_agen_new(twice_gen, &twice_s, &o, &g), 0);
    CHECK_EQ(corio_agen_next(g, NULL), 0);
    CHECK_EQ(corio_agen_free(g), 0); /* its finalizer's aclose is ignored */
    /* Keep the loop going past the cleanup's 10 ms: nothing of the
     * destroyed generator may still be waiting on the finalizer task. */
    for (int i = 0; i < 5; i++)
        CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(twice_s.rc1, CORIO_EEXIT);
    CHECK_EQ(twice_s.cleanup, 1);
    CHECK_EQ(twice_s.rc2, CORIO_EEXIT);
    /* The finalizer task ended once, and only main is left. */
    CHECK_EQ(corio_loop_tasks(corio_loop_current(), NULL, 0), 1);
    return 0;
}

TEST(agen_edge_orphan_ignores_close_then_waits)
{
    /* A timed wait (its timer would fire on the finalizer task later) and
     * a sleep(0) (it queues the running task at once). */
    static const double waits[] = {0.01, 0};
    for (int i = 0; i < 2; i++) {
        char *err;
        twice_s.cleanup_wait = waits[i];
        corio_test_stderr_begin();
        CHECK_EQ(run(orphan_ignores_body), 0);
        err = corio_test_stderr_end();
        CHECK_STR_HAS(err, "async generator 'twice' ignored aclose");
        free(err);
        /* The second close had no task to wait in: its wait failed at
         * once (never "succeeded" on a task that went on without it). */
        CHECK_EQ(twice_s.cleanup_rc, CORIO_ENOTASK);
    }
}

/* The same, ignored while freed by hand inside a task whose loop does not
 * own it: the generator belongs to an earlier loop. */
static corio_agen *foreign_g;

static int foreign_first(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_agen_next(foreign_g, NULL);
}

static void stop_cb(void *arg)
{
    corio_loop_stop(arg);
}

static int foreign_free_body(void)
{
    CHECK_EQ(corio_agen_free(foreign_g), 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(corio_sleep(0.01), 0);
    /* main was never queued twice nor woken by the generator's wait */
    CHECK_EQ(corio_loop_tasks(corio_loop_current(), NULL, 0), 1);
    return 0;
}

static void free_ignoring_from_other_loop(double wait)
{
    corio_loop *a;
    char *err;
    twice_s = (struct edge){.cleanup_rc = 1, .cleanup_wait = wait};
    CHECK_EQ(corio_agen_new(twice_gen, &twice_s, NULL, &foreign_g), 0);
    CHECK_EQ(corio_loop_new(NULL, &a), 0);
    CHECK_EQ(corio_loop_spawn(a, foreign_first, NULL, NULL, NULL), 0);
    /* Run a until the task is done; g now belongs to a (still alive). */
    CHECK_EQ(corio_loop_call_later(a, 0.01, stop_cb, a, NULL), 0);
    CHECK_EQ(corio_loop_run(a), 0);
    CHECK_EQ(corio_agen_state(foreign_g), CORIO_CORO_SUSPENDED);
    corio_test_stderr_begin();
    CHECK_EQ(run(foreign_free_body), 0);
    err = corio_test_stderr_end();
    free(err);
    CHECK_EQ(twice_s.cleanup, 1);
    CHECK_EQ(twice_s.cleanup_rc, CORIO_ENOTASK);
    CHECK_EQ(corio_loop_free(a), 0); /* g is gone from its list */
}

TEST(agen_edge_free_ignoring_from_other_loop)
{
    free_ignoring_from_other_loop(0.01);
    free_ignoring_from_other_loop(0);
}

/* ---- frees from callbacks -------------------------------------------------------- */

static struct edge cb_s[3];
static int cb_rc[3];

static void free_cb(void *arg)
{
    cb_rc[0] = corio_agen_free(arg);
}

static void done_free_cb(corio_future *f, void *arg)
{
    (void)f;
    cb_rc[1] = corio_agen_free(arg);
}

/* A callback iterates a fresh generator by hand and frees it unfinished. */
static void iterate_and_free_cb(void *arg)
{
    corio_agen *g;
    (void)arg;
    if (corio_agen_new(sleepy_gen, &cb_s[2], NULL, &g) != 0)
        return;
    cb_s[2].rc1 = corio_agen_next(g, NULL);
    cb_rc[2] = corio_agen_free(g);
}

static int free_from_callbacks_body(void)
{
    corio_agen *g0, *g1;
    corio_future *f;
    for (int i = 0; i < 3; i++)
        cb_s[i] = (struct edge){.n = 10, .cleanup_wait = 0.002,
                                .cleanup_rc = 1};
    cb_rc[0] = cb_rc[1] = cb_rc[2] = 1;
    CHECK_EQ(corio_agen_new(sleepy_gen, &cb_s[0], NULL, &g0), 0);
    CHECK_EQ(corio_agen_new(sleepy_gen, &cb_s[1], NULL, &g1), 0);
    CHECK_EQ(corio_agen_next(g0, NULL), 0);
    CHECK_EQ(corio_agen_next(g1, NULL), 0);
    CHECK_EQ(corio_loop_call_soon(corio_loop_current(), free_cb, g0, NULL), 0);
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_future_add_done_callback(f, done_free_cb, g1), 0);
    CHECK_EQ(corio_future_set_result(f, NULL), 0);
    CHECK_EQ(corio_loop_call_soon(corio_loop_current(), iterate_and_free_cb,
                                  NULL, NULL),
             0);
    WAIT_FOR(cb_s[0].cleanup && cb_s[1].cleanup);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(cb_rc[i], 0);
        CHECK_EQ(cb_s[i].cleanup, 1);
        CHECK_EQ(cb_s[i].last_rc, CORIO_EEXIT);
        CHECK_EQ(cb_s[i].cleanup_rc, 0); /* closed in a task: could wait */
    }
    /* Iterated outside any task: its sleep failed, so it ended at once. */
    CHECK_EQ(cb_s[2].rc1, CORIO_ENOTASK);
    CHECK_EQ(cb_rc[2], 0);
    corio_future_release(f);
    return 0;
}

TEST(agen_edge_free_from_callbacks)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(free_from_callbacks_body), 0);
    err = corio_test_stderr_end();
    free(err);
}

/* ---- free inside the finalizer-pending window, then shutdown -------------------- */

static struct edge pend_s[3];

static int pending_then_shutdown_body(void)
{
    corio_agen *g[3];
    for (int i = 0; i < 3; i++) {
        pend_s[i] = (struct edge){.n = 10, .cleanup_wait = 0.005,
                                  .cleanup_rc = 1};
        CHECK_EQ(corio_agen_new(sleepy_gen, &pend_s[i], NULL, &g[i]), 0);
        CHECK_EQ(corio_agen_next(g[i], NULL), 0);
    }
    CHECK_EQ(corio_agen_free(g[0]), 0); /* finalizer spawned, not started */
    CHECK_EQ(corio_agen_shutdown(), 0);
    /* shutdown closed the two it owns and did not touch the orphan twice */
    for (int i = 1; i < 3; i++) {
        CHECK_EQ(pend_s[i].cleanup, 1);
        CHECK_EQ(pend_s[i].cleanup_rc, 0);
        CHECK_EQ(corio_agen_state(g[i]), CORIO_CORO_CLOSED);
    }
    WAIT_FOR(pend_s[0].cleanup);
    CHECK_EQ(pend_s[0].cleanup, 1);
    CHECK_EQ(pend_s[0].cleanup_rc, 0);
    CHECK_EQ(corio_agen_shutdown(), 0);
    CHECK_EQ(pend_s[0].cleanup, 1);
    for (int i = 1; i < 3; i++)
        CHECK_EQ(corio_agen_free(g[i]), 0);
    return 0;
}

TEST(agen_edge_free_pending_then_shutdown)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(pending_then_shutdown_body), 0);
    err = corio_test_stderr_end();
    free(err);
}

/* ---- corio_run ends while another task is parked inside next -------------------- */

static struct edge parked_s;
static corio_agen *parked_g;

static int next_all(void *arg, void **result)
{
    struct edge *s = arg;
    int rc;
    (void)result;
    while ((rc = corio_agen_next(parked_g, NULL)) == 0)
        ;
    s->consumer_rc = rc;
    return rc;
}

static int main_leaves_parked_body(void)
{
    parked_s = (struct edge){.n = 100, .wait = 10.0, .cleanup_wait = 0.001,
                             .cleanup_rc = 1};
    CHECK_EQ(corio_agen_new(sleepy_gen, &parked_s, NULL, &parked_g), 0);
    CHECK_EQ(corio_spawn(next_all, &parked_s, NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(corio_agen_state(parked_g), CORIO_CORO_RUNNING);
    return 42 - 42;
}

TEST(agen_edge_run_ends_with_task_in_next)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(main_leaves_parked_body), 0);
    err = corio_test_stderr_end();
    free(err);
    CHECK_EQ(parked_s.consumer_rc, -ECANCELED);
    CHECK_EQ(parked_s.last_rc, -ECANCELED); /* the sleep(10) was cut */
    CHECK_EQ(parked_s.cleanup, 1);
    CHECK_EQ(parked_s.cleanup_rc, -ECANCELED); /* still cancelled */
    CHECK_EQ(corio_agen_state(parked_g), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_free(parked_g), 0);
}

/* ---- corio_loop_free with a task parked inside next ----------------------------- */

/* Parked in a long sleep; when that fails it yields anyway, twice. */
static int stubborn_wait_gen(void *arg, void **result)
{
    struct edge *s = arg;
    int rc;
    (void)result;
    s->rc1 = corio_sleep(10.0);
    s->rc2 = corio_yield(IP(1), NULL);
    rc = corio_yield(IP(2), NULL);
    s->rc3 = rc;
    s->cleanup++;
    return rc;
}

static int stop_soon(void *arg, void **result)
{
    (void)arg;
    (void)result;
    corio_sleep(0.005);
    corio_loop_stop(corio_loop_current());
    return 0;
}

TEST(agen_edge_loop_free_parked_in_next_yields_again)
{
    struct edge s = {.rc1 = 1, .rc2 = 1, .rc3 = 1};
    corio_loop *loop;
    corio_agen *g;
    char *err;

    CHECK_EQ(corio_agen_new(stubborn_wait_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_spawn(loop, next_once, g, NULL, NULL), 0);
    CHECK_EQ(corio_loop_spawn(loop, stop_soon, NULL, NULL, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_RUNNING);
    corio_test_stderr_begin();
    CHECK_EQ(corio_loop_free(loop), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "ignored aclose");
    free(err);
    CHECK_EQ(s.rc1, -ECANCELED); /* the task's teardown reached the wait */
    CHECK_EQ(s.rc2, CORIO_EEXIT); /* the loop's close */
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_SUSPENDED); /* ignored it */
    corio_test_stderr_begin();
    CHECK_EQ(corio_agen_free(g), 0); /* closed again, now it ends */
    err = corio_test_stderr_end();
    free(err);
    CHECK_EQ(s.rc3, CORIO_EEXIT);
    CHECK_EQ(s.cleanup, 1);
}

/* Parked in a sleep; when that fails, awaits a future raw (a wait the dying
 * task cannot serve). */
static int raw_after_close_gen(void *arg, void **result)
{
    struct edge *s = arg;
    (void)result;
    s->rc1 = corio_sleep(10.0);
    s->rc2 = corio_await(s->fut, NULL);
    s->cleanup++;
    return s->rc2;
}

TEST(agen_edge_loop_free_abandons_running)
{
    struct edge s = {.rc1 = 1, .rc2 = 1};
    corio_loop *loop;
    corio_agen *g;
    corio_task *t;
    char *err;

    CHECK_EQ(corio_agen_new(raw_after_close_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_future_new(loop, &s.fut), 0);
    CHECK_EQ(corio_loop_spawn(loop, next_once, g, NULL, &t), 0);
    CHECK_EQ(corio_loop_spawn(loop, stop_soon, NULL, NULL, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    corio_test_stderr_begin();
    CHECK_EQ(corio_loop_free(loop), 0);
    err = corio_test_stderr_end();
    free(err);
    CHECK_EQ(s.rc1, -ECANCELED);
    if (s.cleanup == 0) {
        /* Abandoned, still inside the dead task's next: misuse is refused
         * rather than resuming frames that belong to that task. */
        CHECK_EQ(corio_agen_state(g), CORIO_CORO_RUNNING);
        CHECK_EQ(corio_agen_close(g), CORIO_ERUNNING);
        CHECK_EQ(corio_agen_free(g), CORIO_ERUNNING);
    }
    /* Dropping the task closes its coroutine, which ends the next. */
    corio_test_stderr_begin();
    corio_task_release(t);
    err = corio_test_stderr_end();
    free(err);
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_free(g), 0);
    corio_future_release(s.fut);
}

/* ---- ten thousand unfinished generators -------------------------------------------- */

#define MANY 10000

static corio_agen **many_g;
static struct edge *many_s;
static int many_finalized;

static int many_gen(void *arg, void **result)
{
    struct edge *s = arg;
    int rc;
    (void)result;
    rc = corio_yield(IP(1), NULL);
    s->last_rc = rc;
    s->cleanup_rc = corio_sleep(0); /* cleanup waits once */
    s->cleanup++;
    many_finalized++;
    return rc;
}

static int many_left_body(void)
{
    corio_coro_opts small = {.stack_size = 16 * 1024};
    for (int i = 0; i < MANY; i++) {
        many_s[i] = (struct edge){.cleanup_rc = 1};
        CHECK_EQ(corio_agen_new(many_gen, &many_s[i], &small, &many_g[i]), 0);
        CHECK_EQ(corio_agen_next(many_g[i], NULL), 0);
    }
    return 0;
}

/* (How fast they close is for make bench; the runner's timeout catches a
 * run that never ends.) */
TEST(agen_edge_many_left_at_run_end)
{
    many_g = calloc(MANY, sizeof *many_g);
    many_s = calloc(MANY, sizeof *many_s);
    many_finalized = 0;
    CHECK_EQ(run(many_left_body), 0);
    CHECK_EQ(many_finalized, MANY);
    for (int i = 0; i < MANY; i++) {
        CHECK_EQ(many_s[i].cleanup, 1);
        CHECK_EQ(many_s[i].last_rc, CORIO_EEXIT);
        CHECK_EQ(many_s[i].cleanup_rc, 0); /* each closed in its own task */
        CHECK_EQ(corio_agen_state(many_g[i]), CORIO_CORO_CLOSED);
        CHECK_EQ(corio_agen_free(many_g[i]), 0);
    }
    free(many_g);
    free(many_s);
}

static int many_freed_body(void)
{
    corio_coro_opts small = {.stack_size = 16 * 1024};
    for (int i = 0; i < MANY; i++) {
        corio_agen *g;
        many_s[i] = (struct edge){.cleanup_rc = 1};
        CHECK_EQ(corio_agen_new(many_gen, &many_s[i], &small, &g), 0);
        CHECK_EQ(corio_agen_next(g, NULL), 0);
        CHECK_EQ(corio_agen_free(g), 0);
    }
    while (many_finalized < MANY)
        CHECK_EQ(corio_sleep(0.001), 0);
    return 0;
}

TEST(agen_edge_many_freed_unfinished)
{
    char *err;
    many_s = calloc(MANY, sizeof *many_s);
    many_finalized = 0;
    corio_test_stderr_begin();
    CHECK_EQ(run(many_freed_body), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "freed without aclose");
    free(err);
    for (int i = 0; i < MANY; i++) {
        CHECK_EQ(many_s[i].cleanup, 1);
        CHECK_EQ(many_s[i].cleanup_rc, 0);
    }
    free(many_s);
}
