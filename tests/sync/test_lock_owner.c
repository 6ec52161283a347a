/*
 * test_lock_owner.c: a lock's owner is a task, not a recyclable address.
 * A task that ends holding a lock leaves it held (asyncio); a later task,
 * even one given the same task object, must not be taken for its owner.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>

static int take_and_leave(void *arg, void **result)
{
    (void)result;
    return corio_lock_acquire(arg); /* ends holding it */
}

struct second {
    corio_lock *lk;
    int release_rc;
    int try_rc;
};

static int second_task(void *arg, void **result)
{
    struct second *s = arg;
    (void)result;
    s->release_rc = corio_lock_release(s->lk);
    s->try_rc = corio_lock_try_acquire(s->lk);
    return 0;
}

static int recycled(void)
{
    struct second s = {NULL, 1, 1};
    corio_task *a, *b;
    CHECK_EQ(corio_lock_new(&s.lk), 0);
    CHECK_EQ(corio_spawn(take_and_leave, s.lk, NULL, &a), 0);
    CHECK_EQ(corio_task_join(a, NULL), 0);
    CHECK(corio_lock_locked(s.lk));
    CHECK_PTR(corio_lock_owner(s.lk), a); /* still a valid object */
    CHECK(corio_task_done(corio_lock_owner(s.lk)));
    corio_task_release(a);
    /* Task objects are recycled: without the lock's reference on its
     * owner, b would get a's object and "own" the lock. */
    CHECK_EQ(corio_spawn(second_task, &s, NULL, &b), 0);
    CHECK(b != a);
    CHECK_EQ(corio_task_join(b, NULL), 0);
    CHECK_EQ(s.release_rc, -EPERM);
    CHECK_EQ(s.try_rc, -EAGAIN);
    corio_task_release(b);
    CHECK(corio_lock_locked(s.lk));
    /* Freeing a lock whose owner ended is allowed; it drops the owner. */
    CHECK_EQ(corio_lock_free(s.lk), 0);
    return 0;
}

TEST(sync_lock_owner_not_inherited_by_recycled_task)
{
    CHECK_EQ(run(recycled), 0);
}

static int held_by_live(void *arg, void **result)
{
    (void)result;
    CHECK_EQ(corio_lock_acquire(arg), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_sleep(0), 0);
    return corio_lock_release(arg);
}

static int busy_free(void)
{
    corio_lock *lk;
    corio_task *a;
    CHECK_EQ(corio_lock_new(&lk), 0);
    CHECK_EQ(corio_spawn(held_by_live, lk, NULL, &a), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_lock_free(lk), -EBUSY); /* owner alive: nothing freed */
    CHECK_EQ(corio_task_join(a, NULL), 0);
    corio_task_release(a);
    CHECK(!corio_lock_locked(lk));
    CHECK(corio_lock_owner(lk) == NULL);
    CHECK_EQ(corio_lock_free(lk), 0);
    return 0;
}

TEST_FIFO(sync_lock_free_busy_while_owner_lives,
          "one sleep(0) lets the spawned owner take the lock first")
{
    CHECK_EQ(run(busy_free), 0);
}
