/*
 * test_thread_xcall.c: corio_run_coroutine_threadsafe and its handle:
 * waited for from a plain thread (with timeouts), awaited from a task on
 * another loop, cancelled before start, while running and after done,
 * a loop freed before the call started, the wait that would deadlock,
 * and four loops on four threads handing work to each other (run under
 * TSan by `make tsan`).
 */
#include "test.h"

#include "cancel_rule.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

/* ---- a loop on a thread of its own --------------------------------------------- */

struct lthread {
    corio_loop *loop;
    pthread_t th;
    int rc;
};

static void *loop_main(void *arg)
{
    struct lthread *l = arg;
    l->rc = corio_loop_run(l->loop);
    return NULL;
}

static void lt_start(struct lthread *l)
{
    CHECK_EQ(corio_loop_new(NULL, &l->loop), 0);
    l->rc = 1;
    CHECK_EQ(pthread_create(&l->th, NULL, loop_main, l), 0);
}

static void stop_cb(void *loop)
{
    corio_loop_stop(loop);
}

static void lt_stop(struct lthread *l)
{
    CHECK_EQ(corio_loop_call_soon_threadsafe(l->loop, stop_cb, l->loop), 0);
    CHECK_EQ(pthread_join(l->th, NULL), 0);
    CHECK_EQ(l->rc, 0);
    CHECK_EQ(corio_loop_free(l->loop), 0);
}

static atomic_int fn_runs;
static int gate[2];

static int add_one(void *arg, void **result)
{
    atomic_fetch_add(&fn_runs, 1);
    *result = (void *)((intptr_t)arg + 1);
    return 0;
}

static int gated(void *arg, void **result)
{
    char c;
    ssize_t n;
    (void)arg;
    atomic_fetch_add(&fn_runs, 1);
    n = corio_read(gate[0], &c, 1);
    *result = (void *)(intptr_t)7;
    return n == 1 ? 0 : (int)n;
}

static void gate_init(void)
{
    CHECK_EQ(pipe2(gate, O_CLOEXEC | O_NONBLOCK), 0);
    atomic_store(&fn_runs, 0);
}

/* ---- from a plain thread -------------------------------------------------------------- */

TEST(thread_xcall_wait_plain)
{
    struct lthread a;
    corio_xcall *h;
    void *r = NULL;
    lt_start(&a);
    CHECK_EQ(corio_run_coroutine_threadsafe(a.loop, add_one, (void *)41, &h),
             0);
    CHECK_EQ(corio_xcall_wait(h, INFINITY, &r), 0);
    CHECK_PTR(r, (void *)42);
    CHECK_EQ(corio_xcall_done(h), 1);
    CHECK_EQ(corio_xcall_cancel(h), -EALREADY);
    CHECK_EQ(corio_xcall_wait(h, 0, NULL), 0); /* again, no result wanted */
    CHECK_EQ(corio_xcall_wait(h, NAN, NULL), -EINVAL);
    corio_xcall_release(h);
    /* Fire and forget. */
    CHECK_EQ(corio_run_coroutine_threadsafe(a.loop, add_one, 0, NULL), 0);
    CHECK_EQ(corio_run_coroutine_threadsafe(NULL, add_one, 0, NULL), -EINVAL);
    CHECK_EQ(corio_run_coroutine_threadsafe(a.loop, NULL, 0, NULL), -EINVAL);
    lt_stop(&a);
}

TEST(thread_xcall_timeout_cancel)
{
    struct lthread a;
    corio_xcall *h;
    void *r = NULL;
    gate_init();
    lt_start(&a);
    CHECK_EQ(corio_run_coroutine_threadsafe(a.loop, gated, NULL, &h), 0);
    CHECK_EQ(corio_xcall_wait(h, 0, &r), -ETIMEDOUT);
    CHECK_EQ(corio_xcall_wait(h, -1, &r), -ETIMEDOUT);
    CHECK_EQ(corio_xcall_wait(h, 0.01, &r), -ETIMEDOUT);
    CHECK(r == NULL);
    CHECK_EQ(corio_xcall_done(h), 0);
    CHECK_EQ(corio_xcall_cancel(h), 0); /* started or not: it ends */
    CHECK_EQ(corio_xcall_wait(h, INFINITY, &r), -ECANCELED);
    CHECK(r == NULL);
    CHECK_EQ(corio_xcall_cancel(h), -EALREADY);
    corio_xcall_release(h);
    lt_stop(&a);
}

