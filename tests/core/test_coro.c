/*
 * test_coro.c: the coroutine protocol driven by hand: states, resume,
 * yield, await, throw, close, free, generators, nesting, misuse errors,
 * lean mode, threads, and scale.
 */
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "core/coro_impl.h"

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

static corio_coro *make(corio_coro_fn fn, void *arg, const char *name)
{
    corio_coro_opts o = {0};
    corio_coro *co = NULL;
    o.name = name;
    CHECK_EQ(corio_coro_new(fn, arg, &o, &co), 0);
    CHECK(co != NULL);
    return co;
}

/* ---- creation and finishing ---------------------------------------------- */

static int returns_one(void *arg, void **result)
{
    int *ran = arg;
    CHECK_PTR(*result, NULL); /* the contract: it starts as NULL */
    (*ran)++;
    *result = IP(1);
    return 0;
}

TEST(coro_created_does_not_run)
{
    int ran = 0;
    corio_coro *co = make(returns_one, &ran, "one");
    void *out = IP(99);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_CREATED);
    CHECK_EQ(ran, 0);
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_FINISHED);
    CHECK_EQ(ran, 1);
    CHECK_EQ(PI(out), 1);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_coro_error(co), 0);
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_ECLOSED);
    CHECK_EQ(corio_coro_throw(co, -EIO, &out), CORIO_ECLOSED);
    CHECK_EQ(corio_coro_close(co), 0);
    CHECK_EQ(ran, 1);
    CHECK_EQ(corio_coro_free(co), 0);
}

TEST(coro_new_rejects_bad_arguments)
{
    corio_coro *co = (corio_coro *)IP(1);
    corio_coro_opts o = {0};
    int ran = 0;
    CHECK_EQ(corio_coro_new(NULL, NULL, NULL, &co), -EINVAL);
    CHECK_EQ(corio_coro_new(returns_one, &ran, NULL, NULL), -EINVAL);
    o.flags = 0x80;
    CHECK_EQ(corio_coro_new(returns_one, &ran, &o, &co), -EINVAL);
    CHECK_PTR(co, IP(1)); /* untouched on failure */
    CHECK_EQ(corio_coro_resume(NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_coro_throw(NULL, -EIO, NULL), -EINVAL);
    CHECK_EQ(corio_coro_close(NULL), -EINVAL);
    CHECK_EQ(corio_coro_free(NULL), 0);
    CHECK_EQ(corio_coro_new(returns_one, &ran, NULL, &co), 0);
    CHECK_EQ(strcmp(corio_coro_name(co), "coro"), 0);
    CHECK_EQ(corio_coro_throw(co, 0, NULL), -EINVAL);
    CHECK_EQ(corio_coro_throw(co, 5, NULL), -EINVAL);
    CHECK_EQ(corio_coro_close(co), 0); /* dismissed: no warning */
    CHECK_EQ(corio_coro_free(co), 0);
}

static int fails_eio(void *arg, void **result)
{
    (void)arg;
    *result = IP(7); /* ignored: the body failed */
    return -EIO;
}

static int returns_positive(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return 3;
}

TEST(coro_failure_is_reported)
{
    corio_coro *co = make(fails_eio, NULL, "fails");
    void *out = IP(1);
    CHECK_EQ(corio_coro_resume(co, NULL, &out), -EIO);
    CHECK_PTR(out, NULL);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_coro_error(co), -EIO);
    CHECK_EQ(corio_coro_free(co), 0);

    co = make(returns_positive, NULL, "positive");
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_coro_free(co), 0);
}

/* ---- yield and send ------------------------------------------------------ */

/* Yields 10, 20, 30 and returns the sum of what was sent in. */
static int echo_sum(void *arg, void **result)
{
    intptr_t sum = 0;
    int i, rc;
    (void)arg;
    for (i = 1; i <= 3; i++) {
        void *sent = NULL;
        CHECK_EQ(corio_coro_state(corio_coro_current()), CORIO_CORO_RUNNING);
        rc = corio_yield(IP(i * 10), &sent);
        if (rc)
            return rc;
        sum += PI(sent);
    }
    *result = IP(sum);
    return 0;
}

