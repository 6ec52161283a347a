/*
 * test_process.c: child processes (corio/process.h): spawning and its
 * errors, waiting, signals, cancellation and timeouts, process groups,
 * and that nothing is leaked (descriptors, zombies); pipes and
 * communicate are in test_process_pipes.c.
 *
 * Children that must stay alive read a pipe the test holds (cat, or
 * `read`); they end when the test closes it, so nothing depends on a
 * sleep winning a race. "No zombie left" is checked with
 * waitpid(-1, WNOHANG), which fails with ECHILD only when this process
 * has no child at all, reaped or not.
 */
#include "test.h"
#include "run_body.h"
#include "cancel_rule.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process_tests.h"

/* ---- exit status and exec errors ------------------------------------------- */

static int true_false_body(void)
{
    const char *t[] = {"/bin/true", NULL}, *f[] = {"false", NULL};
    const char *code7[] = {"/bin/sh", "-c", "exit 7", NULL};
    int code = -1;
    CHECK_EQ(spawn_wait(t, NULL, &code), 0);
    CHECK_EQ(code, 0);
    CHECK_EQ(spawn_wait(f, NULL, &code), 0); /* found through PATH */
    CHECK_EQ(code, 1);
    CHECK_EQ(spawn_wait(code7, NULL, &code), 0);
    CHECK_EQ(code, 7);
    return 0;
}

TEST(process_true_false_exit_codes)
{
    RUN_OK(true_false_body);
    no_children();
}

static int exec_errors_body(void)
{
    const char *missing[] = {"/nonexistent/corio-no-such-program", NULL};
    const char *missing_path[] = {"corio-no-such-program-xyz", NULL};
    const char *dir[] = {"/", NULL};
    const char *t[] = {"/bin/true", NULL};
    char path[] = "/tmp/corio-noexec-XXXXXX";
    const char *noexec[] = {path, NULL};
    corio_process_opts o = {0};
    corio_process *p = (corio_process *)1;
    int fd, fds = corio_test_count_fds();

    CHECK_EQ(corio_process_spawn(missing, NULL, &p), -ENOENT);
    CHECK_EQ(corio_process_spawn(missing_path, NULL, &p), -ENOENT);
    CHECK_EQ(corio_process_spawn(dir, NULL, &p), -EACCES);
    fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "#!/bin/sh\n", 10), 10);
    close(fd);
    CHECK_EQ(chmod(path, 0644), 0);
    CHECK_EQ(corio_process_spawn(noexec, NULL, &p), -EACCES);
    unlink(path);
    o.cwd = "/nonexistent/corio-dir";
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(t, &o, &p), -ENOENT);
    CHECK_PTR(p, (corio_process *)1); /* untouched */
    CHECK_EQ(corio_test_count_fds(), fds);
    no_children();
    return 0;
}

TEST(process_exec_errors_come_from_spawn)
{
    RUN_OK(exec_errors_body);
}

