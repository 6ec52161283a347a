/* group_child_fails: one child fails (tick 4): the group cancels its
 * running sibling and the body (both see -ECANCELED, cleanup runs), keeps
 * the finished sibling's result, and corio_group_wait returns the failure
 * with the list of errors. The group's own cancel of the parent is
 * withdrawn: cancelling is 1 in the cancelled body and 0 after, and the
 * parent goes on sleeping normally. */
#include "evtrace.h"

static int ok(void *arg, void **result)
{
    int rc = corio_sleep(0.02);
    if (rc)
        return rc;
    ev("ok", "done");
    *result = INT2PTR(1);
    return 0;
}

static int bad(void *arg, void **result)
{
    int rc = corio_sleep(0.04);
    if (rc)
        return rc;
    ev("bad", "failing with EIO");
    return corio_fail(-EIO, "bad broke");
}

static int slow(void *arg, void **result)
{
    int rc = corio_sleep(1);
    if (rc == -ECANCELED)
        ev("slow", "cancelled, cleanup ran");
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_group *g;
    corio_task *t;
    void *r = NULL;
    int rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    corio_group_spawn(g, ok, NULL, NULL, &t);
    corio_group_spawn(g, bad, NULL, NULL, NULL);
    corio_group_spawn(g, slow, NULL, NULL, NULL);
    rc = corio_sleep(1);
    if (rc)
        ev("body", "sleep: error %s, cancelling=%d", errname(rc), cancelling());
    rc = corio_group_wait(g, rc);
    if (rc && rc != -ECANCELED)
        group_errors("main", g);
    corio_group_free(g);
    corio_task_result(t, &r);
    corio_task_release(t);
    ev("main", "after the group: cancelling=%d, ok's result=%d", cancelling(),
       PTR2INT(r));
    if ((rc = corio_sleep(0.01)) != 0)
        return rc;
    ev("main", "slept 10 ms after the group");
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
