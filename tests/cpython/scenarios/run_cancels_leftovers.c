/* run_cancels_leftovers: corio_run returns main's result only after
 * cancelling the tasks still alive when main ends and waiting for them:
 * their cleanup runs (bg2's takes 10 ms, under a shield), then the run
 * ends. Only bg1 reports the cancel at once: asyncio cancels leftovers in
 * the (arbitrary) order of a set. */
#include "evtrace.h"

static int bg(void *arg, void **result)
{
    const char *name = corio_task_name(corio_task_current());
    int ms = PTR2INT(arg);
    corio_scope *sh;
    int rc = corio_sleep(1);
    if (rc != -ECANCELED)
        return rc;
    if (!ms) {
        ev(name, "cancelled at shutdown");
    } else {
        corio_scope_shield(&sh);
        corio_sleep(ms / 1000.0);
        corio_scope_close(sh, 0);
        ev(name, "cleanup done (%d ms)", ms);
    }
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task_opts o1 = {.name = "bg1"}, o2 = {.name = "bg2"};
    corio_spawn(bg, INT2PTR(0), &o1, NULL);
    corio_spawn(bg, INT2PTR(10), &o2, NULL);
    corio_sleep(0.01);
    ev("main", "returning 5");
    *result = INT2PTR(5);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