TEST(coro_yield_and_send)
{
    corio_coro *co = make(echo_sum, NULL, "echo");
    void *out = NULL;
    CHECK_EQ(corio_coro_resume(co, IP(5), &out), CORIO_ENOTSTARTED);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_CREATED);
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_YIELDED);
    CHECK_EQ(PI(out), 10);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_SUSPENDED);
    CHECK_EQ(corio_coro_resume(co, IP(1), &out), CORIO_YIELDED);
    CHECK_EQ(PI(out), 20);
    CHECK_EQ(corio_coro_resume(co, IP(2), &out), CORIO_YIELDED);
    CHECK_EQ(PI(out), 30);
    CHECK_EQ(corio_coro_resume(co, IP(4), &out), CORIO_FINISHED);
    CHECK_EQ(PI(out), 7);
    CHECK_EQ(corio_coro_free(co), 0);
}

TEST(coro_yield_outside_coroutine)
{
    void *sent = IP(3);
    CHECK_PTR(corio_coro_current(), NULL);
    CHECK_EQ(corio_yield(IP(1), &sent), CORIO_ENOTCORO);
    CHECK_EQ(corio_await(IP(1), &sent), CORIO_ENOTCORO);
    CHECK_PTR(sent, IP(3));
}

/* ---- generators ---------------------------------------------------------- */

static int count_to(void *arg, void **result)
{
    intptr_t n = PI(arg), i;
    for (i = 1; i <= n; i++) {
        int rc = corio_yield(IP(i), NULL);
        if (rc)
            return rc;
    }
    *result = IP(-1);
    return 0;
}

TEST(coro_generator_loop)
{
    corio_coro *g = make(count_to, IP(100), "count");
    void *x = NULL;
    intptr_t sum = 0, n = 0;
    int rc;
    while ((rc = corio_coro_next(g, &x)) == 0) {
        sum += PI(x);
        n++;
    }
    CHECK_EQ(rc, CORIO_END); /* x: the body's result */
    CHECK_EQ(PI(x), -1);
    CHECK_EQ(n, 100);
    CHECK_EQ(sum, 5050);
    CHECK_EQ(corio_coro_next(g, &x), CORIO_END); /* the end, again */
    CHECK_PTR(x, NULL);
    CHECK_EQ(corio_coro_resume(g, NULL, &x), CORIO_ECLOSED);
    CHECK_EQ(corio_coro_free(g), 0);
}

/* ---- await: the driver's protocol ---------------------------------------- */

struct fake_future {
    int done;
    intptr_t value;
};

/* Awaits two fake futures; returns the sum of their values. */
static int awaits_two(void *arg, void **result)
{
    struct fake_future *f = arg;
    intptr_t sum = 0;
    int i;
    for (i = 0; i < 2; i++) {
        int rc;
        if (!f[i].done && (rc = corio_await(&f[i], NULL)) != 0)
            return rc;
        CHECK(f[i].done);
        sum += f[i].value;
    }
    *result = IP(sum);
    return 0;
}

TEST(coro_await_handed_to_driver)
{
    struct fake_future f[2] = {{0, 0}, {0, 0}};
    corio_coro *co = make(awaits_two, f, "awaiter");
    void *out = NULL;
    int rc, steps = 0;
    /* A hand-written driver: complete whatever is awaited, resume. */
    while ((rc = corio_coro_resume(co, NULL, &out)) == CORIO_AWAITING) {
        struct fake_future *ff = out;
        ff->done = 1;
        ff->value = 20 + steps++;
    }
    CHECK_EQ(rc, CORIO_FINISHED);
    CHECK_EQ(PI(out), 41);
    CHECK_EQ(steps, 2);
    CHECK_EQ(corio_coro_free(co), 0);
}

/* A generator that awaits between items; the consumer is itself a coroutine
 * that forwards the awaits to its own driver (Python's `yield from`). */
static int awaiting_gen(void *arg, void **result)
{
    struct fake_future *f = arg;
    int i, rc;
    for (i = 0; i < 3; i++) {
        if ((rc = corio_await(&f[i], NULL)) != 0)
            return rc;
        if ((rc = corio_yield(IP(f[i].value * 2), NULL)) != 0)
            return rc;
    }
    *result = NULL;
    return 0;
}

/* corio_coro_next's convention (error.h): 0 with an item, CORIO_AWAITING
 * for an await, CORIO_END at the end and after it, negative on failure. */
