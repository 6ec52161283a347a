/*
 * queue.c: FIFO, LIFO and priority queues between tasks (corio/queue.h).
 *
 * Storage. FIFO and LIFO items sit in a ring of `void *` (LIFO pushes and
 * pops at the same end); priority items in a binary min-heap of (prio,
 * seq, item), seq breaking ties in put order. Both double when full, up to
 * maxsize, so a bounded queue never holds more than maxsize slots.
 *
 * Waiting. A task that must wait takes a wait record (struct qwait) from
 * the queue's pool, links it at the tail of the GET, PUT or JOIN list and
 * parks with the record as t->wait_obj. Records live on the heap, never on
 * the task's stack (lean tasks copy theirs away), and are recycled: steady
 * state allocates nothing. Whoever satisfies a wait does the whole
 * transfer before waking the task:
 *   - put with a getter waiting stores the item in the getter's record;
 *   - get from a full queue moves the first putter's item into the slot;
 *   - the last task_done (or an immediate shutdown) ends every join;
 *   - shutdown wakes putters and getters with -ESHUTDOWN.
 * The record is unlinked and marked SATISFIED in the same step, so a
 * cancel arriving later finds the task no longer parked (t->detach is
 * NULL) and cannot undo it; a cancel arriving first unlinks the record
 * (detach) and marks it CANCELLED, and nothing was transferred. That is
 * the whole "never lose or duplicate an item" argument.
 *
 * Invariants:
 *   - getters wait  =>  the queue is empty;
 *   - putters wait  =>  maxsize > 0 and the queue holds maxsize items;
 *   - a record is in the pool, or linked in exactly one list (WAITING), or
 *     held by a woken task that has not run yet (inuse counts the last
 *     two);
 *   - a queue with records in use belongs to q->loop; only that loop's
 *     thread may change it.
 *
 * Limits: no locking; one loop's thread at a time.
 */
#include "../loop_impl.h"

#include <corio/queue.h>
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { L_GET, L_PUT, L_JOIN, L_COUNT };
enum { W_WAITING, W_SATISFIED, W_CANCELLED, W_SHUTDOWN };

struct qwait {
    struct qwait *next, *prev; /* in a list, or next in the pool */
    struct qwait *all_next;    /* every record of the queue, for free */
    corio_queue *q;
    corio_task *t;
    void *item;                /* the putter's item, or the getter's */
    int64_t prio;
    unsigned char list;        /* L_* */
    unsigned char state;       /* W_* */
};

struct wlist {
    struct qwait *head, *tail;
};

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
    struct wlist lists[L_COUNT];
    struct qwait *pool, *all;
    size_t inuse;              /* records out of the pool */
};

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
        h = realloc(q->heap, ncap * sizeof *h);
        if (!h)
            return -ENOMEM;
        q->heap = h;
    } else {
        void **r;
        if (ncap > SIZE_MAX / sizeof *r)
            return -ENOMEM;
        r = malloc(ncap * sizeof *r);
        if (!r)
            return -ENOMEM;
        for (i = 0; i < q->n; i++) /* unwrap: the oldest goes first */
            r[i] = q->ring[(q->head + i) % q->cap];
        free(q->ring);
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

/* Store an item; 0 or -ENOMEM (nothing stored). The caller checked
 * maxsize. */
static int store(corio_queue *q, void *item, int64_t prio)
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
        q->ring[(q->head + q->n) % q->cap] = item;
    }
    q->n++;
    return 0;
}

