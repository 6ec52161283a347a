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
 * To look at one case: CORIO_FAULT_ONLY=N (that allocation only), or
 * CORIO_FAULT_SYS=FN,K,ERRNO (call K of fault_sys function FN), and
 * CORIO_FAULT_VERBOSE=1 (every error the program sees, on stderr).
 *
 * The same program runs with each system call of corio failing in turn
 * (fault_sys.h), with EINTR (which must never surface) and the resource
 * errors each call can give.
 *
 * `make test` sweeps each part alone and all parts together, one round.
 * `make faults` sets CORIO_FAULTS=full: three rounds of each, so the
 * second and third rounds run on recycled objects and grown tables.
 */
#include "test.h"
#include "fault_alloc.h"
#include "fault_program.h"
#include "fault_sys.h"

#include <errno.h>
#include <stdlib.h>

static void sweep(unsigned mask)
{
    const char *only = getenv("CORIO_FAULT_ONLY");
    struct fault_plan p = {0, FAULT_ONCE, 0, 0, 0};
    long counts[FS_NFN + 1], k, n;
    if (only) { /* CORIO_FAULT_ONLY=N: that allocation alone, both modes */
        p.alloc_n = atol(only);
        fault_program_child(mask, &p, NULL);
        p.alloc_mode = FAULT_FROM;
        fault_program_child(mask, &p, NULL);
        return;
    }
    fault_program_child(mask, &p, counts);
    k = counts[FS_NFN];
    CHECK(k > 0);
    fprintf(stderr, "%ld allocations\n", k);
    for (n = 1; n <= k + 1; n++) {
        p.alloc_n = n;
        p.alloc_mode = FAULT_ONCE;
        fault_program_child(mask, &p, NULL);
        p.alloc_mode = FAULT_FROM;
        fault_program_child(mask, &p, NULL);
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

/* ---- the same program, with system calls failing ----------------------- */

/* Each call of each function fails in turn, with the errnos it can
 * really give there: EINTR (never seen by the caller: retried), and the
 * resource errors that corio reports. */
static void sys_sweep(unsigned mask)
{
    static const struct {
        int fn, err;
    } faults[] = {
        {FS_EPOLL_CTL, ENOMEM}, {FS_EPOLL_CTL, ENOSPC},
        {FS_EPOLL_WAIT, EINTR}, {FS_POLL, EINTR},
        {FS_POLL, ENOMEM},      {FS_READ, EINTR},
        {FS_WRITE, EINTR},      {FS_EVENTFD, EMFILE},
        {FS_SIGNALFD, EMFILE},  {FS_SIGNALFD, ENOMEM},
        {FS_MMAP, ENOMEM},      {FS_MPROTECT, ENOMEM},
    };
    struct fault_plan p = {0, FAULT_ONCE, 0, 0, 0};
    long counts[FS_NFN + 1], k, runs = 0;
    size_t i;
    fault_sys_require();
    if (getenv("CORIO_FAULT_SYS")) { /* CORIO_FAULT_SYS=FN,K,ERRNO */
        CHECK_EQ(sscanf(getenv("CORIO_FAULT_SYS"), "%d,%ld,%d", &p.sys_fn,
                        &p.sys_k, &p.sys_err), 3);
        fault_program_child(mask, &p, NULL);
        return;
    }
    fault_program_child(mask, &p, counts);
    for (i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        p.sys_fn = faults[i].fn;
        p.sys_err = faults[i].err;
        for (k = 1; k <= counts[p.sys_fn]; k++) {
            p.sys_k = k;
            fault_program_child(mask, &p, NULL);
            runs++;
        }
    }
    fprintf(stderr, "%ld runs with a system call failing\n", runs);
}

TEST(fault_sys_sweep_io) { sys_sweep(PART_PIPE | PART_MANY); }
TEST(fault_sys_sweep_signal) { sys_sweep(PART_SIGNAL | PART_TIMERS); }
TEST(fault_sys_sweep_all) { sys_sweep(PART_ALL); }
