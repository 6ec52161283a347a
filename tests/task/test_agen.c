/*
 * test_agen.c: async generators inside tasks (waits suspend the task,
 * other tasks run meanwhile, every kind of wait: sleep, future, raw await,
 * queue, lock), cancellation at every suspension point, scopes around next
 * and the PEP 789 refusal of a yield inside the generator's own scope or
 * group, aclose with waiting cleanup, one operation at a time, nesting,
 * lean stacks, context variables and the wrong thread. The protocol by
 * hand is in test_agen_hand.c; finalization in test_agen_final.c; what
 * they share in agen_gens.h.
 */

#include "test.h"
#include "run_body.h"
#include "agen_gens.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

/* ---- inside tasks ---------------------------------------------------------------------- */

static int ticker_running;
static int ticks;

static int ticker(void *arg, void **result)
{
    (void)arg;
    (void)result;
    while (ticker_running) {
        ticks++;
        if (corio_sleep(0) != 0)
            break;
    }
    return 0;
}

/* Waits before each item in one of several ways (s->wait_kind):
 * 0 sleep(s->wait), 1 future (s->fut, then a fresh one is not needed: it
 * waits once per item on the same done future after the first), 2 raw
 * corio_await on s->fut, 3 queue get, 4 lock acquire+release. */
static int waiting_gen(void *arg, void **result)
{
    struct gstate *s = arg;
    int rc = 0;
    (void)result;
    for (int i = 0; i < s->n; i++) {
        void *v = NULL;
        switch (s->wait_kind) {
        case 0:
            rc = corio_sleep(s->wait);
            break;
        case 1:
            rc = corio_future_await(s->fut, &v);
            break;
        case 2:
            rc = corio_await(s->fut, NULL);
            if (rc == 0)
                rc = corio_future_result(s->fut, &v);
            break;
        case 3:
            rc = corio_queue_get(s->q, &v);
            break;
        case 4:
            rc = corio_lock_acquire(s->lock);
            if (rc == 0)
                rc = corio_lock_release(s->lock);
            break;
        }
        if (rc == 0)
            rc = corio_yield(IP(i), NULL);
        if (rc) {
            s->last_rc = rc;
            s->cleanup++;
            /* Cleanup that waits: fails at once while cancelled. */
            s->cleanup_rc = corio_sleep(0);
            return rc;
        }
        s->yielded++;
    }
    return 0;
}

static int iterate_all(corio_agen *g, intptr_t *sum)
{
    void *x;
    int rc;
    *sum = 0;
    while ((rc = corio_agen_next(g, &x)) == 0)
        *sum += PI(x);
    return rc;
}

static int in_task_sleep_body(void)
{
    struct gstate s = {.n = 5, .wait = 0.002};
    corio_agen *g;
    intptr_t sum;

    ticker_running = 1;
    ticks = 0;
    CHECK_EQ(corio_spawn(ticker, NULL, NULL, NULL), 0);
    CHECK_EQ(corio_agen_new(waiting_gen, &s, NULL, &g), 0);
    CHECK_EQ(iterate_all(g, &sum), CORIO_END);
    CHECK_EQ(sum, 0 + 1 + 2 + 3 + 4);
    CHECK_EQ(s.yielded, 5);
    /* The generator's sleeps suspended the task, not the loop. */
    CHECK_INT(ticks, >=, 5);
    ticker_running = 0;
    corio_agen_free(g);
    return 0;
}

TEST(agen_in_task_sleep)
{
    CHECK_EQ(run(in_task_sleep_body), 0);
}

static int setter(void *arg, void **result)
{
    struct gstate *s = arg;
    (void)result;
    corio_sleep(0.001);
    corio_future_set_result(s->fut, IP(7));
    return 0;
}

static int putter(void *arg, void **result)
{
    struct gstate *s = arg;
    (void)result;
    for (int i = 0; i < s->n; i++) {
        corio_sleep(0);
        CHECK_EQ(corio_queue_put(s->q, IP(i)), 0);
    }
    return 0;
}

static int holder(void *arg, void **result)
{
    struct gstate *s = arg;
    (void)result;
    CHECK_EQ(corio_lock_acquire(s->lock), 0);
    corio_sleep(0.002);
    return corio_lock_release(s->lock);
}

