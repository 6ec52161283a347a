/* cancel_level_triggered: a task that sees -ECANCELED without
 * corio_task_uncancel and then suspends again.
 *
 * DELIBERATE DIFFERENCE (see cancel_level_triggered.expected-diff): corio
 * is level-triggered, so while the request stands the second sleep fails
 * at once and the task ends cancelled; asyncio raises CancelledError once
 * and its sleep works. With uncancel first, both agree. */
#include "evtrace.h"

struct w { const char *name; int withdraw; };

static int worker(void *arg, void **result)
{
    struct w *w = arg;
    corio_task *me = corio_task_current();
    int rc;
    if (corio_sleep(1) == -ECANCELED) {
        ev(w->name, "caught cancel, cancelling=%d", corio_task_cancelling(me));
        if (w->withdraw)
            ev(w->name, "uncancel -> %d", corio_task_uncancel(me));
    }
    if ((rc = corio_sleep(0.02)) != 0) {
        ev(w->name, "sleep after the cancel: error %s", errname(rc));
        return rc;
    }
    ev(w->name, "slept 20 ms after the cancel");
    *result = INT2PTR(1);
    return 0;
}

static int scenario(void *arg, void **result)
{
    static struct w ws[2] = {{"keeps", 0}, {"withdraws", 1}};
    int i, rc;
    for (i = 0; i < 2; i++) {
        corio_task *t;
        void *res;
        section("%s", ws[i].name);
        if ((rc = corio_spawn(worker, &ws[i], NULL, &t)) != 0)
            return rc;
        corio_sleep(0.01);
        corio_task_cancel(t);
        rc = corio_task_join(t, &res);
        if (rc == 0)
            ev("main", "%s: ok %d", ws[i].name, PTR2INT(res));
        else
            ev("main", "%s: error %s", ws[i].name, errname(rc));
        corio_task_release(t);
    }
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
