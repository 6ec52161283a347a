/* cancel_every_point: one worker with seven suspension points of
 * different kinds, run once without a cancel (case 0) and once per point
 * k = 1..7 with a cancel that arrives while the worker is suspended at
 * point k (a call_soon queued just before that call). See the .py twin
 * for the list of points. */
#include "evtrace.h"

static int target;

static void cancel_cb(void *arg)
{
    corio_task_cancel(arg);
}

static void point(int k, const char *what)
{
    ev("worker", "point %d: %s", k, what);
    if (k == target)
        corio_loop_call_soon(corio_loop_current(), cancel_cb,
                             corio_task_current(), NULL);
}

static int helper(void *arg, void **result)
{
    *result = INT2PTR(5);
    return corio_sleep(0.01);
}

static int group_child(void *arg, void **result)
{
    int rc = corio_sleep(0.05);
    ev("child", rc == 0 ? "done" : "cancelled");
    return rc;
}

static void complete(void *arg)
{
    corio_future_set_result(arg, INT2PTR(3)); /* -EALREADY if cancelled */
    corio_future_release(arg);                /* the timer's reference */
}

static int steps(void)
{
    corio_future *fut;
    corio_handle *h;
    corio_task *t;
    corio_scope *sc;
    corio_group *g;
    void *res;
    int rc;

    point(1, "sleep");
    if ((rc = corio_sleep(0.01)) != 0)
        return rc;
    point(2, "sleep(0)");
    if ((rc = corio_sleep(0)) != 0)
        return rc;
    if ((rc = corio_future_new(NULL, &fut)) != 0)
        return rc;
    corio_future_retain(fut); /* the timer's reference */
    corio_loop_call_later(corio_loop_current(), 0.01, complete, fut, &h);
    point(3, "future");
    rc = corio_future_await(fut, &res);
    if (rc == 0)
        ev("worker", "future: ok %d", PTR2INT(res));
    if (corio_handle_cancel(h) == 0) /* it will not run: drop its ref */
        corio_future_release(fut);
    corio_handle_release(h);
    corio_future_release(fut);
    if (rc)
        return rc;
    if ((rc = corio_spawn(helper, NULL, NULL, &t)) != 0)
        return rc;
    point(4, "task");
    rc = corio_task_join(t, &res);
    if (rc == 0)
        ev("worker", "task: ok %d", PTR2INT(res));
    corio_task_release(t);
    if (rc)
        return rc;
    if ((rc = corio_scope_timeout(0.05, &sc)) != 0)
        return rc;
    point(5, "sleep in a timeout");
    rc = corio_scope_close(sc, corio_sleep(0.01));
    if (rc)
        return rc;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    corio_group_spawn(g, group_child, NULL, NULL, NULL);
    point(6, "sleep in a group body");
    rc = corio_sleep(0.01);
    if (rc == 0)
        point(7, "group exit");
    rc = corio_group_wait(g, rc);
    corio_group_free(g);
    if (rc)
        return rc;
    ev("worker", "all points passed");
    return 0;
}

static int worker(void *arg, void **result)
{
    int rc = steps();
    if (rc)
        ev("worker", "cleanup after %s, cancelling=%d", errname(rc),
           cancelling());
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_task *w;
    int rc;
    if ((rc = corio_spawn(worker, NULL, NULL, &w)) != 0)
        return rc;
    rc = corio_task_join(w, NULL);
    if (rc == 0)
        ev("main", "worker: ok");
    else
        ev("main", "worker: error %s", errname(rc));
    corio_task_release(w);
    return 0;
}

int main(void)
{
    for (target = 0; target < 8; target++) {
        if (target)
            section("cancel at point %d", target);
        else
            section("no cancel");
        trace_run(scenario, NULL);
    }
    return 0;
}
