/* spawn_order: a spawned task first runs in a later iteration, never
 * inside corio_spawn; tasks then run in spawn order, and corio_sleep(0)
 * lets every other ready task run once (round robin). */
#include "evtrace.h"

static int worker(void *arg, void **result)
{
    const char *name = arg;
    int i, rc;
    for (i = 0; i < 3; i++) {
        ev(name, "step %d", i);
        if ((rc = corio_sleep(0)) != 0)
            return rc;
    }
    ev(name, "done");
    return 0;
}

static int scenario(void *arg, void **result)
{
    static const char *names[3] = {"a", "b", "c"};
    corio_task *t[3];
    int i, rc;
    for (i = 0; i < 3; i++) {
        corio_task_opts o = {.name = names[i]};
        if ((rc = corio_spawn(worker, (void *)names[i], &o, &t[i])) != 0)
            return rc;
    }
    ev("main", "spawned 3, none has run");
    corio_sleep(0);
    ev("main", "after sleep(0)");
    for (i = 0; i < 3; i++) {
        corio_task_join(t[i], NULL);
        ev("main", "joined %s", corio_task_name(t[i]));
        corio_task_release(t[i]);
    }
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
