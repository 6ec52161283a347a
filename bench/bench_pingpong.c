/*
 * bench_pingpong.c: the future ping-pong suite: what it costs one task to
 * hand control to another through a future and wait for its turn again.
 *
 * Workload: 1,000,000 hand-offs between two tasks A and B. Each side loops:
 * await its future; make a new future for its next wait; complete the
 * other side's future (the hand-off, which wakes the other task). So every
 * hand-off uses a new future, as asyncio code does (a corio future, like
 * asyncio's, is done for good once set); corio takes it from the loop's
 * free list of futures. The figure is wall time per hand-off; one
 * hand-off holds a future made, one set, one task parked and one woken,
 * one loop iteration and two context switches (task to loop, loop to
 * task). Each loop iteration also polls for I/O with a zero timeout (a
 * system call), as libuv's and asyncio's do.
 *
 * Rows: corio tasks with default stacks; corio lean tasks (both share one
 * stack, so every hand-off copies the frames of the sleeping side out and
 * the waking side's in); libuv, which has no futures: two uv_idle_t
 * starting each other (one callback per loop iteration, the same
 * iteration-per-hand-off rhythm) and two uv_async_t sending to each other
 * (the wake-up libuv offers, through an eventfd); asyncio, the same
 * protocol with loop.create_future().
 */
#include "loopbench.h"
#include "suites.h"
#include "uvrows.h"

#include <corio/task.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* What a completed future carries: go on, or the other side is done. */
#define GO ((void *)1)
#define STOP ((void *)2)

struct pp_state {
    corio_loop *loop;
    corio_task_opts opts;
    corio_future *slot[2]; /* what side i waits on next */
    uint64_t n, count;
    int rc;
};

struct pp_side {
    struct pp_state *s;
    int i;
};

static int pp_side(void *arg, void **result)
{
    struct pp_side *me = arg;
    struct pp_state *s = me->s;
    int i = me->i, rc;
    void *v;

    *result = NULL;
    for (;;) {
        rc = corio_future_await(s->slot[i], &v);
        corio_future_release(s->slot[i]);
        s->slot[i] = NULL;
        if (rc || v == STOP)
            return rc;
        if (s->count >= s->n)
            return corio_future_set_result(s->slot[1 - i], STOP);
        if ((rc = corio_future_new(NULL, &s->slot[i])) != 0)
            return rc;
        s->count++;
        if ((rc = corio_future_set_result(s->slot[1 - i], GO)) != 0)
            return rc;
    }
}

static int pp_driver(void *arg, void **result)
{
    struct pp_state *s = arg;
    struct pp_side side[2] = {{s, 0}, {s, 1}};
    corio_task *t[2] = {NULL, NULL};
    int rc;

    *result = NULL;
    s->count = 0;
    rc = corio_future_new(NULL, &s->slot[0]);
    if (rc == 0)
        rc = corio_future_new(NULL, &s->slot[1]);
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = corio_spawn(pp_side, &side[i], &s->opts, &t[i]);
    if (rc == 0)
        rc = corio_future_set_result(s->slot[0], GO);
    for (int i = 0; i < 2; i++) {
        if (!t[i])
            continue;
        int jr = corio_task_join(t[i], NULL);
        if (jr && !rc)
            rc = jr;
        corio_task_release(t[i]);
    }
    for (int i = 0; i < 2; i++) { /* left over only after a failure */
        corio_future_release(s->slot[i]);
        s->slot[i] = NULL;
    }
    s->rc = rc ? rc : s->count == s->n ? 0 : -EPROTO;
    corio_loop_stop(s->loop);
    return 0;
}

static int pp_setup_with(void **state, const bench_opts *opts,
                         unsigned flags)
{
    struct pp_state *s = calloc(1, sizeof *s);
    int rc;
    if (!s)
        return -ENOMEM;
    if ((rc = corio_loop_new(NULL, &s->loop)) != 0) {
        free(s);
        return rc;
    }
    s->opts.name = "ping-pong";
    s->opts.flags = flags;
    s->n = LB_PINGPONG_HANDOFFS(opts->quick);
    *state = s;
    return 0;
}

static int pp_setup(void **state, const bench_opts *opts, const char **why)
{
    (void)why;
    return pp_setup_with(state, opts, 0);
}

static int pp_setup_lean(void **state, const bench_opts *opts,
                         const char **why)
{
    (void)why;
    return pp_setup_with(state, opts, CORIO_CORO_LEAN);
}

