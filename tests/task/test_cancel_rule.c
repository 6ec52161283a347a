/*
 * test_cancel_rule.c: the one cancellation rule, call by call: every call
 * that would have to wait fails with -ECANCELED at once while a cancel
 * stands; a call that need not wait succeeds as usual (asyncio's fast
 * paths: the cancel is delivered at the next real wait).
 *
 * Each suspending call is tested both ways with a cancel standing (the
 * task cancels itself, or sits in a cancelled scope): (a) it need not
 * wait: normal result, normal change of state; (b) it would have to wait:
 * -ECANCELED, nothing changed, and it did not suspend. The proof of the
 * last point is a witness: a task spawned just before the call, which the
 * loop can only run once the caller suspends; it must not have run.
 *
 * Queues and topics are in chan/test_cancel_rule_chan.c.
 */
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "io_tasks.h"
#include "task/task_impl.h"
#include "run_body.h"
#include "cancel_rule.h"

/* ---- helpers ------------------------------------------------------------------ */

static int park_forever(void *arg, void **result)
{
    (void)result;
    return corio_event_wait(arg);
}

/* ---- sleep ------------------------------------------------------------------------ */

static int sleep_body(void)
{
    corio_scope *sc;
    witness();
    cancel_self();
    CHECK_EQ(corio_sleep(0), -ECANCELED); /* sleep(0) waits a turn */
    CHECK_EQ(corio_sleep(-1), -ECANCELED);
    CHECK_EQ(corio_sleep(0.001), -ECANCELED);
    CHECK_EQ(corio_sleep(INFINITY), -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    /* A cancelled scope too. */
    CHECK_EQ(corio_scope_move_on_after(0, &sc), 0);
    CHECK_EQ(corio_sleep(0), -ECANCELED);
    CHECK_EQ(corio_sleep(1e9), -ECANCELED);
    NOT_SUSPENDED();
    CHECK_EQ(corio_scope_close(sc, -ECANCELED), 0);
    CHECK_EQ(corio_sleep(0), 0);
    return 0;
}

TEST(task_cancel_rule_sleep)
{
    CHECK_EQ(run(sleep_body), 0);
}

/* ---- futures and joins ------------------------------------------------------------ */

static int future_await_body(void)
{
    corio_future *done, *failed, *pending;
    void *r = NULL;
    CHECK_EQ(corio_future_new(NULL, &done), 0);
    CHECK_EQ(corio_future_new(NULL, &failed), 0);
    CHECK_EQ(corio_future_new(NULL, &pending), 0);
    CHECK_EQ(corio_future_set_result(done, IP(7)), 0);
    CHECK_EQ(corio_future_set_error(failed, -EIO), 0);
    witness();
    cancel_self();
    /* (a) done: its outcome. */
    CHECK_EQ(corio_future_await(done, &r), 0);
    CHECK_PTR(r, IP(7));
    CHECK_EQ(corio_future_await(failed, NULL), -EIO);
    /* (b) pending: -ECANCELED, and f is left alone (not cancelled). */
    r = NULL;
    CHECK_EQ(corio_future_await(pending, &r), -ECANCELED);
    CHECK_PTR(r, NULL);
    CHECK_EQ(corio_future_done(pending), 0);
    CHECK(corio__list_empty(&pending->waiters));
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_future_set_result(pending, IP(8)), 0);
    CHECK_EQ(corio_future_await(pending, &r), 0);
    CHECK_PTR(r, IP(8));
    corio_future_release(done);
    corio_future_release(failed);
    corio_future_release(pending);
    return 0;
}

TEST(task_cancel_rule_future_await)
{
    CHECK_EQ(run(future_await_body), 0);
}

static int child_value(void *arg, void **result)
{
    *result = arg;
    return 0;
}