/* Cancelled before it started: it never runs. */
TEST(thread_xcall_cancel_before_start)
{
    corio_loop *loop;
    corio_xcall *h;
    gate_init();
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_run_coroutine_threadsafe(loop, add_one, 0, &h), 0);
    CHECK_EQ(corio_xcall_cancel(h), 0);
    corio_loop_stop(loop); /* one iteration */
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK_EQ(corio_xcall_wait(h, 0, NULL), -ECANCELED);
    CHECK_EQ(atomic_load(&fn_runs), 0);
    corio_xcall_release(h);
    CHECK_EQ(corio_loop_free(loop), 0);
}

/* The loop is freed before the call started: -ESHUTDOWN, nothing leaks. */
TEST(thread_xcall_loop_freed_before_start)
{
    corio_loop *loop;
    corio_xcall *h;
    gate_init();
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_run_coroutine_threadsafe(loop, add_one, 0, &h), 0);
    CHECK_EQ(corio_run_coroutine_threadsafe(loop, add_one, 0, NULL), 0);
    CHECK_EQ(corio_loop_free(loop), 0);
    CHECK_EQ(corio_xcall_wait(h, 0, NULL), -ESHUTDOWN);
    CHECK_EQ(atomic_load(&fn_runs), 0);
    corio_xcall_release(h);
}

/* A task of the loop freed while it runs: cancelled, waiters told. */
TEST(thread_xcall_loop_freed_while_running)
{
    corio_loop *loop;
    corio_xcall *h;
    gate_init();
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_run_coroutine_threadsafe(loop, gated, 0, &h), 0);
    corio_loop_stop(loop);
    CHECK_EQ(corio_loop_run(loop), 0); /* it starts, parks on the gate */
    corio_loop_stop(loop);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK_EQ(atomic_load(&fn_runs), 1);
    CHECK_EQ(corio_xcall_done(h), 0);
    CHECK_EQ(corio_loop_free(loop), 0);
    CHECK_EQ(corio_xcall_wait(h, 0, NULL), -ECANCELED);
    corio_xcall_release(h);
}

/* Waiting on the thread that runs the call's loop would never end. */
static int self_wait_body(void)
{
    corio_xcall *h;
    void *r = NULL;
    CHECK_EQ(corio_run_coroutine_threadsafe(corio_loop_current(), add_one,
                                            (void *)1, &h),
             0);
    CHECK_EQ(corio_xcall_wait(h, INFINITY, &r), -EDEADLK);
    CHECK_EQ(corio_xcall_await(h, &r), 0); /* awaiting is fine */
    CHECK_PTR(r, (void *)2);
    CHECK_EQ(corio_xcall_wait(h, INFINITY, NULL), 0); /* done: fine */
    corio_xcall_release(h);
    return 0;
}

TEST(thread_xcall_same_loop)
{
    gate_init();
    CHECK_EQ(run(self_wait_body), 0);
}

/* ---- awaited from a task on another loop ---------------------------------------------- */

static corio_loop *other;

static int awaiter(void *arg, void **result)
{
    corio_xcall *h = arg;
    return corio_xcall_await(h, result);
}

