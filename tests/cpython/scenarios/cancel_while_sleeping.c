/* cancel_while_sleeping: cancelling a sleeping task wakes it at once with
 * -ECANCELED (tick 2, not 5); its cleanup runs, and it ends cancelled. */
#include "evtrace.h"

static int worker(void *arg, void **result)
{
    int rc;
    ev("worker", "sleeping 50 ms");
    rc = corio_sleep(0.05);
    if (rc == 0) {
        ev("worker", "woke (must not happen)");
        return 0;
    }
    ev("worker", "cancelled, cancelling=%d", cancelling());
    ev("worker", "cleanup ran");
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task *t;
    int rc;
    if ((rc = corio_spawn(worker, NULL, NULL, &t)) != 0)
        return rc;
    corio_sleep(0.02);
    ev("main", "cancel worker");
    corio_task_cancel(t);
    rc = corio_task_join(t, NULL);
    ev("main", "worker: error %s, cancelled=%s", errname(rc),
       TF(corio_task_cancelled(t)));
    corio_task_release(t);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