static int join_body(void)
{
    corio_task *finished, *running;
    void *r = NULL;
    CHECK_EQ(corio_spawn(child_value, IP(5), NULL, &finished), 0);
    CHECK_EQ(corio_sleep(0), 0); /* it runs and ends */
    CHECK(corio_task_done(finished));
    CHECK_EQ(corio_spawn(child_value, IP(6), NULL, &running), 0);
    witness();
    cancel_self();
    /* (a) done: its result. */
    CHECK_EQ(corio_task_join(finished, &r), 0);
    CHECK_PTR(r, IP(5));
    /* (b) not done: -ECANCELED, and the child is not cancelled. */
    r = NULL;
    CHECK_EQ(corio_task_join(running, &r), -ECANCELED);
    CHECK_PTR(r, NULL);
    CHECK_EQ(corio_task_done(running), 0);
    CHECK_EQ(corio_task_cancelling(running), 0);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_task_join(running, &r), 0);
    CHECK_PTR(r, IP(6));
    corio_task_release(finished);
    corio_task_release(running);
    return 0;
}

TEST_FIFO(task_cancel_rule_join,
          "one sleep(0) lets the spawned child run and end first")
{
    CHECK_EQ(run(join_body), 0);
}

/*
 * The raw await protocol: corio_await yields the future to the loop, so it
 * always comes back through the ready queue (one turn, as a bare yield);
 * what the rule decides is whether it waits for the future. Done: 0. Not
 * done, cancel standing: -ECANCELED after that one turn, the future left
 * alone and never waited on.
 */
static int raw_await_body(void)
{
    corio_future *done, *pending;
    CHECK_EQ(corio_future_new(NULL, &done), 0);
    CHECK_EQ(corio_future_new(NULL, &pending), 0);
    CHECK_EQ(corio_future_set_result(done, IP(1)), 0);
    cancel_self();
    CHECK_EQ(corio_await(done, NULL), 0);
    CHECK_EQ(corio_await(pending, NULL), -ECANCELED);
    CHECK_EQ(corio_future_done(pending), 0);
    CHECK(corio__list_empty(&pending->waiters));
    uncancel_self();
    corio_future_release(done);
    corio_future_release(pending);
    return 0;
}

TEST(task_cancel_rule_raw_await)
{
    CHECK_EQ(run(raw_await_body), 0);
}

/* ---- corio_context_run ------------------------------------------------------------------ */

static int ctx_no_wait(void *arg)
{
    return (int)PI(arg);
}

static int ctx_sleeps(void *arg)
{
    (void)arg;
    return corio_sleep(0.001);
}

static int ctx_run_body(void)
{
    corio_context *ctx;
    CHECK_EQ(corio_context_copy(&ctx), 0);
    witness();
    cancel_self();
    CHECK_EQ(corio_context_run(ctx, ctx_no_wait, IP(3)), 3);
    CHECK_EQ(corio_context_run(ctx, ctx_sleeps, NULL), -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_context_run(ctx, ctx_sleeps, NULL), 0);
    corio_context_release(ctx);
    return 0;
}

TEST(task_cancel_rule_ctx_run)
{
    CHECK_EQ(run(ctx_run_body), 0);
}

/* ---- sync primitives ---------------------------------------------------------------- */

static corio_lock *hold_lk;

static int hold_lock(void *arg, void **result)
{
    int rc;
    (void)result;
    CHECK_EQ(corio_lock_acquire(hold_lk), 0);
    rc = corio_event_wait(arg);
    CHECK_EQ(corio_lock_release(hold_lk), 0);
    return rc;
}

static int lock_body(void)
{
    corio_lock *lk;
    corio_event *ev;
    corio_task *holder;
    CHECK_EQ(corio_lock_new(&lk), 0);
    CHECK_EQ(corio_event_new(&ev), 0);
    /* (a) free: taken. */
    witness();
    cancel_self();
    CHECK_EQ(corio_lock_acquire(lk), 0);
    CHECK_PTR(corio_lock_owner(lk), corio_task_current());
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_lock_release(lk), 0);
    /* (b) held by another task: -ECANCELED, not queued, not held. */
    hold_lk = lk;
    CHECK_EQ(corio_spawn(hold_lock, ev, NULL, &holder), 0);
    while (!corio_lock_locked(lk))
        CHECK_EQ(corio_sleep(0), 0);
    witness();
    cancel_self();
    CHECK_EQ(corio_lock_acquire(lk), -ECANCELED);
    CHECK_PTR(corio_lock_owner(lk), holder);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_event_set(ev), 0);
    CHECK_EQ(corio_task_join(holder, NULL), 0);
    CHECK_EQ(corio_lock_locked(lk), 0);
    corio_task_release(holder);
    CHECK_EQ(corio_lock_free(lk), 0); /* -EBUSY if we were left queued */
    CHECK_EQ(corio_event_free(ev), 0);
    return 0;
}

