/* shield_in_timeout: corio_future_shield(work) awaited inside a 20 ms
 * timeout scope. At tick 2 the timeout cancels the await on the shield
 * (the outer future), not the work: the scope returns -ETIMEDOUT (count
 * back to 0), the work is neither done nor cancelled, runs on to tick 5
 * and its result can still be joined. */
#include "evtrace.h"
#include <corio/combine.h>

static int work(void *arg, void **result)
{
    int rc = corio_sleep(0.05);
    if (rc)
        return rc;
    ev("work", "done");
    *result = INT2PTR(5);
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_task *t;
    corio_future *outer;
    corio_scope *sc;
    void *res;
    int rc;
    corio_spawn(work, NULL, NULL, &t);
    if ((rc = corio_future_shield(corio_task_future(t), &outer)) != 0)
        return rc;
    corio_scope_timeout(0.02, &sc);
    rc = corio_scope_close(sc, corio_future_await(outer, NULL));
    corio_future_release(outer);
    ev("main", "timeout: error %s, cancelling=%d", errname(rc), cancelling());
    ev("main", "work: done=%s cancelled=%s", TF(corio_task_done(t)),
       TF(corio_task_cancelled(t)));
    rc = corio_task_join(t, &res);
    ev("main", "work: ok %d", PTR2INT(res));
    corio_task_release(t);
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
