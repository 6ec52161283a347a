/*
 * topic.c: publish/subscribe topics (corio/topic.h).
 *
 * Storage. Each subscriber owns a ring of `capacity` item pointers,
 * allocated at subscribe. Subscribers sit in a list on the topic so
 * leaving is O(1).
 *
 * Publishing. Publishers queue FIFO on the topic, each through its task's
 * wait record (wait.h), whose payload is the item while it waits. The
 * head publisher may be ACTIVE (tp->head_active): its item has gone to
 * every subscriber with room or a dropping policy, and each full BLOCK
 * subscriber carries `pending`; the topic counts them in `owed` and the
 * deliveries so far in head_delivered. Whoever makes room in a pending
 * subscriber (next) stores the active item there; whoever drops owed to 0
 * (next, unsubscribe) completes the active publish and starts the
 * following ones (start_next) before any of those tasks runs again. A
 * publish that finds the list empty delivers in its own call, and parks
 * only if owed > 0. However a publish ends (done, cancelled, closed), the
 * waker or the detach leaves its delivery count in the record's payload.
 *
 * Drops. Every item a publish hands to a subscriber (counted in its
 * `delivered`) leaves that subscriber exactly once: through next, or
 * through the subscriber's drop callback (evicted, refused by
 * DROP_NEWEST, or left in the ring at unsubscribe). `calling` counts
 * callbacks running; while it is set every call that changes the topic
 * returns -EBUSY, since a callback can run in the middle of a delivery
 * walk. A callback cancelling a waiting publisher would re-enter that
 * walk through detach: the header forbids it, an assert catches it.
 *
 * Subscribers waiting. At most one task waits in next per subscriber
 * (s->wt, set from its park until it returns; its record's obj is s). A
 * delivery into an empty buffer wakes it and the item stays in the
 * buffer: while that task has not run, s->wt stays set, so no other next
 * or unsubscribe can take it away, and drops never empty a buffer
 * (capacity >= 1).
 *
 * Cancellation: the transfer happens before the wake and the record says
 * GRANTED, so a cancel that comes later cannot undo it; a cancel that
 * comes first (detach) finds nothing transferred to the waiter. An active
 * publish cancelled keeps what it delivered and clears every pending
 * mark, so the remaining BLOCK subscribers never see the item.
 *
 * Invariants:
 *   - owed > 0  =>  the publisher list's head is active (outside the
 *     deliver of a publish that found the list empty);
 *   - s->pending  =>  s is BLOCK and full, and counted in owed;
 *   - s->wt set and its record PENDING  =>  s's buffer is empty and the
 *     topic is open;
 *   - inuse counts publishers between their park and their return plus
 *     subscribers with s->wt set; a topic with inuse > 0 belongs to
 *     t->loop's thread.
 * Limits: no locking; a publish walks every subscriber.
 */
#include "alloc.h"
#include "task/task_impl.h"

#include <corio/topic.h>
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* A publish's delivery count travels in its record's payload. */
#define COUNT_P(n) ((void *)(uintptr_t)(n))
#define P_COUNT(p) ((size_t)(uintptr_t)(p))

struct corio_topic_sub {       /* what a delivery reads comes first */
    corio__node node;           /* in tp->subs */
    void **ring;
    size_t cap, n, head;
    int policy;
    unsigned char pending;      /* owed the active publish's item */
    corio_task *wt;             /* the task in next, or NULL */
    size_t dropped, missed;     /* in all; since the last next */
    corio_topic_drop_fn drop_fn;
    void *drop_arg;
    corio_topic *topic;
};

struct corio_topic {
    corio__list subs;           /* corio_topic_sub.node */
    size_t nsubs;
    corio__list pubs;           /* waiting publishers' records */
    size_t head_delivered;      /* the active publish's deliveries */
    unsigned char head_active;  /* pubs' head is the active publish */
    size_t owed;
    size_t inuse;
    corio_loop *loop;
    unsigned calling;           /* drop callbacks running */
    int closed;
};

/* ---- rings -------------------------------------------------------------------- */

/* Indexes wrap by compare-and-subtract: head < cap and n <= cap, so one
 * subtraction is enough (a `%` here was a 64-bit division per item). */
static void ring_push(corio_topic_sub *s, void *item)
{
    size_t i = s->head + s->n;
    assert(s->n < s->cap && s->head < s->cap);
    if (i >= s->cap)
        i -= s->cap;
    s->ring[i] = item;
    s->n++;
}

