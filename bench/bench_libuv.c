/*
 * bench_libuv.c: the libuv rows of the event-loop suites (uvrows.h). Built
 * only when libuv was found at configure time (bench_libuv_none.c makes
 * them n/a otherwise).
 *
 * libuv has callbacks, not tasks, so each row is the closest thing to the
 * corio workload beside it, and says what it measures:
 *
 *   spawn + join   a uv_idle_t per "task", from an array reused by every
 *                  batch: uv_idle_init + uv_idle_start; its callback counts
 *                  itself and stops; the batch is "joined" once all have
 *                  run (uv_run UV_RUN_NOWAIT until the count is reached)
 *                  and "released" with uv_close. No stack, no coroutine,
 *                  no result: the floor of scheduling a callback in a C
 *                  event loop.
 *   ping-pong      (idle) two uv_idle_t: each callback stops its own handle
 *                  and starts the other's, which runs in the next loop
 *                  iteration (libuv runs the idle handles that were active
 *                  when the phase began). One hand-off per iteration.
 *                  (async) two uv_async_t: each callback uv_async_send()s
 *                  the other: the cross-thread wake-up path used on one
 *                  thread (an eventfd write, then the poll reports it and
 *                  the loop reads it).
 *   timers         uv_timer_t with the same delays, rounded down to libuv's
 *                  whole milliseconds: uv_timer_init + uv_timer_start each,
 *                  then uv_run until the last fires; CPU time (getrusage)
 *                  over both. uv_close of the handles comes after, not
 *                  measured (corio's handles free themselves as they fire).
 *   sleepers       one uv_timer_t per sleeper, in one array: what a
 *                  sleeping callback costs with no task state at all.
 */
#include "loopbench.h"
#include "uvrows.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

const int bench_have_libuv = 1;

