/*
 * topic.c: publish/subscribe topics (corio/topic.h).
 *
 * Storage. Each subscriber owns a ring of `capacity` item pointers,
 * allocated at subscribe. Subscribers sit in a doubly linked list on the
 * topic so leaving is O(1).
 *
 * Publishing. Publishers queue FIFO on the topic, one wait record each
 * (struct pwait, from a per-topic pool: never on a task's stack). The head
 * record may be ACTIVE: its item has gone to every subscriber with room or
 * a dropping policy, and each full BLOCK subscriber carries `pending`; the
 * topic counts them in `owed`. Whoever makes room in a pending subscriber
 * (next) stores the active item there; whoever drops owed to 0 (next,
 * unsubscribe) completes the active publish and starts the following ones
 * (start_next) before any of those tasks runs again. A publish that finds
 * the list empty delivers in its own call with no record, and takes one
 * only if owed > 0; it makes sure of a spare record first, so a publish
 * that has delivered cannot then fail for memory.
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
 * Subscribers waiting. At most one task waits in next per subscriber; its
 * wait state lives in the subscriber (heap). A delivery into an empty
 * buffer wakes it SATISFIED and the item stays in the buffer: while that
 * task has not run, s->wt stays set, so no other next or unsubscribe can
 * take it away, and drops never empty a buffer (capacity >= 1).
 *
 * Cancellation follows the queue's rule: the transfer happens before the
 * wake and the state says SATISFIED, so a cancel that comes later cannot
 * undo it; a cancel that comes first (detach) finds nothing transferred to
 * the waiter. An active publish cancelled keeps what it delivered and
 * clears every pending mark, so the remaining BLOCK subscribers never see
 * the item.
 *
 * Invariants:
 *   - owed > 0  =>  the publisher list's head is active (outside the
 *     deliver of a publish that found the list empty);
 *   - s->pending  =>  s is BLOCK and full, and counted in owed;
 *   - s->wt set and state WAITING  =>  s's buffer is empty and the topic
 *     is open;
 *   - inuse counts publisher records out of the pool plus subscribers with
 *     s->wt set; a topic with inuse > 0 belongs to t->loop's thread.
 * Limits: no locking; a publish walks every subscriber.
 */
#include "../loop_impl.h"

#include <corio/topic.h>
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

enum { W_WAITING, W_SATISFIED, W_CANCELLED, W_SHUTDOWN };

struct pwait {
    struct pwait *next, *prev;  /* in the publisher list, or pool */
    struct pwait *all_next;     /* every record, for free */
    corio_topic *topic;
    corio_task *t;
    void *item;
    size_t delivered;
    unsigned char state;        /* W_* */
    unsigned char active;
};

struct corio_topic_sub {       /* what a delivery reads comes first */
    corio_topic_sub *next;
    void **ring;
    size_t cap, n, head;
    int policy;
    unsigned char pending;      /* owed the active publish's item */
    unsigned char wstate;       /* W_*, while wt is set */
    corio_task *wt;             /* the task in next, or NULL */
    size_t dropped, missed;     /* in all; since the last next */
    corio_topic_drop_fn drop_fn;
    void *drop_arg;
    corio_topic_sub *prev;
    corio_topic *topic;
};

