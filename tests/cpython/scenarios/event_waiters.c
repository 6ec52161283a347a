/* event_waiters: three tasks wait on an event; b is cancelled while
 * waiting; set at tick 2 wakes a and c in FIFO order, and they return 0
 * even though main clears the event before they run. Waiting on a set
 * event returns at once; after clear, a new waiter d waits until a timer
 * sets the event again (tick 4). */
#include "evtrace.h"
#include <corio/sync.h>

static int waiter(void *arg, void **result)
{
    const char *name = corio_task_name(corio_task_current());
    int rc = corio_event_wait(arg);
    if (rc == 0)
        ev(name, "wait: ok True");
    else
        ev(name, "wait: error %s", errname(rc));
    return rc;
}

static void set_cb(void *event)
{
    corio_event_set(event);
}

static int scenario(void *arg, void **result)
{
    static const char *names[4] = {"a", "b", "c", "d"};
    corio_event *event;
    corio_task *w[4];
    int i, rc;
    if ((rc = corio_event_new(&event)) != 0)
        return rc;
    for (i = 0; i < 3; i++) {
        corio_task_opts o = {.name = names[i]};
        corio_spawn(waiter, event, &o, &w[i]);
    }
    corio_sleep(0.01);
    corio_task_cancel(w[1]);
    corio_sleep(0.01);
    corio_event_set(event);
    corio_event_clear(event);
    ev("main", "set then cleared, is_set=%s", TF(corio_event_is_set(event)));
    for (i = 0; i < 3; i++) {
        corio_task_join(w[i], NULL);
        corio_task_release(w[i]);
    }
    corio_event_set(event);
    if (corio_event_wait(event) == 0)
        ev("main", "set again; wait on a set event: ok True");
    corio_event_clear(event);
    {
        corio_task_opts o = {.name = names[3]};
        corio_spawn(waiter, event, &o, &w[3]);
    }
    corio_loop_call_later(corio_loop_current(), 0.02, set_cb, event, NULL);
    rc = corio_task_join(w[3], NULL);
    corio_task_release(w[3]);
    corio_event_free(event);
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
