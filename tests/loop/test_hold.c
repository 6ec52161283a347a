/*
 * test_hold.c: loop holds (corio_loop_hold/unhold): a task waiting for
 * work another thread will deliver is not reported as a deadlock while a
 * hold stands; without a hold it is (the detector still works); releasing
 * the last hold wakes a loop that then finds itself deadlocked; misuse.
 */
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

struct job {
    corio_loop *loop;
    corio_future *fut;
    int hold;        /* the worker releases a hold when done */
    int deliver;     /* the worker completes the future */
    int rc;          /* what the waiting task saw */
};

static void set_it(void *arg)
{
    struct job *j = arg;
    corio_future_set_result(j->fut, (void *)(intptr_t)42);
}

static void *worker(void *arg)
{
    struct job *j = arg;
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL); /* the loop is idle meanwhile */
    if (j->deliver)
        CHECK_EQ(corio_loop_call_soon_threadsafe(j->loop, set_it, j), 0);
    if (j->hold)
        CHECK_EQ(corio_loop_unhold(j->loop), 0);
    return NULL;
}

static int waiter(void *arg, void **result)
{
    struct job *j = arg;
    void *v = NULL;
    j->rc = corio_future_await(j->fut, &v);
    if (j->rc == 0 && v != (void *)(intptr_t)42)
        j->rc = -EPROTO;
    corio_loop_stop(j->loop);
    (void)result;
    return 0;
}

/* Run a loop whose only task waits for the worker's future. */
static int run_job(struct job *j)
{
    pthread_t th;
    int rc;
    CHECK_EQ(corio_loop_new(NULL, &j->loop), 0);
    CHECK_EQ(corio_future_new(j->loop, &j->fut), 0);
    j->rc = 1;
    CHECK_EQ(corio_loop_spawn(j->loop, waiter, j, NULL, NULL), 0);
    if (j->hold)
        CHECK_EQ(corio_loop_hold(j->loop), 0);
    CHECK_EQ(pthread_create(&th, NULL, worker, j), 0);
    rc = corio_loop_run(j->loop);
    CHECK_EQ(pthread_join(th, NULL), 0);
    corio_future_release(j->fut);
    CHECK_EQ(corio_loop_free(j->loop), 0);
    return rc;
}

TEST(loop_hold_outside_work)
{
    struct job j = {.hold = 1, .deliver = 1};
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run_job(&j), 0);
    err = corio_test_stderr_end();
    CHECK_EQ(strlen(err), 0); /* no deadlock report */
    free(err);
    CHECK_EQ(j.rc, 0); /* the future came from the other thread */
}

TEST(loop_hold_none_is_a_deadlock)
{
    struct job j = {.hold = 0, .deliver = 1};
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run_job(&j), -EDEADLK); /* nothing told the loop to wait */
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "deadlock");
    free(err);
}

TEST(loop_hold_release_wakes_the_loop)
{
    /* The worker only releases its hold: the loop, asleep with nothing
     * to do, must wake and report the deadlock rather than sleep on. */
    struct job j = {.hold = 1, .deliver = 0};
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run_job(&j), -EDEADLK);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "deadlock");
    free(err);
    /* Still waiting when the loop gave up; closed by corio_loop_free. */
    CHECK_EQ(j.rc, -ECANCELED);
}

TEST(loop_hold_misuse)
{
    corio_loop *loop;
    CHECK_EQ(corio_loop_hold(NULL), -EINVAL);
    CHECK_EQ(corio_loop_unhold(NULL), -EINVAL);
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_unhold(loop), -EINVAL); /* none stands */
    CHECK_EQ(corio_loop_hold(loop), 0);
    CHECK_EQ(corio_loop_hold(loop), 0);
    CHECK_EQ(corio_loop_unhold(loop), 0);
    CHECK_EQ(corio_loop_unhold(loop), 0);
    CHECK_EQ(corio_loop_unhold(loop), -EINVAL);
    CHECK_EQ(corio_loop_hold(loop), 0); /* left standing: ignored */
    CHECK_EQ(corio_loop_free(loop), 0);
}
