/* group_body_fails: the code inside the group fails (its error is passed
 * to corio_group_wait); see the .py twin for the two cases. The body's
 * error is kept after the children's, with the body's corio_fail
 * message. */
#include "evtrace.h"

static int sleeper(void *arg, void **result)
{
    int rc = corio_sleep(1);
    if (rc == -ECANCELED)
        ev("sleeper", "cancelled");
    return rc;
}

static int bad(void *arg, void **result)
{
    int rc = corio_sleep(0.01);
    return rc ? rc : corio_fail(-EIO, "child broke");
}

static int scenario(void *arg, void **result)
{
    int child_first = PTR2INT(arg);
    corio_group *g;
    int rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    if (child_first)
        corio_group_spawn(g, bad, NULL, NULL, NULL);
    corio_group_spawn(g, sleeper, NULL, NULL, NULL);
    if (!child_first) {
        rc = corio_sleep(0.01);
        if (rc == 0) {
            ev("body", "failing with EINVAL");
            rc = corio_fail(-EINVAL, "body broke");
        }
    } else {
        rc = corio_sleep(1);
        if (rc) {
            ev("body", "sleep: error %s, failing with EPIPE instead",
               errname(rc));
            rc = corio_fail(-EPIPE, "body broke too");
        }
    }
    rc = corio_group_wait(g, rc);
    if (rc) {
        ev("main", "group: error %s", errname(rc));
        group_errors("main", g);
    }
    corio_group_free(g);
    ev("main", "cancelling=%d", cancelling());
    return 0;
}

int main(void)
{
    section("body alone");
    trace_run(scenario, INT2PTR(0));
    section("child first");
    trace_run(scenario, INT2PTR(1));
    return 0;
}