static int pp_sample(void *state, lb_sample *ns_per_handoff,
                     const char **why)
{
    struct pp_state *s = state;
    static const corio_task_opts driver = {"ping-pong driver", 0, 0};
    uint64_t c0 = lb_cpu_ns(), t0 = bench_now_ns();
    int rc;
    (void)why;
    s->rc = -EPROTO;
    rc = corio_loop_spawn(s->loop, pp_driver, s, &driver, NULL);
    if (rc == 0)
        rc = corio_loop_run(s->loop);
    ns_per_handoff->value = (double)(bench_now_ns() - t0) / (double)s->n;
    ns_per_handoff->cpu = (double)(lb_cpu_ns() - c0) / (double)s->n;
    return rc ? rc : s->rc;
}

static void pp_teardown(void *state)
{
    struct pp_state *s = state;
    corio_loop_free(s->loop);
    free(s);
}

/* ---- asyncio ----------------------------------------------------------- */

/* Python is ~5 us a hand-off: its row runs a fifth of the workload, once. */
#define PY_HANDOFFS(quick) ((quick) ? 2000 : 200000)

static int py_setup(void **state, const bench_opts *opts, const char **why)
{
    *state = (void *)opts; /* outlives the table */
    return lb_python_setup(why);
}

static int py_sample(void *state, lb_sample *ns_per_handoff,
                     const char **why)
{
    const bench_opts *opts = state;
    char out[512], n[32];
    snprintf(n, sizeof n, "%d", PY_HANDOFFS(opts->quick));
    const char *args[] = {"pingpong", n, NULL};
    int rc = lb_python_run(args, 120, out, sizeof out, why);
    if (rc)
        return rc;
    if (lb_field(out, "cpu_ns_per_handoff", &ns_per_handoff->cpu))
        ns_per_handoff->cpu = -1;
    return lb_field(out, "ns_per_handoff", &ns_per_handoff->value) ? -EPROTO
                                                                    : 0;
}

/* ---- the table --------------------------------------------------------- */

enum { ROW_CORIO, ROW_LEAN, ROW_UV_IDLE, ROW_UV_ASYNC, ROW_PY, NROWS };

static const lb_row rows[NROWS] = {
    [ROW_CORIO] = {"corio (default stacks)", pp_setup, pp_sample,
                   pp_teardown, 0, NULL},
    [ROW_LEAN] = {"corio lean (one shared stack)", pp_setup_lean, pp_sample,
                  pp_teardown, 0, NULL},
    [ROW_UV_IDLE] = {"libuv uv_idle_t start/stop", bench_uv_idle_pp_setup,
                     bench_uv_idle_pp_sample, bench_uv_idle_pp_teardown, 0,
                     NULL},
    [ROW_UV_ASYNC] = {"libuv uv_async_send", bench_uv_async_pp_setup,
                      bench_uv_async_pp_sample, bench_uv_async_pp_teardown, 0,
                      NULL},
    [ROW_PY] = {"Python asyncio (new future each)", py_setup, py_sample, NULL,
                1, NULL},
};

static int pingpong_run(const bench_opts *opts)
{
    static const lb_table table = {
        "Future ping-pong: two tasks, a new future per hand-off",
        "ns/hand-off",
        1,
        rows,
        NROWS,
        {{"vs libuv", ROW_UV_IDLE}, {"vs asyncio", ROW_PY}},
        "CPU ns",
    };
    lb_result res[NROWS];
    int rc = lb_table_run(&table, opts, res);
    printf("\n"
           "  A hand-off: complete the other task's future (waking it), "
           "park on a\n"
           "  new future of one's own. corio: %s hand-offs; asyncio: %s.\n"
           "  libuv has no futures: uv_idle_t: each callback stops its "
           "handle and\n"
           "  starts the other's (run next iteration); uv_async_t: each "
           "callback\n"
           "  sends to the other (eventfd write + poll + read; %s "
           "hand-offs).\n"
           "  vs libuv: against the uv_idle_t row. corio, libuv and asyncio "
           "all poll\n"
           "  for I/O (timeout 0) once per loop iteration: one system call "
           "per hand-off.\n"
           "\n"
           "  Earlier figures, for context only (not measured by this run):\n"
           "    Tokio Notify 132 ns/hand-off; Go channel 180 ns.\n",
           lb_commas(LB_PINGPONG_HANDOFFS(opts->quick)),
           lb_commas(PY_HANDOFFS(opts->quick)),
           lb_commas(LB_PINGPONG_HANDOFFS(opts->quick) / 10));
    if (opts->quick)
        return rc;
    lb_target_below("corio (default stacks)", &res[ROW_CORIO], 30,
                    "ns/hand-off");
    return rc;
}

const bench_suite bench_suite_pingpong = {
    "pingpong",
    "two tasks handing off through futures vs libuv and asyncio",
    pingpong_run,
};