static void *ring_take(corio_topic_sub *s)
{
    void *item;
    assert(s->n > 0 && s->head < s->cap);
    item = s->ring[s->head];
    if (++s->head == s->cap)
        s->head = 0;
    s->n--;
    return item;
}

/* A full ring: item replaces the oldest, which is returned. */
static void *ring_evict_push(corio_topic_sub *s, void *item)
{
    void *old;
    assert(s->n == s->cap && s->head < s->cap);
    old = s->ring[s->head];
    s->ring[s->head] = item; /* (head + n) % cap is head */
    if (++s->head == s->cap)
        s->head = 0;
    return old;
}

/* item leaves s other than through next. s is consistent before the call. */
static void drop(corio_topic *tp, corio_topic_sub *s, void *item)
{
    corio_topic_drop_fn fn = s->drop_fn;
    if (fn) {
        tp->calling++;
        fn(item, s->drop_arg);
        tp->calling--;
    }
}

/* ---- subscribers ---------------------------------------------------------------- */

static corio_topic_sub *sub_of(corio__node *n)
{
    return n ? CORIO__CONTAINER(n, corio_topic_sub, node) : NULL;
}

#define FOR_SUBS(s, tp) \
    for ((s) = sub_of((tp)->subs.first); (s); (s) = sub_of((s)->node.next))

/* ---- delivery ------------------------------------------------------------------- */

static void clear_pending(corio_topic *tp)
{
    corio_topic_sub *s;
    FOR_SUBS(s, tp)
        s->pending = 0;
    tp->owed = 0;
}

/* Give item to every subscriber now, adding to *delivered the ones it
 * reached (DROP_NEWEST refusals included: they hand it to their drop
 * callback at once); returns how many BLOCK subscribers are full and now
 * owed it (marked pending). */
static size_t deliver(corio_topic *tp, void *item, size_t *delivered)
{
    corio_topic_sub *s;
    size_t owed = 0, reached = 0;
    assert(tp->owed == 0);
    FOR_SUBS(s, tp) {
        assert(!s->pending);
        if (s->n < s->cap) {
            ring_push(s, item);
            reached++;
            if (s->wt && corio__task_parked(s->wt))
                corio__wait_wake(&s->wt->wait, 0, NULL);
        } else if (s->policy == CORIO_TOPIC_BLOCK) {
            s->pending = 1;
            owed++;
        } else if (s->policy == CORIO_TOPIC_DROP_NEWEST) {
            s->dropped++;
            reached++;
            drop(tp, s, item);
        } else {
            void *old = ring_evict_push(s, item);
            s->dropped++;
            s->missed++;
            reached++;
            drop(tp, s, old);
        }
    }
    *delivered += reached;
    tp->owed = owed;
    return owed;
}

/* Start the queued publishes in turn until one has to wait. */
static void start_next(corio_topic *tp)
{
    corio__wait *w;
    while ((w = corio__wait_first(&tp->pubs)) != NULL && !tp->closed) {
        assert(!tp->head_active && w->state == CORIO__WAIT_PENDING);
        tp->head_active = 1;
        tp->head_delivered = 0;
        if (deliver(tp, w->payload, &tp->head_delivered) > 0)
            return;
        corio__list_remove(&tp->pubs, &w->node);
        tp->head_active = 0;
        corio__wait_wake(w, 0, COUNT_P(tp->head_delivered));
    }
}

/* The active publish reached every subscriber it owed. */
static void finish_active(corio_topic *tp)
{
    corio__wait *w = corio__wait_first(&tp->pubs);
    assert(w && tp->head_active && tp->owed == 0);
    corio__list_remove(&tp->pubs, &w->node);
    tp->head_active = 0;
    corio__wait_wake(w, 0, COUNT_P(tp->head_delivered));
    start_next(tp);
}

/* s stops being owed the active item: it took it, or left. */
static void settle_pending(corio_topic *tp, corio_topic_sub *s)
{
    assert(s->pending && tp->owed > 0);
    s->pending = 0;
    if (--tp->owed == 0)
        finish_active(tp);
}

/* Take s's oldest item; a pending subscriber gets the active item in the
 * freed slot. */
static void *take(corio_topic_sub *s)
{
    corio_topic *tp = s->topic;
    void *item = ring_take(s);
    if (s->pending) {
        corio__wait *w = corio__wait_first(&tp->pubs);
        assert(w && tp->head_active);
        ring_push(s, w->payload);
        tp->head_delivered++;
        settle_pending(tp, s);
    }
    return item;
}

/* A cancel reached a waiting publisher: it leaves the list with what it
 * delivered so far (in its payload). */
