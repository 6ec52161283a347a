/* cancel_message: corio_task_cancel_msg. The cancelled task reads the
 * message with corio_task_cancel_message, and so does whoever joins it.
 * A task not yet started sees the last message given; a task woken from
 * a wait by a cancel sees that cancel's message, whatever later cancels
 * say. A cancel passed on through corio_task_join carries the message to
 * the inner task. */
#include "evtrace.h"

static const char *msg_of(corio_task *t)
{
    const char *m = corio_task_cancel_message(t);
    return m ? m : "None";
}

static int sleeper(void *arg, void **result)
{
    int rc = corio_sleep(1);
    (void)result;
    if (rc == -ECANCELED)
        ev(arg, "cancelled, message=%s", msg_of(corio_task_current()));
    return rc;
}

static int outer(void *arg, void **result)
{
    int rc = corio_task_join(arg, result);
    if (rc == -ECANCELED)
        ev("outer", "join cancelled, message=%s",
           msg_of(corio_task_current()));
    return rc;
}

static void join(corio_task *t)
{
    int rc = corio_task_join(t, NULL);
    if (rc == -ECANCELED)
        ev("main", "join: error ECANCELED, message=%s", msg_of(t));
    corio_task_release(t);
}

static int scenario(void *arg, void **result)
{
    corio_task *t, *inner;
    (void)arg;
    (void)result;

    section("one cancel");
    corio_spawn(sleeper, "worker", NULL, &t);
    corio_sleep(0.01);
    corio_task_cancel_msg(t, "stop now");
    join(t);

    section("before start: last wins");
    corio_spawn(sleeper, "worker", NULL, &t);
    corio_task_cancel_msg(t, "first");
    corio_task_cancel_msg(t, "second");
    join(t);

    section("while waiting: first wins");
    corio_spawn(sleeper, "worker", NULL, &t);
    corio_sleep(0.01);
    corio_task_cancel_msg(t, "first");
    corio_task_cancel_msg(t, "second");
    join(t);

    section("passed on");
    corio_spawn(sleeper, "inner", NULL, &inner);
    corio_spawn(outer, inner, NULL, &t);
    corio_sleep(0.01);
    corio_task_cancel_msg(t, "from main");
    join(t);
    corio_task_release(inner);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
