/*
 * test_topic.c: pub/sub topics: each overflow policy, fan-out to BLOCK
 * subscribers with a slow DROP_OLDEST and a LAG subscriber (exact
 * counts), joining and leaving while publishing, close draining buffers,
 * cancellation of next and of a blocked publish (every delivered item
 * counted once), lean tasks, misuse. Drop callbacks are in
 * test_topic_drop.c; the tasks both use in topic_tasks.h.
 */

#include "test.h"
#include "run_body.h"
#include "topic_tasks.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>

/* A consumer: takes items until the end, checks their order and counts. */
struct cons {
    corio_topic_sub *s;
    int policy;
    int slow;          /* sleep(0) this many times per item */
    long n, missed, last;
    int rc;
};

static int cons_run(void *arg, void **result)
{
    struct cons *c = arg;
    void *p;
    size_t m;
    int i;
    (void)result;
    c->last = -1;
    while ((c->rc = corio_topic_next(c->s, &p, &m)) == 0) {
        if (c->policy == CORIO_TOPIC_BLOCK)
            CHECK_EQ(PI(p), c->last + 1);
        else
            CHECK_INT(PI(p), >, c->last);
        if (c->policy == CORIO_TOPIC_LAG)
            CHECK_EQ((long)m, PI(p) - c->last - 1); /* exact gap */
        else
            CHECK_EQ(m, 0);
        c->missed += (long)m;
        c->last = PI(p);
        c->n++;
        for (i = 0; i < c->slow; i++)
            CHECK_EQ(corio_sleep(0), 0);
    }
    return 0;
}

/* ---- policies ---------------------------------------------------------------------- */

static int policies(void)
{
    corio_topic *t;
    corio_topic_sub *old, *newest, *lag;
    void *p;
    size_t m = 99, d;
    int i;
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 2, CORIO_TOPIC_DROP_OLDEST, &old), 0);
    CHECK_EQ(corio_topic_subscribe(t, 2, CORIO_TOPIC_DROP_NEWEST, &newest),
             0);
    CHECK_EQ(corio_topic_subscribe(t, 2, CORIO_TOPIC_LAG, &lag), 0);
    CHECK_EQ(corio_topic_subscribers(t), 3);
    for (i = 0; i < 5; i++) {
        CHECK_EQ(corio_topic_publish(t, IP(i), &d), 0);
        CHECK_EQ(d, 3); /* all reached: DROP_NEWEST refuses from 2 on */
    }
    CHECK_EQ(corio_topic_sub_dropped(old), 3);
    CHECK_EQ(corio_topic_sub_dropped(newest), 3);
    CHECK_EQ(corio_topic_sub_dropped(lag), 3);
    CHECK_EQ(corio_topic_sub_size(old), 2);

    CHECK_EQ(corio_topic_next(old, &p, &m), 0);
    CHECK_EQ(PI(p), 3);
    CHECK_EQ(m, 0);
    CHECK_EQ(corio_topic_next(old, &p, NULL), 0);
    CHECK_EQ(PI(p), 4);
    CHECK_EQ(corio_topic_next(newest, &p, &m), 0);
    CHECK_EQ(PI(p), 0);
    CHECK_EQ(corio_topic_next(newest, &p, &m), 0);
    CHECK_EQ(PI(p), 1);
    CHECK_EQ(corio_topic_next(lag, &p, &m), 0);
    CHECK_EQ(PI(p), 3);
    CHECK_EQ(m, 3);
    CHECK_EQ(corio_topic_publish(t, IP(5), NULL), 0);
    CHECK_EQ(corio_topic_publish(t, IP(6), NULL), 0); /* drops 4 */
    CHECK_EQ(corio_topic_next(lag, &p, &m), 0);
    CHECK_EQ(PI(p), 5);
    CHECK_EQ(m, 1);
    CHECK_EQ(corio_topic_next(lag, &p, &m), 0);
    CHECK_EQ(PI(p), 6);
    CHECK_EQ(m, 0);

    CHECK_EQ(corio_topic_close(t), 0);
    CHECK_EQ(corio_topic_close(t), 0);
    CHECK(corio_topic_is_closed(t));
    CHECK_EQ(corio_topic_next(old, &p, &m), 0); /* 5, 6 still buffered */
    CHECK_EQ(PI(p), 5);
    CHECK_EQ(corio_topic_next(old, &p, &m), 0);
    CHECK_EQ(PI(p), 6);
    CHECK_EQ(corio_topic_next(old, &p, &m), CORIO_END);
    CHECK_EQ(corio_topic_next(old, &p, &m), CORIO_END);
    CHECK_EQ(corio_topic_next(lag, &p, &m), CORIO_END);
    CHECK_EQ(corio_topic_free(t), -EBUSY);
    CHECK_EQ(corio_topic_unsubscribe(old), 0);
    CHECK_EQ(corio_topic_unsubscribe(newest), 0);
    CHECK_EQ(corio_topic_unsubscribe(lag), 0);
    CHECK_EQ(corio_topic_free(t), 0);
    return 0;
}

