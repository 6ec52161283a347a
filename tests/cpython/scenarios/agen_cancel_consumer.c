/* agen_cancel_consumer: the task iterating an async generator is
 * cancelled while the generator waits (in a sleep, a queue get, on a
 * future) before its second item: the cancel reaches that wait, the
 * generator's cleanup runs, next returns -ECANCELED, the consumer ends
 * cancelled and the generator is finished. The generator's own cleanup
 * sleep after the cancel is shielded (corio's cancellation is
 * level-triggered; asyncio's finally just awaits). A consumer cancelled
 * between items closes the generator itself. See the .py twin. */
#include "evtrace.h"

enum kind { SLEEP, QUEUE_GET, FUTURE };
static const char *kind_names[] = {"sleep", "queue get", "future"};

struct source {
    enum kind kind;
    corio_queue *q;
    corio_future *fut;
    int slow_cleanup;
};

static int source(void *arg, void **result)
{
    struct source *s = arg;
    const char *kind = kind_names[s->kind];
    corio_scope *sh;
    void *got;
    int rc;

    ev("gen", "yield 1");
    rc = corio_yield(INT2PTR(1), NULL);
    if (rc == 0) {
        ev("gen", "waiting on a %s", kind);
        if (s->kind == SLEEP)
            rc = corio_sleep(1);
        else if (s->kind == QUEUE_GET)
            rc = corio_queue_get(s->q, &got);
        else
            rc = corio_future_await(s->fut, NULL);
        if (rc)
            ev("gen", "%s: error %s, cancelling=%d", kind, errname(rc),
               cancelling());
    }
    if (rc == 0) {
        ev("gen", "yield 2");
        rc = corio_yield(INT2PTR(2), NULL);
    }
    if (rc == CORIO_EEXIT)
        ev("gen", "closing");
    ev("gen", "finally");
    if (s->slow_cleanup && corio_scope_shield(&sh) == 0) {
        if (corio_sleep(0.01) == 0)
            ev("gen", "finally: slept 10 ms");
        corio_scope_close(sh, 0);
    }
    return rc;
}

struct consumer {
    corio_agen *g;
    int between; /* sleeps in its own body after each item */
};

static int consumer(void *arg, void **result)
{
    struct consumer *c = arg;
    void *item;
    int rc;
    while ((rc = corio_agen_next(c->g, &item)) == 0) {
        ev("consumer", "item %d", PTR2INT(item));
        if (c->between && (rc = corio_sleep(1)) != 0)
            break;
    }
    if (rc == CORIO_END) {
        ev("consumer", "end");
        return 0;
    }
    if (rc == -ECANCELED) {
        ev("consumer", "error %s, cancelling=%d", errname(rc), cancelling());
        if (c->between && corio_agen_close(c->g) == 0)
            ev("consumer", "aclose: ok");
    }
    return rc;
}

static const struct {
    const char *title;
    enum kind kind;
    int between, slow;
} cases[] = {{"waiting in a sleep", SLEEP, 0, 0},
             {"waiting in a queue get", QUEUE_GET, 0, 0},
             {"waiting on a future", FUTURE, 0, 0},
             {"cleanup awaits after the cancel", SLEEP, 0, 1},
             {"cancelled between items", SLEEP, 1, 0}};

static int run_case(int i)
{
    struct source s = {cases[i].kind, NULL, NULL, cases[i].slow};
    struct consumer c = {NULL, cases[i].between};
    corio_task *t;
    int rc;

    section("%s", cases[i].title);
    if (s.kind == QUEUE_GET)
        rc = corio_queue_new(CORIO_QUEUE_FIFO, 0, &s.q);
    else
        rc = corio_future_new(NULL, &s.fut);
    if (rc == 0)
        rc = corio_agen_new(source, &s, NULL, &c.g);
    if (rc == 0 && (rc = corio_spawn(consumer, &c, NULL, &t)) == 0) {
        corio_sleep(0.01);
        ev("main", "cancel the consumer");
        corio_task_cancel(t);
        rc = corio_task_join(t, NULL);
        if (rc == 0)
            ev("main", "consumer: ok");
        else
            ev("main", "consumer: error %s", errname(rc));
        corio_task_release(t);
        if (corio_agen_next(c.g, NULL) == CORIO_END)
            ev("main", "anext after it: end");
        else
            ev("main", "anext after it: an item");
        if (s.kind == QUEUE_GET) {
            corio_queue_try_put(s.q, INT2PTR(5));
            ev("main", "put 5 afterwards: qsize=%zu", corio_queue_size(s.q));
        } else if (s.kind == FUTURE) {
            ev("main", "future cancelled=%s",
               TF(corio_future_cancelled(s.fut)));
        }
        rc = 0;
    }
    corio_agen_free(c.g);
    corio_queue_free(s.q);
    if (s.fut)
        corio_future_release(s.fut);
    return rc;
}

static int scenario(void *arg, void **result)
{
    size_t i;
    int rc;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if ((rc = run_case((int)i)) != 0)
            return rc;
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
