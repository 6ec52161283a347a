/* gather_errors: corio_gather with and without CORIO_GATHER_COLLECT; see
 * the .py twin for the two cases. */
#include "evtrace.h"
#include <corio/combine.h>

struct child { const char *name; int ms, fail; };

static int child(void *arg, void **result)
{
    struct child *c = arg;
    int rc = corio_sleep(c->ms / 1000.0);
    if (rc) {
        ev(c->name, "cancelled");
        return rc;
    }
    if (c->fail) {
        ev(c->name, "failing with EIO");
        return corio_fail(-EIO, "%s broke", c->name);
    }
    ev(c->name, "done");
    *result = INT2PTR(c->ms);
    return 0;
}

static void show(char *buf, size_t cap, int err, void *res)
{
    if (err)
        snprintf(buf, cap, "error %s", errname(err));
    else
        snprintf(buf, cap, "ok %d", PTR2INT(res));
}

static void cancel(void *t)
{
    corio_task_cancel(t);
}

static int scenario(void *arg, void **result)
{
    int collect = PTR2INT(arg);
    struct child cs[3] = {{"a", 60, 0}, {"b", 20, 1}, {"c", collect ? 100 : 40, 0}};
    corio_task *t[3];
    corio_future *f[3];
    void *res[3] = {0};
    int errs[3] = {0};
    char s[3][32];
    int i, rc;
    for (i = 0; i < 3; i++) {
        corio_spawn(child, &cs[i], NULL, &t[i]);
        f[i] = corio_task_future(t[i]);
    }
    if (!collect) {
        rc = corio_gather(f, 3, 0, res, NULL);
        ev("main", "gather: error %s", errname(rc));
        corio_sleep(0.06);
        for (i = 0; i < 3; i++) {
            errs[i] = corio_task_result(t[i], &res[i]);
            show(s[i], sizeof s[i], errs[i], res[i]);
        }
        ev("main", "after 60 ms: %s, %s, %s", s[0], s[1], s[2]);
    } else {
        corio_loop_call_later(corio_loop_current(), 0.04, cancel, t[2], NULL);
        rc = corio_gather(f, 3, CORIO_GATHER_COLLECT, res, errs);
        for (i = 0; i < 3; i++)
            show(s[i], sizeof s[i], errs[i], res[i]);
        if (rc == 0)
            ev("main", "gather: ok [%s, %s, %s]", s[0], s[1], s[2]);
    }
    for (i = 0; i < 3; i++)
        corio_task_release(t[i]);
    return 0;
}

int main(void)
{
    section("first error");
    trace_run(scenario, INT2PTR(0));
    section("collected");
    trace_run(scenario, INT2PTR(1));
    return 0;
}