static int await_body(void)
{
    corio_xcall *h, *g;
    corio_task *t;
    void *r = NULL;
    char c = 'g';
    CHECK_EQ(corio_run_coroutine_threadsafe(other, add_one, (void *)1, &h),
             0);
    CHECK_EQ(corio_xcall_await(h, &r), 0); /* suspends this task only */
    CHECK_PTR(r, (void *)2);
    corio_xcall_release(h);

    /* A waiting task cancelled: its wait ends, the call goes on. */
    CHECK_EQ(corio_run_coroutine_threadsafe(other, gated, NULL, &g), 0);
    CHECK_EQ(corio_spawn(awaiter, g, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    corio_task_release(t);
    CHECK_EQ(corio_xcall_done(g), 0);
    /* Cancel standing: -ECANCELED without waiting. */
    witness();
    cancel_self();
    CHECK_EQ(corio_xcall_await(g, &r), -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    /* Let it finish, then await it from two tasks. */
    CHECK_EQ(corio_spawn(awaiter, g, NULL, &t), 0);
    CHECK_EQ(corio_write(gate[1], &c, 1), 1);
    r = NULL;
    CHECK_EQ(corio_xcall_await(g, &r), 0);
    CHECK_PTR(r, (void *)7);
    CHECK_EQ(corio_task_join(t, &r), 0);
    CHECK_PTR(r, (void *)7);
    corio_task_release(t);
    /* Done, with a cancel standing: need not wait, so it succeeds. */
    cancel_self();
    CHECK_EQ(corio_xcall_await(g, &r), 0);
    uncancel_self();
    corio_xcall_release(g);
    return 0;
}

TEST(thread_xcall_await_other_loop)
{
    struct lthread a;
    gate_init();
    lt_start(&a);
    other = a.loop;
    CHECK_EQ(run(await_body), 0);
    lt_stop(&a);
}

/* ---- four loops on four threads handing work to each other ----------------------------- */

#define NLOOPS 4
#define ROUNDS 200

static struct lthread ring[NLOOPS];

static int pool_square(void *arg, void **result)
{
    intptr_t k = (intptr_t)arg;
    *result = (void *)(k * k);
    return 0;
}

static int square(void *arg, void **result)
{
    intptr_t k = (intptr_t)arg;
    if (k % 10 == 0) /* some on the pool too */
        return corio_to_thread(pool_square, arg, result);
    *result = (void *)(k * k);
    return 0;
}

static int driver(void *arg, void **result)
{
    intptr_t i = (intptr_t)arg, k, sum = 0;
    corio_loop *next = ring[(i + 1) % NLOOPS].loop;
    for (k = 0; k < ROUNDS; k++) {
        corio_xcall *h;
        void *r;
        int rc = corio_run_coroutine_threadsafe(next, square, (void *)k, &h);
        if (rc)
            return rc;
        rc = corio_xcall_await(h, &r);
        corio_xcall_release(h);
        if (rc)
            return rc;
        if ((intptr_t)r != k * k)
            return -EPROTO;
        sum += (intptr_t)r;
    }
    *result = (void *)sum;
    return 0;
}

TEST(thread_four_loops)
{
    corio_xcall *h[NLOOPS];
    intptr_t i, want = 0;
    for (i = 0; i < ROUNDS; i++)
        want += i * i;
    for (i = 0; i < NLOOPS; i++)
        lt_start(&ring[i]);
    for (i = 0; i < NLOOPS; i++)
        CHECK_EQ(corio_run_coroutine_threadsafe(ring[i].loop, driver,
                                                (void *)i, &h[i]),
                 0);
    for (i = 0; i < NLOOPS; i++) {
        void *r = NULL;
        CHECK_EQ(corio_xcall_wait(h[i], INFINITY, &r), 0);
        CHECK_EQ((intptr_t)r, want);
        corio_xcall_release(h[i]);
    }
    for (i = 0; i < NLOOPS; i++)
        lt_stop(&ring[i]);
}

/* The awaiting task's own loop is freed while it waits: its wait is
 * taken back from the call, which completes later with nobody to wake. */
static int await_forever(void *arg, void **result)
{
    corio_xcall *h = arg;
    (void)result;
    return corio_xcall_await(h, NULL);
}

TEST(thread_xcall_awaiter_loop_freed)
{
    struct lthread a;
    corio_loop *b;
    corio_xcall *h;
    char c = 'g';
    gate_init();
    lt_start(&a);
    CHECK_EQ(corio_run_coroutine_threadsafe(a.loop, gated, NULL, &h), 0);
    CHECK_EQ(corio_loop_new(NULL, &b), 0);
    CHECK_EQ(corio_loop_spawn(b, await_forever, h, NULL, NULL), 0);
    corio_loop_stop(b);
    CHECK_EQ(corio_loop_run(b), 0); /* the task now awaits h */
    CHECK_EQ(corio_loop_free(b), 0);
    CHECK_EQ(write(gate[1], &c, 1), 1);
    CHECK_EQ(corio_xcall_wait(h, INFINITY, NULL), 0);
    corio_xcall_release(h);
    lt_stop(&a);
}
