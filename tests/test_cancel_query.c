/*
 * test_cancel_query.c: asking whether a cancel is pending is a pure
 * question. A task that cancels itself and returns without suspending ends
 * cancelled (asyncio's _must_cancel) however often the runtime asked.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>

#include "loop_impl.h"

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
