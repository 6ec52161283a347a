/*
 * test_signal.c: tasks waiting for signals (corio_signal_wait, io.h).
 *
 * Each case runs in a process of its own, so the signals it blocks and
 * raises cannot leak into other cases. The signals are raised with
 * kill(getpid()): process-directed, as a signal from outside would be.
 */
#include "test.h"
#include "helpers.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "task/task_impl.h"

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

static size_t io_waiting(void)
{
    return corio_loop_current()->outside_waits;
}

static int blocked_here(int signo)
{
    sigset_t cur;
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
    return sigismember(&cur, signo);
}

static void run_main(corio_coro_fn main_fn, void *arg)
{
    int rc = corio_run(main_fn, arg, NULL);
    if (rc != 0)
        corio_test_fail(__FILE__, __LINE__, "corio_run: %s (%s)",
                        corio_errname(rc), corio_strerror(rc));
}

struct waiting {
    int signo;
    int rc;
};

static int wait_task(void *arg, void **result)
{
    struct waiting *w = arg;
    (void)result;
    w->rc = corio_signal_wait(w->signo);
    return w->rc;
}

static int raise_later(void *arg, void **result)
{
    int signo = (int)PI(arg);
    (void)result;
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(kill(getpid(), signo), 0);
    return 0;
}

static int wakes_main(void *arg, void **result)
{
    struct waiting w = {SIGUSR1, 99};
    corio_task *tw, *tr;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_spawn(wait_task, &w, NULL, &tw), 0);
    CHECK_EQ(corio_spawn(raise_later, IP(SIGUSR1), NULL, &tr), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK(!corio_task_done(tw));
    CHECK_EQ(io_waiting(), 1);
    CHECK(blocked_here(SIGUSR1)); /* from the first wait on */
    CHECK_EQ(corio_task_join(tw, NULL), 0);
    CHECK_EQ(w.rc, 0);
    CHECK_EQ(corio_task_join(tr, NULL), 0);
    CHECK_EQ(io_waiting(), 0);
    corio_task_release(tw);
    corio_task_release(tr);
    return 0;
}

TEST(signal_wait_returns_on_delivery)
{
    CHECK(!blocked_here(SIGUSR1));
    run_main(wakes_main, NULL);
    CHECK(!blocked_here(SIGUSR1)); /* restored when the loop was freed */
}

static int two_waiters_main(void *arg, void **result)
{
    struct waiting a = {SIGUSR2, 99}, b = {SIGUSR2, 99}, other = {SIGUSR1, 99};
    corio_task *ta, *tb, *to;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_spawn(wait_task, &a, NULL, &ta), 0);
    CHECK_EQ(corio_spawn(wait_task, &b, NULL, &tb), 0);
    CHECK_EQ(corio_spawn(wait_task, &other, NULL, &to), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(io_waiting(), 3);
    CHECK_EQ(kill(getpid(), SIGUSR2), 0);
    CHECK_EQ(corio_task_join(ta, NULL), 0);
    CHECK_EQ(corio_task_join(tb, NULL), 0);
    CHECK_EQ(a.rc, 0);
    CHECK_EQ(b.rc, 0);
    /* The SIGUSR1 waiter heard nothing. */
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK(!corio_task_done(to));
    CHECK_EQ(io_waiting(), 1);
    CHECK_EQ(kill(getpid(), SIGUSR1), 0);
    CHECK_EQ(corio_task_join(to, NULL), 0);
    corio_task_release(ta);
    corio_task_release(tb);
    corio_task_release(to);
    return 0;
}

TEST(signal_one_delivery_wakes_every_waiter)
{
    run_main(two_waiters_main, NULL);
}