static void detach_pub(corio__wait *w)
{
    corio_topic *tp = (corio_topic *)w->obj;
    int was_active = corio__wait_first(&tp->pubs) == w && tp->head_active;
    assert(!tp->calling); /* a drop callback may not cancel a publisher */
    corio__list_remove(&tp->pubs, &w->node);
    w->payload = COUNT_P(was_active ? tp->head_delivered : 0);
    if (was_active) {
        tp->head_active = 0;
        clear_pending(tp);
        start_next(tp);
    }
}

static void detach_sub(corio__wait *w)
{
    (void)w; /* s->wt stays set until the task runs */
}

static void describe_pub(const corio__wait *w, corio__wait_desc *d)
{
    const corio_topic *tp = (const corio_topic *)w->obj;
    corio__wait_descf(d, "topic publish on topic %p (%zu subscriber(s), "
                         "%zu owed the item)",
                      (const void *)tp, tp->nsubs, tp->owed);
}

static void describe_sub(const corio__wait *w, corio__wait_desc *d)
{
    const corio_topic_sub *s = (const corio_topic_sub *)w->obj;
    corio__wait_descf(d, "topic next on subscription %p of topic %p "
                         "(fill %zu/%zu)",
                      (const void *)s, (const void *)s->topic, s->n, s->cap);
}

static const corio__wait_ops pub_ops = {"topic publish", detach_pub, 0, 0,
                                        describe_pub};
static const corio__wait_ops sub_ops = {"topic next", detach_sub, 0, 0,
                                        describe_sub};

/* ---- checks --------------------------------------------------------------------- */

static int check_thread(const corio_topic *tp)
{
    if (tp->calling)
        return -EBUSY;
    if (tp->inuse && corio_loop_current() != tp->loop)
        return CORIO_EWRONGTHREAD;
    return 0;
}

static inline int enter(corio_topic *tp, corio_task **tp_out)
{
    corio_task *t = corio__task_running();
    if (!t)
        return CORIO_ENOTASK;
    if (tp->inuse && tp->loop != t->loop)
        return CORIO_EWRONGTHREAD;
    if (tp->calling)
        return -EBUSY;
    *tp_out = t; /* a cancel is looked at where the call would wait */
    return 0;
}

/* Would a publish by the running task have to wait: another publish
 * delivering or queued, or a BLOCK subscriber full? Asked only while a
 * cancel stands, so that publish can refuse before delivering to anyone. */
static int publish_would_wait(corio_topic *tp)
{
    corio_topic_sub *s;
    if (!corio__list_empty(&tp->pubs))
        return 1;
    FOR_SUBS(s, tp)
        if (s->n >= s->cap && s->policy == CORIO_TOPIC_BLOCK)
            return 1;
    return 0;
}

/* ---- the API -------------------------------------------------------------------- */

int corio_topic_new(corio_topic **out)
{
    corio_topic *tp;
    if (!out)
        return -EINVAL;
    if (!(tp = corio__calloc(1, sizeof *tp)))
        return -ENOMEM;
    *out = tp;
    return 0;
}

int corio_topic_free(corio_topic *tp)
{
    if (!tp)
        return 0;
    if (tp->nsubs || tp->inuse || tp->calling)
        return -EBUSY;
    corio__free(tp);
    return 0;
}

int corio_topic_subscribe(corio_topic *tp, size_t capacity, int policy,
                          corio_topic_sub **out)
{
    corio_topic_sub *s;
    int rc;
    if (!tp || !out || capacity == 0 || policy < CORIO_TOPIC_BLOCK ||
        policy > CORIO_TOPIC_LAG || capacity > SIZE_MAX / sizeof(void *))
        return -EINVAL;
    if ((rc = check_thread(tp)) != 0)
        return rc;
    if (tp->closed)
        return -ESHUTDOWN;
    if (!(s = corio__calloc(1, sizeof *s)))
        return -ENOMEM;
    if (!(s->ring = corio__malloc(capacity * sizeof *s->ring))) {
        corio__free(s);
        return -ENOMEM;
    }
    s->topic = tp;
    s->cap = capacity;
    s->policy = policy;
    corio__list_push_back(&tp->subs, &s->node);
    tp->nsubs++;
    *out = s;
    return 0;
}

int corio_topic_unsubscribe(corio_topic_sub *s)
{
    corio_topic *tp;
    int rc;
    if (!s)
        return -EINVAL;
    tp = s->topic;
    if (s->wt)
        return -EBUSY;
    if ((rc = check_thread(tp)) != 0)
        return rc;
    corio__list_remove(&tp->subs, &s->node);
    tp->nsubs--;
    if (s->pending)
        settle_pending(tp, s); /* s is off the list: finish_active skips it */
    while (s->n > 0) /* the topic is settled: only s's ring is left */
        drop(tp, s, ring_take(s));
    corio__free(s->ring);
    corio__free(s);
    return 0;
}

