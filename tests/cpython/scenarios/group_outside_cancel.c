/* group_outside_cancel: the task running a group is cancelled from
 * outside (tick 2) while its children run: the body's sleep fails, the
 * group cancels both children and waits for their cleanup (10 and 30 ms,
 * under shields: level-triggered), then returns -ECANCELED (nothing
 * failed) at tick 5; the request stands (cancelling == 1). */
#include "evtrace.h"

static int child(void *arg, void **result)
{
    const char *name = corio_task_name(corio_task_current());
    int ms = PTR2INT(arg);
    corio_scope *sh;
    int rc = corio_sleep(1);
    if (rc == -ECANCELED) {
        corio_scope_shield(&sh);
        corio_sleep(ms / 1000.0);
        corio_scope_close(sh, 0);
        ev(name, "cleanup done (%d ms)", ms);
    }
    return rc;
}

static int parent(void *arg, void **result)
{
    corio_task_opts oa = {.name = "a"}, ob = {.name = "b"};
    corio_group *g;
    int rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    corio_group_spawn(g, child, INT2PTR(10), &oa, NULL);
    corio_group_spawn(g, child, INT2PTR(30), &ob, NULL);
    rc = corio_sleep(1);
    if (rc)
        ev("body", "sleep: error %s, cancelling=%d", errname(rc), cancelling());
    rc = corio_group_wait(g, rc);
    corio_group_free(g);
    if (rc)
        ev("parent", "group: error %s, cancelling=%d", errname(rc),
           cancelling());
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task *p;
    int rc;
    if ((rc = corio_spawn(parent, NULL, NULL, &p)) != 0)
        return rc;
    corio_sleep(0.02);
    ev("main", "cancel parent");
    corio_task_cancel(p);
    rc = corio_task_join(p, NULL);
    ev("main", "parent: error %s", errname(rc));
    corio_task_release(p);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
