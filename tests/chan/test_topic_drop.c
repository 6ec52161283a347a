/*
 * test_topic_drop.c: the drop callbacks of pub/sub topics: each item a
 * subscriber got is handed back once, through next or the callback, under
 * each policy and for items left at the end; never for subscribers an
 * item did not reach; re-entry from the callback refused; and a
 * reference-counting harness (the bias pattern).
 */

#include "test.h"
#include "run_body.h"
#include "topic_tasks.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>

/* ---- drop callbacks ----------------------------------------------------------------- */

/* What one subscriber's drop callback saw, in order. */
struct dlog {
    long item[16];
    int n;
};

static void dlog_add(void *item, void *arg)
{
    struct dlog *l = arg;
    CHECK_INT(l->n, <, 16);
    l->item[l->n++] = PI(item);
}

static void dlog_expect(const struct dlog *l, const long *want, int n)
{
    int i;
    CHECK_EQ(l->n, n);
    for (i = 0; i < n; i++)
        CHECK_EQ(l->item[i], want[i]);
}

#define DLOG_EXPECT(l, ...)                                                  \
    do {                                                                     \
        static const long want_[] = {__VA_ARGS__};                           \
        dlog_expect(l, want_, (int)(sizeof want_ / sizeof want_[0]));        \
    } while (0)

/* Each policy reports exactly the items its next will never return, at
 * the publish that drops them; leftovers go at unsubscribe, oldest first;
 * close and free drop nothing. */
static int drop_policies(void)
{
    struct dlog lo = {0}, ln = {0}, ll = {0}, lb = {0};
    corio_topic *t;
    corio_topic_sub *old, *newest, *lag, *blk;
    void *p;
    size_t d, m;
    int i;
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 2, CORIO_TOPIC_DROP_OLDEST, &old), 0);
    CHECK_EQ(corio_topic_subscribe(t, 2, CORIO_TOPIC_DROP_NEWEST, &newest),
             0);
    CHECK_EQ(corio_topic_subscribe(t, 2, CORIO_TOPIC_LAG, &lag), 0);
    CHECK_EQ(corio_topic_sub_on_drop(old, dlog_add, &lo), 0);
    CHECK_EQ(corio_topic_sub_on_drop(newest, dlog_add, &ln), 0);
    CHECK_EQ(corio_topic_sub_on_drop(lag, dlog_add, &ll), 0);
    CHECK_EQ(corio_topic_sub_on_drop(NULL, dlog_add, &ll), -EINVAL);
    for (i = 0; i < 6; i++) {
        CHECK_EQ(corio_topic_publish(t, IP(i), &d), 0);
        CHECK_EQ(d, 3); /* a DROP_NEWEST refusal counts: it was reached */
        CHECK_EQ(lo.n, i < 2 ? 0 : i - 1); /* reported by this publish */
        CHECK_EQ(ln.n, i < 2 ? 0 : i - 1);
        CHECK_EQ(ll.n, i < 2 ? 0 : i - 1);
    }
    DLOG_EXPECT(&lo, 0, 1, 2, 3);
    DLOG_EXPECT(&ll, 0, 1, 2, 3);
    DLOG_EXPECT(&ln, 2, 3, 4, 5);
    CHECK_EQ(corio_topic_sub_dropped(old), 4);
    CHECK_EQ(corio_topic_sub_dropped(newest), 4);
    CHECK_EQ(corio_topic_sub_dropped(lag), 4);

    /* what next returns is never reported */
    CHECK_EQ(corio_topic_next(old, &p, NULL), 0);
    CHECK_EQ(PI(p), 4);
    CHECK_EQ(corio_topic_next(newest, &p, NULL), 0);
    CHECK_EQ(PI(p), 0);
    CHECK_EQ(corio_topic_next(lag, &p, &m), 0);
    CHECK_EQ(PI(p), 4);
    CHECK_EQ(m, 4);
    CHECK_EQ(lo.n + ln.n + ll.n, 12);

    /* removed: drops still counted, not reported */
    CHECK_EQ(corio_topic_sub_on_drop(old, NULL, NULL), 0);
    CHECK_EQ(corio_topic_publish(t, IP(6), NULL), 0);
    CHECK_EQ(corio_topic_publish(t, IP(7), NULL), 0); /* evicts 5, refuses 7 */
    DLOG_EXPECT(&lo, 0, 1, 2, 3);
    DLOG_EXPECT(&ll, 0, 1, 2, 3, 5);
    DLOG_EXPECT(&ln, 2, 3, 4, 5, 7);
    CHECK_EQ(corio_topic_sub_dropped(old), 5);

    /* leftovers at unsubscribe, oldest first */
    CHECK_EQ(corio_topic_unsubscribe(newest), 0);
    DLOG_EXPECT(&ln, 2, 3, 4, 5, 7, 1, 6);
    CHECK_EQ(corio_topic_unsubscribe(old), 0);
    DLOG_EXPECT(&lo, 0, 1, 2, 3);
    CHECK_EQ(corio_topic_unsubscribe(lag), 0);
    DLOG_EXPECT(&ll, 0, 1, 2, 3, 5, 6, 7);

    /* a subscriber joining late hears nothing of the earlier items; close
     * keeps buffers to drain; free refuses while it remains */
    CHECK_EQ(corio_topic_subscribe(t, 3, CORIO_TOPIC_BLOCK, &blk), 0);
    CHECK_EQ(corio_topic_sub_on_drop(blk, dlog_add, &lb), 0);
    CHECK_EQ(corio_topic_publish(t, IP(8), &d), 0);
    CHECK_EQ(d, 1);
    CHECK_EQ(corio_topic_publish(t, IP(9), NULL), 0);
    CHECK_EQ(corio_topic_close(t), 0);
    CHECK_EQ(corio_topic_free(t), -EBUSY);
    CHECK_EQ(lb.n, 0);
    CHECK_EQ(corio_topic_next(blk, &p, NULL), 0);
    CHECK_EQ(PI(p), 8);
    CHECK_EQ(corio_topic_unsubscribe(blk), 0);
    DLOG_EXPECT(&lb, 9);
    CHECK_EQ(corio_topic_free(t), 0);
    return 0;
}