TEST(sync_cancel_rule_lock)
{
    CHECK_EQ(run(lock_body), 0);
}

static int event_body(void)
{
    corio_event *ev;
    CHECK_EQ(corio_event_new(&ev), 0);
    CHECK_EQ(corio_event_set(ev), 0);
    witness();
    cancel_self();
    CHECK_EQ(corio_event_wait(ev), 0);
    corio_event_clear(ev);
    CHECK_EQ(corio_event_wait(ev), -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_event_free(ev), 0); /* nobody left waiting */
    return 0;
}

TEST(sync_cancel_rule_event)
{
    CHECK_EQ(run(event_body), 0);
}

static int pred_calls;

static int pred_value(void *arg)
{
    pred_calls++;
    return (int)PI(arg);
}

static int cond_body(void)
{
    corio_cond *c;
    corio_lock *lk;
    CHECK_EQ(corio_cond_new(NULL, &c), 0);
    lk = corio_cond_lock(c);
    CHECK_EQ(corio_lock_acquire(lk), 0);
    witness();
    cancel_self();
    /* wait always waits: -ECANCELED, the lock never let go. */
    CHECK_EQ(corio_cond_wait(c), -ECANCELED);
    CHECK_PTR(corio_lock_owner(lk), corio_task_current());
    /* wait_for: a true predicate need not wait. */
    pred_calls = 0;
    CHECK_EQ(corio_cond_wait_for(c, pred_value, IP(1)), 0);
    CHECK_EQ(pred_calls, 1);
    CHECK_PTR(corio_lock_owner(lk), corio_task_current());
    /* A false one would. */
    CHECK_EQ(corio_cond_wait_for(c, pred_value, IP(0)), -ECANCELED);
    CHECK_PTR(corio_lock_owner(lk), corio_task_current());
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_lock_release(lk), 0);
    CHECK_EQ(corio_cond_free(c), 0); /* nobody left waiting */
    return 0;
}

TEST(sync_cancel_rule_cond)
{
    CHECK_EQ(run(cond_body), 0);
}

static int sem_body(void)
{
    corio_sem *s;
    CHECK_EQ(corio_sem_new(1, &s), 0);
    witness();
    cancel_self();
    CHECK_EQ(corio_sem_acquire(s), 0);
    CHECK_EQ(corio_sem_value(s), 0);
    CHECK_EQ(corio_sem_acquire(s), -ECANCELED);
    CHECK_EQ(corio_sem_value(s), 0);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_sem_release(s), 0);
    CHECK_EQ(corio_sem_value(s), 1); /* no permit lost or made up */
    CHECK_EQ(corio_sem_free(s), 0);
    return 0;
}

TEST(sync_cancel_rule_sem)
{
    CHECK_EQ(run(sem_body), 0);
}

static int barrier_party(void *arg, void **result)
{
    *result = IP(corio_barrier_wait(arg));
    return 0;
}

static int barrier_body(void)
{
    corio_barrier *b;
    corio_task *other;
    void *r = NULL;
    CHECK_EQ(corio_barrier_new(2, &b), 0);
    /* (b) not the last party: -ECANCELED, the barrier still empty. */
    witness();
    cancel_self();
    CHECK_EQ(corio_barrier_wait(b), -ECANCELED);
    CHECK_EQ(corio_barrier_n_waiting(b), 0);
    CHECK_EQ(corio_barrier_broken(b), 0);
    NOT_SUSPENDED();
    uncancel_self();
    /* (a) the last party: through, and the other one with it. */
    CHECK_EQ(corio_spawn(barrier_party, b, NULL, &other), 0);
    while (corio_barrier_n_waiting(b) < 1)
        CHECK_EQ(corio_sleep(0), 0);
    witness();
    cancel_self();
    CHECK_EQ(corio_barrier_wait(b), 1);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_task_join(other, &r), 0);
    CHECK_EQ(PI(r), 0);
    CHECK_EQ(corio_barrier_n_waiting(b), 0);
    corio_task_release(other);
    CHECK_EQ(corio_barrier_free(b), 0);
    return 0;
}

