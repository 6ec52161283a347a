/*
 * test_thread.c: the thread pool and corio_to_thread: results and errors,
 * threads started lazily and ended when idle, lanes that do not starve
 * each other, both cancel modes before start, while running and after
 * done, and work in flight when the loop ends (corio_loop_free,
 * corio_run after SIGINT). Workers and tasks meet through pipes and
 * semaphores, never sleeps.
 */
#include "test.h"

#include "cancel_rule.h"
#include "run_body.h"
#include "thread/pool.h"

#include <corio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

/* ---- helpers: a gate the work blocks on, a signal that it started ------------ */

struct gate {
    int hold[2];    /* the work reads hold[0]: blocks until a byte comes */
    int started[2]; /* the work writes started[1] when it begins */
    atomic_int runs;
    atomic_int freed;
    sem_t freed_sem;
    pthread_t ran_on;
};

static struct gate G;

static void gate_init(void)
{
    CHECK_EQ(pipe2(G.hold, O_CLOEXEC), 0);
    CHECK_EQ(pipe2(G.started, O_CLOEXEC), 0);
    CHECK_EQ(corio_fd_nonblock(G.started[0]), 0);
    atomic_store(&G.runs, 0);
    atomic_store(&G.freed, 0);
    CHECK_EQ(sem_init(&G.freed_sem, 0, 0), 0);
}

static void gate_open(void)
{
    char c = 'x';
    CHECK_EQ(write(G.hold[1], &c, 1), 1);
}

/* In a task: wait until a work item said it started. */
static void await_started(void)
{
    char c;
    CHECK_EQ(corio_read(G.started[0], &c, 1), 1);
}

static int gated_work(void *arg, void **result)
{
    char c = 's';
    atomic_fetch_add(&G.runs, 1);
    CHECK_EQ(write(G.started[1], &c, 1), 1);
    CHECK_EQ(read(G.hold[0], &c, 1), 1);
    *result = malloc(16);
    return (int)(intptr_t)arg;
}

static int quick_work(void *arg, void **result)
{
    atomic_fetch_add(&G.runs, 1);
    G.ran_on = pthread_self();
    *result = malloc(16);
    return (int)(intptr_t)arg;
}

static void free_counted(void *r)
{
    free(r);
    atomic_fetch_add(&G.freed, 1);
    sem_post(&G.freed_sem);
}

static const corio_to_thread_opts abandon_opts = {CORIO_LANE_USER,
                                                  CORIO_CANCEL_ABANDON,
                                                  free_counted};
static const corio_to_thread_opts wait_opts = {CORIO_LANE_USER,
                                               CORIO_CANCEL_WAIT,
                                               free_counted};

/* ---- basics -------------------------------------------------------------------- */

static int basic_body(void)
{
    void *r = NULL;
    int rc = corio_to_thread(quick_work, (void *)(intptr_t)-EDOM, &r);
    CHECK_EQ(rc, -EDOM); /* fn's own return value */
    CHECK(r != NULL);
    CHECK(!pthread_equal(G.ran_on, pthread_self()));
    free(r);
    r = NULL;
    CHECK_EQ(corio_to_thread(quick_work, 0, &r), 0);
    free(r);
    /* No result pointer: the result goes to free_result. */
    CHECK_EQ(corio_to_thread_with(quick_work, 0, &abandon_opts, NULL), 0);
    CHECK_EQ(atomic_load(&G.freed), 1);
    return 0;
}

TEST(thread_to_thread_basic)
{
    gate_init();
    /* A task waiting on pool work is no deadlock: corio_run finishes. */
    CHECK_EQ(run(basic_body), 0);
    CHECK_EQ(atomic_load(&G.runs), 3);
}

