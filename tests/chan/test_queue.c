/*
 * test_queue.c: queues: FIFO, LIFO and priority order, growth, bounded
 * puts that wait, FIFO-fair waiters, the try variants, task_done and join,
 * both kinds of shutdown, cancellation at every suspension point (waiting,
 * and woken then cancelled before running), a randomized producer and
 * consumer harness that counts every item, lean tasks, misuse.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

/* ---- helpers ----------------------------------------------------------------------- */

/* A task that does one queue call (then optionally a second get) and
 * records what they returned. */
struct op {
    corio_queue *q;
    int kind;          /* 'g' get, 'p' put, 'j' join */
    void *item;        /* put: what; get: what came */
    int64_t prio;
    int rc;
    int done;
    int again;         /* after the call, get again: rc2, item2 */
    int rc2;
    void *item2;
};

static int op_run(void *arg, void **result)
{
    struct op *o = arg;
    (void)result;
    if (o->kind == 'g')
        o->rc = corio_queue_get(o->q, &o->item);
    else if (o->kind == 'p')
        o->rc = corio_queue_put_prio(o->q, o->prio, o->item);
    else
        o->rc = corio_queue_join(o->q);
    if (o->again)
        o->rc2 = corio_queue_get(o->q, &o->item2);
    o->done = 1;
    return 0;
}

static corio_task *spawn_op(struct op *o, unsigned flags)
{
    corio_task_opts opts = {0};
    corio_task *t = NULL;
    opts.flags = flags;
    CHECK_EQ(corio_spawn(op_run, o, &opts, &t), 0);
    return t;
}

/* Let every ready task run until it parks. */
/* ---- order ------------------------------------------------------------------------- */

static int order(void)
{
    corio_queue *q;
    void *p;
    int i;

    /* FIFO, past several growths, with the ring wrapped. */
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
    for (i = 0; i < 5; i++)
        CHECK_EQ(corio_queue_put(q, IP(i)), 0);
    for (i = 0; i < 3; i++) {
        CHECK_EQ(corio_queue_get(q, &p), 0);
        CHECK_EQ(PI(p), i);
    }
    for (i = 5; i < 100; i++)
        CHECK_EQ(corio_queue_put(q, IP(i)), 0);
    CHECK_EQ(corio_queue_size(q), 97);
    for (i = 3; i < 100; i++) {
        CHECK_EQ(corio_queue_get(q, &p), 0);
        CHECK_EQ(PI(p), i);
    }
    CHECK(corio_queue_empty(q));
    CHECK(!corio_queue_full(q));
    CHECK_EQ(corio_queue_free(q), 0);

    /* LIFO */
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_LIFO, 0, &q), 0);
    for (i = 0; i < 50; i++)
        CHECK_EQ(corio_queue_put(q, IP(i)), 0);
    for (i = 49; i >= 0; i--) {
        CHECK_EQ(corio_queue_get(q, &p), 0);
        CHECK_EQ(PI(p), i);
    }
    CHECK_EQ(corio_queue_free(q), 0);

    /* PRIORITY: lowest first, ties in put order; plain put is prio 0. */
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_PRIORITY, 0, &q), 0);
    CHECK_EQ(corio_queue_put_prio(q, 5, IP(50)), 0);
    CHECK_EQ(corio_queue_put_prio(q, -3, IP(-30)), 0);
    CHECK_EQ(corio_queue_put_prio(q, 5, IP(51)), 0);
    CHECK_EQ(corio_queue_put(q, IP(0)), 0);
    CHECK_EQ(corio_queue_put_prio(q, 5, IP(52)), 0);
    CHECK_EQ(corio_queue_try_put_prio(q, INT64_MIN, IP(-99)), 0);
    {
        static const int want[] = {-99, -30, 0, 50, 51, 52};
        for (i = 0; i < 6; i++) {
            CHECK_EQ(corio_queue_get(q, &p), 0);
            CHECK_EQ(PI(p), want[i]);
        }
    }
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_fifo_lifo_priority_order)
{
    CHECK_EQ(run(order), 0);
}

/* The heap against a sorted model: random priorities, interleaved. */
TEST(queue_priority_random_heap)
{
    corio_queue *q;
    int64_t prios[2000];
    size_t n = 0, live = 0, i, best;
    void *p;
    int round;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_PRIORITY, 0, &q), 0);
    for (round = 0; round < 6000; round++) {
        if (live == 0 || (n < 2000 && corio_test_rand() % 3 != 0)) {
            /* item = its index in prios; equal prios must keep put order */
            prios[n] = (int64_t)(corio_test_rand() % 50) - 25;
            CHECK_EQ(corio_queue_try_put_prio(q, prios[n], IP(n)), 0);
            n++;
            live++;
        } else {
            CHECK_EQ(corio_queue_try_get(q, &p), 0);
            for (best = SIZE_MAX, i = 0; i < n; i++)
                if (prios[i] != INT64_MAX &&
                    (best == SIZE_MAX || prios[i] < prios[best]))
                    best = i;
            CHECK_EQ(PI(p), best);
            prios[best] = INT64_MAX; /* taken */
            live--;
            /* keep indices stable: a taken slot is never reused */
        }
        if (n == 2000)
            break;
    }
    while (corio_queue_try_get(q, &p) == 0)
        prios[PI(p)] = INT64_MAX;
    for (i = 0; i < n; i++)
        CHECK(prios[i] == INT64_MAX);
    CHECK_EQ(corio_queue_free(q), 0);
}

