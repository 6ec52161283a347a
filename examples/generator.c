/*
 * generator.c: generators, consumed in a loop and fed with send.
 *
 * Three Python generator patterns, in C:
 *
 * 1. A finite generator in a for loop; its return value is what
 *    StopIteration carries (a for loop drops it; here we keep it):
 *
 *        def countdown(n):
 *            while n > 0:
 *                yield n
 *                n -= 1
 *            return "liftoff"
 *
 *        for x in countdown(5):
 *            print(x)
 *
 * 2. An endless generator, left with break and then closed; its cleanup
 *    runs when GeneratorExit arrives at the paused yield:
 *
 *        def fib():
 *            a, b = 0, 1
 *            try:
 *                while True:
 *                    yield a
 *                    a, b = b, a + b
 *            finally:
 *                print("fib: closed")
 *
 *        g = fib()
 *        for x in g:
 *            if x > 100:
 *                break
 *        g.close()
 *
 * 3. A coroutine that receives values with send (a running average):
 *
 *        def averager():
 *            total, count, average = 0.0, 0, None
 *            while True:
 *                value = yield average
 *                if value is None:
 *                    return average
 *                total += value
 *                count += 1
 *                average = total / count
 *
 *        avg = averager()
 *        next(avg)                      # run to the first yield
 *        for v in (10, 20, 30, 40):
 *            print(avg.send(v))         # 10.0 15.0 20.0 25.0
 *        avg.send(None)                 # StopIteration: 25.0
 *
 * Values cross as `void *`: small integers cast through intptr_t, or
 * pointers to objects owned by main, never to a coroutine's locals.
 *
 * Exits 0 when every value is as expected, 1 otherwise.
 */
#include <corio.h>

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

/* ---- 1. countdown --------------------------------------------------------*/

static int countdown(void *arg, void **result)
{
    intptr_t n = (intptr_t)arg;
    int rc;

    while (n > 0) {
        rc = corio_yield((void *)n, NULL);
        if (rc < 0)
            return rc;
        n--;
    }
    *result = "liftoff"; /* a string literal lives forever */
    return 0;
}

static void demo_countdown(void)
{
    corio_coro *g;
    void *x = NULL;
    intptr_t expect = 5;
    int rc;

    printf("for x in countdown(5):\n");
    rc = corio_coro_new(countdown, (void *)(intptr_t)5, NULL, &g);
    CHECK(rc == 0);
    if (rc < 0)
        return;
    while ((rc = corio_coro_next(g, &x)) == 0) {
        printf("  %d\n", (int)(intptr_t)x);
        CHECK((intptr_t)x == expect);
        expect--;
    }
    CHECK(rc == CORIO_END && expect == 0);
    if (rc == CORIO_END) /* StopIteration: x is what the body returned */
        printf("exhausted; it returned \"%s\"\n", (const char *)x);
    else
        printf("failed: %s\n", corio_strerror(rc));
    CHECK(rc == CORIO_END && strcmp((const char *)x, "liftoff") == 0);
    corio_coro_free(g);
}

/* ---- 2. fib, left early --------------------------------------------------*/

static int fib(void *arg, void **result)
{
    uintptr_t a = 0, b = 1, next;
    int rc;

    (void)arg;
    (void)result; /* an endless generator never returns a result */
    for (;;) {
        rc = corio_yield((void *)a, NULL);
        if (rc < 0) {
            /* Python's finally: runs whether closed or thrown into. */
            printf("  fib: %s, cleaning up (was at %lu)\n", corio_errname(rc),
                   (unsigned long)a);
            return rc;
        }
        next = a + b;
        a = b;
        b = next;
    }
}

