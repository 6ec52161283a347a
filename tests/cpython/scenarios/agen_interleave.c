/* agen_interleave: an async generator's waits suspend the task that
 * iterates it, and the loop runs other tasks meanwhile: a generator that
 * sleeps between items beside a ticker task, a generator reading a queue
 * a producer task fills, and two tasks each iterating a generator of
 * their own. See the .py twin. */
#include "evtrace.h"

struct numbers {
    const char *who;
    double first, every;
    int n;
};

static int numbers(void *arg, void **result)
{
    const struct numbers *a = arg;
    int i, rc;
    if ((rc = corio_sleep(a->first)) != 0)
        return rc;
    for (i = 1; i <= a->n; i++) {
        if (i > 1 && (rc = corio_sleep(a->every)) != 0)
            return rc;
        ev(a->who, "yield %d", i);
        if ((rc = corio_yield(INT2PTR(i), NULL)) != 0)
            return rc;
    }
    return 0;
}

/* async for item in g: print it; then "end" (or the error). */
static int consume(const char *who, corio_agen *g)
{
    void *item;
    int rc;
    while ((rc = corio_agen_next(g, &item)) == 0)
        ev(who, "item %d", PTR2INT(item));
    if (rc != CORIO_END)
        return rc;
    ev(who, "end");
    return 0;
}

static int ticker(void *arg, void **result)
{
    int k, rc, n = PTR2INT(arg);
    if ((rc = corio_sleep(0.02)) != 0)
        return rc;
    for (k = 1; k <= n; k++) {
        if (k > 1 && (rc = corio_sleep(0.04)) != 0)
            return rc;
        ev("ticker", "tick %d", k);
    }
    return 0;
}

/* Yields what it gets from the queue until NULL (Python's None). */
static int drain(void *arg, void **result)
{
    void *item;
    int rc;
    while ((rc = corio_queue_get(arg, &item)) == 0 && item) {
        ev("gen", "yield %d", PTR2INT(item));
        if ((rc = corio_yield(item, NULL)) != 0)
            return rc;
    }
    if (rc == 0)
        ev("gen", "got None: the stream ends");
    return rc;
}

static int producer(void *arg, void **result)
{
    int i, rc;
    for (i = 1; i <= 4; i++) {
        int v = i < 4 ? i : 0; /* 1, 2, 3, None */
        if ((rc = corio_sleep(0.02)) != 0)
            return rc;
        if (v)
            ev("producer", "put %d", v);
        else
            ev("producer", "put None");
        if ((rc = corio_queue_put(arg, INT2PTR(v))) != 0)
            return rc;
    }
    return 0;
}

/* A task that iterates a numbers() generator of its own. */
struct consumer {
    const char *who;
    struct numbers args;
};

static int consumer(void *arg, void **result)
{
    struct consumer *c = arg;
    corio_agen *g;
    int rc;
    if ((rc = corio_agen_new(numbers, &c->args, NULL, &g)) != 0)
        return rc;
    rc = consume(c->who, g);
    corio_agen_free(g);
    return rc;
}

static int scenario(void *arg, void **result)
{
    static struct numbers gen = {"gen", 0.04, 0.04, 3};
    static struct consumer ca = {"A", {"genA", 0.04, 0.04, 3}};
    static struct consumer cb = {"B", {"genB", 0.02, 0.04, 3}};
    corio_task *t, *a, *b;
    corio_queue *q;
    corio_agen *g;
    int rc;

    section("timers");
    if ((rc = corio_spawn(ticker, INT2PTR(4), NULL, &t)) != 0)
        return rc;
    if ((rc = corio_agen_new(numbers, &gen, NULL, &g)) == 0) {
        rc = consume("main", g);
        corio_agen_free(g);
    }
    corio_task_join(t, NULL);
    corio_task_release(t);
    if (rc)
        return rc;

    section("queue");
    if ((rc = corio_queue_new(CORIO_QUEUE_FIFO, 0, &q)) != 0)
        return rc;
    if ((rc = corio_spawn(producer, q, NULL, &t)) != 0) {
        corio_queue_free(q);
        return rc;
    }
    if ((rc = corio_agen_new(drain, q, NULL, &g)) == 0) {
        rc = consume("main", g);
        corio_agen_free(g);
    }
    corio_task_join(t, NULL);
    corio_task_release(t);
    corio_queue_free(q);
    if (rc)
        return rc;

    section("two consumers");
    if ((rc = corio_spawn(consumer, &ca, NULL, &a)) != 0)
        return rc;
    if ((rc = corio_spawn(consumer, &cb, NULL, &b)) != 0) {
        corio_task_join(a, NULL);
        corio_task_release(a);
        return rc;
    }
    corio_task_join(a, NULL);
    corio_task_join(b, NULL);
    corio_task_release(a);
    corio_task_release(b);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