/* ---- bounded queues and fair waiters ---------------------------------------------------- */

static int bounded(void)
{
    corio_queue *q;
    struct op put[3];
    corio_task *t[3];
    void *p;
    int i;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 2, &q), 0);
    CHECK_EQ(corio_queue_maxsize(q), 2);
    CHECK_EQ(corio_queue_put(q, IP(1)), 0);
    CHECK_EQ(corio_queue_put(q, IP(2)), 0);
    CHECK(corio_queue_full(q));
    CHECK_EQ(corio_queue_try_put(q, IP(9)), -EAGAIN);
    for (i = 0; i < 3; i++) {
        put[i] = (struct op){q, 'p', IP(10 + i), 0, 1, 0, 0, 0, NULL};
        t[i] = spawn_op(&put[i], 0);
        settle(); /* each waits, in this order */
    }
    for (i = 0; i < 3; i++)
        CHECK(!put[i].done);
    CHECK_EQ(corio_queue_size(q), 2);
    /* Each get frees a slot and wakes the first waiting putter, which
     * puts when it runs (asyncio): until then the slot is free. Putters
     * go in the order they came. */
    CHECK_EQ(corio_queue_get(q, &p), 0);
    CHECK_EQ(PI(p), 1);
    CHECK_EQ(corio_queue_size(q), 1);
    CHECK(!corio_queue_full(q));
    CHECK_EQ(corio_queue_get(q, &p), 0);
    CHECK_EQ(PI(p), 2);
    CHECK(corio_queue_empty(q));
    settle();
    CHECK(put[0].done && put[1].done && !put[2].done);
    CHECK_EQ(put[0].rc, 0);
    CHECK(corio_queue_full(q));
    for (i = 10; i < 13; i++) {
        CHECK_EQ(corio_queue_get(q, &p), 0);
        CHECK_EQ(PI(p), i);
    }
    settle();
    CHECK_EQ(put[2].rc, 0);
    CHECK(corio_queue_empty(q));
    for (i = 0; i < 3; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        corio_task_release(t[i]);
    }
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST_FIFO(queue_bounded_put_waits_and_putters_are_fair,
          "woken putters must put in the order they were woken")
{
    CHECK_EQ(run(bounded), 0);
}

static int getters_fair(void)
{
    corio_queue *q;
    struct op get[3];
    corio_task *t[3];
    int i;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_LIFO, 0, &q), 0);
    for (i = 0; i < 3; i++) {
        get[i] = (struct op){q, 'g', NULL, 0, 1, 0, 0, 0, NULL};
        t[i] = spawn_op(&get[i], 0);
        settle();
    }
    /* A put leaves the item in the queue, counted by size, and wakes the
     * first getter, which takes it when it runs (asyncio). */
    CHECK_EQ(corio_queue_put(q, IP(100)), 0);
    CHECK_EQ(corio_queue_size(q), 1);
    settle();
    CHECK(get[0].done && !get[1].done);
    CHECK(corio_queue_empty(q));
    CHECK_EQ(corio_queue_put(q, IP(101)), 0);
    settle();
    CHECK_EQ(corio_queue_put(q, IP(102)), 0);
    for (i = 0; i < 3; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        CHECK_EQ(get[i].rc, 0);
        CHECK_EQ(PI(get[i].item), 100 + i);
        corio_task_release(t[i]);
    }
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_getters_are_fair)
{
    CHECK_EQ(run(getters_fair), 0);
}

/* ---- try variants, outside a loop too -------------------------------------------------- */

static int use_prefilled(void *arg, void **result)
{
    corio_queue *q = arg;
    void *p;
    (void)result;
    CHECK_EQ(corio_queue_get(q, &p), 0);
    CHECK_EQ(PI(p), 7);
    CHECK_EQ(corio_queue_try_get(q, &p), -EAGAIN);
    return 0;
}

TEST(queue_try_variants)
{
    corio_queue *q;
    void *p = IP(-1);
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 1, &q), 0);
    CHECK_EQ(corio_queue_try_get(q, &p), -EAGAIN);
    CHECK_EQ(PI(p), -1); /* untouched on error */
    CHECK_EQ(corio_queue_try_put(q, IP(7)), 0);
    CHECK_EQ(corio_queue_try_put(q, IP(8)), -EAGAIN);
    CHECK_EQ(corio_queue_size(q), 1);
    /* The suspending calls need a task. */
    CHECK_EQ(corio_queue_put(q, IP(8)), CORIO_ENOTASK);
    CHECK_EQ(corio_queue_get(q, &p), CORIO_ENOTASK);
    CHECK_EQ(corio_queue_join(q), CORIO_ENOTASK);
    /* Filled before the loop, used inside it. */
    CHECK_EQ(corio_run(use_prefilled, q, NULL), 0);
    CHECK_EQ(corio_queue_free(q), 0);
}

/* ---- task_done and join -------------------------------------------------------------- */

