/*
 * bench_tothread.c: the tothread suite: the round trip of an empty job
 * through the thread pool, corio_to_thread from a task, against a plain
 * pthread hand-off (a mutex and two condition variables: hand a job to a
 * waiting thread, wait for its answer), the least any pool can do.
 *
 * Rows:
 *   reference: one thread, woken by pthread_cond_signal for each job and
 *     answering through another condition variable;
 *   corio_to_thread: a task on a loop calls corio_to_thread(empty) n
 *     times (the job goes through the pool's lane queue to an idle pool
 *     thread, comes back through the loop's port and its eventfd, and
 *     wakes the task); the loop and its pool are kept across samples, as
 *     in a long-lived program;
 *   corio_to_thread, 4 tasks at once: the same with four tasks calling
 *     concurrently (per call);
 *   libuv uv_queue_work: an empty work callback, the next job queued from
 *     the after-work callback of the last (libuv's pool of 4 threads, the
 *     loop woken through its async handle), when libuv was found.
 * asyncio's to_thread (loop_bench.py tothread: the default executor, the
 * same sequential empty calls) runs once after the table, in a process of
 * its own, and is printed below it (n/a without python3).
 */
#include "bench.h"
#include "loopbench.h"
#include "suites.h"

#include <corio.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#ifdef CORIO_BENCH_HAVE_LIBUV
#include <uv.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* ---- the reference: a pthread hand-off ------------------------------------------ */

struct ref {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    int job, answered, quit;
};

static void *ref_thread(void *arg)
{
    struct ref *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->job && !r->quit)
            pthread_cond_wait(&r->go, &r->mu);
        if (r->quit)
            break;
        r->job = 0;
        r->answered = 1;
        pthread_cond_signal(&r->done);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int ref_setup(void **state, const char **why)
{
    struct ref *r = calloc(1, sizeof *r);
    (void)why;
    if (!r)
        return -ENOMEM;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->go, NULL);
    pthread_cond_init(&r->done, NULL);
    if (pthread_create(&r->th, NULL, ref_thread, r) != 0) {
        free(r);
        return -EAGAIN;
    }
    *state = r;
    return 0;
}