TEST(coro_next_convention)
{
    struct fake_future f[3] = {{1, 1}, {1, 2}, {1, 3}};
    corio_coro *g = make(awaiting_gen, f, "gen");
    void *x = NULL;
    CHECK_EQ(corio_coro_next(g, &x), CORIO_AWAITING);
    CHECK_PTR(x, &f[0]);
    CHECK_EQ(corio_coro_next(g, &x), 0);
    CHECK_EQ(PI(x), 2);
    CHECK_EQ(corio_coro_free(g), 0);

    g = make(fails_eio, NULL, "fails");
    CHECK_EQ(corio_coro_next(g, &x), -EIO);
    CHECK_EQ(corio_coro_next(g, &x), CORIO_END); /* as Python's next() */
    CHECK_EQ(corio_coro_free(g), 0);
    CHECK_EQ(corio_coro_next(NULL, &x), -EINVAL);

    CHECK(CORIO_END > 0 && CORIO_END != CORIO_YIELDED &&
          CORIO_END != CORIO_AWAITING);
    CHECK_EQ(strcmp(corio_errname(CORIO_END), "CORIO_END"), 0);
    CHECK_STR_HAS(corio_strerror(CORIO_END), "end of iteration");
}

static int forwarding_consumer(void *arg, void **result)
{
    corio_coro *g = make(awaiting_gen, arg, "agen");
    intptr_t sum = 0;
    void *x = NULL, *back = NULL;
    int rc;
    for (;;) {
        rc = corio_coro_resume(g, back, &x);
        back = NULL;
        if (rc == CORIO_AWAITING) { /* pass it up, bring the answer down */
            rc = corio_await(x, &back);
            if (rc)
                return rc;
            continue;
        }
        if (rc != CORIO_YIELDED)
            break;
        sum += PI(x);
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(corio_coro_free(g), 0);
    *result = IP(sum);
    return 0;
}

TEST(coro_await_passes_through_a_consumer)
{
    struct fake_future f[3] = {{0, 0}, {0, 0}, {0, 0}};
    corio_coro *co = make(forwarding_consumer, f, "consumer");
    void *out = NULL;
    int rc, n = 0;
    while ((rc = corio_coro_resume(co, NULL, &out)) == CORIO_AWAITING) {
        struct fake_future *ff = out;
        CHECK_PTR(ff, &f[n]);
        ff->done = 1;
        ff->value = ++n;
    }
    CHECK_EQ(rc, CORIO_FINISHED);
    CHECK_EQ(PI(out), 2 * (1 + 2 + 3));
    CHECK_EQ(corio_coro_free(co), 0);
}

/* ---- throw --------------------------------------------------------------- */

/* Yields until thrown -EAGAIN three times (handled), fails on anything
 * else. */
static int handles_eagain(void *arg, void **result)
{
    int *handled = arg;
    for (;;) {
        int rc = corio_yield(IP(*handled), NULL);
        if (rc == -EAGAIN) {
            if (++*handled == 3)
                break;
            continue;
        }
        if (rc)
            return rc;
    }
    *result = IP(33);
    return 0;
}

TEST(coro_throw_handled_and_unhandled)
{
    int handled = 0;
    corio_coro *co = make(handles_eagain, &handled, "thrown");
    void *out = NULL;
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_YIELDED);
    CHECK_EQ(corio_coro_throw(co, -EAGAIN, &out), CORIO_YIELDED);
    CHECK_EQ(PI(out), 1);
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_YIELDED);
    CHECK_EQ(corio_coro_throw(co, -EAGAIN, &out), CORIO_YIELDED);
    CHECK_EQ(corio_coro_throw(co, -EAGAIN, &out), CORIO_FINISHED);
    CHECK_EQ(PI(out), 33);
    CHECK_EQ(corio_coro_free(co), 0);

    handled = 0;
    co = make(handles_eagain, &handled, "thrown2");
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_YIELDED);
    CHECK_EQ(corio_coro_throw(co, -ECONNRESET, &out), -ECONNRESET);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_coro_error(co), -ECONNRESET);
    CHECK_EQ(corio_coro_free(co), 0);
}

TEST(coro_throw_into_created)
{
    int ran = 0;
    corio_coro *co = make(returns_one, &ran, "never");
    void *out = IP(5);
    char *err;
    CHECK_EQ(corio_coro_throw(co, -EPIPE, &out), -EPIPE);
    CHECK_PTR(out, NULL);
    CHECK_EQ(ran, 0);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_coro_error(co), -EPIPE);
    corio_test_stderr_begin();
    CHECK_EQ(corio_coro_free(co), 0);
    err = corio_test_stderr_end();
    CHECK_EQ(strlen(err), 0); /* it was dealt with: no warning */
    free(err);
}

