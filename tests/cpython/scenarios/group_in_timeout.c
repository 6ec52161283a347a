/* group_in_timeout: a group inside a 40 ms timeout scope. The deadline
 * cancels the body; the group cancels its child, waits for its cleanup
 * (10 ms, under a shield, to tick 5) and returns -ECANCELED, which the
 * scope turns into -ETIMEDOUT. cancelling is 1 while the group unwinds
 * and 0 after. */
#include "evtrace.h"

static int child(void *arg, void **result)
{
    corio_scope *sh;
    int rc = corio_sleep(1);
    if (rc == -ECANCELED) {
        corio_scope_shield(&sh);
        corio_sleep(0.01);
        corio_scope_close(sh, 0);
        ev("child", "cleanup done");
    }
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_scope *sc;
    corio_group *g;
    int rc;
    if ((rc = corio_scope_timeout(0.04, &sc)) != 0)
        return rc;
    if ((rc = corio_group_open(&g)) == 0) {
        corio_group_spawn(g, child, NULL, NULL, NULL);
        rc = corio_sleep(1);
        if (rc)
            ev("body", "sleep: error %s, cancelling=%d", errname(rc),
               cancelling());
        rc = corio_group_wait(g, rc);
        corio_group_free(g);
        if (rc)
            ev("main", "group: error %s, cancelling=%d", errname(rc),
               cancelling());
    }
    rc = corio_scope_close(sc, rc);
    ev("main", "timeout: error %s, cancelling=%d", errname(rc), cancelling());
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
