/*
 * test_wait.c: the wait record (src/wait.h) as corio's own layers see it:
 * a parked task's whole waiting state is its record (kind, object,
 * outcome); a wake grants it and queues the task exactly once; a second
 * wake is refused (a NEVER() check in debug builds, ignored in release
 * builds); the debug task-state checker catches a task that is neither
 * queued nor parked; list.h's list keeps its links straight.
 */

#include "test.h"

#include <corio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "task/task_impl.h"
#include "sync/sync_impl.h"

/* ---- list.h ------------------------------------------------------------------------- */

struct item {
    int v;
    corio__node node;
};

TEST(wait_list_basics)
{
    corio__list l = {0}; /* a zeroed list is empty */
    struct item it[4];
    corio__node *n, *nx;
    int i, sum = 0, order[4], k = 0;
    CHECK(corio__list_empty(&l));
    CHECK(corio__list_pop(&l) == NULL);
    for (i = 0; i < 4; i++)
        it[i].v = i;
    corio__list_push_back(&l, &it[1].node);
    corio__list_push_back(&l, &it[2].node);
    corio__list_push_front(&l, &it[0].node);
    corio__list_push_back(&l, &it[3].node);
    /* Removal-safe iteration: drop the odd ones as we go. */
    CORIO__LIST_EACH(n, nx, &l) {
        struct item *p = CORIO__CONTAINER(n, struct item, node);
        order[k++] = p->v;
        if (p->v % 2)
            corio__list_remove(&l, n);
    }
    CHECK_EQ(k, 4);
    for (i = 0; i < 4; i++)
        CHECK_EQ(order[i], i);
    CHECK(it[1].node.next == NULL && it[1].node.prev == NULL);
    while ((n = corio__list_pop(&l)) != NULL)
        sum += CORIO__CONTAINER(n, struct item, node)->v;
    CHECK_EQ(sum, 0 + 2);
    CHECK(corio__list_empty(&l) && l.last == NULL);
}

/* ---- a parked task's record ----------------------------------------------------------- */

struct awaiter {
    corio_future *f;
    int rc;
    void *result;
};

static int await_it(void *arg, void **result)
{
    struct awaiter *a = arg;
    (void)result;
    a->rc = corio_future_await(a->f, &a->result);
    return 0;
}

static int record_states(void *arg, void **result)
{
    struct awaiter a = {NULL, 1, NULL};
    corio_task *t;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_future_new(NULL, &a.f), 0);
    CHECK_EQ(corio_spawn(await_it, &a, NULL, &t), 0);
    CHECK_EQ(t->wait.state, CORIO__WAIT_IDLE);
    CHECK_EQ(corio_sleep(0), 0);
    /* Parked: the record says on what, and it is linked into f. */
    CHECK(corio__task_parked(t));
    CHECK(!t->queued);
    CHECK(t->wait.task == t && t->wait.obj == a.f);
    CHECK_STR_HAS(t->wait.ops->what, "future");
    CHECK(a.f->waiters.first == &t->wait.node);
    /* Granted: unlinked, queued, not yet run. */
    CHECK_EQ(corio_future_set_result(a.f, (void *)7), 0);
    CHECK_EQ(t->wait.state, CORIO__WAIT_GRANTED);
    CHECK(t->queued);
    CHECK(corio__list_empty(&a.f->waiters));
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(a.rc, 0);
    CHECK(a.result == (void *)7);
    corio_task_release(t);
    corio_future_release(a.f);
    return 0;
}

TEST_FIFO(wait_record_follows_a_future_wait,
          "one sleep(0) lets the spawned task run and park first")
{
    CHECK_EQ(corio_run(record_states, NULL, NULL), 0);
}

/* A cancel ends the record CANCELLED through its kind's detach. */
static int lock_it(void *arg, void **result)
{
    (void)result;
    return corio_lock_acquire(arg);
}

static int record_cancelled(void *arg, void **result)
{
    corio_task *t;
    corio_lock *lk;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_lock_new(&lk), 0);
    CHECK_EQ(corio_lock_acquire(lk), 0);
    CHECK_EQ(corio_spawn(lock_it, lk, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK(corio__task_parked(t));
    CHECK(t->wait.obj == lk);
    CHECK_EQ(lk->q.n, 1);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(t->wait.state, CORIO__WAIT_CANCELLED);
    CHECK_EQ(t->wait.value, -ECANCELED);
    CHECK(t->queued);
    CHECK_EQ(lk->q.n, 0);
    CHECK(corio__list_empty(&lk->q.l));
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    corio_task_release(t);
    CHECK_EQ(corio_lock_release(lk), 0);
    CHECK_EQ(corio_lock_free(lk), 0);
    return 0;
}

TEST_FIFO(wait_record_cancelled_by_detach,
          "one sleep(0) lets the spawned task run and park first")
{
    CHECK_EQ(corio_run(record_cancelled, NULL, NULL), 0);
}

/* ---- a second wake -------------------------------------------------------------------- */

static int double_wake(void *arg, void **result)
{
    struct awaiter a = {NULL, 1, NULL};
    corio_task *t;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_future_new(NULL, &a.f), 0);
    CHECK_EQ(corio_spawn(await_it, &a, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK(corio__task_parked(t));
    CHECK_EQ(corio_future_set_result(a.f, NULL), 0);
    /* The record is GRANTED: waking it again is a bug (debug builds
     * abort here; release builds ignore it and keep one queue entry). */
    corio__wait_wake(&t->wait, -EIO, NULL);
    CHECK_EQ(t->wait.value, 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(a.rc, 0);
    corio_task_release(t);
    corio_future_release(a.f);
    return 0;
}

static void double_wake_child(void *arg)
{
    (void)arg;
    exit(corio_run(double_wake, NULL, NULL) == 0 ? 0 : 3);
}

TEST_FIFO(wait_second_wake_is_refused,
          "one sleep(0) lets the spawned task run and park first")
{
    char *err = NULL;
    int st = corio_test_fork(double_wake_child, NULL, &err);
#ifdef NDEBUG
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
#else
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK_STR_HAS(err, "NEVER(w->state != CORIO__WAIT_PENDING)");
#endif
    free(err);
}

/* ---- the task-state checker (debug builds) -------------------------------------------- */

static int lost_task(void *arg, void **result)
{
    struct awaiter a = {NULL, 1, NULL};
    corio_task *t;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_future_new(NULL, &a.f), 0);
    CHECK_EQ(corio_spawn(await_it, &a, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0);
    /* Forge a lost task: suspended, not done, neither parked nor queued. */
    corio__future_remove_waiter(a.f, &t->wait);
    t->wait.state = CORIO__WAIT_CANCELLED;
    CORIO__TASK_CHECK(t); /* debug builds abort here */
    exit(0);
}

static void lost_task_child(void *arg)
{
    (void)arg;
    corio_run(lost_task, NULL, NULL);
    exit(3);
}

TEST_FIFO(wait_task_check_catches_a_lost_task,
          "one sleep(0) lets the spawned task run and park first")
{
    char *err = NULL;
    int st = corio_test_fork(lost_task_child, NULL, &err);
#ifdef NDEBUG
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* compiled out */
#else
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK_STR_HAS(err, "parked || t->queued");
#endif
    free(err);
}
