/*
 * test_cancel_rule_chan.c: the cancellation rule (task/test_cancel_rule.c) for
 * queues and topics: with a cancel standing, a call that need not wait
 * succeeds as usual (item put or taken, delivered); one that would have to
 * wait fails with -ECANCELED at once, without suspending, and nothing is
 * taken, put, delivered, lost or duplicated.
 */
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>

#include "run_body.h"
#include "cancel_rule.h"

#define IP(x) ((void *)(intptr_t)(x))

/* ---- queues -------------------------------------------------------------------------- */

static int getter(void *arg, void **result)
{
    return corio_queue_get(arg, result);
}

static int putter(void *arg, void **result)
{
    (void)result;
    return corio_queue_put(arg, IP(9));
}

static int queue_put_body(void)
{
    corio_queue *q;
    corio_task *g;
    void *item = NULL;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 1, &q), 0);
    /* (a) a getter waits: the item is handed to it. */
    CHECK_EQ(corio_spawn(getter, q, NULL, &g), 0);
    CHECK_EQ(corio_sleep(0), 0); /* it waits on the empty queue */
    witness();
    cancel_self();
    /* (a) room: put; the woken getter takes it when it runs (asyncio:
     * the item stays in the queue until then). */
    CHECK_EQ(corio_queue_put(q, IP(1)), 0);
    CHECK_EQ(corio_queue_size(q), 1);
    /* (b) full: -ECANCELED, not put. */
    CHECK_EQ(corio_queue_put(q, IP(3)), -ECANCELED);
    CHECK_EQ(corio_queue_size(q), 1);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_task_join(g, &item), 0);
    CHECK_PTR(item, IP(1));
    CHECK_EQ(corio_queue_try_get(q, &item), -EAGAIN);
    corio_task_release(g);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_cancel_rule_put)
{
    CHECK_EQ(run(queue_put_body), 0);
}

static int queue_get_body(void)
{
    corio_queue *q;
    corio_task *p;
    void *item = NULL;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 1, &q), 0);
    CHECK_EQ(corio_queue_try_put(q, IP(1)), 0);
    /* A putter waits on the full queue. */
    CHECK_EQ(corio_spawn(putter, q, NULL, &p), 0);
    CHECK_EQ(corio_sleep(0), 0);
    witness();
    cancel_self();
    /* (a) an item there: taken (the putter is woken and puts when it
     * runs, as in asyncio). */
    CHECK_EQ(corio_queue_get(q, &item), 0);
    CHECK_PTR(item, IP(1));
    /* (b) empty: -ECANCELED, nothing taken, *item untouched. */
    item = IP(77);
    CHECK_EQ(corio_queue_get(q, &item), -ECANCELED);
    CHECK_PTR(item, IP(77));
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_task_join(p, NULL), 0);
    CHECK_EQ(corio_queue_get(q, &item), 0); /* the putter's item */
    CHECK_PTR(item, IP(9));
    CHECK_EQ(corio_queue_try_get(q, &item), -EAGAIN);
    corio_task_release(p);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_cancel_rule_get)
{
    CHECK_EQ(run(queue_get_body), 0);
}

static int queue_join_body(void)
{
    corio_queue *q;
    void *item;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
    witness();
    cancel_self();
    /* (a) nothing unfinished. */
    CHECK_EQ(corio_queue_join(q), 0);
    /* (b) one unfinished: -ECANCELED. */
    CHECK_EQ(corio_queue_try_put(q, IP(1)), 0);
    CHECK_EQ(corio_queue_join(q), -ECANCELED);
    CHECK_EQ(corio_queue_try_get(q, &item), 0);
    CHECK_EQ(corio_queue_join(q), -ECANCELED);
    CHECK_EQ(corio_queue_task_done(q), 0);
    CHECK_EQ(corio_queue_join(q), 0);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_cancel_rule_join)
{
    CHECK_EQ(run(queue_join_body), 0);
}

/* ---- topics -------------------------------------------------------------------------- */

static int topic_publish_body(void)
{
    corio_topic *t;
    corio_topic_sub *lag, *blk;
    size_t delivered = 99, missed;
    void *item;
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 4, CORIO_TOPIC_LAG, &lag), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_BLOCK, &blk), 0);
    witness();
    cancel_self();
    /* (a) room everywhere: delivered to both. */
    CHECK_EQ(corio_topic_publish(t, IP(1), &delivered), 0);
    CHECK_EQ(delivered, 2);
    /* (b) the BLOCK subscriber is full: the publish would wait, so it
     * fails at once and reaches nobody. */
    delivered = 99;
    CHECK_EQ(corio_topic_publish(t, IP(2), &delivered), -ECANCELED);
    CHECK_EQ(delivered, 0);
    CHECK_EQ(corio_topic_sub_size(lag), 1);
    CHECK_EQ(corio_topic_sub_size(blk), 1);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_topic_next(lag, &item, &missed), 0);
    CHECK_PTR(item, IP(1));
    CHECK_EQ(corio_topic_next(blk, &item, &missed), 0);
    CHECK_PTR(item, IP(1));
    CHECK_EQ(corio_topic_sub_size(lag), 0);
    CHECK_EQ(corio_topic_sub_size(blk), 0);
    CHECK_EQ(corio_topic_unsubscribe(lag), 0);
    CHECK_EQ(corio_topic_unsubscribe(blk), 0);
    CHECK_EQ(corio_topic_free(t), 0);
    return 0;
}

TEST(topic_cancel_rule_publish)
{
    CHECK_EQ(run(topic_publish_body), 0);
}

static int topic_next_body(void)
{
    corio_topic *t;
    corio_topic_sub *s;
    size_t missed = 99;
    void *item = NULL;
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 4, CORIO_TOPIC_LAG, &s), 0);
    CHECK_EQ(corio_topic_publish(t, IP(1), NULL), 0);
    witness();
    cancel_self();
    /* (a) an item buffered: taken. */
    CHECK_EQ(corio_topic_next(s, &item, &missed), 0);
    CHECK_PTR(item, IP(1));
    CHECK_EQ(missed, 0);
    /* (b) none: -ECANCELED, nothing taken, outputs untouched. */
    item = IP(77);
    missed = 99;
    CHECK_EQ(corio_topic_next(s, &item, &missed), -ECANCELED);
    CHECK_PTR(item, IP(77));
    CHECK_EQ(missed, 99);
    NOT_SUSPENDED();
    /* (a) closed and drained: the end, at once. */
    CHECK_EQ(corio_topic_close(t), 0);
    CHECK_EQ(corio_topic_next(s, &item, &missed), CORIO_END);
    uncancel_self();
    CHECK_EQ(corio_topic_unsubscribe(s), 0);
    CHECK_EQ(corio_topic_free(t), 0);
    return 0;
}

TEST(topic_cancel_rule_next)
{
    CHECK_EQ(run(topic_next_body), 0);
}
