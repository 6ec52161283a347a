/* group_spawn_refused: a group refuses new children (-ESHUTDOWN) once it
 * is cancelling its children and once its wait has finished; while the
 * wait goes on for live children, spawning still works (a child spawns a
 * sibling then). */
#include "evtrace.h"

static int noop(void *arg, void **result)
{
    ev("noop", "ran (must not happen)");
    return 0;
}

static void try_spawn(const char *who, corio_group *g)
{
    int rc = corio_group_spawn(g, noop, NULL, NULL, NULL);
    if (rc == 0)
        ev(who, "spawn: ok");
    else
        ev(who, "spawn: error %s", errname(rc));
}

static int bad(void *arg, void **result)
{
    int rc = corio_sleep(0.01);
    return rc ? rc : corio_fail(-EIO, "bad broke");
}

static int sibling(void *arg, void **result)
{
    ev("sibling", "ran");
    return 0;
}

static int late(void *arg, void **result)
{
    int rc = corio_sleep(0.02);
    if (rc)
        return rc;
    if ((rc = corio_group_spawn((corio_group *)arg, sibling, NULL, NULL,
                                NULL)) != 0)
        return rc;
    ev("late", "spawned a sibling during the group's exit");
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_group *g;
    int rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    corio_group_spawn(g, late, g, NULL, NULL);
    ev("body", "done, exit waits for late");
    if ((rc = corio_group_wait(g, 0)) != 0)
        return rc;
    ev("main", "group finished");
    try_spawn("main", g);
    corio_group_free(g);

    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    corio_group_spawn(g, bad, NULL, NULL, NULL);
    rc = corio_sleep(1);
    if (rc == -ECANCELED)
        try_spawn("body", g);
    if (corio_group_wait(g, rc) != 0)
        group_errors("main", g);
    corio_group_free(g);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
