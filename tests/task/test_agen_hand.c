/*
 * test_agen_hand.c: async generators driven by hand, with no loop: next,
 * send, throw, errors, close, free while unfinished, states and misuse,
 * and a hand-written driver that sees the generator's awaits.
 */

#include "test.h"
#include "run_body.h"
#include "agen_gens.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

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
    CHECK_EQ(corio_agen_next(g, &x), CORIO_END);
    CHECK_PTR(x, NULL);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    /* StopAsyncIteration again, however asked. */
    CHECK_EQ(corio_agen_next(g, &x), CORIO_END);
    CHECK_EQ(corio_agen_send(g, IP(1), &x), CORIO_END);
    CHECK_EQ(corio_agen_throw(g, -EIO, &x), CORIO_END);
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
    CHECK_EQ(corio_agen_shutdown(), CORIO_ENOTASK);

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
    CHECK_EQ(corio_agen_next(g, NULL), CORIO_END);
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
    CHECK_EQ(corio_agen_send(g, IP(40), &x), CORIO_END);
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
    CHECK_EQ(corio_agen_next(g, &x), CORIO_END);
    corio_agen_free(g);

    /* Thrown into a generator that never started: it never runs. */
    s.cleanup = 0;
    CHECK_EQ(corio_agen_new(handling_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_throw(g, -EPIPE, &x), -EPIPE);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(s.cleanup, 0);
    CHECK_EQ(corio_agen_next(g, &x), CORIO_END);
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
    CHECK_EQ(corio_agen_next(g, &x), CORIO_END);
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
    return rc == CORIO_END ? 0 : rc;
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
    CHECK_EQ(corio_agen_next(g, &out), CORIO_ENOTASK);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    corio_agen_free(g);
}
