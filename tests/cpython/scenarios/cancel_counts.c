/* cancel_counts: two cancel requests are counted (cancelling == 2) but
 * delivered as one wake-up; a task that means to go on withdraws both with
 * corio_task_uncancel and can then sleep normally, ending with a result.
 * (corio: while requests stand every suspension fails; at 0 they work.) */
#include "evtrace.h"

static int worker(void *arg, void **result)
{
    corio_task *me = corio_task_current();
    int rc;
    if (corio_sleep(1) == -ECANCELED) {
        ev("worker", "cancelled, cancelling=%d", corio_task_cancelling(me));
        ev("worker", "uncancel -> %d", corio_task_uncancel(me));
        ev("worker", "uncancel -> %d", corio_task_uncancel(me));
        ev("worker", "uncancel at 0 -> %d", corio_task_uncancel(me));
    }
    if ((rc = corio_sleep(0.02)) != 0)
        return rc;
    ev("worker", "slept again after uncancel");
    *result = INT2PTR(3);
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_task *t;
    void *res = NULL;
    int rc;
    if ((rc = corio_spawn(worker, NULL, NULL, &t)) != 0)
        return rc;
    corio_sleep(0.01);
    ev("main", "cancel: %s", TF(corio_task_cancel(t) == 0));
    ev("main", "cancel: %s", TF(corio_task_cancel(t) == 0));
    ev("main", "cancelling: %d", corio_task_cancelling(t));
    rc = corio_task_join(t, &res);
    ev("main", "worker: ok %d, cancelled=%s", PTR2INT(res),
       TF(corio_task_cancelled(t)));
    corio_task_release(t);
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
