/*
 * test_fault_alloc.c: the allocator hook (corio/alloc.h) and the test
 * allocator (fault_alloc.h) that the out-of-memory sweeps stand on.
 */
#include "test.h"
#include "fault_alloc.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>

static int body_spawn_one(void *arg, void **result)
{
    (void)arg;
    *result = (void *)7;
    return 0;
}

static int body_main(void)
{
    corio_task *t;
    void *r = NULL;
    int rc = corio_spawn(body_spawn_one, NULL, NULL, &t);
    if (rc)
        return rc;
    rc = corio_task_join(t, &r);
    corio_task_release(t);
    return rc ? rc : (r == (void *)7 ? 0 : -EPROTO);
}

/* Everything corio allocates goes through the hook, and all of it comes
 * back. */
TEST(fault_alloc_hook_sees_everything)
{
    fault_alloc_install();
    CHECK_EQ(run(body_main), 0);
    CHECK(fault_alloc_calls() > 3);
    CHECK_EQ(fault_alloc_live(), 0);
    fault_alloc_uninstall();
}

/* Switching allocators while corio holds memory is refused. */
TEST(fault_alloc_switch_refused_while_live)
{
    corio_loop *loop;
    fault_alloc_install();
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK(fault_alloc_live() > 0);
    CHECK_EQ(corio_set_allocator(NULL), -EBUSY);
    CHECK_EQ(corio_loop_free(loop), 0);
    CHECK_EQ(fault_alloc_live(), 0);
    fault_alloc_uninstall();
}

/* A NULL from the allocator is -ENOMEM, never a crash. */
TEST(fault_alloc_first_fails)
{
    corio_loop *loop = NULL;
    fault_alloc_install();
    fault_alloc_fail_at(1, FAULT_ONCE);
    CHECK_EQ(corio_loop_new(NULL, &loop), -ENOMEM);
    CHECK(loop == NULL);
    CHECK_EQ(fault_alloc_failed(), 1);
    CHECK_EQ(fault_alloc_live(), 0);
    fault_alloc_uninstall();
}

static void never_cb(corio_future *f, void *arg)
{
    (void)f;
    (void)arg;
    CHECK(!"the callback of a future that never completed ran");
}

static int body_pending_future(void)
{
    corio_future *f;
    int rc = corio_future_new(NULL, &f);
    if (rc)
        return rc;
    CHECK_EQ(corio_future_add_done_callback(f, never_cb, NULL), 0);
    CHECK_EQ(corio_future_add_done_callback(f, never_cb, NULL), 0);
    corio_future_release(f); /* pending: its callbacks go with it */
    return 0;
}

/* Found by the sweep: a future freed pending kept its done callbacks. */
TEST(fault_alloc_pending_future_frees_callbacks)
{
    fault_alloc_install();
    CHECK_EQ(run(body_pending_future), 0);
    CHECK_EQ(fault_alloc_live(), 0);
    fault_alloc_uninstall();
}
