/* agen_protocol: the async generator protocol, call by call. One
 * generator, counter(n), yields 1..n, 10 ms apart, and reports what each
 * yield brings back; its cleanup waits 10 ms. The cases: next to the end
 * (and after it; close of a finished generator), send (refused before the
 * start; close at a yield runs the cleanup, which waits), throw (handled,
 * unhandled, before the start; close before the start), and calls from a
 * second task while one waits inside next (CORIO_ERUNNING). See the .py
 * twin. CORIO_END, CORIO_ERUNNING and CORIO_ENOTSTARTED print as the
 * neutral words "end", "already running" and "not started". */
#include "evtrace.h"

struct counter {
    int n;
    int handles; /* a thrown error is caught at the yield */
};

static int counter(void *arg, void **result)
{
    const struct counter *c = arg;
    int i, rc = 0;
    for (i = 1; i <= c->n; i++) {
        void *sent = NULL;
        if ((rc = corio_sleep(0.01)) != 0)
            break;
        ev("gen", "yield %d", i);
        rc = corio_yield(INT2PTR(i), &sent);
        if (rc < 0 && c->handles && rc != CORIO_EEXIT && rc != -ECANCELED) {
            ev("gen", "caught %s, going on", errname(rc));
            rc = 0;
            continue;
        }
        if (rc)
            break;
        if (sent)
            ev("gen", "sent %d", PTR2INT(sent));
    }
    if (rc == CORIO_EEXIT)
        ev("gen", "closing");
    ev("gen", "finally");
    if (corio_sleep(0.01) == 0)
        ev("gen", "finally: slept 10 ms");
    return rc;
}

/* Print what one protocol call gave. */
static void show(const char *who, const char *what, int rc, void *item)
{
    if (rc == 0 && item)
        ev(who, "%s: item %d", what, PTR2INT(item));
    else if (rc == 0)
        ev(who, "%s: ok", what);
    else if (rc == CORIO_END)
        ev(who, "%s: end", what);
    else if (rc == CORIO_ERUNNING)
        ev(who, "%s: already running", what);
    else if (rc == CORIO_ENOTSTARTED)
        ev(who, "%s: not started", what);
    else
        ev(who, "%s: error %s", what, errname(rc));
}

/* Make one protocol call, then print its outcome with the item it set
 * (show(who, what, call, item) could read item before the call runs). */
#define CALL(who, what, call)                                                 \
    do {                                                                      \
        int call_rc_;                                                         \
        item = NULL;                                                          \
        call_rc_ = (call);                                                    \
        show(who, what, call_rc_, item);                                      \
    } while (0)

static int first_next(void *arg, void **result)
{
    void *item;
    CALL("first", "anext", corio_agen_next(arg, &item));
    return 0;
}

static int scenario(void *arg, void **result)
{
    static struct counter two = {2, 0}, three = {3, 0}, handling = {3, 1};
    corio_agen *g;
    corio_task *first;
    void *item;
    int rc;

    section("anext to the end");
    if ((rc = corio_agen_new(counter, &two, NULL, &g)) != 0)
        return rc;
    while ((rc = corio_agen_next(g, &item)) == 0)
        show("main", "anext", rc, item);
    show("main", "anext", rc, item);
    CALL("main", "anext after the end", corio_agen_next(g, &item));
    CALL("main", "aclose a finished one", corio_agen_close(g));
    corio_agen_free(g);

    section("asend");
    if ((rc = corio_agen_new(counter, &three, NULL, &g)) != 0)
        return rc;
    CALL("main", "asend(5) before the start",
         corio_agen_send(g, INT2PTR(5), &item));
    CALL("main", "asend(None)", corio_agen_send(g, NULL, &item));
    CALL("main", "asend(7)", corio_agen_send(g, INT2PTR(7), &item));
    CALL("main", "aclose at a yield", corio_agen_close(g));
    CALL("main", "anext after aclose", corio_agen_next(g, &item));
    corio_agen_free(g);

    section("athrow");
    if ((rc = corio_agen_new(counter, &handling, NULL, &g)) != 0)
        return rc;
    CALL("main", "anext", corio_agen_next(g, &item));
    CALL("main", "athrow EIO, handled", corio_agen_throw(g, -EIO, &item));
    CALL("main", "aclose", corio_agen_close(g));
    corio_agen_free(g);
    if ((rc = corio_agen_new(counter, &three, NULL, &g)) != 0)
        return rc;
    CALL("main", "anext", corio_agen_next(g, &item));
    CALL("main", "athrow EIO, unhandled",
         corio_agen_throw(g, -EIO, &item));
    CALL("main", "anext after it", corio_agen_next(g, &item));
    corio_agen_free(g);
    if ((rc = corio_agen_new(counter, &three, NULL, &g)) != 0)
        return rc;
    CALL("main", "athrow EIO before the start",
         corio_agen_throw(g, -EIO, &item));
    CALL("main", "anext after it", corio_agen_next(g, &item));
    corio_agen_free(g);
    if ((rc = corio_agen_new(counter, &three, NULL, &g)) != 0)
        return rc;
    CALL("main", "aclose before the start", corio_agen_close(g));
    CALL("main", "anext after it", corio_agen_next(g, &item));
    corio_agen_free(g);

    section("already running");
    if ((rc = corio_agen_new(counter, &two, NULL, &g)) != 0)
        return rc;
    if ((rc = corio_spawn(first_next, g, NULL, &first)) != 0) {
        corio_agen_free(g);
        return rc;
    }
    corio_sleep(0); /* first is now waiting inside g */
    ev("main", "first is inside anext");
    CALL("main", "anext", corio_agen_next(g, &item));
    CALL("main", "asend(7)", corio_agen_send(g, INT2PTR(7), &item));
    CALL("main", "athrow EIO", corio_agen_throw(g, -EIO, &item));
    CALL("main", "aclose", corio_agen_close(g));
    corio_task_join(first, NULL);
    corio_task_release(first);
    CALL("main", "aclose", corio_agen_close(g));
    corio_agen_free(g);
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