struct corio_topic {
    corio_topic_sub *subs_head, *subs_tail;
    size_t nsubs;
    struct pwait *pub_head, *pub_tail;
    struct pwait *pool, *all;
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

/* ---- publisher records --------------------------------------------------------- */

/* Make sure the pool holds a record, so rec_get cannot fail. */
static int rec_reserve(corio_topic *tp)
{
    struct pwait *w;
    if (tp->pool)
        return 0;
    if (!(w = calloc(1, sizeof *w)))
        return -ENOMEM;
    w->topic = tp;
    w->all_next = tp->all;
    tp->all = w;
    tp->pool = w;
    return 0;
}

static struct pwait *rec_get(corio_topic *tp)
{
    struct pwait *w = tp->pool;
    assert(w);
    tp->pool = w->next;
    w->next = w->prev = NULL;
    w->delivered = 0;
    w->active = 0;
    w->state = W_WAITING;
    tp->inuse++;
    return w;
}

static void rec_put(corio_topic *tp, struct pwait *w)
{
    assert(tp->inuse > 0);
    tp->inuse--;
    w->t = NULL;
    w->item = NULL;
    w->prev = NULL;
    w->next = tp->pool;
    tp->pool = w;
}

static void pub_link(corio_topic *tp, struct pwait *w)
{
    w->next = NULL;
    w->prev = tp->pub_tail;
    if (tp->pub_tail)
        tp->pub_tail->next = w;
    else
        tp->pub_head = w;
    tp->pub_tail = w;
}

static void pub_unlink(corio_topic *tp, struct pwait *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        tp->pub_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        tp->pub_tail = w->prev;
    w->next = w->prev = NULL;
}

/* ---- delivery ------------------------------------------------------------------- */

static void clear_pending(corio_topic *tp)
{
    corio_topic_sub *s;
    for (s = tp->subs_head; s; s = s->next)
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
    for (s = tp->subs_head; s; s = s->next) {
        assert(!s->pending);
        if (s->n < s->cap) {
            ring_push(s, item);
            reached++;
            if (s->wt && s->wstate == W_WAITING) {
                s->wstate = W_SATISFIED;
                corio__task_wake(s->wt, 0);
            }
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
    struct pwait *w;
    while ((w = tp->pub_head) != NULL && !tp->closed) {
        assert(!w->active && w->state == W_WAITING);
        w->active = 1;
        if (deliver(tp, w->item, &w->delivered) > 0)
            return;
        pub_unlink(tp, w);
        w->state = W_SATISFIED;
        corio__task_wake(w->t, 0);
    }
}

/* The active publish reached every subscriber it owed. */
static void finish_active(corio_topic *tp)
{
    struct pwait *w = tp->pub_head;
    assert(w && w->active && w->state == W_WAITING && tp->owed == 0);
    pub_unlink(tp, w);
    w->state = W_SATISFIED;
    corio__task_wake(w->t, 0);
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
        struct pwait *w = tp->pub_head;
        assert(w && w->active);
        ring_push(s, w->item);
        w->delivered++;
        settle_pending(tp, s);
    }
    return item;
}

/* A publisher leaves the list unsatisfied (cancel, or the defensive path). */
static void abandon(struct pwait *w)
{
    corio_topic *tp = w->topic;
    int was_active = w->active;
    assert(!tp->calling); /* a drop callback may not cancel a publisher */
    pub_unlink(tp, w);
    w->state = W_CANCELLED;
    if (was_active) {
        clear_pending(tp);
        start_next(tp);
    }
}

static void detach_pub(corio_task *t)
{
    struct pwait *w = (struct pwait *)t->wait_obj;
    assert(w && w->t == t && w->state == W_WAITING);
    abandon(w);
}

static void detach_sub(corio_task *t)
{
    corio_topic_sub *s = (corio_topic_sub *)t->wait_obj;
    assert(s && s->wt == t && s->wstate == W_WAITING);
    s->wstate = W_CANCELLED;
}

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
    if (corio__task_cancel_report(t))
        return -ECANCELED;
    *tp_out = t;
    return 0;
}

/* ---- the API -------------------------------------------------------------------- */

int corio_topic_new(corio_topic **out)
{
    corio_topic *tp;
    if (!out)
        return -EINVAL;
    if (!(tp = calloc(1, sizeof *tp)))
        return -ENOMEM;
    *out = tp;
    return 0;
}

int corio_topic_free(corio_topic *tp)
{
    struct pwait *w, *next;
    if (!tp)
        return 0;
    if (tp->nsubs || tp->inuse || tp->calling)
        return -EBUSY;
    for (w = tp->all; w; w = next) {
        next = w->all_next;
        free(w);
    }
    free(tp);
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
    if (!(s = calloc(1, sizeof *s)))
        return -ENOMEM;
    if (!(s->ring = malloc(capacity * sizeof *s->ring))) {
        free(s);
        return -ENOMEM;
    }
    s->topic = tp;
    s->cap = capacity;
    s->policy = policy;
    s->prev = tp->subs_tail;
    if (tp->subs_tail)
        tp->subs_tail->next = s;
    else
        tp->subs_head = s;
    tp->subs_tail = s;
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
    if (s->prev)
        s->prev->next = s->next;
    else
        tp->subs_head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        tp->subs_tail = s->prev;
    tp->nsubs--;
    if (s->pending)
        settle_pending(tp, s); /* s is off the list: finish_active skips it */
    while (s->n > 0) /* the topic is settled: only s's ring is left */
        drop(tp, s, ring_take(s));
    free(s->ring);
    free(s);
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
    struct pwait *w;
    size_t now = 0;
    int rc;
    if (delivered)
        *delivered = 0;
    if (!tp)
        return -EINVAL;
    if ((rc = enter(tp, &t)) != 0)
        return rc;
    if (tp->closed)
        return -ESHUTDOWN;
    if ((rc = rec_reserve(tp)) != 0)
        return rc;
    tp->loop = t->loop;
    if (!tp->pub_head) {
        /* Our turn now: deliver from here; a record only if we must wait
         * (nothing runs in between: callbacks cannot enter the topic). */
        if (deliver(tp, item, &now) == 0) {
            if (delivered)
                *delivered = now;
            return 0;
        }
        w = rec_get(tp);
        w->active = 1;
        w->delivered = now;
    } else {
        w = rec_get(tp);
    }
    w->t = t;
    w->item = item;
    pub_link(tp, w);
    for (;;) {
        rc = corio__task_park(t, detach_pub, "topic publish", w);
        if (w->state != W_WAITING)
            break;
        /* Resumed still linked: nobody woke or detached us (a stray
         * ready entry). Keep waiting unless there is something to report. */
        if (rc == 0 && !corio__task_cancel_report(t))
            continue;
        abandon(w);
        break;
    }
    if (delivered)
        *delivered = w->delivered;
    if (w->state == W_SATISFIED)
        rc = 0; /* even if cancelled after the wake: it happened */
    else if (w->state == W_SHUTDOWN)
        rc = -ESHUTDOWN;
    else if (rc == 0)
        rc = -ECANCELED;
    rec_put(tp, w);
    return rc;
}

int corio_topic_next(corio_topic_sub *s, void **item, size_t *missed)
{
    corio_topic *tp;
    corio_task *t = NULL;
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
        tp->loop = t->loop;
        tp->inuse++;
        s->wt = t;
        s->wstate = W_WAITING;
        for (;;) {
            rc = corio__task_park(t, detach_sub, "topic next", s);
            if (s->wstate != W_WAITING)
                break;
            if (rc == 0 && !corio__task_cancel_report(t))
                continue;
            s->wstate = W_CANCELLED;
            break;
        }
        s->wt = NULL;
        tp->inuse--;
        if (s->wstate == W_SHUTDOWN)
            return CORIO_END;
        if (s->wstate != W_SATISFIED)
            return rc ? rc : -ECANCELED;
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
    struct pwait *w;
    int rc;
    if (!tp)
        return -EINVAL;
    if ((rc = check_thread(tp)) != 0)
        return rc;
    if (tp->closed)
        return 0;
    tp->closed = 1;
    clear_pending(tp);
    while ((w = tp->pub_head) != NULL) {
        pub_unlink(tp, w);
        w->state = W_SHUTDOWN;
        corio__task_wake(w->t, -ESHUTDOWN);
    }
    for (s = tp->subs_head; s; s = s->next) {
        if (s->wt && s->wstate == W_WAITING) {
            assert(s->n == 0);
            s->wstate = W_SHUTDOWN;
            corio__task_wake(s->wt, 0);
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
