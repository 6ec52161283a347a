/* cancel_swallowed: a task may refuse a cancel: it sees -ECANCELED,
 * withdraws the request with corio_task_uncancel and returns a result; it
 * is then not cancelled, and whoever joins it gets the result. */
#include "evtrace.h"

static int stubborn(void *arg, void **result)
{
    if (corio_sleep(1) == -ECANCELED) {
        int left = corio_task_uncancel(corio_task_current());
        ev("stubborn", "refusing the cancel, %d left", left);
        *result = INT2PTR(7);
    }
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_task *t;
    void *res = NULL;
    int rc;
    if ((rc = corio_spawn(stubborn, NULL, NULL, &t)) != 0)
        return rc;
    corio_sleep(0.01);
    corio_task_cancel(t);
    rc = corio_task_join(t, &res);
    ev("main", "stubborn: ok %d", PTR2INT(res));
    ev("main", "cancelled=%s cancelling=%d", TF(corio_task_cancelled(t)),
       corio_task_cancelling(t));
    corio_task_release(t);
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
