/* join_cancel_forwarded: cancelling a task that joins another task
 * cancels the joined one too (task.h: "as asyncio does"). The child's
 * cleanup suspends, so it runs under a shield scope (level-triggered
 * cancellation; asyncio's except block just awaits). */
#include "evtrace.h"

static int child(void *arg, void **result)
{
    corio_scope *sh;
    int rc = corio_sleep(1);
    if (rc != -ECANCELED)
        return rc;
    ev("child", "cancelled, 20 ms of cleanup");
    if (corio_scope_shield(&sh) == 0) {
        corio_sleep(0.02);
        corio_scope_close(sh, 0);
    }
    ev("child", "cleanup done");
    return rc;
}

static int parent(void *arg, void **result)
{
    int rc = corio_task_join(arg, NULL);
    if (rc == -ECANCELED)
        ev("parent", "join: error %s", errname(rc));
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task *c, *p;
    int rc;
    corio_spawn(child, NULL, NULL, &c);
    corio_spawn(parent, c, NULL, &p);
    corio_sleep(0.01);
    ev("main", "cancel parent: %s", TF(corio_task_cancel(p) == 0));
    ev("main", "right after: child cancelling=%d", corio_task_cancelling(c));
    rc = corio_task_join(p, NULL);
    ev("main", "parent: error %s", errname(rc));
    rc = corio_task_join(c, NULL);
    ev("main", "child: error %s", errname(rc));
    corio_task_release(c);
    corio_task_release(p);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
