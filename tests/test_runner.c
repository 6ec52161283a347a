/*
 * test_runner.c: the test runner itself (runner.c). Each test runs this
 * binary again on a hidden case (TEST_HIDDEN: one that hangs, fails while
 * its stderr is captured, skips, or dies) and checks what the runner made
 * of it: the exit status and what it printed.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the hidden cases ------------------------------------------------------ */

/* Forks a child that would outlive the case; its pid goes to the file named
 * by CORIO_TEST_RUNNER_PIDFILE. Then hangs. */
TEST_HIDDEN(runner_demo_hang)
{
    const char *path = getenv("CORIO_TEST_RUNNER_PIDFILE");
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        for (;;)
            pause();
    }
    if (path) {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        fprintf(f, "%d\n", (int)pid);
        fclose(f);
    }
    for (;;)
        pause();
}

TEST_HIDDEN(runner_demo_fail_in_capture)
{
    corio_test_stderr_begin();
    fprintf(stderr, "captured text\n");
    CHECK_EQ(1 + 1, 3);
}

static void fail_in_child(void *arg)
{
    (void)arg;
    CHECK_EQ(2 + 2, 5);
}

TEST_HIDDEN(runner_demo_fail_in_fork)
{
    char *err = NULL;
    int st = corio_test_fork(fail_in_child, NULL, &err);
    free(err);
    /* the case stays quiet about it: the child's report is what counts */
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 99);
}

TEST_HIDDEN(runner_demo_skip)
{
    corio_test_skip("nothing to test here");
}

TEST_HIDDEN(runner_demo_killed)
{
    kill(getpid(), SIGKILL);
    for (;;)
        pause();
}

/* Prints what a shuffled run (CORIO_TEST_SHUFFLE) gives a case. */
TEST_HIDDEN(runner_demo_shuffle_env)
{
    const char *d = getenv("CORIO_DEBUG"), *s = getenv("CORIO_SHUFFLE_SEED");
    const char *w = getenv("CORIO_SLOW_STEP");
    printf("env: CORIO_DEBUG=%s CORIO_SHUFFLE_SEED=%s CORIO_SLOW_STEP=%s\n",
           d ? d : "-", s ? s : "-", w ? w : "-");
}

/* ---- running them ------------------------------------------------------------ */

struct outcome {
    int code;    /* exit code of `corio_tests --one NAME` */
    char *out;   /* its stdout and stderr */
};

#define EXEC_FAILED "runner test: exec failed: errno "

/* Runs this binary with --one name, with CORIO_TEST_TIMEOUT and
 * CORIO_TEST_TIMEOUT_MULTIPLIER set to timeout / mult (NULL: unset). */