TEST(sync_cancel_rule_barrier)
{
    CHECK_EQ(run(barrier_body), 0);
}

/* ---- combinators ------------------------------------------------------------------ */

static int gather_body(void)
{
    corio_future *f[2], *g[2];
    void *res[2] = {NULL, NULL};
    int errs[2] = {1, 1};
    CHECK_EQ(corio_future_new(NULL, &f[0]), 0);
    CHECK_EQ(corio_future_new(NULL, &f[1]), 0);
    CHECK_EQ(corio_future_new(NULL, &g[0]), 0);
    CHECK_EQ(corio_future_new(NULL, &g[1]), 0);
    CHECK_EQ(corio_future_set_result(f[0], IP(1)), 0);
    CHECK_EQ(corio_future_set_result(f[1], IP(2)), 0);
    CHECK_EQ(corio_future_set_error(g[0], -EIO), 0);
    witness();
    cancel_self();
    /* (a) all done: the results; nothing of nothing. */
    CHECK_EQ(corio_gather(f, 2, 0, res, NULL), 0);
    CHECK_PTR(res[0], IP(1));
    CHECK_PTR(res[1], IP(2));
    CHECK_EQ(corio_gather(NULL, 0, 0, NULL, NULL), 0);
    CHECK_EQ(corio_gather(f, 2, CORIO_GATHER_COLLECT, res, errs), 0);
    CHECK_EQ(errs[0], 0);
    /* (a) one failed already: its error, the other left running. */
    CHECK_EQ(corio_gather(g, 2, 0, NULL, NULL), -EIO);
    CHECK_EQ(corio_future_done(g[1]), 0);
    NOT_SUSPENDED();
    /* (b) one pending (a plain future): gather cancels it, which
     * completes it at once, so it returns -ECANCELED without waiting. */
    res[0] = res[1] = NULL;
    CHECK_EQ(corio_gather(g + 1, 1, 0, res, NULL), -ECANCELED);
    CHECK_PTR(res[0], NULL);
    CHECK(corio_future_cancelled(g[1]));
    NOT_SUSPENDED();
    uncancel_self();
    corio_future_release(f[0]);
    corio_future_release(f[1]);
    corio_future_release(g[0]);
    corio_future_release(g[1]);
    return 0;
}

TEST(combine_cancel_rule_gather)
{
    CHECK_EQ(run(gather_body), 0);
}

/*
 * gather with a pending task among its futures: it cancels the task and
 * waits until it has ended (combine.h: no child runs on after gather
 * returns), so this wait is the documented exception to "at once".
 */
static int gather_task_body(void)
{
    corio_event *ev;
    corio_task *child;
    corio_future *f;
    CHECK_EQ(corio_event_new(&ev), 0);
    CHECK_EQ(corio_spawn(park_forever, ev, NULL, &child), 0);
    f = corio_task_future(child);
    cancel_self();
    CHECK_EQ(corio_gather(&f, 1, 0, NULL, NULL), -ECANCELED);
    CHECK(corio_task_done(child));
    CHECK(corio_task_cancelled(child));
    uncancel_self();
    corio_task_release(child);
    CHECK_EQ(corio_event_free(ev), 0);
    return 0;
}

TEST(combine_cancel_rule_gather_task)
{
    CHECK_EQ(run(gather_task_body), 0);
}