static int done_join(void)
{
    corio_queue *q;
    struct op j1 = {0}, j2 = {0};
    corio_task *t1, *t2;
    void *p;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
    CHECK_EQ(corio_queue_join(q), 0); /* nothing unfinished */
    CHECK_EQ(corio_queue_task_done(q), -EINVAL);
    CHECK_EQ(corio_queue_put(q, IP(1)), 0);
    CHECK_EQ(corio_queue_put(q, IP(2)), 0);
    j1.q = j2.q = q;
    j1.kind = j2.kind = 'j';
    t1 = spawn_op(&j1, 0);
    t2 = spawn_op(&j2, CORIO_CORO_LEAN);
    settle();
    CHECK(!j1.done && !j2.done);
    CHECK_EQ(corio_queue_get(q, &p), 0);
    CHECK_EQ(corio_queue_get(q, &p), 0);
    settle();
    CHECK(!j1.done); /* got is not done */
    CHECK_EQ(corio_queue_task_done(q), 0);
    settle();
    CHECK(!j1.done);
    CHECK_EQ(corio_queue_task_done(q), 0);
    CHECK_EQ(corio_queue_task_done(q), -EINVAL); /* one too many */
    CHECK_EQ(corio_task_join(t1, NULL), 0);
    CHECK_EQ(corio_task_join(t2, NULL), 0);
    CHECK_EQ(j1.rc, 0);
    CHECK_EQ(j2.rc, 0);
    corio_task_release(t1);
    corio_task_release(t2);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_task_done_and_join)
{
    CHECK_EQ(run(done_join), 0);
}

/* ---- shutdown ----------------------------------------------------------------------------- */

static int shutdown_graceful(void)
{
    corio_queue *q, *e;
    struct op put = {0}, get = {0};
    corio_task *tp, *tg;
    void *p;
    /* A putter waits on a full queue, a getter on an empty one. */
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 2, &q), 0);
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &e), 0);
    CHECK_EQ(corio_queue_put(q, IP(1)), 0);
    CHECK_EQ(corio_queue_put(q, IP(2)), 0);
    put = (struct op){q, 'p', IP(3), 0, 1, 0, 0, 0, NULL};
    get = (struct op){e, 'g', NULL, 0, 1, 0, 0, 0, NULL};
    tp = spawn_op(&put, 0);
    tg = spawn_op(&get, 0);
    settle();
    CHECK_EQ(corio_queue_shutdown(q, 0), 0);
    CHECK_EQ(corio_queue_shutdown(e, 0), 0);
    CHECK(corio_queue_is_shutdown(q));
    CHECK_EQ(corio_task_join(tp, NULL), 0);
    CHECK_EQ(corio_task_join(tg, NULL), 0);
    CHECK_EQ(put.rc, -ESHUTDOWN); /* its item was not put */
    CHECK_EQ(get.rc, -ESHUTDOWN);
    CHECK_EQ(corio_queue_put(q, IP(4)), -ESHUTDOWN);
    CHECK_EQ(corio_queue_try_put(q, IP(4)), -ESHUTDOWN);
    /* What was queued still comes out, then -ESHUTDOWN. */
    CHECK_EQ(corio_queue_size(q), 2);
    CHECK_EQ(corio_queue_get(q, &p), 0);
    CHECK_EQ(PI(p), 1);
    CHECK_EQ(corio_queue_try_get(q, &p), 0);
    CHECK_EQ(PI(p), 2);
    CHECK_EQ(corio_queue_get(q, &p), -ESHUTDOWN);
    CHECK_EQ(corio_queue_try_get(q, &p), -ESHUTDOWN);
    CHECK_EQ(PI(p), 2);
    /* join still counts: two got, none done. */
    CHECK_EQ(corio_queue_task_done(q), 0);
    CHECK_EQ(corio_queue_task_done(q), 0);
    CHECK_EQ(corio_queue_task_done(q), -EINVAL);
    CHECK_EQ(corio_queue_join(q), 0);
    corio_task_release(tp);
    corio_task_release(tg);
    CHECK_EQ(corio_queue_free(q), 0);
    CHECK_EQ(corio_queue_free(e), 0);
    return 0;
}

TEST(queue_shutdown_graceful)
{
    CHECK_EQ(run(shutdown_graceful), 0);
}

