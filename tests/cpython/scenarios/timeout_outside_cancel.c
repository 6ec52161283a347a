/* timeout_outside_cancel: a timeout expires in the same iteration as a
 * cancel from outside (timers due together run in the order made; both
 * orders are tried). The outside cancel wins: closing the scope withdraws
 * only its own request, sees another one standing, and returns
 * -ECANCELED instead of -ETIMEDOUT; the count left is 1. */
#include "evtrace.h"

static void cancel(void *task)
{
    ev("timer", "cancel from outside");
    corio_task_cancel(task);
}

static int scenario(void *arg, void **result)
{
    int outside_first = *(int *)arg;
    corio_loop *loop = corio_loop_current();
    corio_task *me = corio_task_current();
    double when = corio_loop_time(loop) + 0.02;
    corio_scope *sc;
    int rc, expired;
    if (outside_first)
        corio_loop_call_at(loop, when, cancel, me, NULL);
    corio_scope_timeout_at(when, &sc);
    if (!outside_first)
        corio_loop_call_at(loop, when, cancel, me, NULL);
    rc = corio_sleep(1);
    expired = corio_scope_cancelled(sc);
    rc = corio_scope_close(sc, rc);
    ev("main", "error %s, expired=%s, cancelling=%d", errname(rc),
       TF(expired), cancelling());
    ev("main", "uncancel -> %d", corio_task_uncancel(me));
    return 0;
}

int main(void)
{
    int outside_first;
    for (outside_first = 0; outside_first < 2; outside_first++) {
        section("outside cancel made %s", outside_first ? "first" : "second");
        trace_run(scenario, &outside_first);
    }
    return 0;
}
