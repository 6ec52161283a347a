/*
 * bench_spawn.c: the spawn + join suite: what a short-lived task costs
 * from spawn to joined and released.
 *
 * Workload (every row): 1,000,000 trivial tasks in batches of 10,000:
 * spawn 10,000, join each, release the handles, repeat. The figure is
 * wall time per task, with the process's CPU time per task beside it (a
 * busy machine inflates the first, hardly the second). The corio rows run on one loop kept across samples
 * (as a program's loop would be): a driver task does the batches and
 * stops the loop. Task objects and stacks are recycled by corio, so after
 * the warm-up sample a spawn should make no system call and allocate
 * nothing.
 *
 * Rows: corio with default options (opts NULL: its own 64 KiB stack per
 * task, an automatic "task-N" name); the same with opts.name given, which
 * skips formatting that name (to show what it costs); corio lean
 * (CORIO_CORO_LEAN: the shared stacks); libuv (a uv_idle_t callback per task: see bench_libuv.c) and
 * asyncio (create_task + gather per batch; bench/py/loop_bench.py).
 */
#include "loopbench.h"
#include "suites.h"
#include "uvrows.h"

#include <corio/task.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct spawn_state {
    corio_loop *loop;
    corio_task_opts opts;
    const corio_task_opts *popts; /* NULL: corio's defaults (opts NULL) */
    corio_task **h;
    size_t ntasks;
    int rc;
};

static int trivial(void *arg, void **result)
{
    (void)arg;
    *result = NULL;
    return 0;
}

static int spawn_driver(void *arg, void **result)
{
    struct spawn_state *s = arg;
    int rc = 0;
    for (size_t done = 0; done < s->ntasks && rc == 0;) {
        size_t b = s->ntasks - done < LB_SPAWN_BATCH ? s->ntasks - done
                                                      : LB_SPAWN_BATCH;
        size_t spawned = 0;
        for (; spawned < b; spawned++)
            if ((rc = corio_spawn(trivial, NULL, s->popts, &s->h[spawned])))
                break;
        for (size_t i = 0; i < spawned; i++) {
            int jr = corio_task_join(s->h[i], NULL);
            if (jr && !rc)
                rc = jr;
            corio_task_release(s->h[i]);
        }
        done += b;
    }
    s->rc = rc;
    corio_loop_stop(s->loop);
    *result = NULL;
    return 0;
}

/* flags: CORIO_CORO_LEAN or 0; name: opts.name, or NULL for corio's
 * automatic "task-N". Both 0/NULL: the tasks are spawned with opts NULL. */
static int spawn_setup_with(void **state, const bench_opts *opts,
                            unsigned flags, const char *name)
{
    struct spawn_state *s = calloc(1, sizeof *s);
    int rc;
    if (!s)
        return -ENOMEM;
    s->h = calloc(LB_SPAWN_BATCH, sizeof *s->h);
    if (!s->h) {
        free(s);
        return -ENOMEM;
    }
    if ((rc = corio_loop_new(NULL, &s->loop)) != 0) {
        free(s->h);
        free(s);
        return rc;
    }
    s->opts.flags = flags;
    s->opts.name = name;
    s->popts = flags || name ? &s->opts : NULL;
    s->ntasks = LB_SPAWN_TASKS(opts->quick);
    *state = s;
    return 0;
}

static int spawn_setup(void **state, const bench_opts *opts, const char **why)
{
    (void)why;
    return spawn_setup_with(state, opts, 0, NULL);
}

static int spawn_setup_named(void **state, const bench_opts *opts,
                             const char **why)
{
    (void)why;
    return spawn_setup_with(state, opts, 0, "trivial");
}

static int spawn_setup_lean(void **state, const bench_opts *opts,
                            const char **why)
{
    (void)why;
    return spawn_setup_with(state, opts, CORIO_CORO_LEAN, NULL);
}

static int spawn_sample(void *state, lb_sample *ns_per_task, const char **why)
{
    struct spawn_state *s = state;
    static const corio_task_opts driver = {"spawn driver", 0, 0};
    uint64_t c0 = lb_cpu_ns(), t0 = bench_now_ns();
    int rc;
    (void)why;
    s->rc = -EPROTO;
    rc = corio_loop_spawn(s->loop, spawn_driver, s, &driver, NULL);
    if (rc == 0)
        rc = corio_loop_run(s->loop);
    ns_per_task->value = (double)(bench_now_ns() - t0) / (double)s->ntasks;
    ns_per_task->cpu = (double)(lb_cpu_ns() - c0) / (double)s->ntasks;
    return rc ? rc : s->rc;
}

