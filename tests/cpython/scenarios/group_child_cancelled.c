/* group_child_cancelled: one child of a group is cancelled directly
 * through its handle (tick 1). A cancelled child is not a failure: the
 * group does not abort, its sibling finishes normally (tick 3), and the
 * group's wait returns 0. */
#include "evtrace.h"

static int child(void *arg, void **result)
{
    const char *name = corio_task_name(corio_task_current());
    int rc = corio_sleep(PTR2INT(arg) / 1000.0);
    ev(name, rc == 0 ? "done" : "cancelled");
    *result = arg;
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task_opts oa = {.name = "a"}, ob = {.name = "b"};
    corio_group *g;
    corio_task *a, *b;
    void *res = NULL;
    int rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    corio_group_spawn(g, child, INT2PTR(100), &oa, &a);
    corio_group_spawn(g, child, INT2PTR(30), &ob, &b);
    rc = corio_sleep(0.01);
    ev("body", "cancel a");
    corio_task_cancel(a);
    rc = corio_group_wait(g, rc);
    corio_group_free(g);
    corio_task_result(b, &res);
    if (rc == 0)
        ev("main", "group ok: a cancelled=%s, b result=%d",
           TF(corio_task_cancelled(a)), PTR2INT(res));
    corio_task_release(a);
    corio_task_release(b);
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
