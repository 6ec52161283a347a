/*
 * test_process_reap.c: child processes when the application reaps
 * children too (corio/process.h, "The application reaping ..."): a
 * waitpid(-1) of its own while a task waits for a child, a SIGCHLD
 * handler that reaps with waitpid(-1, WNOHANG), and children the
 * application forks and reaps itself beside corio's. Each runs with
 * pidfds and with the SIGCHLD fallback (CORIO_PIDFD=0).
 *
 * Outcome: a wait whose child someone else reaped returns -ECHILD; a wait
 * whose child corio reaped returns 0 and its status; none hangs, and no
 * child is left behind. Children end when the test closes a pipe they
 * read, so nothing depends on a sleep winning a race.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process_tests.h"

static void fallback(int on)
{
    if (on)
        CHECK_EQ(setenv("CORIO_PIDFD", "0", 1), 0);
}

struct waiter {
    corio_process *p;
    int rc, code;
};

static int wait_task(void *arg, void **result)
{
    struct waiter *w = arg;
    (void)result;
    w->code = -1000;
    w->rc = corio_process_wait(w->p, &w->code);
    return 0;
}

/* ---- waitpid(-1) while a task waits ------------------------------------------ */

static int any_body(void)
{
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    struct waiter w = {0};
    corio_task *t;
    int st = 0;
    pid_t r;
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(cat, &o, &w.p), 0);
    CHECK_EQ(corio_spawn(wait_task, &w, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0); /* the waiter parks */
    CHECK(!corio_task_done(t));
    /* cat ends at end of file; the application reaps it (blocking: it is
     * our only child), before the loop has looked at its exit. */
    CHECK_EQ(corio_process_close_fd(w.p, 0), 0);
    do
        r = waitpid(-1, &st, 0);
    while (r < 0 && errno == EINTR);
    CHECK_EQ(r, corio_process_pid(w.p));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(w.rc, -ECHILD);
    CHECK_EQ(w.code, -1000); /* untouched */
    CHECK_EQ(corio_process_wait(w.p, NULL), -ECHILD);
    CHECK_EQ(corio_process_release(w.p), 0);
    return 0;
}

TEST(process_reap_waitpid_any_while_waiting)
{
    RUN_OK(any_body);
    no_children();
}

TEST(process_reap_waitpid_any_while_waiting_fallback)
{
    fallback(1);
    RUN_OK(any_body);
    no_children();
}

/* ---- a SIGCHLD handler that reaps everything ---------------------------------- */

static volatile sig_atomic_t handler_reaped;

static void reaping_handler(int sig)
{
    int saved = errno, st;
    (void)sig;
    while (waitpid(-1, &st, WNOHANG) > 0)
        handler_reaped++;
    errno = saved;
}

#define NCHILD 16

static int handler_body(void)
{
    const char *sh[] = {"/bin/sh", "-c", "read x; exit 3", NULL};
    corio_process_opts o = {0};
    struct waiter w[NCHILD];
    corio_task *t[NCHILD];
    int i, ok = 0, lost = 0;
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    for (i = 0; i < NCHILD; i++) {
        CHECK_EQ(corio_process_spawn(sh, &o, &w[i].p), 0);
        CHECK_EQ(corio_spawn(wait_task, &w[i], NULL, &t[i]), 0);
    }
    CHECK_EQ(corio_sleep(0), 0);
    for (i = 0; i < NCHILD; i++)
        CHECK_EQ(corio_process_close_fd(w[i].p, 0), 0);
    for (i = 0; i < NCHILD; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        corio_task_release(t[i]);
        /* Whoever reaped first: corio (the status) or the handler. */
        if (w[i].rc == 0) {
            CHECK_EQ(w[i].code, 3);
            ok++;
        } else {
            CHECK_EQ(w[i].rc, -ECHILD);
            lost++;
        }
        CHECK_EQ(corio_process_release(w[i].p), 0);
    }
    CHECK_EQ(ok + lost, NCHILD);
    CHECK_EQ((int)handler_reaped, lost);
    return 0;
}

static void with_handler(int use_fallback)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = reaping_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    CHECK_EQ(sigaction(SIGCHLD, &sa, NULL), 0);
    fallback(use_fallback);
    RUN_OK(handler_body);
    no_children();
}

/* With pidfds the handler runs and takes some or all of the children. */
TEST(process_reap_sigchld_handler)
{
    with_handler(0);
}

/* The fallback blocks SIGCHLD in the loop's thread and takes it from a
 * signalfd, so the handler (this program has one thread) never runs:
 * corio gets every status. */
TEST(process_reap_sigchld_handler_fallback)
{
    with_handler(1);
    CHECK_EQ((int)handler_reaped, 0);
}

/* ---- the application's own children beside corio's ------------------------- */

static int own_body(void)
{
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    struct waiter w = {0};
    corio_task *t;
    int gate[2], st = 0;
    char c;
    pid_t mine, r;
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(pipe(gate), 0);
    mine = fork();
    CHECK(mine >= 0);
    if (mine == 0) {
        close(gate[1]);
        _exit(read(gate[0], &c, 1) == 0 ? 42 : 1); /* ends at EOF */
    }
    close(gate[0]);
    CHECK_EQ(corio_process_spawn(cat, &o, &w.p), 0);
    CHECK_EQ(corio_spawn(wait_task, &w, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0);
    /* The application's child ends first and is reaped by pid; corio's
     * wait is not disturbed (the fallback's SIGCHLD scan finds nothing of
     * its own and keeps waiting). */
    close(gate[1]);
    do
        r = waitpid(mine, &st, 0);
    while (r < 0 && errno == EINTR);
    CHECK_EQ(r, mine);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK(!corio_task_done(t));
    CHECK_EQ(corio_process_close_fd(w.p, 0), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(w.rc, 0);
    CHECK_EQ(w.code, 0);
    CHECK_EQ(corio_process_release(w.p), 0);
    return 0;
}

TEST(process_reap_own_children_beside)
{
    RUN_OK(own_body);
    no_children();
}

TEST(process_reap_own_children_beside_fallback)
{
    fallback(1);
    RUN_OK(own_body);
    no_children();
}