static int ref_run(void *state, uint64_t n)
{
    struct ref *r = state;
    pthread_mutex_lock(&r->mu);
    for (uint64_t i = 0; i < n; i++) {
        r->job = 1;
        r->answered = 0;
        pthread_cond_signal(&r->go);
        while (!r->answered)
            pthread_cond_wait(&r->done, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static void ref_teardown(void *state)
{
    struct ref *r = state;
    pthread_mutex_lock(&r->mu);
    r->quit = 1;
    pthread_cond_signal(&r->go);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
    pthread_cond_destroy(&r->go);
    pthread_cond_destroy(&r->done);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ---- corio_to_thread --------------------------------------------------------------- */

struct tt {
    corio_loop *loop;
    uint64_t n;      /* calls per task this sample */
    int tasks;       /* tasks calling at once */
    int left;        /* tasks not finished */
    int rc;
};

static int empty_job(void *arg, void **result)
{
    (void)arg;
    *result = NULL;
    return 0;
}

static int caller(void *arg, void **result)
{
    struct tt *s = arg;
    (void)result;
    for (uint64_t i = 0; i < s->n; i++) {
        int rc = corio_to_thread(empty_job, NULL, NULL);
        if (rc) {
            s->rc = rc;
            break;
        }
    }
    if (--s->left == 0)
        corio_loop_stop(s->loop);
    return 0;
}

static int tt_setup_k(void **state, int tasks)
{
    struct tt *s = calloc(1, sizeof *s);
    int rc;
    if (!s)
        return -ENOMEM;
    if ((rc = corio_loop_new(NULL, &s->loop)) != 0) {
        free(s);
        return rc;
    }
    s->tasks = tasks;
    *state = s;
    return 0;
}

static int tt_setup(void **state, const char **why)
{
    (void)why;
    return tt_setup_k(state, 1);
}

static int tt_setup4(void **state, const char **why)
{
    (void)why;
    return tt_setup_k(state, 4);
}

static int tt_run(void *state, uint64_t n)
{
    struct tt *s = state;
    int i, rc;
    s->n = (n + (uint64_t)s->tasks - 1) / (uint64_t)s->tasks;
    s->left = s->tasks;
    s->rc = 0;
    for (i = 0; i < s->tasks; i++)
        if ((rc = corio_loop_spawn(s->loop, caller, s, NULL, NULL)) != 0)
            return rc;
    if ((rc = corio_loop_run(s->loop)) != 0)
        return rc;
    return s->rc;
}

static void tt_teardown(void *state)
{
    struct tt *s = state;
    corio_loop_free(s->loop);
    free(s);
}

/* ---- libuv's uv_queue_work ----------------------------------------------------------- */

#ifdef CORIO_BENCH_HAVE_LIBUV
struct uvq {
    uv_loop_t loop;
    uv_work_t req;
    uint64_t left;
    int rc;
};

static void uvq_work(uv_work_t *req)
{
    (void)req;
}

static void uvq_after(uv_work_t *req, int status)
{
    struct uvq *s = req->data;
    if (status != 0) {
        s->rc = status;
        return;
    }
    if (--s->left > 0 &&
        (s->rc = uv_queue_work(&s->loop, &s->req, uvq_work, uvq_after)) != 0)
        return;
}

static int uvq_setup(void **state, const char **why)
{
    struct uvq *s = calloc(1, sizeof *s);
    (void)why;
    if (!s)
        return -ENOMEM;
    if (uv_loop_init(&s->loop) != 0) {
        free(s);
        return -ENOMEM;
    }
    s->req.data = s;
    *state = s;
    return 0;
}

static int uvq_run(void *state, uint64_t n)
{
    struct uvq *s = state;
    if (n == 0)
        return 0;
    s->left = n;
    s->rc = 0;
    if ((s->rc = uv_queue_work(&s->loop, &s->req, uvq_work, uvq_after)) != 0)
        return s->rc;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return s->rc;
}

static void uvq_teardown(void *state)
{
    struct uvq *s = state;
    uv_loop_close(&s->loop);
    free(s);
}
#else
static int uvq_setup(void **state, const char **why)
{
    (void)state;
    *why = "libuv1-dev not installed";
    return BENCH_NA;
}

static int uvq_run(void *state, uint64_t n)
{
    (void)state;
    (void)n;
    return 0;
}

static void uvq_teardown(void *state)
{
    (void)state;
}
#endif

/* ---- the table ----------------------------------------------------------------------- */

static const bench_row rows[] = {
    {"reference (pthread cond hand-off)", ref_setup, ref_run, ref_teardown,
     0},
    {"corio_to_thread (empty job)", tt_setup, tt_run, tt_teardown, 0},
    {"corio_to_thread, 4 tasks at once", tt_setup4, tt_run, tt_teardown, 0},
    {"libuv uv_queue_work (empty job)", uvq_setup, uvq_run, uvq_teardown, 0},
};

static const bench_table table = {
    "Thread pool: round trip of an empty job",
    "ns/round-trip",
    NULL,
    0,
    rows,
    (int)(sizeof rows / sizeof rows[0]),
};

/* asyncio.to_thread, one run of the Python script. */
static void asyncio_row(const bench_opts *opts)
{
    char out[512], n[32];
    const char *why = NULL;
    const char *args[] = {"tothread", n, NULL};
    double ns = 0;
    snprintf(n, sizeof n, "%d", opts->quick ? 200 : 20000);
    if (lb_python_setup(&why) != 0 ||
        lb_python_run(args, 120, out, sizeof out, &why) != 0 ||
        lb_field(out, "ns_per_call", &ns) != 0) {
        printf("  asyncio.to_thread (one run): n/a (%s)\n",
               why ? why : "no result");
        return;
    }
    printf("  asyncio.to_thread (one run): %.0f ns/round-trip\n", ns);
}

/* Idle threads sleep: after a burst of jobs, the process's CPU time
 * over 200 ms of doing nothing (the pool's threads are parked, none
 * spins). */
/* threadpool.c's count of parked threads (src/thread/pool.h; the bench
 * links corio statically). */
unsigned corio__pool_parked(corio_pool *p);

static void idle_row(void)
{
    struct tt *s;
    corio_pool *p;
    struct rusage r0, r1;
    struct timespec nap = {0, 200000000};
    double us;
    if (tt_setup_k((void **)&s, 4) != 0)
        return;
    if (tt_run(s, 4000) != 0 || corio_loop_pool(s->loop, &p) != 0) {
        tt_teardown(s);
        return;
    }
    /* The last jobs' threads park (on a loaded machine they may still
     * wait for a CPU to get there). */
    while (corio__pool_parked(p) != corio_pool_threads(p))
        sched_yield();
    getrusage(RUSAGE_SELF, &r0);
    nanosleep(&nap, NULL);
    getrusage(RUSAGE_SELF, &r1);
    us = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec +
                  r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e6 +
         (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec +
                  r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
    printf("  idle pool after a burst: %.0f us of CPU in 200 ms "
           "(threads parked, none spins)\n", us);
    tt_teardown(s);
}

static int tothread_run(const bench_opts *opts)
{
    int rc = bench_table_run(&table, opts);
    asyncio_row(opts);
    idle_row();
    printf("\n"
           "  A round trip wakes a sleeping thread and is woken back:\n"
           "  corio makes five system calls (futex wake and wait, eventfd\n"
           "  write and read, one poller wait); libuv 1.x about seven\n"
           "  (perf stat: 4.4 futex calls per job, its pool's mutex and\n"
           "  condition variable). With 4 tasks, jobs overlap on up to 4\n"
           "  threads. When the pool thread parked on another CPU than the\n"
           "  loop's, the loop pins it to its own CPU for the wake-up and it\n"
           "  unpins itself (two more calls): on an idle machine the two\n"
           "  would otherwise stay on two CPUs that sleep between hand-offs.\n");
    return rc;
}

const bench_suite bench_suite_tothread = {
    "tothread",
    "thread pool: corio_to_thread round trip vs a pthread hand-off",
    tothread_run,
};
