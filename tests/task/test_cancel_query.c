/*
 * test_cancel_query.c: asking whether a cancel is pending is a pure
 * question. A task that cancels itself and returns without suspending ends
 * cancelled (asyncio's _must_cancel) however often the runtime asked.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>

#include "task/task_impl.h"

static int asks_then_returns(void *arg, void **result)
{
    corio_task *self = corio_task_current();
    (void)arg;
    (void)result;
    CHECK_EQ(corio_task_cancel(self), 0);
    CHECK_EQ(corio__task_cancel_pending(self), 1);
    CHECK_EQ(corio__task_cancel_pending(self), 1);
    return 0; /* no suspension reported the cancel */
}

static int query_is_pure(void)
{
    corio_task *t;
    CHECK_EQ(corio_spawn(asks_then_returns, NULL, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK(corio_task_cancelled(t));
    corio_task_release(t);
    return 0;
}

TEST(task_cancel_query_changes_nothing)
{
    CHECK_EQ(run(query_is_pure), 0);
}

/* A bare corio_yield in a task is asyncio's sleep(0): a cancel that stands
 * when it resumes is thrown in, whether it came before or during the
 * yield. */
static int yields_cancelled(void *arg, void **result)
{
    int *rcs = arg;
    (void)result;
    CHECK_EQ(corio_task_cancel(corio_task_current()), 0);
    rcs[0] = corio_yield(NULL, NULL);
    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    rcs[1] = corio_yield(NULL, NULL); /* cancelled by main meanwhile */
    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    rcs[2] = corio_yield(NULL, NULL);
    return 0;
}

static int bare_yield(void)
{
    int rcs[3] = {1, 1, 1};
    corio_task *t;
    CHECK_EQ(corio_spawn(yields_cancelled, rcs, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0); /* t runs to its first yield */
    CHECK_EQ(rcs[0], 1);
    CHECK_EQ(corio_sleep(0), 0); /* t: -ECANCELED, then yields again */
    CHECK_EQ(rcs[0], -ECANCELED);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(rcs[1], -ECANCELED);
    CHECK_EQ(rcs[2], 0);
    corio_task_release(t);
    return 0;
}

TEST_FIFO(task_bare_yield_sees_cancel,
          "one sleep(0) lets the spawned task reach its next yield first")
{
    CHECK_EQ(run(bare_yield), 0);
}