static int every_wait_kind_body(void)
{
    for (int kind = 1; kind <= 4; kind++) {
        struct gstate s = {.n = 3, .wait_kind = kind};
        corio_agen *g;
        intptr_t sum;
        CHECK_EQ(corio_future_new(NULL, &s.fut), 0);
        CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &s.q), 0);
        CHECK_EQ(corio_lock_new(&s.lock), 0);
        if (kind <= 2)
            CHECK_EQ(corio_spawn(setter, &s, NULL, NULL), 0);
        else if (kind == 3)
            CHECK_EQ(corio_spawn(putter, &s, NULL, NULL), 0);
        else
            CHECK_EQ(corio_spawn(holder, &s, NULL, NULL), 0);
        CHECK_EQ(corio_agen_new(waiting_gen, &s, NULL, &g), 0);
        CHECK_EQ(iterate_all(g, &sum), CORIO_END);
        CHECK_EQ(sum, 3);
        CHECK_EQ(s.yielded, 3);
        corio_agen_free(g);
        corio_sleep(0.005);
        corio_future_release(s.fut);
        corio_queue_free(s.q);
        corio_lock_free(s.lock);
    }
    return 0;
}

TEST(agen_every_wait_kind)
{
    CHECK_EQ(run(every_wait_kind_body), 0);
}

/* ---- cancellation at every suspension point ------------------------------------------ */

struct cancel_case {
    struct gstate s;
    corio_agen *g;
    int consumed;
    int rc;
};

static int cancel_consumer(void *arg, void **result)
{
    struct cancel_case *c = arg;
    void *x;
    (void)result;
    while ((c->rc = corio_agen_next(c->g, &x)) == 0) {
        CHECK_EQ(PI(x), c->consumed);
        c->consumed++;
    }
    return c->rc == CORIO_END ? 0 : c->rc;
}

/* Cancel the consumer after `delay` loop iterations, for each wait kind
 * and each point: every item the generator handed out was consumed, the
 * generator's cleanup ran exactly once with waits failing, and next
 * reported the cancellation. */
static int cancel_every_point_body(void)
{
    for (int kind = 0; kind <= 4; kind++) {
        for (int delay = 0; delay < 8; delay++) {
            struct cancel_case c = {.s = {.n = 4, .wait_kind = kind}};
            corio_task *t;
            corio_lock *lk;
            CHECK_EQ(corio_future_new(NULL, &c.s.fut), 0);
            CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &c.s.q), 0);
            CHECK_EQ(corio_lock_new(&lk), 0);
            c.s.lock = lk;
            if (kind == 4)
                CHECK_EQ(corio_lock_acquire(lk), 0); /* it never gets it */
            /* Some items are available at once, then the waits block. */
            if (kind == 3) {
                CHECK_EQ(corio_queue_put(c.s.q, IP(0)), 0);
                CHECK_EQ(corio_queue_put(c.s.q, IP(1)), 0);
            }
            c.s.wait = kind == 0 ? 10.0 : 0;
            CHECK_EQ(corio_agen_new(waiting_gen, &c.s, NULL, &c.g), 0);
            CHECK_EQ(corio_spawn(cancel_consumer, &c, NULL, &t), 0);
            for (int i = 0; i < delay; i++)
                corio_sleep(0);
            corio_task_cancel(t);
            CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
            CHECK_EQ(c.rc, delay == 0 ? 0 : -ECANCELED);
            if (delay == 0) {
                /* Cancelled before it started: never ran next. */
                CHECK_EQ(corio_agen_state(c.g), CORIO_CORO_CREATED);
            } else {
                CHECK_EQ(corio_agen_state(c.g), CORIO_CORO_CLOSED);
                CHECK_EQ(c.s.cleanup, 1);
                CHECK_EQ(c.s.last_rc, -ECANCELED);
                CHECK_EQ(c.s.cleanup_rc, -ECANCELED);
                CHECK_EQ(c.consumed, c.s.yielded);
            }
            corio_task_release(t);
            corio_agen_free(c.g);
            if (kind == 4)
                CHECK_EQ(corio_lock_release(lk), 0);
            corio_future_release(c.s.fut);
            corio_queue_free(c.s.q);
            corio_lock_free(lk);
        }
    }
    return 0;
}

TEST_FIFO(agen_cancel_every_point,
          "counts the sleep(0)s the consumer takes to start and park")
{
    CHECK_EQ(run(cancel_every_point_body), 0);
}

/* ---- scopes ---------------------------------------------------------------------------- */

