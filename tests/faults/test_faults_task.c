/*
 * test_faults_task.c: a task handle used after its last release is caught
 * in debug builds (issue 10): the task's memory is recycled, so nothing
 * else would notice. Release builds (NDEBUG) check nothing, and these
 * cases are skipped there; make asan runs them (a Debug build).
 */
#include "test.h"

#include <corio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static int quick(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return 0;
}

enum misuse { JOIN, CANCEL, RELEASE };

static int misuse_main(void *arg, void **result)
{
    enum misuse how = *(enum misuse *)arg;
    corio_task_opts o;
    corio_task *t;
    (void)result;
    memset(&o, 0, sizeof o);
    o.name = "short-lived";
    CHECK_EQ(corio_spawn(quick, NULL, &o, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t); /* the last reference */
    switch (how) {
    case JOIN:
        (void)corio_task_join(t, NULL);
        break;
    case CANCEL:
        (void)corio_task_cancel(t);
        break;
    case RELEASE:
        corio_task_release(t);
        break;
    }
    fprintf(stderr, "not caught\n");
    return 0;
}

static void misuse_child(void *arg)
{
    (void)corio_run(misuse_main, arg, NULL);
}

static void expect_caught(enum misuse how, const char *call)
{
    char *err = NULL, want[128];
    int st;
#ifdef NDEBUG
    corio_test_skip("release build (NDEBUG): the check costs nothing "
                    "there because it is not made");
#endif
    st = corio_test_fork(misuse_child, &how, &err);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT)
        corio_test_fail(__FILE__, __LINE__, "status %#x, stderr:\n%s", st,
                        err);
    snprintf(want, sizeof want, "corio: %s on task 'short-lived'", call);
    CHECK_STR_HAS(err, want);
    CHECK_STR_HAS(err, "after its last release");
    CHECK(!strstr(err, "not caught"));
    free(err);
}

TEST(task_join_after_last_release_caught)
{
    expect_caught(JOIN, "corio_task_join");
}

TEST(task_cancel_after_last_release_caught)
{
    expect_caught(CANCEL, "corio_task_cancel");
}

TEST(task_release_twice_caught)
{
    expect_caught(RELEASE, "corio_task_release");
}
