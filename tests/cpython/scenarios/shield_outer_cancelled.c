/* shield_outer_cancelled: a client task awaits the outer future of
 * corio_future_shield(work) and is cancelled from outside (tick 1): the
 * client gets -ECANCELED and ends cancelled, the outer future is
 * cancelled, and the work runs on to its end (tick 3). Cancelling the
 * outer future directly does not reach the work either. */
#include "evtrace.h"
#include <corio/combine.h>

static int work(void *arg, void **result)
{
    int ms = PTR2INT(arg), rc = corio_sleep(ms / 1000.0);
    if (rc)
        return rc;
    ev("work", "done after %d ms", ms);
    *result = arg;
    return 0;
}

static int client(void *arg, void **result)
{
    int rc = corio_future_await(arg, NULL);
    if (rc)
        ev("client", "await shield: error %s", errname(rc));
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task *t, *c;
    corio_future *outer;
    void *res;
    int rc;
    corio_spawn(work, INT2PTR(30), NULL, &t);
    if ((rc = corio_future_shield(corio_task_future(t), &outer)) != 0)
        return rc;
    corio_spawn(client, outer, NULL, &c);
    corio_sleep(0.01);
    ev("main", "cancel client");
    corio_task_cancel(c);
    corio_task_join(c, NULL);
    ev("main", "client cancelled=%s, outer cancelled=%s, work done=%s",
       TF(corio_task_cancelled(c)), TF(corio_future_cancelled(outer)),
       TF(corio_task_done(t)));
    rc = corio_task_join(t, &res);
    ev("main", "work: ok %d", PTR2INT(res));
    corio_future_release(outer);
    corio_task_release(c);
    corio_task_release(t);

    corio_spawn(work, INT2PTR(10), NULL, &t);
    corio_future_shield(corio_task_future(t), &outer);
    ev("main", "cancel outer: %s", TF(corio_future_cancel(outer) == 0));
    rc = corio_task_join(t, &res);
    ev("main", "work: ok %d", PTR2INT(res));
    corio_future_release(outer);
    corio_task_release(t);
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