/* ---- close --------------------------------------------------------------- */

struct closing {
    int cleanup;     /* how many times cleanup ran */
    int exit_seen;   /* what the pending yield returned */
    int mode;        /* 0: return the exit code, 1: return -EIO, 2: yield */
};

static int closable(void *arg, void **result)
{
    struct closing *c = arg;
    int rc;
    while ((rc = corio_yield(NULL, NULL)) == 0) {
    }
    c->exit_seen = rc;
    c->cleanup++;
    if (c->mode == 1)
        return -EIO;
    if (c->mode == 2) {
        rc = corio_yield(IP(1), NULL); /* misbehaves: suspends again */
        c->cleanup++;
        (void)result;
        return rc;
    }
    return rc;
}

TEST(coro_close_runs_cleanup)
{
    struct closing c = {0, 0, 0};
    corio_coro *co = make(closable, &c, "closable");
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_YIELDED);
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_YIELDED);
    CHECK_EQ(corio_coro_close(co), 0);
    CHECK_EQ(c.exit_seen, CORIO_EEXIT);
    CHECK_EQ(c.cleanup, 1);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_coro_error(co), 0);
    CHECK_EQ(corio_coro_close(co), 0); /* again: nothing happens */
    CHECK_EQ(c.cleanup, 1);
    CHECK_EQ(corio_coro_free(co), 0);
}

TEST(coro_close_reports_cleanup_error)
{
    struct closing c = {0, 0, 1};
    corio_coro *co = make(closable, &c, "closable");
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_YIELDED);
    CHECK_EQ(corio_coro_close(co), -EIO);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_coro_error(co), -EIO);
    CHECK_EQ(corio_coro_free(co), 0);
}

TEST(coro_close_ignored)
{
    struct closing c = {0, 0, 2};
    corio_coro *co = make(closable, &c, "stubborn");
    void *out = NULL;
    char *err;
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_YIELDED);
    CHECK_EQ(corio_coro_close(co), CORIO_EIGNORED);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_SUSPENDED);
    CHECK_EQ(c.cleanup, 1);
    /* It can still be driven; it returns what its yield gave it. */
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_FINISHED);
    CHECK_EQ(c.cleanup, 2);
    CHECK_EQ(corio_coro_free(co), 0);

    /* Freed while ignoring close: discarded, with a warning. */
    memset(&c, 0, sizeof c);
    c.mode = 2;
    co = make(closable, &c, "stubborn2");
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_YIELDED);
    corio_test_stderr_begin();
    CHECK_EQ(corio_coro_free(co), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "stubborn2");
    CHECK_STR_HAS(err, "could not be closed");
    free(err);
    CHECK_EQ(c.cleanup, 1);
}

static int closes_itself(void *arg, void **result)
{
    corio_coro **self = arg;
    CHECK_EQ(corio_coro_close(*self), CORIO_ERUNNING);
    CHECK_EQ(corio_coro_free(*self), CORIO_ERUNNING);
    CHECK_EQ(corio_coro_resume(*self, NULL, NULL), CORIO_ERUNNING);
    *result = NULL;
    return 0;
}

TEST(coro_running_cannot_be_closed_or_freed)
{
    corio_coro *co = NULL;
    CHECK_EQ(corio_coro_new(closes_itself, &co, NULL, &co), 0);
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_FINISHED);
    CHECK_EQ(corio_coro_free(co), 0);
}

TEST(coro_free_suspended_closes_it)
{
    struct closing c = {0, 0, 0};
    corio_coro *co = make(closable, &c, "dropped");
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_YIELDED);
    CHECK_EQ(corio_coro_free(co), 0);
    CHECK_EQ(c.cleanup, 1);
    CHECK_EQ(c.exit_seen, CORIO_EEXIT);
}

TEST(coro_never_resumed_warning)
{
    int ran = 0;
    corio_coro *co = make(returns_one, &ran, "forgotten");
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(corio_coro_free(co), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "coroutine 'forgotten' was never resumed");
    free(err);
    CHECK_EQ(ran, 0);
}

/* ---- nesting and the NORMAL state ---------------------------------------- */

struct chain {
    int depth, max;
    corio_coro *parent;
};

