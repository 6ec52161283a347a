/*
 * test_null_xthread.c: the NULL rule for the cross-thread calls of
 * corio/loop.h that have no case in test_null.c.
 */
#include "test.h"

#include <corio.h>
#include <errno.h>

static void nothing(void *arg)
{
    (void)arg;
}

TEST(null_loop_try_call_soon_threadsafe)
{
    corio_loop *loop;
    CHECK_EQ(corio_loop_try_call_soon_threadsafe(NULL, nothing, NULL),
             -EINVAL);
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_try_call_soon_threadsafe(loop, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_loop_try_call_soon_threadsafe(loop, nothing, NULL), 0);
    CHECK_EQ(corio_loop_free(loop), 0); /* the call is dropped */
}
