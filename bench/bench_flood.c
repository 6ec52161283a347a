/*
 * bench_flood.c: the flood suite: how late a 1 ms timer runs while other
 * threads flood the loop with cross-thread calls (issue 10; the target is
 * a worst lateness under 2 ms).
 *
 * Workload: 4 threads each make 250,000 corio_loop_call_soon_threadsafe
 * calls of an empty callback, as fast as they can (--quick: 2,500 each),
 * while the loop re-arms a 1 ms corio_loop_call_later timer each time it
 * fires. Lateness is when the timer's callback runs minus when it was due
 * (CLOCK_MONOTONIC); a run ends when every call has run (or, with no
 * flood, after 200 ticks). The producers are made first and wait; the
 * loop's first callback arms the first tick and lets them go, so the
 * flood meets a running loop (a loop that is not running has no bound)
 * and thread creation is outside the figures (under load, four
 * producers that started pushing while the loop's thread was still
 * making the others had taken its CPU for 10 ms before the loop ran).
 *
 * Each round runs, in turn: the timer alone ("no flood", the machine's
 * own noise), then the flood with the producers at the loop's priority
 * and at nice 19 (the fair comparison on a 2-core machine: the loop's
 * thread is then owed nearly all of a CPU, as it would be with spare
 * cores), each once with the loop's back-pressure bound
 * (corio_loop_opts.threadsafe_max: the default, or
 * $CORIO_BENCH_FLOOD_MAX to try another) and once with no bound (as
 * before back-pressure). Columns: the worst and the mean lateness,
 * the worst as a multiple of the same round's no-flood worst, how many
 * times the timer fired, "cpu wait": how long the loop's thread was
 * runnable but not running (/proc/thread-self/schedstat) over the
 * interval that ended with the worst tick (from the tick before it, so
 * up to 1 ms more than the lateness), "late-wait": the worst lateness
 * less that wait (what the loop's thread spent running or blocked), the
 * calls per second, "loop ns": the loop thread's CPU time per call
 * (schedstat again; this one the load barely moves), and "prod ns": the
 * producers' CPU time per call (getrusage per thread, summed).
 *
 * Reading it. The loop takes a bounded share of the cross-thread queue
 * per iteration (loop.c, TSQ_BUDGET) and never blocks on a producer (the
 * queue is lock-free), so what the loop itself adds to a tick is one
 * share of calls, microseconds: late-wait stays near 0. The rest is the
 * kernel's. With no bound, four producers that never sleep and the loop
 * share 2 cores (with, on a shared machine, everything else that runs):
 * at the same priority the loop is one of five busy threads and gets its
 * turn a scheduler tick or more later (HZ=250 here: 4 ms a tick), 8-17 ms
 * worst. With the bound, a producer that finds the loop that far behind
 * sleeps on a futex until the loop has drained half of it, so producers
 * run in short bursts and leave the CPU to the loop: the worst comes down
 * to the no-flood row's order, and the flood runs no slower (producers
 * no longer fight the loop for the CPU; a sleep and a wake-up cost
 * system calls, amortized over half a bound of calls). Smaller bounds
 * measured better (256, 1,024, 4,096, 16,384, 65,536 with
 * $CORIO_BENCH_FLOOD_MAX: the worst grows with the bound), hence the
 * default of 256. With the producers at nice 19 the loop keeps up and
 * often sleeps between calls; every push then wakes it, and the flood's
 * rate swings between about 0.5 and 5 M calls/s with or without a bound.
 * (A mutex on the queue, as before, made producers sleep on it and so
 * left the loop more CPU, but the loop then blocked for whole time
 * slices on a preempted producer: late-wait of 5-23 ms with nice-19
 * producers. Neither SCHED_FIFO for the loop, which the kernel throttles
 * for tens of milliseconds when it is busy through a flood, nor a 0.1 ms
 * EEVDF slice, was any better; nor were producers that sched_yield when
 * over 1,024 calls ahead of the loop: the same-priority worst halved, the
 * nice-19 one grew, and each call then cost its caller a system call.
 * The no-flood late-wait of 0.07-0.1 ms includes the kernel's default
 * 50 us timer slack.)
 */
