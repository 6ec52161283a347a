/*
 * corio/queue.h: queues between tasks (asyncio.Queue, LifoQueue,
 * PriorityQueue, with 3.13's shutdown).
 *
 * Items are `void *`, borrowed: the queue never looks at them or frees
 * them. A FIFO queue hands them out in put order, a LIFO queue newest
 * first, a PRIORITY queue lowest `prio` first (given to
 * corio_queue_put_prio; plain put uses 0), equal priorities in put order.
 *
 * Waiting is asyncio's. Waiters are woken in the order they began to
 * wait. A put stores its item in the queue and wakes the first waiting
 * getter; the item stays in the queue, counted by corio_queue_size and
 * corio_queue_full, until that getter runs and takes it. A get frees a
 * slot and wakes the first waiting putter, which puts its item when it
 * runs. A woken waiter that finds the item (or the slot) gone, because a
 * task that ran first took it, waits again at the back, as in asyncio.
 *
 * Cancellation never loses or duplicates an item: items move only between
 * a caller and the queue. A getter cancelled while it waits, or after a
 * put woke it but before it ran, returns -ECANCELED and takes nothing; the
 * item stays in the queue and the next waiting getter is woken in its
 * place. Likewise a cancelled putter returns -ECANCELED without putting
 * and passes a free slot on to the next putter. So the usual consumer
 * loop (get, work, task_done) never leaves join waiting for an item
 * nobody will take.
 *
 * Cancellation: fails with -ECANCELED at once if it would have to wait
 * while a cancel stands. So, as in asyncio, a get from a non-empty queue,
 * a put into a queue with room and a join with nothing unfinished succeed
 * with a cancel standing; the cancel shows at the next real wait. The
 * _try_ calls never look at cancellation.
 *
 * Shutdown (asyncio 3.13): after corio_queue_shutdown, put and try_put
 * return -ESHUTDOWN; get and try_get still return what is queued and
 * -ESHUTDOWN once the queue is empty. Waiting putters and getters are
 * woken and retry: putters return -ESHUTDOWN (their items are not put),
 * getters take what is still queued or return -ESHUTDOWN. The immediate
 * form also drops what is queued, counting each dropped item as done for
 * join.
 *
 * Threads and loops: a queue belongs to the loop of the first task that
 * calls get, put or join on it, and is used on that loop's thread only
 * (no locking). The _try_ calls and the queries work outside a task too,
 * e.g. to fill a queue before corio_run.
 *
 * Memory: items live in a ring buffer (FIFO, LIFO) or a binary heap
 * (PRIORITY) that doubles when full, up to maxsize; a waiting task waits
 * through its own wait record. In steady state put and get allocate
 * nothing.
 */
#ifndef CORIO_QUEUE_H
#define CORIO_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_queue corio_queue;

enum corio_queue_kind {
    CORIO_QUEUE_FIFO,     /* asyncio.Queue */
    CORIO_QUEUE_LIFO,     /* asyncio.LifoQueue */
    CORIO_QUEUE_PRIORITY  /* asyncio.PriorityQueue, by int64_t priority */
};

/*
 * corio_queue_new: a queue of `kind` holding at most maxsize items (0:
 * unbounded). Does not suspend. Returns 0 with *out set, -EINVAL (unknown
 * kind, out NULL), -ENOMEM. The caller frees it with corio_queue_free.
 */
CORIO_API int corio_queue_new(int kind, size_t maxsize, corio_queue **out);

/*
 * corio_queue_free: free q. Items still queued are dropped (not freed:
 * they are the caller's). Returns 0, or -EBUSY while a task waits on q
 * (or was woken by it and has not run yet): q is left untouched.
 */
CORIO_API int corio_queue_free(corio_queue *q);