/* Each level resumes the next; the deepest yields its depth up the chain. */
static int nest(void *arg, void **result)
{
    struct chain *c = arg;
    struct chain *next;
    corio_coro *child;
    corio_coro *me = corio_coro_current();
    void *out = NULL;
    int rc;

    if (c->parent)
        CHECK_EQ(corio_coro_state(c->parent), CORIO_CORO_NORMAL);
    if (c->depth == c->max) {
        rc = corio_yield(IP(c->depth), NULL);
        *result = IP(c->depth);
        return rc;
    }
    next = malloc(sizeof *next);
    CHECK(next);
    next->depth = c->depth + 1;
    next->max = c->max;
    next->parent = me;
    CHECK_EQ(corio_coro_new(nest, next, NULL, &child), 0);
    rc = corio_coro_resume(child, NULL, &out);
    CHECK_EQ(rc, CORIO_YIELDED);
    CHECK_EQ(corio_coro_state(me), CORIO_CORO_RUNNING);
    if (c->parent) { /* an ancestor on the chain cannot be resumed */
        CHECK_EQ(corio_coro_resume(c->parent, NULL, NULL), CORIO_ERUNNING);
    }
    rc = corio_yield(out, NULL);        /* pass the value up */
    CHECK_EQ(rc, 0);
    CHECK_EQ(corio_coro_resume(child, NULL, &out), CORIO_FINISHED);
    CHECK_EQ(corio_coro_free(child), 0);
    free(next);
    *result = out;
    return 0;
}

TEST(coro_nesting_deep)
{
    struct chain top = {0, 1000, NULL};
    corio_coro *co = make(nest, &top, "top");
    void *out = NULL;
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_YIELDED);
    CHECK_EQ(PI(out), 1000);
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_FINISHED);
    CHECK_EQ(PI(out), 1000);
    CHECK_EQ(corio_coro_free(co), 0);
}

/* ---- strings -------------------------------------------------------------- */

TEST(coro_error_names)
{
    CHECK_EQ(strcmp(corio_errname(CORIO_ECLOSED), "CORIO_ECLOSED"), 0);
    CHECK_EQ(strcmp(corio_errname(-ECANCELED), "ECANCELED"), 0);
    CHECK_EQ(strcmp(corio_errname(0), "OK"), 0);
    CHECK_EQ(strcmp(corio_errname(12345), "E?"), 0);
    CHECK_EQ(strcmp(corio_errname(CORIO_YIELDED), "CORIO_YIELDED"), 0);
    CHECK_EQ(strcmp(corio_errname(CORIO_AWAITING), "CORIO_AWAITING"), 0);
    CHECK_EQ(strcmp(corio_state_name(CORIO_CORO_NORMAL), "NORMAL"), 0);
    CHECK_EQ(strcmp(corio_state_name((corio_state)42), "?"), 0);
    CHECK_EQ(corio_coro_state(NULL), CORIO_CORO_CLOSED);
    CHECK_STR_HAS(corio_strerror(CORIO_ERUNNING), "already running");
    CHECK_STR_HAS(corio_strerror(-ETIMEDOUT), "timed out");
    CHECK_STR_HAS(corio_strerror(-99999), "unknown");
    CHECK_EQ(strcmp(corio_strerror(0), "success"), 0);
}

/* ---- threads -------------------------------------------------------------- */

static void *resume_elsewhere(void *arg)
{
    corio_coro *co = arg;
    void *out = NULL;
    CHECK_EQ(corio_coro_resume(co, IP(5), &out), CORIO_YIELDED);
    CHECK_EQ(PI(out), 20);
    return NULL;
}

TEST(coro_migrates_between_threads)
{
    corio_coro *co = make(echo_sum, NULL, "traveller");
    pthread_t th;
    void *out = NULL;
    int i;
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_YIELDED);
    for (i = 0; i < 1; i++) {
        CHECK_EQ(pthread_create(&th, NULL, resume_elsewhere, co), 0);
        CHECK_EQ(pthread_join(th, NULL), 0);
    }
    CHECK_EQ(corio_coro_resume(co, IP(6), &out), CORIO_YIELDED);
    CHECK_EQ(corio_coro_resume(co, IP(7), &out), CORIO_FINISHED);
    CHECK_EQ(PI(out), 18);
    CHECK_EQ(corio_coro_free(co), 0);
}

