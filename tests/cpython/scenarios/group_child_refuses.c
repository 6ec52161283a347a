/* group_child_refuses: a group child refuses the cancel the group sends
 * when its sibling fails (uncancel, 10 ms more work, returns 7). The group
 * waits for it, returns only the sibling's failure, and the refusing
 * child's result can be read. */
#include "evtrace.h"

static int bad(void *arg, void **result)
{
    int rc = corio_sleep(0.01);
    return rc ? rc : corio_fail(-EIO, "bad broke");
}

static int stubborn(void *arg, void **result)
{
    int rc;
    if (corio_sleep(1) == -ECANCELED)
        ev("stubborn", "refusing, %d left",
           corio_task_uncancel(corio_task_current()));
    if ((rc = corio_sleep(0.01)) != 0)
        return rc;
    ev("stubborn", "finished anyway");
    *result = INT2PTR(7);
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_group *g;
    corio_task *s;
    void *res = NULL;
    int rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    corio_group_spawn(g, bad, NULL, NULL, NULL);
    corio_group_spawn(g, stubborn, NULL, NULL, &s);
    if (corio_group_wait(g, 0) != 0)
        group_errors("main", g);
    corio_group_free(g);
    corio_task_result(s, &res);
    ev("main", "stubborn: cancelled=%s result=%d", TF(corio_task_cancelled(s)),
       PTR2INT(res));
    corio_task_release(s);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
