/*
 * queue.c: FIFO, LIFO and priority queues between tasks (corio/queue.h).
 *
 * Storage. FIFO and LIFO items sit in a ring of `void *` (LIFO pushes and
 * pops at the same end); priority items in a binary min-heap of (prio,
 * seq, item), seq breaking ties in put order. Both double when full, up to
 * maxsize, so a bounded queue never holds more than maxsize slots.
 *
 * Waiting is asyncio's. A task that must wait parks its own wait record
 * (wait.h) at the tail of the GET, PUT or JOIN list; nothing is handed
 * over through the record:
 *   - a put stores the item in the queue and wakes the first getter, if
 *     any; the item stays in the queue (qsize and full count it) until
 *     that getter runs and takes it, like any other caller could;
 *   - a get frees a slot and wakes the first putter, if any, which puts
 *     when it runs (and waits again if the queue is full by then);
 *   - the last task_done (or an immediate shutdown) ends every join;
 *   - shutdown wakes every getter and putter, which find it shut down.
 * A woken getter or putter loops: it retries its operation and parks
 * again, at the tail, if someone else got there first. (So a waiting
 * putter's item and priority stay in its own call's locals: only it
 * reads them, after it has resumed, which is safe on a lean stack;
 * nobody else touches a waiter but through its record.) A woken one whose
 * task has a cancel pending returns -ECANCELED and passes the wakeup on
 * to the next waiter of its list if what it was woken for is still there
 * (an item, a free slot), so a cancel never strands an item with a
 * getter waiting, nor a slot with a putter waiting (asyncio's
 * _wakeup_next in the except clause). A cancel that reaches a task still
 * parked just unlinks its record (detach). Nothing can be lost or
 * duplicated: items only ever move between a caller and the storage.
 *
 * Invariants:
 *   - a record is linked in one of the lists exactly while its task is
 *     parked there; inuse counts the tasks inside a suspending call that
 *     parked (from the park until they return);
 *   - a queue with inuse > 0 belongs to q->loop; only that loop's thread
 *     may change it.
 *
 * Limits: no locking; one loop's thread at a time.
 */
#include "alloc.h"
#include "task/task_impl.h"

#include <corio/queue.h>
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { L_GET, L_PUT, L_JOIN, L_COUNT };

struct pent {
    int64_t prio;
    uint64_t seq;
    void *item;
};

struct corio_queue {
    int kind;
    int shut;
    size_t maxsize;            /* 0: unbounded */
    size_t n;                  /* items queued */
    size_t cap;                /* slots allocated */
    size_t head;               /* ring: index of the oldest item */
    void **ring;               /* FIFO, LIFO */
    struct pent *heap;         /* PRIORITY */
    uint64_t seq;
    size_t unfinished;         /* put and not yet task_done */
    corio_loop *loop;          /* the loop of its waiters */
    corio__list lists[L_COUNT]; /* parked tasks' wait records */
    size_t inuse;              /* tasks between a park and their return */
};

/* The helpers on every put and get are forced inline: a call's prologue
 * and epilogue cost more than their work. */
#define INLINE static inline __attribute__((always_inline))

/* ---- storage ------------------------------------------------------------------ */

static int grow(corio_queue *q)
{
    size_t ncap = q->cap ? q->cap * 2 : 8, i;
    if (ncap < q->cap)
        return -ENOMEM;
    if (q->maxsize && ncap > q->maxsize)
        ncap = q->maxsize;
    assert(ncap > q->cap);
    if (q->kind == CORIO_QUEUE_PRIORITY) {
        struct pent *h;
        if (ncap > SIZE_MAX / sizeof *h)
            return -ENOMEM;
        h = corio__realloc(q->heap, ncap * sizeof *h);
        if (!h)
            return -ENOMEM;
        q->heap = h;
    } else {
        void **r;
        if (ncap > SIZE_MAX / sizeof *r)
            return -ENOMEM;
        r = corio__malloc(ncap * sizeof *r);
        if (!r)
            return -ENOMEM;
        for (i = 0; i < q->n; i++) /* unwrap: the oldest goes first */
            r[i] = q->ring[(q->head + i) % q->cap];
        corio__free(q->ring);
        q->ring = r;
        q->head = 0;
    }
    q->cap = ncap;
    return 0;
}