TEST(topic_policies)
{
    CHECK_EQ(run(policies), 0);
}

/* ---- fan-out ----------------------------------------------------------------------- */

#define FAN_N 3000

static int fanout(void)
{
    static const int pol[] = {CORIO_TOPIC_BLOCK, CORIO_TOPIC_BLOCK,
                              CORIO_TOPIC_BLOCK, CORIO_TOPIC_DROP_OLDEST,
                              CORIO_TOPIC_LAG, CORIO_TOPIC_DROP_NEWEST};
    static const size_t cap[] = {1, 4, 16, 3, 5, 2};
    enum { NS = 6 };
    struct cons c[NS];
    corio_task *tk[NS];
    corio_topic *t;
    size_t d, total = 0, dropped[NS];
    int i;
    CHECK_EQ(corio_topic_new(&t), 0);
    for (i = 0; i < NS; i++) {
        c[i] = (struct cons){0};
        c[i].policy = pol[i];
        c[i].slow = i >= 3 ? 3 : i; /* the dropping ones are slow */
        CHECK_EQ(corio_topic_subscribe(t, cap[i], pol[i], &c[i].s), 0);
        tk[i] = spawn(cons_run, &c[i], i % 2 ? CORIO_CORO_LEAN : 0);
    }
    for (i = 0; i < FAN_N; i++) {
        CHECK_EQ(corio_topic_publish(t, IP(i), &d), 0);
        total += d;
    }
    CHECK_EQ(corio_topic_close(t), 0);
    for (i = 0; i < NS; i++) {
        join(tk[i]);
        CHECK_EQ(c[i].rc, CORIO_END);
        /* every item reached the buffer and was taken or dropped */
        dropped[i] = corio_topic_sub_dropped(c[i].s);
        CHECK_EQ(c[i].n + (long)dropped[i], FAN_N);
        total -= (size_t)c[i].n;
        if (pol[i] == CORIO_TOPIC_BLOCK)
            CHECK_EQ(c[i].n, FAN_N);
        if (pol[i] != CORIO_TOPIC_DROP_NEWEST)
            CHECK_EQ(c[i].last, FAN_N - 1);
        if (pol[i] == CORIO_TOPIC_LAG)
            CHECK_EQ(c[i].missed, (long)dropped[i]);
        CHECK_EQ(corio_topic_unsubscribe(c[i].s), 0);
    }
    /* each delivery was taken or dropped (DROP_NEWEST refusals too) */
    CHECK_EQ(total, dropped[3] + dropped[4] + dropped[5]);
    CHECK(dropped[3] > 0); /* it was slow */
    CHECK_EQ(corio_topic_free(t), 0);
    return 0;
}

TEST(topic_fanout_block_slow_drop_and_lag_counts)
{
    CHECK_EQ(run(fanout), 0);
}

