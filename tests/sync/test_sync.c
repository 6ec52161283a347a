/*
 * test_sync.c: Lock, Event, Condition, Semaphore, BoundedSemaphore and
 * Barrier: behaviour, misuse errors, FIFO order, cancellation while
 * waiting and at the moment of hand-over (both sides of that race),
 * timeouts, lean tasks, and permit accounting under random cancels.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>

/* Let every ready task run until it parks again. */
/* A worker: waits on one primitive, records when it got through. */
struct world {
    corio_lock *lk;
    corio_event *ev;
    corio_cond *cv;
    corio_sem *sem;
    corio_barrier *bar;
    int order[16]; /* ids, in the order they got through */
    int norder;
    int held;      /* tasks holding the lock/permit right now */
    int max_held;
    int acquired, released;
};

struct worker {
    struct world *w;
    int id;
    double hold;   /* seconds to hold what it got */
    int rc;        /* what its wait returned */
    int done;
    int owner_after; /* cond: it held the lock when wait returned */
};

static void got(struct world *w, int id)
{
    w->order[w->norder++] = id;
    w->acquired++;
    if (++w->held > w->max_held)
        w->max_held = w->held;
}

static int lock_worker(void *arg, void **res)
{
    struct worker *k = arg;
    (void)res;
    k->rc = corio_lock_acquire(k->w->lk);
    if (k->rc == 0) {
        got(k->w, k->id);
        if (k->hold > 0)
            corio_sleep(k->hold);
        k->w->held--;
        CHECK_EQ(corio_lock_release(k->w->lk), 0);
        k->w->released++;
    }
    k->done = 1;
    return 0;
}

static corio_task *spawn(corio_coro_fn fn, struct worker *k, unsigned flags)
{
    corio_task_opts o = {0};
    corio_task *t;
    o.flags = flags;
    CHECK_EQ(corio_spawn(fn, k, &o, &t), 0);
    return t;
}

/* ---- Lock ------------------------------------------------------------------- */

static int other_release(void *arg, void **res)
{
    (void)res;
    return corio_lock_release(arg);
}

static int lock_basics(void)
{
    corio_lock *lk;
    corio_task *t;
    void *r;
    CHECK_EQ(corio_lock_new(NULL), -EINVAL);
    CHECK_EQ(corio_lock_new(&lk), 0);
    CHECK_EQ(corio_lock_locked(lk), 0);
    CHECK_EQ(corio_lock_release(lk), -EPERM); /* not held */
    CHECK_EQ(corio_lock_acquire(lk), 0);
    CHECK_EQ(corio_lock_locked(lk), 1);
    CHECK_PTR(corio_lock_owner(lk), corio_task_current());
    CHECK_EQ(corio_lock_acquire(lk), -EDEADLK);
    CHECK_EQ(corio_lock_try_acquire(lk), -EDEADLK);
    CHECK_EQ(corio_lock_free(lk), -EBUSY); /* held: nothing freed */
    CHECK_EQ(corio_spawn(other_release, lk, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, &r), -EPERM); /* another task's lock */
    corio_task_release(t);
    CHECK_EQ(corio_lock_release(lk), 0);
    CHECK_EQ(corio_lock_release(lk), -EPERM);
    CHECK_EQ(corio_lock_try_acquire(lk), 0);
    CHECK_EQ(corio_lock_release(lk), 0);
    CHECK_EQ(corio_lock_acquire(NULL), -EINVAL);
    CHECK_EQ(corio_lock_release(NULL), -EINVAL);
    CHECK_EQ(corio_lock_free(lk), 0);
    CHECK_EQ(corio_lock_free(NULL), 0);
    return 0;
}

TEST(sync_lock_basics_and_misuse)
{
    corio_lock *lk;
    CHECK_EQ(run(lock_basics), 0);
    CHECK_EQ(corio_lock_new(&lk), 0);
    CHECK_EQ(corio_lock_acquire(lk), CORIO_ENOTASK); /* outside a task */
    CHECK_EQ(corio_lock_free(lk), 0);
}

/* N tasks queue behind the holder; they get the lock in arrival order,
 * and a task arriving when the lock is handed over cannot barge. */
