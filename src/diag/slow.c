/*
 * slow.c: the slow-step watchdog (corio_diag_slow_steps, corio/diag.h):
 * a task step or callback that holds the loop longer than a threshold is
 * reported with the task's name, how long it ran, and where it was while
 * it overran, caught by a watchdog thread (Seastar's stall detector), not
 * only after it returns.
 *
 * The loop's run hook (loop_impl.h) runs each ready node itself: it
 * publishes the step's start time and a step number (odd while a step
 * runs) in atomics, runs the node, stamps a task that parked (as debug
 * mode does), and, when the step took longer than the threshold, prints
 * how long. The watchdog thread wakes every quarter threshold; when the
 * same step has run past the threshold it sends SIGURG to the loop's
 * thread (tgkill), whose handler captures the running task and its frames
 * (sigdump.c's async-signal-safe capture) and raises a flag; the watchdog
 * prints that report. Each step is caught at most once.
 *
 * SIGURG: its default action is to ignore it, so one that arrives after
 * the handler is gone does nothing; a program that uses SIGURG itself
 * (out-of-band socket data) should not use this. One loop per process.
 *
 * CORIO_DEBUG: task.c installs debug_env_run (below, registered by a
 * constructor whenever this layer is linked in) on each loop its tasks
 * start on; at the first iteration it applies CORIO_SLOW_STEP and
 * CORIO_SHUFFLE_SEED on the loop's own thread.
 */
#include "threads.h"
#include "diag/diag_impl.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLOW_SIGNAL SIGURG

static struct {
    pthread_mutex_t lock;       /* on / off */
    corio_loop *loop;
    int64_t threshold;          /* ns */
    pid_t tid;
    uintptr_t th_lo, th_hi;
    struct sigaction old;
    pthread_t watchdog;
    atomic_int quit;
    atomic_ullong seq;          /* odd while a step runs */
    atomic_llong start;         /* its start, loop ns */
    atomic_ullong caught;       /* the step the watchdog signalled */
    atomic_int want, ready;     /* a capture asked for / done */
    atomic_ullong nslow;        /* slow steps seen */
    corio__snapshot snap;
} ss = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- the loop side ------------------------------------------------------------- */

static void report_after(corio_task *t, const char *name, uint64_t id,
                         int64_t ran)
{
    atomic_fetch_add(&ss.nslow, 1);
    if (t)
        fprintf(stderr,
                "corio: slow step: task '%s' (#%llu, spawned at %s:%d) held "
                "the loop for %.3f s (threshold %.3f s)\n",
                name, (unsigned long long)id, t->file, t->line,
                (double)ran / 1e9, (double)ss.threshold / 1e9);
    else
        fprintf(stderr,
                "corio: slow step: a callback held the loop for %.3f s "
                "(threshold %.3f s)\n",
                (double)ran / 1e9, (double)ss.threshold / 1e9);
    fflush(stderr);
}

/* Run one ready node, timed: published for the watchdog when this loop is
 * watched, a parked task stamped, the metrics counted. */
static void run_step(corio_loop *loop, corio__diag_state *ds, corio__ready *r,
                     int watched)
{
    corio_task *t;
    char name[64] = "";
    uint64_t id = 0;
    int64_t t0, ran;
    (void)loop;
    if ((t = corio__task_of_step(r)) != NULL) {
        t->fut.refs++; /* it may finish and go in its step */
        snprintf(name, sizeof name, "%s", t->name);
        id = t->id;
    }
    t0 = corio__clock_ns();
    if (watched) {
        atomic_store(&ss.start, t0);
        atomic_fetch_add(&ss.seq, 1); /* odd: running */
    }
    r->run(r);
    if (watched)
        atomic_fetch_add(&ss.seq, 1);
    ran = corio__clock_ns() - t0;
    if (t && corio__task_parked(t))
        t->wait_since = t0 + ran;
    if (ds) {
        ds->busy_ns += ran;
        ds->steps++;
    }
    if (watched && ran > ss.threshold)
        report_after(t, name, id, ran);
    if (t)
        corio__task_unref(t);
}

