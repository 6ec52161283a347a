/*
 * throw_close.c: throwing errors into coroutines, and closing them.
 *
 * Python's coro.throw(E) makes the paused `yield` raise E inside the body;
 * coro.close() does the same with GeneratorExit. In corio the paused
 * corio_yield returns the error instead (a negative errno, or CORIO_EEXIT
 * for close), and the body decides what to do with it:
 *
 *     def resilient():                 # handles the error and goes on
 *         handled = 0
 *         for step in range(3):
 *             try:
 *                 yield step
 *             except TimeoutError:
 *                 handled += 1
 *         return handled
 *
 *     def fragile():                   # lets the error end it
 *         yield "ready"
 *
 *     def holder():                    # cleans up when closed
 *         buf = acquire()
 *         try:
 *             while True:
 *                 yield
 *         finally:
 *             release(buf)
 *
 *     def stubborn():                  # refuses the first close
 *         refused = False
 *         while True:
 *             try:
 *                 yield
 *             except GeneratorExit:
 *                 if refused:
 *                     raise
 *                 refused = True       # swallow it, keep yielding
 *
 *     g = resilient(); next(g); g.throw(TimeoutError)   # yields 1
 *     g = fragile();   next(g); g.throw(ConnectionResetError)  # raises it
 *     g = holder();    next(g); g.close()               # prints cleanup
 *     g = stubborn();  next(g); g.close()
 *     # RuntimeError: generator ignored GeneratorExit
 *     g.close()                                         # now it ends
 *
 * Also: an error thrown into a coroutine that never started ends it before
 * its body runs at all.
 *
 * Exits 0 when every call returns what is documented, 1 otherwise.
 */
#include <corio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            failures++;                                                      \
        }                                                                    \
    } while (0)

/* A status or error code, by name. */
static const char *rc_name(int rc)
{
    switch (rc) {
    case CORIO_FINISHED: return "CORIO_FINISHED";
    case CORIO_YIELDED: return "CORIO_YIELDED";
    case CORIO_AWAITING: return "CORIO_AWAITING";
    }
    return corio_errname(rc);
}

static corio_coro *make(corio_coro_fn fn, const char *name)
{
    corio_coro_opts opts = {0};
    corio_coro *co = NULL;
    int rc;

    opts.name = name;
    rc = corio_coro_new(fn, NULL, &opts, &co);
    if (rc < 0) {
        fprintf(stderr, "corio_coro_new(%s): %s\n", name, corio_strerror(rc));
        exit(EXIT_FAILURE);
    }
    return co;
}

/* ---- a coroutine that handles what is thrown in -------------------------*/

static int resilient(void *arg, void **result)
{
    intptr_t step, handled = 0;
    int rc;

    (void)arg;
    for (step = 0; step < 3; step++) {
        rc = corio_yield((void *)step, NULL);
        if (rc == CORIO_EEXIT)
            return rc; /* being closed: never swallow that */
        if (rc < 0) {
            printf("  resilient: caught %s (%s) at step %d; carrying on\n",
                   corio_errname(rc), corio_strerror(rc), (int)step);
            handled++;
        }
    }
    printf("  resilient: done, handled %d error(s)\n", (int)handled);
    *result = (void *)handled;
    return 0;
}

static void demo_resilient(void)
{
    corio_coro *co = make(resilient, "resilient");
    void *out;
    int rc;

    printf("resilient: next, throw(-ETIMEDOUT), next, next\n");
    rc = corio_coro_next(co, &out);
    CHECK(rc == 0 && (intptr_t)out == 0);
    rc = corio_coro_throw(co, -ETIMEDOUT, &out);
    printf("throw returned %s, value %d\n", rc_name(rc), (int)(intptr_t)out);
    CHECK(rc == CORIO_YIELDED && (intptr_t)out == 1);
    rc = corio_coro_next(co, &out);
    CHECK(rc == 0 && (intptr_t)out == 2);
    rc = corio_coro_next(co, &out);
    printf("last next returned %s, result %d; state %s\n", rc_name(rc),
           (int)(intptr_t)out, corio_state_name(corio_coro_state(co)));
    CHECK(rc == CORIO_END && (intptr_t)out == 1);
    CHECK(corio_coro_error(co) == 0);
    corio_coro_free(co);
}

/* ---- a coroutine that fails on what is thrown in ------------------------*/

static int fragile(void *arg, void **result)
{
    int rc;

    (void)arg;
    rc = corio_yield("ready", NULL);
    if (rc < 0) {
        printf("  fragile: got %s; cannot handle it, failing\n",
               corio_errname(rc));
        return rc;
    }
    *result = NULL;
    return 0;
}

