/* as_completed: children a (80 ms), b (fails at 20 ms), c (40 ms) are
 * taken in the order they complete: b (its error), c, a. With a 60 ms
 * timeout, b and c come out and the next take returns -ETIMEDOUT at tick
 * 6; a is not cancelled by it (the caller cancels it). */
#include "evtrace.h"
#include <corio/combine.h>
#include <math.h>

struct child { const char *name; int ms, fail; };

static int child(void *arg, void **result)
{
    struct child *c = arg;
    int rc = corio_sleep(c->ms / 1000.0);
    if (rc) {
        ev(c->name, "cancelled");
        return rc;
    }
    if (c->fail)
        return corio_fail(-EIO, "%s broke", c->name);
    *result = INT2PTR(c->ms);
    return 0;
}

static int scenario(void *arg, void **result)
{
    double timeout = *(double *)arg;
    struct child cs[3] = {{"a", 80, 0}, {"b", 20, 1}, {"c", 40, 0}};
    corio_task *t[3];
    corio_future *f[3], *done;
    corio_as_completed *it;
    void *res;
    int i, rc;
    for (i = 0; i < 3; i++) {
        corio_spawn(child, &cs[i], NULL, &t[i]);
        f[i] = corio_task_future(t[i]);
    }
    if ((rc = corio_as_completed_new(f, 3, timeout, &it)) != 0)
        return rc;
    while ((rc = corio_as_completed_next(it, &done)) == 0) {
        int err = corio_future_result(done, &res);
        if (err)
            ev("main", "took: error %s", errname(err));
        else
            ev("main", "took: ok %d", PTR2INT(res));
    }
    corio_as_completed_free(it);
    if (rc == CORIO_END) {
        ev("main", "all taken");
    } else {
        ev("main", "next: error %s", errname(rc));
        corio_task_cancel(t[0]);
    }
    for (i = 0; i < 3; i++) {
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    return 0;
}

int main(void)
{
    double none = INFINITY, sixty = 0.06;
    section("no timeout");
    trace_run(scenario, &none);
    section("timeout 60 ms");
    trace_run(scenario, &sixty);
    return 0;
}