static int lock_fifo(unsigned flags)
{
    struct world w = {0};
    struct worker k[6];
    corio_task *t[6];
    int i;
    CHECK_EQ(corio_lock_new(&w.lk), 0);
    CHECK_EQ(corio_lock_acquire(w.lk), 0);
    for (i = 0; i < 6; i++) {
        k[i] = (struct worker){&w, i, 0.001, 1, 0, 0};
        t[i] = spawn(lock_worker, &k[i], flags);
        settle(); /* each parks before the next arrives */
    }
    CHECK_EQ(corio_lock_release(w.lk), 0);
    CHECK_PTR(corio_lock_owner(w.lk), t[0]); /* handed over already */
    CHECK_EQ(corio_lock_try_acquire(w.lk), -EAGAIN); /* no barging */
    CHECK_EQ(corio_lock_free(w.lk), -EBUSY);
    for (i = 0; i < 6; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        corio_task_release(t[i]);
        CHECK_EQ(k[i].rc, 0);
        CHECK_EQ(w.order[i], i);
    }
    CHECK_EQ(w.max_held, 1);
    CHECK_EQ(w.acquired, 6);
    CHECK_EQ(w.released, 6);
    CHECK_EQ(corio_lock_locked(w.lk), 0);
    CHECK_EQ(corio_lock_free(w.lk), 0);
    return 0;
}

static int lock_fifo_full(void) { return lock_fifo(0); }
static int lock_fifo_lean(void) { return lock_fifo(CORIO_CORO_LEAN); }

TEST(sync_lock_fifo_order)
{
    CHECK_EQ(run(lock_fifo_full), 0);
}

TEST(sync_lock_fifo_order_lean)
{
    CHECK_EQ(run(lock_fifo_lean), 0);
}

/*
 * Three waiters A B C behind the holder. `mode` says when A is cancelled:
 *   0: while it waits (before the release): B gets the lock next;
 *   1: right after the release handed it the lock, before it ran: A
 *      returns -ECANCELED and passes the lock to B;
 *   2: as 1, but the cancel is withdrawn before A runs: A keeps it.
 */
