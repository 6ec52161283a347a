/*
 * test_process_signals.c: waiting for several signals at once
 * (corio_signal_wait_any, io.h), and deliveries counted while nobody
 * waits (signal.c), from the subprocess work of the same issue.
 *
 * Signals are raised with kill(getpid()) once corio receives them (they
 * are blocked and read through the signalfd), so each is pending at once;
 * a corio_sleep lets the loop poll and read it.
 */
#include "test.h"
#include "run_body.h"
#include "cancel_rule.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "task/task_impl.h"

static size_t outside_waits(void)
{
    return corio_loop_current()->outside_waits;
}

static int blocked_here(int signo)
{
    sigset_t cur;
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
    return sigismember(&cur, signo);
}

struct any {
    int rc;
    int which;
};

static int wait_any_task(void *arg, void **result)
{
    static const int set[] = {SIGUSR1, SIGUSR2, SIGHUP};
    struct any *a = arg;
    (void)result;
    a->which = 0;
    a->rc = corio_signal_wait_any(set, 3, &a->which);
    return 0;
}

static int any_body(void)
{
    struct any a = {99, 0}, b = {99, 0};
    corio_task *ta, *tb;
    CHECK_EQ(corio_spawn(wait_any_task, &a, NULL, &ta), 0);
    CHECK_EQ(corio_spawn(wait_any_task, &b, NULL, &tb), 0);
    while (outside_waits() < 2)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK(blocked_here(SIGUSR1) && blocked_here(SIGUSR2) &&
          blocked_here(SIGHUP));
    CHECK_EQ(kill(getpid(), SIGUSR2), 0);
    CHECK_EQ(corio_task_join(ta, NULL), 0);
    CHECK_EQ(corio_task_join(tb, NULL), 0);
    CHECK_EQ(a.rc, 0);
    CHECK_EQ(a.which, SIGUSR2); /* one delivery wakes both */
    CHECK_EQ(b.rc, 0);
    CHECK_EQ(b.which, SIGUSR2);
    CHECK_EQ(outside_waits(), 0);
    corio_task_release(ta);
    corio_task_release(tb);
    return 0;
}

TEST(process_signal_wait_any_wakes_with_the_signal)
{
    CHECK_EQ(run(any_body), 0);
    CHECK(!blocked_here(SIGUSR1)); /* restored when the loop was freed */
}

/* Deliveries while nobody waits are counted: three deliveries, three
 * waits that need not wait, then one that would. */
static int counted_body(void)
{
    static const int set[] = {SIGUSR2, SIGUSR1};
    struct any a = {99, 0};
    corio_task *t;
    int i, which = 0;
    /* Take SIGUSR1 over with a first wait. */
    CHECK_EQ(corio_spawn(wait_any_task, &a, NULL, &t), 0);
    while (outside_waits() < 1)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(kill(getpid(), SIGUSR1), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(a.which, SIGUSR1);
    corio_task_release(t);
    for (i = 0; i < 3; i++) {
        CHECK_EQ(kill(getpid(), SIGUSR1), 0);
        CHECK_EQ(corio_sleep(0.001), 0); /* the loop polls and reads it */
    }
    cancel_self();
    witness();
    CHECK_EQ(corio_signal_wait(SIGUSR1), 0);
    CHECK_EQ(corio_signal_wait_any(set, 2, &which), 0);
    CHECK_EQ(which, SIGUSR1);
    CHECK_EQ(corio_signal_wait_any(set, 2, NULL), 0);
    CHECK_EQ(corio_signal_wait_any(set, 2, &which), -ECANCELED);
    CHECK_EQ(corio_signal_wait(SIGUSR1), -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    return 0;
}

TEST(process_signal_deliveries_are_counted)
{
    CHECK_EQ(run(counted_body), 0);
}

static int cancel_body(void)
{
    static const int set[] = {SIGUSR1, SIGWINCH};
    const int bad[] = {SIGUSR1, SIGKILL}, zero[] = {0};
    struct any a = {99, 0};
    corio_task *t;
    int which = 0;
    CHECK_EQ(corio_signal_wait_any(NULL, 1, &which), -EINVAL);
    CHECK_EQ(corio_signal_wait_any(set, 0, &which), -EINVAL);
    CHECK_EQ(corio_signal_wait_any(bad, 2, &which), -EINVAL);
    CHECK_EQ(corio_signal_wait_any(zero, 1, &which), -EINVAL);
    CHECK(!blocked_here(SIGUSR1)); /* nothing taken over by a refusal */
    /* A cancel standing, nothing come: -ECANCELED, nothing set up. */
    cancel_self();
    witness();
    CHECK_EQ(corio_signal_wait_any(set, 2, &which), -ECANCELED);
    NOT_SUSPENDED();
    CHECK(!blocked_here(SIGWINCH));
    uncancel_self();
    /* Cancelled while waiting. */
    CHECK_EQ(corio_spawn(wait_any_task, &a, NULL, &t), 0);
    while (outside_waits() < 1)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(a.rc, -ECANCELED);
    CHECK_EQ(outside_waits(), 0);
    corio_task_release(t);
    return 0;
}

TEST(process_signal_wait_any_cancel_and_bad_input)
{
    const int set[] = {SIGUSR1};
    CHECK_EQ(corio_signal_wait_any(set, 1, NULL), CORIO_ENOTASK);
    CHECK_EQ(run(cancel_body), 0);
}