int corio_topic_sub_on_drop(corio_topic_sub *s, corio_topic_drop_fn fn,
                            void *arg)
{
    if (!s)
        return -EINVAL;
    s->drop_fn = fn;
    s->drop_arg = fn ? arg : NULL;
    return 0;
}

int corio_topic_publish(corio_topic *tp, void *item, size_t *delivered)
{
    corio_task *t = NULL;
    corio__wait *w;
    size_t now = 0;
    int rc, active = 0;
    if (delivered)
        *delivered = 0;
    if (!tp)
        return -EINVAL;
    if ((rc = enter(tp, &t)) != 0)
        return rc;
    if (tp->closed)
        return -ESHUTDOWN;
    if (corio__task_cancel_pending(t) && publish_would_wait(tp) &&
        corio__task_cancel_report(t))
        return -ECANCELED; /* nobody got it */
    tp->loop = t->loop;
    if (corio__list_empty(&tp->pubs)) {
        /* Our turn now: deliver from here; park only if we must wait
         * (nothing runs in between: callbacks cannot enter the topic). */
        if (deliver(tp, item, &now) == 0) {
            if (delivered)
                *delivered = now;
            return 0;
        }
        active = 1;
    }
    w = corio__wait_begin(t, &pub_ops, tp, 0);
    w->payload = item;
    corio__list_push_back(&tp->pubs, &w->node);
    if (active) {
        tp->head_active = 1;
        tp->head_delivered = now;
    }
    tp->inuse++;
    rc = corio__wait_park(w);
    tp->inuse--;
    if (delivered)
        *delivered = P_COUNT(w->payload);
    if (w->state == CORIO__WAIT_GRANTED) /* even if thrown into after */
        return w->value; /* 0: done; -ESHUTDOWN: closed */
    return rc ? rc : -ECANCELED;
}

int corio_topic_next(corio_topic_sub *s, void **item, size_t *missed)
{
    corio_topic *tp;
    corio_task *t = NULL;
    corio__wait *w;
    int rc;
    if (!s || !item)
        return -EINVAL;
    tp = s->topic;
    if ((rc = enter(tp, &t)) != 0)
        return rc;
    if (s->wt)
        return -EBUSY;
    if (s->n == 0) {
        if (tp->closed)
            return CORIO_END;
        if (corio__task_cancel_report(t))
            return -ECANCELED; /* it would have to wait */
        tp->loop = t->loop;
        tp->inuse++;
        s->wt = t;
        w = corio__wait_begin(t, &sub_ops, s, 0);
        rc = corio__wait_park(w);
        s->wt = NULL;
        tp->inuse--;
        if (w->state != CORIO__WAIT_GRANTED)
            return rc ? rc : -ECANCELED;
        if (w->value == CORIO_END) /* closed */
            return CORIO_END;
        assert(s->n > 0);
    }
    *item = take(s);
    if (missed)
        *missed = s->policy == CORIO_TOPIC_LAG ? s->missed : 0;
    s->missed = 0;
    return 0;
}

int corio_topic_close(corio_topic *tp)
{
    corio_topic_sub *s;
    corio__wait *w;
    int rc;
    if (!tp)
        return -EINVAL;
    if ((rc = check_thread(tp)) != 0)
        return rc;
    if (tp->closed)
        return 0;
    tp->closed = 1;
    clear_pending(tp);
    while ((w = corio__wait_pop(&tp->pubs)) != NULL) {
        size_t n = tp->head_active ? tp->head_delivered : 0;
        tp->head_active = 0; /* only the first can have been */
        corio__wait_wake(w, -ESHUTDOWN, COUNT_P(n));
    }
    FOR_SUBS(s, tp) {
        if (s->wt && corio__task_parked(s->wt)) {
            assert(s->n == 0);
            corio__wait_wake(&s->wt->wait, CORIO_END, NULL);
        }
    }
    return 0;
}

int corio_topic_is_closed(const corio_topic *tp)
{
    return tp && tp->closed;
}

size_t corio_topic_subscribers(const corio_topic *tp)
{
    return tp ? tp->nsubs : 0;
}

size_t corio_topic_sub_size(const corio_topic_sub *s)
{
    return s ? s->n : 0;
}

size_t corio_topic_sub_dropped(const corio_topic_sub *s)
{
    return s ? s->dropped : 0;
}