static int shutdown_immediate(void)
{
    corio_queue *q, *e;
    struct op put[2], get[2], join = {0};
    corio_task *tp[2], *tg[2], *tj;
    void *p;
    int i;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_PRIORITY, 3, &q), 0);
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &e), 0);
    for (i = 0; i < 3; i++)
        CHECK_EQ(corio_queue_put_prio(q, i, IP(i)), 0);
    CHECK_EQ(corio_queue_get(q, &p), 0); /* one got, not yet done */
    CHECK_EQ(corio_queue_put_prio(q, 9, IP(9)), 0);
    join = (struct op){q, 'j', NULL, 0, 1, 0, 0, 0, NULL};
    tj = spawn_op(&join, 0);
    for (i = 0; i < 2; i++) {
        put[i] = (struct op){q, 'p', IP(20 + i), 0, 1, 0, 0, 0, NULL};
        get[i] = (struct op){e, 'g', NULL, 0, 1, 0, 0, 0, NULL};
        tp[i] = spawn_op(&put[i], CORIO_CORO_LEAN);
        tg[i] = spawn_op(&get[i], CORIO_CORO_LEAN);
    }
    settle();
    CHECK_EQ(corio_queue_size(q), 3);
    CHECK_EQ(corio_queue_shutdown(q, 1), 0);
    CHECK_EQ(corio_queue_shutdown(e, 1), 0);
    CHECK_EQ(corio_queue_size(q), 0); /* dropped */
    settle();
    for (i = 0; i < 2; i++) {
        CHECK_EQ(put[i].rc, -ESHUTDOWN);
        CHECK_EQ(get[i].rc, -ESHUTDOWN);
    }
    CHECK(!join.done); /* the one we got is still unfinished */
    CHECK_EQ(corio_queue_task_done(q), 0);
    CHECK_EQ(corio_task_join(tj, NULL), 0);
    CHECK_EQ(join.rc, 0);
    CHECK_EQ(corio_queue_task_done(q), -EINVAL); /* dropped ones counted */
    CHECK_EQ(corio_queue_get(q, &p), -ESHUTDOWN);
    for (i = 0; i < 2; i++) {
        corio_task_release(tp[i]);
        corio_task_release(tg[i]);
    }
    corio_task_release(tj);
    CHECK_EQ(corio_queue_free(q), 0);
    CHECK_EQ(corio_queue_free(e), 0);
    return 0;
}

TEST(queue_shutdown_immediate)
{
    CHECK_EQ(run(shutdown_immediate), 0);
}

/* Immediate shutdown ends a join when it drops the last unfinished items. */
static int shutdown_ends_join(void)
{
    corio_queue *q;
    struct op join = {0};
    corio_task *tj;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
    CHECK_EQ(corio_queue_put(q, IP(1)), 0);
    CHECK_EQ(corio_queue_put(q, IP(2)), 0);
    join = (struct op){q, 'j', NULL, 0, 1, 0, 0, 0, NULL};
    tj = spawn_op(&join, 0);
    settle();
    CHECK_EQ(corio_queue_shutdown(q, 0), 0);
    settle();
    CHECK(!join.done); /* graceful shutdown leaves join alone */
    CHECK_EQ(corio_queue_shutdown(q, 1), 0);
    CHECK_EQ(corio_task_join(tj, NULL), 0);
    CHECK_EQ(join.rc, 0);
    corio_task_release(tj);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_shutdown_immediate_ends_join)
{
    CHECK_EQ(run(shutdown_ends_join), 0);
}

/* ---- cancellation at each suspension point ------------------------------------------------ */

/* A getter cancelled while waiting takes nothing; the next item goes to
 * the next getter. */
static int cancel_getter_waiting(void)
{
    corio_queue *q;
    struct op g1 = {0}, g2 = {0};
    corio_task *t1, *t2;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
    g1 = (struct op){q, 'g', IP(-1), 0, 1, 0, 0, 0, NULL};
    g2 = (struct op){q, 'g', IP(-1), 0, 1, 0, 0, 0, NULL};
    t1 = spawn_op(&g1, 0);
    t2 = spawn_op(&g2, 0);
    settle();
    CHECK_EQ(corio_task_cancel(t1), 0);
    CHECK_EQ(corio_queue_put(q, IP(5)), 0);
    CHECK_EQ(corio_task_join(t1, NULL), 0);
    CHECK_EQ(corio_task_join(t2, NULL), 0);
    CHECK_EQ(g1.rc, -ECANCELED);
    CHECK_EQ(PI(g1.item), -1); /* untouched */
    CHECK_EQ(g2.rc, 0);
    CHECK_EQ(PI(g2.item), 5);
    CHECK(corio_queue_empty(q));
    corio_task_release(t1);
    corio_task_release(t2);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_cancel_getter_waiting)
{
    CHECK_EQ(run(cancel_getter_waiting), 0);
}

/* A getter woken by a put and cancelled before it runs returns
 * -ECANCELED and leaves the item in the queue, waking the next getter if
 * there is one (asyncio). Both by corio_task_cancel and by a scope, plain
 * and lean. */
struct scoped_get {
    corio_queue *q;
    corio_scope *sc;
    int rc, rc2, rc_close;
    void *item;
};

static int scoped_get_run(void *arg, void **result)
{
    struct scoped_get *s = arg;
    (void)result;
    CHECK_EQ(corio_scope_move_on_after(1000, &s->sc), 0);
    s->rc = corio_queue_get(s->q, &s->item);
    s->rc2 = corio_sleep(0);
    s->rc_close = corio_scope_close(s->sc, s->rc2);
    return 0;
}

