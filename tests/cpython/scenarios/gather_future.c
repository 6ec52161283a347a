/* gather_future: corio_gather_start returns a future at once. Cancelled
 * before anyone awaits it, it cancels its children (not yet started, they
 * never run) and awaiting it returns -ECANCELED. Left alone, it completes
 * by itself and its result is read after the fact. A failing child
 * settles it with that error while the other child runs on. Cancelled
 * while the children run, each child sees the cancel before the gather
 * completes. */
#include "evtrace.h"

struct child {
    const char *name;
    double secs;
    int fail;
    int value;
};

static int child(void *arg, void **result)
{
    struct child *c = arg;
    int rc = corio_sleep(c->secs);
    if (rc == -ECANCELED) {
        ev(c->name, "cancelled");
        return rc;
    }
    ev(c->name, "done");
    if (c->fail)
        return corio_fail(c->fail, "%s failed", c->name);
    *result = INT2PTR(c->value);
    return 0;
}

static corio_task *spawn(struct child *c)
{
    corio_task *t;
    corio_spawn(child, c, NULL, &t);
    return t;
}

static int scenario(void *arg, void **result)
{
    corio_task *t[2];
    corio_future *f[2], *g;
    void **res;
    void *r;
    int rc;
    (void)arg;
    (void)result;

    section("cancel before await");
    struct child a1 = {"a", 0.02, 0, 0}, b1 = {"b", 0.02, 0, 0};
    t[0] = spawn(&a1);
    t[1] = spawn(&b1);
    f[0] = corio_task_future(t[0]);
    f[1] = corio_task_future(t[1]);
    corio_gather_start(f, 2, 0, &g);
    ev("main", "cancel: %s", TF(corio_future_cancel(g) == 0));
    if ((rc = corio_future_await(g, NULL)) != 0)
        ev("main", "gather: error %s", errname(rc));
    ev("main", "a cancelled=%s, b cancelled=%s",
       TF(corio_task_cancelled(t[0])), TF(corio_task_cancelled(t[1])));
    corio_future_release(g);
    corio_task_release(t[0]);
    corio_task_release(t[1]);

    section("await after done");
    struct child a2 = {"a", 0.02, 0, 1}, b2 = {"b", 0.01, 0, 2};
    t[0] = spawn(&a2);
    t[1] = spawn(&b2);
    f[0] = corio_task_future(t[0]);
    f[1] = corio_task_future(t[1]);
    corio_gather_start(f, 2, 0, &g);
    corio_sleep(0.04);
    ev("main", "done before await=%s", TF(corio_future_done(g)));
    if (corio_future_await(g, (void **)&res) == 0)
        ev("main", "results [%d, %d]", PTR2INT(res[0]), PTR2INT(res[1]));
    corio_future_release(g);
    corio_task_release(t[0]);
    corio_task_release(t[1]);

    section("child fails");
    struct child slow = {"slow", 0.04, 0, 3}, bad = {"bad", 0.01, -EIO, 0};
    t[1] = spawn(&slow);
    t[0] = spawn(&bad);
    f[0] = corio_task_future(t[0]);
    f[1] = corio_task_future(t[1]);
    corio_gather_start(f, 2, 0, &g);
    if ((rc = corio_future_await(g, NULL)) != 0)
        ev("main", "gather: error %s, slow done=%s", errname(rc),
           TF(corio_task_done(t[1])));
    if (corio_task_join(t[1], &r) == 0)
        ev("main", "slow result %d", PTR2INT(r));
    corio_future_release(g);
    corio_task_release(t[0]);
    corio_task_release(t[1]);

    section("cancel while running");
    struct child a4 = {"a", 1, 0, 0}, b4 = {"b", 1, 0, 0};
    t[0] = spawn(&a4);
    t[1] = spawn(&b4);
    f[0] = corio_task_future(t[0]);
    f[1] = corio_task_future(t[1]);
    corio_gather_start(f, 2, 0, &g);
    corio_sleep(0.01);
    corio_future_cancel(g);
    if ((rc = corio_future_await(g, NULL)) != 0)
        ev("main", "gather: error %s", errname(rc));
    corio_future_release(g);
    corio_task_release(t[0]);
    corio_task_release(t[1]);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
