/*
 * test_task_cancel.c: cancel messages (corio_task_cancel_msg and
 * corio_task_cancel_message): which message a task sees, what joiners and
 * reports see, passing on through join, uncancel, and -ENOMEM.
 */
#include "test.h"
#include "oom.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <string.h>

static int sleeper(void *arg, void **result)
{
    const char **seen = arg;
    int rc = corio_sleep(10);
    (void)result;
    if (seen)
        *seen = corio_task_cancel_message(corio_task_current());
    return rc;
}

static int message_seen_by_task_and_joiner(void)
{
    const char *seen = NULL;
    corio_task *t;
    char buf[16];
    CHECK_EQ(corio_spawn(sleeper, &seen, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    strcpy(buf, "stop now");
    CHECK_EQ(corio_task_cancel_msg(t, buf), 0);
    memset(buf, 0, sizeof buf); /* copied */
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK(seen != NULL);
    CHECK(strcmp(seen, "stop now") == 0);
    CHECK(strcmp(corio_task_cancel_message(t), "stop now") == 0);
    CHECK_EQ(corio_task_cancel_msg(t, "late"), -EALREADY);
    CHECK(strcmp(corio_task_cancel_message(t), "stop now") == 0);
    corio_task_release(t);
    return 0;
}

TEST(task_cancel_msg_seen_by_task_and_joiner)
{
    CHECK_EQ(run(message_seen_by_task_and_joiner), 0);
}

static int which_message_wins(void)
{
    const char *seen = NULL;
    corio_task *t;

    /* Not started: the last cancel's message; one without clears it. */
    CHECK_EQ(corio_spawn(sleeper, &seen, NULL, &t), 0);
    CHECK_EQ(corio_task_cancel_msg(t, "first"), 0);
    CHECK(strcmp(corio_task_cancel_message(t), "first") == 0);
    CHECK_EQ(corio_task_cancel_msg(t, "second"), 0);
    CHECK(strcmp(corio_task_cancel_message(t), "second") == 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK(corio_task_cancel_message(t) == NULL);
    CHECK_EQ(corio_task_cancel_msg(t, "third"), 0);
    CHECK_EQ(corio_task_cancelling(t), 4);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK(strcmp(corio_task_cancel_message(t), "third") == 0);
    corio_task_release(t);

    /* Woken from its sleep by the first: it sees the first. */
    CHECK_EQ(corio_spawn(sleeper, &seen, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_task_cancel_msg(t, "first"), 0);
    CHECK_EQ(corio_task_cancel_msg(t, "second"), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK(strcmp(corio_task_cancel_message(t), "first") == 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK(strcmp(seen, "first") == 0);
    corio_task_release(t);
    return 0;
}

TEST(task_cancel_msg_which_wins)
{
    CHECK_EQ(run(which_message_wins), 0);
}

/* Seen once, then a new cancel replaces it; uncancel to zero drops it. */
static int sees_then_recancelled(void)
{
    corio_task *me = corio_task_current();
    CHECK_EQ(corio_task_cancel_msg(me, "one"), 0);
    CHECK_EQ(corio_sleep(0), -ECANCELED);
    CHECK(strcmp(corio_task_cancel_message(me), "one") == 0);
    CHECK_EQ(corio_task_cancel_msg(me, "two"), 0);
    CHECK(strcmp(corio_task_cancel_message(me), "two") == 0);
    CHECK_EQ(corio_task_uncancel(me), 1);
    CHECK(strcmp(corio_task_cancel_message(me), "two") == 0);
    CHECK_EQ(corio_task_uncancel(me), 0);
    CHECK(corio_task_cancel_message(me) == NULL);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK(corio_task_cancel_message(NULL) == NULL);
    CHECK_EQ(corio_task_cancel_msg(NULL, "x"), -EINVAL);
    return 0;
}

TEST(task_cancel_msg_uncancel_drops_it)
{
    CHECK_EQ(run(sees_then_recancelled), 0);
}

static int joins(void *arg, void **result)
{
    return corio_task_join(arg, result);
}

static int passed_on_through_join(void)
{
    const char *seen = NULL;
    corio_task *inner, *outer;
    CHECK_EQ(corio_spawn(sleeper, &seen, NULL, &inner), 0);
    CHECK_EQ(corio_spawn(joins, inner, NULL, &outer), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_task_cancel_msg(outer, "from above"), 0);
    CHECK_EQ(corio_task_join(outer, NULL), -ECANCELED);
    CHECK(strcmp(seen, "from above") == 0);
    CHECK(strcmp(corio_task_cancel_message(inner), "from above") == 0);
    CHECK(strcmp(corio_task_cancel_message(outer), "from above") == 0);
    corio_task_release(inner);
    corio_task_release(outer);
    return 0;
}

TEST(task_cancel_msg_passed_on_through_join)
{
    CHECK_EQ(run(passed_on_through_join), 0);
}

/* A task cancelled with a message that then fails: the unretrieved-error
 * report names the message. */
static int fails_after_cancel(void *arg, void **result)
{
    int rc = corio_sleep(10);
    (void)arg;
    (void)result;
    CHECK_EQ(rc, -ECANCELED);
    return corio_fail(-EIO, "cleanup broke");
}

static int cancels_failer(void)
{
    corio_task *t;
    CHECK_EQ(corio_spawn(fails_after_cancel, NULL, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_task_cancel_msg(t, "shutting down"), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK(corio_task_done(t));
    corio_task_release(t);
    return 0;
}

TEST(task_cancel_msg_in_unretrieved_report)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(cancels_failer), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "EIO");
    CHECK_STR_HAS(err, "cleanup broke");
    CHECK_STR_HAS(err, "after being cancelled (\"shutting down\")");
    free(err);
}

/* The deadlock report shows a waiting task's standing cancel. */
static int refuses_forever(void *arg, void **result)
{
    corio_future *f = arg;
    corio_scope *sh;
    (void)result;
    CHECK_EQ(corio_scope_shield(&sh), 0);
    corio_future_await(f, NULL);
    return corio_scope_close(sh, 0);
}

static int deadlocks_cancelled(void)
{
    corio_future *f;
    corio_task *t;
    int rc;
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_spawn(refuses_forever, f, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_task_cancel_msg(t, "please stop"), 0);
    rc = corio_task_join(t, NULL);
    corio_task_release(t);
    corio_future_release(f);
    return rc;
}

TEST(task_cancel_msg_in_deadlock_report)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(deadlocks_cancelled), -EDEADLK);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "deadlock");
    CHECK_STR_HAS(err, "cancelling=1 (\"please stop\")");
    free(err);
}

/* Out of memory for the copy: -ENOMEM, and the cancel is made anyway. */
static int cancel_msg_enomem(void)
{
    enum { BIG = 8 << 20 };
    char *msg;
    corio_task *t;
    int rc;
    oom_require();
    CHECK((msg = malloc(BIG)) != NULL);
    memset(msg, 'x', BIG - 1);
    msg[BIG - 1] = 0;
    CHECK_EQ(corio_spawn(sleeper, NULL, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    oom_begin();
    rc = corio_task_cancel_msg(t, msg);
    oom_end();
    free(msg);
    CHECK_EQ(rc, -ENOMEM);
    CHECK_EQ(corio_task_cancelling(t), 1);
    CHECK(corio_task_cancel_message(t) == NULL);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    corio_task_release(t);
    return 0;
}

TEST(task_cancel_msg_enomem_still_cancels)
{
    CHECK_EQ(run(cancel_msg_enomem), 0);
}

/* A group child cancelled with a message that then fails: the group's
 * error list keeps the message with the failure. */
static int group_child_cancel_msg(void)
{
    const corio_group_error_info *e;
    corio_group *g;
    corio_task *t;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, fails_after_cancel, NULL, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_task_cancel_msg(t, "rotate logs"), 0);
    CHECK_EQ(corio_group_wait(g, 0), -EIO);
    CHECK_EQ(corio_group_error_count(g), 1);
    e = corio_group_error(g, 0);
    CHECK(strcmp(e->message, "cleanup broke") == 0);
    CHECK(e->cancel_message != NULL);
    CHECK(strcmp(e->cancel_message, "rotate logs") == 0);
    corio_group_free(g);
    corio_task_release(t);
    return 0;
}

TEST(task_cancel_msg_in_group_errors)
{
    CHECK_EQ(run(group_child_cancel_msg), 0);
}
