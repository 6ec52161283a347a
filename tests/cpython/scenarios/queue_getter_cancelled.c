/* queue_getter_cancelled: two getters wait on an empty queue; main puts
 * "x" and at once cancels g1, the first getter, before it can run; 10 ms
 * later main puts "y". The put leaves "x" in the queue and wakes g1;
 * cancelled before it runs, g1 returns -ECANCELED and wakes g2, which
 * gets "x"; "y" stays queued, as in asyncio. */
#include "evtrace.h"
#include <corio/queue.h>

static int getter(void *arg, void **result)
{
    const char *name = corio_task_name(corio_task_current());
    void *item;
    int rc = corio_queue_get(arg, &item);
    if (rc == 0)
        ev(name, "got %s", (const char *)item);
    else
        ev(name, "get: error %s", errname(rc));
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task_opts o1 = {.name = "g1"}, o2 = {.name = "g2"};
    corio_queue *q;
    corio_task *g1, *g2;
    int rc;
    if ((rc = corio_queue_new(CORIO_QUEUE_FIFO, 0, &q)) != 0)
        return rc;
    corio_spawn(getter, q, &o1, &g1);
    corio_spawn(getter, q, &o2, &g2);
    corio_sleep(0.01);
    corio_queue_try_put(q, "x");
    corio_task_cancel(g1);
    ev("main", "put x, cancelled g1");
    corio_sleep(0.01);
    corio_queue_try_put(q, "y");
    ev("main", "put y");
    corio_task_join(g1, NULL);
    corio_task_join(g2, NULL);
    ev("main", "qsize=%zu", corio_queue_size(q));
    corio_task_release(g1);
    corio_task_release(g2);
    while (corio_queue_try_get(q, &(void *){NULL}) == 0)
        ;
    corio_queue_free(q);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