/* ---- join and leave ------------------------------------------------------------------ */

struct jl {
    corio_topic *t;
    int policy;
    int take;         /* leave after this many */
    int rc;
};

static int jl_run(void *arg, void **result)
{
    struct jl *j = arg;
    corio_topic_sub *s;
    long last = -1;
    void *p;
    size_t m;
    int k;
    (void)result;
    j->rc = corio_topic_subscribe(j->t, 1 + corio_test_rand() % 4, j->policy,
                                  &s);
    if (j->rc != 0)
        return 0; /* closed already */
    for (k = 0; k < j->take; k++) {
        if ((j->rc = corio_topic_next(s, &p, &m)) != 0)
            break;
        if (last >= 0 && j->policy == CORIO_TOPIC_BLOCK)
            CHECK_EQ(PI(p), last + 1); /* contiguous from joining on */
        if (last >= 0 && j->policy == CORIO_TOPIC_LAG)
            CHECK_EQ(PI(p), last + 1 + (long)m);
        CHECK_INT(PI(p), >, last);
        last = PI(p);
        if (corio_test_rand() % 3 == 0)
            CHECK_EQ(corio_sleep(0), 0);
    }
    CHECK_EQ(corio_topic_unsubscribe(s), 0);
    return 0;
}

static int join_leave(void)
{
    enum { NT = 60, N = 4000 };
    struct jl j[NT];
    corio_task *tk[NT];
    corio_topic *t;
    int i, spawned = 0;
    CHECK_EQ(corio_topic_new(&t), 0);
    for (i = 0; i < N; i++) {
        if (spawned < NT && i % (N / NT) == 0) {
            j[spawned] = (struct jl){t, (int)(corio_test_rand() % 4),
                                     (int)(corio_test_rand() % 200), 0};
            tk[spawned] = spawn(jl_run, &j[spawned],
                                spawned % 2 ? CORIO_CORO_LEAN : 0);
            spawned++;
        }
        /* BLOCK subscribers leaving must release a waiting publish */
        CHECK_EQ(corio_topic_publish(t, IP(i), NULL), 0);
    }
    CHECK_EQ(corio_topic_close(t), 0);
    for (i = 0; i < spawned; i++) {
        join(tk[i]);
        CHECK(j[i].rc == 0 || j[i].rc == CORIO_END ||
              j[i].rc == -ESHUTDOWN);
    }
    CHECK_EQ(corio_topic_subscribers(t), 0);
    CHECK_EQ(corio_topic_free(t), 0);
    return 0;
}

TEST(topic_join_leave_while_publishing)
{
    CHECK_EQ(run(join_leave), 0);
}

/* ---- close -------------------------------------------------------------------------- */

static int one_next(void *arg, void **result)
{
    struct one *o = arg;
    (void)result;
    o->rc = corio_topic_next(o->s, &o->item, &o->n);
    o->done = 1;
    return 0;
}