static int bad_input_body(void)
{
    const char *t[] = {"/bin/true", NULL}, *empty[] = {NULL};
    corio_process_opts o;
    corio_process *p;

    CHECK_EQ(corio_process_spawn(NULL, NULL, &p), -EINVAL);
    CHECK_EQ(corio_process_spawn(empty, NULL, &p), -EINVAL);
    CHECK_EQ(corio_process_spawn(t, NULL, NULL), -EINVAL);
    memset(&o, 0, sizeof o);
    o.stdio[1].kind = 42;
    CHECK_EQ(corio_process_spawn(t, &o, &p), -EINVAL);
    memset(&o, 0, sizeof o);
    o.stdio[0].kind = CORIO_STDIO_STDOUT;
    CHECK_EQ(corio_process_spawn(t, &o, &p), -EINVAL);
    memset(&o, 0, sizeof o);
    o.stdio[2].kind = CORIO_STDIO_FD;
    o.stdio[2].fd = 1000;
    CHECK_EQ(corio_process_spawn(t, &o, &p), -EBADF);
    memset(&o, 0, sizeof o);
    o.flags = 0x100;
    CHECK_EQ(corio_process_spawn(t, &o, &p), -EINVAL);
    memset(&o, 0, sizeof o);
    o.cancel_signal = 1000;
    CHECK_EQ(corio_process_spawn(t, &o, &p), -EINVAL);
    CHECK_EQ(corio_process_spawn(t, NULL, &p), 0);
    CHECK_EQ(corio_process_signal(p, -1), -EINVAL);
    CHECK_EQ(corio_process_signal_group(p, SIGTERM), -EINVAL); /* no group */
    CHECK_EQ(corio_process_close_fd(p, 3), -EINVAL);
    CHECK_EQ(corio_process_close_fd(p, 1), -EBADF);
    CHECK_EQ(corio_process_fd(p, 1), -1);
    CHECK_EQ(corio_process_wait(p, NULL), 0);
    CHECK_EQ(corio_process_signal(p, SIGTERM), -ESRCH);
    CHECK_EQ(corio_process_release(p), 0);
    return 0;
}

TEST(process_bad_input)
{
    const char *t[] = {"/bin/true", NULL};
    corio_process *p;
    CHECK_EQ(corio_process_spawn(t, NULL, &p), CORIO_ENOTASK);
    RUN_OK(bad_input_body);
    no_children();
}

/* ---- signals ------------------------------------------------------------------- */

static int signals_body(void)
{
    const char *self_term[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    corio_process *p;
    int code = 0;
    CHECK_EQ(spawn_wait(self_term, NULL, &code), 0);
    CHECK_EQ(code, -SIGTERM);
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(cat, &o, &p), 0);
    CHECK_EQ(corio_process_signal(p, 0), 0);
    CHECK_EQ(corio_process_try_wait(p, &code), -EAGAIN);
    CHECK_EQ(corio_process_kill(p), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, -SIGKILL);
    CHECK_EQ(corio_process_try_wait(p, &code), 0);
    CHECK_EQ(corio_process_signal(p, SIGTERM), -ESRCH);
    CHECK_EQ(corio_process_release(p), 0);
    CHECK_EQ(corio_process_spawn(cat, &o, &p), 0);
    CHECK_EQ(corio_process_terminate(p), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, -SIGTERM);
    CHECK_EQ(corio_process_release(p), 0);
    return 0;
}

TEST(process_killed_by_signal)
{
    RUN_OK(signals_body);
    no_children();
}

static int groups_body(void)
{
    /* The child starts a grandchild in its group, says so, and waits. */
    const char *tree[] = {"/bin/sh", "-c", "sleep 1000 & echo started; wait",
                          NULL};
    corio_process_opts o = {0};
    corio_process *p;
    char buf[16];
    int code = 0;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    o.flags = CORIO_PROCESS_NEW_GROUP;
    CHECK_EQ(corio_process_spawn(tree, &o, &p), 0);
    CHECK_EQ(getpgid(corio_process_pid(p)), corio_process_pid(p));
    CHECK(getsid(corio_process_pid(p)) == getsid(0));
    CHECK_EQ(corio_read(corio_process_fd(p, 1), buf, sizeof buf), 8);
    CHECK_EQ(corio_process_signal_group(p, SIGKILL), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, -SIGKILL);
    CHECK_EQ(corio_process_release(p), 0);
    o.flags = CORIO_PROCESS_NEW_SESSION;
    CHECK_EQ(corio_process_spawn(tree, &o, &p), 0);
    CHECK_EQ(getsid(corio_process_pid(p)), corio_process_pid(p));
    CHECK_EQ(getpgid(corio_process_pid(p)), corio_process_pid(p));
    CHECK_EQ(corio_read(corio_process_fd(p, 1), buf, sizeof buf), 8);
    CHECK_EQ(corio_process_signal_group(p, SIGTERM), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, -SIGTERM);
    CHECK_EQ(corio_process_release(p), 0);
    return 0;
}

