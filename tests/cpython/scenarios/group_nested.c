/* group_nested: a group inside another's body. The inner group's child
 * fails (tick 1): the inner group cancels its sibling and returns -EIO;
 * the outer body passes that on to the outer wait, so the outer group
 * cancels its own child and keeps -EIO as its body's error. Both
 * parents' counts end at 0. */
#include "evtrace.h"

static int sleeper(void *arg, void **result)
{
    int rc = corio_sleep(1);
    if (rc == -ECANCELED)
        ev(arg, "cancelled");
    return rc;
}

static int bad(void *arg, void **result)
{
    int rc = corio_sleep(0.01);
    if (rc)
        return rc;
    ev("inner-bad", "failing with EIO");
    return corio_fail(-EIO, "inner child broke");
}

static int scenario(void *arg, void **result)
{
    corio_group *outer, *inner;
    int rc;
    if ((rc = corio_group_open(&outer)) != 0)
        return rc;
    corio_group_spawn(outer, sleeper, "outer-child", NULL, NULL);
    if ((rc = corio_group_open(&inner)) != 0)
        return rc;
    corio_group_spawn(inner, bad, NULL, NULL, NULL);
    corio_group_spawn(inner, sleeper, "inner-child", NULL, NULL);
    rc = corio_sleep(1);
    if (rc)
        ev("inner-body", "sleep: error %s", errname(rc));
    rc = corio_group_wait(inner, rc);
    corio_group_free(inner);
    if (rc)
        ev("outer-body", "inner group: error %s, cancelling=%d", errname(rc),
           cancelling());
    rc = corio_group_wait(outer, rc);
    if (rc) {
        ev("main", "outer group: error %s", errname(rc));
        group_errors("main", outer);
    }
    corio_group_free(outer);
    ev("main", "cancelling=%d", cancelling());
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