static int cancel_getter_woken(void)
{
    corio_queue *q;
    struct op g = {0};
    struct scoped_get s = {0};
    corio_task *t, *ts;
    unsigned lean;
    void *p;
    for (lean = 0; lean < 2; lean++) {
        CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
        g = (struct op){q, 'g', NULL, 0, 1, 0, 1, 0, NULL};
        t = spawn_op(&g, lean ? CORIO_CORO_LEAN : 0);
        settle();
        CHECK_EQ(corio_queue_put(q, IP(7)), 0); /* queued, g woken */
        CHECK_EQ(corio_queue_put(q, IP(8)), 0);
        CHECK_EQ(corio_task_cancel(t), 0);      /* before it runs */
        CHECK_EQ(corio_task_join(t, NULL), 0);
        CHECK_EQ(g.rc, -ECANCELED);
        CHECK(g.item == NULL);
        /* The cancel still stands, but the second get need not wait:
         * it takes the first item, as asyncio's would (the cancel rule). */
        CHECK_EQ(g.rc2, 0);
        CHECK_EQ(PI(g.item2), 7);
        CHECK_EQ(corio_queue_size(q), 1);       /* nothing else taken */
        CHECK_EQ(corio_queue_try_get(q, &p), 0);
        CHECK_EQ(PI(p), 8);
        corio_task_release(t);

        /* Woken, cancelled before it runs, with a second getter waiting:
         * that one is woken in its place and gets the item. */
        {
            struct op g2 = {q, 'g', NULL, 0, 1, 0, 0, 0, NULL};
            corio_task *t2;
            g = (struct op){q, 'g', NULL, 0, 1, 0, 0, 0, NULL};
            t = spawn_op(&g, lean ? CORIO_CORO_LEAN : 0);
            settle();
            t2 = spawn_op(&g2, lean ? 0 : CORIO_CORO_LEAN);
            settle();
            CHECK_EQ(corio_queue_put(q, IP(5)), 0); /* wakes g only */
            CHECK_EQ(corio_task_cancel(t), 0);
            CHECK_EQ(corio_task_join(t2, NULL), 0);
            CHECK_EQ(g.rc, -ECANCELED);
            CHECK_EQ(g2.rc, 0);
            CHECK_EQ(PI(g2.item), 5);
            CHECK(corio_queue_empty(q));
            CHECK_EQ(corio_task_join(t, NULL), 0);
            corio_task_release(t);
            corio_task_release(t2);
        }

        /* The same through a cancel scope. */
        s = (struct scoped_get){q, NULL, 1, 1, 1, NULL};
        {
            corio_task_opts o = {0};
            o.flags = lean ? CORIO_CORO_LEAN : 0;
            CHECK_EQ(corio_spawn(scoped_get_run, &s, &o, &ts), 0);
        }
        settle();
        CHECK_EQ(corio_queue_put(q, IP(9)), 0);
        corio_scope_cancel(s.sc);
        CHECK_EQ(corio_task_join(ts, NULL), 0);
        CHECK_EQ(s.rc, -ECANCELED);
        CHECK(s.item == NULL);
        CHECK_EQ(s.rc2, -ECANCELED);
        CHECK_EQ(s.rc_close, 0); /* move_on absorbed it */
        CHECK_EQ(corio_queue_size(q), 1);
        CHECK_EQ(corio_queue_try_get(q, &p), 0);
        CHECK_EQ(PI(p), 9);
        corio_task_release(ts);
        CHECK_EQ(corio_queue_free(q), 0);
    }
    return 0;
}

TEST(queue_cancel_getter_woken_leaves_item)
{
    CHECK_EQ(run(cancel_getter_woken), 0);
}

/* A putter cancelled while waiting has not put its item. */
static int cancel_putter_waiting(void)
{
    corio_queue *q;
    struct op p1 = {0}, p2 = {0};
    corio_task *t1, *t2;
    void *p;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 1, &q), 0);
    CHECK_EQ(corio_queue_put(q, IP(1)), 0);
    p1 = (struct op){q, 'p', IP(2), 0, 1, 0, 0, 0, NULL};
    p2 = (struct op){q, 'p', IP(3), 0, 1, 0, 0, 0, NULL};
    t1 = spawn_op(&p1, 0);
    t2 = spawn_op(&p2, CORIO_CORO_LEAN);
    settle();
    CHECK_EQ(corio_task_cancel(t1), 0);
    CHECK_EQ(corio_task_join(t1, NULL), 0);
    CHECK_EQ(p1.rc, -ECANCELED);
    CHECK_EQ(corio_queue_get(q, &p), 0);
    CHECK_EQ(PI(p), 1);
    CHECK_EQ(corio_queue_get(q, &p), 0); /* 3 took the slot, not 2 */
    CHECK_EQ(PI(p), 3);
    CHECK_EQ(corio_task_join(t2, NULL), 0);
    CHECK_EQ(p2.rc, 0);
    CHECK(corio_queue_empty(q));
    CHECK_EQ(corio_queue_task_done(q), 0);
    CHECK_EQ(corio_queue_task_done(q), 0);
    CHECK_EQ(corio_queue_task_done(q), -EINVAL); /* 2 never counted */
    corio_task_release(t1);
    corio_task_release(t2);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_cancel_putter_waiting)
{
    CHECK_EQ(run(cancel_putter_waiting), 0);
}

/* A putter woken by a get and cancelled before it runs has not put: it
 * reports -ECANCELED and passes the free slot on to the next putter
 * (asyncio). */