static int cancel_main(void *arg, void **result)
{
    struct waiting w = {SIGUSR1, 99};
    corio_task *t;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_spawn(wait_task, &w, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(io_waiting(), 1);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(io_waiting(), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(w.rc, -ECANCELED);
    corio_task_release(t);
    /* With a cancel standing, a wait fails at once. */
    CHECK_EQ(corio_task_cancel(corio_task_current()), 0);
    CHECK_EQ(corio_signal_wait(SIGUSR1), -ECANCELED);
    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    return 0;
}

TEST(signal_wait_cancelled)
{
    run_main(cancel_main, NULL);
}

static int pending_main(void *arg, void **result)
{
    struct waiting w = {SIGUSR1, 99};
    corio_task *t;
    (void)arg;
    (void)result;
    /* A first wait makes the loop take SIGUSR1 (cancelled at once). */
    CHECK_EQ(corio_spawn(wait_task, &w, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    corio_task_cancel(t);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    corio_task_release(t);

    /* Delivered, and read by the loop, while nobody waits. */
    CHECK_EQ(kill(getpid(), SIGUSR1), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    /* At once: it was kept. The waiter is done after a few yields here
     * (counted, not timed); a lost signal would leave it waiting. */
    w.rc = 99;
    CHECK_EQ(corio_spawn(wait_task, &w, NULL, &t), 0);
    settle();
    CHECK(corio_task_done(t));
    CHECK_EQ(w.rc, 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);

    /* Kept once, like the kernel's pending set: a second wait waits. */
    CHECK_EQ(corio_spawn(wait_task, &w, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK(!corio_task_done(t));
    CHECK_EQ(kill(getpid(), SIGUSR1), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);

    /* Raised and waited for in the same step, before the loop looks. */
    CHECK_EQ(kill(getpid(), SIGUSR1), 0);
    CHECK_EQ(corio_signal_wait(SIGUSR1), 0);
    CHECK_EQ(io_waiting(), 0);
    return 0;
}

TEST(signal_raised_before_wait_is_kept)
{
    run_main(pending_main, NULL);
}

static int already_pending_main(void *arg, void **result)
{
    (void)arg;
    (void)result;
    /* SIGUSR2 was blocked and made pending before corio ever saw it. */
    CHECK_EQ(corio_signal_wait(SIGUSR2), 0);
    return 0;
}

TEST(signal_pending_before_first_wait)
{
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
    CHECK_EQ(kill(getpid(), SIGUSR2), 0);
    run_main(already_pending_main, NULL);
    /* Blocked by us, not by corio: still blocked, and consumed. */
    CHECK(blocked_here(SIGUSR2));
    CHECK_EQ(sigpending(&pend), 0);
    CHECK(!sigismember(&pend, SIGUSR2));
}

static int bad_signal_main(void *arg, void **result)
{
    (void)arg;
    (void)result;
    CHECK_EQ(corio_signal_wait(0), -EINVAL);
    CHECK_EQ(corio_signal_wait(-1), -EINVAL);
    CHECK_EQ(corio_signal_wait(_NSIG), -EINVAL);
    CHECK_EQ(corio_signal_wait(1000), -EINVAL);
    CHECK_EQ(corio_signal_wait(SIGKILL), -EINVAL);
    CHECK_EQ(corio_signal_wait(SIGSTOP), -EINVAL);
    /* glibc's own (thread cancellation, setxid): SIGRTMIN is above them. */
    CHECK_EQ(corio_signal_wait(32), -EINVAL);
    CHECK_EQ(corio_signal_wait(33), -EINVAL);
    CHECK_EQ(io_waiting(), 0);
    return 0;
}

TEST(signal_bad_number_is_einval)
{
    CHECK_EQ(corio_signal_wait(SIGUSR1), CORIO_ENOTASK);
    run_main(bad_signal_main, NULL);
}

static int fd_count_main(void *arg, void **result)
{
    static struct waiting left = {SIGUSR1, 99};
    struct waiting w = {SIGUSR1, 99};
    corio_task *t;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_spawn(wait_task, &w, NULL, &t), 0);
    CHECK_EQ(corio_spawn(raise_later, IP(SIGUSR1), NULL, NULL), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    /* Left waiting: corio_run's shutdown cancels it (after main's frame
     * is gone, so its record must outlive main). */
    CHECK_EQ(corio_spawn(wait_task, &left, NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    return 0;
}

TEST(signal_loop_teardown_releases_everything)
{
    int fds = corio_test_count_fds();
    sigset_t pend;
    run_main(fd_count_main, NULL);
    CHECK_EQ(corio_test_count_fds(), fds); /* the signalfd is closed */
    CHECK(!blocked_here(SIGUSR1));
    CHECK_EQ(sigpending(&pend), 0);
    CHECK(!sigismember(&pend, SIGUSR1));
    /* And a second loop in the same thread starts from scratch. */
    run_main(fd_count_main, NULL);
    CHECK_EQ(corio_test_count_fds(), fds);
}

struct counter {
    int signo;
    int count;
    int rc;
};

static int count_signals(void *arg, void **result)
{
    struct counter *c = arg;
    (void)result;
    while ((c->rc = corio_signal_wait(c->signo)) == 0)
        c->count++;
    return 0;
}

static int burst_main(void *arg, void **result)
{
    struct counter c = {SIGUSR1, 0, 0};
    corio_task *t;
    int i;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_spawn(count_signals, &c, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    for (i = 0; i < 10000; i++) {
        CHECK_EQ(kill(getpid(), SIGUSR1), 0);
        if (i % 100 == 0)
            CHECK_EQ(corio_sleep(0), 0);
    }
    CHECK_EQ(corio_sleep(0.01), 0);
    /* The kernel coalesces a signal that is already pending: fewer
     * deliveries than kills, but at least one. */
    CHECK(c.count >= 1 && c.count <= 10000);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(c.rc, -ECANCELED);
    corio_task_release(t);
    CHECK_EQ(io_waiting(), 0);
    return 0;
}

TEST(signal_burst_is_survived)
{
    run_main(burst_main, NULL);
}

static int sigint_main(void *arg, void **result)
{
    struct waiting w = {SIGINT, 99};
    corio_task *t;
    (void)arg;
    (void)result;
    /* Waiting for SIGINT takes it from corio_run: it wakes the waiter
     * instead of cancelling main. */
    CHECK_EQ(corio_spawn(wait_task, &w, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(kill(getpid(), SIGINT), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    corio_task_release(t);
    return 0;
}

TEST(signal_wait_for_sigint_takes_it_over)
{
    run_main(sigint_main, NULL);
}
