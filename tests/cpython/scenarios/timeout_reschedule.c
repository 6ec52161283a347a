/* timeout_reschedule: a body that finishes in time leaves the scope
 * uncancelled; corio_scope_reschedule moves the deadline later (the body
 * outlives the original one) or earlier (it expires sooner), INFINITY
 * removes it, and corio_scope_timeout_at takes an absolute loop time. */
#include "evtrace.h"
#include <math.h>

static int scenario(void *arg, void **result)
{
    corio_loop *loop = corio_loop_current();
    corio_scope *sc;
    int rc, expired;

    section("in time");
    corio_scope_timeout(0.05, &sc);
    rc = corio_sleep(0.01);
    expired = corio_scope_cancelled(sc);
    if ((rc = corio_scope_close(sc, rc)) == 0)
        ev("main", "done in time, expired=%s", TF(expired));

    section("later");
    corio_scope_timeout(0.01, &sc);
    corio_scope_reschedule(sc, corio_loop_time(loop) + 0.04);
    rc = corio_sleep(0.02);
    expired = corio_scope_cancelled(sc);
    if ((rc = corio_scope_close(sc, rc)) == 0)
        ev("main", "outlived the first deadline, expired=%s", TF(expired));

    section("earlier");
    corio_scope_timeout(1, &sc);
    corio_scope_reschedule(sc, corio_loop_time(loop) + 0.01);
    rc = corio_sleep(0.05);
    expired = corio_scope_cancelled(sc);
    if ((rc = corio_scope_close(sc, rc)) == -ETIMEDOUT)
        ev("main", "timed out early, expired=%s", TF(expired));

    section("none");
    corio_scope_timeout(0.01, &sc);
    corio_scope_reschedule(sc, INFINITY);
    rc = corio_sleep(0.02);
    expired = corio_scope_cancelled(sc);
    int none = isinf(corio_scope_deadline(sc));
    if ((rc = corio_scope_close(sc, rc)) == 0)
        ev("main", "no deadline: when is None=%s, expired=%s", TF(none),
           TF(expired));

    section("timeout_at");
    corio_scope_timeout_at(corio_loop_time(loop) + 0.02, &sc);
    rc = corio_scope_close(sc, corio_sleep(1));
    if (rc == -ETIMEDOUT)
        ev("main", "timeout_at: ETIMEDOUT");
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
