/* cancel_before_start: a task cancelled before its first step never runs
 * its body; corio_task_cancel counts each request, and joining the task
 * gives -ECANCELED. */
#include "evtrace.h"

static int body(void *arg, void **result)
{
    ev("body", "started (must not happen)");
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_task_opts o = {.name = "body"};
    corio_task *t;
    int rc;
    if ((rc = corio_spawn(body, NULL, &o, &t)) != 0)
        return rc;
    ev("main", "cancel: %s", TF(corio_task_cancel(t) == 0));
    ev("main", "cancel again: %s", TF(corio_task_cancel(t) == 0));
    ev("main", "cancelling: %d", corio_task_cancelling(t));
    rc = corio_task_join(t, NULL);
    ev("main", "join: error %s", errname(rc));
    ev("main", "done=%s cancelled=%s", TF(corio_task_done(t)),
       TF(corio_task_cancelled(t)));
    ev("main", "cancel after the end: %s", TF(corio_task_cancel(t) == 0));
    corio_task_release(t);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