static int consumer_scope_body(void)
{
    struct gstate s = {.n = 3, .wait = 10.0};
    corio_scope *sc;
    corio_agen *g;
    void *x;
    int rc;

    /* A timeout the consumer puts around next covers the generator's
     * waits (PEP 789's allowed direction). */
    CHECK_EQ(corio_agen_new(waiting_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_scope_move_on_after(0.01, &sc), 0);
    rc = corio_agen_next(g, &x);
    CHECK_EQ(rc, -ECANCELED);
    CHECK_EQ(corio_scope_close(sc, rc), 0);
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    corio_agen_free(g);
    return 0;
}

TEST(agen_consumer_scope)
{
    CHECK_EQ(run(consumer_scope_body), 0);
}

static int child_noop(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_sleep(0);
}

/* mode 0: yield inside its own timeout scope; 1: inside its own group;
 * 2: close the scope first, then yield (allowed); 3: ignore the refusal
 * and try again, still inside. */
static int scoped_gen(void *arg, void **result)
{
    int *mode = arg;
    corio_scope *sc = NULL;
    corio_group *gr = NULL;
    int rc;
    (void)result;

    if (*mode == 1) {
        CHECK_EQ(corio_group_open(&gr), 0);
        CHECK_EQ(corio_group_spawn(gr, child_noop, NULL, NULL, NULL), 0);
    } else {
        CHECK_EQ(corio_scope_timeout(10.0, &sc), 0);
    }
    rc = corio_sleep(0);
    if (*mode == 2) {
        rc = corio_scope_close(sc, rc);
        return rc ? rc : corio_yield(IP(42), NULL);
    }
    if (rc == 0)
        rc = corio_yield(IP(1), NULL);
    if (*mode == 3 && rc == CORIO_EYIELDSCOPE)
        rc = corio_yield(IP(2), NULL);
    if (gr) {
        rc = corio_group_wait(gr, rc);
        corio_group_free(gr);
        return rc;
    }
    return corio_scope_close(sc, rc);
}

static int yield_in_scope_body(void)
{
    for (int mode = 0; mode <= 3; mode++) {
        corio_agen *g;
        void *x = IP(5);
        int rc;
        CHECK_EQ(corio_agen_new(scoped_gen, &mode, NULL, &g), 0);
        rc = corio_agen_next(g, &x);
        if (mode == 2) {
            CHECK_EQ(rc, 0);
            CHECK_EQ(PI(x), 42);
            CHECK_EQ(corio_agen_next(g, &x), CORIO_END);
        } else {
            /* Refused: the item never arrives, the generator ends. */
            CHECK_EQ(rc, CORIO_EYIELDSCOPE);
            CHECK_PTR(x, NULL);
            CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
        }
        /* The consumer's scope chain is untouched. */
        CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
        CHECK(corio_current_deadline() > 1e300);
        corio_agen_free(g);
    }
    CHECK(strcmp(corio_errname(CORIO_EYIELDSCOPE), "CORIO_EYIELDSCOPE") == 0);
    return 0;
}

TEST(agen_yield_in_own_scope)
{
    CHECK_EQ(run(yield_in_scope_body), 0);
}

/* ---- aclose, busy, nesting ---------------------------------------------------------------- */

static int aclose_waits_body(void)
{
    struct gstate s = {.wait = 0.02};
    corio_agen *g;
    void *x;
    double t0;

    CHECK_EQ(corio_agen_new(slow_cleanup_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    t0 = now_s();
    CHECK_EQ(corio_agen_close(g), 0);
    CHECK(now_s() - t0 >= 0.02); /* close waited for the cleanup's sleep */
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(s.cleanup_rc, 0);
    CHECK_EQ(s.last_rc, CORIO_EEXIT);
    corio_agen_free(g);
    return 0;
}

TEST(agen_aclose_waits)
{
    CHECK_EQ(run(aclose_waits_body), 0);
}

static int next_once(void *arg, void **result)
{
    return corio_agen_next(arg, result);
}

static int busy_body(void)
{
    struct gstate s = {.n = 2, .wait = 0.01};
    corio_agen *g;
    corio_task *t;
    void *x;

    CHECK_EQ(corio_agen_new(waiting_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_spawn(next_once, g, NULL, &t), 0);
    corio_sleep(0);
    corio_sleep(0); /* t is now inside next, the generator asleep */
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_RUNNING);
    CHECK_EQ(corio_agen_next(g, &x), CORIO_ERUNNING);
    CHECK_EQ(corio_agen_send(g, NULL, &x), CORIO_ERUNNING);
    CHECK_EQ(corio_agen_throw(g, -EIO, &x), CORIO_ERUNNING);
    CHECK_EQ(corio_agen_close(g), CORIO_ERUNNING);
    CHECK_EQ(corio_agen_free(g), CORIO_ERUNNING);
    CHECK_EQ(corio_task_join(t, &x), 0);
    CHECK_EQ(PI(x), 0);
    /* Another task may go on with it afterwards. */
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(PI(x), 1);
    CHECK_EQ(corio_agen_next(g, &x), CORIO_END);
    corio_task_release(t);
    corio_agen_free(g);
    return 0;
}

TEST(agen_one_operation_at_a_time)
{
    CHECK_EQ(run(busy_body), 0);
}

/* Doubles what an inner generator yields, sleeping between items. */
static int doubling_gen(void *arg, void **result)
{
    corio_agen *inner = arg;
    void *x;
    int rc;
    (void)result;
    while ((rc = corio_agen_next(inner, &x)) == 0) {
        if ((rc = corio_sleep(0)) != 0 ||
            (rc = corio_yield(IP(2 * PI(x)), NULL)) != 0)
            break;
    }
    corio_agen_close(inner); /* may wait */
    return rc == CORIO_END ? 0 : rc;
}

static int nested_body(void)
{
    struct gstate s = {.n = 4, .wait = 0.001};
    corio_agen *inner, *outer;
    intptr_t sum;
    void *x;

    CHECK_EQ(corio_agen_new(waiting_gen, &s, NULL, &inner), 0);
    CHECK_EQ(corio_agen_new(doubling_gen, inner, NULL, &outer), 0);
    CHECK_EQ(iterate_all(outer, &sum), CORIO_END);
    CHECK_EQ(sum, 2 * (0 + 1 + 2 + 3));
    corio_agen_free(outer);
    corio_agen_free(inner);

    /* Closing the outer one closes the inner one, both waiting. */
    s = (struct gstate){.n = 100, .wait = 0.001};
    CHECK_EQ(corio_agen_new(waiting_gen, &s, NULL, &inner), 0);
    CHECK_EQ(corio_agen_new(doubling_gen, inner, NULL, &outer), 0);
    CHECK_EQ(corio_agen_next(outer, &x), 0);
    CHECK_EQ(corio_agen_next(outer, &x), 0);
    CHECK_EQ(PI(x), 2);
    CHECK_EQ(corio_agen_close(outer), 0);
    CHECK_EQ(corio_agen_state(inner), CORIO_CORO_CLOSED);
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(s.cleanup_rc, 0); /* the inner cleanup's sleep worked */
    corio_agen_free(outer);
    corio_agen_free(inner);
    return 0;
}

TEST(agen_nested)
{
    CHECK_EQ(run(nested_body), 0);
}

/* ---- lean stacks and context variables ----------------------------------------------- */

static corio_ctxvar *cv;

/* Yields the context variable's value, sleeping between items. */
static int ctx_gen(void *arg, void **result)
{
    (void)arg;
    (void)result;
    for (int i = 0; i < 3; i++) {
        void *v = NULL;
        int rc = corio_ctxvar_get(cv, &v);
        if (rc == 0)
            rc = corio_sleep(0.001);
        if (rc == 0)
            rc = corio_yield(v, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static int lean_consumer(void *arg, void **result)
{
    corio_agen *g = arg;
    intptr_t sum;
    (void)result;
    CHECK_EQ(corio_ctxvar_set(cv, IP(5), NULL), 0);
    CHECK_EQ(iterate_all(g, &sum), CORIO_END);
    CHECK_EQ(sum, 15); /* the generator saw this task's value */
    return 0;
}

static int lean_ctx_body(void)
{
    corio_coro_opts lean = {.name = "lean-gen", .flags = CORIO_CORO_LEAN};
    corio_task_opts tlean = {.flags = CORIO_CORO_LEAN};
    corio_agen *g[4];
    corio_task *t[4];

    CHECK_EQ(corio_ctxvar_new("cv", IP(1), &cv), 0);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(corio_agen_new(ctx_gen, NULL, i % 2 ? &lean : NULL, &g[i]),
                 0);
        CHECK_EQ(corio_spawn(lean_consumer, g[i], i < 2 ? &tlean : NULL,
                             &t[i]),
                 0);
    }
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        corio_task_release(t[i]);
        corio_agen_free(g[i]);
    }
    corio_ctxvar_free(cv);
    return 0;
}

TEST(agen_lean_and_ctxvars)
{
    CHECK_EQ(run(lean_ctx_body), 0);
}

/* ---- threads ----------------------------------------------------------------------------- */

static void *other_thread(void *arg)
{
    corio_agen *g = arg;
    void *x;
    intptr_t rc = corio_agen_next(g, &x);
    if (rc == CORIO_EWRONGTHREAD)
        rc = corio_agen_close(g) == CORIO_EWRONGTHREAD &&
                     corio_agen_free(g) == CORIO_EWRONGTHREAD
                 ? rc
                 : -1;
    return IP(rc);
}

static int thread_body(void)
{
    struct gstate s = {.n = 3};
    corio_agen *g;
    pthread_t th;
    void *x, *res;

    CHECK_EQ(corio_agen_new(counting_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0); /* now it belongs to this loop */
    CHECK_EQ(pthread_create(&th, NULL, other_thread, g), 0);
    CHECK_EQ(pthread_join(th, &res), 0);
    CHECK_EQ(PI(res), CORIO_EWRONGTHREAD);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(PI(x), 1);
    CHECK_EQ(corio_agen_close(g), 0);
    corio_agen_free(g);
    return 0;
}

TEST(agen_wrong_thread)
{
    CHECK_EQ(run(thread_body), 0);
}