#include "bench.h"
#include "suites.h"

#include <corio/loop.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FLOOD_THREADS 4
#define FLOOD_CALLS 250000 /* per thread */
#define FLOOD_QUICK_CALLS 2500
#define TIMER_SEC 0.001
#define BASELINE_TICKS 200 /* the timer alone, for the machine's noise */

/* The flood runs: the producers at the loop's priority, then at nice 19,
 * each with the loop's default bound (back-pressure) and with no bound
 * (as before back-pressure). */
enum { PRIO_SAME, PRIO_SAME_UNBOUNDED, PRIO_NICE, PRIO_NICE_UNBOUNDED,
       PRIO_MODES };

struct flood {
    corio_loop *loop;
    long per_thread;
    int prio;
    long total, ran;
    atomic_int started;
    sem_t go;              /* posted by the loop's first callback */
    uint64_t t0;           /* when it posted it */
    atomic_int failed;     /* a call_soon_threadsafe or call_later failed */
    uint64_t due_ns;       /* when the pending timer is due */
    uint64_t worst_ns, sum_ns;
    long fired;
    int sched_fd;          /* /proc/thread-self/schedstat, or -1 */
    uint64_t wait_prev;    /* its run_delay at the last tick */
    uint64_t worst_wait;   /* run_delay over the worst tick's interval */
    uint64_t loop_cpu;     /* the loop thread's CPU time over the run */
    atomic_ullong prod_cpu; /* the producers' CPU time (ns), summed */
    size_t bound;          /* corio_loop_opts.threadsafe_max */
};

/* The bound of the bounded runs: $CORIO_BENCH_FLOOD_MAX, else 0 (the
 * loop's default). */
static size_t flood_bound(void)
{
    const char *e = getenv("CORIO_BENCH_FLOOD_MAX");
    return e && *e ? (size_t)strtoull(e, NULL, 10) : 0;
}

/* The calling thread's time runnable but not running (ns), or 0; its
 * CPU time into *cpu when cpu is not NULL. */
static uint64_t run_delay(int fd, uint64_t *cpu)
{
    char buf[96];
    unsigned long long run = 0, wait = 0;
    ssize_t r;
    if (fd >= 0 && (r = pread(fd, buf, sizeof buf - 1, 0)) > 0) {
        buf[r] = 0;
        if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
            run = wait = 0;
    }
    if (cpu)
        *cpu = run;
    return wait;
}

static void flood_cb(void *arg)
{
    struct flood *f = arg;
    if (++f->ran == f->total)
        corio_loop_stop(f->loop);
}

static void tick(void *arg)
{
    struct flood *f = arg;
    uint64_t now = bench_now_ns();
    uint64_t late = now > f->due_ns ? now - f->due_ns : 0;
    uint64_t wait = run_delay(f->sched_fd, NULL);
    if (late > f->worst_ns) {
        f->worst_ns = late;
        f->worst_wait = wait - f->wait_prev;
    }
    f->wait_prev = wait;
    f->sum_ns += late;
    f->fired++;
    if (f->total == 0 && f->fired == BASELINE_TICKS) {
        corio_loop_stop(f->loop); /* the baseline: no flood */
        return;
    }
    f->due_ns = bench_now_ns() + (uint64_t)(TIMER_SEC * 1e9);
    if (corio_loop_call_later(f->loop, TIMER_SEC, tick, f, NULL) != 0)
        atomic_store(&f->failed, 1);
}

/* The loop's first callback: the first tick is due 1 ms from now, and
 * the producers start (so the flood meets a running loop, whose bound
 * holds, and thread creation is not timed). */
static void start(void *arg)
{
    struct flood *f = arg;
    f->t0 = bench_now_ns();
    f->due_ns = f->t0 + (uint64_t)(TIMER_SEC * 1e9);
    f->wait_prev = run_delay(f->sched_fd, NULL);
    if (corio_loop_call_later(f->loop, TIMER_SEC, tick, f, NULL) != 0)
        atomic_store(&f->failed, 1);
    for (int i = 0; i < FLOOD_THREADS; i++)
        sem_post(&f->go);
}