static int wait_body(void)
{
    corio_future *f[2];
    size_t nd = 99;
    CHECK_EQ(corio_future_new(NULL, &f[0]), 0);
    CHECK_EQ(corio_future_new(NULL, &f[1]), 0);
    CHECK_EQ(corio_future_set_result(f[0], NULL), 0);
    witness();
    cancel_self();
    /* (a) the condition holds, or the timeout is over. */
    CHECK_EQ(corio_wait(f, 2, CORIO_WAIT_FIRST_COMPLETED, INFINITY, &nd), 0);
    CHECK_EQ(nd, 1);
    nd = 99;
    CHECK_EQ(corio_wait(f + 1, 1, CORIO_WAIT_ALL_COMPLETED, 0, &nd), 0);
    CHECK_EQ(nd, 0);
    /* (b) it does not: -ECANCELED, futures not cancelled. */
    nd = 99;
    CHECK_EQ(corio_wait(f, 2, CORIO_WAIT_ALL_COMPLETED, INFINITY, &nd),
             -ECANCELED);
    CHECK_EQ(nd, 99);
    CHECK_EQ(corio_future_done(f[1]), 0);
    CHECK(corio__list_empty(&f[1]->waiters));
    NOT_SUSPENDED();
    uncancel_self();
    corio_future_release(f[0]);
    corio_future_release(f[1]);
    return 0;
}

TEST(combine_cancel_rule_wait)
{
    CHECK_EQ(run(wait_body), 0);
}

static int as_completed_body(void)
{
    corio_future *f[2], *got = NULL;
    corio_as_completed *it;
    CHECK_EQ(corio_future_new(NULL, &f[0]), 0);
    CHECK_EQ(corio_future_new(NULL, &f[1]), 0);
    CHECK_EQ(corio_future_set_result(f[1], NULL), 0);
    CHECK_EQ(corio_as_completed_new(f, 2, INFINITY, &it), 0);
    witness();
    cancel_self();
    CHECK_EQ(corio_as_completed_next(it, &got), 0);
    CHECK_PTR(got, f[1]);
    got = NULL;
    CHECK_EQ(corio_as_completed_next(it, &got), -ECANCELED);
    CHECK_PTR(got, NULL);
    CHECK_EQ(corio_future_done(f[0]), 0);
    NOT_SUSPENDED();
    uncancel_self();
    /* The iterator is still usable and loses nothing. */
    CHECK_EQ(corio_future_set_result(f[0], NULL), 0);
    CHECK_EQ(corio_as_completed_next(it, &got), 0);
    CHECK_PTR(got, f[0]);
    CHECK_EQ(corio_as_completed_next(it, &got), CORIO_END);
    corio_as_completed_free(it);
    corio_future_release(f[0]);
    corio_future_release(f[1]);
    return 0;
}

TEST(combine_cancel_rule_as_completed)
{
    CHECK_EQ(run(as_completed_body), 0);
}

static int wait_for_body(void)
{
    corio_future *done, *p1, *p2;
    void *r = NULL;
    CHECK_EQ(corio_future_new(NULL, &done), 0);
    CHECK_EQ(corio_future_new(NULL, &p1), 0);
    CHECK_EQ(corio_future_new(NULL, &p2), 0);
    CHECK_EQ(corio_future_set_result(done, IP(4)), 0);
    witness();
    cancel_self();
    /* (a) done: its outcome, whatever the timeout. */
    CHECK_EQ(corio_wait_for(done, 5.0, &r), 0);
    CHECK_PTR(r, IP(4));
    CHECK_EQ(corio_wait_for(done, 0, &r), 0);
    /* (b) pending: f is cancelled (a plain future ends at once), and
     * wait_for returns -ECANCELED; the cancel count is unchanged. */
    r = NULL;
    CHECK_EQ(corio_wait_for(p1, INFINITY, &r), -ECANCELED);
    CHECK(corio_future_cancelled(p1));
    CHECK_EQ(corio_wait_for(p2, 5.0, &r), -ECANCELED);
    CHECK(corio_future_cancelled(p2));
    CHECK_PTR(r, NULL);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 1);
    NOT_SUSPENDED();
    uncancel_self();
    corio_future_release(done);
    corio_future_release(p1);
    corio_future_release(p2);
    return 0;
}

TEST(combine_cancel_rule_wait_for)
{
    CHECK_EQ(run(wait_for_body), 0);
}

/* ---- groups ----------------------------------------------------------------------- */

/*
 * corio_group_wait is not cut short by cancellation: (a) no child alive:
 * it returns at once, with the body's outcome; (b) children alive: they
 * are cancelled, waited for, and it returns -ECANCELED.
 */
