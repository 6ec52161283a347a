/*
 * test_null_diag.c: the NULL rule for corio/diag.h and corio_run_at.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <signal.h>

static int null_calls(void)
{
    corio_future *f;
    CHECK_EQ(corio_loop_dump(NULL, NULL, CORIO_DUMP_TEXT), -EINVAL);
    CHECK_EQ(corio_loop_dump(corio_loop_current(), NULL, CORIO_DUMP_JSON),
             -EINVAL);
    CHECK_EQ(corio_loop_dump(NULL, stderr, 7), -EINVAL);
    CHECK_EQ(corio_diag_future_completer(NULL, NULL), -EINVAL);
    CHECK_EQ(corio_diag_future_completer(NULL, corio_task_current()), -EINVAL);
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_diag_future_completer(f, NULL), 0);
    corio_future_release(f);
    CHECK_EQ(corio_diag_debug(NULL, 1), -EINVAL);
    {
        corio_metrics m;
        CHECK_EQ(corio_loop_metrics(NULL, &m), -EINVAL);
        if (corio_loop_current())
            CHECK_EQ(corio_loop_metrics(corio_loop_current(), NULL), -EINVAL);
    }
    CHECK_EQ(corio_diag_slow_steps(NULL, 0.1), -EINVAL);
    CHECK_EQ(corio_diag_shuffle(NULL, 7), -EINVAL);
    CHECK_EQ(corio_diag_virtual_clock(NULL, 1), -EINVAL);
    if (!corio_task_current())
        CHECK_EQ(corio_wait_all_blocked(), CORIO_ENOTASK);
    CHECK_EQ(corio_diag_slow_steps(NULL, 0), -EINVAL);
    CHECK_EQ(corio_diag_dump_on_signal(NULL, SIGUSR1), -EINVAL);
    CHECK_EQ(corio_diag_dump_on_signal(NULL, 0), -EINVAL);
    CHECK_EQ(corio_run_at(NULL, NULL, NULL, NULL, 0), -EINVAL);
    CHECK_EQ(corio_fail_at(NULL, 0, -EIO, NULL), -EIO);
    return 0;
}

TEST(diag_null_args)
{
    /* Outside any loop: no current loop either. */
    CHECK_EQ(corio_loop_dump(NULL, stderr, CORIO_DUMP_TEXT), -EINVAL);
    CHECK_EQ(null_calls(), 0);
    CHECK_EQ(run(null_calls), 0);
}
