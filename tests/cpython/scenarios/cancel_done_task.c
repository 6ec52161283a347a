/* cancel_done_task: cancelling a task that already finished (with a
 * result or an error) does nothing and says so (-EALREADY, asyncio's
 * False), adds no request, and leaves its outcome alone. */
#include "evtrace.h"

static int quick(void *arg, void **result)
{
    *result = INT2PTR(1);
    return 0;
}

static int broken(void *arg, void **result)
{
    return corio_fail(-EPIPE, "peer left");
}

static int scenario(void *arg, void **result)
{
    corio_task *t[2];
    const char *names[2] = {"quick", "broken"};
    void *res;
    int i, rc;
    if ((rc = corio_spawn(quick, NULL, NULL, &t[0])) != 0 ||
        (rc = corio_spawn(broken, NULL, NULL, &t[1])) != 0)
        return rc;
    corio_sleep(0.01);
    for (i = 0; i < 2; i++) {
        int done = corio_task_done(t[i]);
        int c = corio_task_cancel(t[i]) == 0;
        ev("main", "%s: done=%s cancel=%s cancelling=%d cancelled=%s",
           names[i], TF(done), TF(c), corio_task_cancelling(t[i]),
           TF(corio_task_cancelled(t[i])));
    }
    rc = corio_task_result(t[0], &res);
    ev("main", "quick: ok %d", PTR2INT(res));
    ev("main", "broken: error %s", errname(corio_task_result(t[1], NULL)));
    corio_task_release(t[0]);
    corio_task_release(t[1]);
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