TEST(topic_drop_callback_each_policy_and_leftovers)
{
    CHECK_EQ(run(drop_policies), 0);
}

/* Subscribers a publish never reached (cancelled or closed while it
 * waited for them, or left while owed) never hear of its item. */
static int drop_unreached(void)
{
    struct dlog lf = {0}, lr = {0}, le = {0}, la = {0}, lb = {0};
    corio_topic *t;
    corio_topic_sub *full, *room, *ev, *a, *b;
    struct one pub, pub2;
    corio_task *tp, *tp2;
    void *p;
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_BLOCK, &full), 0);
    CHECK_EQ(corio_topic_subscribe(t, 2, CORIO_TOPIC_BLOCK, &room), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_DROP_OLDEST, &ev), 0);
    CHECK_EQ(corio_topic_sub_on_drop(full, dlog_add, &lf), 0);
    CHECK_EQ(corio_topic_sub_on_drop(room, dlog_add, &lr), 0);
    CHECK_EQ(corio_topic_sub_on_drop(ev, dlog_add, &le), 0);
    CHECK_EQ(corio_topic_publish(t, IP(0), NULL), 0);

    /* cancelled while waiting for full: room and ev got 1, full never */
    pub = (struct one){t, NULL, IP(1), 0, 0, 0};
    tp = spawn(one_pub, &pub, CORIO_CORO_LEAN);
    settle();
    CHECK(!pub.done);
    DLOG_EXPECT(&le, 0); /* evicted by 1's delivery */
    CHECK_EQ(corio_task_cancel(tp), 0);
    settle();
    CHECK_EQ(pub.rc, -ECANCELED);
    CHECK_EQ(pub.n, 2);
    join(tp);
    CHECK_EQ(lf.n + lr.n, 0);
    CHECK_EQ(corio_topic_next(full, &p, NULL), 0);
    CHECK_EQ(PI(p), 0);
    CHECK_EQ(corio_topic_sub_size(full), 0); /* 1 never came */
    CHECK_EQ(corio_topic_next(room, &p, NULL), 0);
    CHECK_EQ(corio_topic_next(room, &p, NULL), 0);
    CHECK_EQ(PI(p), 1);

    /* closed while waiting for full: same; the one queued got nowhere */
    CHECK_EQ(corio_topic_publish(t, IP(2), NULL), 0); /* ev evicts 1 */
    pub = (struct one){t, NULL, IP(3), 0, 0, 0};
    pub2 = (struct one){t, NULL, IP(4), 0, 0, 0};
    tp = spawn(one_pub, &pub, 0);
    tp2 = spawn(one_pub, &pub2, CORIO_CORO_LEAN);
    settle();
    CHECK(!pub.done && !pub2.done);
    DLOG_EXPECT(&le, 0, 1, 2);
    CHECK_EQ(corio_topic_close(t), 0);
    settle();
    CHECK_EQ(pub.rc, -ESHUTDOWN);
    CHECK_EQ(pub.n, 2);
    CHECK_EQ(pub2.rc, -ESHUTDOWN);
    CHECK_EQ(pub2.n, 0);
    join(tp);
    join(tp2);
    CHECK_EQ(lf.n + lr.n, 0);
    CHECK_EQ(corio_topic_unsubscribe(full), 0);
    CHECK_EQ(corio_topic_unsubscribe(room), 0);
    CHECK_EQ(corio_topic_unsubscribe(ev), 0);
    DLOG_EXPECT(&lf, 2);
    DLOG_EXPECT(&lr, 2, 3);
    DLOG_EXPECT(&le, 0, 1, 2, 3);
    CHECK_EQ(corio_topic_free(t), 0);

    /* a subscriber owed the item leaves: its leftovers go, not the item */
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_BLOCK, &a), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_BLOCK, &b), 0);
    CHECK_EQ(corio_topic_sub_on_drop(a, dlog_add, &la), 0);
    CHECK_EQ(corio_topic_sub_on_drop(b, dlog_add, &lb), 0);
    CHECK_EQ(corio_topic_publish(t, IP(10), NULL), 0);
    pub = (struct one){t, NULL, IP(11), 0, 0, 0};
    tp = spawn(one_pub, &pub, 0);
    settle();
    CHECK(!pub.done);
    CHECK_EQ(corio_topic_unsubscribe(a), 0);
    DLOG_EXPECT(&la, 10);
    settle();
    CHECK(!pub.done); /* still owed to b */
    CHECK_EQ(corio_topic_next(b, &p, NULL), 0);
    CHECK_EQ(PI(p), 10);
    settle();
    CHECK_EQ(pub.rc, 0);
    CHECK_EQ(pub.n, 1);
    join(tp);
    CHECK_EQ(corio_topic_unsubscribe(b), 0);
    DLOG_EXPECT(&lb, 11);
    DLOG_EXPECT(&la, 10);
    CHECK_EQ(corio_topic_free(t), 0);
    return 0;
}