static int errors_body(void)
{
    corio_to_thread_opts o = {CORIO_LANE_COUNT, 0, NULL};
    CHECK_EQ(corio_to_thread(NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_to_thread_with(quick_work, NULL, &o, NULL), -EINVAL);
    o.lane = -1;
    CHECK_EQ(corio_to_thread_with(quick_work, NULL, &o, NULL), -EINVAL);
    o.lane = 0;
    o.cancel = 7;
    CHECK_EQ(corio_to_thread_with(quick_work, NULL, &o, NULL), -EINVAL);
    CHECK_EQ(atomic_load(&G.runs), 0);
    return 0;
}

TEST(thread_to_thread_errors)
{
    gate_init();
    CHECK_EQ(corio_to_thread(quick_work, NULL, NULL), CORIO_ENOTASK);
    CHECK_EQ(run(errors_body), 0);
}

/* ---- threads start lazily and exit when idle -------------------------------------- */

static corio_pool *P;

static int lazy_body(void)
{
    void *r;
    CHECK_EQ(corio_pool_threads(P), 0);
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), P), 0);
    CHECK_EQ(corio_pool_threads(P), 0); /* no thread before the first job */
    CHECK_EQ(corio_to_thread(quick_work, 0, &r), 0);
    free(r);
    CHECK(!pthread_equal(G.ran_on, pthread_self())); /* a thread ran it */
    CHECK(corio_pool_threads(P) <= 1); /* one at most (it may be gone) */
    /* The idle thread exits after its timeout. */
    while (corio_pool_threads(P) > 0)
        CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_to_thread(quick_work, 0, &r), 0); /* and comes back */
    free(r);
    return 0;
}

TEST(thread_pool_lazy_idle)
{
    corio_pool_opts o = {{0, 0, 0}, 0.01, 0};
    corio_pool *mine;
    gate_init();
    CHECK_EQ(corio_pool_new(&o, &P), 0);
    CHECK_EQ(run(lazy_body), 0);
    corio_pool_retain(P);
    mine = P;
    corio_pool_release(P);
    corio_pool_release(mine); /* the last: threads joined */
}

TEST(thread_pool_opts)
{
    corio_pool_opts o = {{0, 0, 0}, 0, 0};
    corio_pool *p = NULL;
    corio_loop *loop;
    corio_pool *got = NULL, *got2 = NULL;
    o.lane_threads[1] = 1025;
    CHECK_EQ(corio_pool_new(&o, &p), -EINVAL);
    o.lane_threads[1] = 0;
    o.idle_timeout = -1;
    CHECK_EQ(corio_pool_new(&o, &p), -EINVAL);
    o.idle_timeout = 0;
    o.shutdown_grace = 1.0 / 0.0;
    CHECK_EQ(corio_pool_new(&o, &p), -EINVAL);
    CHECK(p == NULL);
    CHECK_EQ(corio_pool_new(NULL, &p), 0);
    /* Loops share the default pool until given one. */
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_pool(loop, &got), 0);
    {
        corio_loop *loop2;
        CHECK_EQ(corio_loop_new(NULL, &loop2), 0);
        CHECK_EQ(corio_loop_pool(loop2, &got2), 0);
        CHECK_PTR(got, got2);
        CHECK_EQ(corio_loop_set_pool(loop2, p), 0);
        CHECK_EQ(corio_loop_pool(loop2, &got2), 0);
        CHECK_PTR(got2, p);
        CHECK_EQ(corio_loop_set_pool(loop2, NULL), 0); /* back to default */
        CHECK_EQ(corio_loop_pool(loop2, &got2), 0);
        CHECK_PTR(got2, got);
        CHECK_EQ(corio_loop_free(loop2), 0);
    }
    CHECK_EQ(corio_loop_free(loop), 0);
    corio_pool_release(p);
}

/* ---- lanes ------------------------------------------------------------------------- */

static int slow_dns(void *arg, void **result)
{
    return gated_work(arg, result);
}

static int dns_task(void *arg, void **result)
{
    corio_to_thread_opts o = {CORIO_LANE_DNS, 0, free_counted};
    void *r = NULL;
    int rc = corio_to_thread_with(slow_dns, 0, &o, &r);
    free(r);
    (void)arg;
    (void)result;
    return rc;
}