static int group_body(void)
{
    corio_group *g;
    corio_event *ev;
    corio_task *child;
    CHECK_EQ(corio_event_new(&ev), 0);

    CHECK_EQ(corio_group_open(&g), 0);
    witness();
    cancel_self();
    CHECK_EQ(corio_group_wait(g, 0), 0);
    NOT_SUSPENDED();
    uncancel_self();
    corio_group_free(g);

    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, park_forever, ev, NULL, &child), 0);
    cancel_self();
    CHECK_EQ(corio_group_wait(g, 0), -ECANCELED);
    CHECK(corio_task_cancelled(child));
    uncancel_self();
    corio_task_release(child);
    corio_group_free(g);
    CHECK_EQ(corio_event_free(ev), 0);
    return 0;
}

TEST(group_cancel_rule_wait)
{
    CHECK_EQ(run(group_body), 0);
}

/* ---- descriptors -------------------------------------------------------------------- */

static int read_body(void)
{
    int sv[2];
    char c = 0;
    make_socketpair(sv);
    CHECK_EQ(write(sv[1], "xy", 2), 2);
    witness();
    cancel_self();
    /* (a) data there: read. */
    CHECK_EQ(corio_read(sv[0], &c, 1), 1);
    CHECK_EQ(c, 'x');
    CHECK_EQ(corio_read(sv[0], &c, 1), 1);
    CHECK_EQ(c, 'y');
    /* (b) none: -ECANCELED, nobody waiting. */
    CHECK_EQ(corio_read(sv[0], &c, 1), -ECANCELED);
    CHECK_EQ(io_waiting(), 0);
    NOT_SUSPENDED();
    /* End of file needs no wait either. */
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    CHECK_EQ(corio_read(sv[0], &c, 1), 0);
    uncancel_self();
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    return 0;
}

TEST(io_cancel_rule_read)
{
    CHECK_EQ(run(read_body), 0);
}

/* Fill fd's send buffer; returns how many bytes went in. */
static size_t fill(int fd)
{
    static char junk[65536];
    size_t total = 0;
    ssize_t n;
    while ((n = send(fd, junk, sizeof junk, MSG_NOSIGNAL)) > 0)
        total += (size_t)n;
    CHECK(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    return total;
}

/* Read everything there is; returns how many bytes. */
static size_t drain_all(int fd)
{
    static char buf[65536];
    size_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += (size_t)n;
    return total;
}

static int write_body(void)
{
    int sv[2];
    size_t in, w = 99;
    make_socketpair(sv);
    witness();
    cancel_self();
    /* (a) room: written. */
    CHECK_EQ(corio_write(sv[0], "ab", 2), 2);
    CHECK_EQ(corio_write_all(sv[0], "cd", 2, &w), 0);
    CHECK_EQ(w, 2);
    CHECK_EQ(drain_all(sv[1]), 4);
    /* (b) full: -ECANCELED, nothing written. */
    in = fill(sv[0]);
    CHECK_EQ(corio_write(sv[0], "z", 1), -ECANCELED);
    w = 99;
    CHECK_EQ(corio_write_all(sv[0], "z", 1, &w), -ECANCELED);
    CHECK_EQ(w, 0);
    CHECK_EQ(io_waiting(), 0);
    NOT_SUSPENDED();
    CHECK_EQ(drain_all(sv[1]), in);
    uncancel_self();
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(io_cancel_rule_write)
{
    CHECK_EQ(run(write_body), 0);
}

static int wait_ready_body(void)
{
    int sv[2];
    char c;
    make_socketpair(sv);
    witness();
    cancel_self();
    /* Nothing to read, room to write. */
    CHECK_EQ(corio_wait_readable(sv[0]), -ECANCELED);
    CHECK_EQ(corio_wait_writable(sv[0]), 0);
    /* Readable now: the loop has not heard of it yet, but corio looks. */
    CHECK_EQ(write(sv[1], "q", 1), 1);
    CHECK_EQ(corio_wait_readable(sv[0]), 0);
    CHECK_EQ(corio_wait_readable(sv[0]), 0); /* consumes nothing */
    CHECK_EQ(read(sv[0], &c, 1), 1);
    CHECK_EQ(corio_wait_readable(sv[0]), -ECANCELED);
    /* Full: not writable. */
    fill(sv[0]);
    CHECK_EQ(corio_wait_writable(sv[0]), -ECANCELED);
    CHECK_EQ(io_waiting(), 0);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(io_cancel_rule_wait_ready)
{
    CHECK_EQ(run(wait_ready_body), 0);
}

/* A listening Unix stream socket with an abstract name of its own. */
static int unix_listener(struct sockaddr_un *sa, socklen_t *len)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path + 1, sizeof sa->sun_path - 1, "corio-cr-%d",
             (int)getpid());
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                       strlen(sa->sun_path + 1));
    CHECK_EQ(bind(fd, (struct sockaddr *)sa, *len), 0);
    CHECK_EQ(listen(fd, 8), 0);
    return fd;
}

