/*
 * test_faults_stack.c: an overflow by a frame larger than the guard is
 * reported with the name of the coroutine that overflowed (issue 10). The
 * test binary is built with -fstack-clash-protection where the compiler
 * has it (CMakeLists.txt), as docs/coro.md asks of programs.
 */
#include "test.h"

#include <corio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "core/coro_impl.h"
#include "core/stack/stack.h"

#define BIG_FRAME (96 * 1024) /* larger than any guard corio makes */

static volatile int sink_;

static int deep(int n)
{
    volatile char big[BIG_FRAME];
    big[0] = (char)n;
    big[BIG_FRAME - 1] = (char)n;
    sink_ += big[0];
    return n ? deep(n - 1) + big[BIG_FRAME - 1] : 0;
}

static int big_frames(void *arg, void **result)
{
    (void)arg;
    (void)result;
    sink_ = deep(1 << 20);
    return 0;
}

static int idle(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_yield(NULL, NULL);
}

/* Neighbours first (suspended, with stacks), then the one that
 * overflows: it must be the one named. */
static void overflow_child(void *arg)
{
    corio_coro_opts o;
    corio_coro *n1, *n2, *co;
    (void)arg;
    memset(&o, 0, sizeof o);
    o.name = "neighbour";
    CHECK_EQ(corio_coro_new(idle, NULL, &o, &n1), 0);
    CHECK_EQ(corio_coro_resume(n1, NULL, NULL), CORIO_YIELDED);
    o.name = "big-frames";
    CHECK_EQ(corio_coro_new(big_frames, NULL, &o, &co), 0);
    o.name = "neighbour";
    CHECK_EQ(corio_coro_new(idle, NULL, &o, &n2), 0);
    CHECK_EQ(corio_coro_resume(n2, NULL, NULL), CORIO_YIELDED);
    fprintf(stderr, "overflowing\n");
    (void)corio_coro_resume(co, NULL, NULL);
    fprintf(stderr, "no fault\n");
}

TEST(fault_stack_big_frame_overflow_named)
{
    char *err = NULL;
    int st;
#ifndef CORIO_TEST_STACK_CLASH
    corio_test_skip("the compiler has no -fstack-clash-protection");
#endif
    st = corio_test_fork(overflow_child, NULL, &err);
    if (corio_test_under_asan() && strstr(err, "AddressSanitizer")) {
        /* ASan reports the overflow itself. */
        CHECK(!WIFEXITED(st) || WEXITSTATUS(st) != 0);
        free(err);
        return;
    }
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT)
        corio_test_fail(__FILE__, __LINE__, "status %#x, stderr:\n%s", st,
                        err);
    CHECK_STR_HAS(err, "corio: stack overflow in coroutine 'big-frames'");
    CHECK(!strstr(err, "no fault"));
    free(err);
}