static int lanes_body(void)
{
    corio_to_thread_opts file = {CORIO_LANE_FILE, 0, NULL};
    corio_task *a, *b;
    void *r = NULL;
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), P), 0);
    /* Two slow name lookups fill the DNS lane (limit 2)... */
    CHECK_EQ(corio_spawn(dns_task, NULL, NULL, &a), 0);
    CHECK_EQ(corio_spawn(dns_task, NULL, NULL, &b), 0);
    await_started();
    await_started();
    /* ...yet file and user work still runs. */
    CHECK_EQ(corio_to_thread_with(quick_work, 0, &file, &r), 0);
    free(r);
    CHECK_EQ(corio_to_thread(quick_work, 0, &r), 0);
    free(r);
    CHECK(corio_pool_threads(P) >= 3 && corio_pool_threads(P) <= 4);
    gate_open();
    gate_open();
    CHECK_EQ(corio_task_join(a, NULL), 0);
    CHECK_EQ(corio_task_join(b, NULL), 0);
    corio_task_release(a);
    corio_task_release(b);
    return 0;
}

TEST(thread_lanes_no_starvation)
{
    corio_pool_opts o = {{1, 1, 2}, 0, 0};
    gate_init();
    CHECK_EQ(corio_pool_new(&o, &P), 0);
    CHECK_EQ(run(lanes_body), 0);
    corio_pool_release(P);
}

/* A lane's limit: a second job waits until the first ends. */
static int limit_body(void)
{
    corio_task *a, *b;
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), P), 0);
    CHECK_EQ(corio_spawn(dns_task, NULL, NULL, &a), 0);
    CHECK_EQ(corio_spawn(dns_task, NULL, NULL, &b), 0);
    await_started();
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(atomic_load(&G.runs), 1); /* b's job is queued */
    CHECK_EQ(corio_pool_threads(P), 1);
    gate_open();
    await_started(); /* b's job starts once a's ended */
    CHECK_EQ(atomic_load(&G.runs), 2);
    gate_open();
    CHECK_EQ(corio_task_join(a, NULL), 0);
    CHECK_EQ(corio_task_join(b, NULL), 0);
    corio_task_release(a);
    corio_task_release(b);
    return 0;
}

TEST(thread_lane_limit)
{
    corio_pool_opts o = {{1, 1, 1}, 0, 0};
    gate_init();
    CHECK_EQ(corio_pool_new(&o, &P), 0);
    CHECK_EQ(run(limit_body), 0);
    corio_pool_release(P);
}

/* ---- cancellation ---------------------------------------------------------------------- */

struct waiter {
    const corio_to_thread_opts *opts;
    int rc;
    void *r;
    int returned;
};

static int waiter_task(void *arg, void **result)
{
    struct waiter *w = arg;
    w->r = NULL;
    w->rc = corio_to_thread_with(gated_work, 0, w->opts, &w->r);
    w->returned = 1;
    (void)result;
    return 0;
}