/* The run hook of debug mode: each node timed (run_step); with a shuffle
 * seed, the iteration's task steps in a seeded order (shuffle.c). */
void corio__diag_run(corio_loop *loop, size_t count)
{
    corio__diag_state *ds = corio__diag_state_of(loop);
    int watched = ss.loop == loop;
    corio__ready **batch;
    size_t i;
    if (ds)
        ds->iterations++;
    if (ds && ds->seed && count > 1 &&
        (batch = corio__diag_shuffled(loop, ds, count)) != NULL) {
        for (i = 0; i < count; i++)
            run_step(loop, ds, batch[i], watched);
    } else {
        for (; count > 0; count--) {
            corio__ready *r = corio__ready_pop(loop);
            if (!r)
                break;
            run_step(loop, ds, r, watched);
        }
    }
    if (ds) { /* what these steps queued: the next batch's front */
        ds->carried = loop->ready.n;
        ds->carried_known = 1;
    }
}

/* ---- the handler and the watchdog ------------------------------------------------ */

static void on_slow_signal(int signo, siginfo_t *si, void *ucv)
{
    int saved = errno;
    (void)signo, (void)si;
    if ((pid_t)syscall(SYS_gettid) == ss.tid && atomic_load(&ss.want)) {
        corio__diag_capture(&ss.snap, ss.loop, ucv, ss.th_lo, ss.th_hi);
        atomic_store(&ss.want, 0);
        atomic_store(&ss.ready, 1);
    }
    errno = saved;
}