static void *run_many(void *arg)
{
    int i, n = (int)PI(arg);
    for (i = 0; i < n; i++) {
        corio_coro *g = make(count_to, IP(10), "worker");
        void *x;
        intptr_t sum = 0;
        while (corio_coro_next(g, &x) == 0)
            sum += PI(x);
        CHECK_EQ(sum, 55);
        CHECK_EQ(corio_coro_free(g), 0);
    }
    return NULL;
}

TEST(coro_threads_run_their_own)
{
    pthread_t th[4];
    int i;
    for (i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, run_many, IP(2000)), 0);
    for (i = 0; i < 4; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
}

/* ---- lean mode ------------------------------------------------------------ */

static corio_coro *make_lean(corio_coro_fn fn, void *arg, const char *name)
{
    corio_coro_opts o = {0};
    corio_coro *co = NULL;
    o.name = name;
    o.flags = CORIO_CORO_LEAN;
    CHECK_EQ(corio_coro_new(fn, arg, &o, &co), 0);
    return co;
}

/* Keeps a pattern in a local array across yields and checks it. */
static int pattern_keeper(void *arg, void **result)
{
    volatile unsigned char buf[300];
    intptr_t id = PI(arg);
    int round, i;
    for (round = 0; round < 20; round++) {
        for (i = 0; i < (int)sizeof buf; i++)
            buf[i] = (unsigned char)(id * 31 + round * 7 + i);
        if (corio_yield(IP(id), NULL))
            return -EIO;
        for (i = 0; i < (int)sizeof buf; i++)
            if (buf[i] != (unsigned char)(id * 31 + round * 7 + i))
                return -EFAULT;
    }
    *result = IP(id);
    return 0;
}

TEST(coro_lean_frames_survive_sharing)
{
    enum { N = 500 };
    corio_coro **co = calloc(N, sizeof *co);
    int i, round, live = N;
    void *out;
    CHECK(co);
    for (i = 0; i < N; i++)
        co[i] = make_lean(pattern_keeper, IP(i), "lean");
    /* Round robin: every resume evicts another coroutine's frames. */
    for (round = 0; live; round++) {
        for (i = 0; i < N; i++) {
            int rc;
            if (corio_coro_state(co[i]) == CORIO_CORO_CLOSED)
                continue;
            rc = corio_coro_resume(co[i], NULL, &out);
            CHECK(rc >= 0);
            CHECK_EQ(PI(out), i);
            if (rc == CORIO_FINISHED)
                live--;
        }
    }
    CHECK_EQ(round, 21);
    for (i = 0; i < N; i++)
        CHECK_EQ(corio_coro_free(co[i]), 0);
    free(co);
}

static int lean_outer(void *arg, void **result)
{
    corio_coro *inner = make_lean(count_to, IP(50), "lean-inner");
    intptr_t sum = 0;
    void *x;
    (void)arg;
    while (corio_coro_next(inner, &x) == 0) {
        sum += PI(x);
        if (corio_yield(x, NULL))
            return -EIO;
    }
    CHECK_EQ(corio_coro_free(inner), 0);
    *result = IP(sum);
    return 0;
}

TEST(coro_lean_nested)
{
    corio_coro *a = make_lean(lean_outer, NULL, "lean-a");
    corio_coro *b = make_lean(lean_outer, NULL, "lean-b");
    void *x;
    int ra, rb;
    do { /* two lean chains interleaved */
        ra = corio_coro_resume(a, NULL, &x);
        rb = corio_coro_resume(b, NULL, &x);
    } while (ra == CORIO_YIELDED && rb == CORIO_YIELDED);
    CHECK_EQ(ra, CORIO_FINISHED);
    CHECK_EQ(rb, CORIO_FINISHED);
    CHECK_EQ(PI(x), 1275);
    CHECK_EQ(corio_coro_free(a), 0);
    CHECK_EQ(corio_coro_free(b), 0);
}

static int resume_arg(void *arg, void **result)
{
    *result = NULL;
    return corio_coro_resume(arg, NULL, NULL);
}

TEST(coro_lean_stack_busy)
{
    /* b binds to the first shared stack and suspends there; a then takes
     * that stack (evicting b) and, running on it, tries to resume b. */
    corio_coro *b = make_lean(count_to, IP(5), "lean-b");
    corio_coro *a = make_lean(resume_arg, b, "lean-a");
    CHECK_EQ(corio_coro_resume(b, NULL, NULL), CORIO_YIELDED);
    CHECK_EQ(corio_coro_resume(a, NULL, NULL), CORIO_ESTACKBUSY);
    CHECK_EQ(corio_coro_state(b), CORIO_CORO_SUSPENDED);
    CHECK_EQ(corio_coro_resume(b, NULL, NULL), CORIO_YIELDED);
    CHECK_EQ(corio_coro_free(a), 0);
    CHECK_EQ(corio_coro_free(b), 0);
}