/* Cancel standing: -ECANCELED at once, nothing submitted. */
static int cancel_standing_body(void)
{
    void *r = NULL;
    witness();
    cancel_self();
    CHECK_EQ(corio_to_thread_with(quick_work, 0, &abandon_opts, &r),
             -ECANCELED);
    CHECK_EQ(corio_to_thread_with(quick_work, 0, &wait_opts, &r),
             -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK(r == NULL);
    CHECK_EQ(atomic_load(&G.runs), 0);
    return 0;
}

TEST(thread_cancel_before_start)
{
    gate_init();
    CHECK_EQ(run(cancel_standing_body), 0);
}

/* Cancelled while queued (the lane is full): the work never runs. */
static int cancel_queued_body(void)
{
    struct waiter a = {&abandon_opts, 1, NULL, 0};
    struct waiter b = {&abandon_opts, 1, NULL, 0};
    struct waiter c = {&wait_opts, 1, NULL, 0};
    corio_task *ta, *tb, *tc;
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), P), 0);
    CHECK_EQ(corio_spawn(waiter_task, &a, NULL, &ta), 0);
    await_started();
    CHECK_EQ(corio_spawn(waiter_task, &b, NULL, &tb), 0);
    CHECK_EQ(corio_spawn(waiter_task, &c, NULL, &tc), 0);
    CHECK_EQ(corio_sleep(0.001), 0); /* b and c queue behind a */
    CHECK_EQ(corio_task_cancel(tb), 0);
    CHECK_EQ(corio_task_cancel(tc), 0);
    CHECK_EQ(corio_task_join(tb, NULL), 0);
    CHECK_EQ(corio_task_join(tc, NULL), 0);
    CHECK_EQ(b.rc, -ECANCELED);
    CHECK_EQ(c.rc, -ECANCELED);
    CHECK(b.r == NULL && c.r == NULL);
    gate_open();
    CHECK_EQ(corio_task_join(ta, NULL), 0);
    CHECK_EQ(a.rc, 0);
    free(a.r);
    CHECK_EQ(atomic_load(&G.runs), 1); /* b's and c's work never ran */
    CHECK_EQ(atomic_load(&G.freed), 0);
    corio_task_release(ta);
    corio_task_release(tb);
    corio_task_release(tc);
    return 0;
}

TEST(thread_cancel_queued)
{
    corio_pool_opts o = {{1, 1, 1}, 0, 0};
    gate_init();
    CHECK_EQ(corio_pool_new(&o, &P), 0);
    CHECK_EQ(run(cancel_queued_body), 0);
    corio_pool_release(P);
}

/* ABANDON, cancelled while running: the wait ends at once; the work runs
 * on and its result goes to free_result. */
static int abandon_running_body(void)
{
    struct waiter a = {&abandon_opts, 1, NULL, 0};
    corio_task *ta;
    CHECK_EQ(corio_spawn(waiter_task, &a, NULL, &ta), 0);
    await_started();
    /* The deadlock detector counts it as a wait an outside event ends. */
    CHECK_EQ(corio_loop_current()->outside_waits, 1);
    CHECK_EQ(corio_task_cancel(ta), 0);
    CHECK_EQ(corio_task_join(ta, NULL), 0); /* while the work still runs */
    CHECK_EQ(a.rc, -ECANCELED);
    CHECK(a.r == NULL);
    CHECK_EQ(corio_loop_current()->outside_waits, 0);
    CHECK_EQ(atomic_load(&G.freed), 0);
    gate_open();
    /* The result reaches free_result on the pool thread. */
    while (sem_trywait(&G.freed_sem) != 0)
        CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(atomic_load(&G.freed), 1);
    corio_task_release(ta);
    return 0;
}

TEST(thread_cancel_abandon_running)
{
    gate_init();
    CHECK_EQ(run(abandon_running_body), 0);
}

/* WAIT, cancelled while running: the wait goes on until the work ends,
 * then -ECANCELED with the result (the caller's). */
static int wait_running_body(void)
{
    struct waiter a = {&wait_opts, 1, NULL, 0};
    corio_task *ta;
    int i;
    CHECK_EQ(corio_spawn(waiter_task, &a, NULL, &ta), 0);
    await_started();
    CHECK_EQ(corio_task_cancel(ta), 0);
    for (i = 0; i < 5; i++)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(a.returned, 0); /* still waiting: the work is blocked */
    gate_open();
    CHECK_EQ(corio_task_join(ta, NULL), 0);
    CHECK_EQ(a.rc, -ECANCELED);
    CHECK(a.r != NULL);
    free(a.r);
    CHECK_EQ(atomic_load(&G.freed), 0);
    corio_task_release(ta);
    return 0;
}

TEST(thread_cancel_wait_running)
{
    gate_init();
    CHECK_EQ(run(wait_running_body), 0);
}

