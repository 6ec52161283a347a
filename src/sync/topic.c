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
 * the list empty delivers in its own call and waits only if owed > 0.
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
 *   - owed > 0  =>  the publisher list's head is active;
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

struct corio_topic_sub {
    corio_topic_sub *next, *prev;
    corio_topic *topic;
    void **ring;
    size_t cap, n, head;
    size_t dropped, missed;     /* in all; since the last next */
    int policy;
    unsigned char pending;      /* owed the active publish's item */
    unsigned char wstate;       /* W_*, while wt is set */
    corio_task *wt;             /* the task in next, or NULL */
};

struct corio_topic {
    corio_topic_sub *subs_head, *subs_tail;
    size_t nsubs;
    struct pwait *pub_head, *pub_tail;
    struct pwait *pool, *all;
    size_t owed;
    size_t inuse;
    corio_loop *loop;
    int closed;
};

/* ---- rings -------------------------------------------------------------------- */

static void ring_push(corio_topic_sub *s, void *item)
{
    assert(s->n < s->cap);
    s->ring[(s->head + s->n) % s->cap] = item;
    s->n++;
}

static void *ring_take(corio_topic_sub *s)
{
    void *item;
    assert(s->n > 0);
    item = s->ring[s->head];
    s->head = (s->head + 1) % s->cap;
    s->n--;
    return item;
}

/* ---- publisher records --------------------------------------------------------- */

static struct pwait *rec_get(corio_topic *tp)
{
    struct pwait *w = tp->pool;
    if (w) {
        tp->pool = w->next;
    } else {
        w = calloc(1, sizeof *w);
        if (!w)
            return NULL;
        w->topic = tp;
        w->all_next = tp->all;
        tp->all = w;
    }
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

/* Give w's item to every subscriber now; returns how many BLOCK
 * subscribers are full and now owed it (marked pending). */
static size_t deliver(corio_topic *tp, struct pwait *w)
{
    corio_topic_sub *s;
    size_t owed = 0;
    assert(tp->owed == 0);
    for (s = tp->subs_head; s; s = s->next) {
        assert(!s->pending);
        if (s->n < s->cap) {
            ring_push(s, w->item);
            w->delivered++;
            if (s->wt && s->wstate == W_WAITING) {
                s->wstate = W_SATISFIED;
                corio__task_wake(s->wt, 0);
            }
        } else if (s->policy == CORIO_TOPIC_BLOCK) {
            s->pending = 1;
            owed++;
        } else if (s->policy == CORIO_TOPIC_DROP_NEWEST) {
            s->dropped++;
        } else {
            (void)ring_take(s);
            ring_push(s, w->item);
            s->dropped++;
            s->missed++;
            w->delivered++;
        }
    }
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
        if (deliver(tp, w) > 0)
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
    if (tp->inuse && corio_loop_current() != tp->loop)
        return CORIO_EWRONGTHREAD;
    return 0;
}

static int enter(corio_topic *tp, corio_task **tp_out)
{
    corio_task *t = corio__task_running();
    if (!t)
        return CORIO_ENOLOOP;
    if (tp->inuse && tp->loop != t->loop)
        return CORIO_EWRONGTHREAD;
    if (corio__task_cancel_pending(t))
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
    if (tp->nsubs || tp->inuse)
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
    free(s->ring);
    free(s);
    return 0;
}

int corio_topic_publish(corio_topic *tp, void *item, size_t *delivered)
{
    corio_task *t = NULL;
    struct pwait *w;
    int rc;
    if (delivered)
        *delivered = 0;
    if (!tp)
        return -EINVAL;
    if ((rc = enter(tp, &t)) != 0)
        return rc;
    if (tp->closed)
        return -ESHUTDOWN;
    if (!(w = rec_get(tp)))
        return -ENOMEM;
    tp->loop = t->loop;
    w->t = t;
    w->item = item;
    pub_link(tp, w);
    if (tp->pub_head == w) {
        w->active = 1;
        if (deliver(tp, w) == 0) {
            pub_unlink(tp, w);
            if (delivered)
                *delivered = w->delivered;
            rec_put(tp, w);
            return 0;
        }
    }
    for (;;) {
        rc = corio__task_park(t, detach_pub, "topic publish", w);
        if (w->state != W_WAITING)
            break;
        /* Resumed still linked: nobody woke or detached us (a stray
         * ready entry). Keep waiting unless there is something to report. */
        if (rc == 0 && !corio__task_cancel_pending(t))
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
            return CORIO_TOPIC_END;
        tp->loop = t->loop;
        tp->inuse++;
        s->wt = t;
        s->wstate = W_WAITING;
        for (;;) {
            rc = corio__task_park(t, detach_sub, "topic next", s);
            if (s->wstate != W_WAITING)
                break;
            if (rc == 0 && !corio__task_cancel_pending(t))
                continue;
            s->wstate = W_CANCELLED;
            break;
        }
        s->wt = NULL;
        tp->inuse--;
        if (s->wstate == W_SHUTDOWN)
            return CORIO_TOPIC_END;
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
