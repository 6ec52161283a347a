/*
 * test_agen.c: async generators: the protocol driven by hand (next, send,
 * throw, close, states, misuse), inside tasks (waits suspend the task,
 * other tasks run meanwhile, every kind of wait: sleep, future, raw await,
 * queue, lock), cancellation at every suspension point, scopes around next
 * and the PEP 789 refusal of a yield inside the generator's own scope or
 * group, aclose with waiting cleanup, one operation at a time, nesting,
 * lean stacks, context variables, and finalization: free without aclose,
 * corio_run's and corio_agen_shutdown's closing of unfinished generators,
 * corio_loop_free's immediate close, and the reports.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

/* What a test generator records. */
struct gstate {
    int n;            /* items to yield */
    int yielded;      /* items handed out */
    int cleanup;      /* times the cleanup ran */
    int cleanup_rc;   /* what the cleanup's wait returned */
    int last_rc;      /* the error that ended the loop */
    int wait_kind;    /* see waiting_gen */
    double wait;      /* seconds to sleep per item / in cleanup */
    intptr_t sent_sum;
    corio_future *fut;
    corio_queue *q;
    corio_lock *lock;
};

/* Yield 0..n-1; no waits. On an error: record it, run cleanup, return it. */
static int counting_gen(void *arg, void **result)
{
    struct gstate *s = arg;
    (void)result;
    for (int i = 0; i < s->n; i++) {
        void *sent = NULL;
        int rc = corio_yield(IP(i), &sent);
        if (rc) {
            s->last_rc = rc;
            s->cleanup++;
            return rc;
        }
        s->yielded++;
        s->sent_sum += PI(sent);
    }
    return 0;
}

/* ---- the protocol by hand, no loop ------------------------------------------------ */

TEST(agen_hand_next)
{
    struct gstate s = {.n = 3};
    corio_coro_opts o = {.name = "three"};
    corio_agen *g;
    void *x = IP(99);

    CHECK_EQ(corio_agen_new(counting_gen, &s, &o, &g), 0);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CREATED);
    CHECK(strcmp(corio_agen_name(g), "three") == 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(corio_agen_next(g, &x), 0);
        CHECK_EQ(PI(x), i);
        CHECK_EQ(corio_agen_state(g), CORIO_CORO_SUSPENDED);
    }
    CHECK_EQ(corio_agen_next(g, &x), CORIO_AGEN_END);
    CHECK_PTR(x, NULL);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    /* StopAsyncIteration again, however asked. */
    CHECK_EQ(corio_agen_next(g, &x), CORIO_AGEN_END);
    CHECK_EQ(corio_agen_send(g, IP(1), &x), CORIO_AGEN_END);
    CHECK_EQ(corio_agen_throw(g, -EIO, &x), CORIO_AGEN_END);
    CHECK_EQ(corio_agen_close(g), 0);
    CHECK_EQ(s.cleanup, 0);
    CHECK_EQ(corio_agen_free(g), 0);
}

