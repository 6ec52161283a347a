/*
 * sync_impl.h: what the synchronization primitives (corio/sync.h) share:
 * their struct layouts and a FIFO wait queue built on the parking protocol
 * of loop_impl.h.
 *
 * A waiting task is linked through its own t->waiter node (free while it
 * does not wait on a future: a task waits on one thing at a time), so
 * waiting allocates nothing and lean tasks are safe. The node's `done`
 * field, unused by these queues otherwise, says whether the task was
 * woken by the primitive (corio__waitq_granted) or not (NULL): a woken
 * waiter was handed what it waited for, and must pass it on if it cannot
 * use it (it was cancelled, or its loop is being freed).
 *
 * Every primitive starts with its queue, so t->wait_obj (the queue) is
 * also the object, for wait reports.
 */
#ifndef CORIO_SYNC_IMPL_H
#define CORIO_SYNC_IMPL_H

#include "../loop_impl.h"

#include <corio/sync.h>

typedef struct corio__waitq {
    corio__waiter *head, *tail;
    size_t n;
} corio__waitq;

struct corio_lock {
    corio__waitq q;
    corio_task *owner; /* NULL when free; never NULL while q.n > 0 */
};

/* Link t at the tail of q and park it until woken by the primitive
 * (*granted = 1; the return value is what the waker passed) or by a
 * cancel (*granted = 0, -ECANCELED, already unlinked). Suspends. */
int corio__waitq_park(corio__waitq *q, corio_task *t, const char *what,
                      int *granted);
/* The same, but a cancel does not end the wait (nor cost the task its
 * place): only the primitive wakes it, or the loop being freed (then
 * *granted = 0 and it returns -ECANCELED, unlinked). */
int corio__waitq_park_uncancellable(corio__waitq *q, corio_task *t,
                                    const char *what, int *granted);
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