TEST_FIFO(topic_drop_callback_never_for_unreached_subscribers,
          "blocked publishers must queue in spawn order")
{
    CHECK_EQ(run(drop_unreached), 0);
}

/* A drop callback calling back into its own topic gets -EBUSY (it may
 * run in the middle of a delivery); the queries and on_drop work, and so
 * does another topic. */
struct reenter {
    corio_topic *t, *other;
    corio_topic_sub *s, *peer;
    int calls;
};

static void reenter_drop(void *item, void *arg)
{
    struct reenter *r = arg;
    corio_topic_sub *s2 = NULL;
    void *p;
    (void)item;
    r->calls++;
    CHECK_EQ(corio_topic_publish(r->t, IP(99), NULL), -EBUSY);
    if (r->peer)
        CHECK_EQ(corio_topic_next(r->peer, &p, NULL), -EBUSY);
    if (r->peer)
        CHECK_EQ(corio_topic_unsubscribe(r->peer), -EBUSY);
    CHECK_EQ(corio_topic_subscribe(r->t, 1, CORIO_TOPIC_BLOCK, &s2), -EBUSY);
    CHECK(s2 == NULL);
    CHECK_EQ(corio_topic_close(r->t), -EBUSY);
    CHECK_EQ(corio_topic_free(r->t), -EBUSY);
    CHECK(!corio_topic_is_closed(r->t));
    CHECK_EQ(corio_topic_sub_on_drop(r->s, reenter_drop, r), 0);
    CHECK_EQ(corio_topic_close(r->other), 0);
}