static int lock_cancel(int mode)
{
    struct world w = {0};
    struct worker k[3];
    corio_task *t[3];
    int i;
    CHECK_EQ(corio_lock_new(&w.lk), 0);
    CHECK_EQ(corio_lock_acquire(w.lk), 0);
    for (i = 0; i < 3; i++) {
        k[i] = (struct worker){&w, i, 0, 1, 0, 0};
        t[i] = spawn(lock_worker, &k[i], CORIO_CORO_LEAN);
    }
    settle();
    if (mode == 0) {
        CHECK_EQ(corio_task_cancel(t[0]), 0);
        settle();
        CHECK_EQ(k[0].done, 1); /* woken at once */
        CHECK_EQ(corio_lock_release(w.lk), 0);
    } else {
        CHECK_EQ(corio_lock_release(w.lk), 0);
        CHECK_PTR(corio_lock_owner(w.lk), t[0]);
        CHECK_EQ(corio_task_cancel(t[0]), 0);
        if (mode == 2)
            CHECK_EQ(corio_task_uncancel(t[0]), 0);
    }
    for (i = 0; i < 3; i++) {
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    if (mode == 2) {
        CHECK_EQ(k[0].rc, 0);
        CHECK_EQ(w.norder, 3);
        CHECK_EQ(w.order[0], 0);
        CHECK_EQ(w.order[1], 1);
        CHECK_EQ(w.order[2], 2);
    } else {
        CHECK_EQ(k[0].rc, -ECANCELED);
        CHECK_EQ(w.norder, 2); /* B then C: nobody lost a turn */
        CHECK_EQ(w.order[0], 1);
        CHECK_EQ(w.order[1], 2);
    }
    CHECK_EQ(k[1].rc, 0);
    CHECK_EQ(k[2].rc, 0);
    CHECK_EQ(w.acquired, w.released);
    CHECK_EQ(corio_lock_locked(w.lk), 0); /* not lost */
    CHECK_EQ(corio_lock_try_acquire(w.lk), 0);
    CHECK_EQ(corio_lock_release(w.lk), 0);
    CHECK_EQ(corio_lock_free(w.lk), 0);
    return 0;
}

static int lock_cancel_waiting(void) { return lock_cancel(0); }
static int lock_cancel_handoff(void) { return lock_cancel(1); }
static int lock_cancel_handoff_withdrawn(void) { return lock_cancel(2); }

TEST_FIFO(sync_lock_cancel_while_waiting,
          "waiters must queue on the lock in spawn order")
{
    CHECK_EQ(run(lock_cancel_waiting), 0);
}

TEST_FIFO(sync_lock_cancel_at_handoff,
          "waiters must queue on the lock in spawn order")
{
    CHECK_EQ(run(lock_cancel_handoff), 0);
}

TEST_FIFO(sync_lock_cancel_at_handoff_withdrawn,
          "waiters must queue on the lock in spawn order")
{
    CHECK_EQ(run(lock_cancel_handoff_withdrawn), 0);
}

static int timed_acquire(void *arg, void **res)
{
    corio_scope *sc;
    int rc;
    (void)res;
    CHECK_EQ(corio_scope_timeout(0.02, &sc), 0);
    rc = corio_lock_acquire(arg);
    rc = corio_scope_close(sc, rc);
    if (rc == 0)
        CHECK_EQ(corio_lock_release(arg), 0);
    return rc;
}

static int lock_timeout(void)
{
    corio_lock *lk;
    corio_task *t;
    double t0 = now_s();
    CHECK_EQ(corio_lock_new(&lk), 0);
    CHECK_EQ(corio_lock_acquire(lk), 0);
    CHECK_EQ(corio_spawn(timed_acquire, lk, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ETIMEDOUT);
    corio_task_release(t);
    CHECK(now_s() - t0 >= 0.02);
    CHECK_PTR(corio_lock_owner(lk), corio_task_current());
    CHECK_EQ(corio_lock_release(lk), 0);
    CHECK_EQ(corio_lock_locked(lk), 0);
    CHECK_EQ(corio_lock_free(lk), 0); /* the timed-out waiter is gone */
    /* Uncontended, the same call succeeds before its deadline. */
    CHECK_EQ(corio_lock_new(&lk), 0);
    CHECK_EQ(corio_spawn(timed_acquire, lk, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(corio_lock_locked(lk), 0);
    CHECK_EQ(corio_lock_free(lk), 0);
    return 0;
}

TEST(sync_lock_timeout)
{
    CHECK_EQ(run(lock_timeout), 0);
}

/* ---- Event ------------------------------------------------------------------ */

static int event_worker(void *arg, void **res)
{
    struct worker *k = arg;
    (void)res;
    k->rc = corio_event_wait(k->w->ev);
    if (k->rc == 0)
        got(k->w, k->id);
    k->done = 1;
    return 0;
}

static int event_all(void)
{
    struct world w = {0};
    struct worker k[4];
    corio_task *t[4];
    corio_scope *sc;
    int i;
    CHECK_EQ(corio_event_new(NULL), -EINVAL);
    CHECK_EQ(corio_event_new(&w.ev), 0);
    CHECK_EQ(corio_event_is_set(w.ev), 0);
    for (i = 0; i < 4; i++) {
        k[i] = (struct worker){&w, i, 0, 1, 0, 0};
        t[i] = spawn(event_worker, &k[i], i & 1 ? CORIO_CORO_LEAN : 0);
    }
    settle();
    CHECK_EQ(corio_event_free(w.ev), -EBUSY);
    CHECK_EQ(corio_task_cancel(t[1]), 0); /* cancelled while waiting */
    settle();
    CHECK_EQ(k[1].rc, -ECANCELED);
    CHECK_EQ(corio_event_set(w.ev), 0);
    CHECK_EQ(corio_task_cancel(t[2]), 0); /* woken, then cancelled */
    corio_event_clear(w.ev); /* woken waiters still return 0 */
    for (i = 0; i < 4; i++) {
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    CHECK_EQ(k[0].rc, 0);
    CHECK_EQ(k[2].rc, -ECANCELED);
    CHECK_EQ(k[3].rc, 0);
    CHECK_EQ(w.norder, 2);
    CHECK_EQ(w.order[0], 0); /* woken in FIFO order */
    CHECK_EQ(w.order[1], 3);
    /* Timeout on a clear event; then a set one returns at once. */
    CHECK_EQ(corio_scope_timeout(0.01, &sc), 0);
    CHECK_EQ(corio_scope_close(sc, corio_event_wait(w.ev)), -ETIMEDOUT);
    CHECK_EQ(corio_event_set(w.ev), 0);
    CHECK_EQ(corio_event_is_set(w.ev), 1);
    CHECK_EQ(corio_event_wait(w.ev), 0);
    CHECK_EQ(corio_event_free(w.ev), 0);
    return 0;
}

TEST_FIFO(sync_event_wakes_all_and_cancels,
          "woken waiters must run in the order they waited")
{
    corio_event *ev;
    CHECK_EQ(run(event_all), 0);
    CHECK_EQ(corio_event_new(&ev), 0);
    CHECK_EQ(corio_event_wait(ev), CORIO_ENOTASK);
    CHECK_EQ(corio_event_set(ev), 0); /* allowed outside a task */
    CHECK_EQ(corio_event_wait(ev), 0);
    CHECK_EQ(corio_event_free(ev), 0);
}

/* ---- Condition --------------------------------------------------------------- */

static int cond_worker(void *arg, void **res)
{
    struct worker *k = arg;
    corio_lock *lk = corio_cond_lock(k->w->cv);
    (void)res;
    CHECK_EQ(corio_lock_acquire(lk), 0);
    k->rc = corio_cond_wait(k->w->cv);
    k->owner_after = corio_lock_owner(lk) == corio_task_current();
    if (k->rc == 0)
        got(k->w, k->id);
    if (k->hold > 0)
        corio_sleep(k->hold);
    k->done = 1;
    CHECK_EQ(corio_lock_release(lk), 0);
    return 0;
}

static int cond_basics(void)
{
    struct world w = {0};
    struct worker k[4];
    corio_task *t[4];
    corio_lock *lk;
    int i;
    CHECK_EQ(corio_cond_new(NULL, &w.cv), 0);
    lk = corio_cond_lock(w.cv);
    CHECK_EQ(corio_cond_wait(w.cv), -EPERM);   /* lock not held */
    CHECK_EQ(corio_cond_notify(w.cv, 1), -EPERM);
    CHECK_EQ(corio_cond_notify_all(w.cv), -EPERM);
    for (i = 0; i < 4; i++) {
        k[i] = (struct worker){&w, i, 0, 1, 0, 0};
        t[i] = spawn(cond_worker, &k[i], i & 1 ? CORIO_CORO_LEAN : 0);
    }
    settle();
    CHECK_EQ(corio_cond_free(w.cv), -EBUSY);
    CHECK_EQ(corio_lock_acquire(lk), 0); /* wait released it */
    CHECK_EQ(corio_cond_notify(w.cv, 0), 0);
    CHECK_EQ(corio_cond_notify(w.cv, 2), 2);
    settle();
    CHECK_EQ(w.norder, 0); /* they wait for the lock we hold */
    CHECK_EQ(corio_lock_release(lk), 0);
    settle();
    CHECK_EQ(w.norder, 2);
    CHECK_EQ(w.order[0], 0);
    CHECK_EQ(w.order[1], 1);
    CHECK_EQ(corio_lock_acquire(lk), 0);
    CHECK_EQ(corio_cond_notify_all(w.cv), 2);
    CHECK_EQ(corio_lock_release(lk), 0);
    for (i = 0; i < 4; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        corio_task_release(t[i]);
        CHECK_EQ(k[i].rc, 0);
        CHECK_EQ(k[i].owner_after, 1);
        CHECK_EQ(w.order[i], i);
    }
    CHECK_EQ(corio_cond_free(w.cv), 0);
    return 0;
}

TEST_FIFO(sync_cond_notify_fifo_and_misuse,
          "notify order is asserted against the waiters' spawn order")
{
    CHECK_EQ(run(cond_basics), 0);
}

/*
 * Waiters A B C. `mode`:
 *   0: A cancelled while waiting for a notify: -ECANCELED, lock held;
 *      notify(1) then reaches B;
 *   1: notify(1) picks A, then A is cancelled before it runs: A returns
 *      -ECANCELED with the lock and passes the notification to B;
 *   2: A is notified and retakes the lock while we hold it; A is
 *      cancelled then: it still waits for the lock, and passes the
 *      notification to B.
 * In every mode C is never woken by the single notify.
 */
static int cond_cancel(int mode)
{
    struct world w = {0};
    struct worker k[3];
    corio_task *t[3];
    corio_lock *lk;
    int i;
    CHECK_EQ(corio_cond_new(NULL, &w.cv), 0);
    lk = corio_cond_lock(w.cv);
    for (i = 0; i < 3; i++) {
        k[i] = (struct worker){&w, i, 0, 1, 0, 0};
        t[i] = spawn(cond_worker, &k[i], CORIO_CORO_LEAN);
    }
    settle();
    CHECK_EQ(corio_lock_acquire(lk), 0);
    if (mode == 0) {
        CHECK_EQ(corio_task_cancel(t[0]), 0);
        settle();
        CHECK_EQ(k[0].done, 0); /* woken, but waits for our lock */
        CHECK_EQ(corio_cond_notify(w.cv, 1), 1);
    } else if (mode == 1) {
        CHECK_EQ(corio_cond_notify(w.cv, 1), 1);
        CHECK_EQ(corio_task_cancel(t[0]), 0);
    } else {
        CHECK_EQ(corio_cond_notify(w.cv, 1), 1);
        settle(); /* A parks on the lock */
        CHECK_EQ(corio_task_cancel(t[0]), 0);
        settle();
        CHECK_EQ(k[0].done, 0); /* the retake ignores cancellation */
    }
    CHECK_EQ(corio_lock_release(lk), 0);
    settle();
    CHECK_EQ(k[0].done, 1);
    CHECK_EQ(k[0].rc, -ECANCELED);
    CHECK_EQ(k[0].owner_after, 1);
    CHECK_EQ(k[1].done, 1);
    CHECK_EQ(k[1].rc, 0);
    CHECK_EQ(k[2].done, 0);
    CHECK_EQ(corio_lock_acquire(lk), 0);
    CHECK_EQ(corio_cond_notify(w.cv, 5), 1); /* only C is left */
    CHECK_EQ(corio_lock_release(lk), 0);
    for (i = 0; i < 3; i++) {
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    CHECK_EQ(k[2].rc, 0);
    CHECK_EQ(corio_lock_locked(lk), 0);
    CHECK_EQ(corio_cond_free(w.cv), 0);
    return 0;
}

static int cond_cancel_waiting(void) { return cond_cancel(0); }
static int cond_cancel_notified(void) { return cond_cancel(1); }
static int cond_cancel_retaking(void) { return cond_cancel(2); }

TEST_FIFO(sync_cond_cancel_while_waiting,
          "waiters must queue on the condition in spawn order")
{
    CHECK_EQ(run(cond_cancel_waiting), 0);
}

TEST_FIFO(sync_cond_cancel_after_notify,
          "waiters must queue on the condition in spawn order")
{
    CHECK_EQ(run(cond_cancel_notified), 0);
}

TEST_FIFO(sync_cond_cancel_while_retaking_lock,
          "waiters must queue on the condition in spawn order")
{
    CHECK_EQ(run(cond_cancel_retaking), 0);
}

/* wait_for with a shared lock, a producer and a timeout. */
static int items;

static int have_items(void *arg)
{
    (void)arg;
    return items > 0;
}

static int producer(void *arg, void **res)
{
    corio_cond *cv = arg;
    int i;
    (void)res;
    for (i = 0; i < 3; i++) {
        CHECK_EQ(corio_sleep(0.002), 0);
        CHECK_EQ(corio_lock_acquire(corio_cond_lock(cv)), 0);
        items++;
        CHECK_EQ(corio_cond_notify(cv, 1), 1);
        CHECK_EQ(corio_lock_release(corio_cond_lock(cv)), 0);
    }
    return 0;
}

static int cond_wait_for(void)
{
    corio_lock *lk;
    corio_cond *cv;
    corio_task *t;
    corio_scope *sc;
    int got_n = 0, rc;
    CHECK_EQ(corio_lock_new(&lk), 0);
    CHECK_EQ(corio_cond_new(lk, &cv), 0);
    CHECK_PTR(corio_cond_lock(cv), lk);
    CHECK_EQ(corio_spawn(producer, cv, NULL, &t), 0);
    CHECK_EQ(corio_lock_acquire(lk), 0);
    while (got_n < 3) {
        CHECK_EQ(corio_cond_wait_for(cv, have_items, NULL), 0);
        CHECK_PTR(corio_lock_owner(lk), corio_task_current());
        items--;
        got_n++;
    }
    CHECK_EQ(corio_scope_timeout(0.01, &sc), 0);
    rc = corio_cond_wait_for(cv, have_items, NULL);
    CHECK_EQ(corio_scope_close(sc, rc), -ETIMEDOUT);
    CHECK_PTR(corio_lock_owner(lk), corio_task_current()); /* retaken */
    CHECK_EQ(corio_lock_release(lk), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(corio_cond_free(cv), 0);
    CHECK_EQ(corio_lock_free(lk), 0);
    return 0;
}

TEST(sync_cond_wait_for_and_timeout)
{
    CHECK_EQ(run(cond_wait_for), 0);
}

/* ---- Semaphore ---------------------------------------------------------------- */

static int sem_worker(void *arg, void **res)
{
    struct worker *k = arg;
    (void)res;
    k->rc = corio_sem_acquire(k->w->sem);
    if (k->rc == 0) {
        got(k->w, k->id);
        if (k->hold > 0)
            corio_sleep(k->hold);
        k->w->held--;
        CHECK_EQ(corio_sem_release(k->w->sem), 0);
        k->w->released++;
    }
    k->done = 1;
    return 0;
}

static int sem_basics(void)
{
    corio_sem *s;
    CHECK_EQ(corio_sem_new(-1, &s), -EINVAL);
    CHECK_EQ(corio_sem_new_bounded(-1, &s), -EINVAL);
    CHECK_EQ(corio_sem_new(2, &s), 0);
    CHECK_EQ(corio_sem_value(s), 2);
    CHECK_EQ(corio_sem_locked(s), 0);
    CHECK_EQ(corio_sem_acquire(s), 0);
    CHECK_EQ(corio_sem_try_acquire(s), 0);
    CHECK_EQ(corio_sem_locked(s), 1);
    CHECK_EQ(corio_sem_try_acquire(s), -EAGAIN);
    CHECK_EQ(corio_sem_release(s), 0);
    CHECK_EQ(corio_sem_release(s), 0);
    CHECK_EQ(corio_sem_release(s), 0); /* unbounded: may grow */
    CHECK_EQ(corio_sem_value(s), 3);
    CHECK_EQ(corio_sem_free(s), 0);
    CHECK_EQ(corio_sem_new_bounded(1, &s), 0);
    CHECK_EQ(corio_sem_release(s), -EOVERFLOW);
    CHECK_EQ(corio_sem_value(s), 1); /* unchanged */
    CHECK_EQ(corio_sem_acquire(s), 0);
    CHECK_EQ(corio_sem_release(s), 0);
    CHECK_EQ(corio_sem_release(s), -EOVERFLOW);
    CHECK_EQ(corio_sem_free(s), 0);
    CHECK_EQ(corio_sem_acquire(NULL), -EINVAL);
    CHECK_EQ(corio_sem_release(NULL), -EINVAL);
    return 0;
}

TEST(sync_sem_basics_and_bounded)
{
    CHECK_EQ(run(sem_basics), 0);
}

/*
 * Bounded semaphore of 2, both permits held by us, waiters A B C D.
 * A is cancelled while waiting; we release one permit, which goes to B,
 * and cancel B right then: B returns -ECANCELED and passes it to C; D
 * must still get one when we release the other. No permit is lost or
 * duplicated: the final value is 2 and -EOVERFLOW guards the bound.
 */
static int sem_cancel(void)
{
    struct world w = {0};
    struct worker k[4];
    corio_task *t[4];
    int i;
    CHECK_EQ(corio_sem_new_bounded(2, &w.sem), 0);
    CHECK_EQ(corio_sem_acquire(w.sem), 0);
    CHECK_EQ(corio_sem_acquire(w.sem), 0);
    for (i = 0; i < 4; i++) {
        k[i] = (struct worker){&w, i, 0.002, 1, 0, 0};
        t[i] = spawn(sem_worker, &k[i], i & 1 ? CORIO_CORO_LEAN : 0);
    }
    settle();
    CHECK_EQ(corio_sem_free(w.sem), -EBUSY);
    CHECK_EQ(corio_task_cancel(t[0]), 0);
    settle();
    CHECK_EQ(k[0].rc, -ECANCELED);
    CHECK_EQ(corio_sem_release(w.sem), 0);
    CHECK_EQ(corio_task_cancel(t[1]), 0); /* handed a permit, not run */
    CHECK_EQ(corio_sem_value(w.sem), 0);
    CHECK_EQ(corio_sem_release(w.sem), 0);
    for (i = 0; i < 4; i++) {
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    CHECK_EQ(k[1].rc, -ECANCELED);
    CHECK_EQ(k[2].rc, 0);
    CHECK_EQ(k[3].rc, 0);
    CHECK_EQ(w.order[0], 2);
    CHECK_EQ(w.order[1], 3);
    CHECK_EQ(w.acquired, 2);
    CHECK_EQ(w.released, 2);
    CHECK_EQ(corio_sem_value(w.sem), 2);
    CHECK_EQ(corio_sem_release(w.sem), -EOVERFLOW);
    CHECK_EQ(corio_sem_free(w.sem), 0);
    return 0;
}

TEST_FIFO(sync_sem_cancel_waiting_and_at_handoff,
          "waiters must queue on the semaphore in spawn order")
{
    CHECK_EQ(run(sem_cancel), 0);
}

static int timed_sem(void *arg, void **res)
{
    corio_scope *sc;
    int rc;
    (void)res;
    CHECK_EQ(corio_scope_timeout(0.01, &sc), 0);
    rc = corio_sem_acquire(arg);
    return corio_scope_close(sc, rc);
}

/*
 * 12 lean and full tasks share 3 permits, holding them across sleeps;
 * some acquire under short timeouts, and a killer cancels tasks at
 * random moments (while waiting, at the hand-over, while holding). At
 * most 3 ever hold a permit, and the value ends at 3 again.
 */
static int sem_stress(void)
{
    struct world w = {0};
    struct worker k[12];
    corio_task *t[12], *tt[4];
    unsigned seed = 12345;
    int i, round;
    CHECK_EQ(corio_sem_new_bounded(3, &w.sem), 0);
    for (i = 0; i < 12; i++) {
        k[i] = (struct worker){&w, i, 0.001 * (i % 3), 1, 0, 0};
        t[i] = spawn(sem_worker, &k[i], i & 1 ? CORIO_CORO_LEAN : 0);
    }
    for (i = 0; i < 4; i++)
        CHECK_EQ(corio_spawn(timed_sem, w.sem, NULL, &tt[i]), 0);
    for (round = 0; round < 12; round++) {
        seed = seed * 1103515245u + 12345u;
        corio_task_cancel(t[(seed >> 16) % 12]);
        if (round & 1)
            settle();
        else
            corio_sleep(0.0005);
    }
    for (i = 0; i < 12; i++) {
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    for (i = 0; i < 4; i++) {
        int rc = corio_task_join(tt[i], NULL);
        CHECK(rc == 0 || rc == -ETIMEDOUT);
        if (rc == 0)
            CHECK_EQ(corio_sem_release(w.sem), 0); /* took one for good */
        corio_task_release(tt[i]);
    }
    CHECK(w.max_held <= 3);
    CHECK_EQ(w.acquired, w.released);
    CHECK_EQ(corio_sem_value(w.sem), 3);
    CHECK_EQ(corio_sem_free(w.sem), 0);
    return 0;
}

TEST_FIFO(sync_sem_random_cancels_keep_permits,
          "timed acquirers keep their permits: they must queue behind workers")
{
    CHECK_EQ(run(sem_stress), 0);
}

/* ---- Barrier ------------------------------------------------------------------ */

static int bar_worker(void *arg, void **res)
{
    struct worker *k = arg;
    (void)res;
    k->rc = corio_barrier_wait(k->w->bar);
    k->done = 1;
    return 0;
}

static int barrier_basics(void)
{
    struct world w = {0};
    struct worker k[3];
    corio_task *t[3];
    int i, round, seen;
    CHECK_EQ(corio_barrier_new(0, &w.bar), -EINVAL);
    CHECK_EQ(corio_barrier_new(1, &w.bar), 0);
    CHECK_EQ(corio_barrier_wait(w.bar), 0); /* alone: no wait */
    CHECK_EQ(corio_barrier_free(w.bar), 0);
    CHECK_EQ(corio_barrier_new(4, &w.bar), 0);
    CHECK_EQ(corio_barrier_parties(w.bar), 4);
    for (round = 0; round < 2; round++) { /* reusable */
        for (i = 0; i < 3; i++) {
            k[i] = (struct worker){&w, i, 0, 1, 0, 0};
            t[i] = spawn(bar_worker, &k[i], i & 1 ? CORIO_CORO_LEAN : 0);
        }
        settle();
        CHECK_EQ(corio_barrier_n_waiting(w.bar), 3);
        CHECK_EQ(corio_barrier_free(w.bar), -EBUSY);
        CHECK_EQ(corio_barrier_wait(w.bar), 3); /* the last arrival */
        CHECK_EQ(corio_barrier_n_waiting(w.bar), 0);
        seen = 0;
        for (i = 0; i < 3; i++) {
            CHECK_EQ(corio_task_join(t[i], NULL), 0);
            corio_task_release(t[i]);
            CHECK_EQ(k[i].rc, i); /* FIFO indices */
            seen |= 1 << k[i].rc;
        }
        CHECK_EQ(seen, 7);
    }
    CHECK_EQ(corio_barrier_broken(w.bar), 0);
    CHECK_EQ(corio_barrier_free(w.bar), 0);
    return 0;
}

TEST_FIFO(sync_barrier_indices_and_reuse,
          "arrival indices are asserted in the workers' spawn order")
{
    CHECK_EQ(run(barrier_basics), 0);
}

static int barrier_break(void)
{
    struct world w = {0};
    struct worker k[2];
    corio_task *t[2];
    int i, pass;
    CHECK_EQ(corio_barrier_new(3, &w.bar), 0);
    for (pass = 0; pass < 2; pass++) { /* 0: abort, 1: reset */
        for (i = 0; i < 2; i++) {
            k[i] = (struct worker){&w, i, 0, 1, 0, 0};
            t[i] = spawn(bar_worker, &k[i], CORIO_CORO_LEAN);
        }
        settle();
        if (pass == 0)
            CHECK_EQ(corio_barrier_abort(w.bar), 0);
        else
            CHECK_EQ(corio_barrier_reset(w.bar), 0);
        for (i = 0; i < 2; i++) {
            CHECK_EQ(corio_task_join(t[i], NULL), 0);
            corio_task_release(t[i]);
            CHECK_EQ(k[i].rc, -EPIPE);
        }
        CHECK_EQ(corio_barrier_broken(w.bar), pass == 0);
        if (pass == 0) {
            CHECK_EQ(corio_barrier_wait(w.bar), -EPIPE); /* stays broken */
            CHECK_EQ(corio_barrier_reset(w.bar), 0);     /* usable again */
        }
        CHECK_EQ(corio_barrier_n_waiting(w.bar), 0);
    }
    CHECK_EQ(corio_barrier_free(w.bar), 0);
    return 0;
}

TEST(sync_barrier_abort_and_reset)
{
    CHECK_EQ(run(barrier_break), 0);
}

/*
 * Barrier of 3 with waiters A B. mode 0: A is cancelled while waiting;
 * it leaves, so our arrival does not complete the barrier, C's does.
 * mode 1: our arrival releases A and B, then we cancel A before it runs:
 * A returns -ECANCELED, B its index, and the barrier is empty and whole.
 */
static int barrier_cancel(int mode)
{
    struct world w = {0};
    struct worker k[3];
    corio_task *t[3];
    int i;
    CHECK_EQ(corio_barrier_new(3, &w.bar), 0);
    for (i = 0; i < 2; i++) {
        k[i] = (struct worker){&w, i, 0, 1, 0, 0};
        t[i] = spawn(bar_worker, &k[i], CORIO_CORO_LEAN);
    }
    settle();
    if (mode == 0) {
        CHECK_EQ(corio_task_cancel(t[0]), 0);
        settle();
        CHECK_EQ(k[0].rc, -ECANCELED);
        CHECK_EQ(corio_barrier_n_waiting(w.bar), 1);
        k[2] = (struct worker){&w, 2, 0, 1, 0, 0};
        t[2] = spawn(bar_worker, &k[2], 0);
        settle();
        CHECK_EQ(corio_barrier_n_waiting(w.bar), 2);
        CHECK_EQ(corio_barrier_wait(w.bar), 2);
        CHECK_EQ(corio_task_join(t[2], NULL), 0);
        corio_task_release(t[2]);
        CHECK_EQ(k[1].rc, 0);
        CHECK_EQ(k[2].rc, 1);
    } else {
        CHECK_EQ(corio_barrier_wait(w.bar), 2);
        CHECK_EQ(corio_task_cancel(t[0]), 0);
        settle();
        CHECK_EQ(k[0].rc, -ECANCELED);
        CHECK_EQ(k[1].rc, 1);
    }
    for (i = 0; i < 2; i++) {
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    CHECK_EQ(corio_barrier_n_waiting(w.bar), 0);
    CHECK_EQ(corio_barrier_broken(w.bar), 0);
    CHECK_EQ(corio_barrier_free(w.bar), 0);
    return 0;
}

static int barrier_cancel_waiting(void) { return barrier_cancel(0); }
static int barrier_cancel_released(void) { return barrier_cancel(1); }

TEST(sync_barrier_cancel_while_waiting)
{
    CHECK_EQ(run(barrier_cancel_waiting), 0);
}

TEST_FIFO(sync_barrier_cancel_at_release,
          "arrival indices are asserted in the workers' spawn order")
{
    CHECK_EQ(run(barrier_cancel_released), 0);
}

static int barrier_timeout(void)
{
    corio_barrier *b;
    corio_scope *sc;
    CHECK_EQ(corio_barrier_new(2, &b), 0);
    CHECK_EQ(corio_scope_timeout(0.01, &sc), 0);
    CHECK_EQ(corio_scope_close(sc, corio_barrier_wait(b)), -ETIMEDOUT);
    CHECK_EQ(corio_barrier_n_waiting(b), 0);
    CHECK_EQ(corio_barrier_free(b), 0);
    return 0;
}

TEST(sync_barrier_timeout)
{
    CHECK_EQ(run(barrier_timeout), 0);
}
