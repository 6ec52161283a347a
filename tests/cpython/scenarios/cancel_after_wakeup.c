/* cancel_after_wakeup: the future a task awaits completes, and the task is
 * cancelled before it gets to run: the cancel wins (docs/loop.md). The
 * task's await returns -ECANCELED although the future holds a result. */
#include "evtrace.h"

static int waiter(void *arg, void **result)
{
    void *res = NULL;
    int rc = corio_future_await(arg, &res);
    if (rc == 0) {
        ev("waiter", "got %d", PTR2INT(res));
        return 0;
    }
    corio_future_result(arg, &res);
    ev("waiter", "await: error %s, future done=%s result=%d", errname(rc),
       TF(corio_future_done(arg)), PTR2INT(res));
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_future *fut;
    corio_task *w;
    int rc;
    if ((rc = corio_future_new(NULL, &fut)) != 0)
        return rc;
    corio_spawn(waiter, fut, NULL, &w);
    corio_sleep(0.01);
    corio_future_set_result(fut, INT2PTR(1));
    ev("main", "set_result, then cancel: %s", TF(corio_task_cancel(w) == 0));
    rc = corio_task_join(w, NULL);
    ev("main", "waiter: error %s", errname(rc));
    corio_task_release(w);
    corio_future_release(fut);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
