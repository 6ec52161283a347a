/*
 * agen_queue.c: an async generator that reads a queue until it goes quiet.
 *
 * The Python this mirrors:
 *
 *     async def readings(q, idle):
 *         try:
 *             while True:
 *                 async with asyncio.timeout(idle):    # closed before yield
 *                     item = await q.get()
 *                 yield item
 *         except TimeoutError:
 *             return                                   # quiet: stream ends
 *         finally:
 *             print("readings: closed")
 *
 *     async for r in readings(q, 0.05):
 *         print(r)
 *
 * A sensor task puts readings into a queue in two bursts with a short gap
 * between them, then goes quiet. The generator waits for each one with a
 * timeout; its waits suspend the consumer's task, so the sensor runs
 * meanwhile. When nothing arrives for `idle` seconds the generator returns
 * and the consumer's loop ends with CORIO_END.
 *
 * Part 2 leaves the loop early and closes the generator with
 * corio_agen_close (Python's `await agen.aclose()`): its cleanup runs,
 * and may itself wait.
 *
 * Part 3 shows the rule of PEP 789: a generator that yields while its own
 * timeout is still open would put the consumer's code under that timeout,
 * so the yield is refused with CORIO_EYIELDSCOPE.
 */
#include <corio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#define IDLE 0.2 /* seconds of silence that end the stream */

struct reader {
    corio_queue *q;
    int closes; /* times the cleanup ran */
};

/* The async generator: one reading per item, until the queue is quiet. */
static int readings(void *arg, void **result)
{
    struct reader *r = arg;
    corio_scope *sc;
    void *item;
    int rc;
    (void)result;

    for (;;) {
        if ((rc = corio_scope_timeout(IDLE, &sc)) != 0)
            break;
        rc = corio_queue_get(r->q, &item);
        rc = corio_scope_close(sc, rc); /* closed before the yield */
        if (rc == -ETIMEDOUT) {
            rc = 0; /* quiet: the stream ends normally */
            break;
        }
        if (rc == 0)
            rc = corio_yield(item, NULL);
        if (rc)
            break; /* closed (CORIO_EEXIT), cancelled or failed */
    }
    /* finally: runs on every way out, may wait (a short flush). */
    corio_sleep(0.001);
    r->closes++;
    printf("  readings: closed (%s)\n", rc ? corio_errname(rc) : "quiet");
    return rc;
}

/* Puts `n` readings, one every `every` seconds, starting at `first`. */
struct burst {
    corio_queue *q;
    int first, n;
    double every;
};

static int sensor(void *arg, void **result)
{
    struct burst *b = arg;
    (void)result;
    for (int i = 0; i < b->n; i++) {
        int rc = corio_sleep(b->every);
        if (rc == 0)
            rc = corio_queue_put(b->q, (void *)(intptr_t)(b->first + i));
        if (rc)
            return rc;
    }
    return 0;
}

/* Part 3: a generator that yields with its timeout still open. */
static int careless(void *arg, void **result)
{
    corio_scope *sc;
    int rc;
    (void)arg;
    (void)result;
    if ((rc = corio_scope_timeout(1.0, &sc)) != 0)
        return rc;
    rc = corio_yield((void *)1, NULL); /* refused */
    printf("  careless: its yield returned %s\n", corio_errname(rc));
    return corio_scope_close(sc, rc);
}

static int run_part1(struct reader *r)
{
    struct burst a = {r->q, 1, 4, 0.005}, b = {r->q, 101, 3, 0.005};
    corio_agen *g;
    void *item;
    int rc, n = 0;

    printf("1. async for over a queue, ending after %.0f ms of quiet\n",
           IDLE * 1000);
    if ((rc = corio_spawn(sensor, &a, NULL, NULL)) != 0)
        return rc;
    if ((rc = corio_agen_new(readings, r, NULL, &g)) != 0)
        return rc;
    while ((rc = corio_agen_next(g, &item)) == 0) {
        printf("  reading %d\n", (int)(intptr_t)item);
        if (++n == 4 && (rc = corio_spawn(sensor, &b, NULL, NULL)) != 0)
            break;
    }
    printf("  loop ended: %s after %d readings\n",
           rc == CORIO_END ? "end of stream" : corio_errname(rc), n);
    corio_agen_free(g);
    return rc == CORIO_END && n == 7 ? 0 : -EPROTO;
}

static int run_part2(struct reader *r)
{
    struct burst a = {r->q, 201, 10, 0.002};
    corio_task *t;
    corio_agen *g;
    void *item;
    int rc, n = 0;

    printf("2. leaving the loop early, then aclose\n");
    if ((rc = corio_spawn(sensor, &a, NULL, &t)) != 0)
        return rc;
    if ((rc = corio_agen_new(readings, r, NULL, &g)) != 0) {
        corio_task_release(t);
        return rc;
    }
    while ((rc = corio_agen_next(g, &item)) == 0) {
        printf("  reading %d\n", (int)(intptr_t)item);
        if (++n == 3)
            break;
    }
    rc = corio_agen_close(g); /* its cleanup runs (and waits) here */
    printf("  aclose returned %s\n", corio_errname(rc));
    corio_agen_free(g);
    corio_task_cancel(t); /* the sensor is no longer wanted */
    corio_task_join(t, NULL);
    corio_task_release(t);
    return rc;
}

static int run_part3(void)
{
    corio_agen *g;
    int rc;

    printf("3. a yield inside the generator's own timeout (PEP 789)\n");
    if ((rc = corio_agen_new(careless, NULL, NULL, &g)) != 0)
        return rc;
    rc = corio_agen_next(g, NULL);
    printf("  next returned %s\n", corio_errname(rc));
    corio_agen_free(g);
    return rc == CORIO_EYIELDSCOPE ? 0 : -EPROTO;
}

static int amain(void *arg, void **result)
{
    struct reader r = {NULL, 0};
    int rc;
    (void)arg;
    (void)result;

    if ((rc = corio_queue_new(CORIO_QUEUE_FIFO, 0, &r.q)) != 0)
        return rc;
    rc = run_part1(&r);
    if (rc == 0)
        rc = run_part2(&r);
    if (rc == 0)
        rc = run_part3();
    corio_queue_free(r.q);
    if (rc == 0 && r.closes != 2)
        rc = -EPROTO;
    return rc;
}

int main(void)
{
    int rc = corio_run(amain, NULL, NULL);
    if (rc) {
        fprintf(stderr, "agen_queue: %s\n", corio_strerror(rc));
        return 1;
    }
    return 0;
}