static void *take(corio_queue *q)
{
    void *item;
    assert(q->n > 0);
    q->n--;
    if (q->kind == CORIO_QUEUE_FIFO) {
        item = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
    } else if (q->kind == CORIO_QUEUE_LIFO) {
        item = q->ring[(q->head + q->n) % q->cap];
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

/* ---- wait records ----------------------------------------------------------------- */

static struct qwait *rec_get(corio_queue *q)
{
    struct qwait *w = q->pool;
    if (w) {
        q->pool = w->next;
    } else {
        w = calloc(1, sizeof *w);
        if (!w)
            return NULL;
        w->q = q;
        w->all_next = q->all;
        q->all = w;
    }
    q->inuse++;
    return w;
}

static void rec_put(corio_queue *q, struct qwait *w)
{
    assert(q->inuse > 0);
    q->inuse--;
    w->t = NULL;
    w->item = NULL;
    w->prev = NULL;
    w->next = q->pool;
    q->pool = w;
}

static void unlink_rec(corio_queue *q, struct qwait *w)
{
    struct wlist *l = &q->lists[w->list];
    if (w->prev)
        w->prev->next = w->next;
    else
        l->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        l->tail = w->prev;
    w->next = w->prev = NULL;
}

/* Unlink the first waiter of list `which`, mark it `state`, wake it. */
static struct qwait *wake_first(corio_queue *q, int which, int state,
                                int err)
{
    struct qwait *w = q->lists[which].head;
    assert(w && w->state == W_WAITING);
    unlink_rec(q, w);
    w->state = (unsigned char)state;
    corio__task_wake(w->t, err);
    return w;
}

static void wake_all(corio_queue *q, int which, int state, int err)
{
    while (q->lists[which].head)
        wake_first(q, which, state, err);
}

/* A cancel reached a parked task: it took or gave nothing. */
static void detach_queue(corio_task *t)
{
    struct qwait *w = (struct qwait *)t->wait_obj;
    assert(w && w->t == t && w->state == W_WAITING);
    unlink_rec(w->q, w);
    w->state = W_CANCELLED;
}

static const char *const wait_what[L_COUNT] = {"queue get", "queue put",
                                               "queue join"};

/* Park t on list `which` with w; returns what to report: 0 when the wait
 * was satisfied (whatever happened after), else its error. w stays the
 * caller's to read and put back. */
static int wait_on(corio_queue *q, corio_task *t, struct qwait *w, int which)
{
    struct wlist *l = &q->lists[which];
    int rc;
    w->t = t;
    w->list = (unsigned char)which;
    w->state = W_WAITING;
    w->next = NULL;
    w->prev = l->tail;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
    for (;;) {
        rc = corio__task_park(t, detach_queue, wait_what[which], w);
        if (w->state != W_WAITING)
            break;
        /* Resumed with the record still linked: nobody woke or detached
         * us (a stray ready entry; see the report on corio_sleep(0)'s
         * stale t->detach). Defensive: keep waiting unless there is an
         * error or a cancel to report. */
        if (rc == 0 && !corio__task_cancel_report(t))
            continue;
        unlink_rec(q, w);
        w->state = W_CANCELLED;
        break;
    }
    if (w->state == W_SATISFIED)
        return 0; /* even if thrown into after the wake: it happened */
    if (w->state == W_SHUTDOWN)
        return -ESHUTDOWN;
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

/* The common start of a suspending call: 0 with *tp set, or an error. */
static int enter(corio_queue *q, corio_task **tp)
{
    corio_task *t = corio__task_running();
    if (!t)
        return CORIO_ENOTASK;
    if (q->inuse && q->loop != t->loop)
        return CORIO_EWRONGTHREAD;
    q->loop = t->loop;
    if (corio__task_cancel_report(t))
        return -ECANCELED;
    *tp = t;
    return 0;
}

/* ---- the non-suspending cores ------------------------------------------------------ */

/* 0 (put or handed over), -EAGAIN (full), -ESHUTDOWN, -ENOMEM. */
static int put_now(corio_queue *q, int64_t prio, void *item)
{
    struct qwait *w;
    int rc;
    if (q->shut)
        return -ESHUTDOWN;
    if (q->lists[L_GET].head) {
        assert(q->n == 0);
        w = wake_first(q, L_GET, W_SATISFIED, 0);
        w->item = item;
    } else {
        if (q->maxsize && q->n >= q->maxsize)
            return -EAGAIN;
        if ((rc = store(q, item, prio)) != 0)
            return rc;
    }
    q->unfinished++;
    return 0;
}

/* 0 with *item set, -EAGAIN (empty), -ESHUTDOWN (shut down and empty). */
static int get_now(corio_queue *q, void **item)
{
    struct qwait *w;
    int rc;
    if (q->n == 0)
        return q->shut ? -ESHUTDOWN : -EAGAIN;
    *item = take(q);
    if (q->lists[L_PUT].head) {
        /* The queue was full: the first putter's item takes the slot
         * (no allocation: the slot was there). */
        w = q->lists[L_PUT].head;
        assert(q->maxsize && q->n + 1 == q->maxsize);
        rc = store(q, w->item, w->prio);
        assert(rc == 0);
        (void)rc;
        wake_first(q, L_PUT, W_SATISFIED, 0);
        q->unfinished++;
    }
    return 0;
}

/* ---- the API ------------------------------------------------------------------------ */

int corio_queue_new(int kind, size_t maxsize, corio_queue **out)
{
    corio_queue *q;
    if (!out || (kind != CORIO_QUEUE_FIFO && kind != CORIO_QUEUE_LIFO &&
                 kind != CORIO_QUEUE_PRIORITY))
        return -EINVAL;
    q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    q->kind = kind;
    q->maxsize = maxsize;
    *out = q;
    return 0;
}

int corio_queue_free(corio_queue *q)
{
    struct qwait *w, *next;
    if (!q)
        return 0;
    if (q->inuse)
        return -EBUSY;
    for (w = q->all; w; w = next) {
        next = w->all_next;
        free(w);
    }
    free(q->ring);
    free(q->heap);
    free(q);
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
    struct qwait *w;
    int rc;
    if (!q)
        return -EINVAL;
    if ((rc = enter(q, &t)) != 0)
        return rc;
    rc = put_now(q, prio, item);
    if (rc != -EAGAIN)
        return rc;
    if (!(w = rec_get(q)))
        return -ENOMEM;
    w->item = item;
    w->prio = prio;
    rc = wait_on(q, t, w, L_PUT);
    rec_put(q, w);
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
    struct qwait *w;
    int rc;
    if (!q || !item)
        return -EINVAL;
    if ((rc = enter(q, &t)) != 0)
        return rc;
    rc = get_now(q, item);
    if (rc != -EAGAIN)
        return rc;
    if (!(w = rec_get(q)))
        return -ENOMEM;
    rc = wait_on(q, t, w, L_GET);
    if (rc == 0)
        *item = w->item; /* written now that our stack is back */
    rec_put(q, w);
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
        wake_all(q, L_JOIN, W_SATISFIED, 0);
    return 0;
}

int corio_queue_join(corio_queue *q)
{
    corio_task *t = NULL;
    struct qwait *w;
    int rc;
    if (!q)
        return -EINVAL;
    if ((rc = enter(q, &t)) != 0)
        return rc;
    if (q->unfinished == 0)
        return 0;
    if (!(w = rec_get(q)))
        return -ENOMEM;
    rc = wait_on(q, t, w, L_JOIN);
    rec_put(q, w);
    return rc;
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
            wake_all(q, L_JOIN, W_SATISFIED, 0);
    }
    /* Getters wait only on an empty queue, so each of them would now see
     * "shut down and empty". */
    assert(!q->lists[L_GET].head || q->n == 0);
    wake_all(q, L_GET, W_SHUTDOWN, -ESHUTDOWN);
    wake_all(q, L_PUT, W_SHUTDOWN, -ESHUTDOWN);
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
