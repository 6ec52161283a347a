/*
 * test_agen_edge.c: adversarial cases for async generators (corio/agen.h):
 * operations on a generator from inside its own body, corio_fail messages,
 * odd send/throw values, and use from the wrong thread while the owner is
 * busy with it. The ends of generators are in test_agen_edge_teardown.c;
 * scopes, groups and cancellation in test_agen_edge_scope.c; what they
 * share in agen_edge_gens.h.
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
    CHECK_EQ(corio_agen_next(g, NULL), CORIO_END);
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
    CHECK_EQ(corio_agen_send(g, NULL, &x), CORIO_END);
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
    CHECK_EQ(corio_agen_throw(g, CORIO_END, &x), -EINVAL);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_SUSPENDED);
    CHECK_EQ(corio_agen_throw(g, INT_MIN, &x), INT_MIN);
    CHECK_PTR(x, NULL);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_throw(g, INT_MIN, &x), CORIO_END);
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
    CHECK_EQ(corio_agen_throw(g, -EPIPE, &x), CORIO_END);
    corio_agen_free(g);

    /* A body returning a positive value breaks its contract: -EINVAL, and
     * never confused with CORIO_END. */
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
    void *x;

    CHECK_EQ(corio_agen_new(sleepy_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0); /* belongs to this loop now */
    atomic_store(&hammer_go, 0);
    atomic_store(&hammer_stop, 0);
    atomic_store(&hammer_bad, 0);
    atomic_store(&hammer_calls, 0);
    CHECK_EQ(pthread_create(&th, NULL, hammer, g), 0);
    atomic_store(&hammer_go, 1);
    /* Keep using it here (busy flips, the stack switches) meanwhile, for a
     * count of steps here and of calls there, not for a time. */
    for (int i = 1; i <= 20000 || atomic_load(&hammer_calls) < 1000; i++) {
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
