/*
 * fault_program.c: the representative program of the out-of-memory
 * sweeps (fault_program.h): the checks every part makes (fault_parts.h),
 * the order the parts run in, and the forked child each sweep step runs
 * it in. The parts are in fault_parts.c and fault_parts_more.c.
 */
#include "fault_program.h"
#include "fault_alloc.h"
#include "fault_parts.h"
#include "fault_sys.h"
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int first_err; /* the first error a part saw */
static int nerr;      /* how many errors the parts saw */
static int rounds_;
int fault_scale;
static unsigned mask_;

/* Has a failure been injected that corio may report? */
static int fault_injected(void)
{
    return fault_alloc_failed() > 0 || fault_sys_failed_hard() > 0;
}

/* A call reported rc < 0 where success was due: it must be an error code
 * and an allocation must have failed. Returns rc. */
int fault_err_at(int rc, const char *what, const char *file, int line)
{
    if (rc >= 0)
        corio_test_fail(file, line, "%s: %d is not an error", what, rc);
    if (rc < -4095 && !(rc <= CORIO_EBASE && rc > CORIO_EBASE - 100))
        corio_test_fail(file, line, "%s: %d is not an errno", what, rc);
    if (!fault_injected())
        corio_test_fail(file, line, "%s failed (%s) with no fault "
                        "injected (EINTR must be retried)", what,
                        corio_errname(rc));
    if (getenv("CORIO_FAULT_VERBOSE"))
        fprintf(stderr, "%s:%d: %s: %s\n", file, line, what,
                corio_errname(rc));
    nerr++;
    if (!first_err)
        first_err = rc;
    return rc;
}
/* Drop a handle on a task after making sure it has ended, since it may
 * use what the caller is about to free. A task still running is
 * cancelled, and the caller yields until it is done: a bare yield
 * suspends even while a cancel stands on the caller (when corio_run is
 * cancelling everything, as after a poller failure), where a join would
 * fail at once, and it needs no memory. */
void fault_drop(corio_task *t)
{
    int i;
    if (t && !corio_task_done(t)) {
        corio_task_cancel(t);
        for (i = 0; i < 1000 && !corio_task_done(t); i++)
            (void)corio_yield(NULL, NULL);
        CHECK(corio_task_done(t));
    }
    corio_task_release(t);
}

/* ---- the program ------------------------------------------------------- */

static const struct {
    unsigned bit;
    int (*fn)(void);
} parts[] = {
    {PART_TASKS, fault_part_tasks},   {PART_GROUP, fault_part_group},
    {PART_SCOPE, fault_part_scope},   {PART_QUEUE, fault_part_queue},
    {PART_TOPIC, fault_part_topic},   {PART_AGEN, fault_part_agen},
    {PART_CTXVAR, fault_part_ctxvar}, {PART_SYNC, fault_part_sync},
    {PART_TIMERS, fault_part_timers}, {PART_PIPE, fault_part_pipe},
    {PART_GATHER, fault_part_gather}, {PART_MANY, fault_part_many},
    {PART_SIGNAL, fault_part_signal}, {PART_MISC, fault_part_misc},
    {PART_EXTRA, fault_part_extra},   {PART_SOCKET, fault_part_socket},
    {PART_THREAD, fault_part_thread},
};

static int main_body(void *arg, void **result)
{
    size_t i;
    int r, rc = 0;
    (void)arg;
    (void)result;
    for (r = 0; r < rounds_; r++)
        for (i = 0; i < sizeof parts / sizeof parts[0]; i++)
            if (mask_ & parts[i].bit) {
                int prc = parts[i].fn();
                if (prc < 0 && !rc)
                    rc = prc;
            }
    return rc;
}

int fault_program_run(unsigned mask, int rounds, int scale)
{
    int r, rc = 0, crc;
    first_err = 0;
    nerr = 0;
    rounds_ = rounds;
    fault_scale = scale;
    mask_ = mask;
    signal(SIGPIPE, SIG_IGN);
    if (mask & PART_CORO)
        for (r = 0; r < rounds; r++)
            if ((crc = fault_part_coro()) < 0 && !rc)
                rc = crc;
    if (mask & PART_EXTRA)
        for (r = 0; r < rounds; r++)
            if ((crc = fault_part_hand_loop()) < 0 && !rc)
                rc = crc;
    if (mask & ~PART_CORO) {
        first_err = 0; /* what the loop's parts see, from here */
        nerr = 0;
        crc = corio_run(main_body, NULL, NULL);
        if (crc < 0 && first_err == 0)
            prog_err(crc, "corio_run"); /* corio_run's own failure */
        else if (crc >= 0)
            CHECK_EQ(crc, 0);
        /* An error a part saw must come out of corio_run. */
        if (nerr > 0 && crc >= 0)
            corio_test_fail(__FILE__, __LINE__, "a part saw %s but "
                            "corio_run returned %d", corio_errname(first_err),
                            crc);
        if (crc < 0 && !rc)
            rc = crc;
    }
    if (!fault_injected())
        CHECK_EQ(rc, 0);
    return rc;
}

