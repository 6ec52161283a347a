/*
 * main.c: corio_bench, the benchmark driver.
 *
 *   corio_bench                 every suite, each printing its table
 *   corio_bench --suite NAME    one suite (repeatable)
 *   corio_bench --quick         tiny counts: a smoke test (also
 *                               CORIO_BENCH_QUICK=1); numbers meaningless
 *   corio_bench --samples N     timed samples per row (default 7, min 1)
 *   corio_bench --list          the suites, one a line
 *   corio_bench --child JOB ... internal: a job some suite runs in a fresh
 *                               process of its own (loopbench.h)
 *
 * Exit status 0, or 1 if a suite failed (a row whose setup or run returned
 * an error; rows that are merely unavailable here print "n/a" and pass).
 * To add a suite: write bench/bench_<name>.c defining a bench_suite, declare
 * it in suites.h, and list it in `suites` below.
 */
#include "bench.h"
#include "loopbench.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_SAMPLES 7
#define QUICK_SAMPLES 3
#define SAMPLE_SEC 0.2

static const bench_suite *const suites[] = {
    &bench_suite_switch,
    &bench_suite_spawn,
    &bench_suite_sleepers,
    &bench_suite_pingpong,
    &bench_suite_timers,
    &bench_suite_topic,
    &bench_suite_agen,
    &bench_suite_flood,
    &bench_suite_tothread,
    &bench_suite_echo,
    &bench_suite_idle,
    &bench_suite_procspawn,
    &bench_suite_fileread,
    &bench_suite_http,
    &bench_suite_tls,
};
#define NSUITES ((int)(sizeof suites / sizeof suites[0]))

/* Wall-clock figures assume the CPU is ours: say so when it is not. */
static void warn_if_busy(void)
{
    double load;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (getloadavg(&load, 1) == 1 && ncpu > 0 && load > 0.5 * (double)ncpu)
        printf("warning: load average %.1f on %ld CPUs: other processes "
               "compete for the CPU,\nso wall-clock figures come out high "
               "(the CPU ns columns less so)\n",
               load, ncpu);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: corio_bench [--quick] [--samples N] [--suite NAME]... "
               "[--list]\n");
}

static const bench_suite *find_suite(const char *name)
{
    for (int i = 0; i < NSUITES; i++)
        if (strcmp(suites[i]->name, name) == 0)
            return suites[i];
    return NULL;
}

int main(int argc, char **argv)
{
    bench_opts opts = {0, DEFAULT_SAMPLES, SAMPLE_SEC};
    const bench_suite *chosen[16];
    int nchosen = 0, samples_given = 0;
    const char *env = getenv("CORIO_BENCH_QUICK");

    if (argc >= 2 && strcmp(argv[1], "--child") == 0)
        return lb_child_main(argc - 2, argv + 2);
    if (env && *env && strcmp(env, "0") != 0)
        opts.quick = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) {
            opts.quick = 1;
        } else if (strcmp(a, "--samples") == 0 && i + 1 < argc) {
            opts.samples = atoi(argv[++i]);
            samples_given = 1;
            if (opts.samples < 1) {
                usage(stderr);
                return 2;
            }
        } else if (strcmp(a, "--suite") == 0 && i + 1 < argc) {
            const bench_suite *s = find_suite(argv[++i]);
            if (!s) {
                fprintf(stderr, "corio_bench: no suite '%s' (try --list)\n",
                        argv[i]);
                return 2;
            }
            if (nchosen < (int)(sizeof chosen / sizeof chosen[0]))
                chosen[nchosen++] = s;
        } else if (strcmp(a, "--list") == 0) {
            for (int k = 0; k < NSUITES; k++)
                printf("%-12s %s\n", suites[k]->name, suites[k]->summary);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (opts.quick && !samples_given)
        opts.samples = QUICK_SAMPLES;
    if (nchosen == 0)
        for (int k = 0; k < NSUITES && k < 16; k++)
            chosen[nchosen++] = suites[k];

    if (opts.quick) {
        printf("corio_bench --quick: smoke test, the numbers mean nothing\n\n");
    } else {
        printf("corio_bench: median of %d samples per row (~%.1f s each, or "
               "the suite's\nfixed workload), rows interleaved\n",
               opts.samples, opts.sample_sec);
        warn_if_busy();
        printf("\n");
    }

    int failed = 0;
    for (int k = 0; k < nchosen; k++) {
        if (k > 0)
            printf("\n");
        fflush(stdout);
        if (chosen[k]->run(&opts) != 0)
            failed = 1;
        fflush(stdout);
    }
    return failed;
}
