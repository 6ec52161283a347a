/*
 * corio/sync.h: asyncio's synchronization primitives: Lock, Event,
 * Condition, Semaphore, BoundedSemaphore and Barrier.
 *
 * Objects are made with _new (heap) and freed with _free. They belong to no
 * loop: an object is used by the tasks of one loop at a time, on that
 * loop's thread (a call that would hand something to a task of another
 * loop fails with CORIO_EWRONGTHREAD and changes nothing).
 *
 * Fairness. Waiters are served in FIFO order, and what a waiter waits for
 * is handed to it directly when it is woken (asyncio: no barging): a lock
 * released while tasks wait is owned by the first waiter before that
 * waiter runs, and a task that comes along meanwhile queues behind it.
 *
 * Cancellation, the same for every call here:
 *   - fails with -ECANCELED at once if it would have to wait while a
 *     cancel stands (task.h), and with -ECANCELED if a cancel comes while
 *     it waits; it then holds nothing, and no other waiter loses its
 *     place. A call that can complete at once does so and returns 0 even
 *     while a cancel stands (asyncio's fast paths; corio_future_await on a
 *     done future does the same); the next wait sees the cancel.
 *   - a waiter that was handed the lock, a permit or a notification and is
 *     cancelled before it runs returns -ECANCELED too (as asyncio raises
 *     CancelledError then): what it was handed goes to the next waiter (or
 *     back to the object), so nothing is lost or duplicated. If the cancel
 *     is withdrawn before it runs, it returns 0 and keeps what it got.
 * Timeouts come from cancel scopes: wrap the call in corio_scope_timeout.
 *
 * Outside a task, corio_lock_acquire, corio_lock_try_acquire,
 * corio_cond_wait and corio_barrier_wait return CORIO_ENOTASK;
 * corio_event_wait and corio_sem_acquire do only when they would have to
 * wait.
 */
#ifndef CORIO_SYNC_H
#define CORIO_SYNC_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Lock ------------------------------------------------------------------ */

typedef struct corio_lock corio_lock;

/* corio_lock_new: an unlocked lock. 0 with *out set, -EINVAL (out NULL),
 * -ENOMEM. */
CORIO_API int corio_lock_new(corio_lock **out);
/* corio_lock_free: 0, or -EBUSY (held by a task that has not ended, or
 * tasks wait on it: nothing is freed). A lock whose owner ended without
 * releasing it can be freed. */
CORIO_API int corio_lock_free(corio_lock *lk);

/*
 * corio_lock_acquire: take the lock, owned by the calling task. Suspends
 * while another task holds it. Returns 0, -ECANCELED (see above; the lock
 * is not held), -EDEADLK (the caller holds it already: asyncio would hang
 * forever), CORIO_ENOTASK, CORIO_EWRONGTHREAD, -EINVAL.
 */
CORIO_API int corio_lock_acquire(corio_lock *lk);
/* corio_lock_try_acquire: never suspends. 0 (taken), -EAGAIN (held, or
 * tasks wait for it: acquire would have to wait), -EDEADLK,
 * CORIO_ENOTASK (the lock is owned by a task), -EINVAL. */
CORIO_API int corio_lock_try_acquire(corio_lock *lk);
/* corio_lock_release: never suspends. Hands the lock to the first waiter,
 * if any. 0, -EPERM (the calling task does not hold it, or no task
 * calls; asyncio's RuntimeError), CORIO_EWRONGTHREAD, -EINVAL. */
CORIO_API int corio_lock_release(corio_lock *lk);
/* 1 if held (asyncio's locked()), else 0. */
CORIO_API int corio_lock_locked(const corio_lock *lk);
/* The task holding the lock, or NULL. Borrowed, but always a valid object
 * while the lock holds it: the lock keeps a reference on its owner, so a
 * task that ended holding the lock is still reported (and its object is
 * never reused for a new task, which therefore never inherits the lock). */
CORIO_API corio_task *corio_lock_owner(const corio_lock *lk);

/* ---- Event ----------------------------------------------------------------- */

typedef struct corio_event corio_event;

/* corio_event_new: a clear event. 0 with *out set, -EINVAL (out NULL),
 * -ENOMEM. */
CORIO_API int corio_event_new(corio_event **out);
/* corio_event_free: 0, or -EBUSY (tasks wait on it; nothing freed). */
CORIO_API int corio_event_free(corio_event *ev);
/* corio_event_set: set the flag and wake every waiter (each returns 0
 * even if the event is cleared before it runs). Never suspends. 0,
 * CORIO_EWRONGTHREAD, -EINVAL. Allowed outside a task (a callback). */
CORIO_API int corio_event_set(corio_event *ev);
/* corio_event_clear: never suspends. */
CORIO_API void corio_event_clear(corio_event *ev);
/* 1 if set, else 0. */
CORIO_API int corio_event_is_set(const corio_event *ev);
/* corio_event_wait: 0 at once if set (anywhere), else suspends until it
 * is. 0, -ECANCELED, CORIO_ENOTASK, CORIO_EWRONGTHREAD, -EINVAL. */
CORIO_API int corio_event_wait(corio_event *ev);

/* ---- Condition --------------------------------------------------------------- */

typedef struct corio_cond corio_cond;

/*
 * corio_cond_new: a condition variable over `lock` (borrowed: it must
 * outlive the condition), or over a lock of its own when lock is NULL
 * (see corio_cond_lock). 0 with *out set, -EINVAL (out NULL), -ENOMEM.
 */
CORIO_API int corio_cond_new(corio_lock *lock, corio_cond **out);
/* corio_cond_free: 0, or -EBUSY (tasks wait on it, or its own lock is
 * held or waited on; nothing freed). */