/*
 * corio_queue_put: add item, waiting while the queue is full. Suspends
 * the calling task. Returns 0 (item is in the queue), -ECANCELED
 * (cancelled before or while waiting, or woken but cancelled before it
 * ran: the item was not put), -ESHUTDOWN (shut down before or while waiting: not put),
 * -ENOMEM (not put), CORIO_ENOTASK outside a task, CORIO_EWRONGTHREAD (a
 * task of another loop), -EINVAL (q NULL). Each successful put counts one
 * unfinished item for join.
 */
CORIO_API int corio_queue_put(corio_queue *q, void *item);
/* corio_queue_put_prio: the same with a priority (lower comes out
 * first). On FIFO and LIFO queues the priority is ignored. Returns as
 * corio_queue_put. */
CORIO_API int corio_queue_put_prio(corio_queue *q, int64_t prio, void *item);

/*
 * corio_queue_try_put, _try_put_prio: add item without suspending.
 * Returns 0, -EAGAIN (full), -ESHUTDOWN,
 * -ENOMEM, CORIO_EWRONGTHREAD (tasks of another loop wait on q),
 * -EINVAL (q NULL); on error the item was not put.
 */
CORIO_API int corio_queue_try_put(corio_queue *q, void *item);
CORIO_API int corio_queue_try_put_prio(corio_queue *q, int64_t prio,
                                       void *item);

/*
 * corio_queue_get: take the next item, waiting while the queue is empty.
 * Suspends the calling task. Returns 0 with *item set; -ECANCELED
 * (cancelled before or while waiting, or woken by a put but cancelled
 * before it ran: no item was taken, it stays for the next getter); -ESHUTDOWN (the
 * queue is shut down and empty); -ENOMEM; CORIO_ENOTASK;
 * CORIO_EWRONGTHREAD; -EINVAL (q or item NULL). On error *item is
 * untouched.
 */
CORIO_API int corio_queue_get(corio_queue *q, void **item);

/* corio_queue_try_get: take the next item without suspending. 0 with
 * *item set, -EAGAIN (empty), -ESHUTDOWN (shut down and empty),
 * CORIO_EWRONGTHREAD (tasks of another loop wait on q), -EINVAL (q or
 * item NULL). */
CORIO_API int corio_queue_try_get(corio_queue *q, void **item);

/* Queries (asyncio's qsize, empty, full, maxsize). full is 0 for an
 * unbounded queue. A NULL q counts as an empty unbounded queue: size 0,
 * empty 1, full 0, maxsize 0. */
CORIO_API size_t corio_queue_size(const corio_queue *q);
CORIO_API int corio_queue_empty(const corio_queue *q);
CORIO_API int corio_queue_full(const corio_queue *q);
CORIO_API size_t corio_queue_maxsize(const corio_queue *q);

/*
 * corio_queue_task_done: mark one item taken by get as processed. Does not
 * suspend. When no unfinished item remains, every task in join wakes.
 * Returns 0, CORIO_EWRONGTHREAD (tasks of another loop wait on q), or
 * -EINVAL when called more times than items were put (or q is NULL).
 */
CORIO_API int corio_queue_task_done(corio_queue *q);

/*
 * corio_queue_join: wait until every item put has been marked done.
 * Suspends the calling task (returns at once if none is unfinished).
 * Returns 0, -ECANCELED (cancelled before or while waiting), -ENOMEM,
 * CORIO_ENOTASK, CORIO_EWRONGTHREAD, -EINVAL. Shutdown does not end a
 * join by itself; the immediate form does when it drops the last
 * unfinished items.
 */
CORIO_API int corio_queue_join(corio_queue *q);

/*
 * corio_queue_shutdown: shut q down (see above); immediate != 0 also drops
 * the queued items. Wakes the waiters concerned. Does not suspend.
 * Idempotent (a later immediate call still drops what is queued).
 * Returns 0, CORIO_EWRONGTHREAD (tasks of another loop wait on q), or
 * -EINVAL (q NULL).
 */
CORIO_API int corio_queue_shutdown(corio_queue *q, int immediate);

/* 1 once corio_queue_shutdown was called, else 0. */
CORIO_API int corio_queue_is_shutdown(const corio_queue *q);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_QUEUE_H */