/* Done but not yet delivered: the loop's thread blocks until the work
 * has been handed to its port, then the cancel comes. */
static void until_in_port(void)
{
    corio__port *port = corio__port_of(corio_loop_current());
    int in;
    CHECK(port != NULL);
    do {
        pthread_mutex_lock(&port->mu);
        in = !corio__list_empty(&port->done);
        pthread_mutex_unlock(&port->mu);
        if (!in)
            sched_yield();
    } while (!in);
}

static int done_undelivered_body(void)
{
    struct waiter a = {&abandon_opts, 1, NULL, 0};
    struct waiter b = {&wait_opts, 1, NULL, 0};
    corio_task *ta, *tb;

    CHECK_EQ(corio_spawn(waiter_task, &a, NULL, &ta), 0);
    await_started();
    gate_open();
    until_in_port();
    CHECK_EQ(corio_task_cancel(ta), 0);
    CHECK_EQ(corio_task_join(ta, NULL), 0);
    CHECK_EQ(a.rc, -ECANCELED);
    CHECK(a.r == NULL);
    CHECK_EQ(atomic_load(&G.freed), 1); /* freed on the loop's thread */

    CHECK_EQ(corio_spawn(waiter_task, &b, NULL, &tb), 0);
    await_started();
    gate_open();
    until_in_port();
    CHECK_EQ(corio_task_cancel(tb), 0);
    CHECK_EQ(corio_task_join(tb, NULL), 0);
    CHECK_EQ(b.rc, -ECANCELED);
    CHECK(b.r != NULL); /* WAIT: the caller gets it */
    free(b.r);
    CHECK_EQ(atomic_load(&G.freed), 1);

    corio_task_release(ta);
    corio_task_release(tb);
    return 0;
}

TEST(thread_cancel_done_undelivered)
{
    gate_init();
    CHECK_EQ(run(done_undelivered_body), 0);
}

/* After the call returned, a cancel changes nothing of its result. */
static int after_done_body(void)
{
    void *r = NULL;
    CHECK_EQ(corio_to_thread_with(quick_work, 0, &abandon_opts, &r), 0);
    cancel_self();
    CHECK(r != NULL);
    free(r);
    CHECK_EQ(atomic_load(&G.freed), 0);
    CHECK_EQ(corio_sleep(0), -ECANCELED);
    uncancel_self();
    return 0;
}

TEST(thread_cancel_after_done)
{
    gate_init();
    CHECK_EQ(run(after_done_body), 0);
}

/* ---- the loop ends with work in flight --------------------------------------------------- */

static int started_then_stop(void *arg, void **result)
{
    corio_loop *loop = arg;
    await_started();
    corio_loop_stop(loop);
    (void)result;
    return 0;
}

/* corio_loop_free with a job that outlives the grace: reported,
 * abandoned, and it frees its result on its own thread later. */
