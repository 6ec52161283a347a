/* timeout_in_cleanup: an outer timeout expires; its body runs a cleanup
 * bounded by a timeout of its own (20 ms), which expires too. The inner
 * scope returns -ETIMEDOUT although the outer one's request still stands
 * (Python 3.11.3+'s rule: compare with the count at entry). The cleanup
 * runs under a shield scope: the outer request stands (level-triggered)
 * and would fail its sleep at once. On Python < 3.11.3 the inner timeout
 * lets ECANCELED out instead (see the .expected-diff). */
#include "evtrace.h"

static int scenario(void *arg, void **result)
{
    corio_scope *outer, *shield, *inner;
    int rc, rc2;
    corio_scope_timeout(0.01, &outer);
    rc = corio_sleep(1);
    if (rc == -ECANCELED) {
        ev("body", "outer expired, cleanup with a 20 ms timeout, "
           "cancelling=%d", cancelling());
        corio_scope_shield(&shield);
        corio_scope_timeout(0.02, &inner);
        rc2 = corio_scope_close(inner, corio_sleep(1));
        corio_scope_close(shield, 0);
        ev("body", "cleanup timed out: error %s, cancelling=%d", errname(rc2),
           cancelling());
    }
    rc = corio_scope_close(outer, rc);
    ev("main", "outer: error %s, cancelling=%d", errname(rc), cancelling());
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
