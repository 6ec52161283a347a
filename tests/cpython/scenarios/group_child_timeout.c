/* group_child_timeout: a group child's own timeout expires and its
 * -ETIMEDOUT is the child's outcome: a failure like any other; the group
 * cancels the sibling and the body, and returns -ETIMEDOUT. The child's
 * timeout leaves no request on the parent: its count is 0 after. */
#include "evtrace.h"

static int impatient(void *arg, void **result)
{
    corio_scope *sc;
    int rc = corio_scope_timeout(0.01, &sc);
    return rc ? rc : corio_scope_close(sc, corio_sleep(1));
}

static int sibling(void *arg, void **result)
{
    int rc = corio_sleep(1);
    if (rc == -ECANCELED)
        ev("sibling", "cancelled");
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_group *g;
    int rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    corio_group_spawn(g, impatient, NULL, NULL, NULL);
    corio_group_spawn(g, sibling, NULL, NULL, NULL);
    rc = corio_sleep(1);
    if (rc)
        ev("body", "sleep: error %s", errname(rc));
    if (corio_group_wait(g, rc) != 0)
        group_errors("main", g);
    corio_group_free(g);
    ev("main", "cancelling=%d", cancelling());
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
