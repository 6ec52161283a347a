/*
 * loopbench.h: what the event-loop suites share (bench_spawn.c,
 * bench_sleepers.c, bench_pingpong.c, bench_timers.c, and their libuv
 * rows in bench_libuv.c): a table of fixed workloads, the Python and
 * child-process runners, and small measuring helpers.
 *
 * Why not bench_table_run. Those tables time n iterations of a row with
 * the wall clock and choose n themselves. The loop suites fix the
 * workload (a million tasks in batches of 10,000, a million timers), some
 * figures are not wall time at all (CPU time, bytes of peak RSS), and some
 * rows are other programs (a Python script) that run once. So here each
 * row runs its whole workload per sample and reports its own figure; the
 * table runs one untimed warm-up sample per row, then the samples
 * round-robin over the rows as bench_table_run does, and prints medians,
 * spreads and ratios against up to two reference rows.
 *
 * Rows that are other programs print their result on one line of stdout:
 *     result key=value key=value ...
 * and lb_field reads a value from it.
 */
#ifndef CORIO_BENCH_LOOPBENCH_H
#define CORIO_BENCH_LOOPBENCH_H

#include "bench.h"

#include <stddef.h>
#include <stdint.h>

/* What one sample measured, per unit of work (a task, a hand-off...). */
typedef struct lb_sample {
    double value; /* the row's figure */
    double cpu;   /* CPU ns per unit over the same span; < 0: not taken */
} lb_sample;

/* One row: a workload and how to measure it. */
typedef struct lb_row {
    const char *name;
    /* Prepare. *state starts as `arg` (below). 0 with *state set,
     * BENCH_NA with *why set (the row prints "n/a (why)"), or a negative
     * errno (the table fails). NULL: none, the state is `arg`. */
    int (*setup)(void **state, const bench_opts *opts, const char **why);
    /* Run the whole workload once and store what it measured (out->cpu
     * starts at -1). 0, BENCH_NA with *why set (e.g. the machine ran out
     * of memory), or a negative errno. */
    int (*sample)(void *state, lb_sample *out, const char **why);
    /* Release the state; called only after a successful setup. */
    void (*teardown)(void *state);
    /* 0: opts->samples timed samples after one untimed warm-up. N > 0: at
     * most N samples and no warm-up (a slow row, another program, or a
     * row that starts fresh each time anyway). */
    int samples;
    /* The initial state: lets one set of functions serve many rows. */
    void *arg;
} lb_row;

/* A ratio column: each figure divided by row `row`'s. */
typedef struct lb_ref {
    const char *label; /* column heading, "vs libuv"; NULL: no column */
    int row;
} lb_ref;

typedef struct lb_table {
    const char *title;
    const char *unit;  /* what a figure is: "ns/task" */
    int decimals;      /* for the figures */
    const lb_row *rows;
    int nrows;
    lb_ref refs[2];
    /* Heading of a column with the median CPU time per unit (lb_sample
     * .cpu), which a busy machine inflates far less than wall time; NULL:
     * no such column. */
    const char *cpu_label;
} lb_table;

/* What a row came to, for the suites' target lines. */
typedef struct lb_result {
    int ok;        /* the row ran and has a median */
    double median;
    double cpu;    /* median CPU ns per unit, or < 0 */
} lb_result;

/* Run and print a table; results[i] (if results is not NULL) gets row i's
 * outcome. Returns 0, or -1 if any row failed. */
int lb_table_run(const lb_table *t, const bench_opts *opts,
                 lb_result *results);

/* Print "  target: <what> below <limit> <unit>: <value> (met|MISSED)" for
 * a figure that should stay below `limit`, with the CPU time beside it
 * when there is one; nothing if the row did not run. */
void lb_target_below(const char *what, const lb_result *r, double limit,
                     const char *unit);

/* ---- workloads --------------------------------------------------------- */

/* Every row of a suite, C or Python, runs the same workload (the Python
 * rows may run fewer repetitions of it where noted). */
