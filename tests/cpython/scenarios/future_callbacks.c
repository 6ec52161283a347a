/* future_callbacks: a future completed by a timer callback wakes its
 * awaiting tasks and runs its done callbacks, in the order they were
 * added, all in the iteration after it completes (never inside
 * set_result); a callback added after completion runs soon, not at once.
 * A pending future has no result (-EAGAIN), and a done one cannot be
 * completed again (-EALREADY). */
#include "evtrace.h"

static int waiter(void *arg, void **result)
{
    const char *name = corio_task_name(corio_task_current());
    void *res;
    int rc;
    ev(name, "awaiting");
    if ((rc = corio_future_await(arg, &res)) != 0)
        return rc;
    ev(name, "got %d", PTR2INT(res));
    return 0;
}

static void cb1(corio_future *f, void *arg)
{
    void *res;
    corio_future_result(f, &res);
    ev("cb1", "result %d", PTR2INT(res));
}

static void cb2(corio_future *f, void *arg) { ev("cb2", "ran"); }
static void cb3(corio_future *f, void *arg) { ev("cb3", "added late, ran"); }

static void complete(void *arg)
{
    ev("timer", "set_result 42");
    corio_future_set_result(arg, INT2PTR(42));
    ev("timer", "set_result returned");
}

static int scenario(void *arg, void **result)
{
    corio_future *fut;
    corio_task *w[2];
    corio_task_opts o1 = {.name = "w1"}, o2 = {.name = "w2"};
    int rc;
    if ((rc = corio_future_new(NULL, &fut)) != 0)
        return rc;
    if (corio_future_result(fut, NULL) == -EAGAIN)
        ev("main", "result while pending: refused");
    corio_future_add_done_callback(fut, cb1, NULL);
    corio_future_add_done_callback(fut, cb2, NULL);
    corio_spawn(waiter, fut, &o1, &w[0]);
    corio_spawn(waiter, fut, &o2, &w[1]);
    corio_loop_call_later(corio_loop_current(), 0.02, complete, fut, NULL);
    corio_task_join(w[0], NULL);
    corio_task_join(w[1], NULL);
    corio_future_add_done_callback(fut, cb3, NULL);
    ev("main", "added cb3");
    if (corio_future_set_result(fut, INT2PTR(1)) == -EALREADY)
        ev("main", "set_result again: refused");
    corio_sleep(0);
    ev("main", "done=%s cancelled=%s", TF(corio_future_done(fut)),
       TF(corio_future_cancelled(fut)));
    corio_task_release(w[0]);
    corio_task_release(w[1]);
    corio_future_release(fut);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