static int close_drains(void)
{
    corio_topic *t;
    corio_topic_sub *a, *b, *s2;
    struct one w = {0}, pub = {0}, pub2 = {0};
    corio_task *tw, *tp, *tp2;
    void *p;
    size_t d;
    int i;
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 3, CORIO_TOPIC_BLOCK, &a), 0);
    CHECK_EQ(corio_topic_subscribe(t, 3, CORIO_TOPIC_DROP_OLDEST, &b), 0);
    for (i = 0; i < 3; i++)
        CHECK_EQ(corio_topic_publish(t, IP(i), NULL), 0);
    /* a is full: the publish of 3 waits; one more queues behind it */
    pub = (struct one){t, NULL, IP(3), 0, 0, 0};
    pub2 = (struct one){t, NULL, IP(4), 7, 0, 0};
    tp = spawn(one_pub, &pub, 0);
    tp2 = spawn(one_pub, &pub2, CORIO_CORO_LEAN);
    settle();
    CHECK(!pub.done && !pub2.done);
    CHECK_EQ(corio_topic_sub_size(b), 3); /* b got 3 at once */
    CHECK_EQ(corio_topic_close(t), 0);
    settle();
    CHECK(pub.done && pub2.done);
    CHECK_EQ(pub.rc, -ESHUTDOWN);
    CHECK_EQ(pub.n, 1);     /* b took it, a never will */
    CHECK_EQ(pub2.rc, -ESHUTDOWN);
    CHECK_EQ(pub2.n, 0);    /* never had its turn */
    CHECK_EQ(corio_topic_publish(t, IP(9), &d), -ESHUTDOWN);
    CHECK_EQ(d, 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_BLOCK, &s2), -ESHUTDOWN);
    for (i = 0; i < 3; i++) {
        CHECK_EQ(corio_topic_next(a, &p, NULL), 0);
        CHECK_EQ(PI(p), i);
    }
    CHECK_EQ(corio_topic_next(a, &p, NULL), CORIO_END);
    for (i = 1; i < 4; i++) {
        CHECK_EQ(corio_topic_next(b, &p, NULL), 0);
        CHECK_EQ(PI(p), i);
    }
    CHECK_EQ(corio_topic_next(b, &p, NULL), CORIO_END);
    join(tp);
    join(tp2);
    CHECK_EQ(corio_topic_unsubscribe(a), 0);
    CHECK_EQ(corio_topic_unsubscribe(b), 0);
    CHECK_EQ(corio_topic_free(t), 0);

    /* a waiting next is ended by close */
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_LAG, &a), 0);
    w = (struct one){t, a, NULL, 0, 0, 0};
    tw = spawn(one_next, &w, CORIO_CORO_LEAN);
    settle();
    CHECK(!w.done);
    CHECK_EQ(corio_topic_close(t), 0);
    settle();
    CHECK(w.done);
    CHECK_EQ(w.rc, CORIO_END);
    join(tw);
    CHECK_EQ(corio_topic_unsubscribe(a), 0);
    CHECK_EQ(corio_topic_free(t), 0);
    return 0;
}

TEST_FIFO(topic_close_ends_loops_after_buffered_items,
          "blocked publishers must queue in spawn order")
{
    CHECK_EQ(run(close_drains), 0);
}

/* ---- cancellation of next ----------------------------------------------------------- */

static int cancel_next(void)
{
    corio_topic *t;
    corio_topic_sub *s;
    struct one w;
    corio_task *tw;
    void *p;
    unsigned lean;
    for (lean = 0; lean < 2; lean++) {
        CHECK_EQ(corio_topic_new(&t), 0);
        CHECK_EQ(corio_topic_subscribe(t, 2, CORIO_TOPIC_BLOCK, &s), 0);

        /* cancelled while waiting: took nothing */
        w = (struct one){t, s, IP(-1), 0, 0, 0};
        tw = spawn(one_next, &w, lean ? CORIO_CORO_LEAN : 0);
        settle();
        CHECK_EQ(corio_topic_unsubscribe(s), -EBUSY);
        CHECK_EQ(corio_topic_next(s, &p, NULL), -EBUSY);
        CHECK_EQ(corio_task_cancel(tw), 0);
        settle();
        CHECK(w.done);
        CHECK_EQ(w.rc, -ECANCELED);
        CHECK_EQ(PI(w.item), -1);
        join(tw);
        CHECK_EQ(corio_topic_publish(t, IP(1), NULL), 0);
        CHECK_EQ(corio_topic_sub_size(s), 1);
        CHECK_EQ(corio_topic_next(s, &p, NULL), 0);
        CHECK_EQ(PI(p), 1);

        /* woken with an item, cancelled before it runs: keeps the item */
        w = (struct one){t, s, NULL, 0, 0, 0};
        tw = spawn(one_next, &w, lean ? CORIO_CORO_LEAN : 0);
        settle();
        CHECK_EQ(corio_topic_publish(t, IP(2), NULL), 0);
        CHECK_EQ(corio_task_cancel(tw), 0);
        CHECK_EQ(corio_topic_unsubscribe(s), -EBUSY); /* woken, not run */
        settle();
        CHECK(w.done);
        CHECK_EQ(w.rc, 0);
        CHECK_EQ(PI(w.item), 2);
        CHECK_EQ(corio_topic_sub_size(s), 0);
        CHECK_EQ(corio_task_join(tw, NULL), -ECANCELED); /* shows later */
        corio_task_release(tw);
        CHECK_EQ(corio_topic_unsubscribe(s), 0);
        CHECK_EQ(corio_topic_free(t), 0);
    }
    return 0;
}

