/* wait_modes: corio_wait with each mode over the same three children;
 * see the .py twin. corio_wait never fails on a timeout and never cancels;
 * the caller cancels what is still pending afterwards (in name order). */
#include "evtrace.h"
#include <corio/combine.h>
#include <math.h>
#include <string.h>

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

struct mode { const char *title; int mode; double timeout; };

static int scenario(void *arg, void **result)
{
    const struct mode *m = arg;
    struct child cs[3] = {{"a", 10, 0}, {"b", 40, 1}, {"c", 80, 0}};
    corio_task *t[3];
    corio_future *f[3];
    char done[16] = "", pending[16] = "";
    size_t ndone;
    void *res;
    int i, rc;
    for (i = 0; i < 3; i++) {
        corio_task_opts o = {.name = cs[i].name};
        corio_spawn(child, &cs[i], &o, &t[i]);
        f[i] = corio_task_future(t[i]);
    }
    if ((rc = corio_wait(f, 3, m->mode, m->timeout, &ndone)) != 0)
        return rc;
    for (i = 0; i < 3; i++) {
        char *s = corio_future_done(f[i]) ? done : pending;
        if (*s)
            strcat(s, " ");
        strcat(s, cs[i].name);
    }
    ev("main", "wait: done=%s pending=%s", *done ? done : "-",
       *pending ? pending : "-");
    for (i = 0; i < 3; i++) {
        if (!corio_future_done(f[i]))
            continue;
        if ((rc = corio_task_result(t[i], &res)) != 0)
            ev("main", "%s: error %s", cs[i].name, errname(rc));
        else
            ev("main", "%s: ok %d", cs[i].name, PTR2INT(res));
    }
    for (i = 0; i < 3; i++)
        if (!corio_future_done(f[i]))
            corio_task_cancel(t[i]);
    for (i = 0; i < 3; i++) {
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    return 0;
}

int main(void)
{
    static const struct mode modes[4] = {
        {"FIRST_COMPLETED", CORIO_WAIT_FIRST_COMPLETED, INFINITY},
        {"FIRST_EXCEPTION", CORIO_WAIT_FIRST_EXCEPTION, INFINITY},
        {"ALL_COMPLETED", CORIO_WAIT_ALL_COMPLETED, INFINITY},
        {"ALL_COMPLETED, timeout 25 ms", CORIO_WAIT_ALL_COMPLETED, 0.025}};
    int i;
    for (i = 0; i < 4; i++) {
        section("%s", modes[i].title);
        trace_run(scenario, (void *)&modes[i]);
    }
    return 0;
}
