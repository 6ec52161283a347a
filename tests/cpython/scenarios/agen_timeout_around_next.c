/* agen_timeout_around_next: timeouts around an async generator's waits.
 * reader() sleeps before each item, inside a timeout scope of its own when
 * `own` is set (closed before the yield; when it expires the generator
 * ends the stream quietly). The consumer's timeout around next covers the
 * generator's wait: when it expires there, the generator sees -ECANCELED
 * (its own scope does not convert a cancel that is not its own) and the
 * consumer -ETIMEDOUT; when the generator's own scope expires first, the
 * stream just ends inside the consumer's timeout. Last, a timeout around
 * a whole async for. See the .py twin. */
#include "evtrace.h"

struct reader {
    double wait, own; /* own == 0: no timeout of its own */
};

static int reader(void *arg, void **result)
{
    const struct reader *r = arg;
    corio_scope *sc;
    int i, rc = 0;
    for (i = 1;; i++) {
        if (r->own == 0) {
            rc = corio_sleep(r->wait);
        } else if ((rc = corio_scope_timeout(r->own, &sc)) == 0) {
            rc = corio_sleep(r->wait);
            rc = corio_scope_close(sc, rc);
        }
        if (rc == -ETIMEDOUT) {
            ev("gen", "own timeout expired, cancelling=%d: the stream ends",
               cancelling());
            rc = 0;
            break;
        }
        if (rc) {
            ev("gen", "wait: error %s", errname(rc));
            break;
        }
        ev("gen", "yield %d", i);
        if ((rc = corio_yield(INT2PTR(i), NULL)) != 0)
            break;
    }
    ev("gen", "finally");
    return rc;
}

static int one_next(const struct reader *r, double limit)
{
    corio_agen *g;
    corio_scope *sc;
    void *item;
    int rc;

    if ((rc = corio_agen_new(reader, (void *)r, NULL, &g)) != 0)
        return rc;
    if ((rc = corio_scope_timeout(limit, &sc)) != 0) {
        corio_agen_free(g);
        return rc;
    }
    rc = corio_agen_next(g, &item);
    if (rc == 0)
        ev("main", "anext: item %d", PTR2INT(item));
    else if (rc == CORIO_END)
        ev("main", "anext: end");
    rc = corio_scope_close(sc, rc < 0 ? rc : 0);
    if (rc == 0)
        ev("main", "timeout not reached, cancelling=%d", cancelling());
    else
        ev("main", "anext: error %s, cancelling=%d", errname(rc),
           cancelling());
    ev("main", "aclose");
    corio_agen_close(g);
    if (corio_agen_next(g, NULL) == CORIO_END)
        ev("main", "anext after it: end");
    else
        ev("main", "anext after it: an item");
    corio_agen_free(g);
    return 0;
}

static int scenario(void *arg, void **result)
{
    static const struct reader r50 = {0.05, 0}, r20 = {0.02, 0},
                               own60 = {0.1, 0.06}, own30 = {0.1, 0.03},
                               r40 = {0.04, 0};
    corio_agen *g;
    corio_scope *sc;
    void *item;
    int rc;

    section("consumer's 20 ms timeout, the generator waits 50 ms");
    if ((rc = one_next(&r50, 0.02)) != 0)
        return rc;
    section("consumer's 50 ms timeout, the generator waits 20 ms");
    if ((rc = one_next(&r20, 0.05)) != 0)
        return rc;
    section("consumer's 30 ms timeout, the generator's own 60 ms");
    if ((rc = one_next(&own60, 0.03)) != 0)
        return rc;
    section("consumer's 60 ms timeout, the generator's own 30 ms");
    if ((rc = one_next(&own30, 0.06)) != 0)
        return rc;

    section("100 ms timeout around async for, items 40 ms apart");
    if ((rc = corio_scope_timeout(0.1, &sc)) != 0)
        return rc;
    if ((rc = corio_agen_new(reader, (void *)&r40, NULL, &g)) == 0) {
        while ((rc = corio_agen_next(g, &item)) == 0)
            ev("main", "item %d", PTR2INT(item));
        corio_agen_free(g);
    }
    rc = corio_scope_close(sc, rc < 0 ? rc : 0);
    if (rc)
        ev("main", "async for: error %s, cancelling=%d", errname(rc),
           cancelling());
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
