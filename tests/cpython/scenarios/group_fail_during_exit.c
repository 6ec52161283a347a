/* group_fail_during_exit: a child fails (tick 2) while the parent is
 * already in corio_group_wait (its body ended at tick 0). The group
 * cancels the other child and returns the failure; afterwards the parent
 * has no cancel request standing (cancelling == 0). Python 3.11 leaves 1
 * there (a CPython bug, see the .expected-diff). */
#include "evtrace.h"

static int bad(void *arg, void **result)
{
    int rc = corio_sleep(0.02);
    if (rc)
        return rc;
    ev("bad", "failing with EIO");
    return corio_fail(-EIO, "bad broke");
}

static int slow(void *arg, void **result)
{
    int rc = corio_sleep(1);
    if (rc == -ECANCELED)
        ev("slow", "cancelled");
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_group *g;
    int rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    corio_group_spawn(g, bad, NULL, NULL, NULL);
    corio_group_spawn(g, slow, NULL, NULL, NULL);
    ev("body", "done, waiting in the group's exit");
    if (corio_group_wait(g, 0) != 0)
        group_errors("main", g);
    corio_group_free(g);
    ev("main", "after the group: cancelling=%d", cancelling());
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