static void demo_fragile(void)
{
    corio_coro *co = make(fragile, "fragile");
    void *out;
    int rc;

    printf("\nfragile: next, throw(-ECONNRESET)\n");
    rc = corio_coro_next(co, &out);
    CHECK(rc == 0 && out != NULL && strcmp(out, "ready") == 0);
    rc = corio_coro_throw(co, -ECONNRESET, &out);
    printf("throw returned %s (%s); state %s, corio_coro_error %s\n",
           rc_name(rc), corio_strerror(rc), corio_state_name(corio_coro_state(co)),
           corio_errname(corio_coro_error(co)));
    CHECK(rc == -ECONNRESET && out == NULL);
    CHECK(corio_coro_state(co) == CORIO_CORO_CLOSED);
    CHECK(corio_coro_error(co) == -ECONNRESET);

    /* Like resuming it: a closed coroutine cannot be thrown into. */
    rc = corio_coro_throw(co, -ECONNRESET, &out);
    printf("throw again: %s (%s)\n", rc_name(rc), corio_strerror(rc));
    CHECK(rc == CORIO_ECLOSED);
    corio_coro_free(co);
}

/* ---- a coroutine that cleans up when closed -----------------------------*/

static int holder(void *arg, void **result)
{
    char *buf;
    int rc;

    (void)arg;
    buf = malloc(4096);
    if (buf == NULL)
        return -ENOMEM;
    printf("  holder: acquired a 4 KiB buffer\n");
    for (;;) {
        rc = corio_yield(NULL, NULL);
        if (rc < 0)
            break;
    }
    /* Python's finally block. It may not suspend: close will not resume it. */
    free(buf);
    printf("  holder: got %s; released the buffer\n", corio_errname(rc));
    *result = NULL;
    return rc; /* CORIO_EEXIT: "closed as asked", close reports 0 */
}

static void demo_holder(void)
{
    corio_coro *co = make(holder, "holder");
    int rc;

    printf("\nholder: next, close\n");
    rc = corio_coro_next(co, NULL);
    CHECK(rc == 0);
    rc = corio_coro_close(co);
    printf("close returned %d; state %s\n", rc,
           corio_state_name(corio_coro_state(co)));
    CHECK(rc == 0);
    CHECK(corio_coro_state(co) == CORIO_CORO_CLOSED);
    /* Closing twice is harmless, as in Python. */
    CHECK(corio_coro_close(co) == 0);
    corio_coro_free(co);
}

/* ---- a coroutine that ignores close (once) ------------------------------*/

static int stubborn(void *arg, void **result)
{
    int refused = 0, rc;

    (void)arg;
    for (;;) {
        rc = corio_yield(NULL, NULL);
        if (rc == CORIO_EEXIT && !refused) {
            printf("  stubborn: asked to close; ignoring it and yielding\n");
            refused = 1;
            continue; /* a bug in real code: close cannot finish */
        }
        if (rc < 0) {
            printf("  stubborn: asked again; giving in\n");
            *result = NULL;
            return rc;
        }
    }
}

static void demo_stubborn(void)
{
    corio_coro *co = make(stubborn, "stubborn");
    int rc;

    printf("\nstubborn: next, close, close\n");
    rc = corio_coro_next(co, NULL);
    CHECK(rc == 0);
    rc = corio_coro_close(co);
    printf("close returned %s (%s); state %s\n", rc_name(rc),
           corio_strerror(rc), corio_state_name(corio_coro_state(co)));
    CHECK(rc == CORIO_EIGNORED);
    CHECK(corio_coro_state(co) == CORIO_CORO_SUSPENDED);
    rc = corio_coro_close(co);
    printf("second close returned %d; state %s\n", rc,
           corio_state_name(corio_coro_state(co)));
    CHECK(rc == 0);
    CHECK(corio_coro_state(co) == CORIO_CORO_CLOSED);
    corio_coro_free(co);
}

/* ---- throwing into a coroutine that never started -----------------------*/

static int body_ran;

static int never(void *arg, void **result)
{
    (void)arg;
    body_ran = 1;
    *result = NULL;
    return 0;
}

static void demo_unstarted(void)
{
    corio_coro *co = make(never, "never");
    void *out;
    int rc;

    printf("\nnever: throw(-ECANCELED) before the first resume\n");
    rc = corio_coro_throw(co, -ECANCELED, &out);
    printf("throw returned %s; state %s; body ran: %s\n", rc_name(rc),
           corio_state_name(corio_coro_state(co)), body_ran ? "yes" : "no");
    CHECK(rc == -ECANCELED);
    CHECK(corio_coro_state(co) == CORIO_CORO_CLOSED);
    CHECK(!body_ran);
    corio_coro_free(co);
}

int main(void)
{
    demo_resilient();
    demo_fragile();
    demo_holder();
    demo_stubborn();
    demo_unstarted();
    if (failures) {
        fprintf(stderr, "throw_close: %d check(s) failed\n", failures);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
