/*
 * test_faults_misc.c: small faults found from outside (issue 10): integer
 * edges UBSan caught, NaN durations, a generator's wait outside any task.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* ---- integer edges ----------------------------------------------------------------- */

TEST(fault_sem_release_at_int_max)
{
    corio_sem *s;
    CHECK_EQ(corio_sem_new(INT_MAX, &s), 0);
    CHECK_EQ(corio_sem_release(s), -EOVERFLOW);
    CHECK_EQ(corio_sem_value(s), INT_MAX);
    CHECK_EQ(corio_sem_try_acquire(s), 0);
    CHECK_EQ(corio_sem_value(s), INT_MAX - 1);
    CHECK_EQ(corio_sem_release(s), 0);
    CHECK_EQ(corio_sem_value(s), INT_MAX);
    CHECK_EQ(corio_sem_free(s), 0);
}

/* Under UBSan, negating INT_MIN is reported (and halts the test). */
TEST(fault_strerror_int_min)
{
    CHECK(strcmp(corio_strerror(INT_MIN), "unknown error") == 0);
    CHECK(strcmp(corio_errname(INT_MIN), "E?") == 0);
    CHECK(strcmp(corio_strerror(INT_MIN + 1), "unknown error") == 0);
    CHECK(strcmp(corio_errname(INT_MIN + 1), "E?") == 0);
    CHECK(strcmp(corio_errname(INT_MAX), "E?") == 0);
    CHECK(strcmp(corio_errname(-EIO), "EIO") == 0);
}

/* ---- every duration goes through one check --------------------------------------- */

static int nan_durations(void)
{
    corio_scope *s = NULL;
    CHECK_EQ(corio_scope_timeout(NAN, &s), -EINVAL);
    CHECK_EQ(corio_scope_move_on_after(NAN, &s), -EINVAL);
    CHECK_EQ(corio_scope_timeout_at(NAN, &s), -EINVAL);
    CHECK_EQ(corio_scope_open(CORIO_SCOPE_FAIL, NAN, &s), -EINVAL);
    CHECK_PTR(s, NULL);
    CHECK_EQ(corio_sleep(NAN), -EINVAL);
    CHECK_EQ(corio_scope_timeout(-NAN, &s), -EINVAL);
    CHECK_PTR(s, NULL);
    CHECK_EQ(corio_scope_timeout(INFINITY, &s), 0);
    CHECK_EQ(corio_scope_reschedule(s, NAN), -EINVAL);
    CHECK(isinf(corio_scope_deadline(s)));
    CHECK_EQ(corio_scope_close(s, 0), 0);
    return 0;
}

TEST(fault_nan_duration_einval)
{
    CHECK_EQ(run(nan_durations), 0);
}

/* ---- a generator that waits, driven outside any task and coroutine ----------------- */

static int sleep_rc_;

static int sleeps_once(void *arg, void **result)
{
    (void)arg;
    (void)result;
    sleep_rc_ = corio_sleep(0.001);
    return sleep_rc_;
}

/* agen.h: "a wait fails inside the generator with CORIO_ENOTASK, as it
 * would in the caller"; the body returns it, so next does too. */
TEST(fault_agen_wait_outside_task)
{
    corio_agen *g;
    void *item = NULL;
    sleep_rc_ = 1;
    CHECK_EQ(corio_agen_new(sleeps_once, NULL, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &item), CORIO_ENOTASK);
    CHECK_EQ(sleep_rc_, CORIO_ENOTASK);
    CHECK_EQ(corio_agen_next(g, &item), CORIO_END);
    corio_agen_free(g);
}