static void loop_free_in_flight(const corio_to_thread_opts *opts,
                                const char *report)
{
    corio_pool_opts po = {{0, 0, 0}, 0, 0.02};
    struct waiter a = {opts, 1, NULL, 0};
    corio_loop *loop;
    char *err;
    gate_init();
    CHECK_EQ(corio_pool_new(&po, &P), 0);
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_set_pool(loop, P), 0);
    corio_pool_release(P); /* the loop and the job hold it */
    CHECK_EQ(corio_loop_spawn(loop, waiter_task, &a, NULL, NULL), 0);
    CHECK_EQ(corio_loop_spawn(loop, started_then_stop, loop, NULL, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    corio_test_stderr_begin();
    CHECK_EQ(corio_loop_free(loop), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, report);
    free(err);
    CHECK_EQ(atomic_load(&G.freed), 0);
    gate_open();
    CHECK_EQ(sem_wait(&G.freed_sem), 0); /* its result was freed */
    CHECK_EQ(atomic_load(&G.freed), 1);
}

TEST(thread_loop_free_abandons_after_grace)
{
    loop_free_in_flight(&abandon_opts, "1 pool job(s) still run");
}

TEST(thread_loop_free_wait_mode_grace)
{
    loop_free_in_flight(&wait_opts, "abandoned");
}

/* A job that ends within the grace is waited for: no report. */
static atomic_int freeing;

static int ends_when_freed(void *arg, void **result)
{
    char c = 's';
    CHECK_EQ(write(G.started[1], &c, 1), 1);
    while (!atomic_load(&freeing))
        sched_yield();
    *result = malloc(8);
    return 0;
}

static int in_flight_task(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_to_thread_with(ends_when_freed, NULL, &abandon_opts, NULL);
}

TEST(thread_loop_free_waits_within_grace)
{
    corio_pool_opts po = {{0, 0, 0}, 0, 60};
    corio_loop *loop;
    char *err;
    gate_init();
    CHECK_EQ(corio_pool_new(&po, &P), 0);
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_set_pool(loop, P), 0);
    CHECK_EQ(corio_loop_spawn(loop, in_flight_task, NULL, NULL, NULL), 0);
    CHECK_EQ(corio_loop_spawn(loop, started_then_stop, loop, NULL, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    corio_test_stderr_begin();
    atomic_store(&freeing, 1);
    CHECK_EQ(corio_loop_free(loop), 0);
    err = corio_test_stderr_end();
    CHECK(strstr(err, "abandoned") == NULL);
    free(err);
    CHECK_EQ(atomic_load(&G.freed), 1); /* ended before the free returned */
    corio_pool_release(P);
}

/* corio_run interrupted by SIGINT while its main task waits on pool
 * work: main is cancelled, corio_run returns, the job is abandoned after
 * the grace and frees itself later. */
static int sigint_work(void *arg, void **result)
{
    char c;
    CHECK_EQ(kill(getpid(), SIGINT), 0); /* pool threads block it */
    CHECK_EQ(read(G.hold[0], &c, 1), 1);
    *result = malloc(8);
    (void)arg;
    return 0;
}

static int sigint_main(void *arg, void **result)
{
    corio_pool_opts po = {{0, 0, 0}, 0, 0.02};
    corio_pool *p;
    CHECK_EQ(corio_pool_new(&po, &p), 0);
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), p), 0);
    corio_pool_release(p);
    (void)arg;
    (void)result;
    return corio_to_thread_with(sigint_work, NULL, &abandon_opts, NULL);
}

TEST(thread_run_sigint_in_flight)
{
    char *err;
    gate_init();
    corio_test_stderr_begin();
    CHECK_EQ(corio_run(sigint_main, NULL, NULL), -ECANCELED);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "abandoned");
    free(err);
    gate_open();
    CHECK_EQ(sem_wait(&G.freed_sem), 0);
}

/* ---- resource exhaustion ----------------------------------------------------------------- */

#include "oom.h"

/* No thread can start (no address space for its stack) and none runs:
 * -EAGAIN, nothing ran; once memory is back the pool works. */
static int no_thread_body(void)
{
    void *r = NULL;
    int rc;
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), P), 0);
    oom_begin();
    rc = corio_to_thread(quick_work, 0, &r);
    oom_end();
    CHECK(rc == -EAGAIN || rc == -ENOMEM);
    CHECK(r == NULL);
    CHECK_EQ(atomic_load(&G.runs), 0);
    CHECK_EQ(corio_pool_threads(P), 0);
    CHECK_EQ(corio_to_thread(quick_work, 0, &r), 0);
    free(r);
    return 0;
}

TEST(thread_no_thread_can_start)
{
    oom_require();
    gate_init();
    CHECK_EQ(corio_pool_new(NULL, &P), 0);
    CHECK_EQ(run(no_thread_body), 0);
    corio_pool_release(P);
}

/* ---- idle threads sleep ------------------------------------------------------------ */

static int empty_work(void *arg, void **result)
{
    (void)arg;
    *result = NULL;
    return 0;
}