TEST(agen_hand_misuse)
{
    struct gstate s = {.n = 1};
    corio_agen *g = (corio_agen *)IP(1);
    corio_coro_opts bad = {.flags = 0x80};
    void *x;

    CHECK_EQ(corio_agen_new(NULL, NULL, NULL, &g), -EINVAL);
    CHECK_EQ(corio_agen_new(counting_gen, &s, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_agen_new(counting_gen, &s, &bad, &g), -EINVAL);
    CHECK_PTR(g, IP(1)); /* untouched */
    CHECK_EQ(corio_agen_next(NULL, &x), -EINVAL);
    CHECK_EQ(corio_agen_send(NULL, NULL, &x), -EINVAL);
    CHECK_EQ(corio_agen_throw(NULL, -EIO, &x), -EINVAL);
    CHECK_EQ(corio_agen_close(NULL), -EINVAL);
    CHECK_EQ(corio_agen_free(NULL), 0);
    CHECK_EQ(corio_agen_state(NULL), CORIO_CORO_CLOSED);
    CHECK(strcmp(corio_agen_name(NULL), "agen") == 0);
    CHECK_EQ(corio_agen_shutdown(), CORIO_ENOLOOP);

    CHECK_EQ(corio_agen_new(counting_gen, &s, NULL, &g), 0);
    CHECK(strcmp(corio_agen_name(g), "agen") == 0);
    /* A value into a generator that has not started: nothing runs. */
    CHECK_EQ(corio_agen_send(g, IP(5), &x), CORIO_ENOTSTARTED);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CREATED);
    CHECK_EQ(corio_agen_throw(g, 0, &x), -EINVAL);
    CHECK_EQ(corio_agen_throw(g, 3, &x), -EINVAL);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CREATED);
    /* item may be NULL. */
    CHECK_EQ(corio_agen_next(g, NULL), 0);
    CHECK_EQ(corio_agen_next(g, NULL), CORIO_AGEN_END);
    corio_agen_free(g);

    /* Freed without ever being iterated: no report (Python has none). */
    CHECK_EQ(corio_agen_new(counting_gen, &s, NULL, &g), 0);
    corio_test_stderr_begin();
    CHECK_EQ(corio_agen_free(g), 0);
    char *err = corio_test_stderr_end();
    CHECK_EQ(strlen(err), 0);
    free(err);
}

