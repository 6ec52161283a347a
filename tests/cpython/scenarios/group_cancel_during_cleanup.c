/* group_cancel_during_cleanup: the task running a group is cancelled from
 * outside (tick 4) while a child is in cleanup; see the .py twin for the
 * two cases. slow's cleanup runs under a shield (it was cancelled before
 * it began: level-triggered); tidy's does not. */
#include "evtrace.h"

static int bad(void *arg, void **result)
{
    int rc = corio_sleep(0.01);
    return rc ? rc : corio_fail(-EIO, "bad broke");
}

static int slow(void *arg, void **result)
{
    corio_scope *sh;
    int rc = corio_sleep(1);
    if (rc == -ECANCELED) {
        ev("slow", "cancelled, 60 ms of cleanup");
        corio_scope_shield(&sh);
        corio_sleep(0.06);
        corio_scope_close(sh, 0);
        ev("slow", "cleanup done");
    }
    return rc;
}

static int tidy(void *arg, void **result)
{
    int rc = corio_sleep(0.01);
    if (rc)
        return rc;
    ev("tidy", "work done, 60 ms of cleanup");
    if ((rc = corio_sleep(0.06)) == 0)
        ev("tidy", "cleanup done");
    else
        ev("tidy", "cleanup: error %s", errname(rc));
    return rc;
}

static int parent(void *arg, void **result)
{
    int aborting = PTR2INT(arg);
    corio_group *g;
    int rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    if (aborting) {
        corio_group_spawn(g, bad, NULL, NULL, NULL);
        corio_group_spawn(g, slow, NULL, NULL, NULL);
    } else {
        corio_group_spawn(g, tidy, NULL, NULL, NULL);
    }
    rc = corio_sleep(1);
    if (rc)
        ev("body", "sleep: error %s", errname(rc));
    rc = corio_group_wait(g, rc);
    if (corio_group_error_count(g))
        group_errors("parent", g);
    else if (rc)
        ev("parent", "group: error %s", errname(rc));
    corio_group_free(g);
    ev("parent", "cancelling=%d", cancelling());
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_task *p;
    int rc;
    if ((rc = corio_spawn(parent, arg, NULL, &p)) != 0)
        return rc;
    corio_sleep(0.04);
    ev("main", "cancel parent");
    corio_task_cancel(p);
    rc = corio_task_join(p, NULL);
    corio_task_release(p);
    return rc;
}

int main(void)
{
    section("aborting");
    trace_run(scenario, INT2PTR(1));
    section("tidying");
    trace_run(scenario, INT2PTR(0));
    return 0;
}