static struct outcome run_case(const char *name, const char *timeout,
                               const char *mult, const char *pidfile)
{
    struct outcome o = {-1, NULL};
    char exe[4096], buf[4096];
    size_t len = 0, cap = 0;
    ssize_t n;
    int p[2], st = 0;
    pid_t pid;
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n] = 0;
    CHECK_EQ(pipe(p), 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        unsetenv("CORIO_TEST_TIMEOUT");
        unsetenv("CORIO_TEST_TIMEOUT_MULTIPLIER");
        if (timeout)
            setenv("CORIO_TEST_TIMEOUT", timeout, 1);
        if (mult)
            setenv("CORIO_TEST_TIMEOUT_MULTIPLIER", mult, 1);
        if (pidfile)
            setenv("CORIO_TEST_RUNNER_PIDFILE", pidfile, 1);
        /* the runner's own ASan/LSan/Valgrind reports are not the point */
        execl(exe, exe, "--one", name, (char *)NULL);
        /* Under qemu-user without binfmt_misc the kernel cannot run this
         * (foreign) binary: say so, so the case can be skipped. */
        dprintf(1, "%s%d\n", EXEC_FAILED, errno);
        _exit(127);
    }
    close(p[1]);
    while ((n = read(p[0], buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        CHECK(n > 0);
        if (len + (size_t)n + 1 > cap) {
            cap = (len + (size_t)n + 1) * 2;
            o.out = realloc(o.out, cap);
            CHECK(o.out != NULL);
        }
        memcpy(o.out + len, buf, (size_t)n);
        len += (size_t)n;
    }
    close(p[0]);
    if (!o.out)
        o.out = calloc(1, 1);
    else
        o.out[len] = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    CHECK(WIFEXITED(st));
    o.code = WEXITSTATUS(st);
    if (o.code == 127 && strncmp(o.out, EXEC_FAILED, strlen(EXEC_FAILED)) == 0)
        corio_test_skip("this binary cannot run itself here (an emulator "
                        "such as qemu-user without binfmt_misc)");
    return o;
}

/* The runner, not the case, keeps the time: a case that hangs (with a
 * child of its own) is killed with its child at CORIO_TEST_TIMEOUT x
 * CORIO_TEST_TIMEOUT_MULTIPLIER seconds, and the runner names it. */
TEST(runner_kills_a_case_at_its_timeout)
{
    char pidfile[] = "/tmp/corio_runner_XXXXXX";
    int fd = mkstemp(pidfile), pid = 0;
    struct outcome o;
    FILE *f;
    CHECK(fd >= 0);
    close(fd);
    o = run_case("runner_demo_hang", "1", "3", pidfile);
    CHECK_EQ(o.code, 124);
    CHECK_STR_HAS(o.out, "[runner_demo_hang] timed out after 3 s");
    f = fopen(pidfile, "r");
    CHECK(f != NULL);
    CHECK_EQ(fscanf(f, "%d", &pid), 1);
    fclose(f);
    unlink(pidfile);
    CHECK(pid > 0);
    /* the case's own child is gone too (killed, reaped by init) */
    while (kill(pid, 0) == 0) {
        char path[64], state = 0;
        FILE *s;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        s = fopen(path, "r");
        if (!s)
            break;
        if (fscanf(s, "%*d %*s %c", &state) != 1)
            state = 0;
        fclose(s);
        if (state == 'Z' || state == 'X') /* dead, not yet reaped */
            break;
        sched_yield();
    }
    free(o.out);
}

/* A check that fails while stderr is captured still reports itself. */
TEST(runner_reports_a_check_failed_during_capture)
{
    struct outcome o = run_case("runner_demo_fail_in_capture", NULL, NULL,
                                NULL);
    CHECK_EQ(o.code, 1);
    CHECK_STR_HAS(o.out, "[runner_demo_fail_in_capture] 1 + 1 == 3: 2 vs 3");
    free(o.out);
}

/* So does one that fails in a corio_test_fork child, whose stderr goes to
 * the parent case. */
TEST(runner_reports_a_check_failed_in_a_forked_child)
{
    struct outcome o = run_case("runner_demo_fail_in_fork", NULL, NULL, NULL);
    CHECK_EQ(o.code, 1);
    CHECK_STR_HAS(o.out, "[runner_demo_fail_in_fork] 2 + 2 == 5: 4 vs 5");
    free(o.out);
}

/* SKIPPED is exit 77 (CTest's SKIP_RETURN_CODE), never 0. */
TEST(runner_skip_is_not_a_pass)
{
    struct outcome o = run_case("runner_demo_skip", NULL, NULL, NULL);
    CHECK_EQ(o.code, CORIO_TEST_SKIP_CODE);
    CHECK_STR_HAS(o.out, "[runner_demo_skip] SKIPPED: nothing to test here");
    free(o.out);
}

TEST(runner_reports_a_case_killed_by_a_signal)
{
    struct outcome o = run_case("runner_demo_killed", NULL, NULL, NULL);
    CHECK_EQ(o.code, 128 + SIGKILL);
    CHECK_STR_HAS(o.out, "[runner_demo_killed] killed by signal 9");
    free(o.out);
}

/* A shuffled run: a case gets debug mode and the seed (no slow-step
 * watchdog), a TEST_FIFO case is skipped with its reason, and a failure
 * names the seed. */
TEST(runner_shuffle_seeds_cases_and_skips_fifo_ones)
{
    struct outcome o;
    unsetenv("CORIO_DEBUG");
    unsetenv("CORIO_SHUFFLE_SEED");
    unsetenv("CORIO_SLOW_STEP");
    setenv("CORIO_TEST_SHUFFLE", "77", 1);
    o = run_case("runner_demo_shuffle_env", NULL, NULL, NULL);
    CHECK_EQ(o.code, 0);
    CHECK_STR_HAS(o.out, "env: CORIO_DEBUG=1 CORIO_SHUFFLE_SEED=77 "
                         "CORIO_SLOW_STEP=0\n");
    free(o.out);
    o = run_case("sync_lock_cancel_at_handoff", NULL, NULL, NULL);
    CHECK_EQ(o.code, CORIO_TEST_SKIP_CODE);
    CHECK_STR_HAS(o.out, "[sync_lock_cancel_at_handoff] SKIPPED: asserts FIFO "
                         "order (waiters must queue on the lock in spawn "
                         "order); not run under a shuffle seed");
    free(o.out);
    o = run_case("runner_demo_fail_in_capture", NULL, NULL, NULL);
    CHECK_EQ(o.code, 1);
    CHECK_STR_HAS(o.out, " CORIO_TEST_SHUFFLE=77)");
    free(o.out);
    /* 0 or unset: an ordinary run. */
    setenv("CORIO_TEST_SHUFFLE", "0", 1);
    o = run_case("runner_demo_shuffle_env", NULL, NULL, NULL);
    CHECK_STR_HAS(o.out, "env: CORIO_DEBUG=- CORIO_SHUFFLE_SEED=- "
                         "CORIO_SLOW_STEP=-\n");
    free(o.out);
    unsetenv("CORIO_TEST_SHUFFLE");
}
