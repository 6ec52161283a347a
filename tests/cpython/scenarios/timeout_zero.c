/* timeout_zero: timeouts whose deadline is already past, or passes while
 * the body never suspends. With no suspension inside, closing returns the
 * body's 0; the body's first suspension inside fails, and the scope
 * returns -ETIMEDOUT.
 *
 * DELIBERATE DIFFERENCE (see the .expected-diff): a deadline already past
 * cancels the scope at once (scope.h), so corio_scope_cancelled is 1 even
 * when the body never suspended; asyncio's expired() is False there. */
#include "evtrace.h"
#include <time.h>

static int scenario(void *arg, void **result)
{
    struct timespec block = {0, 20 * 1000 * 1000};
    corio_scope *sc;
    int rc, expired;

    section("timeout(0), no await");
    corio_scope_timeout(0, &sc);
    ev("body", "runs");
    expired = corio_scope_cancelled(sc);
    if (corio_scope_close(sc, 0) == 0)
        ev("main", "no error, expired=%s, cancelling=%d", TF(expired),
           cancelling());

    section("timeout(0), sleep(0) inside");
    corio_scope_timeout(0, &sc);
    if ((rc = corio_sleep(0)) == 0)
        ev("body", "slept (must not happen)");
    if ((rc = corio_scope_close(sc, rc)) != 0)
        ev("main", "error %s, cancelling=%d", errname(rc), cancelling());

    section("timeout(-1), sleep inside");
    corio_scope_timeout(-1, &sc);
    if ((rc = corio_scope_close(sc, corio_sleep(0.01))) != 0)
        ev("main", "error %s, cancelling=%d", errname(rc), cancelling());

    section("deadline passes while the body blocks");
    corio_scope_timeout(0.01, &sc);
    nanosleep(&block, NULL);
    ev("body", "blocked 20 ms without awaiting");
    if (corio_scope_close(sc, 0) == 0)
        ev("main", "no error, cancelling=%d", cancelling());
    if ((rc = corio_sleep(0.01)) != 0)
        return rc;
    ev("main", "slept 10 ms afterwards");
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
