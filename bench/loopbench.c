/*
 * loopbench.c: the fixed-workload tables of loopbench.h, running other
 * programs (python3, this program as a child), and the measuring helpers.
 *
 * Other programs run with their stdout on a pipe that we read until EOF,
 * under a deadline; their stderr is ours, so their complaints show up as
 * they are. A child that outlives its deadline is killed and reported.
 */
#include "loopbench.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CORIO_BENCH_PY_SCRIPT
#define CORIO_BENCH_PY_SCRIPT "bench/py/loop_bench.py"
#endif

enum { ROW_OK, ROW_NA, ROW_FAILED };

struct row_state {
    int status;
    const char *why;
    void *state;
    int set_up;
    int want;  /* timed samples wanted */
    int have;  /* timed samples taken */
    int ncpu;  /* of those, with a CPU time */
    double *fig, *cpu;
    double median, lo, hi, cpu_median;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fail_row(const lb_row *r, struct row_state *st, int err,
                     const char *when)
{
    st->status = ROW_FAILED;
    fprintf(stderr, "bench: row '%s' failed during %s: %s\n", r->name, when,
            strerror(err < 0 ? -err : err));
}

/* One sample of row r; folds n/a and failures into st. */
static void take(const lb_row *r, struct row_state *st, int timed,
                 const char *when)
{
    lb_sample smp = {0, -1};
    const char *why = NULL;
    int rc = r->sample(st->state, &smp, &why);
    if (rc == BENCH_NA) {
        st->status = ROW_NA;
        st->why = why ? why : "unavailable";
    } else if (rc < 0) {
        fail_row(r, st, rc, when);
    } else if (timed) {
        st->fig[st->have++] = smp.value;
        if (smp.cpu >= 0)
            st->cpu[st->ncpu++] = smp.cpu;
    }
}

/* Sorts v and returns its median. */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* "1.23x" with as many digits as a ratio of that size deserves. */
static void format_ratio(char *buf, size_t cap, double ratio)
{
    if (ratio >= 100)
        snprintf(buf, cap, "%.0fx", ratio);
    else if (ratio >= 10)
        snprintf(buf, cap, "%.1fx", ratio);
    else if (ratio >= 0.1)
        snprintf(buf, cap, "%.2fx", ratio);
    else
        snprintf(buf, cap, "%.4fx", ratio);
}

/* Width of a column headed `label`: the heading, at least `min`. */
static int col_width(const char *label, int min)
{
    int l = (int)strlen(label);
    return l > min ? l : min;
}

static void print_row(const lb_table *t, int w, int i,
                      const struct row_state *all)
{
    const struct row_state *st = &all[i];
    printf("  %-*s", w, t->rows[i].name);
    if (st->status == ROW_NA) {
        printf("  n/a (%s)\n", st->why);
        return;
    }
    if (st->status == ROW_FAILED) {
        printf("  FAILED (see above)\n");
        return;
    }
    printf("  %*.*f", col_width(t->unit, 10), t->decimals, st->median);
    if (t->cpu_label) {
        int cw = col_width(t->cpu_label, 9);
        if (st->ncpu > 0)
            printf("  %*.*f", cw, t->decimals, st->cpu_median);
        else
            printf("  %*s", cw, "-");
    }
    for (int k = 0; k < 2; k++) {
        const lb_ref *ref = &t->refs[k];
        char buf[32];
        if (!ref->label)
            continue;
        int cw = col_width(ref->label, 9);
        const struct row_state *rs = &all[ref->row];
        if (rs->status == ROW_OK && rs->median > 0) {
            format_ratio(buf, sizeof buf, st->median / rs->median);
            printf("  %*s", cw, buf);
        } else {
            printf("  %*s", cw, "n/a");
        }
    }
    if (st->have > 1 && st->median > 0)
        printf("  %5.1f%%\n", 50.0 * (st->hi - st->lo) / st->median);
    else
        printf("  %6s\n", "-");
}

int lb_table_run(const lb_table *t, const bench_opts *opts,
                 lb_result *results)
{
    struct row_state *st = calloc((size_t)t->nrows, sizeof *st);
    int samples = opts->samples > 0 ? opts->samples : 1;
    int failed = 0, most = 0;

    if (!st)
        return -1;
    for (int i = 0; i < t->nrows; i++) {
        const lb_row *r = &t->rows[i];
        st[i].state = r->arg;
        int rc = r->setup ? r->setup(&st[i].state, opts, &st[i].why) : 0;
        if (rc == BENCH_NA) {
            st[i].status = ROW_NA;
            continue;
        }
        if (rc < 0) {
            fail_row(r, &st[i], rc, "setup");
            continue;
        }
        st[i].set_up = 1;
        st[i].want = r->samples > 0 && r->samples < samples ? r->samples
                                                            : samples;
        st[i].fig = calloc((size_t)st[i].want, sizeof(double));
        st[i].cpu = calloc((size_t)st[i].want, sizeof(double));
        if (!st[i].fig || !st[i].cpu)
            fail_row(r, &st[i], -ENOMEM, "setup");
        if (st[i].want > most)
            most = st[i].want;
    }

    /* Warm-up, then round-robin: sample s of every row before s + 1. */
    for (int i = 0; i < t->nrows; i++)
        if (st[i].status == ROW_OK && t->rows[i].samples == 0)
            take(&t->rows[i], &st[i], 0, "warm-up");
    for (int s = 0; s < most; s++)
        for (int i = 0; i < t->nrows; i++)
            if (st[i].status == ROW_OK && st[i].have < st[i].want)
                take(&t->rows[i], &st[i], 1, "a sample");

    for (int i = 0; i < t->nrows; i++) {
        struct row_state *x = &st[i];
        if (x->status != ROW_OK || x->have == 0)
            continue;
        x->median = median(x->fig, x->have);
        x->lo = x->fig[0];
        x->hi = x->fig[x->have - 1];
        x->cpu_median = x->ncpu > 0 ? median(x->cpu, x->ncpu) : -1;
    }

    int w = 4;
    for (int i = 0; i < t->nrows; i++) {
        int l = (int)strlen(t->rows[i].name);
        if (l > w)
            w = l;
    }
    printf("%s\n", t->title);
    printf("  %-*s  %*s", w, "", col_width(t->unit, 10), t->unit);
    if (t->cpu_label)
        printf("  %*s", col_width(t->cpu_label, 9), t->cpu_label);
    for (int k = 0; k < 2; k++)
        if (t->refs[k].label)
            printf("  %*s", col_width(t->refs[k].label, 9),
                   t->refs[k].label);
    printf("  %6s\n", "spread");
    for (int i = 0; i < t->nrows; i++)
        print_row(t, w, i, st);

    for (int i = 0; i < t->nrows; i++) {
        if (st[i].status == ROW_FAILED)
            failed = 1;
        if (results) {
            results[i].ok = st[i].status == ROW_OK && st[i].have > 0;
            results[i].median = st[i].median;
            results[i].cpu = st[i].status == ROW_OK && st[i].ncpu > 0
                                 ? st[i].cpu_median
                                 : -1;
        }
        if (st[i].set_up && t->rows[i].teardown)
            t->rows[i].teardown(st[i].state);
        free(st[i].fig);
        free(st[i].cpu);
    }
    free(st);
    return failed ? -1 : 0;
}

void lb_target_below(const char *what, const lb_result *r, double limit,
                     const char *unit)
{
    if (!r->ok)
        return;
    printf("  target: %s below %g %s: %.1f (%s)", what, limit, unit,
           r->median, r->median < limit ? "met" : "MISSED");
    if (r->cpu >= 0)
        printf("; CPU time %.1f (%s)", r->cpu,
               r->cpu < limit ? "met" : "MISSED");
    printf("\n");
}

/* ---- other programs ---------------------------------------------------- */

static double mono_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int lb_run_capture(char *const argv[], double timeout_sec, char *buf,
                   size_t cap, int *status)
{
    int fd[2];
    size_t len = 0;
    double deadline = mono_sec() + timeout_sec;
    int timed_out = 0;
    pid_t pid;

    if (cap == 0)
        return -EINVAL;
    if (pipe2(fd, O_CLOEXEC) != 0) /* dup2 below clears it for stdout */
        return -errno;
    fflush(NULL); /* nothing buffered is written twice */
    pid = fork();
    if (pid < 0) {
        int err = -errno;
        close(fd[0]);
        close(fd[1]);
        return err;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    for (;;) {
        char scratch[4096];
        double left = deadline - mono_sec();
        struct pollfd p = {fd[0], POLLIN, 0};
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue; /* the deadline check above ends it */
        ssize_t n = read(fd[0], scratch, sizeof scratch);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t take = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
        memcpy(buf + len, scratch, take);
        len += take;
    }
    buf[len] = '\0';
    close(fd[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return timed_out ? -ETIMEDOUT : 0;
}

int lb_run_result(const char *who, char *const argv[], double timeout_sec,
                  char *buf, size_t cap, const char **why)
{
    int status = 0;
    int rc = lb_run_capture(argv, timeout_sec, buf, cap, &status);
    if (rc == -ETIMEDOUT) {
        fprintf(stderr, "bench: %s: no result within %.0f s (killed)\n", who,
                timeout_sec);
        return rc;
    }
    if (rc < 0) {
        fprintf(stderr, "bench: %s: cannot run: %s\n", who, strerror(-rc));
        return rc;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
        *why = "killed by SIGKILL: out of memory?";
        return BENCH_NA;
    }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "bench: %s: killed by signal %d\n", who,
                WTERMSIG(status));
        return -EIO;
    }
    if (WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench: %s: exit status %d; its output:\n%s\n", who,
                WEXITSTATUS(status), buf);
        return -EIO;
    }
    if (!strstr(buf, "result ")) {
        fprintf(stderr, "bench: %s: no result line; its output:\n%s\n", who,
                buf);
        return -EPROTO;
    }
    return 0;
}

int lb_field(const char *out, const char *key, double *value)
{
    const char *line = strstr(out, "result ");
    size_t klen = strlen(key);
    if (!line)
        return -ENOENT;
    for (const char *p = line + 7; *p && *p != '\n'; p++) {
        if (p[-1] != ' ' || strncmp(p, key, klen) != 0 || p[klen] != '=')
            continue;
        char *end;
        *value = strtod(p + klen + 1, &end);
        return end == p + klen + 1 ? -ENOENT : 0;
    }
    return -ENOENT;
}

/* ---- Python ------------------------------------------------------------ */

static int in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n < sizeof buf - strlen(prog) - 2) {
            memcpy(buf, path, n);
            snprintf(buf + n, sizeof buf - n, "/%s", prog);
            if (access(buf, X_OK) == 0)
                return 1;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}

