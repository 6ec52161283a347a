/* agen_yield_in_scope: an async generator yields inside a timeout scope
 * it opened itself (PEP 789's hazard), and the consumer then sleeps 50 ms
 * in its own code.
 *
 * DELIBERATE DIFFERENCE (see agen_yield_in_scope.expected-diff, agen.h
 * "Scopes"): corio refuses the yield: corio_yield returns
 * CORIO_EYIELDSCOPE in the generator and the item is not delivered; the
 * generator closes its scope and fails with that error, which the
 * consumer's next returns, and the consumer's sleep is undisturbed.
 * asyncio delivers the item, and the generator's timeout, still open,
 * cancels the consumer's own sleep at tick 2. */
#include "evtrace.h"

static int careless(void *arg, void **result)
{
    corio_scope *sc;
    int rc;
    if ((rc = corio_scope_timeout(0.02, &sc)) != 0)
        return rc;
    ev("gen", "yield 1 inside its own 20 ms timeout");
    rc = corio_yield(INT2PTR(1), NULL);
    if (rc && rc != CORIO_EEXIT)
        ev("gen", "yield: error %s", errname(rc));
    rc = corio_scope_close(sc, rc);
    if (rc == CORIO_EEXIT)
        ev("gen", "closing");
    ev("gen", "finally");
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_agen *g;
    void *item;
    int rc;
    if ((rc = corio_agen_new(careless, NULL, NULL, &g)) != 0)
        return rc;
    if ((rc = corio_agen_next(g, &item)) == 0)
        ev("main", "anext: item %d", PTR2INT(item));
    else
        ev("main", "anext: error %s", errname(rc));
    if ((rc = corio_sleep(0.05)) == 0)
        ev("main", "slept 50 ms");
    else
        ev("main", "sleep: error %s, cancelling=%d", errname(rc),
           cancelling());
    ev("main", "aclose");
    if ((rc = corio_agen_close(g)) == 0)
        ev("main", "aclose: ok, cancelling=%d", cancelling());
    else
        ev("main", "aclose: error %s", errname(rc));
    corio_agen_free(g);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