TEST(process_groups_and_sessions)
{
    RUN_OK(groups_body);
    /* The grandchildren were the children's: none of them is ours. */
    no_children();
}

/* ---- environment, directory, descriptors --------------------------------------- */

static int env_cwd_body(void)
{
    const char *argv[] = {"/bin/sh", "-c", "echo \"$FOO|$HOME\"; pwd", NULL};
    const char *env[] = {"FOO=bar baz", NULL};
    corio_process_opts o = {0};
    corio_process *p;
    int code = -1;
    o.env = env;
    o.cwd = "/";
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(argv, &o, &p), 0);
    CHECK_EQ(strcmp(read_to_eof(corio_process_fd(p, 1)), "bar baz|\n/\n"), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, 0);
    CHECK_EQ(corio_process_release(p), 0);
    /* Inherited environment */
    CHECK_EQ(setenv("CORIO_TEST_VAR", "inherited", 1), 0);
    argv[2] = "echo $CORIO_TEST_VAR";
    memset(&o, 0, sizeof o);
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(argv, &o, &p), 0);
    CHECK_EQ(strcmp(read_to_eof(corio_process_fd(p, 1)), "inherited\n"), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(corio_process_release(p), 0);
    return 0;
}

TEST(process_environment_and_cwd)
{
    RUN_OK(env_cwd_body);
    no_children();
}

/* The child lists its descriptors; ls itself opens one (the directory). */
static const char *list_fds(unsigned flags)
{
    const char *argv[] = {"/bin/ls", "/proc/self/fd", NULL};
    corio_process_opts o = {0};
    corio_process *p;
    const char *out;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    o.flags = flags;
    CHECK_EQ(corio_process_spawn(argv, &o, &p), 0);
    out = read_to_eof(corio_process_fd(p, 1));
    CHECK_EQ(corio_process_wait(p, NULL), 0);
    CHECK_EQ(corio_process_release(p), 0);
    return out;
}

static int fds_body(void)
{
    const char *out;
    int keep = dup2(2, 57); /* not close-on-exec */
    CHECK_EQ(keep, 57);
    out = list_fds(0);
    CHECK_EQ(strcmp(out, "0\n1\n2\n3\n"), 0);
    out = list_fds(CORIO_PROCESS_KEEP_FDS);
    CHECK(strstr(out, "\n57\n") != NULL);
    close(keep);
    return 0;
}

TEST(process_other_fds_closed_in_child)
{
    RUN_OK(fds_body);
    no_children();
}

/* ---- cancellation and timeouts --------------------------------------------------- */

struct waiter {
    corio_process *p;
    int rc;
    int code;
};

static int wait_task(void *arg, void **result)
{
    struct waiter *w = arg;
    (void)result;
    w->code = -1000;
    w->rc = corio_process_wait(w->p, &w->code);
    return 0;
}

static int cancel_body(void)
{
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    struct waiter a = {0}, b = {0};
    corio_task *ta, *tb;
    int code = -1;
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(cat, &o, &a.p), 0);
    b.p = a.p;
    CHECK_EQ(corio_spawn(wait_task, &a, NULL, &ta), 0);
    CHECK_EQ(corio_spawn(wait_task, &b, NULL, &tb), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK(!corio_task_done(ta) && !corio_task_done(tb));
    CHECK_EQ(corio_process_release(a.p), -EBUSY); /* tasks wait on it */
    CHECK_EQ(corio_task_cancel(ta), 0);
    CHECK_EQ(corio_task_join(ta, NULL), 0);
    CHECK_EQ(a.rc, -ECANCELED);
    /* Left running (no cancel_signal); the other waiter still waits. */
    CHECK_EQ(corio_process_try_wait(a.p, &code), -EAGAIN);
    CHECK(!corio_task_done(tb));
    CHECK_EQ(corio_process_close_fd(a.p, 0), 0);
    CHECK_EQ(corio_task_join(tb, NULL), 0);
    CHECK_EQ(b.rc, 0);
    CHECK_EQ(b.code, 0);
    corio_task_release(ta);
    corio_task_release(tb);
    CHECK_EQ(corio_process_release(a.p), 0);
    return 0;
}

