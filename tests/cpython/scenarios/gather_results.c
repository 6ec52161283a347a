/* gather_results: corio_gather of three tasks (60, 20, 40 ms) returns at
 * tick 6, when the last is done, with the results in argument order, not
 * completion order. A gather of nothing returns at once. */
#include "evtrace.h"
#include <corio/combine.h>

static int child(void *arg, void **result)
{
    int rc = corio_sleep(PTR2INT(arg) / 1000.0);
    if (rc)
        return rc;
    ev(corio_task_name(corio_task_current()), "done");
    *result = arg;
    return 0;
}

static int scenario(void *arg, void **result)
{
    static const char *names[3] = {"a", "b", "c"};
    static const int ms[3] = {60, 20, 40};
    corio_task *t[3];
    corio_future *f[3];
    void *res[3];
    int i, rc;
    for (i = 0; i < 3; i++) {
        corio_task_opts o = {.name = names[i]};
        corio_spawn(child, INT2PTR(ms[i]), &o, &t[i]);
        f[i] = corio_task_future(t[i]);
    }
    rc = corio_gather(f, 3, 0, res, NULL);
    if (rc == 0)
        ev("main", "gather: ok [%d, %d, %d]", PTR2INT(res[0]), PTR2INT(res[1]),
           PTR2INT(res[2]));
    if (corio_gather(NULL, 0, 0, NULL, NULL) == 0)
        ev("main", "gather of nothing: ok []");
    for (i = 0; i < 3; i++)
        corio_task_release(t[i]);
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