int lb_python_setup(const char **why)
{
    struct stat sb;
    if (!in_path("python3")) {
        *why = "python3 not found";
        return BENCH_NA;
    }
    if (stat(CORIO_BENCH_PY_SCRIPT, &sb) != 0) {
        *why = "bench/py/loop_bench.py not found";
        return BENCH_NA;
    }
    return 0;
}

int lb_python_run(const char *const args[], double timeout_sec, char *buf,
                  size_t cap, const char **why)
{
    const char *argv[16] = {"python3", CORIO_BENCH_PY_SCRIPT};
    int n = 2;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return lb_run_result("python3 loop_bench.py", (char *const *)argv,
                         timeout_sec, buf, cap, why);
}

/* ---- this program as a child ------------------------------------------- */

int lb_self_run(const char *const args[], double timeout_sec, char *buf,
                size_t cap, const char **why)
{
    const char *argv[16] = {"/proc/self/exe", "--child"};
    int n = 2;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return lb_run_result("corio_bench --child", (char *const *)argv,
                         timeout_sec, buf, cap, why);
}

int lb_child_main(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "sleepers") == 0)
        return bench_sleepers_child(argc, argv);
    fprintf(stderr, "corio_bench --child: unknown job '%s'\n",
            argc >= 1 ? argv[0] : "");
    return 2;
}

/* ---- measuring --------------------------------------------------------- */

uint64_t lb_cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
               1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) *
               1000u;
}

uint64_t lb_status_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t flen = strlen(field);
    uint64_t v = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            v = strtoull(line + flen + 1, NULL, 10) * 1024;
            break;
        }
    fclose(f);
    return v;
}

uint64_t lb_mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    uint64_t v = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "MemAvailable:", 13) == 0) {
            v = strtoull(line + 13, NULL, 10) * 1024;
            break;
        }
    fclose(f);
    return v;
}

const char *lb_commas(uint64_t n)
{
    static char bufs[4][32];
    static int next;
    char digits[32], *buf = bufs[next++ % 4];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    int o = 0;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

size_t lb_map_count(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    size_t n = 0;
    int c;
    if (!f)
        return 0;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}
