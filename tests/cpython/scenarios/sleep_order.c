/* sleep_order: three tasks sleep 60, 20 and 40 ms; they wake in deadline
 * order, each at its tick, and joining them gives their results in the
 * order joined. */
#include "evtrace.h"

struct sleeper { const char *name; int ms; };

static int sleeper(void *arg, void **result)
{
    struct sleeper *s = arg;
    int rc;
    ev(s->name, "started");
    if ((rc = corio_sleep(s->ms / 1000.0)) != 0)
        return rc;
    ev(s->name, "woke after %d ms", s->ms);
    *result = INT2PTR(s->ms);
    return 0;
}

static int scenario(void *arg, void **result)
{
    static struct sleeper s[3] = {{"a", 60}, {"b", 20}, {"c", 40}};
    corio_task *t[3];
    void *res;
    int i, rc;
    for (i = 0; i < 3; i++) {
        corio_task_opts o = {.name = s[i].name};
        if ((rc = corio_spawn(sleeper, &s[i], &o, &t[i])) != 0)
            return rc;
    }
    ev("main", "spawned 3");
    for (i = 0; i < 3; i++) {
        rc = corio_task_join(t[i], &res);
        ev("main", "joined %s: ok %d", corio_task_name(t[i]), PTR2INT(res));
        corio_task_release(t[i]);
    }
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
