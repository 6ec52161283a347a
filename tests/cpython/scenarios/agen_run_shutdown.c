/* agen_run_shutdown: corio_run's end with async generators left
 * unfinished. main iterates g1 once and g3 to its end, makes g0 and never
 * iterates it, and spawns bg, which iterates g2 once and then sleeps in
 * its own body; main returns at tick 1. corio_run then cancels the
 * leftover task bg and waits for its cleanup (20 ms, shielded: corio's
 * cancellation is level-triggered), and only then closes g1 and g2, each
 * in a task of its own (asyncio.run's shutdown_asyncgens); their cleanup
 * may wait. g3 (finished) and g0 (never iterated) are left alone. The
 * generators are freed after the run. See the .py twin. */
#include "evtrace.h"

enum cleanup { PLAIN, SLEEP0, SLEEP10 };

struct stream {
    const char *name;
    int n;
    enum cleanup cleanup;
};

static int stream(void *arg, void **result)
{
    const struct stream *s = arg;
    int i, rc = 0;
    for (i = 1; i <= s->n && rc == 0; i++)
        rc = corio_yield(INT2PTR(i), NULL);
    if (rc == 0)
        ev(s->name, "exhausted");
    if (s->cleanup == SLEEP0) {
        ev(s->name, "finally");
        if (corio_sleep(0) == 0)
            ev(s->name, "finally: after sleep(0)");
    } else if (s->cleanup == SLEEP10) {
        if (corio_sleep(0.01) == 0)
            ev(s->name, "finally, after a 10 ms sleep");
    } else {
        ev(s->name, "finally");
    }
    return rc;
}

static const struct stream args[4] = {{"g0", 3, PLAIN},
                                      {"g1", 3, SLEEP0},
                                      {"g2", 3, SLEEP10},
                                      {"g3", 1, PLAIN}};
static corio_agen *gens[4];

static int bg(void *arg, void **result)
{
    corio_scope *sh;
    void *item;
    int rc;
    if ((rc = corio_agen_next(arg, &item)) != 0)
        return rc;
    ev("bg", "g2 gave %d", PTR2INT(item));
    if ((rc = corio_sleep(1)) == -ECANCELED) {
        ev("bg", "%s at shutdown, cleanup 20 ms", errname(rc));
        if (corio_scope_shield(&sh) == 0) {
            corio_sleep(0.02);
            corio_scope_close(sh, 0);
        }
        ev("bg", "cleanup done");
    }
    return rc;
}

static int scenario(void *arg, void **result)
{
    void *item;
    int i, rc;
    for (i = 0; i < 4; i++)
        if ((rc = corio_agen_new(stream, (void *)&args[i], NULL, &gens[i])))
            return rc;
    if ((rc = corio_agen_next(gens[1], &item)) != 0)
        return rc;
    ev("main", "g1 gave %d", PTR2INT(item));
    while ((rc = corio_agen_next(gens[3], &item)) == 0)
        ev("main", "g3 gave %d", PTR2INT(item));
    if ((rc = corio_spawn(bg, gens[2], NULL, NULL)) != 0)
        return rc;
    corio_sleep(0.01);
    ev("main", "returning");
    return 0;
}

int main(void)
{
    int i;
    trace_run(scenario, NULL);
    for (i = 0; i < 4; i++)
        corio_agen_free(gens[i]);
    return 0;
}
