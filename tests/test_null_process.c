/*
 * test_null_process.c: the NULL rule (test_null.c) for corio/process.h:
 * every call given a NULL process or required pointer answers as its
 * contract says, outside any loop and inside a task.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <signal.h>

static void null_process_calls(void)
{
    const char *argv[] = {"/bin/true", NULL};
    corio_process *p = NULL;
    corio_process_io io = {0};
    int code = 0;

    CHECK_EQ(corio_process_spawn(NULL, NULL, &p), -EINVAL);
    CHECK_EQ(corio_process_spawn(argv, NULL, NULL), -EINVAL);
    CHECK(p == NULL);
    CHECK_EQ(corio_process_wait(NULL, &code), -EINVAL);
    CHECK_EQ(corio_process_try_wait(NULL, &code), -EINVAL);
    CHECK_EQ(corio_process_signal(NULL, SIGTERM), -EINVAL);
    CHECK_EQ(corio_process_terminate(NULL), -EINVAL);
    CHECK_EQ(corio_process_kill(NULL), -EINVAL);
    CHECK_EQ(corio_process_signal_group(NULL, SIGTERM), -EINVAL);
    CHECK_EQ(corio_process_pid(NULL), 0);
    CHECK_EQ(corio_process_fd(NULL, 0), -1);
    CHECK_EQ(corio_process_close_fd(NULL, 0), -EINVAL);
    CHECK_EQ(corio_process_communicate(NULL, &io), -EINVAL);
    CHECK_EQ(corio_process_release(NULL), 0);
}

static int in_task(void)
{
    const char *argv[] = {"/bin/true", NULL};
    corio_process *p;
    null_process_calls();
    /* A live process with the optional or required pointer NULL. */
    CHECK_EQ(corio_process_spawn(argv, NULL, &p), 0);
    CHECK_EQ(corio_process_communicate(p, NULL), -EINVAL);
    CHECK_EQ(corio_process_wait(p, NULL), 0);
    CHECK_EQ(corio_process_try_wait(p, NULL), 0);
    CHECK_EQ(corio_process_release(p), 0);
    return 0;
}

TEST(process_null_arguments)
{
    null_process_calls();
    CHECK_EQ(run(in_task), 0);
}