static void nap(int64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void *watchdog(void *arg)
{
    int64_t tick = ss.threshold / 4;
    corio__sym warm;
    int warmed = 0;
    (void)arg;
    if (tick < 1000000)
        tick = 1000000; /* 1 ms */
    while (!atomic_load(&ss.quit)) {
        unsigned long long seq = atomic_load(&ss.seq);
        int64_t start = atomic_load(&ss.start);
        int64_t now = corio__clock_ns();
        if ((seq & 1) && now - start > ss.threshold &&
            atomic_load(&ss.caught) != seq) {
            atomic_store(&ss.caught, seq);
            atomic_store(&ss.ready, 0);
            atomic_store(&ss.want, 1);
            syscall(SYS_tgkill, getpid(), ss.tid, SLOW_SIGNAL);
            /* Load the symbolizer while the handler captures (libdw's
             * first use reads the process's modules, and keeps their
             * files open; not done before the first report). */
            if (!warmed) {
                corio__bt_symbolize((void *)(uintptr_t)nap, 0, &warm);
                warmed = 1;
            }
            /* The handler runs as soon as the loop thread is scheduled;
             * give up on this step once it has ended. */
            while (!atomic_load(&ss.ready) && atomic_load(&ss.seq) == seq &&
                   !atomic_load(&ss.quit))
                nap(100000);
            atomic_store(&ss.want, 0);
            if (atomic_load(&ss.ready)) {
                const corio__snapshot *s = &ss.snap;
                char head[512];
                if (s->has_task)
                    snprintf(head, sizeof head,
                             "corio: slow step: task '%s' (#%llu, spawned at "
                             "%s:%d) has held the loop for %.3f s so far "
                             "(threshold %.3f s); it runs at:\n",
                             s->name, (unsigned long long)s->id, s->file,
                             s->line,
                             (double)(corio__clock_ns() - start) / 1e9,
                             (double)ss.threshold / 1e9);
                else
                    snprintf(head, sizeof head,
                             "corio: slow step: a callback has held the loop "
                             "for %.3f s so far; it runs at:\n",
                             (double)(corio__clock_ns() - start) / 1e9);
                corio__bt_report(head, s->pcs, s->npcs);
            }
            continue;
        }
        nap(tick);
    }
    return NULL;
}

/* ---- on and off ------------------------------------------------------------------- */

static void stop_locked(void)
{
    atomic_store(&ss.quit, 1);
    pthread_join(ss.watchdog, NULL);
    sigaction(SLOW_SIGNAL, &ss.old, NULL);
    ss.loop = NULL; /* the loop stays in debug mode */
}

void corio__diag_slow_let_go(corio_loop *loop)
{
    pthread_mutex_lock(&ss.lock);
    if (ss.loop == loop)
        stop_locked();
    pthread_mutex_unlock(&ss.lock);
}

int corio_diag_slow_steps(corio_loop *loop, double threshold)
{
    corio__diag_state *ds;
    struct sigaction sa;
    int rc;
    if (!loop || isnan(threshold) || threshold < 0 || isinf(threshold))
        return -EINVAL;
    pthread_mutex_lock(&ss.lock);
    if (ss.loop && ss.loop != loop) {
        pthread_mutex_unlock(&ss.lock);
        return threshold == 0 ? 0 : -EBUSY;
    }
    if (ss.loop)
        stop_locked();
    if (threshold == 0) {
        pthread_mutex_unlock(&ss.lock);
        return 0;
    }
    if (!(ds = corio__diag_state_of(loop))) {
        pthread_mutex_unlock(&ss.lock);
        return loop->closing ? -ESHUTDOWN : -ENOMEM;
    }
    corio__diag_let_go_at_free(loop, ds);
    ss.loop = loop;
    ss.threshold = (int64_t)(threshold * 1e9);
    if (ss.threshold < 1)
        ss.threshold = 1;
    ss.tid = (pid_t)syscall(SYS_gettid);
    corio__diag_thread_stack(&ss.th_lo, &ss.th_hi);
    atomic_store(&ss.quit, 0);
    atomic_store(&ss.want, 0);
    atomic_store(&ss.ready, 0);
    atomic_store(&ss.caught, 0);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_slow_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(SLOW_SIGNAL, &sa, &ss.old) != 0) {
        rc = -errno;
        ss.loop = NULL;
        pthread_mutex_unlock(&ss.lock);
        return rc;
    }
    rc = corio__thread_start(&ss.watchdog, watchdog, NULL); /* threads.h */
    if (rc) {
        sigaction(SLOW_SIGNAL, &ss.old, NULL);
        ss.loop = NULL;
    } else {
        loop->run_hook = corio__diag_run;
        loop->idle_hook = corio__diag_cycle_check;
    }
    pthread_mutex_unlock(&ss.lock);
    return rc;
}

/* The run hook CORIO_DEBUG installs (loop.c's corio__debug_run_hook): at
 * the loop's first iteration, on its thread, the environment's options:
 * the watchdog (CORIO_SLOW_STEP seconds, default 0.1, 0 for none; one
 * loop per process) and the shuffler (CORIO_SHUFFLE_SEED, which names
 * the seed already: no banner); then debug mode's own hook. */
static void debug_env_run(corio_loop *loop, size_t count)
{
    const char *e = getenv("CORIO_SLOW_STEP");
    const char *seed = getenv("CORIO_SHUFFLE_SEED");
    double thr = e && *e ? strtod(e, NULL) : 0.1;
    loop->run_hook = corio__diag_run;
    if (isnan(thr) || thr < 0 || isinf(thr))
        thr = 0.1;
    if (thr > 0 && !ss.loop)
        corio_diag_slow_steps(loop, thr);
    if (seed && *seed)
        corio__diag_shuffle_set(loop, strtoull(seed, NULL, 0), 0);
    corio__diag_run(loop, count);
}

__attribute__((constructor)) static void register_debug_hooks(void)
{
    corio__debug_idle_hook = corio__diag_cycle_check;
    corio__debug_run_hook = debug_env_run;
    corio__diag_traceback_hooks(); /* traceback.c */
}

unsigned long long corio__diag_slow_count(const corio_loop *loop)
{
    return ss.loop == loop ? atomic_load(&ss.nslow) : 0;
}
