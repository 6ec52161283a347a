/*
 * test_null_thread.c: the NULL rule for thread.h and file.h (the pool,
 * corio_to_thread, cross-loop calls, files): -EINVAL for a NULL object or
 * required pointer, releases of NULL do nothing, queries answer 0.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>

static int null_body(void)
{
    corio_pool *p = NULL;
    CHECK_EQ(corio_to_thread(NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_to_thread_with(NULL, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_loop_pool(corio_loop_current(), NULL), -EINVAL);
    CHECK_EQ(corio_loop_pool(NULL, &p), -EINVAL);
    CHECK_EQ(corio_loop_set_pool(NULL, NULL), -EINVAL);
    CHECK_EQ(corio_xcall_await(NULL, NULL), -EINVAL);
    return 0;
}

static int body_nop(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return 0;
}

TEST(null_thread)
{
    corio_pool *p = NULL;
    CHECK_EQ(corio_pool_new(NULL, NULL), -EINVAL);
    corio_pool_retain(NULL);
    corio_pool_release(NULL);
    CHECK_EQ(corio_pool_threads(NULL), 0);
    CHECK_EQ(corio_loop_pool(NULL, &p), -EINVAL);
    CHECK(p == NULL);
    CHECK_EQ(corio_loop_set_pool(NULL, NULL), -EINVAL);
    CHECK_EQ(corio_to_thread(NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_to_thread_with(NULL, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_run_coroutine_threadsafe(NULL, body_nop, NULL, NULL),
             -EINVAL);
    CHECK_EQ(corio_xcall_wait(NULL, 0, NULL), -EINVAL);
    CHECK_EQ(corio_xcall_await(NULL, NULL), -EINVAL);
    CHECK_EQ(corio_xcall_cancel(NULL), -EINVAL);
    CHECK_EQ(corio_xcall_done(NULL), 0);
    corio_xcall_release(NULL);
    CHECK_EQ(run(null_body), 0);
}
