/*
 * drive.c: run a coroutine by hand until it returns, with no event loop.
 *
 * The C twin of the smallest custom driver there is:
 *
 *     async def example():
 *         await asyncio.sleep(0)       # give control back to the driver
 *         await asyncio.sleep(0)       # ...and once more
 *         return 1
 *
 *     def drive(coro):
 *         while True:
 *             try:
 *                 coro.send(None)
 *             except StopIteration as e:
 *                 return e.value
 *
 *     print(drive(example()))          # 1
 *
 * On the way it prints the coroutine's state at each stage, as
 * inspect.getcoroutinestate() would (CREATED, RUNNING, SUSPENDED, CLOSED),
 * and shows two misuses Python reports as errors:
 *
 *     example().send(42)
 *     TypeError: can't send non-None value to a just-started coroutine
 *
 *     coro.send(None)                  # after it has returned
 *     RuntimeError: cannot reuse already awaited coroutine
 *
 * Exits 0 when everything behaves as described, 1 otherwise.
 */
#include <corio.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            failures++;                                                      \
        }                                                                    \
    } while (0)

static const char *status_name(int rc)
{
    switch (rc) {
    case CORIO_FINISHED: return "CORIO_FINISHED";
    case CORIO_YIELDED: return "CORIO_YIELDED";
    case CORIO_AWAITING: return "CORIO_AWAITING";
    }
    return corio_errname(rc);
}

/* The coroutine: hands control back twice, then returns 1. */
static int example(void *arg, void **result)
{
    int step, rc;
    corio_state me;

    (void)arg;
    for (step = 1; step <= 2; step++) {
        /* Asking for our own state from inside always answers RUNNING. */
        me = corio_coro_state(corio_coro_current());
        printf("  example: step %d, my state is %s; yielding\n", step,
               corio_state_name(me));
        CHECK(me == CORIO_CORO_RUNNING);
        rc = corio_yield(NULL, NULL); /* like `await asyncio.sleep(0)` */
        if (rc < 0)
            return rc; /* thrown into or closed: let it propagate */
    }
    printf("  example: returning 1\n");
    *result = (void *)(intptr_t)1;
    return 0;
}

/*
 * drive: resume co with NULL until it ends. Returns 0 with the coroutine's
 * result in *result, or the negative error the coroutine failed with (or a
 * misuse error from corio_coro_resume).
 */
static int drive(corio_coro *co, void **result)
{
    void *out;
    int rc;

    /* Python's loop ends on StopIteration; ours ends on a status <= 0. */
    while ((rc = corio_coro_resume(co, NULL, &out)) > 0)
        printf("drive: got %s, coroutine is %s; resuming\n", status_name(rc),
               corio_state_name(corio_coro_state(co)));
    if (rc == CORIO_FINISHED)
        *result = out;
    return rc;
}

int main(void)
{
    corio_coro *co;
    corio_coro_opts opts = {0};
    int answer = 42;
    void *out = NULL, *result = NULL;
    int rc;

    opts.name = "example";
    rc = corio_coro_new(example, NULL, &opts, &co);
    if (rc < 0) {
        fprintf(stderr, "corio_coro_new: %s\n", corio_strerror(rc));
        return 1;
    }
    printf("made '%s'; state %s (nothing has run yet)\n", corio_coro_name(co),
           corio_state_name(corio_coro_state(co)));
    CHECK(corio_coro_state(co) == CORIO_CORO_CREATED);

    /* A value can only be sent once the body waits in corio_yield. */
    rc = corio_coro_resume(co, &answer, &out);
    printf("send(42) before it started: %s (%s)\n", corio_errname(rc),
           corio_strerror(rc));
    printf("  state still %s: the refused call changed nothing\n",
           corio_state_name(corio_coro_state(co)));
    CHECK(rc == CORIO_ENOTSTARTED);
    CHECK(corio_coro_state(co) == CORIO_CORO_CREATED);

    printf("drive(example):\n");
    rc = drive(co, &result);
    CHECK(rc == 0);
    if (rc < 0) {
        printf("drive failed: %s\n", corio_strerror(rc));
    } else {
        printf("drive returned %d; coroutine is %s\n", (int)(intptr_t)result,
               corio_state_name(corio_coro_state(co)));
        CHECK((intptr_t)result == 1);
    }
    CHECK(corio_coro_state(co) == CORIO_CORO_CLOSED);
    CHECK(corio_coro_error(co) == 0);

    /* A coroutine object is one run of its body: it cannot go again. */
    rc = corio_coro_resume(co, NULL, &out);
    printf("resume after it returned: %s (%s)\n", corio_errname(rc),
           corio_strerror(rc));
    CHECK(rc == CORIO_ECLOSED);

    CHECK(corio_coro_free(co) == 0);

    if (failures) {
        fprintf(stderr, "drive: %d check(s) failed\n", failures);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
