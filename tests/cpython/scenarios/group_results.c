/* group_results: a group with three children (60, 20, 40 ms) and a body
 * that sleeps 40 ms: corio_group_wait waits for the last child (tick 6),
 * never less; results are read from the task handles afterwards. */
#include "evtrace.h"

static int child(void *arg, void **result)
{
    const char *name = corio_task_name(corio_task_current());
    int ms = PTR2INT(arg), rc;
    ev(name, "started");
    if ((rc = corio_sleep(ms / 1000.0)) != 0)
        return rc;
    ev(name, "done");
    *result = arg;
    return 0;
}

static int scenario(void *arg, void **result)
{
    static const char *names[3] = {"a", "b", "c"};
    static const int ms[3] = {60, 20, 40};
    corio_group *g;
    corio_task *t[3];
    void *r[3];
    int i, rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    for (i = 0; i < 3; i++) {
        corio_task_opts o = {.name = names[i]};
        corio_group_spawn(g, child, INT2PTR(ms[i]), &o, &t[i]);
    }
    ev("body", "spawned 3, sleeping 40 ms");
    rc = corio_sleep(0.04);
    ev("body", "done, waiting for the children");
    rc = corio_group_wait(g, rc);
    corio_group_free(g);
    for (i = 0; i < 3; i++) {
        corio_task_result(t[i], &r[i]);
        corio_task_release(t[i]);
    }
    if (rc == 0)
        ev("main", "group done: a=%d b=%d c=%d", PTR2INT(r[0]), PTR2INT(r[1]),
           PTR2INT(r[2]));
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
