/* queue_handoff: a producer puts 1, 2, 3 into a queue of size 1; a
 * consumer takes one item every 10 ms. The producer's second put waits
 * until the consumer takes 1 and puts when it runs (asyncio's order), so
 * join returns at tick 1, before put(2) counts its item. */
#include "evtrace.h"
#include <corio/queue.h>

static int producer(void *arg, void **result)
{
    int i, rc;
    for (i = 1; i <= 3; i++) {
        ev("producer", "put %d", i);
        if ((rc = corio_queue_put(arg, INT2PTR(i))) != 0)
            return rc;
        ev("producer", "put %d done, qsize=%zu", i, corio_queue_size(arg));
    }
    return 0;
}

static int consumer(void *arg, void **result)
{
    void *item;
    int i, rc;
    for (i = 0; i < 3; i++) {
        if ((rc = corio_sleep(0.01)) != 0 ||
            (rc = corio_queue_get(arg, &item)) != 0)
            return rc;
        ev("consumer", "got %d", PTR2INT(item));
        corio_queue_task_done(arg);
    }
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_queue *q;
    corio_task *p, *c;
    int rc;
    if ((rc = corio_queue_new(CORIO_QUEUE_FIFO, 1, &q)) != 0)
        return rc;
    corio_spawn(producer, q, NULL, &p);
    corio_spawn(consumer, q, NULL, &c);
    corio_sleep(0);
    rc = corio_queue_join(q);
    ev("main", "joined, qsize=%zu", corio_queue_size(q));
    corio_task_join(p, NULL);
    corio_task_join(c, NULL);
    corio_task_release(p);
    corio_task_release(c);
    corio_queue_free(q);
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
