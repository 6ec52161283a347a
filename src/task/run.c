/*
 * run.c: corio_run, asyncio.run for C.
 *
 * Make a loop, run main as its main task until it is done, cancel what is
 * left and run until those tasks end, free the loop, return main's
 * outcome.
 *
 * SIGINT: while a corio_run owns it, SIGINT cancels the main task instead
 * of killing the process. The handler only sets a flag and writes the
 * loop's eventfd (both async-signal-safe); the loop sees the flag after
 * its poller wakes and cancels main there. SIGINT is a process-wide
 * resource, so one corio_run at a time owns it (the first; runs on other
 * threads meanwhile leave SIGINT alone), through the one process-global
 * pointer below. The previous disposition is restored on the way out.
 */
#include "task/task_impl.h"

#include <corio/run.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static _Atomic(corio_loop *) sigint_owner;
static volatile sig_atomic_t sigint_seen;

/* corio_run's bookkeeping, hung off the loop's task state while it runs
 * (loop->tasks->run_state); the loop asks stop_check after each
 * iteration. */
struct run_state {
    corio_task *main;
    corio_future *stop_on;  /* stop when this is done */
    int stop_when_idle;     /* stop when no task is left */
    corio__loop_tasks *tl;  /* the loop's task state */
};

static void on_sigint(int signo)
{
    corio_loop *loop = atomic_load(&sigint_owner);
    int saved = errno;
    (void)signo;
    sigint_seen = 1;
    if (loop) {
        uint64_t one = 1;
        ssize_t w = write(loop->wake_fd, &one, sizeof one);
        (void)w;
    }
    errno = saved;
}

static struct run_state *run_state_of(corio_loop *loop)
{
    return loop->tasks ? (struct run_state *)loop->tasks->run_state : NULL;
}

/* The loop's stop_check (arg: the run_state) while corio_run drives it;
 * asked after every iteration, so it reads its own fields only. */
static int should_stop(void *arg)
{
    const struct run_state *rs = arg;
    return (rs->stop_on && rs->stop_on->state != CORIO__FUT_PENDING) ||
           (rs->stop_when_idle && rs->tl->ntasks == 0);
}

static void check_sigint(corio_loop *loop)
{
    struct run_state *rs;
    if (sigint_seen && atomic_load(&sigint_owner) == loop) {
        sigint_seen = 0;
        rs = run_state_of(loop);
        if (rs && rs->main)
            corio_task_cancel(rs->main);
    }
}

/* Run the loop until it stops or has no task left. */
static void run_until_idle(corio_loop *loop)
{
    struct run_state *rs = run_state_of(loop);
    rs->stop_when_idle = 1;
    corio_loop_run(loop);
    rs->stop_when_idle = 0;
}

/* Cancel what is left and let it finish; level-triggered cancellation
 * means its waits fail at once, so this ends unless a task ignores
 * -ECANCELED and deadlocks (reported, then abandoned). */
static void cancel_leftovers(corio_loop *loop)
{
    if (loop->tasks->ntasks == 0)
        return;
    corio__loop_cancel_all(loop);
    run_until_idle(loop);
}

int(corio_run)(corio_coro_fn main, void *arg, void **result)
{
    return corio_run_at(main, arg, result, NULL, 0);
}

int corio_run_at(corio_coro_fn main, void *arg, void **result,
                 const char *file, int line)
{
    corio_task_opts opts;
    struct run_state rs = {NULL, NULL, 0, NULL};
    struct sigaction sa, old;
    corio_loop *expected = NULL;
    corio_loop *loop;
    int owns_sigint = 0;
    void *res = NULL;
    int rc, outcome;

    if (!main)
        return -EINVAL;
    if (corio_loop_current())
        return CORIO_ERUNNING;
    if ((rc = corio_loop_new(NULL, &loop)) != 0)
        return rc;
    memset(&opts, 0, sizeof opts);
    opts.name = "main";
    rc = corio_task_spawn_at(loop, main, arg, &opts, &rs.main,
                             file ? file : "corio_run", line);
    if (rc) {
        corio_loop_free(loop);
        return rc;
    }
    rs.tl = loop->tasks; /* attached by the spawn */
    rs.tl->run_state = &rs;
    loop->on_iteration = check_sigint;
    loop->stop_check = should_stop;
    loop->stop_arg = &rs;
    /* Only over the default disposition, as asyncio.run: a program
     * started with SIGINT ignored (nohup, `&`) or with a handler of its
     * own keeps it. */
    if (atomic_compare_exchange_strong(&sigint_owner, &expected, loop)) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        sigint_seen = 0;
        if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
            !(old.sa_flags & SA_SIGINFO) &&
            sigaction(SIGINT, &sa, &old) == 0)
            owns_sigint = 1;
        else
            atomic_store(&sigint_owner, NULL);
    }

    rs.stop_on = &rs.main->fut;
    rc = corio_loop_run(loop);
    rs.stop_on = NULL;
    if (rc == 0) {
        outcome = corio_task_result(rs.main, &res);
    } else {
        outcome = rc; /* -EDEADLK or a poller failure */
    }

    cancel_leftovers(loop);
    /* Then close the async generators left unfinished, each in a task of
     * its own (asyncio.run's shutdown_asyncgens), until those tasks are
     * done (the last one stops the loop; idle also ends it, should one be
     * cancelled before it runs). Tasks their cleanup started are then
     * cancelled like the leftovers (asyncio.run drops them unrun). */
    if (corio__agens_shutdown(loop) > 0) {
        run_until_idle(loop);
        loop->tasks->agens_closing = 0;
        cancel_leftovers(loop);
    }

    /* corio_run has reported the outcome; what main did afterwards (while
     * being cancelled after a deadlock) is not "never retrieved". */
    if (corio_task_done(rs.main))
        corio_task_result(rs.main, NULL);

    if (owns_sigint) {
        sigaction(SIGINT, &old, NULL);
        atomic_store(&sigint_owner, NULL);
    }
    loop->on_iteration = NULL;
    loop->stop_check = NULL;
    loop->stop_arg = NULL;
    rs.tl->run_state = NULL;
    corio_task_release(rs.main);
    corio_loop_free(loop);
    if (result)
        *result = outcome == 0 ? res : NULL;
    return outcome;
}
