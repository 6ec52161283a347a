/*
 * test_agen_edge.c: adversarial cases for async generators (corio/agen.h):
 * operations on a generator from inside its own body, cleanups that spawn
 * tasks, open groups or ignore the close, frees from callbacks and from
 * the finalizer-pending window, teardown while a task is parked inside
 * next, lean generators nested deep, shields and groups around a yield,
 * cancellation reaching nested waits, corio_fail messages, thousands of
 * unfinished generators at the end of corio_run, odd send/throw values,
 * and use from the wrong thread while the owner is busy with it.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* Wait (up to ~5 s) for work a task we cannot join does, such as a
 * finalizer: never a bet on how soon a loaded machine runs it. */
#define WAIT_FOR(cond)                                                     \
    do {                                                                   \
        for (int wait_i_ = 0; wait_i_ < 1000 && !(cond); wait_i_++)        \
            CHECK_EQ(corio_sleep(0.005), 0);                               \
    } while (0)

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

/* What a test generator records. */
struct edge {
    int n;           /* items to yield */
    int yielded;
    int cleanup;     /* times the cleanup ran */
    int cleanup_rc;  /* what the cleanup's wait returned */
    int last_rc;     /* the error that ended the loop */
    int rc1, rc2, rc3;
    int children_done;
    int consumer_rc;
    double wait;     /* seconds per item */
    double cleanup_wait;
    corio_future *fut;
    corio_agen *inner;
    intptr_t add;
};

/* Sleeps s->wait before each of s->n items; on an error records it, waits
 * s->cleanup_wait in its cleanup and returns the error. */
static int sleepy_gen(void *arg, void **result)
{
    struct edge *s = arg;
    (void)result;
    for (int i = 0; i < s->n; i++) {
        int rc = corio_sleep(s->wait);
        if (rc == 0)
            rc = corio_yield(IP(i), NULL);
        if (rc) {
            s->last_rc = rc;
            s->cleanup_rc = corio_sleep(s->cleanup_wait);
            s->cleanup++;
            return rc;
        }
        s->yielded++;
    }
    return 0;
}

static int next_once(void *arg, void **result)
{
    return corio_agen_next(arg, result);
}

/* ---- operations on a generator from inside its own body ------------------------ */

static corio_agen *self_g;
static int self_rc[10];

static int self_gen(void *arg, void **result)
{
    void *x = IP(7);
    int rc;
    (void)arg;
    (void)result;
    self_rc[0] = corio_agen_close(self_g);
    self_rc[1] = corio_agen_free(self_g);
    self_rc[2] = corio_agen_next(self_g, &x);
    self_rc[3] = x == NULL; /* *item cleared on failure */
    self_rc[4] = corio_agen_send(self_g, IP(3), &x);
    self_rc[5] = corio_agen_throw(self_g, -EIO, &x);
    self_rc[6] = corio_agen_state(self_g);
    /* Inside a task: shutdown leaves the running generator alone. */
    self_rc[7] = corio_task_current() ? corio_agen_shutdown() : 0;
    rc = corio_yield(IP(1), NULL);
    if (rc) {
        /* While being closed, it is still running. */
        self_rc[8] = corio_agen_close(self_g);
        self_rc[9] = corio_agen_free(self_g);
        return rc;
    }
    return 0;
}

static void check_self_ops(void)
{
    void *x;
    memset(self_rc, 0x55, sizeof self_rc);
    CHECK_EQ(corio_agen_new(self_gen, NULL, NULL, &self_g), 0);
    CHECK_EQ(corio_agen_next(self_g, &x), 0);
    CHECK_EQ(PI(x), 1);
    for (int i = 0; i <= 5; i++)
        if (i != 3)
            CHECK_EQ(self_rc[i], CORIO_ERUNNING);
    CHECK_EQ(self_rc[3], 1);
    CHECK_EQ(self_rc[6], CORIO_CORO_RUNNING);
    CHECK_EQ(self_rc[7], 0);
    CHECK_EQ(corio_agen_state(self_g), CORIO_CORO_SUSPENDED);
    CHECK_EQ(corio_agen_close(self_g), 0);
    CHECK_EQ(self_rc[8], CORIO_ERUNNING);
    CHECK_EQ(self_rc[9], CORIO_ERUNNING);
    CHECK_EQ(corio_agen_state(self_g), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_free(self_g), 0);
}

