/*
 * table.c: the table runner of bench.h (setup, calibration, round-robin
 * samples, medians, the printed table) and small shared helpers.
 *
 * Calibration grows n until one run takes at least an eighth of the target
 * sample time, then scales n to the target; the growing runs double as the
 * warm-up (caches, branch predictors, page faults on fresh stacks, the CPU
 * clocking up). In quick mode n is fixed and tiny: the point is only to run
 * every code path once.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

enum { ROW_OK, ROW_NA, ROW_FAILED };

#define QUICK_ITERS 200
#define CALIBRATE_START 64

struct row_result {
    int status;
    const char *why;  /* ROW_NA: the reason */
    int err;          /* ROW_FAILED: the error */
    void *state;
    int set_up;       /* setup succeeded: teardown is owed */
    uint64_t n;       /* iterations per sample */
    double *ns;       /* per-iteration ns of each sample */
    double median, lo, hi;
};

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void *bench_stack_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void bench_stack_free(void *lo, size_t size)
{
    if (lo)
        munmap(lo, size);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Time n iterations of row r; ns per iteration, or a negative errno. */
static double time_row(const bench_row *r, struct row_result *res,
                       uint64_t n, int *err)
{
    uint64_t t0 = bench_now_ns();
    int rc = r->run(res->state, n);
    uint64_t t1 = bench_now_ns();
    *err = rc;
    return (double)(t1 - t0) / (double)n;
}

static void fail_row(const bench_row *r, struct row_result *res, int err,
                     const char *when)
{
    res->status = ROW_FAILED;
    res->err = err;
    fprintf(stderr, "bench: row '%s' failed during %s: %s\n", r->name, when,
            strerror(err < 0 ? -err : err));
}

static void calibrate(const bench_row *r, struct row_result *res,
                      const bench_opts *opts)
{
    int err;
    if (opts->quick) {
        time_row(r, res, QUICK_ITERS, &err); /* one warm-up run */
        if (err)
            fail_row(r, res, err, "warm-up");
        res->n = QUICK_ITERS;
        return;
    }
    double target_ns = opts->sample_sec * 1e9;
    uint64_t n = CALIBRATE_START;
    for (;;) {
        double per = time_row(r, res, n, &err);
        if (err) {
            fail_row(r, res, err, "calibration");
            return;
        }
        double total = per * (double)n;
        if (total >= target_ns / 8 || n >= ((uint64_t)1 << 40)) {
            double want = target_ns / (per > 0 ? per : 1);
            res->n = want < 1 ? 1 : (uint64_t)want;
            return;
        }
        n *= total < target_ns / 256 ? 16 : 2;
    }
}

static void print_row(const bench_table *t, int w, const bench_row *r,
                      const struct row_result *res,
                      const struct row_result *all)
{
    printf("  %-*s", w, r->name);
    if (res->status == ROW_NA) {
        printf("  n/a (%s)\n", res->why);
        return;
    }
    if (res->status == ROW_FAILED) {
        printf("  FAILED (%s)\n", strerror(res->err < 0 ? -res->err : res->err));
        return;
    }
    printf("  %*.2f", (int)strlen(t->unit), res->median);
    if (t->sub_unit)
        printf("  %*.2f", (int)strlen(t->sub_unit),
               res->median / t->sub_per_iter);
    if (r->baseline >= 0 && all[r->baseline].status == ROW_OK &&
        all[r->baseline].median > 0)
        printf("  %6.2fx", res->median / all[r->baseline].median);
    else
        printf("  %7s", r->baseline >= 0 ? "n/a" : "-");
    double spread = res->median > 0
                        ? 50.0 * (res->hi - res->lo) / res->median
                        : 0.0;
    printf("  %5.1f%%\n", spread);
}

int bench_table_run(const bench_table *t, const bench_opts *opts)
{
    struct row_result *res = calloc((size_t)t->nrows, sizeof *res);
    if (!res)
        return -1;
    int samples = opts->samples > 0 ? opts->samples : 1;
    int failed = 0;

    for (int i = 0; i < t->nrows; i++) {
        const bench_row *r = &t->rows[i];
        int rc = r->setup ? r->setup(&res[i].state, &res[i].why) : 0;
        if (rc == BENCH_NA) {
            res[i].status = ROW_NA;
        } else if (rc < 0) {
            fail_row(r, &res[i], rc, "setup");
        } else {
            res[i].set_up = 1;
            res[i].ns = calloc((size_t)samples, sizeof(double));
            if (!res[i].ns)
                fail_row(r, &res[i], -ENOMEM, "setup");
        }
    }

    for (int i = 0; i < t->nrows; i++)
        if (res[i].status == ROW_OK)
            calibrate(&t->rows[i], &res[i], opts);

    /* Round-robin: sample s of every row before sample s + 1 of any. */
    for (int s = 0; s < samples; s++) {
        for (int i = 0; i < t->nrows; i++) {
            if (res[i].status != ROW_OK)
                continue;
            int err;
            res[i].ns[s] = time_row(&t->rows[i], &res[i], res[i].n, &err);
            if (err)
                fail_row(&t->rows[i], &res[i], err, "a sample");
        }
    }

    for (int i = 0; i < t->nrows; i++) {
        if (res[i].status != ROW_OK)
            continue;
        qsort(res[i].ns, (size_t)samples, sizeof(double), cmp_double);
        res[i].lo = res[i].ns[0];
        res[i].hi = res[i].ns[samples - 1];
        res[i].median = samples % 2
                            ? res[i].ns[samples / 2]
                            : (res[i].ns[samples / 2 - 1] +
                               res[i].ns[samples / 2]) / 2;
    }

    int w = 4;
    for (int i = 0; i < t->nrows; i++) {
        int l = (int)strlen(t->rows[i].name);
        if (l > w)
            w = l;
    }
    printf("%s\n", t->title);
    printf("  %-*s  %s", w, "", t->unit);
    if (t->sub_unit)
        printf("  %s", t->sub_unit);
    printf("  %7s  %6s\n", "vs ref", "spread");
    for (int i = 0; i < t->nrows; i++)
        print_row(t, w, &t->rows[i], &res[i], res);

    for (int i = 0; i < t->nrows; i++) {
        if (res[i].status == ROW_FAILED)
            failed = 1;
        if (res[i].set_up && t->rows[i].teardown)
            t->rows[i].teardown(res[i].state);
        free(res[i].ns);
    }
    free(res);
    return failed ? -1 : 0;
}
