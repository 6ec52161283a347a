/* join_child_refuses: the parent joining a child is cancelled, and the
 * child refuses the forwarded cancel (uncancel, returns 9). */
#include "evtrace.h"

static int child(void *arg, void **result)
{
    if (corio_sleep(1) == -ECANCELED)
        ev("child", "refusing the cancel, %d left",
           corio_task_uncancel(corio_task_current()));
    *result = INT2PTR(9);
    return 0;
}

static int parent(void *arg, void **result)
{
    int rc = corio_task_join(arg, result);
    if (rc == 0)
        ev("parent", "join: ok %d", PTR2INT(*result));
    else
        ev("parent", "join: error %s", errname(rc));
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task *c, *p;
    void *res;
    int rc;
    corio_spawn(child, NULL, NULL, &c);
    corio_spawn(parent, c, NULL, &p);
    corio_sleep(0.01);
    corio_task_cancel(p);
    rc = corio_task_join(p, &res);
    if (rc == 0)
        ev("main", "parent: ok %d", PTR2INT(res));
    else
        ev("main", "parent: error %s", errname(rc));
    rc = corio_task_join(c, &res);
    if (rc == 0)
        ev("main", "child: ok %d", PTR2INT(res));
    else
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
