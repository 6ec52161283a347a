/* future_cancel_awaiter: cancelling a task that awaits a future cancels
 * the future too; the future's done callback and a second task awaiting
 * the same future see it cancelled (the second task is not cancelled
 * itself). */
#include "evtrace.h"

static int waiter(void *arg, void **result)
{
    const char *name = corio_task_name(corio_task_current());
    int rc = corio_future_await(arg, NULL);
    if (rc == -ECANCELED) {
        ev(name, "error %s, cancelling=%d", errname(rc), cancelling());
        if (name[1] == '1')
            return rc;
    }
    if ((rc = corio_sleep(0.01)) != 0)
        return rc;
    ev(name, "went on sleeping");
    return 0;
}

static void cb(corio_future *f, void *arg)
{
    ev("cb", "future cancelled=%s", TF(corio_future_cancelled(f)));
}

static int scenario(void *arg, void **result)
{
    corio_future *fut;
    corio_task *w1, *w2;
    corio_task_opts o1 = {.name = "w1"}, o2 = {.name = "w2"};
    int rc;
    if ((rc = corio_future_new(NULL, &fut)) != 0)
        return rc;
    corio_future_add_done_callback(fut, cb, NULL);
    corio_spawn(waiter, fut, &o1, &w1);
    corio_spawn(waiter, fut, &o2, &w2);
    corio_sleep(0.01);
    ev("main", "cancel w1: %s", TF(corio_task_cancel(w1) == 0));
    ev("main", "right after: future cancelled=%s",
       TF(corio_future_cancelled(fut)));
    corio_sleep(0);
    corio_sleep(0);
    ev("main", "future cancelled=%s", TF(corio_future_cancelled(fut)));
    corio_task_join(w1, NULL);
    corio_task_join(w2, NULL);
    ev("main", "w1 cancelled=%s w2 cancelled=%s", TF(corio_task_cancelled(w1)),
       TF(corio_task_cancelled(w2)));
    corio_task_release(w1);
    corio_task_release(w2);
    corio_future_release(fut);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