static void *produce(void *arg)
{
    struct flood *f = arg;
    if (f->prio == PRIO_NICE || f->prio == PRIO_NICE_UNBOUNDED)
        /* this thread only (Linux: per thread) */
        (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
    struct rusage ru;
    while (sem_wait(&f->go) != 0) /* EINTR: until the loop runs */
        ;
    atomic_fetch_add(&f->started, 1);
    for (long k = 0; k < f->per_thread; k++)
        if (corio_loop_call_soon_threadsafe(f->loop, flood_cb, f) != 0) {
            atomic_store(&f->failed, 1);
            break;
        }
    if (getrusage(RUSAGE_THREAD, &ru) == 0)
        atomic_fetch_add(&f->prod_cpu,
                         (unsigned long long)(ru.ru_utime.tv_sec +
                                              ru.ru_stime.tv_sec) *
                                 1000000000ull +
                             (unsigned long long)(ru.ru_utime.tv_usec +
                                                  ru.ru_stime.tv_usec) *
                                 1000ull);
    return NULL;
}

/* One run: 0, or a negative errno. */
static int flood_once(struct flood *f, long per_thread, int prio, double *secs)
{
    pthread_t th[FLOOD_THREADS];
    uint64_t t0, t1, cpu0 = 0;
    corio_loop_opts o = {NULL, 0};
    int rc = 0, i, made = 0;
    o.threadsafe_max = prio == PRIO_SAME_UNBOUNDED || prio == PRIO_NICE_UNBOUNDED
                           ? CORIO_THREADSAFE_UNBOUNDED
                           : flood_bound();
    f->bound = o.threadsafe_max;
    f->per_thread = per_thread;
    f->prio = prio;
    f->total = per_thread * FLOOD_THREADS;
    f->ran = f->fired = 0;
    f->t0 = 0;
    f->worst_ns = f->sum_ns = f->worst_wait = 0;
    atomic_store(&f->failed, 0);
    atomic_store(&f->started, 0);
    atomic_store(&f->prod_cpu, 0);
    if ((rc = corio_loop_new(&o, &f->loop)) != 0)
        return rc;
    if (sem_init(&f->go, 0, 0) != 0) {
        corio_loop_free(f->loop);
        return -errno;
    }
    f->sched_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    (void)run_delay(f->sched_fd, &cpu0);
    for (i = 0; per_thread > 0 && i < FLOOD_THREADS; i++, made++)
        if ((rc = -pthread_create(&th[i], NULL, produce, f)) != 0)
            break;
    if (rc == 0) /* the no-flood run too: the same start */
        rc = corio_loop_call_soon(f->loop, start, f, NULL);
    if (rc == 0)
        rc = corio_loop_run(f->loop);
    else /* the producers made so far: into a loop that never runs */
        for (i = 0; i < made; i++)
            sem_post(&f->go);
    t0 = f->t0;
    t1 = bench_now_ns();
    (void)run_delay(f->sched_fd, &f->loop_cpu);
    f->loop_cpu -= cpu0;
    for (i = 0; i < made; i++)
        pthread_join(th[i], NULL);
    corio_loop_free(f->loop);
    sem_destroy(&f->go);
    if (f->sched_fd >= 0)
        close(f->sched_fd);
    *secs = (double)(t1 - t0) / 1e9;
    if (rc == 0 && (atomic_load(&f->failed) || f->ran != f->total))
        rc = -EPROTO;
    return rc;
}

static const char *const prio_name[] = {
    "same priority", "same priority, no bound", "producers nice 19",
    "producers nice 19, no bound"};

static void print_row(const char *name, const struct flood *f,
                      double base_worst_ms, double secs)
{
    double worst = (double)f->worst_ns / 1e6;
    double mean = f->fired ? (double)f->sum_ns / 1e6 / (double)f->fired : 0;
    double wait = (double)f->worst_wait / 1e6;
    char ratio[32] = "-", rate[32] = "-", per[32] = "-", prod[32] = "-";
    if (base_worst_ms > 0)
        snprintf(ratio, sizeof ratio, "%.1fx", worst / base_worst_ms);
    if (f->total && secs > 0)
        snprintf(rate, sizeof rate, "%.0f", (double)f->total / secs);
    if (f->total && f->loop_cpu)
        snprintf(per, sizeof per, "%.0f",
                 (double)f->loop_cpu / (double)f->total);
    if (f->total && atomic_load(&f->prod_cpu))
        snprintf(prod, sizeof prod, "%.0f",
                 (double)atomic_load(&f->prod_cpu) / (double)f->total);
    printf("  %-34s %9.3f %8.3f %7s %6ld %9.3f %9.3f %10s %7s %7s\n", name,
           worst, mean, ratio, f->fired, wait,
           worst > wait ? worst - wait : 0.0, rate, per, prod);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int flood_run(const bench_opts *opts)
{
    struct flood f;
    long per = opts->quick ? FLOOD_QUICK_CALLS : FLOOD_CALLS;
    int samples = opts->quick ? 1 : opts->samples;
    double *worst = calloc((size_t)samples * (PRIO_MODES + 1), sizeof *worst);
    int rc = 0;
    if (!worst)
        return -1;
    printf("flood: a 1 ms timer while %d threads make %ld "
           "corio_loop_call_soon_threadsafe calls each\n",
           FLOOD_THREADS, per);
    printf("  bound (threadsafe_max) of the bounded runs: %zu%s\n",
           flood_bound() ? flood_bound() : (size_t)CORIO_THREADSAFE_MAX_DEFAULT,
           flood_bound() ? " ($CORIO_BENCH_FLOOD_MAX)" : " (the default)");
    printf("  %-34s %9s %8s %7s %6s %9s %9s %10s %7s %7s\n", "run",
           "worst ms", "mean ms", "x base", "fired", "cpu wait", "late-wait",
           "calls/s", "loop ns", "prod ns");
    for (int s = 0; s < samples && rc == 0; s++) {
        double secs = 0, base;
        char name[64];
        if ((rc = flood_once(&f, 0, PRIO_SAME, &secs)) != 0) {
            printf("  no flood: FAILED (%d)\n", rc);
            break;
        }
        base = worst[s] = (double)f.worst_ns / 1e6;
        snprintf(name, sizeof name, "%d no flood", s + 1);
        print_row(name, &f, 0, 0);
        for (int prio = PRIO_SAME; prio < PRIO_MODES; prio++) {
            if ((rc = flood_once(&f, per, prio, &secs)) != 0) {
                printf("  %d %s: FAILED (%s)\n", s + 1, prio_name[prio],
                       rc == -EPROTO ? "calls lost" : "setup");
                break;
            }
            worst[(1 + prio) * samples + s] = (double)f.worst_ns / 1e6;
            snprintf(name, sizeof name, "%d flood, %s", s + 1,
                     prio_name[prio]);
            print_row(name, &f, base, secs);
        }
    }
    if (rc == 0) {
        printf("  worst lateness, median and worst of %d samples "
               "(target: under 2 ms):\n", samples);
        for (int k = 0; k <= PRIO_MODES; k++) {
            double *w = worst + k * samples;
            qsort(w, (size_t)samples, sizeof *w, cmp_double);
            printf("    %-32s %9.3f %9.3f\n",
                   k == 0 ? "no flood" : prio_name[k - 1], w[samples / 2],
                   w[samples - 1]);
        }
        printf("  cpu wait: the loop's thread runnable but not running over "
               "the worst tick's interval\n");
        printf("  prod ns: the producers' CPU time per call (summed; a "
               "producer waiting on back-pressure sleeps)\n");
    }
    free(worst);
    return rc ? -1 : 0;
}

const bench_suite bench_suite_flood = {
    "flood", "timer lateness under a 4-thread call_soon_threadsafe flood",
    flood_run};
