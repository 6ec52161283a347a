/* timeout_uncancel_counts: cancelling after caught timeouts. Three
 * timeouts caught in a row each leave the count at 0; a body that
 * swallows the scope's own cancel leaves no -ETIMEDOUT and a count of 0;
 * a cancel from outside while inside a timeout passes through it
 * unconverted with the count at 1, and after uncancel the next timeout
 * works as before. */
#include "evtrace.h"

static int cancel_later(void *arg, void **result)
{
    int rc = corio_sleep(0.01);
    if (rc)
        return rc;
    ev("canceller", "cancel main");
    corio_task_cancel(arg);
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_task *me = corio_task_current(), *c;
    corio_scope *sc;
    int i, rc, expired;

    section("three caught timeouts");
    ev("main", "start: cancelling=%d", cancelling());
    for (i = 0; i < 3; i++) {
        corio_scope_timeout(0.01, &sc);
        if (corio_scope_close(sc, corio_sleep(1)) == -ETIMEDOUT)
            ev("main", "timeout %d caught, cancelling=%d", i, cancelling());
    }

    section("body swallows the timeout's cancel");
    corio_scope_timeout(0.01, &sc);
    if (corio_sleep(1) == -ECANCELED)
        ev("body", "swallowed the timeout's cancel, cancelling=%d",
           cancelling());
    expired = corio_scope_cancelled(sc);
    if (corio_scope_close(sc, 0) == 0)
        ev("main", "no error, expired=%s, cancelling=%d", TF(expired),
           cancelling());

    section("outside cancel inside a timeout");
    corio_spawn(cancel_later, me, NULL, &c);
    corio_scope_timeout(0.05, &sc);
    rc = corio_scope_close(sc, corio_sleep(1));
    if (rc == -ECANCELED) {
        ev("main", "outside cancel passed through: %s, cancelling=%d",
           errname(rc), cancelling());
        ev("main", "uncancel -> %d", corio_task_uncancel(me));
    }
    corio_task_join(c, NULL);
    corio_task_release(c);

    section("timeout after uncancel");
    corio_scope_timeout(0.01, &sc);
    if (corio_scope_close(sc, corio_sleep(1)) == -ETIMEDOUT)
        ev("main", "timeout after uncancel caught, cancelling=%d",
           cancelling());
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