static int burst(void *arg, void **result)
{
    int k;
    (void)arg;
    (void)result;
    for (k = 0; k < 50; k++)
        CHECK_EQ(corio_to_thread(empty_work, NULL, NULL), 0);
    return 0;
}

/* State letter of thread tid of this process (/proc), '?' if gone. */
static char thread_state(const char *tid)
{
    char path[96], buf[512], *p;
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
    if (!(f = fopen(path, "r")))
        return '?';
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    p = strrchr(buf, ')'); /* the name may hold spaces */
    return p && p[1] == ' ' ? p[2] : '?';
}

/* Threads of this process, other than the caller, that are running. */
static int others_running(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    char self[32];
    int n = 0;
    CHECK(d != NULL);
    snprintf(self, sizeof self, "%ld", (long)syscall(SYS_gettid));
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strcmp(e->d_name, self) != 0 &&
            thread_state(e->d_name) == 'R')
            n++;
    closedir(d);
    return n;
}

/* After bursts of jobs from 4 tasks, every pool thread parks (no thread
 * spins for work) and sleeps in the kernel until the idle timeout. */
static int idle_body(void)
{
    corio_task *t[4];
    int i;
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), P), 0);
    for (i = 0; i < 4; i++)
        CHECK_EQ(corio_spawn(burst, NULL, NULL, &t[i]), 0);
    for (i = 0; i < 4; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        corio_task_release(t[i]);
    }
    CHECK(corio_pool_threads(P) >= 1);
    while (corio__pool_parked(P) != corio_pool_threads(P))
        sched_yield();
    /* Parked is counted just before the futex wait: wait until the
     * kernel has them asleep too. */
    while (others_running() > 0)
        sched_yield();
    CHECK_EQ(corio__pool_parked(P), corio_pool_threads(P));
    return 0;
}

TEST(thread_pool_idle_threads_sleep)
{
    corio_pool_opts o = {{0, 0, 0}, 1000, 0}; /* no idle exit meanwhile */
    CHECK_EQ(corio_pool_new(&o, &P), 0);
    CHECK_EQ(run(idle_body), 0);
    corio_pool_release(P);
}

/* ---- an abandoned job's free_result that waits for a later job ---------------------- */

static sem_t j1_go, in_free, j2_ran;
static corio_pool *Q;

static int j1_fn(void *arg, void **result)
{
    (void)arg;
    CHECK_EQ(sem_wait(&j1_go), 0);
    *result = malloc(1);
    return 0;
}

/* Runs on the pool thread that ran j1, on its way back from it. */
static void slow_free(void *r)
{
    free(r);
    CHECK_EQ(sem_post(&in_free), 0);
    CHECK_EQ(sem_wait(&j2_ran), 0); /* only a later job posts it */
}

static int j2_fn(void *arg, void **result)
{
    (void)arg;
    *result = NULL;
    CHECK_EQ(sem_post(&j2_ran), 0);
    return 0;
}

static pthread_barrier_t meet;

static int meet_fn(void *arg, void **result)
{
    int rc;
    (void)arg;
    *result = NULL;
    rc = pthread_barrier_wait(&meet);
    CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
    return 0;
}

static int meet_task(void *arg, void **result)
{
    (void)arg;
    (void)result;
    CHECK_EQ(corio_to_thread(meet_fn, NULL, NULL), 0);
    return 0;
}

static int j1_task(void *arg, void **result)
{
    corio_to_thread_opts o = {CORIO_LANE_USER, CORIO_CANCEL_ABANDON,
                              slow_free};
    void *r = NULL;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_to_thread_with(j1_fn, NULL, &o, &r), -ECANCELED);
    return 0;
}

/* Two threads exist and are parked; j1 is abandoned while it runs, and
 * its free_result waits until j2 has run. j2 must get the parked thread:
 * the thread still busy in the free_result is not coming for it. */