TEST(agen_hand_send)
{
    struct gstate s = {.n = 4};
    corio_agen *g;
    void *x;

    CHECK_EQ(corio_agen_new(counting_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_send(g, NULL, &x), 0); /* the first must be NULL */
    CHECK_EQ(PI(x), 0);
    CHECK_EQ(corio_agen_send(g, IP(10), &x), 0);
    CHECK_EQ(PI(x), 1);
    CHECK_EQ(corio_agen_send(g, IP(20), &x), 0);
    CHECK_EQ(corio_agen_send(g, IP(30), &x), 0);
    CHECK_EQ(PI(x), 3);
    CHECK_EQ(corio_agen_send(g, IP(40), &x), CORIO_AGEN_END);
    CHECK_EQ(s.sent_sum, 100);
    corio_agen_free(g);
}

/* Yields 0, 1, 2...; a thrown -EAGAIN is handled (it yields -1 and goes
 * on), anything else ends it with that error after cleanup. */
static int handling_gen(void *arg, void **result)
{
    struct gstate *s = arg;
    (void)result;
    for (int i = 0; i < s->n; i++) {
        int rc = corio_yield(IP(i), NULL);
        if (rc == -EAGAIN) {
            rc = corio_yield(IP(-1), NULL);
        }
        if (rc) {
            s->cleanup++;
            s->last_rc = rc;
            return rc;
        }
    }
    return 0;
}

TEST(agen_hand_throw)
{
    struct gstate s = {.n = 5};
    corio_agen *g;
    void *x;
    int ran = 0;

    CHECK_EQ(corio_agen_new(handling_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_throw(g, -EAGAIN, &x), 0); /* handled */
    CHECK_EQ(PI(x), -1);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(PI(x), 1);
    CHECK_EQ(corio_agen_throw(g, -EIO, &x), -EIO); /* not handled */
    CHECK_PTR(x, NULL);
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(s.last_rc, -EIO);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_next(g, &x), CORIO_AGEN_END);
    corio_agen_free(g);

    /* Thrown into a generator that never started: it never runs. */
    s.cleanup = 0;
    CHECK_EQ(corio_agen_new(handling_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_throw(g, -EPIPE, &x), -EPIPE);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(s.cleanup, 0);
    CHECK_EQ(corio_agen_next(g, &x), CORIO_AGEN_END);
    corio_agen_free(g);
    (void)ran;
}

/* Fails with -EIO after two items. */
static int failing_gen(void *arg, void **result)
{
    (void)arg;
    (void)result;
    if (corio_yield(IP(1), NULL) || corio_yield(IP(2), NULL))
        return CORIO_EEXIT;
    return -EIO;
}

TEST(agen_hand_error)
{
    corio_agen *g;
    void *x;
    int rc, n = 0;

    CHECK_EQ(corio_agen_new(failing_gen, NULL, NULL, &g), 0);
    while ((rc = corio_agen_next(g, &x)) == 0)
        n++;
    CHECK_EQ(n, 2);
    CHECK_EQ(rc, -EIO);
    CHECK_EQ(corio_agen_next(g, &x), CORIO_AGEN_END);
    CHECK_EQ(corio_agen_close(g), 0);
    corio_agen_free(g);
}

/* Ignores the first close: yields once more. Returns -EPROTO when closed
 * with `stubborn` 2. */
static int stubborn_gen(void *arg, void **result)
{
    int *mode = arg;
    int rc;
    (void)result;
    rc = corio_yield(IP(1), NULL);
    if (rc != CORIO_EEXIT)
        return rc;
    if (*mode == 2)
        return -EPROTO;
    rc = corio_yield(IP(2), NULL); /* refuses to stop */
    return rc;
}

TEST(agen_hand_close)
{
    struct gstate s = {.n = 10};
    corio_agen *g;
    void *x;
    int mode = 1;
    char *err;

    /* Close at a yield: the cleanup sees CORIO_EEXIT. */
    CHECK_EQ(corio_agen_new(counting_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_close(g), 0);
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(s.last_rc, CORIO_EEXIT);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_close(g), 0);
    corio_agen_free(g);

    /* Close before the start: nothing runs, no report at free. */
    s.cleanup = 0;
    CHECK_EQ(corio_agen_new(counting_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_close(g), 0);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(s.cleanup, 0);
    corio_test_stderr_begin();
    corio_agen_free(g);
    err = corio_test_stderr_end();
    CHECK_EQ(strlen(err), 0);
    free(err);

    /* A generator that yields while being closed. */
    CHECK_EQ(corio_agen_new(stubborn_gen, &mode, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_close(g), CORIO_EIGNORED);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_SUSPENDED);
    CHECK_EQ(corio_agen_close(g), 0); /* the second yield gets EEXIT too */
    corio_agen_free(g);

    /* A generator that fails while being closed. */
    mode = 2;
    CHECK_EQ(corio_agen_new(stubborn_gen, &mode, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_close(g), -EPROTO);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    corio_agen_free(g);
}

/* Free without aclose and without a loop: reported, cleanup runs now. */
TEST(agen_hand_free_unfinished)
{
    struct gstate s = {.n = 10};
    corio_coro_opts o = {.name = "forgotten"};
    corio_agen *g;
    void *x;
    char *err;

    CHECK_EQ(corio_agen_new(counting_gen, &s, &o, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    corio_test_stderr_begin();
    CHECK_EQ(corio_agen_free(g), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "async generator 'forgotten' freed without aclose");
    free(err);
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(s.last_rc, CORIO_EEXIT);
}

/* ---- awaits driven by a hand-written driver ------------------------------------ */

#define TOKEN IP(0x7070)

/* Awaits TOKEN (a raw awaitable) before each item; yields what it got. */
static int awaiting_gen(void *arg, void **result)
{
    (void)arg;
    (void)result;
    for (int i = 0; i < 2; i++) {
        void *got = NULL;
        int rc = corio_await(TOKEN, &got);
        if (rc == 0)
            rc = corio_yield(got, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

/* A consumer coroutine: gathers the generator's items into *result. */
static int consumer_coro(void *arg, void **result)
{
    corio_agen *g = arg;
    intptr_t sum = 0;
    void *x;
    int rc;
    while ((rc = corio_agen_next(g, &x)) == 0)
        sum += PI(x);
    *result = IP(sum);
    return rc == CORIO_AGEN_END ? 0 : rc;
}

TEST(agen_hand_driver_sees_awaits)
{
    corio_agen *g;
    corio_coro *c;
    void *out;
    int awaits = 0, rc;

    CHECK_EQ(corio_agen_new(awaiting_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_coro_new(consumer_coro, g, NULL, &c), 0);
    rc = corio_coro_resume(c, NULL, &out);
    while (rc == CORIO_AWAITING) {
        CHECK_PTR(out, TOKEN); /* the generator's awaitable, passed up */
        CHECK_EQ(corio_agen_state(g), CORIO_CORO_RUNNING);
        awaits++;
        rc = corio_coro_resume(c, IP(awaits * 100), &out); /* the answer */
    }
    CHECK_EQ(rc, CORIO_FINISHED);
    CHECK_EQ(awaits, 2);
    CHECK_EQ(PI(out), 300);
    corio_coro_free(c);
    corio_agen_free(g);

    /* The driver throws into the consumer's await: the generator gets it. */
    CHECK_EQ(corio_agen_new(awaiting_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_coro_new(consumer_coro, g, NULL, &c), 0);
    CHECK_EQ(corio_coro_resume(c, NULL, &out), CORIO_AWAITING);
    CHECK_EQ(corio_coro_throw(c, -ETIME, &out), -ETIME);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    corio_coro_free(c);
    corio_agen_free(g);

    /* Outside any coroutine, the generator's await fails at once. */
    CHECK_EQ(corio_agen_new(awaiting_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &out), CORIO_ENOTCORO);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    corio_agen_free(g);
}

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
    CHECK_EQ(iterate_all(g, &sum), CORIO_AGEN_END);
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
        CHECK_EQ(iterate_all(g, &sum), CORIO_AGEN_END);
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
    return c->rc == CORIO_AGEN_END ? 0 : c->rc;
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

TEST(agen_cancel_every_point)
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
    CHECK_EQ(corio_move_on_after(0.01, &sc), 0);
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
        CHECK_EQ(corio_timeout(10.0, &sc), 0);
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
            CHECK_EQ(corio_agen_next(g, &x), CORIO_AGEN_END);
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

/* Yields forever; its cleanup waits (sleep) and then records. */
static int slow_cleanup_gen(void *arg, void **result)
{
    struct gstate *s = arg;
    (void)result;
    for (int i = 0;; i++) {
        int rc = corio_yield(IP(i), NULL);
        if (rc) {
            s->last_rc = rc;
            s->cleanup_rc = corio_sleep(s->wait);
            s->cleanup++;
            return rc;
        }
        s->yielded++;
    }
}

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
    CHECK_EQ(corio_agen_next(g, &x), CORIO_AGEN_END);
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
    return rc == CORIO_AGEN_END ? 0 : rc;
}

static int nested_body(void)
{
    struct gstate s = {.n = 4, .wait = 0.001};
    corio_agen *inner, *outer;
    intptr_t sum;
    void *x;

    CHECK_EQ(corio_agen_new(waiting_gen, &s, NULL, &inner), 0);
    CHECK_EQ(corio_agen_new(doubling_gen, inner, NULL, &outer), 0);
    CHECK_EQ(iterate_all(outer, &sum), CORIO_AGEN_END);
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
    CHECK_EQ(iterate_all(g, &sum), CORIO_AGEN_END);
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

/* ---- finalization ------------------------------------------------------------------------ */

static struct gstate fin;

static int free_unfinished_body(void)
{
    corio_coro_opts o = {.name = "dropped"};
    corio_agen *g;
    void *x;

    fin = (struct gstate){.wait = 0.005};
    CHECK_EQ(corio_agen_new(slow_cleanup_gen, &fin, &o, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_free(g), 0); /* never suspends */
    CHECK_EQ(fin.cleanup, 0);        /* the close runs in a task */
    /* Wait for that task (it cannot be joined) without betting on how
     * soon a loaded machine runs it; a close that never comes still
     * fails, after about 5 s. */
    for (int i = 0; i < 1000 && !fin.cleanup; i++)
        CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(fin.cleanup, 1);
    CHECK_EQ(fin.cleanup_rc, 0); /* its cleanup could wait */
    CHECK_EQ(fin.last_rc, CORIO_EEXIT);
    return 0;
}

TEST(agen_free_unfinished_in_loop)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(free_unfinished_body), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "async generator 'dropped' freed without aclose");
    free(err);
}

/* Frees a generator and returns at once: the closing task is cancelled
 * with the leftovers before it starts, and corio_run closes it again. */
static int free_then_return_body(void)
{
    corio_agen *g;
    void *x;
    fin = (struct gstate){.wait = 0.001};
    CHECK_EQ(corio_agen_new(slow_cleanup_gen, &fin, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_free(g), 0);
    return 0;
}

TEST(agen_free_then_return)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(free_then_return_body), 0);
    err = corio_test_stderr_end();
    free(err);
    CHECK_EQ(fin.cleanup, 1);
    CHECK_EQ(fin.cleanup_rc, 0);
}

static corio_agen *left[3];
static struct gstate left_s[3];

/* Leaves three generators unfinished and returns. */
static int leave_unfinished_body(void)
{
    void *x;
    for (int i = 0; i < 3; i++) {
        left_s[i] = (struct gstate){.wait = 0.001};
        CHECK_EQ(corio_agen_new(slow_cleanup_gen, &left_s[i], NULL, &left[i]),
                 0);
        CHECK_EQ(corio_agen_next(left[i], &x), 0);
    }
    CHECK_EQ(corio_agen_close(left[1]), 0); /* closed already: left alone */
    return 0;
}

TEST(agen_run_closes_unfinished)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(leave_unfinished_body), 0);
    err = corio_test_stderr_end();
    CHECK_EQ(strlen(err), 0); /* no report: this is the documented path */
    free(err);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(left_s[i].cleanup, 1);
        CHECK_EQ(left_s[i].cleanup_rc, 0); /* cleanup could still wait */
        CHECK_EQ(left_s[i].last_rc, CORIO_EEXIT);
        CHECK_EQ(corio_agen_state(left[i]), CORIO_CORO_CLOSED);
        corio_agen_free(left[i]);
    }
}

static int shutdown_task(void *arg, void **result)
{
    void *x;
    (void)arg;
    (void)result;
    for (int i = 0; i < 3; i++) {
        left_s[i] = (struct gstate){.wait = 0.01};
        CHECK_EQ(corio_agen_new(slow_cleanup_gen, &left_s[i], NULL, &left[i]),
                 0);
        CHECK_EQ(corio_agen_next(left[i], &x), 0);
    }
    CHECK_EQ(corio_agen_shutdown(), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(left_s[i].cleanup, 1);
        CHECK_EQ(left_s[i].cleanup_rc, 0);
        CHECK_EQ(corio_agen_state(left[i]), CORIO_CORO_CLOSED);
    }
    CHECK_EQ(corio_agen_shutdown(), 0); /* nothing left: returns at once */
    corio_loop_stop(corio_loop_current());
    return 0;
}

TEST(agen_shutdown_by_hand)
{
    corio_loop *loop;
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_spawn(loop, shutdown_task, NULL, NULL, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK_EQ(corio_loop_free(loop), 0);
    for (int i = 0; i < 3; i++)
        corio_agen_free(left[i]);
}

static int leave_and_stop(void *arg, void **result)
{
    void *x;
    (void)arg;
    (void)result;
    left_s[0] = (struct gstate){.wait = 1.0};
    CHECK_EQ(corio_agen_new(slow_cleanup_gen, &left_s[0], NULL, &left[0]), 0);
    CHECK_EQ(corio_agen_next(left[0], &x), 0);
    corio_loop_stop(corio_loop_current());
    return 0;
}

TEST(agen_loop_free_closes)
{
    corio_loop *loop;
    char *err;
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_spawn(loop, leave_and_stop, NULL, NULL, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    corio_test_stderr_begin();
    CHECK_EQ(corio_loop_free(loop), 0);
    err = corio_test_stderr_end();
    free(err);
    /* Closed at once: the cleanup's wait failed, nothing blocked. */
    CHECK_EQ(left_s[0].cleanup, 1);
    CHECK_EQ(left_s[0].cleanup_rc, CORIO_ENOLOOP);
    CHECK_EQ(corio_agen_state(left[0]), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_free(left[0]), 0);
}

/* A generator whose cleanup fails: the finalizer reports it. */
static int bad_cleanup_gen(void *arg, void **result)
{
    (void)arg;
    (void)result;
    corio_yield(NULL, NULL);
    return -EBADMSG;
}

static corio_agen *grumpy;

static int bad_cleanup_body(void)
{
    corio_coro_opts o = {.name = "grumpy"};
    CHECK_EQ(corio_agen_new(bad_cleanup_gen, NULL, &o, &grumpy), 0);
    CHECK_EQ(corio_agen_next(grumpy, NULL), 0);
    return 0; /* left for corio_run to close */
}

TEST(agen_finalizer_reports_errors)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(bad_cleanup_body), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "async generator 'grumpy' failed while being closed");
    free(err);
    CHECK_EQ(corio_agen_state(grumpy), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_free(grumpy), 0);
}

/* ---- cancellation inside aclose, waits after athrow and asend -------------------- */

struct closer {
    corio_agen *g;
    int rc;
};

static int closer_task(void *arg, void **result)
{
    struct closer *c = arg;
    (void)result;
    c->rc = corio_agen_close(c->g);
    return c->rc;
}

static int cancel_in_aclose_body(void)
{
    struct gstate s = {.wait = 10.0};
    struct closer c = {NULL, 1};
    corio_task *t;
    void *x;

    CHECK_EQ(corio_agen_new(slow_cleanup_gen, &s, NULL, &c.g), 0);
    CHECK_EQ(corio_agen_next(c.g, &x), 0);
    CHECK_EQ(corio_spawn(closer_task, &c, NULL, &t), 0);
    corio_sleep(0);
    corio_sleep(0); /* the cleanup is asleep inside close */
    CHECK_EQ(corio_agen_state(c.g), CORIO_CORO_RUNNING);
    CHECK_EQ(s.cleanup, 0);
    corio_task_cancel(t);
    corio_task_join(t, NULL);
    /* The cleanup's wait was cut short; the generator still ended as it
     * chose (returning CORIO_EEXIT), so close reports success. */
    CHECK_EQ(c.rc, 0);
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(s.cleanup_rc, -ECANCELED);
    CHECK_EQ(corio_agen_state(c.g), CORIO_CORO_CLOSED);
    corio_task_release(t);
    corio_agen_free(c.g);
    return 0;
}

TEST(agen_cancel_in_aclose)
{
    CHECK_EQ(run(cancel_in_aclose_body), 0);
}

/* Echoes what it is sent after a sleep; a thrown -EAGAIN makes it sleep
 * and yield -1. */
static int echo_gen(void *arg, void **result)
{
    void *v = NULL;
    int rc;
    (void)arg;
    (void)result;
    for (;;) {
        rc = corio_yield(v, &v);
        if (rc == -EAGAIN) {
            v = IP(-1);
            rc = 0;
        }
        if (rc == 0)
            rc = corio_sleep(0.001);
        if (rc)
            return rc;
    }
}

static int send_throw_body(void)
{
    corio_agen *g;
    void *x;

    CHECK_EQ(corio_agen_new(echo_gen, NULL, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_PTR(x, NULL);
    CHECK_EQ(corio_agen_send(g, IP(11), &x), 0);
    CHECK_EQ(PI(x), 11);
    CHECK_EQ(corio_agen_throw(g, -EAGAIN, &x), 0);
    CHECK_EQ(PI(x), -1);
    CHECK_EQ(corio_agen_send(g, IP(12), &x), 0);
    CHECK_EQ(PI(x), 12);
    CHECK_EQ(corio_agen_throw(g, -ENOSPC, &x), -ENOSPC);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    corio_agen_free(g);
    return 0;
}

TEST(agen_send_throw_in_task)
{
    CHECK_EQ(run(send_throw_body), 0);
}
