/*
 * scheduler.c: a hand-written run() and gather(), with no event loop.
 *
 * Replays the minimal round-robin scheduler from the chapter on CPython's
 * coroutines: a queue of ready coroutines, each resumed in turn until it
 * suspends again (back of the queue) or returns (dropped):
 *
 *     from collections import deque
 *
 *     def run(coros):
 *         ready = deque(c.__await__() for c in coros)
 *         while ready:
 *             aw = ready.popleft()
 *             try:
 *                 next(aw)
 *             except StopIteration:
 *                 continue
 *             ready.append(aw)
 *
 * and builds gather() on it, the way people who drive coroutines by hand do:
 * every coroutine's return value, in the order the coroutines were given,
 * whatever order they finish in (as asyncio.gather does):
 *
 *     async def worker(name, steps):
 *         total = 0
 *         for i in range(1, steps + 1):
 *             total += i
 *             print(name, "step", i, "of", steps)
 *             await sleep0()              # a bare yield to the scheduler
 *         return total
 *
 *     gather([worker("a", 3), worker("b", 1), worker("c", 2)])  # [6, 1, 3]
 *
 * A second round shows a failing worker: gather reports the first failure,
 * and the other workers still run to their end.
 *
 * Exits 0 when the interleaving and the results are as expected, 1 otherwise.
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

/* Compact record of who ran when ("a1 b1 c1 ..."), to check the order. */
static char trace[256];

static void note(const char *what)
{
    if (trace[0] != '\0')
        strncat(trace, " ", sizeof trace - strlen(trace) - 1);
    strncat(trace, what, sizeof trace - strlen(trace) - 1);
}

/* What each worker is told. Lives in main, so it outlives the coroutines. */
struct job {
    const char *name;
    int steps;
    int fail_at; /* step at which to fail with -EIO; 0: never */
};

/* A worker: a few steps, handing control back after each, then a result. */
static int worker(void *arg, void **result)
{
    const struct job *job = arg;
    char tag[32];
    int i, total = 0, rc;

    for (i = 1; i <= job->steps; i++) {
        if (i == job->fail_at) {
            printf("  %s: step %d fails: %s\n", job->name, i,
                   corio_strerror(-EIO));
            snprintf(tag, sizeof tag, "%s!", job->name);
            note(tag);
            return -EIO;
        }
        total += i;
        printf("  %s: step %d of %d (total %d)\n", job->name, i, job->steps,
               total);
        snprintf(tag, sizeof tag, "%s%d", job->name, i);
        note(tag);
        rc = corio_yield(NULL, NULL);
        if (rc < 0)
            return rc; /* thrown into or closed */
    }
    snprintf(tag, sizeof tag, "%s.", job->name);
    note(tag);
    *result = (void *)(intptr_t)total;
    return 0;
}

#define MAX_COROS 16

/*
 * run: resume coros[0..n) round-robin until every one has ended. Stores
 * each one's result in results[i] (NULL if it failed) and its outcome (0 or
 * the negative error) in errs[i]. Returns the first failure to happen, or 0.
 * Whatever a coroutine hands over when it suspends is ignored: suspending
 * just means "let the others run".
 */
static int run(corio_coro **coros, size_t n, void **results, int *errs)
{
    size_t ready[MAX_COROS]; /* ring of indexes into coros */
    size_t head = 0, count = 0, k;
    int first = 0, rc;
    void *out;

    if (n > MAX_COROS)
        return -EINVAL;
    for (k = 0; k < n; k++)
        ready[count++] = k;

    while (count > 0) {
        k = ready[head]; /* popleft */
        head = (head + 1) % MAX_COROS;
        count--;

        rc = corio_coro_resume(coros[k], NULL, &out);
        if (rc > 0) { /* suspended: back of the queue */
            ready[(head + count) % MAX_COROS] = k;
            count++;
            continue;
        }
        results[k] = out; /* the result; NULL on failure */
        errs[k] = rc;
        if (rc == CORIO_FINISHED)
            printf("run: '%s' finished with %d\n", corio_coro_name(coros[k]),
                   (int)(intptr_t)out);
        else
            printf("run: '%s' failed: %s\n", corio_coro_name(coros[k]),
                   corio_strerror(rc));
        if (rc < 0 && first == 0)
            first = rc;
    }
    return first;
}

/*
 * gather: make a coroutine per job, run them all, and store their results in
 * results[i], in the order of jobs. Returns 0 if all finished, else the
 * first failure (results of the failed ones are NULL). Frees what it made.
 */
static int gather(struct job *jobs, size_t n, void **results)
{
    corio_coro *coros[MAX_COROS];
    int errs[MAX_COROS];
    corio_coro_opts opts = {0};
    size_t i, made;
    int rc = 0;

    if (n > MAX_COROS)
        return -EINVAL;
    for (made = 0; made < n; made++) {
        opts.name = jobs[made].name;
        rc = corio_coro_new(worker, &jobs[made], &opts, &coros[made]);
        if (rc < 0)
            break;
    }
    if (rc == 0)
        rc = run(coros, n, results, errs);
    for (i = 0; i < made; i++)
        corio_coro_free(coros[i]); /* a coroutine left CREATED would warn */
    return rc;
}

int main(void)
{
    struct job jobs[] = {{"a", 3, 0}, {"b", 1, 0}, {"c", 2, 0}};
    struct job bad[] = {{"x", 2, 0}, {"y", 3, 2}, {"z", 3, 0}};
    void *results[MAX_COROS];
    size_t i;
    int rc;

    printf("gather(a: 3 steps, b: 1 step, c: 2 steps)\n");
    rc = gather(jobs, 3, results);
    CHECK(rc == 0);
    printf("results in argument order:");
    for (i = 0; i < 3; i++)
        printf(" %s=%d", jobs[i].name, (int)(intptr_t)results[i]);
    printf("\ninterleaving: %s\n", trace);
    /* b's only step, then the round where b returns, then c, then a. */
    CHECK(strcmp(trace, "a1 b1 c1 a2 b. c2 a3 c. a.") == 0);
    CHECK((intptr_t)results[0] == 6);
    CHECK((intptr_t)results[1] == 1);
    CHECK((intptr_t)results[2] == 3);

    trace[0] = '\0';
    printf("\ngather(x: 2 steps, y: fails at step 2, z: 3 steps)\n");
    rc = gather(bad, 3, results);
    printf("gather returned %s (%s)\n", corio_errname(rc), corio_strerror(rc));
    printf("interleaving: %s\n", trace);
    CHECK(rc == -EIO);
    CHECK(strcmp(trace, "x1 y1 z1 x2 y! z2 x. z3 z.") == 0);
    CHECK((intptr_t)results[0] == 3);
    CHECK(results[1] == NULL);
    CHECK((intptr_t)results[2] == 6);

    if (failures) {
        fprintf(stderr, "scheduler: %d check(s) failed\n", failures);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