static int free_waits_body(void)
{
    corio_task *t;
    int i;
    corio_task *b[2];
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), Q), 0);
    /* Two jobs that must run at once: two threads. */
    for (i = 0; i < 2; i++)
        CHECK_EQ(corio_spawn(meet_task, NULL, NULL, &b[i]), 0);
    for (i = 0; i < 2; i++) {
        CHECK_EQ(corio_task_join(b[i], NULL), 0);
        corio_task_release(b[i]);
    }
    CHECK_EQ(corio_pool_threads(Q), 2);
    while (corio__pool_parked(Q) != corio_pool_threads(Q))
        sched_yield();
    CHECK_EQ(corio_spawn(j1_task, NULL, NULL, &t), 0);
    while (corio__pool_running(Q, CORIO_LANE_USER) != 1)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0); /* -ECANCELED at once */
    corio_task_release(t);
    CHECK_EQ(sem_post(&j1_go), 0);
    CHECK_EQ(sem_wait(&in_free), 0); /* j1's thread waits in free_result */
    CHECK_EQ(corio_to_thread(j2_fn, NULL, NULL), 0); /* would hang */
    return 0;
}

TEST(thread_abandoned_free_waits_for_next_job)
{
    corio_pool_opts o = {{0, 0, 0}, 1000, 0};
    sem_init(&j1_go, 0, 0);
    sem_init(&in_free, 0, 0);
    sem_init(&j2_ran, 0, 0);
    pthread_barrier_init(&meet, NULL, 2);
    CHECK_EQ(corio_pool_new(&o, &Q), 0);
    CHECK_EQ(run(free_waits_body), 0);
    corio_pool_release(Q);
}

/* ---- the CPU hint never leaves a thread pinned ----------------------------------------- */

/* A job that reports the CPU it ran on and the affinity it ran with. */
struct where {
    int cpu;
    cpu_set_t mask;
};

static int where_work(void *arg, void **result)
{
    struct where *w = arg;
    w->cpu = sched_getcpu();
    CHECK_EQ(sched_getaffinity(0, sizeof w->mask, &w->mask), 0);
    *result = NULL;
    return 0;
}

/* The submitter moves to a CPU other than the one the pool thread last
 * ran its job on, so the thread (parked there, most likely) is pinned to
 * the submitter's CPU for its wake-up: each job must still run with the
 * thread's own affinity, and the thread keep it afterwards. What the
 * scheduler then does is not checked (no timing, no placement). */
static int hint_body(void)
{
    cpu_set_t all, one;
    struct where w;
    int k, cpu, other;
    CHECK_EQ(sched_getaffinity(0, sizeof all, &all), 0);
    if (CPU_COUNT(&all) < 2)
        corio_test_skip("one CPU allowed: no other CPU to hint");
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), P), 0);
    for (k = 0; k < 20; k++) {
        CHECK_EQ(corio_to_thread(where_work, &w, NULL), 0);
        CHECK(CPU_EQUAL(&w.mask, &all));
        /* Move to another allowed CPU than the job's. */
        for (cpu = 0, other = -1; cpu < CPU_SETSIZE && other < 0; cpu++)
            if (CPU_ISSET(cpu, &all) && cpu != w.cpu)
                other = cpu;
        CHECK(other >= 0);
        CPU_ZERO(&one);
        CPU_SET(other, &one);
        CHECK_EQ(sched_setaffinity(0, sizeof one, &one), 0);
        CHECK_EQ(corio_to_thread(where_work, &w, NULL), 0);
        CHECK(CPU_EQUAL(&w.mask, &all)); /* unpinned before the job */
        CHECK_EQ(sched_setaffinity(0, sizeof all, &all), 0);
    }
    return 0;
}

TEST(thread_cpu_hint_restores_affinity)
{
    corio_pool_opts o = {{1, 1, 1}, 1000, 0}; /* one user thread */
    CHECK_EQ(corio_pool_new(&o, &P), 0);
    CHECK_EQ(run(hint_body), 0);
    corio_pool_release(P);
}
