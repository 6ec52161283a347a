/*
 * test_agen_final.c: finalization of async generators: free without
 * aclose, corio_run's and corio_agen_shutdown's closing of unfinished
 * generators, corio_loop_free's immediate close, and the reports; then
 * cancellation inside aclose and waits after athrow and asend.
 */

#include "test.h"
#include "run_body.h"
#include "agen_gens.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

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
    CHECK_EQ(left_s[0].cleanup_rc, CORIO_ENOTASK);
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