static int cancel_putter_woken(void)
{
    corio_queue *q;
    struct op pu = {0}, pu2 = {0};
    corio_task *t, *t2;
    void *p;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_LIFO, 1, &q), 0);
    CHECK_EQ(corio_queue_put(q, IP(1)), 0);
    pu = (struct op){q, 'p', IP(2), 0, 1, 0, 0, 0, NULL};
    t = spawn_op(&pu, CORIO_CORO_LEAN);
    settle();
    pu2 = (struct op){q, 'p', IP(3), 0, 1, 0, 0, 0, NULL};
    t2 = spawn_op(&pu2, 0);
    settle();
    CHECK_EQ(corio_queue_try_get(q, &p), 0); /* wakes pu only */
    CHECK_EQ(PI(p), 1);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(pu.rc, -ECANCELED);
    CHECK_EQ(corio_task_join(t2, NULL), 0);
    CHECK_EQ(pu2.rc, 0);
    CHECK_EQ(corio_queue_size(q), 1);
    CHECK_EQ(corio_queue_get(q, &p), 0);
    CHECK_EQ(PI(p), 3);
    CHECK(corio_queue_empty(q));
    corio_task_release(t);
    corio_task_release(t2);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_cancel_putter_woken_passes_slot)
{
    CHECK_EQ(run(cancel_putter_woken), 0);
}

/* join: cancelled while waiting returns -ECANCELED and leaves the count;
 * another joiner still wakes. */
static int cancel_join(void)
{
    corio_queue *q;
    struct op j1 = {0}, j2 = {0};
    corio_task *t1, *t2;
    void *p;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
    CHECK_EQ(corio_queue_put(q, IP(1)), 0);
    j1 = (struct op){q, 'j', NULL, 0, 1, 0, 0, 0, NULL};
    j2 = (struct op){q, 'j', NULL, 0, 1, 0, 0, 0, NULL};
    t1 = spawn_op(&j1, 0);
    t2 = spawn_op(&j2, 0);
    settle();
    CHECK_EQ(corio_task_cancel(t1), 0);
    CHECK_EQ(corio_task_join(t1, NULL), 0);
    CHECK_EQ(j1.rc, -ECANCELED);
    CHECK(!j2.done);
    CHECK_EQ(corio_queue_get(q, &p), 0);
    CHECK_EQ(corio_queue_task_done(q), 0);
    CHECK_EQ(corio_task_cancel(t2), 0); /* woken, then cancelled: it happened */
    /* The join returned 0 (j2.rc); the task ends cancelled because its
     * request was never reported by a later suspension (asyncio alike). */
    CHECK_EQ(corio_task_join(t2, NULL), -ECANCELED);
    CHECK_EQ(j2.rc, 0);
    corio_task_release(t1);
    corio_task_release(t2);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_cancel_join)
{
    CHECK_EQ(run(cancel_join), 0);
}

/* A task with a cancel standing takes and gives only what needs no wait
 * (the cancel rule); what would wait fails and changes nothing. The try
 * calls ignore cancellation. */
static int cancelled_caller(void)
{
    corio_queue *q;
    corio_task *self = corio_task_current();
    void *p = IP(-1);
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 1, &q), 0);
    CHECK_EQ(corio_queue_put(q, IP(1)), 0);
    CHECK_EQ(corio_task_cancel(self), 0);
    CHECK_EQ(corio_queue_put(q, IP(2)), -ECANCELED); /* full: would wait */
    CHECK_EQ(corio_queue_join(q), -ECANCELED);       /* 1 unfinished */
    CHECK_EQ(corio_queue_size(q), 1);
    CHECK_EQ(corio_queue_get(q, &p), 0);             /* there: taken */
    CHECK_EQ(PI(p), 1);
    p = IP(-1);
    CHECK_EQ(corio_queue_get(q, &p), -ECANCELED);    /* empty: would wait */
    CHECK_EQ(PI(p), -1);
    CHECK_EQ(corio_queue_task_done(q), 0);
    CHECK_EQ(corio_queue_join(q), 0);                /* nothing unfinished */
    CHECK_EQ(corio_queue_put(q, IP(3)), 0);          /* room */
    CHECK_EQ(corio_queue_try_put(q, IP(4)), -EAGAIN);
    CHECK_EQ(corio_task_uncancel(self), 0);
    CHECK_EQ(corio_queue_get(q, &p), 0);
    CHECK_EQ(PI(p), 3);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_cancelled_caller_takes_nothing)
{
    CHECK_EQ(run(cancelled_caller), 0);
}

/* ---- the counting harness -------------------------------------------------------------------- */

#define H_PRODUCERS 4
#define H_CONSUMERS 4
#define H_PER_PRODUCER 1000
#define H_ITEMS (H_PRODUCERS * H_PER_PRODUCER)

struct harness {
    corio_queue *q;
    unsigned char put[H_ITEMS + 1];  /* times each id was put */
    unsigned char got[H_ITEMS + 1];  /* times each id was got */
    long nput, ngot, ncancel_put, ncancel_get, ntimeout, nleft_cancel;
    corio_task *workers[H_PRODUCERS + H_CONSUMERS];
    int stop;
};

struct worker {
    struct harness *h;
    int index;
};

static void absorb_cancel(void)
{
    corio_task *self = corio_task_current();
    while (corio_task_cancelling(self) > 0)
        corio_task_uncancel(self);
}