static int drop_reenter(void)
{
    struct reenter r = {0};
    void *p;
    CHECK_EQ(corio_topic_new(&r.t), 0);
    CHECK_EQ(corio_topic_new(&r.other), 0);
    CHECK_EQ(corio_topic_subscribe(r.t, 1, CORIO_TOPIC_DROP_OLDEST, &r.s), 0);
    CHECK_EQ(corio_topic_subscribe(r.t, 2, CORIO_TOPIC_BLOCK, &r.peer), 0);
    CHECK_EQ(corio_topic_sub_on_drop(r.s, reenter_drop, &r), 0);
    CHECK_EQ(corio_topic_publish(r.t, IP(1), NULL), 0);
    CHECK_EQ(corio_topic_publish(r.t, IP(2), NULL), 0); /* evicts 1 */
    CHECK_EQ(r.calls, 1);
    CHECK_EQ(corio_topic_sub_size(r.s), 1);
    CHECK_EQ(corio_topic_sub_size(r.peer), 2);
    CHECK(corio_topic_is_closed(r.other));
    CHECK_EQ(corio_topic_next(r.peer, &p, NULL), 0);
    CHECK_EQ(corio_topic_next(r.peer, &p, NULL), 0);
    CHECK_EQ(corio_topic_unsubscribe(r.peer), 0);
    r.peer = NULL;
    /* the last subscriber's leftovers: the topic has no subscriber left,
     * yet it must not be freed from under the unsubscribe */
    CHECK_EQ(corio_topic_unsubscribe(r.s), 0);
    CHECK_EQ(r.calls, 2);
    CHECK_EQ(corio_topic_free(r.t), 0);
    CHECK_EQ(corio_topic_free(r.other), 0);
    return 0;
}

TEST(topic_drop_callback_reentry_is_refused)
{
    CHECK_EQ(run(drop_reenter), 0);
}

/* The reference-counting pattern of corio/topic.h under fire: publishers
 * (randomly cancelled) count each heap item with the bias, subscribers of
 * every policy (joining late, leaving early, randomly cancelled) release
 * after use and in their drop callback, and the topic closes mid-stream.
 * Every item is freed exactly once, never while in use, and each one is
 * handed back (next or drop) exactly as often as its publish delivered. */
#define RC_BIAS (SIZE_MAX / 2)
enum { RC_PUBS = 4, RC_SUBS = 24, RC_LIVE = 8 };

struct rc_item {
    struct rc_item *grave;      /* freed items, kept to check at the end */
    size_t refs, delivered, given;
    int freed;
};

struct rc_world {
    corio_topic *t;
    struct rc_item *grave;
    long allocs, frees, leftovers;
};

struct rc_sub {
    struct rc_world *w;
    corio_topic_sub *s;
    int policy;
    int leave_after;            /* items; -1: until the end */
    long taken, dropped;
    int rc;                     /* of subscribe */
};

struct rc_pub {
    struct rc_world *w;
    long published, cancelled, unreached, partial, closed_partial;
    int done;
};

static void rc_free(struct rc_world *w, struct rc_item *o)
{
    CHECK(!o->freed);
    o->freed = 1;
    o->grave = w->grave;
    w->grave = o;
    w->frees++;
}