static int self_ops_body(void)
{
    check_self_ops();
    return 0;
}

TEST(agen_edge_self_ops_from_body)
{
    check_self_ops();              /* by hand, no loop */
    CHECK_EQ(run(self_ops_body), 0); /* inside a task */
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
        CHECK_EQ(twice_s.cleanup_rc, CORIO_ENOLOOP);
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
    CHECK_EQ(twice_s.cleanup_rc, CORIO_ENOLOOP);
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
    CHECK_EQ(cb_s[2].rc1, CORIO_ENOLOOP);
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
    double t0 = now_s();
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(main_leaves_parked_body), 0);
    err = corio_test_stderr_end();
    free(err);
    CHECK(now_s() - t0 < 5.0);
    CHECK_EQ(parked_s.consumer_rc, -ECANCELED);
    CHECK_EQ(parked_s.last_rc, -ECANCELED);
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

/* ---- lean nesting ------------------------------------------------------------------ */

/* Yields inner's items plus s->add; with no inner, yields 0..n-1. Sleeps
 * between items and keeps a buffer on its (shared) stack. */
static int adder_gen(void *arg, void **result)
{
    struct edge *s = arg;
    volatile char buf[512];
    void *x;
    int rc;
    (void)result;
    for (int i = 0;; i++) {
        if (s->inner) {
            rc = corio_agen_next(s->inner, &x);
            if (rc == CORIO_AGEN_END) {
                rc = 0;
                break;
            }
        } else {
            if (i == s->n)
                break;
            x = IP(i);
            rc = 0;
        }
        buf[i % 512] = (char)i;
        if (rc == 0)
            rc = corio_sleep(0);
        if (rc == 0)
            rc = corio_yield(IP(PI(x) + s->add), NULL);
        if (rc)
            break;
        if (buf[i % 512] != (char)i)
            return -EFAULT; /* the shared stack was not restored */
    }
    if (s->inner) {
        int crc = corio_agen_close(s->inner);
        if (rc == 0)
            rc = crc;
    }
    return rc;
}

struct lean_chain {
    struct edge s[3];
    corio_agen *g[3];
    intptr_t sum;
    int rc;
};

static int lean_chain_consumer(void *arg, void **result)
{
    struct lean_chain *c = arg;
    volatile char buf[256];
    void *x;
    int rc;
    (void)result;
    memset((char *)buf, 0x5a, sizeof buf);
    c->sum = 0;
    while ((rc = corio_agen_next(c->g[0], &x)) == 0) {
        c->sum += PI(x);
        if (buf[PI(x) % 256] != 0x5a)
            return -EFAULT;
    }
    c->rc = rc;
    return rc == CORIO_AGEN_END ? 0 : rc;
}

static int churn(void *arg, void **result)
{
    volatile char buf[1024];
    (void)arg;
    (void)result;
    for (int i = 0; i < 50; i++) {
        buf[i] = (char)i;
        if (corio_sleep(0) != 0)
            return 0;
        if (buf[i] != (char)i)
            return -EFAULT;
    }
    return 0;
}