/* ---- one child --------------------------------------------------------- */

/* LeakSanitizer's check, where there is one. */
extern void __lsan_do_leak_check(void) __attribute__((weak));

/* A child still running after this long is hung (it does milliseconds of
 * work; this only catches a lost wakeup). */
#define CHILD_LIMIT_S 30

static int full_size(void)
{
    const char *f = getenv("CORIO_FAULTS");
    return f && strcmp(f, "full") == 0;
}

static void child(unsigned mask, const struct fault_plan *p, int report_fd)
{
    long counts[FS_NFN + 1];
    int i, fds;
    alarm(CHILD_LIMIT_S);
    fault_alloc_install();
    fault_alloc_fail_at(p->alloc_n, p->alloc_mode);
    fault_sys_reset();
    if (report_fd >= 0) /* count every call, fail none */
        for (i = 0; i < FS_NFN; i++)
            fault_sys_fail(i, LONG_MAX, 1, EIO);
    else if (p->sys_k > 0)
        fault_sys_fail(p->sys_fn, p->sys_k, 1, p->sys_err);
    fds = corio_test_count_fds();
    (void)fault_program_run(mask, full_size() ? 3 : 1, full_size() ? 4 : 1);
    if (corio_test_count_fds() != fds)
        corio_test_fail(__FILE__, __LINE__, "%d descriptors leaked",
                        corio_test_count_fds() - fds);
    for (i = 0; i < FS_NFN; i++)
        counts[i] = fault_sys_calls(i);
    counts[FS_NFN] = fault_alloc_calls();
    fault_sys_reset();
    if (fault_alloc_live() != 0)
        corio_test_fail(__FILE__, __LINE__, "%ld blocks leaked",
                        fault_alloc_live());
    fault_alloc_uninstall();
    if (report_fd >= 0)
        CHECK_EQ(write(report_fd, counts, sizeof counts),
                 (ssize_t)sizeof counts);
    if (__lsan_do_leak_check)
        __lsan_do_leak_check();
    fflush(NULL);
    _exit(0);
}

static void describe(const struct fault_plan *p, char *buf, size_t n)
{
    static const char *const names[FS_NFN] = {
        "epoll_create1", "epoll_ctl", "epoll_wait", "poll", "read", "write",
        "accept4", "eventfd", "signalfd", "mmap", "mprotect"};
    if (p->sys_k > 0)
        snprintf(buf, n, "call %ld of %s failing with %s", p->sys_k,
                 names[p->sys_fn], corio_errname(-p->sys_err));
    else
        snprintf(buf, n, "allocation %ld failing %s", p->alloc_n,
                 p->alloc_mode == FAULT_ONCE ? "once" : "from then on");
}

void fault_program_child(unsigned mask, const struct fault_plan *plan,
                         long *counts)
{
    char what[128];
    int pfd[2] = {-1, -1}, st;
    pid_t pid;
    fflush(NULL);
    if (counts)
        CHECK_EQ(pipe(pfd), 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (counts)
            close(pfd[0]);
        child(mask, plan, pfd[1]);
    }
    if (counts) {
        size_t sz = (FS_NFN + 1) * sizeof *counts;
        close(pfd[1]);
        CHECK_EQ(read(pfd[0], counts, sz), (ssize_t)sz);
        close(pfd[0]);
    }
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    describe(plan, what, sizeof what);
    if (WIFSIGNALED(st))
        corio_test_fail(__FILE__, __LINE__, "%s: child died of signal %d%s",
                        what, WTERMSIG(st),
                        WTERMSIG(st) == SIGALRM ? " (hung)" : "");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        corio_test_fail(__FILE__, __LINE__, "%s: child exited %d", what,
                        WEXITSTATUS(st));
}
