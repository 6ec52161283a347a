/* move_on: give up on a slow step after a deadline and go on
 * (corio_scope_move_on_after, whose close turns its own cancel into 0; asyncio
 * catches a timeout's TimeoutError). A step that finishes in time is
 * unaffected; an outside cancel still propagates. */
#include "evtrace.h"

static int step(const char *name, int ms)
{
    int rc = corio_sleep(ms / 1000.0);
    if (rc == 0)
        ev(name, "finished in %d ms", ms);
    else
        ev(name, "gave up");
    return rc;
}

static void cancel(void *task)
{
    corio_task_cancel(task);
}

static int scenario(void *arg, void **result)
{
    corio_task *me = corio_task_current();
    corio_scope *sc;
    int rc;

    section("slow step");
    corio_scope_move_on_after(0.04, &sc);
    if (corio_scope_close(sc, step("slow", 100)) == 0)
        ev("main", "moved on, cancelling=%d", cancelling());

    section("quick step");
    corio_scope_move_on_after(0.04, &sc);
    if (corio_scope_close(sc, step("quick", 10)) == 0)
        ev("main", "moved on, cancelling=%d", cancelling());

    section("outside cancel");
    corio_loop_call_later(corio_loop_current(), 0.01, cancel, me, NULL);
    corio_scope_move_on_after(0.05, &sc);
    rc = corio_scope_close(sc, step("cancelled", 100));
    if (rc == 0) {
        ev("main", "moved on (must not happen)");
    } else {
        ev("main", "error %s, cancelling=%d", errname(rc), cancelling());
        corio_task_uncancel(me);
    }
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