static int lean_nested_body(void)
{
    corio_coro_opts lean = {.name = "lean", .flags = CORIO_CORO_LEAN};
    corio_task_opts tlean = {.flags = CORIO_CORO_LEAN};
    struct lean_chain c[4];
    corio_task *t[4], *ch[8];

    for (int k = 0; k < 4; k++) {
        memset(&c[k], 0, sizeof c[k]);
        for (int d = 2; d >= 0; d--) {
            c[k].s[d].n = 10;
            c[k].s[d].add = d == 2 ? 0 : 100;
            c[k].s[d].inner = d == 2 ? NULL : c[k].g[d + 1];
            CHECK_EQ(corio_agen_new(adder_gen, &c[k].s[d], &lean, &c[k].g[d]),
                     0);
        }
        CHECK_EQ(corio_spawn(lean_chain_consumer, &c[k], &tlean, &t[k]), 0);
    }
    for (int i = 0; i < 8; i++)
        CHECK_EQ(corio_spawn(churn, NULL, &tlean, &ch[i]), 0);
    for (int k = 0; k < 4; k++) {
        CHECK_EQ(corio_task_join(t[k], NULL), 0);
        CHECK_EQ(c[k].rc, CORIO_AGEN_END);
        CHECK_EQ(c[k].sum, 45 + 200 * 10);
        corio_task_release(t[k]);
        for (int d = 0; d < 3; d++) {
            CHECK_EQ(corio_agen_state(c[k].g[d]), CORIO_CORO_CLOSED);
            CHECK_EQ(corio_agen_free(c[k].g[d]), 0);
        }
    }
    for (int i = 0; i < 8; i++) {
        CHECK_EQ(corio_task_join(ch[i], NULL), 0);
        corio_task_release(ch[i]);
    }
    return 0;
}

TEST(agen_edge_lean_nested_three_deep)
{
    CHECK_EQ(run(lean_nested_body), 0);
}

/* ---- a shield the generator opened ------------------------------------------------ */

static int shield_gen(void *arg, void **result)
{
    struct edge *s = arg;
    corio_scope *sh;
    (void)result;
    CHECK_EQ(corio_shield(&sh), 0);
    s->rc1 = corio_sleep(0.02); /* the consumer is cancelled meanwhile */
    s->rc2 = corio_yield(IP(1), NULL); /* refused: inside its own shield */
    s->rc3 = corio_scope_close(sh, s->rc2);
    s->cleanup++;
    return s->rc3;
}

static int shield_consumer(void *arg, void **result)
{
    struct edge *s = arg;
    void *x = IP(9);
    (void)result;
    s->consumer_rc = corio_agen_next(s->inner, &x);
    s->yielded = x != NULL;
    s->cleanup_rc = corio_sleep(0); /* the cancel still stands */
    return s->cleanup_rc;
}