TEST(topic_cancel_next)
{
    CHECK_EQ(run(cancel_next), 0);
}

/* ---- cancellation of publish -------------------------------------------------------- */

static int cancel_publish(void)
{
    corio_topic *t;
    corio_topic_sub *full, *room, *drop;
    struct one pub, pub2;
    corio_task *tp, *tp2;
    void *p;
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_BLOCK, &full), 0);
    CHECK_EQ(corio_topic_publish(t, IP(0), NULL), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_BLOCK, &room), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_DROP_NEWEST, &drop), 0);

    /* active publish cancelled: room and drop keep 1; full never sees it;
     * the queued one behind it then has its turn. */
    pub = (struct one){t, NULL, IP(1), 0, 0, 0};
    pub2 = (struct one){t, NULL, IP(2), 0, 0, 0};
    tp = spawn(one_pub, &pub, CORIO_CORO_LEAN);
    tp2 = spawn(one_pub, &pub2, 0);
    settle();
    CHECK(!pub.done && !pub2.done);
    CHECK_EQ(corio_topic_free(t), -EBUSY);
    CHECK_EQ(corio_task_cancel(tp), 0);
    settle();
    CHECK(pub.done);
    CHECK_EQ(pub.rc, -ECANCELED);
    CHECK_EQ(pub.n, 2);
    join(tp);
    /* pub2 now delivers: room and drop are full, room blocks it */
    CHECK(!pub2.done);
    CHECK_EQ(corio_topic_next(full, &p, NULL), 0);
    CHECK_EQ(PI(p), 0);
    CHECK_EQ(corio_topic_next(room, &p, NULL), 0);
    CHECK_EQ(PI(p), 1);
    /* full and room got 2 as they made room; drop (holding 1) refused it */
    settle();
    CHECK(pub2.done);
    CHECK_EQ(pub2.rc, 0);
    CHECK_EQ(pub2.n, 3);
    join(tp2);
    CHECK_EQ(corio_topic_next(full, &p, NULL), 0);
    CHECK_EQ(PI(p), 2);
    CHECK_EQ(corio_topic_next(room, &p, NULL), 0);
    CHECK_EQ(PI(p), 2);
    CHECK_EQ(corio_topic_next(drop, &p, NULL), 0);
    CHECK_EQ(PI(p), 1);
    CHECK_EQ(corio_topic_sub_dropped(drop), 1);

    /* woken (room made) then cancelled before it runs: it happened */
    CHECK_EQ(corio_topic_publish(t, IP(3), NULL), 0);
    pub = (struct one){t, NULL, IP(4), 0, 0, 0};
    tp = spawn(one_pub, &pub, 0);
    settle();
    CHECK(!pub.done);
    CHECK_EQ(corio_topic_next(full, &p, NULL), 0);
    CHECK_EQ(PI(p), 3);
    CHECK_EQ(corio_topic_unsubscribe(room), 0); /* room was owed too */
    CHECK_EQ(corio_task_cancel(tp), 0);
    settle();
    CHECK(pub.done);
    CHECK_EQ(pub.rc, 0);
    CHECK_EQ(pub.n, 2); /* full; drop (DROP_NEWEST, holding 3) refused it */
    CHECK_EQ(corio_topic_sub_dropped(drop), 2);
    CHECK_EQ(corio_task_join(tp, NULL), -ECANCELED);
    corio_task_release(tp);

    /* a cancelled caller publishes nothing when the publish would wait
     * (full is BLOCK and full), and takes only what is there */
    CHECK_EQ(corio_task_cancel(corio_task_current()), 0);
    {
        size_t d = 9;
        CHECK_EQ(corio_topic_publish(t, IP(5), &d), -ECANCELED);
        CHECK_EQ(d, 0);
        CHECK_EQ(corio_topic_next(drop, &p, NULL), 0);
        CHECK_EQ(PI(p), 3);
        p = IP(-1);
        CHECK_EQ(corio_topic_next(drop, &p, NULL), -ECANCELED);
        CHECK_EQ(PI(p), -1);
    }
    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    CHECK_EQ(corio_topic_sub_size(full), 1);
    CHECK_EQ(corio_topic_unsubscribe(full), 0);
    CHECK_EQ(corio_topic_unsubscribe(drop), 0);
    CHECK_EQ(corio_topic_free(t), 0);
    return 0;
}

