/*
 * test_fault_oom.c: out-of-memory sweeps (SQLite's habit). The program of
 * fault_program.c runs once to count its allocations K; then, for every N
 * in 1..K, a fresh child process runs it with allocation N failing, once
 * (FAULT_ONCE) and from N on (FAULT_FROM). Each child checks that every
 * failure came back as a negative errno, that no failure was reported as
 * success, and that nothing corio allocated is still live at the end
 * (plus LeakSanitizer's own check in ASan builds); the parent checks the
 * child neither crashed nor hung.
 *
 * To look at one case: CORIO_FAULT_ONLY=N (that allocation only) and
 * CORIO_FAULT_VERBOSE=1 (every error the program sees, on stderr).
 *
 * `make test` sweeps each part alone and all parts together, one round.
 * `make faults` sets CORIO_FAULTS=full: three rounds of each, so the
 * second and third rounds run on recycled objects and grown tables.
 */
#include "test.h"
#include "fault_alloc.h"
#include "fault_program.h"

#include <corio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* LeakSanitizer's check, where there is one. */
extern void __lsan_do_leak_check(void) __attribute__((weak));

/* A child that is still running after this long is hung (a sweep child
 * does milliseconds of work; this only catches a lost wakeup). */
#define CHILD_LIMIT_S 30

static int rounds(void)
{
    const char *f = getenv("CORIO_FAULTS");
    return f && strcmp(f, "full") == 0 ? 3 : 1;
}

/* In a child: run the program with allocation n failing, check, exit. */
static void child(unsigned mask, long n, int mode, int report_fd)
{
    long calls;
    alarm(CHILD_LIMIT_S);
    fault_alloc_install();
    fault_alloc_fail_at(n, mode);
    (void)fault_program_run(mask, rounds(), rounds() > 1 ? 4 : 1);
    calls = fault_alloc_calls();
    if (fault_alloc_live() != 0)
        corio_test_fail(__FILE__, __LINE__, "%ld blocks leaked",
                        fault_alloc_live());
    fault_alloc_uninstall();
    if (report_fd >= 0)
        CHECK_EQ(write(report_fd, &calls, sizeof calls), (ssize_t)sizeof calls);
    if (__lsan_do_leak_check)
        __lsan_do_leak_check();
    fflush(NULL);
    _exit(0);
}

/* Fork a child for (n, mode); fail the case unless it exits 0. Returns
 * the allocations it counted when asked (report). */
static long run_child(unsigned mask, long n, int mode, int report)
{
    int p[2] = {-1, -1}, st;
    long calls = -1;
    pid_t pid;
    fflush(NULL);
    if (report)
        CHECK_EQ(pipe(p), 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (report)
            close(p[0]);
        child(mask, n, mode, p[1]);
    }
    if (report) {
        close(p[1]);
        CHECK_EQ(read(p[0], &calls, sizeof calls), (ssize_t)sizeof calls);
        close(p[0]);
    }
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st))
        corio_test_fail(__FILE__, __LINE__, "allocation %ld failing (%s): "
                        "child died of signal %d%s", n,
                        mode == FAULT_ONCE ? "once" : "from then on",
                        WTERMSIG(st),
                        WTERMSIG(st) == SIGALRM ? " (hung)" : "");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        corio_test_fail(__FILE__, __LINE__, "allocation %ld failing (%s): "
                        "child exited %d", n,
                        mode == FAULT_ONCE ? "once" : "from then on",
                        WEXITSTATUS(st));
    return calls;
}

static void sweep(unsigned mask)
{
    const char *only = getenv("CORIO_FAULT_ONLY");
    long k, n;
    if (only) { /* CORIO_FAULT_ONLY=N: that allocation alone, both modes */
        run_child(mask, atol(only), FAULT_ONCE, 0);
        run_child(mask, atol(only), FAULT_FROM, 0);
        return;
    }
    k = run_child(mask, 0, FAULT_ONCE, 1);
    CHECK(k > 0);
    fprintf(stderr, "%ld allocations, %d round(s)\n", k, rounds());
    for (n = 1; n <= k + 1; n++) {
        run_child(mask, n, FAULT_ONCE, 0);
        run_child(mask, n, FAULT_FROM, 0);
    }
}

TEST(fault_oom_coro) { sweep(PART_CORO); }
TEST(fault_oom_tasks) { sweep(PART_TASKS); }
TEST(fault_oom_group) { sweep(PART_GROUP); }
TEST(fault_oom_scope) { sweep(PART_SCOPE); }
TEST(fault_oom_queue) { sweep(PART_QUEUE); }
TEST(fault_oom_topic) { sweep(PART_TOPIC); }
TEST(fault_oom_agen) { sweep(PART_AGEN); }
TEST(fault_oom_ctxvar) { sweep(PART_CTXVAR); }
TEST(fault_oom_sync) { sweep(PART_SYNC); }
TEST(fault_oom_timers) { sweep(PART_TIMERS); }
TEST(fault_oom_pipe) { sweep(PART_PIPE); }
TEST(fault_oom_gather) { sweep(PART_GATHER); }
TEST(fault_oom_many) { sweep(PART_MANY); }
TEST(fault_oom_signal) { sweep(PART_SIGNAL); }
TEST(fault_oom_misc) { sweep(PART_MISC); }
TEST(fault_oom_all) { sweep(PART_ALL); }
