/*
 * test_closers.c: the loop layer's hooks for the layers above (loop_impl.h):
 * closers run at corio_loop_free in order, ties newest first, the RELEASE
 * ones only at the loop's last reference; a loop used only for callbacks
 * attaches no task layer; a spawn attaches it once and counts the task in
 * the loop's `alive`.
 */
#include "test.h"

#include <corio.h>
#include <stdint.h>
#include <string.h>

#include "task/task_impl.h"

struct rec {
    corio__closer c;
    const char *name;
    char *log; /* appended to: "<name> " */
};

static void rec_close(corio__closer *c, corio_loop *loop)
{
    struct rec *r = CORIO__CONTAINER(c, struct rec, c);
    (void)loop;
    strcat(r->log, r->name);
    strcat(r->log, " ");
}

static void add(corio_loop *loop, struct rec *r, int order, const char *name,
                char *log)
{
    r->c.order = order;
    r->c.close = rec_close;
    r->name = name;
    r->log = log;
    corio__loop_add_closer(loop, &r->c);
}

TEST(closers_run_in_order_ties_newest_first)
{
    char log[128] = "";
    struct rec r[5];
    corio_loop *loop = NULL;
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    add(loop, &r[0], CORIO__CLOSE_IO, "io-a", log);
    add(loop, &r[1], CORIO__CLOSE_TASKS, "tasks", log);
    add(loop, &r[2], CORIO__CLOSE_IO, "io-b", log);
    add(loop, &r[3], CORIO__CLOSE_RELEASE, "release", log);
    add(loop, &r[4], CORIO__CLOSE_MEMORY, "memory", log);
    CHECK_EQ(corio_loop_free(loop), 0);
    CHECK_STR_HAS(log, "tasks io-b io-a memory release ");
    CHECK_EQ((int)strlen(log), (int)strlen("tasks io-b io-a memory release "));
}

TEST(closers_release_waits_for_last_reference)
{
    char log[64] = "";
    struct rec r[2];
    corio_future *f = NULL;
    corio_loop *loop = NULL;
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_future_new(loop, &f), 0); /* holds the loop's memory */
    add(loop, &r[0], CORIO__CLOSE_MEMORY, "memory", log);
    add(loop, &r[1], CORIO__CLOSE_RELEASE, "release", log);
    CHECK_EQ(corio_loop_free(loop), 0);
    CHECK_EQ((int)strlen(log), (int)strlen("memory "));
    corio_future_release(f);
    CHECK_EQ((int)strlen(log), (int)strlen("memory release "));
}

static void stop_cb(void *arg)
{
    corio_loop_stop(arg);
}

TEST(closers_callbacks_only_attach_no_task_layer)
{
    corio_loop *loop = NULL;
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_call_soon(loop, stop_cb, loop, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK(loop->tasks == NULL);
    CHECK_EQ((int)loop->alive, 0);
    CHECK(loop->report_stuck == NULL);
    CHECK_EQ(corio_loop_free(loop), 0);
}

static int nothing(void *arg, void **result)
{
    (void)arg;
    *result = NULL;
    return 0;
}

TEST(closers_spawn_attaches_task_layer_once)
{
    corio_loop *loop = NULL;
    corio__loop_tasks *tl;
    corio_task *t = NULL, *u = NULL;
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_task_spawn_at(loop, nothing, NULL, NULL, &t, __FILE__,
                                 __LINE__),
             0);
    tl = loop->tasks;
    CHECK(tl != NULL);
    CHECK(loop->report_stuck != NULL);
    CHECK_EQ((int)loop->alive, 1);
    CHECK_EQ(corio_task_spawn_at(loop, nothing, NULL, NULL, &u, __FILE__,
                                 __LINE__),
             0);
    CHECK(loop->tasks == tl);
    CHECK_EQ((int)loop->alive, 2);
    CHECK_EQ((int)tl->ntasks, 2);
    /* Both steps were queued before the stop: one iteration ends both. */
    CHECK_EQ(corio_loop_call_soon(loop, stop_cb, loop, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK(corio_task_done(t) && corio_task_done(u));
    CHECK_EQ((int)loop->alive, 0);
    CHECK_EQ((int)tl->ntasks, 0);
    corio_task_release(t);
    corio_task_release(u);
    CHECK_EQ(corio_loop_free(loop), 0);
}