TEST(process_cancel_while_waiting)
{
    RUN_OK(cancel_body);
    no_children();
}

static int timeout_body(void)
{
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    corio_process *p;
    corio_scope *s;
    int code = 0, rc;

    /* Without cancel_signal: a timeout leaves the child running. */
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(cat, &o, &p), 0);
    CHECK_EQ(corio_scope_timeout(0.02, &s), 0);
    rc = corio_process_wait(p, &code);
    CHECK_EQ(corio_scope_close(s, rc), -ETIMEDOUT);
    CHECK_EQ(corio_process_try_wait(p, &code), -EAGAIN);
    CHECK_EQ(corio_process_close_fd(p, 0), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, 0);
    CHECK_EQ(corio_process_release(p), 0);

    /* With it: the timeout kills the child (its group, here). */
    o.cancel_signal = SIGKILL;
    o.flags = CORIO_PROCESS_NEW_GROUP;
    CHECK_EQ(corio_process_spawn(cat, &o, &p), 0);
    CHECK_EQ(corio_scope_timeout(0.02, &s), 0);
    rc = corio_process_wait(p, &code);
    CHECK_EQ(corio_scope_close(s, rc), -ETIMEDOUT);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, -SIGKILL);
    CHECK_EQ(corio_process_release(p), 0);

    /* communicate too: a child whose output never ends */
    {
        const char *hang[] = {"/bin/sh", "-c", "echo x; exec cat", NULL};
        corio_process_io io = {0};
        int hold[2];
        CHECK_EQ(pipe2(hold, O_CLOEXEC), 0);
        memset(&o, 0, sizeof o);
        o.cancel_signal = SIGKILL;
        o.stdio[0].kind = CORIO_STDIO_FD; /* we keep the write end */
        o.stdio[0].fd = hold[0];
        o.stdio[1].kind = CORIO_STDIO_PIPE;
        CHECK_EQ(corio_process_spawn(hang, &o, &p), 0);
        CHECK_EQ(corio_scope_timeout(0.02, &s), 0);
        rc = corio_process_communicate(p, &io);
        CHECK_EQ(corio_scope_close(s, rc), -ETIMEDOUT);
        CHECK(io.out_len <= 2);
        corio_free(io.out);
        close(hold[0]);
        close(hold[1]);
    }
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, -SIGKILL);
    CHECK_EQ(corio_process_release(p), 0);
    return 0;
}

TEST(process_timeout_kills_with_cancel_signal)
{
    RUN_OK(timeout_body);
    no_children();
}

static int cancel_rule_body(void)
{
    const char *cat[] = {"cat", NULL}, *t[] = {"/bin/true", NULL};
    corio_process_opts o = {0};
    corio_process *p, *q;
    siginfo_t si;
    int code = -1;
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(cat, &o, &p), 0);
    CHECK_EQ(corio_process_spawn(t, NULL, &q), 0);
    memset(&si, 0, sizeof si); /* q has exited (not reaped: WNOWAIT) */
    CHECK_EQ(waitid(P_PID, (id_t)corio_process_pid(q), &si,
                    WEXITED | WNOWAIT), 0);
    cancel_self();
    witness();
    /* Would have to wait: -ECANCELED at once, the child left alone. */
    CHECK_EQ(corio_process_wait(p, &code), -ECANCELED);
    NOT_SUSPENDED();
    CHECK_EQ(corio_process_try_wait(p, &code), -EAGAIN);
    /* Need not wait (the child has exited): succeeds. */
    CHECK_EQ(corio_process_wait(q, &code), 0);
    CHECK_EQ(code, 0);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_process_close_fd(p, 0), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, 0);
    CHECK_EQ(corio_process_release(p), 0);
    CHECK_EQ(corio_process_release(q), 0);
    return 0;
}