static int accept_connect_body(void)
{
    struct sockaddr_un sa;
    socklen_t len;
    int lfd = unix_listener(&sa, &len);
    int cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int afd;
    CHECK(cfd >= 0);
    witness();
    cancel_self();
    /* (a) a Unix connect completes at once, and is then accepted. */
    CHECK_EQ(corio_connect(cfd, (struct sockaddr *)&sa, len), 0);
    afd = corio_accept(lfd, NULL, NULL);
    CHECK(afd >= 0);
    /* (b) no connection queued: -ECANCELED. */
    CHECK_EQ(corio_accept(lfd, NULL, NULL), -ECANCELED);
    CHECK_EQ(io_waiting(), 0);
    NOT_SUSPENDED();
    uncancel_self();
    /* The accepted connection works. */
    CHECK_EQ(corio_write(cfd, "k", 1), 1);
    {
        char c = 0;
        CHECK_EQ(corio_read(afd, &c, 1), 1);
        CHECK_EQ(c, 'k');
    }
    CHECK_EQ(corio_fd_close(afd), 0);
    CHECK_EQ(corio_fd_close(cfd), 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
    return 0;
}

TEST(io_cancel_rule_accept_connect)
{
    CHECK_EQ(run(accept_connect_body), 0);
}

/*
 * A TCP connect that is still in progress would have to wait: -ECANCELED
 * (the attempt may go on: io.h says to close the socket). Should the
 * kernel complete a loopback connect within the call, it need not wait
 * and returns 0; both are the rule.
 */
static int tcp_connect_body(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc;
    CHECK(lfd >= 0 && cfd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, len), 0);
    CHECK_EQ(listen(lfd, 8), 0);
    CHECK_EQ(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    witness();
    cancel_self();
    rc = corio_connect(cfd, (struct sockaddr *)&sa, len);
    CHECK(rc == -ECANCELED || rc == 0);
    CHECK_EQ(io_waiting(), 0);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_fd_close(cfd), 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
    return 0;
}

TEST(io_cancel_rule_tcp_connect)
{
    CHECK_EQ(run(tcp_connect_body), 0);
}

/* ---- signals ------------------------------------------------------------------------ */

static int blocked_here(int signo)
{
    sigset_t cur;
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
    return sigismember(&cur, signo) == 1;
}

static int signal_body(void)
{
    sigset_t one;
    witness();
    cancel_self();
    /* (b) never waited for, not pending: -ECANCELED, and corio took
     * nothing over (the signal is not blocked). */
    CHECK_EQ(corio_signal_wait(SIGUSR1), -ECANCELED);
    CHECK_EQ(blocked_here(SIGUSR1), 0);
    /* (a) pending while the program blocks it: delivered at once. */
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, &one, NULL), 0);
    CHECK_EQ(raise(SIGUSR1), 0);
    CHECK_EQ(corio_signal_wait(SIGUSR1), 0);
    /* Delivered to corio's signalfd, not yet read by the loop. */
    CHECK_EQ(raise(SIGUSR1), 0);
    CHECK_EQ(corio_signal_wait(SIGUSR1), 0);
    /* (b) nothing pending: -ECANCELED, nobody waiting. */
    CHECK_EQ(corio_signal_wait(SIGUSR1), -ECANCELED);
    CHECK_EQ(io_waiting(), 0);
    NOT_SUSPENDED();
    uncancel_self();
    return 0;
}

