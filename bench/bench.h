/*
 * bench.h: corio's benchmark harness: a registry of suites, and a table
 * runner that times rows fairly.
 *
 * A suite is one table (bench/suites.h lists them). Its rows are things to
 * time; each row says how to set itself up, how to run n iterations, and
 * which row its ratio is taken against. bench_table_run() does the rest:
 *
 *   - set every row up (a row may decline: it prints "n/a (reason)");
 *   - calibrate: find, per row, the n that takes about opts->sample_sec;
 *     this also serves as the warm-up;
 *   - time opts->samples samples per row, round-robin over the rows, so
 *     that machine noise (frequency changes, a noisy neighbour) lands on
 *     all rows alike rather than on whichever row ran during it;
 *   - report the median sample of each row, its spread, and its ratio.
 *
 * Times come from clock_gettime(CLOCK_MONOTONIC), read once before and once
 * after each sample; at ~0.2 s per sample the clock's own cost vanishes.
 * Nothing is pinned to a CPU: the numbers are what a program gets.
 *
 * Limits: one thread; the rows' run functions must not fail midway through
 * a sample except on a real bug (the failure is reported and the table
 * marked failed).
 */
#ifndef CORIO_BENCH_H
#define CORIO_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* How a run was asked for (command line and environment). */
typedef struct bench_opts {
    int quick;          /* smoke test: tiny counts, results meaningless */
    int samples;        /* timed samples per row */
    double sample_sec;  /* target duration of one sample */
} bench_opts;

/* One row of a table. state is the row's own, made by setup. */
typedef struct bench_row {
    const char *name;
    /* Prepare to run. Returns 0 with *state set; or BENCH_NA with *why set
     * to a static reason the row cannot run here (the row prints "n/a");
     * or a negative errno (a failure: the table fails). NULL: no setup. */
    int (*setup)(void **state, const char **why);
    /* Perform n iterations. Returns 0 or a negative errno. */
    int (*run)(void *state, uint64_t n);
    /* Release the state. Called only after a successful setup. */
    void (*teardown)(void *state);
    /* Index of the row this row's ratio is taken against; a row that is
     * its own baseline shows 1.00x; -1 shows no ratio. */
    int baseline;
} bench_row;

#define BENCH_NA 1

/* A table: rows plus how to label the numbers. */
typedef struct bench_table {
    const char *title;
    const char *unit;      /* what one iteration is: "ns/round-trip" */
    const char *sub_unit;  /* a derived column ("ns/switch"), or NULL */
    double sub_per_iter;   /* how many sub-units one iteration holds */
    const bench_row *rows;
    int nrows;
} bench_table;

/* Run, time and print a table. Returns 0, or -1 if any row failed. */
int bench_table_run(const bench_table *t, const bench_opts *opts);

/* A suite: one table's worth of benchmarks. run prints its own table (and
 * any notes) and returns 0, or -1 on failure. */
typedef struct bench_suite {
    const char *name;     /* for --suite NAME */
    const char *summary;  /* one line, for --list */
    int (*run)(const bench_opts *opts);
} bench_suite;

/* Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);

/* An anonymous private mapping of `size` bytes (a coroutine stack for the
 * hand-made contexts), or NULL. Freed with bench_stack_free. */
void *bench_stack_alloc(size_t size);
void bench_stack_free(void *lo, size_t size);

#endif /* CORIO_BENCH_H */
