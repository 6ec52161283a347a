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
 * hand-off holds a future made, one set, one task parked and one woken.
 * corio switches from the parking task straight to the woken one (the
 * direct hand-off, docs/loop.md: one context switch, and it counts as a
 * loop iteration), so its loop polls for I/O with a zero timeout once
 * every 61 hand-offs; libuv and asyncio go round their loops, polling
 * (a system call) once per hand-off.
 *
 * Rows: corio tasks with default stacks; corio lean tasks (both share one
 * stack, so every hand-off copies the frames of the sleeping side out and
 * the waking side's in); the same hand-off through two corio Events (wait,
 * clear, set the other's: no object made per hand-off) and through two
 * corio Queues (a put to the other side's waiting get); libuv, which has
 * no futures: two uv_idle_t
 * starting each other (one callback per loop iteration, the same
 * iteration-per-hand-off rhythm) and two uv_async_t sending to each other
 * (the wake-up libuv offers, through an eventfd); asyncio, the same
 * protocol with loop.create_future().
 */
#include "loopbench.h"
#include "suites.h"
#include "uvrows.h"

#include <corio/queue.h>
#include <corio/sync.h>
#include <corio/task.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* What a completed future carries: go on, or the other side is done. */
#define GO ((void *)1)
#define STOP ((void *)2)

/* What the two tasks hand off through. */
enum { PP_FUTURE, PP_EVENT, PP_QUEUE };

struct pp_state {
    corio_loop *loop;
    corio_task_opts opts;
    int kind;              /* PP_* */
    corio_future *slot[2]; /* what side i waits on next */
    corio_event *ev[2];    /* PP_EVENT: side i waits on ev[i] */
    corio_queue *q[2];     /* PP_QUEUE: side i gets from q[i] */
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

/* An Event hand-off: wait for one's own event, clear it, set the other
 * side's (which wakes it). No object is made per hand-off. */
static int pp_event_side(void *arg, void **result)
{
    struct pp_side *me = arg;
    struct pp_state *s = me->s;
    int i = me->i, rc;

    *result = NULL;
    for (;;) {
        if ((rc = corio_event_wait(s->ev[i])) != 0)
            return rc;
        corio_event_clear(s->ev[i]);
        if (s->count >= s->n) /* wake the other side to see it too */
            return corio_event_set(s->ev[1 - i]);
        s->count++;
        if ((rc = corio_event_set(s->ev[1 - i])) != 0)
            return rc;
    }
}

/* A Queue hand-off: get from one's own queue, put into the other side's
 * (which wakes its waiting get). */
static int pp_queue_side(void *arg, void **result)
{
    struct pp_side *me = arg;
    struct pp_state *s = me->s;
    int i = me->i, rc;
    void *v;

    *result = NULL;
    for (;;) {
        if ((rc = corio_queue_get(s->q[i], &v)) != 0 || v == STOP)
            return rc;
        if (s->count >= s->n)
            return corio_queue_put(s->q[1 - i], STOP);
        s->count++;
        if ((rc = corio_queue_put(s->q[1 - i], GO)) != 0)
            return rc;
    }
}

static int pp_driver(void *arg, void **result)
{
    static const corio_coro_fn sides[] = {pp_side, pp_event_side,
                                          pp_queue_side};
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
        rc = corio_spawn(sides[s->kind], &side[i], &s->opts, &t[i]);
    if (rc == 0 && s->kind == PP_FUTURE)
        rc = corio_future_set_result(s->slot[0], GO);
    else if (rc == 0 && s->kind == PP_EVENT)
        rc = corio_event_set(s->ev[0]);
    else if (rc == 0)
        rc = corio_queue_put(s->q[0], GO);
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

static void pp_teardown(void *state);

static int pp_setup_with(void **state, const bench_opts *opts,
                         unsigned flags, int kind)
{
    struct pp_state *s = calloc(1, sizeof *s);
    int rc = 0;
    if (!s)
        return -ENOMEM;
    if ((rc = corio_loop_new(NULL, &s->loop)) != 0) {
        free(s);
        return rc;
    }
    s->opts.name = "ping-pong";
    s->opts.flags = flags;
    s->kind = kind;
    s->n = LB_PINGPONG_HANDOFFS(opts->quick);
    for (int i = 0; i < 2 && rc == 0; i++) {
        if (kind == PP_EVENT)
            rc = corio_event_new(&s->ev[i]);
        else if (kind == PP_QUEUE)
            rc = corio_queue_new(CORIO_QUEUE_FIFO, 0, &s->q[i]);
    }
    if (rc) {
        pp_teardown(s);
        return rc;
    }
    *state = s;
    return 0;
}

static int pp_setup(void **state, const bench_opts *opts, const char **why)
{
    (void)why;
    return pp_setup_with(state, opts, 0, PP_FUTURE);
}

static int pp_setup_event(void **state, const bench_opts *opts,
                          const char **why)
{
    (void)why;
    return pp_setup_with(state, opts, 0, PP_EVENT);
}

static int pp_setup_queue(void **state, const bench_opts *opts,
                          const char **why)
{
    (void)why;
    return pp_setup_with(state, opts, 0, PP_QUEUE);
}

static int pp_setup_lean(void **state, const bench_opts *opts,
                         const char **why)
{
    (void)why;
    return pp_setup_with(state, opts, CORIO_CORO_LEAN, PP_FUTURE);
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
    for (int i = 0; i < 2; i++) {
        corio_event_free(s->ev[i]);
        corio_queue_free(s->q[i]);
    }
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

enum { ROW_CORIO, ROW_LEAN, ROW_EVENT, ROW_QUEUE, ROW_UV_IDLE, ROW_UV_ASYNC,
       ROW_PY, NROWS };

static const lb_row rows[NROWS] = {
    [ROW_CORIO] = {"corio (default stacks)", pp_setup, pp_sample,
                   pp_teardown, 0, NULL},
    [ROW_LEAN] = {"corio lean (one shared stack)", pp_setup_lean, pp_sample,
                  pp_teardown, 0, NULL},
    [ROW_EVENT] = {"corio Event (set, wait; no future)", pp_setup_event,
                   pp_sample, pp_teardown, 0, NULL},
    [ROW_QUEUE] = {"corio Queue (put to a waiting get)", pp_setup_queue,
                   pp_sample, pp_teardown, 0, NULL},
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
           "  The Event and Queue rows hand off the same way through two "
           "events\n"
           "  (wait, clear, set the other's) and two queues (get, put to "
           "the other's).\n"
           "  libuv has no futures: uv_idle_t: each callback stops its "
           "handle and\n"
           "  starts the other's (run next iteration); uv_async_t: each "
           "callback\n"
           "  sends to the other (eventfd write + poll + read; %s "
           "hand-offs).\n"
           "  vs libuv: against the uv_idle_t row. libuv and asyncio poll "
           "for I/O\n"
           "  (timeout 0) once per hand-off; corio switches straight to the "
           "woken task\n"
           "  and polls once every 61 hand-offs (the direct hand-off).\n"
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
