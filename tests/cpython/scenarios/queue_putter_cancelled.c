/* queue_putter_cancelled: a queue of size 1 holds "a"; putters p1 ("b")
 * and p2 ("c") wait. main takes "a", which frees the slot and wakes p1,
 * and at once cancels p1, before it can run. The slot stays free until
 * then; p1 returns -ECANCELED without putting and wakes p2, which puts
 * "c"; get + task_done then let join return, as in asyncio. */
#include "evtrace.h"
#include <corio/queue.h>

struct put_arg {
    corio_queue *q;
    const char *item;
};

static int putter(void *arg, void **result)
{
    struct put_arg *a = arg;
    const char *name = corio_task_name(corio_task_current());
    int rc = corio_queue_put(a->q, (void *)a->item);
    if (rc == 0)
        ev(name, "put %s, qsize=%zu", a->item, corio_queue_size(a->q));
    else
        ev(name, "put: error %s", errname(rc));
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task_opts o1 = {.name = "p1"}, o2 = {.name = "p2"};
    struct put_arg a1, a2;
    corio_queue *q;
    corio_task *p1, *p2;
    void *item;
    int rc;
    if ((rc = corio_queue_new(CORIO_QUEUE_FIFO, 1, &q)) != 0)
        return rc;
    corio_queue_try_put(q, "a");
    a1 = (struct put_arg){q, "b"};
    a2 = (struct put_arg){q, "c"};
    corio_spawn(putter, &a1, &o1, &p1);
    corio_spawn(putter, &a2, &o2, &p2);
    corio_sleep(0.01);
    corio_queue_try_get(q, &item);
    corio_queue_task_done(q);
    corio_task_cancel(p1);
    ev("main", "got %s, cancelled p1, qsize=%zu, full=%s", (char *)item,
       corio_queue_size(q), TF(corio_queue_full(q)));
    corio_sleep(0.01);
    ev("main", "qsize=%zu, full=%s", corio_queue_size(q),
       TF(corio_queue_full(q)));
    if ((rc = corio_queue_get(q, &item)) != 0)
        return rc;
    corio_queue_task_done(q);
    ev("main", "got %s", (char *)item);
    corio_task_join(p1, NULL);
    corio_task_join(p2, NULL);
    if ((rc = corio_queue_join(q)) != 0)
        return rc;
    ev("main", "joined, qsize=%zu", corio_queue_size(q));
    corio_task_release(p1);
    corio_task_release(p2);
    corio_queue_free(q);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