static int pent_less(const struct pent *a, const struct pent *b)
{
    return a->prio < b->prio || (a->prio == b->prio && a->seq < b->seq);
}

/* The ring's slot i places after the oldest item (i <= cap): a compare,
 * not a division (one costs tens of cycles on every put and get). */
static inline size_t ring_at(const corio_queue *q, size_t i)
{
    size_t at = q->head + i; /* head < cap, so at < 2 * cap */
    return at >= q->cap ? at - q->cap : at;
}

/* Store an item; 0 or -ENOMEM (nothing stored). The caller checked
 * maxsize. */
INLINE int
store(corio_queue *q, void *item, int64_t prio)
{
    int rc;
    assert(!q->maxsize || q->n < q->maxsize);
    if (q->n == q->cap && (rc = grow(q)) != 0)
        return rc;
    if (q->kind == CORIO_QUEUE_PRIORITY) {
        struct pent e = {prio, q->seq++, item};
        size_t i = q->n;
        while (i > 0 && pent_less(&e, &q->heap[(i - 1) / 2])) {
            q->heap[i] = q->heap[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        q->heap[i] = e;
    } else {
        q->ring[ring_at(q, q->n)] = item;
    }
    q->n++;
    return 0;
}

INLINE void *
take(corio_queue *q)
{
    void *item;
    assert(q->n > 0);
    q->n--;
    if (q->kind == CORIO_QUEUE_FIFO) {
        item = q->ring[q->head];
        q->head = ring_at(q, 1);
    } else if (q->kind == CORIO_QUEUE_LIFO) {
        item = q->ring[ring_at(q, q->n)];
    } else {
        struct pent last = q->heap[q->n];
        size_t i = 0, c;
        item = q->heap[0].item;
        while ((c = 2 * i + 1) < q->n) {
            if (c + 1 < q->n && pent_less(&q->heap[c + 1], &q->heap[c]))
                c++;
            if (!pent_less(&q->heap[c], &last))
                break;
            q->heap[i] = q->heap[c];
            i = c;
        }
        q->heap[i] = last;
    }
    return item;
}

/* ---- waiting ------------------------------------------------------------------------ */

static void detach_list(corio__wait *w, int which)
{
    corio__list_remove(&((corio_queue *)w->obj)->lists[which], &w->node);
}

static void detach_get(corio__wait *w)
{
    detach_list(w, L_GET);
}

static void detach_put(corio__wait *w)
{
    detach_list(w, L_PUT);
}

static void detach_join(corio__wait *w)
{
    detach_list(w, L_JOIN);
}

static const corio__wait_ops list_ops[L_COUNT];

static void describe_list(const corio__wait *w, corio__wait_desc *d)
{
    const corio_queue *q = (const corio_queue *)w->obj;
    corio__wait_descf(d, "%s on queue %p (fill %zu", w->ops->what,
                      (const void *)q, q->n);
    if (q->maxsize)
        corio__wait_descf(d, "/%zu", q->maxsize);
    if (w->ops == &list_ops[L_JOIN])
        corio__wait_descf(d, ", %zu unfinished", q->unfinished);
    corio__wait_descf(d, "%s)", q->shut ? ", shut down" : "");
}

static const corio__wait_ops list_ops[L_COUNT] = {
    {"queue get", detach_get, 0, 0, describe_list},
    {"queue put", detach_put, 0, 0, describe_list},
    {"queue join", detach_join, 0, 0, describe_list}};

/* Wake the first waiter of list `which`, if any. */
INLINE void
wake_first(corio_queue *q, int which)
{
    corio__wait *w = corio__wait_pop(&q->lists[which]);
    if (w)
        corio__wait_wake(w, 0, NULL);
}

static void wake_all(corio_queue *q, int which)
{
    corio__wait *w;
    while ((w = corio__wait_pop(&q->lists[which])) != NULL)
        corio__wait_wake(w, 0, NULL);
}

/* The wait itself, for a call that would have to wait: -ECANCELED at once
 * while a cancel stands (*wp untouched); else t parks at the tail of list
 * `which` and this returns what the park did, with *wp its record. */
INLINE int
park_in(corio_queue *q, corio_task *t, int which, corio__wait **wp)
{
    corio__wait *w;
    int rc;
    if (corio__task_cancel_now(t))
        return -ECANCELED;
    w = corio__wait_begin(t, &list_ops[which], q, 0);
    corio__list_push_back(&q->lists[which], &w->node);
    q->inuse++;
    rc = CORIO__WAIT_SWITCH(w); /* the park, inline (task_impl.h) */
    rc = CORIO__WAIT_PARKED(w, rc);
    q->inuse--;
    *wp = w;
    return rc;
}

/* Park t on list `which` until woken or cancelled. Returns 0 (woken:
 * retry), -ECANCELED (a cancel stands, so it does not wait; or cancelled,
 * before or after the wake: the wake, if any, has been passed on), or an
 * error. */
INLINE int
wait_on(corio_queue *q, corio_task *t, int which)
{
    corio__wait *w = NULL;
    int rc = park_in(q, t, which, &w);
    if (!w || w->state != CORIO__WAIT_GRANTED)
        return rc;
    if (rc == 0 && !corio__task_cancel_now(t))
        return 0;
    /* Woken, but it will not use what it was woken for: pass it on. */
    if (which == L_GET && q->n > 0)
        wake_first(q, L_GET);
    else if (which == L_PUT && !(q->maxsize && q->n >= q->maxsize))
        wake_first(q, L_PUT);
    return rc ? rc : -ECANCELED;
}

/* ---- checks -------------------------------------------------------------------------- */

/* Calls that may wake waiters must run on the waiters' loop. */
static int check_thread(const corio_queue *q)
{
    if (q->inuse && corio_loop_current() != q->loop)
        return CORIO_EWRONGTHREAD;
    return 0;
}

/* The common start of a suspending call: 0 with *tp set, or an error. A
 * cancel is looked at only where the call would have to wait. */
static int enter(corio_queue *q, corio_task **tp)
{
    corio_task *t = corio__task_running();
    if (!t)
        return CORIO_ENOTASK;
    if (q->inuse && q->loop != t->loop)
        return CORIO_EWRONGTHREAD;
    q->loop = t->loop;
    *tp = t;
    return 0;
}

/* ---- the non-suspending cores ------------------------------------------------------ */

/* 0 (stored, a getter woken), -EAGAIN (full), -ESHUTDOWN, -ENOMEM. */
INLINE int
put_now(corio_queue *q, int64_t prio, void *item)
{
    int rc;
    if (q->shut)
        return -ESHUTDOWN;
    if (q->maxsize && q->n >= q->maxsize)
        return -EAGAIN;
    if ((rc = store(q, item, prio)) != 0)
        return rc;
    q->unfinished++;
    wake_first(q, L_GET);
    return 0;
}

/* 0 with *item set (a putter woken), -EAGAIN (empty), -ESHUTDOWN (shut
 * down and empty). */
INLINE int
get_now(corio_queue *q, void **item)
{
    if (q->n == 0)
        return q->shut ? -ESHUTDOWN : -EAGAIN;
    *item = take(q);
    wake_first(q, L_PUT);
    return 0;
}

/* ---- the API ------------------------------------------------------------------------ */

int corio_queue_new(int kind, size_t maxsize, corio_queue **out)
{
    corio_queue *q;
    if (!out || (kind != CORIO_QUEUE_FIFO && kind != CORIO_QUEUE_LIFO &&
                 kind != CORIO_QUEUE_PRIORITY))
        return -EINVAL;
    q = corio__calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    q->kind = kind;
    q->maxsize = maxsize;
    *out = q;
    return 0;
}

int corio_queue_free(corio_queue *q)
{
    if (!q)
        return 0;
    if (q->inuse)
        return -EBUSY;
    corio__free(q->ring);
    corio__free(q->heap);
    corio__free(q);
    return 0;
}

int corio_queue_try_put_prio(corio_queue *q, int64_t prio, void *item)
{
    int rc;
    if (!q)
        return -EINVAL;
    if ((rc = check_thread(q)) != 0)
        return rc;
    return put_now(q, prio, item);
}

int corio_queue_try_put(corio_queue *q, void *item)
{
    return corio_queue_try_put_prio(q, 0, item);
}

int corio_queue_put_prio(corio_queue *q, int64_t prio, void *item)
{
    corio_task *t = NULL;
    int rc;
    if (!q)
        return -EINVAL;
    if ((rc = enter(q, &t)) != 0)
        return rc;
    while ((rc = put_now(q, prio, item)) == -EAGAIN)
        if ((rc = wait_on(q, t, L_PUT)) != 0)
            return rc;
    return rc;
}

int corio_queue_put(corio_queue *q, void *item)
{
    return corio_queue_put_prio(q, 0, item);
}

int corio_queue_try_get(corio_queue *q, void **item)
{
    int rc;
    if (!q || !item)
        return -EINVAL;
    if ((rc = check_thread(q)) != 0)
        return rc;
    return get_now(q, item);
}

int corio_queue_get(corio_queue *q, void **item)
{
    corio_task *t = NULL;
    int rc;
    if (!q || !item)
        return -EINVAL;
    if ((rc = enter(q, &t)) != 0)
        return rc;
    while ((rc = get_now(q, item)) == -EAGAIN)
        if ((rc = wait_on(q, t, L_GET)) != 0)
            return rc;
    return rc;
}

int corio_queue_task_done(corio_queue *q)
{
    int rc;
    if (!q || q->unfinished == 0)
        return -EINVAL;
    if ((rc = check_thread(q)) != 0)
        return rc;
    if (--q->unfinished == 0)
        wake_all(q, L_JOIN);
    return 0;
}

int corio_queue_join(corio_queue *q)
{
    corio_task *t = NULL;
    corio__wait *w = NULL;
    int rc;
    if (!q)
        return -EINVAL;
    if ((rc = enter(q, &t)) != 0)
        return rc;
    if (q->unfinished == 0)
        return 0;
    rc = park_in(q, t, L_JOIN, &w);
    /* Ended while we waited: that happened, whatever came after. */
    return w && w->state == CORIO__WAIT_GRANTED ? 0 : rc;
}

int corio_queue_shutdown(corio_queue *q, int immediate)
{
    int rc;
    if (!q)
        return -EINVAL;
    if ((rc = check_thread(q)) != 0)
        return rc;
    q->shut = 1;
    if (immediate && q->n) {
        while (q->n) {
            (void)take(q);
            if (q->unfinished)
                q->unfinished--;
        }
        if (q->unfinished == 0)
            wake_all(q, L_JOIN);
    }
    /* Woken, each retries and finds the queue shut down (a getter takes
     * what an orderly shutdown left, like any get). */
    wake_all(q, L_GET);
    wake_all(q, L_PUT);
    return 0;
}

int corio_queue_is_shutdown(const corio_queue *q)
{
    return q && q->shut;
}

size_t corio_queue_size(const corio_queue *q)
{
    return q ? q->n : 0;
}

int corio_queue_empty(const corio_queue *q)
{
    return !q || q->n == 0;
}

int corio_queue_full(const corio_queue *q)
{
    return q && q->maxsize && q->n >= q->maxsize;
}

size_t corio_queue_maxsize(const corio_queue *q)
{
    return q ? q->maxsize : 0;
}
