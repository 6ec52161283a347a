/*
 * bench_agen.c: the async generator suite: what one item of `async for`
 * costs, and what a wait inside the generator adds.
 *
 * Workload: a generator yields the integers 1..N to a consumer task that
 * checks each one (the sum must come out right). Rows:
 *   raw coroutine generator: corio_coro_next over a plain corio_coro,
 *     driven from a task: the bare resume/yield pair, the reference the
 *     agen rows pay their bookkeeping over;
 *   agen, no waits: corio_agen_next over an async generator whose body
 *     only yields;
 *   agen, sleep(0) per item: the body also calls corio_sleep(0) before
 *     each yield, so every item makes one trip through the loop, passed
 *     up from the generator to the consumer's task and back (two extra
 *     switches and one loop iteration per item);
 *   asyncio, the same two generators (`async for` over an `async def`
 *     with `yield`, and with `await asyncio.sleep(0)` before it).
 * The figure is wall time per item; N is 2,000,000 (asyncio: 200,000).
 */
#include "loopbench.h"
#include "suites.h"

#include <corio/agen.h>
#include <corio/task.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ITEMS(quick) ((quick) ? 20000 : 2000000)
#define PY_ITEMS(quick) ((quick) ? 2000 : 200000)

enum { MODE_RAW, MODE_AGEN, MODE_AGEN_SLEEP };

struct ag_state {
    corio_loop *loop;
    int mode;
    uint64_t n;
    int rc;
};

static int gen_body(void *arg, void **result)
{
    struct ag_state *s = arg;
    int rc;
    (void)result;
    for (uint64_t i = 1; i <= s->n; i++) {
        if (s->mode == MODE_AGEN_SLEEP && (rc = corio_sleep(0)) != 0)
            return rc;
        if ((rc = corio_yield((void *)(uintptr_t)i, NULL)) != 0)
            return rc;
    }
    return 0;
}

static int consumer(void *arg, void **result)
{
    struct ag_state *s = arg;
    uint64_t sum = 0, count = 0;
    void *x;
    int rc;

    *result = NULL;
    if (s->mode == MODE_RAW) {
        corio_coro *g;
        if ((rc = corio_coro_new(gen_body, s, NULL, &g)) == 0) {
            while ((rc = corio_coro_next(g, &x)) == CORIO_YIELDED) {
                sum += (uintptr_t)x;
                count++;
            }
            corio_coro_free(g);
        }
    } else {
        corio_agen *g;
        if ((rc = corio_agen_new(gen_body, s, NULL, &g)) == 0) {
            while ((rc = corio_agen_next(g, &x)) == 0) {
                sum += (uintptr_t)x;
                count++;
            }
            if (rc == CORIO_END)
                rc = 0;
            corio_agen_free(g);
        }
    }
    if (rc == 0 && (count != s->n || sum != s->n * (s->n + 1) / 2))
        rc = -EPROTO;
    s->rc = rc;
    corio_loop_stop(s->loop);
    return 0;
}

static int ag_setup(void **state, const bench_opts *opts, const char **why)
{
    struct ag_state *s = calloc(1, sizeof *s);
    int rc;
    (void)why;
    if (!s)
        return -ENOMEM;
    if ((rc = corio_loop_new(NULL, &s->loop)) != 0) {
        free(s);
        return rc;
    }
    s->mode = (int)(intptr_t)*state;
    s->n = ITEMS(opts->quick);
    *state = s;
    return 0;
}

static int ag_sample(void *state, lb_sample *out, const char **why)
{
    struct ag_state *s = state;
    uint64_t c0 = lb_cpu_ns(), t0 = bench_now_ns();
    int rc;
    (void)why;
    s->rc = -EPROTO;
    rc = corio_loop_spawn(s->loop, consumer, s, NULL, NULL);
    if (rc == 0)
        rc = corio_loop_run(s->loop);
    out->value = (double)(bench_now_ns() - t0) / (double)s->n;
    out->cpu = (double)(lb_cpu_ns() - c0) / (double)s->n;
    return rc ? rc : s->rc;
}

static void ag_teardown(void *state)
{
    struct ag_state *s = state;
    corio_loop_free(s->loop);
    free(s);
}

/* ---- asyncio ----------------------------------------------------------- */

struct py_arg {
    const bench_opts *opts;
    const char *mode;
};

static int py_setup(void **state, const bench_opts *opts, const char **why)
{
    struct py_arg *a = *state;
    a->opts = opts; /* the rows' args are static: this outlives the table */
    return lb_python_setup(why);
}

static int py_sample(void *state, lb_sample *out, const char **why)
{
    struct py_arg *a = state;
    char buf[512], n[32];
    snprintf(n, sizeof n, "%d", PY_ITEMS(a->opts->quick));
    const char *args[] = {"agen", a->mode, n, NULL};
    int rc = lb_python_run(args, 120, buf, sizeof buf, why);
    if (rc)
        return rc;
    if (lb_field(buf, "cpu_ns_per_item", &out->cpu))
        out->cpu = -1;
    return lb_field(buf, "ns_per_item", &out->value) ? -EPROTO : 0;
}

/* ---- the table --------------------------------------------------------- */

enum { ROW_RAW, ROW_AGEN, ROW_PY, ROW_AGEN_SLEEP, ROW_PY_SLEEP, NROWS };

static struct py_arg py_plain = {NULL, "plain"};
static struct py_arg py_sleep = {NULL, "sleep0"};

static const lb_row rows[NROWS] = {
    [ROW_RAW] = {"raw coroutine generator (coro_next)", ag_setup, ag_sample,
                 ag_teardown, 0, (void *)(intptr_t)MODE_RAW},
    [ROW_AGEN] = {"agen, no waits", ag_setup, ag_sample, ag_teardown, 0,
                  (void *)(intptr_t)MODE_AGEN},
    [ROW_PY] = {"asyncio async for, no waits", py_setup, py_sample, NULL, 1,
                &py_plain},
    [ROW_AGEN_SLEEP] = {"agen, sleep(0) per item", ag_setup, ag_sample,
                        ag_teardown, 0, (void *)(intptr_t)MODE_AGEN_SLEEP},
    [ROW_PY_SLEEP] = {"asyncio async for, sleep(0) per item", py_setup,
                      py_sample, NULL, 1, &py_sleep},
};

static int agen_run(const bench_opts *opts)
{
    static const lb_table table = {
        "Async generators: one consumer task, async for over N items",
        "ns/item",
        1,
        rows,
        NROWS,
        {{"vs raw", ROW_RAW}, {"vs asyncio", ROW_PY}},
        "CPU ns",
    };
    lb_result res[NROWS];
    int rc = lb_table_run(&table, opts, res);
    printf("\n"
           "  Items: corio %s, asyncio %s. vs raw: against a plain corio "
           "coroutine\n"
           "  generator driven by corio_coro_next. vs asyncio: against "
           "`async for` over\n"
           "  an async generator with no waits (compare the sleep(0) rows "
           "with each other).\n",
           lb_commas(ITEMS(opts->quick)), lb_commas(PY_ITEMS(opts->quick)));
    if (res[ROW_AGEN_SLEEP].ok && res[ROW_PY_SLEEP].ok)
        printf("  sleep(0) rows: corio is %.1fx faster than asyncio.\n",
               res[ROW_PY_SLEEP].median / res[ROW_AGEN_SLEEP].median);
    return rc;
}

const bench_suite bench_suite_agen = {
    "agen",
    "async for over an async generator vs a raw generator and asyncio",
    agen_run,
};