static void *resume_lean_elsewhere(void *arg)
{
    return IP(corio_coro_resume(arg, NULL, NULL));
}

TEST(coro_lean_stays_on_its_thread)
{
    corio_coro *co = make_lean(count_to, IP(3), "homebody");
    pthread_t th;
    void *ret;
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_YIELDED);
    CHECK_EQ(pthread_create(&th, NULL, resume_lean_elsewhere, co), 0);
    CHECK_EQ(pthread_join(th, &ret), 0);
    CHECK_EQ(PI(ret), CORIO_EWRONGTHREAD);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_SUSPENDED);
    CHECK_EQ(corio_coro_free(co), 0);
}

/* ---- scale ---------------------------------------------------------------- */

static int yield_once(void *arg, void **result)
{
    int rc = corio_yield(arg, NULL);
    *result = arg;
    return rc;
}

static int max_map_count(void)
{
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    int n = 65530;
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = 65530;
        fclose(f);
    }
    return n;
}

/* Holds n suspended coroutines at once, then finishes them all. */
static void hold_many(size_t n, unsigned flags)
{
    corio_coro **co = malloc(n * sizeof *co);
    corio_coro_opts o = {0};
    size_t i;
    void *out;
    CHECK(co);
    o.name = "many";
    o.flags = flags;
    for (i = 0; i < n; i++) {
        CHECK_EQ(corio_coro_new(yield_once, IP(i), &o, &co[i]), 0);
        CHECK_EQ(corio_coro_resume(co[i], NULL, &out), CORIO_YIELDED);
        CHECK_EQ(PI(out), (intptr_t)i);
    }
    /* The point of the exercise: all of them fit under the kernel's
     * mapping limit (with page-table guards they take a few dozen VMAs;
     * with mprotect guards, at most corio's share of the limit). */
    CHECK(corio_test_count_vmas() < max_map_count());
    for (i = 0; i < n; i++) {
        CHECK_EQ(corio_coro_resume(co[i], NULL, &out), CORIO_FINISHED);
        CHECK_EQ(PI(out), (intptr_t)i);
        CHECK_EQ(corio_coro_free(co[i]), 0);
    }
    free(co);
}

/* A million under the normal build. ASan's larger frames and shadow make
 * that too heavy for CI, so it holds 100,000. TSan maps a shadow stack and
 * trace for every fiber itself, which exhausts vm.max_map_count near 30,000
 * fibers, and Valgrind (which does not know MADV_GUARD_INSTALL, so the pool
 * uses mprotect guards) runs out of its own segment table: both hold
 * 10,000. */
static size_t million(void)
{
    if (corio_test_under_tsan() || corio_test_under_valgrind())
        return 10000;
    if (corio_test_under_asan())
        return 100000;
    return 1000000;
}

TEST(coro_one_million_at_once)
{
    hold_many(million(), 0);
}

TEST(coro_one_million_lean_at_once)
{
    hold_many(million(), CORIO_CORO_LEAN);
}

/* ---- overflow ------------------------------------------------------------- */

static volatile int sink;

static int recurse(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    sink += pad[0];
    return n ? recurse(n - 1) + pad[0] : 0;
}

static int overflows(void *arg, void **result)
{
    (void)arg;
    *result = NULL;
    return recurse(1 << 30);
}

static void overflow_child(void *arg)
{
    corio_coro *co = make(overflows, NULL, "deep-recursion");
    (void)arg;
    corio_coro_resume(co, NULL, NULL);
}

TEST(coro_stack_overflow_is_reported)
{
    char *err = NULL;
    int st = corio_test_fork(overflow_child, NULL, &err);
    CHECK(WIFSIGNALED(st));
    if (corio_test_under_asan() && !strstr(err, "stack overflow in")) {
        /* ASan may report the overflow itself before corio's handler. */
        CHECK_STR_HAS(err, "stack-overflow");
    } else {
        CHECK_EQ(WTERMSIG(st), SIGABRT);
        CHECK_STR_HAS(err, "stack overflow in coroutine 'deep-recursion'");
        CHECK_STR_HAS(err, "fault at");
    }
    free(err);
}
