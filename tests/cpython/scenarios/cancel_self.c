/* cancel_self: a task cancels itself; see the .py twin for the two cases.
 * FOUND DIFFERENCE in the second (see the .expected-diff): a body that
 * returns 0 with a cancel request standing ends with its result in corio;
 * asyncio ends it cancelled. */
#include "evtrace.h"

static int then_awaits(void *arg, void **result)
{
    corio_future *fut;
    void *res;
    int rc;
    if ((rc = corio_future_new(NULL, &fut)) != 0)
        return rc;
    corio_future_set_result(fut, INT2PTR(3));
    ev("task", "cancel self: %s", TF(corio_task_cancel(corio_task_current()) == 0));
    rc = corio_future_await(fut, &res);
    corio_future_release(fut);
    if (rc == 0)
        ev("task", "await done future: ok %d", PTR2INT(res));
    rc = corio_sleep(0);
    if (rc)
        ev("task", "sleep(0): error %s", errname(rc));
    return rc;
}

static int then_returns(void *arg, void **result)
{
    ev("task", "cancel self: %s", TF(corio_task_cancel(corio_task_current()) == 0));
    ev("task", "returning 5");
    *result = INT2PTR(5);
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_task *t;
    void *res;
    int rc;
    if ((rc = corio_spawn((corio_coro_fn)arg, NULL, NULL, &t)) != 0)
        return rc;
    rc = corio_task_join(t, &res);
    if (rc == 0)
        ev("main", "task: ok %d", PTR2INT(res));
    else
        ev("main", "task: error %s", errname(rc));
    ev("main", "cancelled=%s", TF(corio_task_cancelled(t)));
    corio_task_release(t);
    return 0;
}

int main(void)
{
    section("then awaits");
    trace_run(scenario, (void *)then_awaits);
    section("then returns");
    trace_run(scenario, (void *)then_returns);
    return 0;
}