static void demo_fib(void)
{
    static const unsigned long expect[] = {0, 1, 1, 2, 3, 5, 8, 13, 21,
                                           34, 55, 89, 144};
    corio_coro *g;
    corio_coro_opts opts = {0};
    void *x;
    size_t i = 0;
    int rc;

    printf("\nfor x in fib(): print(x); break once x > 100\n");
    opts.name = "fib";
    rc = corio_coro_new(fib, NULL, &opts, &g);
    CHECK(rc == 0);
    if (rc < 0)
        return;
    printf(" ");
    while ((rc = corio_coro_next(g, &x)) == 0) {
        printf(" %lu", (unsigned long)(uintptr_t)x);
        CHECK(i < sizeof expect / sizeof expect[0] &&
              (uintptr_t)x == expect[i]);
        i++;
        if ((uintptr_t)x > 100)
            break;
    }
    printf("\n");
    CHECK(rc == 0);
    CHECK(corio_coro_state(g) == CORIO_CORO_SUSPENDED);

    /* Python closes an abandoned generator when it is collected; in C the
     * owner says when. (corio_coro_free alone would close it too.) */
    printf("close(fib):\n");
    rc = corio_coro_close(g);
    printf("close returned %d; fib is %s\n", rc,
           corio_coro_state(g) == CORIO_CORO_CLOSED ? "CLOSED" : "not closed");
    CHECK(rc == 0);
    CHECK(corio_coro_state(g) == CORIO_CORO_CLOSED);
    corio_coro_free(g);
}

/* ---- 3. running average, fed with resume ---------------------------------*/

/* The average the coroutine hands out. It belongs to the caller, so the
 * pointer stays valid while the coroutine is suspended and after it ends. */
struct average {
    double value;
    int count;
};

static int averager(void *arg, void **result)
{
    struct average *avg = arg;
    double total = 0.0;
    void *sent;
    int rc;

    avg->value = 0.0;
    avg->count = 0;
    /* The first yield hands out NULL: no average yet (Python's None). */
    rc = corio_yield(NULL, &sent);
    for (;;) {
        if (rc < 0)
            return rc;
        if (sent == NULL) { /* "no more values" */
            *result = avg;
            return 0;
        }
        total += *(const double *)sent;
        avg->count++;
        avg->value = total / avg->count;
        rc = corio_yield(avg, &sent);
    }
}

static int near(double a, double b)
{
    double d = a - b;
    return d < 1e-9 && d > -1e-9;
}

static void demo_averager(void)
{
    double values[] = {10, 20, 30, 40};
    const double running[] = {10, 15, 20, 25};
    struct average avg;
    corio_coro *co;
    void *out;
    size_t i;
    int rc;

    printf("\naverager() fed with send\n");
    rc = corio_coro_new(averager, &avg, NULL, &co);
    CHECK(rc == 0);
    if (rc < 0)
        return;

    /* Prime it: run the body to its first yield, like next(avg). */
    rc = corio_coro_next(co, &out);
    printf("  next(avg) -> %s\n", out == NULL ? "None" : "?");
    CHECK(rc == 0 && out == NULL);

    for (i = 0; i < sizeof values / sizeof values[0]; i++) {
        rc = corio_coro_resume(co, &values[i], &out);
        CHECK(rc == CORIO_YIELDED && out == &avg);
        if (rc != CORIO_YIELDED || out == NULL)
            break;
        printf("  avg.send(%g) -> %.1f\n", values[i],
               ((const struct average *)out)->value);
        CHECK(near(avg.value, running[i]));
    }

    rc = corio_coro_resume(co, NULL, &out);
    CHECK(rc == CORIO_FINISHED && out == &avg);
    if (rc == CORIO_FINISHED && out != NULL)
        printf("  avg.send(NULL) -> finished: %.1f over %d values\n",
               ((const struct average *)out)->value,
               ((const struct average *)out)->count);
    CHECK(near(avg.value, 25.0) && avg.count == 4);
    corio_coro_free(co);
}

int main(void)
{
    demo_countdown();
    demo_fib();
    demo_averager();
    if (failures) {
        fprintf(stderr, "generator: %d check(s) failed\n", failures);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
