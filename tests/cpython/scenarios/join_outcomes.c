/* join_outcomes: joining a task gives its outcome: a result, its error
 * (with the message it failed with), or -ECANCELED when it was cancelled;
 * done and cancelled agree. */
#include "evtrace.h"

static int good(void *arg, void **result)
{
    int rc = corio_sleep(0.02);
    *result = INT2PTR(5);
    return rc;
}

static int bad(void *arg, void **result)
{
    int rc = corio_sleep(0.04);
    return rc ? rc : corio_fail(-EIO, "disk gone");
}

static int slow(void *arg, void **result)
{
    return corio_sleep(1);
}

static int scenario(void *arg, void **result)
{
    static const corio_coro_fn fns[3] = {good, bad, slow};
    static const char *names[3] = {"good", "bad", "slow"};
    corio_task *t[3];
    void *res;
    int i, rc;
    for (i = 0; i < 3; i++) {
        corio_task_opts o = {.name = names[i]};
        if ((rc = corio_spawn(fns[i], NULL, &o, &t[i])) != 0)
            return rc;
    }
    corio_sleep(0.06);
    ev("main", "cancel slow: %s", TF(corio_task_cancel(t[2]) == 0));
    for (i = 0; i < 3; i++) {
        rc = corio_task_join(t[i], &res);
        if (rc == 0)
            ev("main", "%s: ok %d", names[i], PTR2INT(res));
        else if (rc == -ECANCELED)
            ev("main", "%s: error %s", names[i], errname(rc));
        else
            ev("main", "%s: error %s (%s)", names[i], errname(rc),
               corio_task_message(t[i]));
        ev("main", "%s: done=%s cancelled=%s", names[i],
           TF(corio_task_done(t[i])), TF(corio_task_cancelled(t[i])));
        corio_task_release(t[i]);
    }
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