TEST_FIFO(topic_cancel_blocked_publish,
          "blocked publishers must queue in spawn order")
{
    CHECK_EQ(run(cancel_publish), 0);
}

/* Many publishers, randomly cancelled, to BLOCK subscribers: the sum of
 * what every publish reports delivered equals what the subscribers took,
 * and no subscriber sees an item twice. */
enum { H_PUBS = 8, H_PER = 300, H_SUBS = 4 };

struct hpub {
    corio_topic *t;
    int base;
    size_t delivered;
    int ok, cancelled;
};

static int hpub_run(void *arg, void **result)
{
    struct hpub *h = arg;
    size_t d;
    int i, rc;
    (void)result;
    for (i = 0; i < H_PER; i++) {
        rc = corio_topic_publish(h->t, IP(h->base + i), &d);
        h->delivered += d;
        if (rc == 0) {
            h->ok++;
        } else {
            CHECK_EQ(rc, -ECANCELED);
            h->cancelled++;
            CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
        }
    }
    return 0;
}

struct hsub {
    corio_topic_sub *s;
    unsigned char *seen;
    long n;
};

static int hsub_run(void *arg, void **result)
{
    struct hsub *h = arg;
    void *p;
    (void)result;
    while (corio_topic_next(h->s, &p, NULL) == 0) {
        CHECK(!h->seen[PI(p)]);
        h->seen[PI(p)] = 1;
        h->n++;
        if (corio_test_rand() % 2)
            CHECK_EQ(corio_sleep(0), 0);
    }
    return 0;
}

static int harness(void)
{
    static unsigned char seen[H_SUBS][H_PUBS * H_PER];
    struct hpub hp[H_PUBS];
    struct hsub hs[H_SUBS];
    corio_task *tp[H_PUBS], *ts[H_SUBS];
    corio_topic *t;
    size_t total = 0;
    long got = 0;
    int i, live, cancels = 0;
    CHECK_EQ(corio_topic_new(&t), 0);
    for (i = 0; i < H_SUBS; i++) {
        hs[i] = (struct hsub){NULL, seen[i], 0};
        CHECK_EQ(corio_topic_subscribe(t, 1 + (size_t)i, CORIO_TOPIC_BLOCK,
                                       &hs[i].s), 0);
        ts[i] = spawn(hsub_run, &hs[i], i % 2 ? CORIO_CORO_LEAN : 0);
    }
    for (i = 0; i < H_PUBS; i++) {
        hp[i] = (struct hpub){t, i * H_PER, 0, 0, 0};
        tp[i] = spawn(hpub_run, &hp[i], i % 2 ? CORIO_CORO_LEAN : 0);
    }
    do {
        CHECK_EQ(corio_sleep(0), 0);
        i = (int)(corio_test_rand() % H_PUBS);
        if (!corio_task_done(tp[i]) && corio_test_rand() % 2) {
            CHECK_EQ(corio_task_cancel(tp[i]), 0);
            cancels++;
        }
        for (live = 0, i = 0; i < H_PUBS; i++)
            live += !corio_task_done(tp[i]);
    } while (live);
    CHECK_EQ(corio_topic_close(t), 0);
    for (i = 0; i < H_PUBS; i++) {
        join_maybe_cancelled(tp[i]);
        CHECK_EQ(hp[i].ok + hp[i].cancelled, H_PER);
        total += hp[i].delivered;
    }
    for (i = 0; i < H_SUBS; i++) {
        join(ts[i]);
        got += hs[i].n;
        CHECK_EQ(corio_topic_unsubscribe(hs[i].s), 0);
    }
    CHECK_EQ((long)total, got);
    CHECK(cancels > 0);
    CHECK_EQ(corio_topic_free(t), 0);
    return 0;
}

