/* gather_cancelled: the task in corio_gather is cancelled (tick 1): gather
 * cancels every child and waits until all are done (cleanup of 10 and 30
 * ms, under shields: level-triggered), returning -ECANCELED at tick 4.
 * DELIBERATE DIFFERENCE: asyncio's gather raises when the first child
 * reports (tick 2); see the .expected-diff. */
#include "evtrace.h"
#include <corio/combine.h>

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

static int gatherer(void *arg, void **result)
{
    int rc = corio_gather(arg, 2, 0, NULL, NULL);
    ev("gatherer", "gather: error %s", errname(rc));
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task_opts oa = {.name = "a"}, ob = {.name = "b"};
    corio_task *t[2], *g;
    corio_future *f[2];
    int rc;
    corio_spawn(child, INT2PTR(10), &oa, &t[0]);
    corio_spawn(child, INT2PTR(30), &ob, &t[1]);
    f[0] = corio_task_future(t[0]);
    f[1] = corio_task_future(t[1]);
    corio_spawn(gatherer, f, NULL, &g);
    corio_sleep(0.01);
    ev("main", "cancel gatherer");
    corio_task_cancel(g);
    rc = corio_task_join(g, NULL);
    ev("main", "gatherer: error %s", errname(rc));
    corio_task_join(t[0], NULL);
    corio_task_join(t[1], NULL);
    ev("main", "children cancelled: %s %s", TF(corio_task_cancelled(t[0])),
       TF(corio_task_cancelled(t[1])));
    corio_task_release(t[0]);
    corio_task_release(t[1]);
    corio_task_release(g);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