CORIO_API int corio_cond_free(corio_cond *c);
/* The condition's lock (borrowed): acquire and release it with the lock
 * calls (asyncio's `async with cond`). */
CORIO_API corio_lock *corio_cond_lock(corio_cond *c);

/*
 * corio_cond_wait: the caller must hold the lock. Releases it, suspends
 * until notified, then takes the lock again before returning, always,
 * even when cancelled (that retaking waits for the lock and ignores
 * cancellation, as asyncio's does). Returns 0 (notified, lock held),
 * -ECANCELED (at once while a cancel stands, the lock never let go; or
 * cancelled while waiting, after being notified, or while retaking the
 * lock: the lock is held, and a notification it had been given goes to
 * the next waiter), -EPERM (caller does not hold the lock; nothing
 * happened), CORIO_ENOTASK, CORIO_EWRONGTHREAD, -EINVAL. Only while the
 * loop is being freed can it return -ECANCELED without the lock.
 */
CORIO_API int corio_cond_wait(corio_cond *c);
/*
 * corio_cond_wait_for: asyncio's wait_for(predicate): while pred(arg) is
 * 0, corio_cond_wait. Lock held on entry and on return. Returns 0 (pred
 * true, without suspending if it already is), -EINVAL (c or pred NULL)
 * or corio_cond_wait's error.
 */
CORIO_API int corio_cond_wait_for(corio_cond *c, int (*pred)(void *arg),
                                  void *arg);
/* corio_cond_notify: wake up to n waiters (FIFO). The caller must hold the
 * lock. Never suspends. Returns how many it woke (>= 0), -EPERM (the
 * caller does not hold the lock, or no task calls), CORIO_EWRONGTHREAD,
 * -EINVAL. */
CORIO_API int corio_cond_notify(corio_cond *c, int n);
/* corio_cond_notify_all: wake every waiter; as corio_cond_notify. */
CORIO_API int corio_cond_notify_all(corio_cond *c);

/* ---- Semaphore and BoundedSemaphore ----------------------------------------- */

typedef struct corio_sem corio_sem;

/* corio_sem_new: a semaphore with `value` permits (asyncio.Semaphore).
 * 0 with *out set, -EINVAL (value < 0, out NULL), -ENOMEM. */
CORIO_API int corio_sem_new(int value, corio_sem **out);
/* corio_sem_new_bounded: asyncio.BoundedSemaphore: releasing beyond the
 * initial value is an error. Returns as corio_sem_new. */
CORIO_API int corio_sem_new_bounded(int value, corio_sem **out);
/* corio_sem_free: 0, or -EBUSY (tasks wait on it; nothing freed). */
CORIO_API int corio_sem_free(corio_sem *s);
/* corio_sem_acquire: take a permit; suspends while there is none (a free
 * permit is taken at once, anywhere). 0, -ECANCELED (no permit held),
 * CORIO_ENOTASK, CORIO_EWRONGTHREAD, -EINVAL. */
CORIO_API int corio_sem_acquire(corio_sem *s);
/* corio_sem_try_acquire: never suspends. 0, -EAGAIN (no permit free),
 * -EINVAL. Works outside a task. */
CORIO_API int corio_sem_try_acquire(corio_sem *s);
/* corio_sem_release: give a permit back, to the first waiter if any.
 * Never suspends; allowed outside a task. 0, -EOVERFLOW (a bounded
 * semaphore released more often than acquired: asyncio's ValueError; or
 * the value is INT_MAX already; nothing changes), CORIO_EWRONGTHREAD,
 * -EINVAL. */
CORIO_API int corio_sem_release(corio_sem *s);
/* Free permits (0 while tasks wait). */
CORIO_API int corio_sem_value(const corio_sem *s);
/* 1 if an acquire would suspend now (asyncio's locked()). */
CORIO_API int corio_sem_locked(const corio_sem *s);

/* ---- Barrier ------------------------------------------------------------------ */

typedef struct corio_barrier corio_barrier;

/* corio_barrier_new: a barrier for `parties` tasks. 0 with *out set,
 * -EINVAL (parties < 1, out NULL), -ENOMEM. */
CORIO_API int corio_barrier_new(int parties, corio_barrier **out);
/* corio_barrier_free: 0, or -EBUSY (tasks wait on it; nothing freed). */
CORIO_API int corio_barrier_free(corio_barrier *b);
/*
 * corio_barrier_wait: suspends until `parties` tasks wait, then lets them
 * all through and fills again. Returns the arrival index, 0 .. parties-1
 * (the last to arrive gets parties-1 and does not suspend; the others get
 * their place in FIFO order among the waiters still there), or -EPIPE
 * (broken: aborted, or reset while waiting; asyncio's BrokenBarrierError),
 * -ECANCELED (it leaves; the barrier waits for one more party; if the
 * barrier had already let it through, the others are not affected),
 * CORIO_ENOTASK, CORIO_EWRONGTHREAD, -EINVAL.
 */
CORIO_API int corio_barrier_wait(corio_barrier *b);
/* corio_barrier_reset: waiters get -EPIPE; the barrier is empty and usable
 * again (also after an abort). Never suspends. 0, CORIO_EWRONGTHREAD,
 * -EINVAL. */
CORIO_API int corio_barrier_reset(corio_barrier *b);
/* corio_barrier_abort: break it: waiters and later waits get -EPIPE until
 * a reset. Never suspends. 0, CORIO_EWRONGTHREAD, -EINVAL. */
CORIO_API int corio_barrier_abort(corio_barrier *b);
/* Queries: the number of parties; how many tasks wait now; 1 if broken,
 * else 0. */
CORIO_API int corio_barrier_parties(const corio_barrier *b);
CORIO_API int corio_barrier_n_waiting(const corio_barrier *b);
CORIO_API int corio_barrier_broken(const corio_barrier *b);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_SYNC_H */
