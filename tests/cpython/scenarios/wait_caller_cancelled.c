/* wait_caller_cancelled: the task in corio_wait is cancelled (tick 1):
 * wait returns -ECANCELED at once, and the futures it watched are not
 * cancelled: the children finish normally (ticks 3 and 5). */
#include "evtrace.h"
#include <corio/combine.h>
#include <math.h>

static int child(void *arg, void **result)
{
    int rc = corio_sleep(PTR2INT(arg) / 1000.0);
    if (rc)
        return rc;
    ev(corio_task_name(corio_task_current()), "done");
    *result = arg;
    return 0;
}

static int waiter(void *arg, void **result)
{
    int rc = corio_wait(arg, 2, CORIO_WAIT_ALL_COMPLETED, INFINITY, NULL);
    if (rc)
        ev("waiter", "wait: error %s", errname(rc));
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task_opts oa = {.name = "a"}, ob = {.name = "b"};
    corio_task *t[2], *w;
    corio_future *f[2];
    void *r0, *r1;
    corio_spawn(child, INT2PTR(30), &oa, &t[0]);
    corio_spawn(child, INT2PTR(50), &ob, &t[1]);
    f[0] = corio_task_future(t[0]);
    f[1] = corio_task_future(t[1]);
    corio_spawn(waiter, f, NULL, &w);
    corio_sleep(0.01);
    corio_task_cancel(w);
    corio_task_join(w, NULL);
    ev("main", "children cancelled: %s %s", TF(corio_task_cancelled(t[0])),
       TF(corio_task_cancelled(t[1])));
    corio_task_join(t[0], &r0);
    corio_task_join(t[1], &r1);
    ev("main", "results: %d %d", PTR2INT(r0), PTR2INT(r1));
    corio_task_release(t[0]);
    corio_task_release(t[1]);
    corio_task_release(w);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