TEST(process_cancel_rule)
{
    RUN_OK(cancel_rule_body);
    no_children();
}

/* ---- many children, lifetime, no leaks -------------------------------------------- */

#define MANY 50

static int many_body(void)
{
    static struct waiter w[MANY];
    static char codes[MANY][16];
    const char *argv[MANY][4];
    corio_task *t[MANY];
    int i;
    for (i = 0; i < MANY; i++) {
        snprintf(codes[i], sizeof codes[i], "exit %d", i);
        argv[i][0] = "/bin/sh";
        argv[i][1] = "-c";
        argv[i][2] = codes[i];
        argv[i][3] = NULL;
        CHECK_EQ(corio_process_spawn(argv[i], NULL, &w[i].p), 0);
        CHECK_EQ(corio_spawn(wait_task, &w[i], NULL, &t[i]), 0);
    }
    for (i = 0; i < MANY; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        CHECK_EQ(w[i].rc, 0);
        CHECK_EQ(w[i].code, i);
        corio_task_release(t[i]);
        CHECK_EQ(corio_process_release(w[i].p), 0);
    }
    no_children();
    return 0;
}

TEST(process_many_children_all_reaped)
{
    RUN_OK(many_body);
}

static int thousand_body(void)
{
    const char *t[] = {"/bin/true", NULL};
    corio_process_opts o = {0};
    corio_process *p;
    int i, fds, n;
    /* 1,000 in the plain build; fork is much slower under TSan and
     * Valgrind, which run fewer. */
    n = corio_test_under_valgrind() || corio_test_under_tsan() ? 200 : 1000;
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    o.stdio[2].kind = CORIO_STDIO_NULL;
    /* The first spawn sets up what lasts as long as the loop (the SIGCHLD
     * fallback's signalfd): count after it. */
    CHECK_EQ(corio_process_spawn(t, &o, &p), 0);
    CHECK_EQ(corio_process_wait(p, NULL), 0);
    CHECK_EQ(corio_process_release(p), 0);
    fds = corio_test_count_fds();
    for (i = 0; i < n; i++) {
        CHECK_EQ(corio_process_spawn(t, &o, &p), 0);
        if (i % 2) {
            CHECK_EQ(corio_process_wait(p, NULL), 0);
            CHECK_EQ(corio_process_release(p), 0);
        } else {
            CHECK_EQ(corio_process_release(p), 0); /* reaped by the loop */
        }
    }
    /* The released ones are reaped as they exit: wait until they all are. */
    for (;;) {
        siginfo_t si;
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
            CHECK_EQ(errno, ECHILD);
            break;
        }
        CHECK_EQ(corio_sleep(0.001), 0);
    }
    CHECK_EQ(corio_test_count_fds(), fds);
    return 0;
}

TEST(process_spawn_many_times_leaks_nothing)
{
    RUN_OK(thousand_body);
    no_children();
}

static corio_process *held;
static pid_t released_pid;
static int hold_pipe[2];

static int lifetime_body(void)
{
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    corio_process *p;
    /* Both read a pipe whose write end the test keeps: they never end. */
    o.stdio[0].kind = CORIO_STDIO_FD;
    o.stdio[0].fd = hold_pipe[0];
    CHECK_EQ(corio_process_spawn(cat, &o, &held), 0);
    CHECK_EQ(corio_process_spawn(cat, &o, &p), 0);
    released_pid = corio_process_pid(p);
    CHECK_EQ(corio_process_release(p), 0); /* running: the loop keeps it */
    CHECK_EQ(kill(released_pid, 0), 0);
    return 0;
}

