/* future_error: a future completed with an error returns it to every task
 * awaiting it; a future cancelled by hand returns -ECANCELED to its
 * awaiters, which are not themselves cancelled (cancelling stays 0, they
 * go on). */
#include "evtrace.h"

static int waiter(void *arg, void **result)
{
    const char *name = corio_task_name(corio_task_current());
    int rc = corio_future_await(arg, NULL);
    if (rc != 0)
        ev(name, "error %s, cancelling=%d", errname(rc), cancelling());
    if ((rc = corio_sleep(0.01)) != 0)
        return rc;
    ev(name, "went on sleeping");
    return 0;
}

static int scenario(void *arg, void **result)
{
    corio_future *bad, *gone;
    corio_task *t[3];
    const char *names[3] = {"a", "b", "c"};
    int i, rc;
    if ((rc = corio_future_new(NULL, &bad)) != 0 ||
        (rc = corio_future_new(NULL, &gone)) != 0)
        return rc;
    for (i = 0; i < 3; i++) {
        corio_task_opts o = {.name = names[i]};
        corio_spawn(waiter, i < 2 ? bad : gone, &o, &t[i]);
    }
    corio_sleep(0.01);
    ev("main", "set_exception EIO, cancel the other");
    corio_future_set_error(bad, -EIO);
    rc = corio_future_cancel(gone);
    ev("main", "cancel: %s, cancelled=%s", TF(rc == 0),
       TF(corio_future_cancelled(gone)));
    for (i = 0; i < 3; i++) {
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    ev("main", "all done, exception %s", errname(corio_future_result(bad, NULL)));
    corio_future_release(bad);
    corio_future_release(gone);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
