/*
 * sync_impl.h: what the synchronization primitives (corio/sync.h) share:
 * their struct layouts and a FIFO wait queue built on the parking protocol
 * of task_impl.h.
 *
 * A waiting task is linked through its own wait record (wait.h), so
 * waiting allocates nothing and lean tasks are safe. Whether the
 * primitive woke it (the record is GRANTED) or a cancel did (CANCELLED)
 * is the record's state: a granted waiter was handed what it waited for,
 * and must pass it on if it cannot use it (it was cancelled, or its loop
 * is being freed).
 *
 * Every primitive starts with its queue, so the record's obj (the queue)
 * is also the object, for wait reports.
 */
#ifndef CORIO_SYNC_IMPL_H
#define CORIO_SYNC_IMPL_H

#include "task/task_impl.h"

#include <corio/sync.h>

typedef struct corio__waitq {
    corio__list l; /* wait records, FIFO */
    size_t n;
} corio__waitq;

struct corio_lock {
    corio__waitq q;
    corio_task *owner; /* NULL when free; never NULL while q.n > 0 */
};

/* The kinds of wait on a queue (their report names), each defined in its
 * primitive's file with a describe op; they share waitq.c's detach. */
extern const corio__wait_ops corio__waitq_lock, corio__waitq_lock_cond,
    corio__waitq_cond, corio__waitq_event, corio__waitq_sem,
    corio__waitq_barrier;
void corio__waitq_detach(corio__wait *w);
/* Describe a lock (its holder, an edge) into d: lock.c. */
void corio__lock_describe(const corio_lock *lk, corio__wait_desc *d);

/* Link t at the tail of q and park it until woken by the primitive
 * (*granted = 1; the return value is what the waker passed) or by a
 * cancel (*granted = 0, -ECANCELED, already unlinked). Suspends. */
int corio__waitq_park(corio__waitq *q, corio_task *t,
                      const corio__wait_ops *kind,
                      int *granted);
/* The same, but a cancel does not end the wait (nor cost the task its
 * place, nor wake it): only the primitive wakes it, or the loop being
 * freed (then *granted = 0 and it returns -ECANCELED, unlinked). */
int corio__waitq_park_uncancellable(corio__waitq *q, corio_task *t,
                                    const corio__wait_ops *kind, int *granted);
/* The first waiter, or NULL. */
corio_task *corio__waitq_first(const corio__waitq *q);
/* Unlink the first waiter, mark it granted and wake it: its park returns
 * value. Returns it, or NULL when q is empty. Never suspends. */
corio_task *corio__waitq_wake_first(corio__waitq *q, int value);
/* 0 if q has waiters of a loop other than t's (t NULL: the running task,
 * when there is one). */
int corio__waitq_loop_ok(const corio__waitq *q, const corio_task *t);

/* Hand the lock to its first waiter, or free it. */
void corio__lock_pass(corio_lock *lk);
/* Take lk for t, waiting as long as it takes, whatever cancels t.
 * Returns 0 (held), or -ECANCELED only when the loop is being freed. */
int corio__lock_take_uncancellable(corio_lock *lk, corio_task *t);

#endif /* CORIO_SYNC_IMPL_H */