/* One put or get, sometimes under a short timeout. */
static int timed(struct harness *h, int is_put, intptr_t id, void **item)
{
    corio_scope *sc = NULL;
    int rc;
    if (corio_test_rand() % 4 == 0)
        /* 0 too: a timeout already expired when opened (a stray wakeup
         * is impossible since sleep(0) is a granted wait record). */
        CHECK_EQ(corio_scope_timeout((double)(corio_test_rand() % 200) * 1e-6,
                               &sc), 0);
    rc = is_put ? corio_queue_put_prio(h->q, (int64_t)(corio_test_rand() % 8),
                                       IP(id))
                : corio_queue_get(h->q, item);
    if (sc) {
        rc = corio_scope_close(sc, rc);
        if (rc == -ETIMEDOUT)
            h->ntimeout++;
    }
    return rc;
}

static int producer(void *arg, void **result)
{
    struct worker *w = arg;
    struct harness *h = w->h;
    intptr_t id = (intptr_t)w->index * H_PER_PRODUCER + 1;
    intptr_t end = id + H_PER_PRODUCER;
    int rc;
    (void)result;
    while (id < end) {
        rc = timed(h, 1, id, NULL);
        if (rc == 0) {
            h->put[id]++;
            h->nput++;
            id++;
        } else {
            CHECK(rc == -ECANCELED || rc == -ETIMEDOUT);
            h->ncancel_put++;
            absorb_cancel();
            if (corio_test_rand() % 2)
                id++; /* give this one up: it was never put */
        }
    }
    return 0;
}

static int consumer(void *arg, void **result)
{
    struct worker *w = arg;
    struct harness *h = w->h;
    void *p;
    int rc;
    (void)result;
    for (;;) {
        p = NULL;
        rc = timed(h, 0, 0, &p);
        if (rc == 0) {
            CHECK(PI(p) >= 1 && PI(p) <= H_ITEMS);
            h->got[PI(p)]++;
            h->ngot++;
            CHECK_EQ(corio_queue_task_done(h->q), 0);
        } else if (rc == -ESHUTDOWN) {
            return 0;
        } else {
            CHECK(rc == -ECANCELED || rc == -ETIMEDOUT);
            h->ncancel_get++;
            if (!corio_queue_empty(h->q))
                h->nleft_cancel++; /* cancelled, leaving items there */
        }
        absorb_cancel();
    }
}

/* Chaos: take and give through the try calls (which wake waiters), then
 * cancel someone at once, so "woken, then cancelled" happens often. */
static int chaos(void *arg, void **result)
{
    struct harness *h = arg;
    void *p;
    intptr_t id = H_ITEMS + 1; /* its own items are counted apart */
    (void)result;
    (void)id;
    while (!h->stop) {
        uint64_t r = corio_test_rand();
        if (r % 3 == 0 && corio_queue_try_get(h->q, &p) == 0) {
            h->got[PI(p)]++;
            h->ngot++;
            CHECK_EQ(corio_queue_task_done(h->q), 0);
        }
        if ((r >> 8) % 4 != 0)
            corio_task_cancel(h->workers[(r >> 16) %
                                         (H_PRODUCERS + H_CONSUMERS)]);
        if ((r >> 24) % 3 == 0)
            CHECK_EQ(corio_sleep(1e-5), 0);
        else
            CHECK_EQ(corio_sleep(0), 0);
    }
    return 0;
}

static int harness_main(void)
{
    static struct harness h;
    struct worker w[H_PRODUCERS + H_CONSUMERS];
    corio_task *tc;
    corio_task_opts lean = {0};
    corio_scope *sc;
    int i, join_rc;
    long put_ids = 0;
    lean.flags = CORIO_CORO_LEAN;
    memset(&h, 0, sizeof h);
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_PRIORITY, 3, &h.q), 0);
    for (i = 0; i < H_PRODUCERS + H_CONSUMERS; i++) {
        w[i].h = &h;
        w[i].index = i < H_PRODUCERS ? i : i - H_PRODUCERS;
        CHECK_EQ(corio_spawn(i < H_PRODUCERS ? producer : consumer, &w[i],
                             i % 2 ? &lean : NULL, &h.workers[i]), 0);
    }
    CHECK_EQ(corio_spawn(chaos, &h, NULL, &tc), 0);
    /* A producer the chaos cancels after its last put, with no suspension
     * left to report it, ends cancelled (asyncio's _must_cancel); its
     * items count all the same. */
    for (i = 0; i < H_PRODUCERS; i++) {
        int prc = corio_task_join(h.workers[i], NULL);
        CHECK(prc == 0 || prc == -ECANCELED);
    }
    /* Everything put gets taken and marked done (a lost item would make
     * this wait forever: bound it, and let the counts below say what went
     * wrong). */
    CHECK_EQ(corio_scope_timeout(20, &sc), 0);
    join_rc = corio_scope_close(sc, corio_queue_join(h.q));
    h.stop = 1;
    CHECK_EQ(corio_task_join(tc, NULL), 0);
    CHECK_EQ(corio_queue_shutdown(h.q, join_rc != 0), 0);
    for (i = H_PRODUCERS; i < H_PRODUCERS + H_CONSUMERS; i++)
        CHECK_EQ(corio_task_join(h.workers[i], NULL), 0);
    for (i = 0; i < H_PRODUCERS + H_CONSUMERS; i++)
        corio_task_release(h.workers[i]);
    corio_task_release(tc);
    for (i = 1; i <= H_ITEMS; i++) {
        CHECK(h.put[i] <= 1);
        if (h.put[i] != h.got[i])
            CHECK_EQ(h.got[i], h.put[i]); /* lost or duplicated */
        put_ids += h.put[i];
    }
    CHECK_EQ(h.nput, h.ngot);
    CHECK_EQ(put_ids, h.nput);
    CHECK_EQ(join_rc, 0);
    fprintf(stderr, "queue harness: put %ld got %ld, cancelled puts %ld "
            "gets %ld, timeouts %ld, gets cancelled with items left %ld\n",
            h.nput, h.ngot, h.ncancel_put, h.ncancel_get, h.ntimeout,
            h.nleft_cancel);
    /* The chaos must have bitten, or the test proves little. */
    CHECK(h.nput > H_ITEMS / 2);
    CHECK(h.ncancel_put > 10);
    CHECK(h.ncancel_get > 5);
    CHECK(h.nleft_cancel > 5);
    CHECK_EQ(corio_queue_free(h.q), 0);
    return 0;
}