static void spawn_teardown(void *state)
{
    struct spawn_state *s = state;
    corio_loop_free(s->loop);
    free(s->h);
    free(s);
}

/* ---- asyncio ----------------------------------------------------------- */

/* Python is ~10 us a task: its row runs a fifth of the workload, once. */
#define PY_SPAWN_TASKS(quick) ((quick) ? 20000 : 200000)

static int py_setup(void **state, const bench_opts *opts, const char **why)
{
    *state = (void *)opts; /* outlives the table */
    return lb_python_setup(why);
}

static int py_sample(void *state, lb_sample *ns_per_task, const char **why)
{
    char out[512], n[32], b[32];
    const bench_opts *opts = state;
    snprintf(n, sizeof n, "%d", PY_SPAWN_TASKS(opts->quick));
    snprintf(b, sizeof b, "%d", LB_SPAWN_BATCH);
    const char *args[] = {"spawn", n, b, NULL};
    int rc = lb_python_run(args, 120, out, sizeof out, why);
    if (rc)
        return rc;
    if (lb_field(out, "cpu_ns_per_task", &ns_per_task->cpu))
        ns_per_task->cpu = -1;
    return lb_field(out, "ns_per_task", &ns_per_task->value) ? -EPROTO : 0;
}

/* ---- the table --------------------------------------------------------- */

enum { ROW_CORIO, ROW_NAMED, ROW_LEAN, ROW_UV, ROW_PY, NROWS };

static const lb_row rows[NROWS] = {
    [ROW_CORIO] = {"corio (default stacks)", spawn_setup, spawn_sample,
                   spawn_teardown, 0, NULL},
    [ROW_NAMED] = {"corio, opts.name given", spawn_setup_named,
                   spawn_sample, spawn_teardown, 0, NULL},
    [ROW_LEAN] = {"corio lean (CORIO_CORO_LEAN)", spawn_setup_lean,
                  spawn_sample, spawn_teardown, 0, NULL},
    [ROW_UV] = {"libuv (uv_idle_t callback per task)", bench_uv_spawn_setup,
                bench_uv_spawn_sample, bench_uv_spawn_teardown, 0, NULL},
    [ROW_PY] = {"Python asyncio (create_task + gather)", py_setup, py_sample,
                NULL, 1, NULL},
};

static int spawn_run(const bench_opts *opts)
{
    char title[128];
    lb_result res[NROWS];
    snprintf(title, sizeof title,
             "Spawn + join: %s trivial tasks, batches of %s",
             lb_commas(LB_SPAWN_TASKS(opts->quick)),
             lb_commas(LB_SPAWN_BATCH));
    lb_table table = {title, "ns/task", 1, rows, NROWS,
                      {{"vs libuv", ROW_UV}, {"vs asyncio", ROW_PY}},
                      "CPU ns"};
    int rc = lb_table_run(&table, opts, res);
    printf("\n"
           "  Each batch: spawn 10,000 tasks, join each, release the "
           "handles.\n"
           "  CPU ns: the process's CPU time (getrusage) over the same "
           "span.\n"
           "  corio: one loop for all samples, a driver task doing the "
           "batches;\n"
           "  default options (opts NULL) name each task \"task-N\" with "
           "snprintf,\n"
           "  which the opts.name row skips.\n"
           "  libuv: per task uv_idle_init + uv_idle_start, a callback that "
           "counts\n"
           "  and stops, uv_close; no stack, no result: the floor for a C "
           "loop.\n"
           "  asyncio: %s tasks (a fifth of the workload), one sample.\n"
           "\n"
           "  Earlier figures, for context only (not measured by this run):\n"
           "    Tokio 1.24 current_thread 181 ns/task; Go 1.19 GOMAXPROCS=1 "
           "1,560 ns;\n"
           "    asyncio 8,064 ns; hand-written C asm spawn, pooled stacks "
           "91 ns.\n",
           lb_commas(PY_SPAWN_TASKS(opts->quick)));
    if (opts->quick)
        return rc;
    lb_target_below("corio (default stacks)", &res[ROW_CORIO], 150,
                    "ns/task");
    lb_target_below("corio lean", &res[ROW_LEAN], 150, "ns/task");
    return rc;
}

const bench_suite bench_suite_spawn = {
    "spawn",
    "spawn + join 1,000,000 trivial tasks vs libuv and asyncio",
    spawn_run,
};