static int shield_body(void)
{
    struct edge s = {.rc1 = 1, .rc2 = 1, .rc3 = 1};
    corio_task *t;
    CHECK_EQ(corio_agen_new(shield_gen, &s, NULL, &s.inner), 0);
    CHECK_EQ(corio_spawn(shield_consumer, &s, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(s.rc1, 0); /* shielded from the consumer's cancel */
    CHECK_EQ(s.rc2, CORIO_EYIELDSCOPE);
    CHECK_EQ(s.rc3, CORIO_EYIELDSCOPE);
    CHECK_EQ(s.consumer_rc, CORIO_EYIELDSCOPE);
    CHECK_EQ(s.yielded, 0); /* the item never arrived */
    CHECK_EQ(s.cleanup_rc, -ECANCELED);
    CHECK_EQ(corio_agen_state(s.inner), CORIO_CORO_CLOSED);
    corio_task_release(t);
    CHECK_EQ(corio_agen_free(s.inner), 0);
    return 0;
}

TEST(agen_edge_yield_inside_own_shield)
{
    CHECK_EQ(run(shield_body), 0);
}

/* ---- the consumer's own scope cancelled between two nexts ------------------------- */

/* Yields 0..n-1 without ever waiting. */
static int plain_gen(void *arg, void **result)
{
    struct edge *s = arg;
    (void)result;
    for (int i = 0; i < s->n; i++) {
        int rc = corio_yield(IP(i), NULL);
        if (rc) {
            s->last_rc = rc;
            s->cleanup++;
            return rc;
        }
    }
    return 0;
}

static int scope_between_body(void)
{
    struct edge s = {.n = 5, .wait = 0.001, .cleanup_rc = 1};
    struct edge p = {.n = 5};
    corio_scope *sc;
    corio_agen *g, *pg;
    void *x;
    int rc;

    CHECK_EQ(corio_agen_new(sleepy_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_new(plain_gen, &p, NULL, &pg), 0);
    CHECK_EQ(corio_move_on_after(100.0, &sc), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_next(pg, &x), 0);
    corio_scope_cancel(sc);
    /* A generator that never waits has no point to be cancelled at (as in
     * Python: cancellation lands on awaits only). */
    CHECK_EQ(corio_agen_next(pg, &x), 0);
    CHECK_EQ(PI(x), 1);
    /* One that waits sees it at its wait. */
    rc = corio_agen_next(g, &x);
    CHECK_EQ(rc, -ECANCELED);
    CHECK_PTR(x, NULL);
    CHECK_EQ(s.last_rc, -ECANCELED);
    CHECK_EQ(s.cleanup_rc, -ECANCELED); /* still inside the scope */
    CHECK_EQ(corio_scope_close(sc, rc), 0);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK_EQ(corio_agen_next(g, &x), CORIO_AGEN_END);
    /* Outside the scope the other one goes on normally. */
    CHECK_EQ(corio_agen_next(pg, &x), 0);
    CHECK_EQ(PI(x), 2);
    CHECK_EQ(corio_agen_close(pg), 0);
    CHECK_EQ(p.last_rc, CORIO_EEXIT);
    CHECK_EQ(corio_sleep(0), 0);
    corio_agen_free(g);
    corio_agen_free(pg);
    return 0;
}

TEST(agen_edge_consumer_scope_cancelled_between_nexts)
{
    CHECK_EQ(run(scope_between_body), 0);
}

/* ---- cancellation delivered inside a nested generator's wait --------------------- */

static int nested_consumer(void *arg, void **result)
{
    struct edge *outer = arg;
    int rc;
    (void)result;
    while ((rc = corio_agen_next(outer->inner, NULL)) == 0)
        outer->yielded++;
    outer->consumer_rc = rc;
    return rc;
}

/* Passes on its inner generator's items; on an error, records it, closes
 * the inner one (which may wait) and returns the error. */
static int relay_gen(void *arg, void **result)
{
    struct edge *s = arg;
    void *x;
    int rc;
    (void)result;
    while ((rc = corio_agen_next(s->inner, &x)) == 0)
        if ((rc = corio_yield(x, NULL)) != 0)
            break;
    s->last_rc = rc;
    s->rc1 = corio_agen_close(s->inner);
    s->cleanup_rc = corio_sleep(0);
    s->cleanup++;
    return rc == CORIO_AGEN_END ? 0 : rc;
}

static int nested_cancel_body(void)
{
    struct edge in = {.n = 10, .wait = 0.001, .cleanup_wait = 0.001,
                      .cleanup_rc = 1};
    struct edge out = {.rc1 = 1};
    struct edge top = {0};
    corio_agen *gi, *go;
    corio_task *t;

    CHECK_EQ(corio_agen_new(sleepy_gen, &in, NULL, &gi), 0);
    out.inner = gi;
    CHECK_EQ(corio_agen_new(relay_gen, &out, NULL, &go), 0);
    top.inner = go;
    CHECK_EQ(corio_spawn(nested_consumer, &top, NULL, &t), 0);
    while (in.yielded < 3)
        CHECK_EQ(corio_sleep(0), 0);
    in.wait = 10.0; /* the next wait is long: the cancel lands there */
    while (corio_agen_state(gi) != CORIO_CORO_RUNNING || in.yielded < 4)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_sleep(0.002), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(top.consumer_rc, -ECANCELED);
    CHECK_EQ(in.last_rc, -ECANCELED);
    CHECK_EQ(in.cleanup, 1);
    CHECK_EQ(in.cleanup_rc, -ECANCELED);
    CHECK_EQ(out.last_rc, -ECANCELED);
    CHECK_EQ(out.rc1, 0); /* the inner one was closed already */
    CHECK_EQ(out.cleanup, 1);
    CHECK_EQ(out.cleanup_rc, -ECANCELED);
    CHECK_EQ(top.yielded, in.yielded); /* nothing lost on the way */
    CHECK_EQ(corio_agen_state(gi), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_state(go), CORIO_CORO_CLOSED);
    corio_task_release(t);
    corio_agen_free(go);
    corio_agen_free(gi);
    return 0;
}

TEST(agen_edge_cancel_inside_nested_wait)
{
    CHECK_EQ(run(nested_cancel_body), 0);
}

/* ---- corio_fail from a generator ---------------------------------------------------- */

static int fail_msg_gen(void *arg, void **result)
{
    (void)arg;
    (void)result;
    if (corio_yield(IP(1), NULL) != 0)
        return CORIO_EEXIT;
    return corio_fail(-EPROTO, "generator broke at item %d", 2);
}

static int fail_consumer(void *arg, void **result)
{
    corio_agen *g = arg;
    int rc;
    (void)result;
    while ((rc = corio_agen_next(g, NULL)) == 0)
        ;
    return rc;
}

static int fail_msg_body(void)
{
    corio_agen *g;
    corio_task *t;
    CHECK_EQ(corio_agen_new(fail_msg_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_spawn(fail_consumer, g, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -EPROTO);
    /* The generator runs as part of its consumer's task: the message is
     * that task's. */
    CHECK_STR_HAS(corio_task_message(t), "generator broke at item 2");
    CHECK(corio_task_message(corio_task_current()) == NULL);
    CHECK_EQ(corio_agen_next(g, NULL), CORIO_AGEN_END);
    corio_task_release(t);
    corio_agen_free(g);
    return 0;
}

TEST(agen_edge_fail_message)
{
    corio_agen *g;
    CHECK_EQ(run(fail_msg_body), 0);
    /* By hand there is no task to keep the message: the error stands. */
    CHECK_EQ(corio_agen_new(fail_msg_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, NULL), 0);
    CHECK_EQ(corio_agen_next(g, NULL), -EPROTO);
    CHECK_EQ(corio_agen_free(g), 0);
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

TEST(agen_edge_many_left_at_run_end)
{
    double t0, limit = corio_test_under_valgrind() ? 600 : 20;
    many_g = calloc(MANY, sizeof *many_g);
    many_s = calloc(MANY, sizeof *many_s);
    many_finalized = 0;
    t0 = now_s();
    CHECK_EQ(run(many_left_body), 0);
    CHECK(now_s() - t0 < limit);
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
    double t0, limit = corio_test_under_valgrind() ? 600 : 20;
    char *err;
    many_s = calloc(MANY, sizeof *many_s);
    many_finalized = 0;
    t0 = now_s();
    corio_test_stderr_begin();
    CHECK_EQ(run(many_freed_body), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "freed without aclose");
    free(err);
    CHECK(now_s() - t0 < limit);
    for (int i = 0; i < MANY; i++) {
        CHECK_EQ(many_s[i].cleanup, 1);
        CHECK_EQ(many_s[i].cleanup_rc, 0);
    }
    free(many_s);
}

/* ---- send and throw with odd values ------------------------------------------------- */

/* Echoes what it is sent; a thrown error is yielded back as an item once
 * (as a value), except -EPIPE, which ends it normally, and -ENOSPC, which
 * it returns as a positive number (outside the body contract). */
static int echo_any_gen(void *arg, void **result)
{
    void *v = NULL;
    int rc;
    (void)arg;
    (void)result;
    for (;;) {
        rc = corio_yield(v, &v);
        if (rc == -EPIPE)
            return 0;
        if (rc == -ENOSPC)
            return ENOSPC;
        if (rc == CORIO_EEXIT || rc == INT_MIN)
            return rc;
        if (rc)
            v = IP(rc);
    }
}

static void check_odd_values(void)
{
    corio_agen *g;
    void *x;

    CHECK_EQ(corio_agen_new(echo_any_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_agen_throw(g, -1, &x), -1); /* unstarted: not run */
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_send(g, NULL, &x), CORIO_AGEN_END);
    corio_agen_free(g);

    CHECK_EQ(corio_agen_new(echo_any_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_agen_send(g, NULL, &x), 0);
    CHECK_PTR(x, NULL);
    CHECK_EQ(corio_agen_send(g, (void *)UINTPTR_MAX, &x), 0);
    CHECK_PTR(x, (void *)UINTPTR_MAX);
    CHECK_EQ(corio_agen_send(g, IP(-5), &x), 0);
    CHECK_EQ(PI(x), -5);
    CHECK_EQ(corio_agen_throw(g, -ECANCELED, &x), 0); /* handled */
    CHECK_EQ(PI(x), -ECANCELED);
    CHECK_EQ(corio_agen_throw(g, CORIO_EYIELDSCOPE, &x), 0);
    CHECK_EQ(PI(x), CORIO_EYIELDSCOPE);
    CHECK_EQ(corio_agen_throw(g, INT_MAX, &x), -EINVAL);
    CHECK_EQ(corio_agen_throw(g, CORIO_AGEN_END, &x), -EINVAL);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_SUSPENDED);
    CHECK_EQ(corio_agen_throw(g, INT_MIN, &x), INT_MIN);
    CHECK_PTR(x, NULL);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_throw(g, INT_MIN, &x), CORIO_AGEN_END);
    corio_agen_free(g);

    /* athrow(GeneratorExit) that is not handled: the error comes back. */
    CHECK_EQ(corio_agen_new(echo_any_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_throw(g, CORIO_EEXIT, &x), CORIO_EEXIT);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    corio_agen_free(g);

    /* A throw the generator turns into a normal return: the end. */
    CHECK_EQ(corio_agen_new(echo_any_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_throw(g, -EPIPE, &x), CORIO_AGEN_END);
    corio_agen_free(g);

    /* A body returning a positive value breaks its contract: -EINVAL, and
     * never confused with CORIO_AGEN_END. */
    CHECK_EQ(corio_agen_new(echo_any_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_throw(g, -ENOSPC, &x), -EINVAL);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    corio_agen_free(g);
}

static int odd_values_body(void)
{
    check_odd_values();
    /* A -ECANCELED thrown in is the generator's business, not a cancel of
     * the task that drives it. */
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK_EQ(corio_sleep(0), 0);
    return 0;
}

TEST(agen_edge_send_throw_odd_values)
{
    check_odd_values();
    CHECK_EQ(run(odd_values_body), 0);
}

/* ---- EYIELDSCOPE from inside a group whose child already failed --------------------- */

static int failing_child(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_fail(-EIO, "child failed");
}

static int group_yield_gen(void *arg, void **result)
{
    struct edge *s = arg;
    corio_group *gr;
    int rc;
    (void)result;
    CHECK_EQ(corio_group_open(&gr), 0);
    CHECK_EQ(corio_group_spawn(gr, failing_child, NULL, NULL, NULL), 0);
    s->rc1 = corio_sleep(1.0);          /* the child's failure cancels this */
    s->rc2 = corio_yield(IP(1), NULL);  /* refused anyway */
    rc = corio_group_wait(gr, s->rc2);
    s->rc3 = rc;
    corio_group_free(gr);
    s->cleanup++;
    return rc;
}

static int group_yield_body(void)
{
    struct edge s = {.rc1 = 1, .rc2 = 1, .rc3 = 1};
    corio_agen *g;
    void *x = IP(3);
    CHECK_EQ(corio_agen_new(group_yield_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), -EIO); /* the child's error wins */
    CHECK_PTR(x, NULL);
    CHECK_EQ(s.rc1, -ECANCELED);
    CHECK_EQ(s.rc2, CORIO_EYIELDSCOPE);
    CHECK_EQ(s.rc3, -EIO);
    CHECK_EQ(s.cleanup, 1);
    /* The group's cancel of its parent was withdrawn: the consumer runs on
     * uncancelled. */
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK(corio_current_deadline() > 1e300);
    corio_agen_free(g);
    return 0;
}

TEST(agen_edge_yieldscope_in_failed_group)
{
    CHECK_EQ(run(group_yield_body), 0);
}

/* ---- aclose by a consumer that is being cancelled ----------------------------------- */

static int self_cancel_closer(void *arg, void **result)
{
    struct edge *s = arg;
    (void)result;
    corio_task_cancel(corio_task_current());
    s->consumer_rc = corio_agen_close(s->inner);
    return corio_sleep(0);
}

static int aclose_cancelled_body(void)
{
    struct edge s = {.n = 10, .cleanup_wait = 1.0, .cleanup_rc = 1};
    corio_agen *g;
    corio_task *t;
    double t0 = now_s();
    CHECK_EQ(corio_agen_new(sleepy_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, NULL), 0);
    s.inner = g;
    CHECK_EQ(corio_spawn(self_cancel_closer, &s, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK(now_s() - t0 < 0.5);          /* the cleanup's wait was cut */
    CHECK_EQ(s.consumer_rc, 0);         /* it returned CORIO_EEXIT: fine */
    CHECK_EQ(s.last_rc, CORIO_EEXIT);
    CHECK_EQ(s.cleanup_rc, -ECANCELED);
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    corio_task_release(t);
    corio_agen_free(g);
    return 0;
}

TEST(agen_edge_aclose_by_cancelled_consumer)
{
    CHECK_EQ(run(aclose_cancelled_body), 0);
}

/* ---- nested generators finalized concurrently ----------------------------------------- */

static struct edge nf_in, nf_out;

static int nested_finalize_body(void)
{
    corio_agen *gi, *go;
    nf_in = (struct edge){.n = 10, .cleanup_wait = 0.002, .cleanup_rc = 1};
    nf_out = (struct edge){.rc1 = 1, .cleanup_rc = 1};
    CHECK_EQ(corio_agen_new(sleepy_gen, &nf_in, NULL, &gi), 0);
    nf_out.inner = gi;
    CHECK_EQ(corio_agen_new(relay_gen, &nf_out, NULL, &go), 0);
    CHECK_EQ(corio_agen_next(go, NULL), 0);
    /* Both unfinished: the outer one is dropped, then shutdown closes the
     * inner one while the outer one's finalizer closes it too. */
    CHECK_EQ(corio_agen_free(go), 0);
    CHECK_EQ(corio_agen_shutdown(), 0);
    WAIT_FOR(nf_in.cleanup && nf_out.cleanup);
    CHECK_EQ(nf_in.cleanup, 1); /* exactly once */
    CHECK_EQ(nf_in.cleanup_rc, 0);
    CHECK_EQ(nf_out.cleanup, 1);
    CHECK_EQ(corio_agen_state(gi), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_free(gi), 0);
    return 0;
}

TEST(agen_edge_nested_finalized_concurrently)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(nested_finalize_body), 0);
    err = corio_test_stderr_end();
    free(err);
    /* The outer cleanup's close of the inner one either did it or found
     * it in use by its own finalizer; never anything else. */
    CHECK(nf_out.rc1 == 0 || nf_out.rc1 == CORIO_ERUNNING);
}

/* ---- the wrong thread, while the owner is using the generator ----------------------- */

static atomic_int hammer_go, hammer_stop, hammer_bad, hammer_calls;

static void *hammer(void *arg)
{
    corio_agen *g = arg;
    while (!atomic_load(&hammer_go))
        ;
    while (!atomic_load(&hammer_stop)) {
        void *x = IP(1);
        int rc[5];
        rc[0] = corio_agen_next(g, &x);
        rc[1] = corio_agen_send(g, IP(2), &x);
        rc[2] = corio_agen_throw(g, -EIO, &x);
        rc[3] = corio_agen_close(g);
        rc[4] = corio_agen_free(g);
        for (int i = 0; i < 5; i++)
            if (rc[i] != CORIO_EWRONGTHREAD)
                atomic_fetch_add(&hammer_bad, 1);
        if (x != NULL)
            atomic_fetch_add(&hammer_bad, 1);
        atomic_fetch_add(&hammer_calls, 1);
    }
    return NULL;
}

static int thread_hammer_body(void)
{
    struct edge s = {.n = 1 << 30, .wait = 0};
    corio_agen *g;
    pthread_t th;
    double t0;
    void *x;

    CHECK_EQ(corio_agen_new(sleepy_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0); /* belongs to this loop now */
    atomic_store(&hammer_go, 0);
    atomic_store(&hammer_stop, 0);
    atomic_store(&hammer_bad, 0);
    atomic_store(&hammer_calls, 0);
    CHECK_EQ(pthread_create(&th, NULL, hammer, g), 0);
    atomic_store(&hammer_go, 1);
    t0 = now_s();
    /* Keep using it here (busy flips, the stack switches) meanwhile. */
    for (int i = 1; now_s() - t0 < 0.2 || atomic_load(&hammer_calls) < 10;
         i++) {
        CHECK_EQ(corio_agen_next(g, &x), 0);
        CHECK_EQ(PI(x), i);
    }
    atomic_store(&hammer_stop, 1);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(atomic_load(&hammer_bad), 0);
    CHECK_EQ(corio_agen_close(g), 0);
    CHECK_EQ(corio_agen_free(g), 0);
    return 0;
}

TEST(agen_edge_wrong_thread_while_busy)
{
    CHECK_EQ(run(thread_hammer_body), 0);
}

/* A lean generator driven by hand on one thread cannot be resumed on
 * another (its frames live on this thread's shared stack); the refusal
 * leaves it intact. */
static void *lean_other(void *arg)
{
    corio_agen *g = arg;
    void *x = IP(1);
    intptr_t rc = corio_agen_next(g, &x);
    if (x != NULL || corio_agen_state(g) != CORIO_CORO_SUSPENDED)
        rc = -1000;
    return IP(rc);
}

TEST(agen_edge_lean_hand_driven_other_thread)
{
    corio_coro_opts lean = {.flags = CORIO_CORO_LEAN};
    struct edge s = {.n = 3};
    corio_agen *g;
    pthread_t th;
    void *x, *res;

    CHECK_EQ(corio_agen_new(plain_gen, &s, &lean, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(pthread_create(&th, NULL, lean_other, g), 0);
    CHECK_EQ(pthread_join(th, &res), 0);
    CHECK_EQ(PI(res), CORIO_EWRONGTHREAD);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(PI(x), 1);
    CHECK_EQ(corio_agen_close(g), 0);
    CHECK_EQ(s.last_rc, CORIO_EEXIT);
    CHECK_EQ(corio_agen_free(g), 0);
}

/* ---- a generator that ends with its own scope still open -------------------- */

static int leaky_scope_gen(void *arg, void **result)
{
    corio_scope *sc;
    (void)arg;
    (void)result;
    return corio_timeout(100.0, &sc); /* never closed: a bug in the body */
}

static int leaky_scope_body(void)
{
    corio_coro_opts o = {.name = "leaky"};
    corio_agen *g;
    CHECK_EQ(corio_agen_new(leaky_scope_gen, NULL, &o, &g), 0);
    CHECK_EQ(corio_agen_next(g, NULL), CORIO_AGEN_END);
    corio_agen_free(g);
    return 0; /* the task ends inside the leaked scope */
}

TEST(agen_edge_ends_with_scope_open)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(leaky_scope_body), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "async generator 'leaky' ended with a cancel scope");
    CHECK_STR_HAS(err, "task 'main' ended with a cancel scope still open");
    free(err);
}