TEST(signal_cancel_rule_wait)
{
    CHECK_EQ(run(signal_body), 0);
}

/* ---- async generators ---------------------------------------------------------------- */

/* Yields 1, 2, ... without waiting. Its cleanup does not wait either. */
static int gen_quick(void *arg, void **result)
{
    intptr_t i;
    int rc;
    (void)arg;
    (void)result;
    for (i = 1;; i++)
        if ((rc = corio_yield(IP(i), NULL)) != 0)
            return rc;
}

/* Sleeps before each item, and in its cleanup. */
static int gen_slow(void *arg, void **result)
{
    intptr_t i;
    int rc;
    (void)arg;
    (void)result;
    for (i = 1;; i++) {
        if ((rc = corio_sleep(0.001)) != 0)
            return rc;
        if ((rc = corio_yield(IP(i), NULL)) != 0)
            return rc == CORIO_EEXIT ? corio_sleep(0.001) : rc;
    }
}

static int agen_body(void)
{
    corio_agen *q, *s, *c;
    void *item = NULL;
    CHECK_EQ(corio_agen_new(gen_quick, NULL, NULL, &q), 0);
    CHECK_EQ(corio_agen_new(gen_slow, NULL, NULL, &s), 0);
    CHECK_EQ(corio_agen_new(gen_slow, NULL, NULL, &c), 0);
    CHECK_EQ(corio_agen_next(s, &item), 0); /* suspended at their yield */
    CHECK_EQ(corio_agen_next(c, &item), 0);
    witness();
    cancel_self();
    /* (a) an item without waiting; a close whose cleanup does not wait. */
    CHECK_EQ(corio_agen_next(q, &item), 0);
    CHECK_PTR(item, IP(1));
    CHECK_EQ(corio_agen_send(q, NULL, &item), 0);
    CHECK_PTR(item, IP(2));
    CHECK_EQ(corio_agen_close(q), 0);
    CHECK_EQ(corio_agen_state(q), CORIO_CORO_CLOSED);
    /* (b) next, send or close would wait: the generator's wait fails and
     * it returns that (this one gives up, so it is closed). */
    {
        corio_agen *s2;
        CHECK_EQ(corio_agen_new(gen_slow, NULL, NULL, &s2), 0);
        CHECK_EQ(corio_agen_next(s2, &item), -ECANCELED);
        CHECK_PTR(item, NULL);
        CHECK_EQ(corio_agen_state(s2), CORIO_CORO_CLOSED);
        CHECK_EQ(corio_agen_free(s2), 0);
    }
    CHECK_EQ(corio_agen_send(s, NULL, &item), -ECANCELED);
    CHECK_EQ(corio_agen_state(s), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_close(s), 0); /* closed already */
    CHECK_EQ(corio_agen_close(c), -ECANCELED);
    CHECK_EQ(corio_agen_state(c), CORIO_CORO_CLOSED);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_agen_free(q), 0);
    CHECK_EQ(corio_agen_free(s), 0);
    CHECK_EQ(corio_agen_free(c), 0);
    return 0;
}

TEST(agen_cancel_rule_next_close)
{
    CHECK_EQ(run(agen_body), 0);
}

static int agen_shutdown_body(void)
{
    corio_agen *g;
    void *item;
    witness();
    cancel_self();
    /* (a) nothing to close: 0. */
    CHECK_EQ(corio_agen_shutdown(), 0);
    /* (b) a suspended generator would be closed in a task and waited
     * for: -ECANCELED, and it is left alone. */
    CHECK_EQ(corio_agen_new(gen_quick, NULL, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &item), 0);
    CHECK_EQ(corio_agen_shutdown(), -ECANCELED);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_SUSPENDED);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_agen_shutdown(), 0);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_free(g), 0);
    return 0;
}

TEST(agen_cancel_rule_shutdown)
{
    CHECK_EQ(run(agen_shutdown_body), 0);
}