TEST_FIFO(queue_cancel_harness_counts_match,
          "a worker must see each cancel before chaos can cancel it again")
{
    CHECK_EQ(run(harness_main), 0);
}

/* ---- misuse ----------------------------------------------------------------------------------- */

static int misuse(void)
{
    corio_queue *q;
    struct op g = {0};
    corio_task *t;
    void *p;
    CHECK_EQ(corio_queue_new(7, 0, &q), -EINVAL);
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, NULL), -EINVAL);
    CHECK_EQ(corio_queue_put(NULL, IP(1)), -EINVAL);
    CHECK_EQ(corio_queue_get(NULL, &p), -EINVAL);
    CHECK_EQ(corio_queue_try_get(NULL, &p), -EINVAL);
    CHECK_EQ(corio_queue_try_put(NULL, &p), -EINVAL);
    CHECK_EQ(corio_queue_task_done(NULL), -EINVAL);
    CHECK_EQ(corio_queue_join(NULL), -EINVAL);
    CHECK_EQ(corio_queue_shutdown(NULL, 0), -EINVAL);
    CHECK_EQ(corio_queue_free(NULL), 0);
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
    CHECK_EQ(corio_queue_get(q, NULL), -EINVAL);
    CHECK_EQ(corio_queue_try_get(q, NULL), -EINVAL);
    /* Busy while a task waits, and while a woken one has not run. */
    g = (struct op){q, 'g', NULL, 0, 1, 0, 0, 0, NULL};
    t = spawn_op(&g, 0);
    settle();
    CHECK_EQ(corio_queue_free(q), -EBUSY);
    CHECK_EQ(corio_queue_put(q, IP(4)), 0);
    CHECK_EQ(corio_queue_free(q), -EBUSY);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(PI(g.item), 4);
    corio_task_release(t);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_misuse)
{
    CHECK_EQ(run(misuse), 0);
}

/* Items left in a queue are dropped, not freed, by corio_queue_free, and
 * waiting on a queue nobody will fill is a deadlock corio_run reports. */
static int lonely_get(void)
{
    corio_queue *q;
    void *p;
    int rc;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
    rc = corio_queue_get(q, &p);
    /* Not reached before the loop gives up: corio_run returns first and
     * closes this task (its get then reports -ECANCELED). */
    CHECK_EQ(rc, -ECANCELED);
    CHECK_EQ(corio_queue_free(q), 0);
    return rc;
}

TEST(queue_deadlock_is_reported)
{
    int rc;
    char *err;
    corio_test_stderr_begin();
    rc = run(lonely_get);
    err = corio_test_stderr_end();
    CHECK_EQ(rc, -EDEADLK);
    CHECK_STR_HAS(err, "queue get");
    free(err);
}

/* A task that did corio_sleep(0) and then opened a timeout that expired at
 * once must still wait properly in get: its park must not be resumed by
 * anything but a put, a cancel or a shutdown. */
static int late_put(void *arg, void **result)
{
    (void)result;
    CHECK_EQ(corio_sleep(0.01), 0);
    return corio_queue_put(arg, IP(42));
}

static int sleep0_then_expired_timeout(void)
{
    corio_queue *q;
    corio_scope *sc;
    corio_task *t;
    void *p = NULL;
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
    CHECK_EQ(corio_spawn(late_put, q, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_scope_timeout(0, &sc), 0);
    CHECK_EQ(corio_scope_close(sc, corio_queue_get(q, &p)), -ETIMEDOUT);
    CHECK_EQ(corio_queue_get(q, &p), 0);
    CHECK_EQ(PI(p), 42);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(corio_queue_free(q), 0);
    return 0;
}

TEST(queue_get_after_sleep0_and_expired_timeout)
{
    CHECK_EQ(run(sleep0_then_expired_timeout), 0);
}