TEST(process_lifetime_across_loop_free)
{
    int code = 0;
    CHECK_EQ(pipe2(hold_pipe, O_CLOEXEC), 0);
    RUN_OK(lifetime_body);
    /* The loop killed and reaped the released child... */
    errno = 0;
    CHECK_EQ(kill(released_pid, 0), -1);
    CHECK_EQ(errno, ESRCH);
    /* ...and left the held one alone; releasing it now kills it. */
    CHECK_EQ(corio_process_try_wait(held, &code), -EAGAIN);
    CHECK_EQ(corio_process_release(held), 0);
    no_children();
    close(hold_pipe[0]);
    close(hold_pipe[1]);
}

static int app_reaps_body(void)
{
    const char *t[] = {"cat", NULL};
    corio_process *p;
    corio_process_opts o = {0};
    int st;
    pid_t r;
    /* cat ends when we close its stdin: not before corio has set up its
     * watch (the SIGCHLD fallback reaps what has exited at spawn). */
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(t, &o, &p), 0);
    CHECK_EQ(corio_process_close_fd(p, 0), 0);
    /* The application reaps it behind corio's back. */
    do
        r = waitpid(corio_process_pid(p), &st, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        corio_test_fail(__FILE__, __LINE__, "waitpid: %s", strerror(errno));
    CHECK_EQ(r, corio_process_pid(p));
    CHECK_EQ(corio_process_wait(p, NULL), -ECHILD);
    CHECK_EQ(corio_process_try_wait(p, NULL), -ECHILD);
    CHECK_EQ(corio_process_signal(p, SIGTERM), -ESRCH);
    CHECK_EQ(corio_process_release(p), 0);
    return 0;
}

TEST(process_application_reaps_child)
{
    RUN_OK(app_reaps_body);
    no_children();
}

static int emfile_body(void)
{
    const char *t[] = {"/bin/true", NULL};
    corio_process_opts o = {0};
    corio_process *p;
    struct rlimit old, lim;
    int dummy[512], nd = 0, i, k, fds, rc = -1;
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    o.stdio[2].kind = CORIO_STDIO_PIPE;
    /* Make the corio state exist first (a spawn), so that only the spawn's
     * own descriptors are counted below. */
    CHECK_EQ(corio_process_spawn(t, &o, &p), 0);
    CHECK_EQ(corio_process_wait(p, NULL), 0);
    CHECK_EQ(corio_process_release(p), 0);
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    lim = old;
    lim.rlim_cur = 256;
    if (old.rlim_cur < 256 || setrlimit(RLIMIT_NOFILE, &lim) != 0)
        corio_test_skip("cannot set RLIMIT_NOFILE to 256");
    while (nd < 512 && (dummy[nd] = dup(0)) >= 0)
        nd++;
    CHECK_EQ(errno, EMFILE);
    /* With i free descriptors, a spawn needing 8 at its peak fails with
     * -EMFILE (at a pipe, the error pipe or the pidfd) and leaks nothing. */
    for (i = 0; i <= 8; i++) {
        for (k = 0; k < i; k++)
            close(dummy[--nd]);
        fds = corio_test_count_fds();
        rc = corio_process_spawn(t, &o, &p);
        if (rc == 0) {
            CHECK_EQ(corio_process_wait(p, NULL), 0);
            CHECK_EQ(corio_process_release(p), 0);
        } else {
            CHECK_EQ(rc, -EMFILE);
        }
        CHECK_EQ(corio_test_count_fds(), fds);
        while (nd < 512 && (dummy[nd] = dup(0)) >= 0)
            nd++;
    }
    CHECK_EQ(rc, 0); /* with 8 free it works */
    while (nd > 0)
        close(dummy[--nd]);
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    return 0;
}

TEST(process_descriptor_exhaustion)
{
    RUN_OK(emfile_body);
    no_children();
}