static void rc_release(struct rc_world *w, struct rc_item *o)
{
    CHECK(!o->freed);
    CHECK(o->refs > 0);
    if (--o->refs == 0)
        rc_free(w, o);
}

static void rc_drop(void *item, void *arg)
{
    struct rc_sub *rs = arg;
    struct rc_item *o = item;
    CHECK(!o->freed);
    o->given++;
    rs->dropped++;
    rc_release(rs->w, o);
}

static int rc_pub_run(void *arg, void **result)
{
    struct rc_pub *rp = arg;
    struct rc_world *w = rp->w;
    size_t d;
    int rc = 0;
    (void)result;
    while (rc != -ESHUTDOWN) {
        struct rc_item *o = calloc(1, sizeof *o);
        CHECK(o != NULL);
        w->allocs++;
        o->refs = RC_BIAS;
        rc = corio_topic_publish(w->t, o, &d);
        CHECK(!o->freed); /* nobody can free it while we publish */
        o->delivered = d;
        o->refs = o->refs + d - RC_BIAS;
        if (o->refs == 0)
            rc_free(w, o);
        if (rc == 0) {
            rp->published++;
        } else if (rc == -ECANCELED) {
            rp->cancelled++;
            rp->unreached += d == 0;
            rp->partial += d > 0;
            CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
        } else {
            CHECK_EQ(rc, -ESHUTDOWN);
            rp->closed_partial += d > 0;
        }
        /* a publish that blocks nobody never suspends: let others run */
        if (corio_test_rand() % 2 && corio_sleep(0) == -ECANCELED)
            CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    }
    rp->done = 1;
    return 0;
}

static int rc_sub_run(void *arg, void **result)
{
    static const size_t caps[] = {1, 2, 3, 5};
    struct rc_sub *rs = arg;
    void *p;
    size_t left;
    int rc, i, k;
    (void)result;
    rs->rc = corio_topic_subscribe(rs->w->t,
                                   caps[corio_test_rand() % 4], rs->policy,
                                   &rs->s);
    if (rs->rc != 0) {
        CHECK_EQ(rs->rc, -ESHUTDOWN);
        return 0;
    }
    CHECK_EQ(corio_topic_sub_on_drop(rs->s, rc_drop, rs), 0);
    rc = 0;
    while (rs->leave_after < 0 || rs->taken < rs->leave_after) {
        rc = corio_topic_next(rs->s, &p, NULL);
        if (rc == -ECANCELED) {
            CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
            break; /* a cancelled subscriber leaves */
        }
        if (rc == CORIO_END)
            break;
        CHECK_EQ(rc, 0);
        {
            struct rc_item *o = p;
            CHECK(!o->freed);
            o->given++;
            rs->taken++;
            for (i = 0, k = (int)(corio_test_rand() % 3); i < k; i++) {
                if (corio_sleep(0) == -ECANCELED)
                    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
                CHECK(!o->freed); /* still ours */
            }
            rc_release(rs->w, o);
        }
    }
    /* leaving early: let the buffer fill up again first */
    for (i = 0; rc == 0 && i < 20 && corio_topic_sub_size(rs->s) == 0 &&
                !corio_topic_is_closed(rs->w->t); i++)
        if (corio_sleep(0) == -ECANCELED)
            CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    left = corio_topic_sub_size(rs->s);
    rs->w->leftovers += (long)left;
    CHECK_EQ(corio_topic_unsubscribe(rs->s), 0); /* leftovers dropped */
    return 0;
}

