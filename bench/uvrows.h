/*
 * uvrows.h: the libuv rows of the event-loop suites: bench_libuv.c when
 * libuv was found at configure time, bench_libuv_none.c (always n/a)
 * otherwise. What each row measures is written beside its code in
 * bench_libuv.c and in the footers of the suites.
 */
#ifndef CORIO_BENCH_UVROWS_H
#define CORIO_BENCH_UVROWS_H

#include "loopbench.h"

#include <stddef.h>

/* spawn + join: a uv_idle_t per "task" (bench_spawn.c's workload). */
int bench_uv_spawn_setup(void **state, const bench_opts *opts,
                         const char **why);
int bench_uv_spawn_sample(void *state, lb_sample *ns_per_task,
                          const char **why);
void bench_uv_spawn_teardown(void *state);

/* ping-pong: two uv_idle_t handles starting each other. */
int bench_uv_idle_pp_setup(void **state, const bench_opts *opts,
                           const char **why);
int bench_uv_idle_pp_sample(void *state, lb_sample *ns_per_handoff,
                            const char **why);
void bench_uv_idle_pp_teardown(void *state);

/* ping-pong: two uv_async_t handles sending to each other. */
int bench_uv_async_pp_setup(void **state, const bench_opts *opts,
                            const char **why);
int bench_uv_async_pp_sample(void *state, lb_sample *ns_per_handoff,
                             const char **why);
void bench_uv_async_pp_teardown(void *state);

/* timers: uv_timer_t with the timers suite's deadlines; CPU ns/timer. */
int bench_uv_timers_setup(void **state, const bench_opts *opts,
                          const char **why);
int bench_uv_timers_sample(void *state, lb_sample *cpu_ns_per_timer,
                           const char **why);
void bench_uv_timers_teardown(void *state);

/* The sleepers child's libuv job: n uv_timer_t armed for `secs` at once;
 * prints the "result" line as bench_sleepers.c's corio jobs do. Returns
 * the exit status. */
int bench_uv_sleepers_child(size_t n, double secs);

/* 1 when the libuv rows are real. */
extern const int bench_have_libuv;

#endif /* CORIO_BENCH_UVROWS_H */
