/* cleanup_with_shield: cleanup that itself suspends, after a cancel. The
 * cancel request stands (level-triggered), so the cleanup runs inside a
 * shield scope, which keeps it out; asyncio's except block just awaits.
 * Same trace. */
#include "evtrace.h"

static int worker(void *arg, void **result)
{
    corio_scope *sh;
    int rc = corio_sleep(1);
    if (rc != -ECANCELED)
        return rc;
    ev("worker", "cancelled, cleaning up (cancelling=%d)", cancelling());
    if (corio_scope_shield(&sh) == 0) {
        corio_sleep(0.02);
        corio_scope_close(sh, 0);
    }
    ev("worker", "cleanup done");
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task *t;
    int rc;
    if ((rc = corio_spawn(worker, NULL, NULL, &t)) != 0)
        return rc;
    corio_sleep(0.01);
    corio_task_cancel(t);
    rc = corio_task_join(t, NULL);
    ev("main", "worker: error %s", errname(rc));
    corio_task_release(t);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
