/* timer_wakeup_iteration: in which iteration a task whose sleep has ended
 * runs again, relative to a task that keeps yielding.
 *
 * FOUND DIFFERENCE (see the .expected-diff): corio's timer makes the task
 * ready in the iteration it fires; asyncio completes a future whose
 * callback wakes the task, one iteration later. */
#include "evtrace.h"
#include <time.h>

static int sleeper(void *arg, void **result)
{
    int rc;
    ev("sleeper", "sleeping 10 ms");
    if ((rc = corio_sleep(0.01)) != 0)
        return rc;
    ev("sleeper", "woke");
    return 0;
}

static int scenario(void *arg, void **result)
{
    struct timespec block = {0, 20 * 1000 * 1000};
    corio_task *s;
    int i, rc;
    if ((rc = corio_spawn(sleeper, NULL, NULL, &s)) != 0)
        return rc;
    corio_sleep(0);
    nanosleep(&block, NULL); /* the loop is blocked past the deadline */
    for (i = 0; i < 4; i++) {
        ev("main", "spin %d", i);
        corio_sleep(0);
    }
    rc = corio_task_join(s, NULL);
    corio_task_release(s);
    return rc;
}

int main(void)
{
    trace_use_real_time(); /* the loop is blocked in real time */
    trace_run(scenario, NULL);
    return 0;
}