/* uv_close every handle of the loop and let the closes finish. */
static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void loop_close(uv_loop_t *loop)
{
    uv_walk(loop, close_walk, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
}

/* ---- spawn + join ------------------------------------------------------ */

struct uv_spawn {
    uv_loop_t loop;
    uv_idle_t *h;
    size_t ntasks;
    size_t fired;
};

static void spawn_idle_cb(uv_idle_t *h)
{
    struct uv_spawn *s = h->data;
    uv_idle_stop(h);
    s->fired++;
}

int bench_uv_spawn_setup(void **state, const bench_opts *opts,
                         const char **why)
{
    struct uv_spawn *s = calloc(1, sizeof *s);
    (void)why;
    if (!s)
        return -ENOMEM;
    s->h = calloc(LB_SPAWN_BATCH, sizeof *s->h);
    if (!s->h || uv_loop_init(&s->loop) != 0) {
        free(s->h);
        free(s);
        return -ENOMEM;
    }
    s->ntasks = LB_SPAWN_TASKS(opts->quick);
    *state = s;
    return 0;
}

int bench_uv_spawn_sample(void *state, lb_sample *ns_per_task,
                          const char **why)
{
    struct uv_spawn *s = state;
    uint64_t c0 = lb_cpu_ns(), t0 = bench_now_ns();
    (void)why;
    for (size_t done = 0; done < s->ntasks;) {
        size_t b = s->ntasks - done < LB_SPAWN_BATCH ? s->ntasks - done
                                                      : LB_SPAWN_BATCH;
        s->fired = 0;
        for (size_t i = 0; i < b; i++) {
            uv_idle_init(&s->loop, &s->h[i]);
            s->h[i].data = s;
            uv_idle_start(&s->h[i], spawn_idle_cb);
        }
        while (s->fired < b)
            uv_run(&s->loop, UV_RUN_NOWAIT);
        for (size_t i = 0; i < b; i++)
            uv_close((uv_handle_t *)&s->h[i], NULL);
        uv_run(&s->loop, UV_RUN_NOWAIT); /* the closes complete */
        done += b;
    }
    ns_per_task->value = (double)(bench_now_ns() - t0) / (double)s->ntasks;
    ns_per_task->cpu = (double)(lb_cpu_ns() - c0) / (double)s->ntasks;
    return 0;
}

void bench_uv_spawn_teardown(void *state)
{
    struct uv_spawn *s = state;
    loop_close(&s->loop);
    free(s->h);
    free(s);
}

/* ---- ping-pong: idle handles ------------------------------------------- */

struct uv_pp {
    uv_loop_t loop;
    uv_idle_t idle[2];
    uv_async_t async[2];
    uint64_t n, count;
};

static void pp_idle_cb(uv_idle_t *h)
{
    struct uv_pp *s = h->data;
    uv_idle_stop(h);
    if (++s->count < s->n)
        uv_idle_start(&s->idle[h == &s->idle[0]], pp_idle_cb);
}

int bench_uv_idle_pp_setup(void **state, const bench_opts *opts,
                           const char **why)
{
    struct uv_pp *s = calloc(1, sizeof *s);
    (void)why;
    if (!s || uv_loop_init(&s->loop) != 0) {
        free(s);
        return -ENOMEM;
    }
    for (int i = 0; i < 2; i++) {
        uv_idle_init(&s->loop, &s->idle[i]);
        s->idle[i].data = s;
    }
    s->n = LB_PINGPONG_HANDOFFS(opts->quick);
    *state = s;
    return 0;
}

int bench_uv_idle_pp_sample(void *state, lb_sample *ns_per_handoff,
                            const char **why)
{
    struct uv_pp *s = state;
    uint64_t c0 = lb_cpu_ns(), t0 = bench_now_ns();
    (void)why;
    s->count = 0;
    uv_idle_start(&s->idle[0], pp_idle_cb);
    uv_run(&s->loop, UV_RUN_DEFAULT); /* returns when both are stopped */
    ns_per_handoff->value = (double)(bench_now_ns() - t0) / (double)s->n;
    ns_per_handoff->cpu = (double)(lb_cpu_ns() - c0) / (double)s->n;
    return s->count == s->n ? 0 : -EPROTO;
}

void bench_uv_idle_pp_teardown(void *state)
{
    struct uv_pp *s = state;
    loop_close(&s->loop);
    free(s);
}

/* ---- ping-pong: async handles ------------------------------------------ */

static void pp_async_cb(uv_async_t *a)
{
    struct uv_pp *s = a->data;
    if (++s->count < s->n)
        uv_async_send(&s->async[a == &s->async[0]]);
    else
        uv_stop(&s->loop);
}

int bench_uv_async_pp_setup(void **state, const bench_opts *opts,
                            const char **why)
{
    struct uv_pp *s = calloc(1, sizeof *s);
    (void)why;
    if (!s || uv_loop_init(&s->loop) != 0) {
        free(s);
        return -ENOMEM;
    }
    for (int i = 0; i < 2; i++) {
        uv_async_init(&s->loop, &s->async[i], pp_async_cb);
        s->async[i].data = s;
    }
    /* A syscall or three per hand-off: a tenth of the corio count. */
    s->n = LB_PINGPONG_HANDOFFS(opts->quick) / 10;
    *state = s;
    return 0;
}

int bench_uv_async_pp_sample(void *state, lb_sample *ns_per_handoff,
                             const char **why)
{
    struct uv_pp *s = state;
    uint64_t c0 = lb_cpu_ns(), t0 = bench_now_ns();
    (void)why;
    s->count = 0;
    uv_async_send(&s->async[0]);
    uv_run(&s->loop, UV_RUN_DEFAULT); /* until uv_stop */
    ns_per_handoff->value = (double)(bench_now_ns() - t0) / (double)s->n;
    ns_per_handoff->cpu = (double)(lb_cpu_ns() - c0) / (double)s->n;
    return s->count == s->n ? 0 : -EPROTO;
}

void bench_uv_async_pp_teardown(void *state)
{
    bench_uv_idle_pp_teardown(state);
}

/* ---- timers ------------------------------------------------------------ */

struct uv_timers {
    uv_loop_t loop;
    uv_timer_t *t;
    uint64_t *ms;
    size_t n, fired;
};

static void timers_cb(uv_timer_t *t)
{
    struct uv_timers *s = t->data;
    s->fired++;
}

int bench_uv_timers_setup(void **state, const bench_opts *opts,
                          const char **why)
{
    struct uv_timers *s = calloc(1, sizeof *s);
    uint64_t seed = LB_TIMER_SEED;
    (void)why;
    if (!s)
        return -ENOMEM;
    s->n = LB_TIMERS(opts->quick);
    s->t = calloc(s->n, sizeof *s->t);
    s->ms = calloc(s->n, sizeof *s->ms);
    if (!s->t || !s->ms || uv_loop_init(&s->loop) != 0) {
        free(s->t);
        free(s->ms);
        free(s);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++)
        s->ms[i] = (uint64_t)(lb_uniform(&seed) *
                              LB_TIMER_SPREAD_SEC(opts->quick) * 1000.0);
    *state = s;
    return 0;
}

int bench_uv_timers_sample(void *state, lb_sample *cpu_ns_per_timer,
                           const char **why)
{
    struct uv_timers *s = state;
    uint64_t c0, c1;
    (void)why;
    s->fired = 0;
    uv_update_time(&s->loop);
    c0 = lb_cpu_ns();
    for (size_t i = 0; i < s->n; i++) {
        uv_timer_init(&s->loop, &s->t[i]);
        s->t[i].data = s;
        uv_timer_start(&s->t[i], timers_cb, s->ms[i], 0);
    }
    uv_run(&s->loop, UV_RUN_DEFAULT); /* until no timer is left */
    c1 = lb_cpu_ns();
    for (size_t i = 0; i < s->n; i++)
        uv_close((uv_handle_t *)&s->t[i], NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    cpu_ns_per_timer->value = (double)(c1 - c0) / (double)s->n;
    return s->fired == s->n ? 0 : -EPROTO;
}

void bench_uv_timers_teardown(void *state)
{
    struct uv_timers *s = state;
    loop_close(&s->loop);
    free(s->t);
    free(s->ms);
    free(s);
}

/* ---- sleepers child ---------------------------------------------------- */

struct uv_sleepers {
    size_t n, fired;
};

static void sleepers_cb(uv_timer_t *t)
{
    struct uv_sleepers *s = t->data;
    s->fired++;
}

int bench_uv_sleepers_child(size_t n, double secs)
{
    struct uv_sleepers s = {n, 0};
    uv_loop_t loop;
    uv_timer_t *t;
    uint64_t before, after;
    size_t vmas;

    if (uv_loop_init(&loop) != 0)
        return 1;
    before = lb_status_bytes("VmHWM");
    t = malloc(n * sizeof *t);
    if (!t) {
        fprintf(stderr, "libuv sleepers: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        uv_timer_init(&loop, &t[i]);
        t[i].data = &s;
        uv_timer_start(&t[i], sleepers_cb, (uint64_t)(secs * 1000), 0);
    }
    vmas = lb_map_count();
    uv_run(&loop, UV_RUN_DEFAULT);
    after = lb_status_bytes("VmHWM");
    for (size_t i = 0; i < n; i++)
        uv_close((uv_handle_t *)&t[i], NULL);
    loop_close(&loop);
    free(t);
    if (s.fired != n) {
        fprintf(stderr, "libuv sleepers: %zu of %zu fired\n", s.fired, n);
        return 1;
    }
    /* All were armed before the loop ran: asleep at once by construction. */
    bench_sleepers_report(n, before, after, vmas, 1);
    return 0;
}