#define LB_SPAWN_TASKS(quick) ((quick) ? 20000 : 1000000)
#define LB_SPAWN_BATCH 10000
#define LB_SLEEP_SEC(quick) ((quick) ? 0.05 : 2.0)
#define LB_PINGPONG_HANDOFFS(quick) ((quick) ? 10000 : 1000000)
#define LB_TIMERS(quick) ((quick) ? 10000 : 1000000)
#define LB_TIMER_SPREAD_SEC(quick) ((quick) ? 0.02 : 1.0)
#define LB_TIMER_SEED 20240601u

/* ---- other programs ---------------------------------------------------- */

/*
 * lb_run_capture: run argv (argv[0] searched in PATH unless it holds a
 * '/'), its stdout captured into buf (NUL-terminated, truncated to cap),
 * its stderr passed through, for at most timeout_sec. Returns 0 with
 * *status as from waitpid, -ETIMEDOUT (the child was killed), or a
 * negative errno when it could not be started.
 */
int lb_run_capture(char *const argv[], double timeout_sec, char *buf,
                   size_t cap, int *status);

/*
 * lb_run_result: lb_run_capture, then judge the outcome: 0 when the
 * program exited 0 and printed a "result" line (found in buf); BENCH_NA
 * with *why set when it was killed by SIGKILL (the OOM killer, most
 * likely); otherwise a negative errno after printing what went wrong to
 * stderr, prefixed with `who`.
 */
int lb_run_result(const char *who, char *const argv[], double timeout_sec,
                  char *buf, size_t cap, const char **why);

/* lb_field: the number after " key=" on the "result" line of out. 0, or
 * -ENOENT. */
int lb_field(const char *out, const char *key, double *value);

/* ---- Python ------------------------------------------------------------ */

/*
 * lb_python_setup: check that python3 is in PATH and the suites' script
 * (bench/py/loop_bench.py, its path built in) exists. 0, or BENCH_NA with
 * *why set.
 */
int lb_python_setup(const char **why);

/* lb_python_run: run the script with `args` (NULL-terminated: the
 * subcommand and its parameters) as lb_run_result does. */
int lb_python_run(const char *const args[], double timeout_sec, char *buf,
                  size_t cap, const char **why);

/* ---- this program as a child ------------------------------------------- */

/*
 * lb_self_run: run this very program (/proc/self/exe) as
 *     corio_bench --child <args...>
 * in a fresh process (fork + exec: nothing cached by earlier suites comes
 * along), as lb_run_result does.
 */
int lb_self_run(const char *const args[], double timeout_sec, char *buf,
                size_t cap, const char **why);

/* The --child entry point (main.c): argv[0] names the job. Returns the
 * process exit status. */
int lb_child_main(int argc, char **argv);

/* The jobs: "sleepers" (bench_sleepers.c). argv[0] is the job's name. */
int bench_sleepers_child(int argc, char **argv);
/* A sleepers job's "result" line: n sleepers, peak RSS before and after,
 * the VMA count while all slept, whether they all slept at once. */
void bench_sleepers_report(size_t n, uint64_t hwm_before, uint64_t hwm_after,
                           size_t vmas, int at_once);

/* ---- measuring --------------------------------------------------------- */

/* CPU time of this process (user + system, getrusage) in nanoseconds. */
uint64_t lb_cpu_ns(void);

/* A "kB" line of /proc/self/status ("VmHWM", "VmRSS") in bytes, or 0. */
uint64_t lb_status_bytes(const char *field);

/* MemAvailable from /proc/meminfo in bytes, or 0 if unknown. */
uint64_t lb_mem_available(void);

/* n with thousands separators ("1,000,000"), in one of a few static
 * buffers used in turn (so a printf may hold several). */
const char *lb_commas(uint64_t n);

/* Number of mappings (VMAs) of this process: lines of /proc/self/maps. */
size_t lb_map_count(void);

/* splitmix64: the suites' RNG, the same in loop_bench.py. */
static inline uint64_t lb_splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A uniform double in [0, 1) from 53 bits of the next value. */
static inline double lb_uniform(uint64_t *s)
{
    return (double)(lb_splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

#endif /* CORIO_BENCH_LOOPBENCH_H */
