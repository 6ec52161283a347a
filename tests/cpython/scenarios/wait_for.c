/* wait_for: corio_wait_for (Python 3.11 semantics) around a task; see the
 * .py twin for the five cases. The worker's cleanup suspends, so it runs
 * under a shield scope (level-triggered cancellation). */
#include "evtrace.h"
#include <corio/combine.h>
#include <string.h>

struct worker { int ms, refuse; };

static int worker(void *arg, void **result)
{
    struct worker *w = arg;
    corio_scope *sh;
    int rc = corio_sleep(w->ms / 1000.0);
    if (rc == 0) {
        ev("worker", "done");
        *result = INT2PTR(w->ms);
        return 0;
    }
    if (w->refuse) {
        corio_task_uncancel(corio_task_current());
        ev("worker", "refusing the cancel");
        *result = INT2PTR(9);
        return 0;
    }
    corio_scope_shield(&sh);
    corio_sleep(0.01);
    corio_scope_close(sh, 0);
    ev("worker", "cleanup done");
    return rc;
}

static int call(const char *who, corio_task *t, double timeout)
{
    void *res;
    int rc = corio_wait_for(corio_task_future(t), timeout, &res);
    if (rc == 0)
        ev(who, "wait_for: ok %d, cancelling=%d", PTR2INT(res), cancelling());
    else
        ev(who, "wait_for: error %s, cancelling=%d", errname(rc),
           cancelling());
    corio_task_release(t);
    return rc == -ECANCELED ? rc : 0;
}

static int caller(void *arg, void **result)
{
    static struct worker w = {100, 0};
    corio_task *t;
    corio_spawn(worker, &w, NULL, &t);
    return call("caller", t, 1);
}

static int scenario(void *arg, void **result)
{
    const char *c = arg;
    static struct worker quick = {10, 0}, slow = {100, 0}, refuse = {100, 1},
                         instant = {0, 0};
    corio_task *t;
    int rc;
    if (strcmp(c, "in time") == 0) {
        corio_spawn(worker, &quick, NULL, &t);
        return call("main", t, 0.03);
    }
    if (strcmp(c, "timeout") == 0) {
        corio_spawn(worker, &slow, NULL, &t);
        return call("main", t, 0.02);
    }
    if (strcmp(c, "refused") == 0) {
        corio_spawn(worker, &refuse, NULL, &t);
        return call("main", t, 0.02);
    }
    if (strcmp(c, "caller cancelled") == 0) {
        corio_spawn(caller, NULL, NULL, &t);
        corio_sleep(0.01);
        corio_task_cancel(t);
        rc = corio_task_join(t, NULL);
        ev("main", "caller: error %s", errname(rc));
        corio_task_release(t);
        return 0;
    }
    corio_spawn(worker, &instant, NULL, &t);
    corio_sleep(0.01);
    return call("main", t, 0.01);
}

int main(void)
{
    static const char *cases[5] = {"in time", "timeout", "refused",
                                   "caller cancelled", "already done"};
    int i;
    for (i = 0; i < 5; i++) {
        section("%s", cases[i]);
        trace_run(scenario, (void *)cases[i]);
    }
    return 0;
}