/* ---- the SIGCHLD fallback ----------------------------------------------------- */

static int fallback_body(void)
{
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    corio_process_io io = {0};
    corio_process *p;
    corio_scope *s;
    int code = -1, rc;
    CHECK_EQ(true_false_body(), 0);
    CHECK_EQ(many_body(), 0);
    CHECK_EQ(signals_body(), 0);
    CHECK_EQ(cancel_body(), 0);
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(cat, &o, &p), 0);
    io.input = "round trip";
    io.input_len = 10;
    CHECK_EQ(corio_process_communicate(p, &io), 0);
    CHECK_EQ(strcmp(io.out, "round trip"), 0);
    corio_free(io.out);
    CHECK_EQ(corio_process_release(p), 0);
    o.cancel_signal = SIGKILL;
    CHECK_EQ(corio_process_spawn(cat, &o, &p), 0);
    CHECK_EQ(corio_scope_timeout(0.02, &s), 0);
    rc = corio_process_wait(p, &code);
    CHECK_EQ(corio_scope_close(s, rc), -ETIMEDOUT);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, -SIGKILL);
    CHECK_EQ(corio_process_release(p), 0);
    return 0;
}

TEST(process_sigchld_fallback)
{
    CHECK_EQ(setenv("CORIO_PIDFD", "0", 1), 0);
    RUN_OK(fallback_body);
    no_children();
}

/* A task still waiting when main returns: corio_run cancels it, the loop
 * goes, and the process object (held by the test) kills its child when
 * released. */
static struct waiter left_waiting;

static int leave_waiter_body(void)
{
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    o.stdio[0].kind = CORIO_STDIO_FD;
    o.stdio[0].fd = hold_pipe[0];
    CHECK_EQ(corio_process_spawn(cat, &o, &left_waiting.p), 0);
    CHECK_EQ(corio_spawn(wait_task, &left_waiting, NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_sleep(0), 0);
    return 0;
}

TEST(process_waiter_cancelled_at_teardown)
{
    CHECK_EQ(pipe2(hold_pipe, O_CLOEXEC), 0);
    RUN_OK(leave_waiter_body);
    CHECK_EQ(left_waiting.rc, -ECANCELED);
    CHECK_EQ(corio_process_try_wait(left_waiting.p, NULL), -EAGAIN);
    CHECK_EQ(corio_process_wait(left_waiting.p, NULL), CORIO_ENOTASK);
    CHECK_EQ(corio_process_release(left_waiting.p), 0);
    no_children();
    close(hold_pipe[0]);
    close(hold_pipe[1]);
}

/* SIGCHLD ignored: the kernel reaps the children itself, so their status
 * is lost: a wait says -ECHILD instead of hanging. */
static int sigchld_ignored_body(void)
{
    const char *t[] = {"/bin/true", NULL};
    corio_process *p;
    int code = 0, rc;
    const char *e = getenv("CORIO_PIDFD");
    rc = corio_process_spawn(t, NULL, &p);
    if (rc == -ECHILD) {
        /* Without pidfds (asked for, or under Valgrind) spawn refuses. */
        CHECK((e && strcmp(e, "0") == 0) || corio_test_under_valgrind());
        return 0;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(corio_process_wait(p, &code), -ECHILD);
    CHECK_EQ(corio_process_release(p), 0);
    return 0;
}

TEST(process_sigchld_ignored_gives_echild)
{
    signal(SIGCHLD, SIG_IGN);
    RUN_OK(sigchld_ignored_body);
    CHECK_EQ(setenv("CORIO_PIDFD", "0", 1), 0);
    RUN_OK(sigchld_ignored_body);
    /* SA_NOCLDWAIT does the same with a handler. */
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sa.sa_flags = SA_NOCLDWAIT;
        CHECK_EQ(sigaction(SIGCHLD, &sa, NULL), 0);
    }
    RUN_OK(sigchld_ignored_body);
    no_children();
}