static int refcount_harness(void)
{
    struct rc_world w = {0};
    struct rc_pub rp[RC_PUBS];
    struct rc_sub rs[RC_SUBS];
    corio_task *tp[RC_PUBS], *ts[RC_SUBS];
    struct rc_item *o;
    long unreached = 0, partial = 0, cancelled = 0, drops = 0, n = 0;
    long closed_partial = 0;
    int i, nsubs = 0, live, iter, close_at;
    CHECK_EQ(corio_topic_new(&w.t), 0);
    for (i = 0; i < RC_PUBS; i++) {
        rp[i] = (struct rc_pub){&w, 0, 0, 0, 0, 0, 0};
        tp[i] = spawn(rc_pub_run, &rp[i], i % 2 ? CORIO_CORO_LEAN : 0);
    }
    close_at = 300 + (int)(corio_test_rand() % 300);
    for (iter = 0;; iter++) {
        CHECK_EQ(corio_sleep(0), 0);
        /* keep up to RC_LIVE subscribers, of every policy, some leaving */
        for (live = 0, i = 0; i < nsubs; i++)
            live += !corio_task_done(ts[i]);
        if (live < RC_LIVE && corio_test_rand() % 8 == 0)
            live = 0; /* one more */
        if (nsubs < RC_SUBS && live < RC_LIVE / 2) {
            int pol = nsubs < 4 ? nsubs : (int)(corio_test_rand() % 4);
            rs[nsubs] = (struct rc_sub){&w, NULL, pol, -1, 0, 0, 0};
            /* the first (BLOCK) stays to the end, so publishes wait; the
             * second leaves soon with items buffered */
            if (nsubs == 1)
                rs[nsubs].leave_after = 5;
            else if (nsubs > 1 && corio_test_rand() % 2)
                rs[nsubs].leave_after = (int)(corio_test_rand() % 100);
            ts[nsubs] = spawn(rc_sub_run, &rs[nsubs],
                              nsubs % 2 ? CORIO_CORO_LEAN : 0);
            nsubs++;
        }
        i = (int)(corio_test_rand() % RC_PUBS);
        if (!corio_task_done(tp[i]) && corio_test_rand() % 3 == 0)
            CHECK_EQ(corio_task_cancel(tp[i]), 0);
        i = (int)(corio_test_rand() % (unsigned)nsubs);
        if (i > 1 && !corio_task_done(ts[i]) && corio_test_rand() % 40 == 0)
            CHECK_EQ(corio_task_cancel(ts[i]), 0);
        if (iter == close_at)
            CHECK_EQ(corio_topic_close(w.t), 0); /* publishers mid-stream */
        for (live = 0, i = 0; i < RC_PUBS; i++)
            live += !corio_task_done(tp[i]);
        if (iter > close_at && !live)
            break;
    }
    for (i = 0; i < RC_PUBS; i++) {
        join_maybe_cancelled(tp[i]);
        CHECK(rp[i].done);
        unreached += rp[i].unreached;
        partial += rp[i].partial;
        cancelled += rp[i].cancelled;
        closed_partial += rp[i].closed_partial;
    }
    for (i = 0; i < nsubs; i++) {
        join_maybe_cancelled(ts[i]);
        drops += rs[i].dropped;
    }
    CHECK_EQ(corio_topic_subscribers(w.t), 0);
    CHECK_EQ(corio_topic_free(w.t), 0);

    /* every item freed once, handed back as often as delivered */
    CHECK_EQ(w.frees, w.allocs);
    while ((o = w.grave) != NULL) {
        w.grave = o->grave;
        CHECK(o->freed);
        CHECK_EQ(o->refs, 0);
        CHECK_EQ(o->given, o->delivered);
        free(o);
        n++;
    }
    CHECK_EQ(n, w.allocs);
    if (getenv("CORIO_TEST_VERBOSE"))
        printf("items %ld, cancelled %ld (%ld unreached, %ld partial), "
               "closed mid-publish %ld, drops %ld (%ld leftovers)\n",
               w.allocs, cancelled, unreached, partial, closed_partial, drops,
               w.leftovers);
    CHECK(cancelled > 0 && drops > 0 && w.leftovers > 0);
    return 0;
}

TEST_FIFO(topic_refcount_bias_pattern_harness,
          "a publisher must see each cancel before the test can cancel it again")
{
    CHECK_EQ(run(refcount_harness), 0);
}
