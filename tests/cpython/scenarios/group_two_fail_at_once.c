/* group_two_fail_at_once: two children wake on the same future and fail
 * in the same iteration (-EIO, then -EPIPE): both failures are kept, in
 * the order they happened; the first one aborts the group (the third
 * child is cancelled, the body too), the second finds it already
 * aborting. corio_group_wait returns the first and keeps both. */
#include "evtrace.h"

struct failer { const char *name; int code; corio_future *go; };

static int failer(void *arg, void **result)
{
    struct failer *f = arg;
    int rc = corio_future_await(f->go, NULL);
    if (rc)
        return rc;
    ev(f->name, "failing with %s", errname(f->code));
    return corio_fail(f->code, "%s broke", f->name);
}

static int slow(void *arg, void **result)
{
    int rc = corio_sleep(1);
    if (rc == -ECANCELED)
        ev("slow", "cancelled");
    return rc;
}

static int scenario(void *arg, void **result)
{
    corio_future *go;
    corio_group *g;
    struct failer a = {"a", -EIO, NULL}, b = {"b", -EPIPE, NULL};
    int rc;
    if ((rc = corio_future_new(NULL, &go)) != 0)
        return rc;
    a.go = b.go = go;
    if ((rc = corio_group_open(&g)) != 0)
        return rc;
    corio_group_spawn(g, failer, &a, NULL, NULL);
    corio_group_spawn(g, failer, &b, NULL, NULL);
    corio_group_spawn(g, slow, NULL, NULL, NULL);
    rc = corio_sleep(0.02);
    if (rc == 0) {
        ev("body", "go");
        corio_future_set_result(go, NULL);
        rc = corio_sleep(1);
        if (rc)
            ev("body", "sleep: error %s, cancelling=%d", errname(rc),
               cancelling());
    }
    rc = corio_group_wait(g, rc);
    if (rc) {
        ev("main", "group: error %s", errname(rc));
        group_errors("main", g);
    }
    corio_group_free(g);
    corio_future_release(go);
    ev("main", "cancelling=%d", cancelling());
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
