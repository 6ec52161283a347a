/*
 * test_fault_oom.c: out-of-memory sweeps (SQLite's habit). The program of
 * fault_program.c runs once to count its allocations K; then, for every N
 * in 1..K, a fresh child process runs it with allocation N failing, once
 * (FAULT_ONCE) and from N on (FAULT_FROM). Each child checks that every
 * failure came back as a negative errno, that no failure was reported as
 * success, and that nothing corio allocated is still live and no
 * descriptor still open at the end (plus LeakSanitizer's own check in
 * ASan builds); the parent checks the
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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The sweeps of all parts together take one N in `stride` (from a seeded
 * random start) where each child is slow: under Valgrind and the
 * sanitizers, outside `make faults`. Each part's own sweep still takes
 * every N. */
static long all_stride(void)
{
    const char *f = getenv("CORIO_FAULTS");
    if (f && strcmp(f, "full") == 0)
        return 1;
    if (corio_test_under_valgrind())
        return 8;
    return corio_test_under_asan() || corio_test_under_tsan() ? 3 : 1;
}

static void sweep_every(unsigned mask, long stride)
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
    for (n = 1 + (long)(corio_test_rand() % (uint64_t)stride); n <= k + 1;
         n += stride) {
        p.alloc_n = n;
        p.alloc_mode = FAULT_ONCE;
        fault_program_child(mask, &p, NULL);
        p.alloc_mode = FAULT_FROM;
        fault_program_child(mask, &p, NULL);
    }
}

static void sweep(unsigned mask)
{
    sweep_every(mask, 1);
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
TEST(fault_oom_extra) { sweep(PART_EXTRA); }
TEST(fault_oom_socket) { sweep(PART_SOCKET); }
TEST(fault_oom_thread) { sweep(PART_THREAD); }
TEST(fault_oom_all) { sweep_every(PART_ALL, all_stride()); }

/* ---- the same program, with system calls failing ----------------------- */

/* Each call of each function fails in turn, with the errnos it can
 * really give there: EINTR (never seen by the caller: retried), and the
 * resource errors that corio reports. */
static void sys_sweep_every(unsigned mask, long stride)
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
        {FS_ACCEPT4, EINTR},    {FS_ACCEPT4, ENOMEM},
        {FS_ACCEPT4, EMFILE},
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
        for (k = 1 + (long)(corio_test_rand() % (uint64_t)stride);
             k <= counts[p.sys_fn]; k += stride) {
            p.sys_k = k;
            fault_program_child(mask, &p, NULL);
            runs++;
        }
    }
    fprintf(stderr, "%ld runs with a system call failing\n", runs);
}

TEST(fault_sys_sweep_io) { sys_sweep_every(PART_PIPE | PART_MANY, 1); }
TEST(fault_sys_sweep_socket) { sys_sweep_every(PART_SOCKET, 1); }
TEST(fault_sys_sweep_thread) { sys_sweep_every(PART_THREAD, 1); }
TEST(fault_sys_sweep_signal) { sys_sweep_every(PART_SIGNAL | PART_TIMERS, 1); }
TEST(fault_sys_sweep_all) { sys_sweep_every(PART_ALL, all_stride()); }