TEST_FIFO(topic_cancel_harness_counts_match,
          "a publisher must see each cancel before the test can cancel it again")
{
    CHECK_EQ(run(harness), 0);
}

/* ---- misuse --------------------------------------------------------------------------- */

TEST(topic_misuse_outside_a_task)
{
    corio_topic *t;
    corio_topic_sub *s;
    void *p;
    size_t d = 5;
    CHECK_EQ(corio_topic_new(NULL), -EINVAL);
    CHECK_EQ(corio_topic_free(NULL), 0);
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(NULL, 1, CORIO_TOPIC_BLOCK, &s), -EINVAL);
    CHECK_EQ(corio_topic_subscribe(t, 0, CORIO_TOPIC_BLOCK, &s), -EINVAL);
    CHECK_EQ(corio_topic_subscribe(t, 1, 42, &s), -EINVAL);
    CHECK_EQ(corio_topic_subscribe(t, 1, -1, &s), -EINVAL);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_BLOCK, NULL), -EINVAL);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_BLOCK, &s), 0);
    CHECK_EQ(corio_topic_publish(NULL, NULL, &d), -EINVAL);
    CHECK_EQ(d, 0);
    CHECK_EQ(corio_topic_publish(t, NULL, NULL), CORIO_ENOTASK);
    CHECK_EQ(corio_topic_next(s, &p, NULL), CORIO_ENOTASK);
    CHECK_EQ(corio_topic_next(s, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_topic_next(NULL, &p, NULL), -EINVAL);
    CHECK_EQ(corio_topic_unsubscribe(NULL), -EINVAL);
    CHECK_EQ(corio_topic_close(NULL), -EINVAL);
    CHECK_EQ(corio_topic_free(t), -EBUSY);
    CHECK_EQ(corio_topic_subscribers(NULL), 0);
    CHECK_EQ(corio_topic_sub_size(NULL), 0);
    CHECK_EQ(corio_topic_is_closed(NULL), 0);
    CHECK_EQ(corio_topic_unsubscribe(s), 0);
    CHECK_EQ(corio_topic_free(t), 0);
}

/* Waiting on a topic nobody publishes to is a deadlock corio_run reports
 * (and the wait ends with -ECANCELED). */
static int lonely_next(void)
{
    corio_topic *t;
    corio_topic_sub *s;
    void *p;
    int rc;
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_BLOCK, &s), 0);
    rc = corio_topic_next(s, &p, NULL);
    CHECK_EQ(rc, -ECANCELED);
    CHECK_EQ(corio_topic_unsubscribe(s), 0);
    CHECK_EQ(corio_topic_free(t), 0);
    return rc;
}

TEST(topic_deadlock_is_reported)
{
    int rc;
    char *err;
    corio_test_stderr_begin();
    rc = run(lonely_next);
    err = corio_test_stderr_end();
    CHECK(rc != 0);
    CHECK_STR_HAS(err, "topic next");
    free(err);
}
