/* timeout_nested: three timeout scopes nested (outer, middle, inner)
 * around a long sleep, in three cases: the inner one expires first, the
 * outer one first, the middle one first. A scope converts only its own
 * cancel; a level that gets -ETIMEDOUT from inside goes on until its own
 * deadline. cancelling is back to 0 after every conversion. */
#include "evtrace.h"

static const char *names[3] = {"outer", "middle", "inner"};
static int ms[3];

static int level(int i)
{
    corio_scope *sc;
    int rc;
    if ((rc = corio_scope_timeout(ms[i] / 1000.0, &sc)) != 0)
        return rc;
    if (i + 1 < 3) {
        rc = level(i + 1);
        if (rc == -ETIMEDOUT) {
            ev(names[i], "caught ETIMEDOUT from %s, cancelling=%d",
               names[i + 1], cancelling());
            rc = 0;
        }
    }
    if (rc == 0) {
        ev(names[i], "sleeping");
        rc = corio_sleep(1);
    }
    rc = corio_scope_close(sc, rc);
    if (rc)
        ev(names[i], "exit: error %s, cancelling=%d", errname(rc),
           cancelling());
    return rc;
}

static int scenario(void *arg, void **result)
{
    int rc = level(0);
    if (rc == -ETIMEDOUT) {
        ev("main", "error %s, cancelling=%d", errname(rc), cancelling());
        rc = 0;
    }
    return rc;
}

int main(void)
{
    static const int cases[3][3] = {{80, 50, 20}, {20, 50, 80}, {80, 20, 50}};
    static const char *titles[3] = {"inner first", "outer first",
                                    "middle first"};
    int c, i;
    for (c = 0; c < 3; c++) {
        for (i = 0; i < 3; i++)
            ms[i] = cases[c][i];
        section("%s: outer %d ms, middle %d ms, inner %d ms", titles[c], ms[0],
                ms[1], ms[2]);
        trace_run(scenario, NULL);
    }
    return 0;
}
