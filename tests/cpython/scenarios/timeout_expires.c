/* timeout_expires: corio_scope_timeout(20 ms) around a 100 ms sleep: the sleep
 * fails with -ECANCELED at tick 2, the body's cleanup runs, closing the
 * scope turns its own cancel into -ETIMEDOUT, the scope says it was
 * cancelled, and its cancel request is withdrawn: cancelling is 0
 * before, 1 inside, 0 after, and the task sleeps normally afterwards. */
#include "evtrace.h"

static int scenario(void *arg, void **result)
{
    corio_scope *sc;
    int rc, expired;
    ev("main", "before: cancelling=%d", cancelling());
    if ((rc = corio_scope_timeout(0.02, &sc)) != 0)
        return rc;
    rc = corio_sleep(0.1);
    if (rc == 0)
        ev("body", "slept (must not happen)");
    else
        ev("body", "sleep: error %s, cancelling=%d", errname(rc), cancelling());
    ev("body", "cleanup ran");
    expired = corio_scope_cancelled(sc);
    rc = corio_scope_close(sc, rc);
    ev("main", "timeout: error %s", errname(rc));
    ev("main", "after: expired=%s cancelling=%d", TF(expired), cancelling());
    if ((rc = corio_sleep(0.01)) != 0)
        return rc;
    ev("main", "slept 10 ms after the timeout");
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
