/* timeout_reschedule_expired: once a timeout scope has expired,
 * corio_scope_reschedule is refused with -EALREADY (asyncio raises
 * RuntimeError) and changes nothing: the deadline stays and the scope
 * still closes as -ETIMEDOUT. Rescheduling before expiry still works. */
#include "evtrace.h"

static int scenario(void *arg, void **result)
{
    corio_loop *loop = corio_loop_current();
    corio_scope *sc;
    double when;
    int rc;

    (void)arg;
    (void)result;
    section("expired");
    corio_scope_timeout(0.02, &sc);
    rc = corio_sleep(1);
    ev("main", "sleep: error %s, expired=%s", errname(rc),
       TF(corio_scope_cancelled(sc)));
    when = corio_scope_deadline(sc);
    if (corio_scope_reschedule(sc, corio_loop_time(loop) + 1) == 0)
        ev("main", "reschedule accepted");
    else
        ev("main", "reschedule refused");
    ev("main", "deadline unchanged=%s", TF(corio_scope_deadline(sc) == when));
    if ((rc = corio_scope_close(sc, rc)) == -ETIMEDOUT)
        ev("main", "block: error ETIMEDOUT");

    section("before expiry");
    corio_scope_timeout(0.02, &sc);
    if (corio_scope_reschedule(sc, corio_loop_time(loop) + 1) == 0)
        ev("main", "reschedule accepted");
    rc = corio_sleep(0.03);
    int expired = corio_scope_cancelled(sc);
    if ((rc = corio_scope_close(sc, rc)) == 0)
        ev("main", "outlived the first deadline, expired=%s", TF(expired));
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
