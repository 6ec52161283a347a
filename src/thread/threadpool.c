/*
 * threadpool.c: thread pools with lanes, each loop's pool and port, and jobs
 * a task waits for (contract in corio/thread.h, internals in pool.h).
 *
 * Threads. A pool runs at most the sum of its lanes' limits of threads,
 * so a lane under its limit always finds a thread (started if need be):
 * lanes never starve each other. A thread takes the first job of the
 * next lane (round robin) that has work and is under its limit; with no
 * such job it parks (park: a futex word of its own, on the pool's idle
 * list, latest first) for up to idle_timeout, then exits. A submitter
 * takes a parked thread off the list under pool->mu and wakes it after
 * unlocking, so the woken thread finds the lock free; but not while a
 * thread is on its way back from a job to look for the next (`coming`):
 * that one takes it, so a task's next job runs on the thread and CPU of
 * its last instead of waking a sleeping thread (the way back may include
 * an abandoned job's free_result, which therefore should be quick). An
 * exited thread is joined by the next thread start or by the pool's end
 * (zombies).
 *
 * CPU hint. On a machine whose CPUs sleep when idle (a virtual machine's
 * halted vCPU above all), a hand-off between a thread on one CPU and a
 * sleeping thread on another waits for that CPU to wake (docs/status.md
 * measured 20-30 us for each, so 50-60 us a round trip, against 2 us
 * with both threads on one CPU). The kernel puts a woken thread back on
 * the CPU it slept on when that CPU is idle, so once a loop's thread and
 * the pool thread serving it sit on two CPUs they stay there. So when a
 * submitter whose loop has nothing else ready (its thread is about to
 * wait in the poller) wakes a thread that parked on another CPU, it
 * first pins that thread to its own CPU (sched_setaffinity), so the
 * wake-up lands beside it; the thread takes its own affinity back as
 * soon as it is awake, before it runs the job. Two system calls, only
 * when the two sit apart. Neither a synchronous wake-up (a pipe, WF_SYNC)
 * nor a spin did this: measured, they left the two apart (status.md).
 *
 * The wake path of a round trip (a task's job, then its next): the
 * submitter's futex wake, the thread's futex wait, its eventfd write
 * (corio__loop_post, made outside port->mu so the loop it wakes does not
 * find that lock held), the loop's poller wait and eventfd read: five
 * system calls, as libuv's uv_queue_work. No thread spins for work: on
 * the 2-CPU machine of docs/status.md a 5-50 us spin before parking made
 * the round trip 2-3x slower under load (the spinner holds a CPU the
 * loop's thread needs) and cost CPU per job.
 * Threads hold no reference: the pool's last reference (no loop uses it
 * and no job is in flight) tells the idle threads to exit and joins them.
 * When that last reference is dropped on one of the pool's own threads
 * (a job that outlived its loop freeing itself), the threads detach
 * instead and the last one out frees the pool.
 *
 * Loop side. A loop's thread layer state (loop->pool) holds the pool it
 * uses and its port; its closer (CORIO__CLOSE_IO order: after the tasks,
 * whose waits have ended by then) waits up to the pool's grace for jobs
 * still running, reports those it abandons, and cuts the port from the
 * loop.
 *
 * Locks: pool->mu guards lane queues, counts and the QUEUED -> RUNNING
 * and QUEUED -> DROPPED moves; port->mu guards the port and the RUNNING
 * -> DONE move and `abandoned`. Order: pool->mu before port->mu (never
 * both held in practice); the default pool's default_mu before pool->mu.
 */
#include "threads.h"
#include "alloc.h"
#include "thread/pool.h"

#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define LANE_THREADS_MAX 1024

struct worker {
    pthread_t tid;
    struct worker *next; /* in zombies, once exited */
    corio_pool *pool;
    struct worker *idle_next; /* in pool->idle_list while parked */
    atomic_uint woken;        /* its futex word: 1 once taken off the
                                 idle list (pool->mu) */
    pid_t ktid;               /* its kernel thread id */
    int cpu;                  /* the CPU it parked on (pool->mu) */
    atomic_int pinned;        /* a submitter pinned it (unpark) */
    cpu_set_t mask;           /* its own affinity, restored after that */
};

struct corio_pool {
    atomic_size_t refs;
    pthread_mutex_t mu;
    pthread_cond_t exit_cv;  /* a thread exited while closing */
    corio__list queue[CORIO_LANE_COUNT];
    unsigned queued[CORIO_LANE_COUNT];
    unsigned running[CORIO_LANE_COUNT];
    unsigned limit[CORIO_LANE_COUNT];
    unsigned max_threads;    /* sum of the limits */
    unsigned nthreads;       /* started and not exited */
    unsigned idle;           /* parked in idle_list */
    unsigned coming;         /* on their way to pick() without a wake-up:
                                back from a job, or unparked */
    struct worker *idle_list; /* parked threads, the latest first */
    atomic_uint waking;      /* submitters between unpark and its wake */
    unsigned rr;             /* next lane to look at first */
    atomic_size_t nthreads_pub; /* nthreads, for corio_pool_threads */
    int64_t idle_ns;
    double grace;
    unsigned char closing;
    unsigned char self_free; /* the last thread out frees the pool */
    unsigned char is_default;
    struct worker *zombies;
};

static _Thread_local struct worker *self_worker;

/* ---- time --------------------------------------------------------------------- */

static void abs_after(int64_t ns, struct timespec *ts)
{
    int64_t t = corio__loop_now_ns();
    t = ns > INT64_MAX - t ? INT64_MAX : t + ns;
    ts->tv_sec = (time_t)(t / 1000000000);
    ts->tv_nsec = (long)(t % 1000000000);
}

static int64_t until_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int64_t secs_ns(double s)
{
    return s >= 9e9 ? INT64_MAX / 2 : (int64_t)(s * 1e9);
}

static int cond_init_mono(pthread_cond_t *c)
{
    pthread_condattr_t a;
    int rc;
    if ((rc = pthread_condattr_init(&a)) != 0)
        return -rc;
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    rc = pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
    return -rc;
}

/* ---- the pool -------------------------------------------------------------------- */

int corio_pool_new(const corio_pool_opts *opts, corio_pool **out)
{
    corio_pool *p;
    int i;
    if (!out)
        return -EINVAL;
    if (opts) {
        for (i = 0; i < CORIO_LANE_COUNT; i++)
            if (opts->lane_threads[i] > LANE_THREADS_MAX)
                return -EINVAL;
        if (!(opts->idle_timeout >= 0) || isinf(opts->idle_timeout) ||
            !(opts->shutdown_grace >= 0) || isinf(opts->shutdown_grace))
            return -EINVAL;
    }
    p = corio__calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        corio__free(p);
        return -ENOMEM;
    }
    if (pthread_cond_init(&p->exit_cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        corio__free(p);
        return -ENOMEM;
    }
    for (i = 0; i < CORIO_LANE_COUNT; i++) {
        corio__list_init(&p->queue[i]);
        p->limit[i] = opts && opts->lane_threads[i] ? opts->lane_threads[i]
                                                    : CORIO_POOL_LANE_THREADS;
        p->max_threads += p->limit[i];
    }
    p->idle_ns = secs_ns(opts && opts->idle_timeout > 0
                             ? opts->idle_timeout
                             : CORIO_POOL_IDLE_TIMEOUT);
    p->grace = opts && opts->shutdown_grace > 0 ? opts->shutdown_grace
                                                : CORIO_POOL_SHUTDOWN_GRACE;
    atomic_init(&p->refs, 1);
    *out = p;
    return 0;
}

void corio_pool_retain(corio_pool *p)
{
    if (p)
        atomic_fetch_add(&p->refs, 1);
}

size_t corio_pool_threads(const corio_pool *p)
{
    return p ? atomic_load(&((corio_pool *)p)->nthreads_pub) : 0;
}

unsigned corio__pool_running(corio_pool *p, int lane)
{
    unsigned n;
    pthread_mutex_lock(&p->mu);
    n = p->running[lane];
    pthread_mutex_unlock(&p->mu);
    return n;
}

unsigned corio__pool_parked(corio_pool *p)
{
    unsigned n;
    pthread_mutex_lock(&p->mu);
    n = p->idle;
    pthread_mutex_unlock(&p->mu);
    return n;
}

static void join_all(struct worker *w)
{
    struct worker *next;
    for (; w; w = next) {
        next = w->next;
        pthread_join(w->tid, NULL);
        corio__free(w);
    }
}

static void pool_destroy(corio_pool *p)
{
    pthread_cond_destroy(&p->exit_cv);
    pthread_mutex_destroy(&p->mu);
    corio__free(p);
}

static void unpark(corio_pool *p, struct worker **wake, int cpu);

/* The last reference went: no job is queued or running anywhere. */
static void pool_shutdown(corio_pool *p)
{
    struct worker *z;
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    while (p->idle_list)
        unpark(p, NULL, -1); /* each sees closing and exits */
    if (self_worker && self_worker->pool == p) {
        /* On one of p's threads: it cannot join itself. */
        p->self_free = 1;
        pthread_mutex_unlock(&p->mu);
        return;
    }
    while (p->nthreads > 0)
        pthread_cond_wait(&p->exit_cv, &p->mu);
    z = p->zombies;
    p->zombies = NULL;
    pthread_mutex_unlock(&p->mu);
    join_all(z);
    pool_destroy(p);
}

static pthread_mutex_t default_mu = PTHREAD_MUTEX_INITIALIZER;
static corio_pool *default_pool;

void corio_pool_release(corio_pool *p)
{
    if (!p)
        return;
    if (p->is_default) {
        pthread_mutex_lock(&default_mu);
        if (atomic_fetch_sub(&p->refs, 1) != 1) {
            pthread_mutex_unlock(&default_mu);
            return;
        }
        default_pool = NULL;
        pthread_mutex_unlock(&default_mu);
    } else if (atomic_fetch_sub(&p->refs, 1) != 1) {
        return;
    }
    pool_shutdown(p);
}

/* A reference to the default pool, made if there is none. */
static int default_get(corio_pool **out)
{
    int rc = 0;
    pthread_mutex_lock(&default_mu);
    if (default_pool) {
        atomic_fetch_add(&default_pool->refs, 1);
    } else if ((rc = corio_pool_new(NULL, &default_pool)) == 0) {
        default_pool->is_default = 1;
    }
    if (rc == 0)
        *out = default_pool;
    pthread_mutex_unlock(&default_mu);
    return rc;
}

/* ---- threads ---------------------------------------------------------------------- */

/* The next job a thread may run, taken off its queue; pool->mu held. */
static corio__job *pick(corio_pool *p)
{
    unsigned i;
    for (i = 0; i < CORIO_LANE_COUNT; i++) {
        unsigned lane = (p->rr + i) % CORIO_LANE_COUNT;
        corio__node *n;
        if (p->running[lane] >= p->limit[lane] ||
            !(n = corio__list_pop(&p->queue[lane])))
            continue;
        p->rr = lane + 1;
        p->queued[lane]--;
        p->running[lane]++;
        return CORIO__CONTAINER(n, corio__job, item.node);
    }
    return NULL;
}

static void job_end_abandoned(corio__job *j);
static void not_coming(corio_pool *p);

/* Work returned: hand j to its loop, or end it if nobody waits. The
 * calling thread counts as coming back for the next job (pool->coming);
 * returns 1 if it stopped counting so (an abandoned job's end runs the
 * owner's code, which may take long or wait for the next job itself). */
static int job_finish(corio__job *j)
{
    corio__port *port = j->port;
    corio_loop *loop = NULL;
    pthread_mutex_lock(&port->mu);
    j->ran = 1;
    if (j->abandoned) {
        pthread_mutex_unlock(&port->mu);
        not_coming(j->pool);
        job_end_abandoned(j);
        return 1;
    }
    j->state = CORIO__JOB_DONE;
    if (port->loop) { /* it is: the owner waits */
        corio__list_push_back(&port->done, &j->item.node);
        if (!port->posted) {
            port->posted = 1;
            loop = port->loop;
            atomic_fetch_add_explicit(&port->posting, 1,
                                      memory_order_relaxed);
        }
    }
    pthread_cond_broadcast(&port->cv);
    pthread_mutex_unlock(&port->mu);
    if (loop) {
        /* Posted outside port->mu: the loop this wakes takes that lock
         * at once, and would otherwise find it held (a futex wait and
         * wake more per job). `posting` keeps the loop and the port
         * alive meanwhile (lstate_close waits for it). A failed post (the
         * loop is being freed) leaves the job in the list: teardown
         * takes it from there. */
        corio__loop_post(loop, &port->post);
        atomic_fetch_sub_explicit(&port->posting, 1, memory_order_release);
    }
    return 0;
}

/* Park the calling thread w (pool->mu held, released meanwhile) until
 * unpark takes it off the idle list or `until` passes: 1 if it was
 * unparked, 0 if not (it is off the list either way). A futex word per
 * thread rather than a condition variable: the thread wakes with
 * pool->mu free (the waker unlocks first) and takes it uncontended,
 * where a condition variable's wait takes the mutex back marked
 * contended, so its next unlock costs a futex wake-up nobody waits for;
 * and the latest thread parked is the first woken (its cache is warm,
 * and the others may reach their idle timeout). */
static void unpin(struct worker *w)
{
    if (atomic_load_explicit(&w->pinned, memory_order_acquire)) {
        atomic_store_explicit(&w->pinned, 0, memory_order_relaxed);
        sched_setaffinity(0, sizeof w->mask, &w->mask);
    }
}

static int park(corio_pool *p, struct worker *w, const struct timespec *until)
{
    struct worker **pp;
    int cpu = sched_getcpu();
    atomic_store_explicit(&w->woken, 0, memory_order_relaxed);
    w->cpu = cpu;
    w->idle_next = p->idle_list;
    p->idle_list = w;
    p->idle++;
    pthread_mutex_unlock(&p->mu);
    while (!atomic_load_explicit(&w->woken, memory_order_acquire)) {
        long rc = syscall(SYS_futex, &w->woken,
                          FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, until,
                          NULL, FUTEX_BITSET_MATCH_ANY);
        if (rc < 0 && errno == ETIMEDOUT)
            break;
    }
    unpin(w); /* before its job (a pin comes before woken: unpark) */
    pthread_mutex_lock(&p->mu);
    if (atomic_load_explicit(&w->woken, memory_order_relaxed)) {
        /* Woken while its wait was timing out: the pin (made under mu)
         * may have come after the look above. */
        unpin(w);
        return 1;
    }
    for (pp = &p->idle_list; *pp != w; pp = &(*pp)->idle_next)
        ;
    *pp = w->idle_next;
    p->idle--;
    return 0;
}

/* Take the latest parked thread off the idle list (pool->mu held). With
 * wake NULL it is woken now; else *wake gets it, for the caller to wake
 * with wake_parked once it has dropped pool->mu. cpu >= 0: the CPU hint
 * (see CPU hint above): if the thread parked on another CPU, pin it to
 * cpu first; it unpins itself once awake (woken is set after pinned, so
 * it cannot miss it). */
static void unpark(corio_pool *p, struct worker **wake, int cpu)
{
    struct worker *w = p->idle_list;
    p->idle_list = w->idle_next;
    p->idle--;
    p->coming++;
    if (cpu >= 0 && cpu != w->cpu && w->cpu >= 0 &&
        CPU_ISSET(cpu, &w->mask)) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(w->ktid, sizeof one, &one) == 0)
            atomic_store_explicit(&w->pinned, 1, memory_order_relaxed);
    }
    atomic_store_explicit(&w->woken, 1, memory_order_release);
    if (wake) {
        *wake = w;
        atomic_fetch_add_explicit(&p->waking, 1, memory_order_relaxed);
    } else
        syscall(SYS_futex, &w->woken, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1,
                NULL, NULL, 0);
}

/* Wake a thread unpark handed over (pool->mu not held). The thread may
 * have seen its word already, run a job and even reached its idle
 * timeout: an exiting thread waits until `waking` is 0, so its struct
 * outlives this call. */
static void wake_parked(corio_pool *p, struct worker *w)
{
    syscall(SYS_futex, &w->woken, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL,
            NULL, 0);
    atomic_fetch_sub_explicit(&p->waking, 1, memory_order_release);
}

static unsigned pickable(const corio_pool *p);

/* The calling thread, back from a job, will not look for the next soon:
 * jobs that counted on it get a parked thread. */
static void not_coming(corio_pool *p)
{
    struct worker *wake = NULL;
    pthread_mutex_lock(&p->mu);
    p->coming--;
    if (p->idle_list && pickable(p) > p->coming)
        unpark(p, &wake, -1);
    while (p->idle_list && pickable(p) > p->coming)
        unpark(p, NULL, -1); /* rare: more jobs counted on coming threads */
    pthread_mutex_unlock(&p->mu);
    if (wake)
        wake_parked(p, wake);
}

static void *worker_main(void *arg)
{
    struct worker *self = arg;
    corio_pool *p = self->pool;
    struct timespec until;
    int last, gone;

    self_worker = self;
    self->ktid = (pid_t)syscall(SYS_gettid);
    self->cpu = -1;
    if (sched_getaffinity(0, sizeof self->mask, &self->mask) != 0)
        CPU_ZERO(&self->mask); /* no hint for this thread */
    pthread_mutex_lock(&p->mu);
    for (;;) {
        corio__job *j = pick(p);
        if (j) {
            j->state = CORIO__JOB_RUNNING;
            pthread_mutex_unlock(&p->mu);
            j->work(j);
            /* Free for the next job already: a job its owner submits as
             * soon as this one is delivered finds this thread coming
             * back instead of starting another. */
            pthread_mutex_lock(&p->mu);
            p->running[j->lane]--;
            p->coming++;
            pthread_mutex_unlock(&p->mu);
            gone = job_finish(j); /* j may be gone, and p's last
                                     reference */
            pthread_mutex_lock(&p->mu);
            if (!gone)
                p->coming--;
            continue;
        }
        if (p->closing)
            break;
        abs_after(p->idle_ns, &until);
        if (park(p, self, &until)) {
            p->coming--;
        } else if (corio__loop_now_ns() >= until_ns(&until)) {
            /* Exit unless work came in just now. */
            unsigned i, any = 0;
            for (i = 0; i < CORIO_LANE_COUNT; i++)
                any |= p->queued[i] && p->running[i] < p->limit[i];
            if (!any)
                break;
        }
    }
    /* A submitter may still be about to wake this thread's word. */
    while (atomic_load_explicit(&p->waking, memory_order_acquire)) {
        pthread_mutex_unlock(&p->mu);
        sched_yield();
        pthread_mutex_lock(&p->mu);
    }
    p->nthreads--;
    atomic_store(&p->nthreads_pub, p->nthreads);
    if (p->self_free) {
        struct worker *z = NULL;
        last = p->nthreads == 0;
        if (last) {
            z = p->zombies;
            p->zombies = NULL;
        }
        pthread_detach(self->tid);
        pthread_mutex_unlock(&p->mu);
        corio__free(self);
        if (last) {
            join_all(z);
            pool_destroy(p);
        }
        return NULL;
    }
    self->next = p->zombies;
    p->zombies = self;
    pthread_cond_broadcast(&p->exit_cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Start a thread; pool->mu held. 0 or -EAGAIN/-ENOMEM. */
static int thread_start(corio_pool *p)
{
    struct worker *w = corio__calloc(1, sizeof *w);
    int rc;
    if (!w)
        return -ENOMEM;
    w->pool = p;
    /* Pool threads take no signals (threads.h). */
    if ((rc = corio__thread_start(&w->tid, worker_main, w)) != 0) {
        corio__free(w);
        return rc;
    }
    p->nthreads++;
    atomic_store(&p->nthreads_pub, p->nthreads);
    return 0;
}

/* Threads the jobs running and startable now need; pool->mu held. A
 * thread neither idle nor running a job is on its way back to pick(),
 * so only demand beyond all threads calls for a new one. */
static unsigned demand(const corio_pool *p)
{
    unsigned i, d = 0;
    for (i = 0; i < CORIO_LANE_COUNT; i++) {
        unsigned room = p->limit[i] - p->running[i];
        d += p->running[i] + (p->queued[i] < room ? p->queued[i] : room);
    }
    return d;
}

/* Queued jobs a thread could take now; pool->mu held. */
static unsigned pickable(const corio_pool *p)
{
    unsigned i, n = 0;
    for (i = 0; i < CORIO_LANE_COUNT; i++) {
        unsigned room = p->limit[i] - p->running[i];
        n += p->queued[i] < room ? p->queued[i] : room;
    }
    return n;
}

/* Queue j on p, waking or starting a thread if its lane can run it now.
 * 0, or -EAGAIN/-ENOMEM when no thread could start and none exists (j
 * not queued). */
static int pool_submit(corio_pool *p, corio__job *j)
{
    struct worker *z, *wake = NULL;
    int lane = j->lane, rc = 0;
    /* The CPU hint, when the submitting loop will wait for this job with
     * nothing else to run (its other ready tasks would keep its CPU busy:
     * then the thread is better off where it is). */
    int cpu = j->task->loop->ready.n == 0 ? sched_getcpu() : -1;
    pthread_mutex_lock(&p->mu);
    z = p->zombies;
    p->zombies = NULL;
    j->state = CORIO__JOB_QUEUED;
    corio__list_push_back(&p->queue[lane], &j->item.node);
    p->queued[lane]++;
    if (p->running[lane] + p->queued[lane] <= p->limit[lane]) {
        if (p->idle_list) {
            /* A thread just back from its job takes this one when it
             * looks again, before it parks: a task's next job (its
             * loop answered the last one within microseconds) goes to
             * the thread that ran the last, on the CPU it runs on,
             * rather than waking a sleeping one. */
            if (pickable(p) > p->coming)
                unpark(p, &wake, cpu);
        } else if (p->nthreads < p->max_threads && demand(p) > p->nthreads &&
                   (rc = thread_start(p)) != 0) {
            if (p->nthreads > 0) {
                rc = 0; /* a running thread will take it later */
            } else {
                corio__list_remove(&p->queue[lane], &j->item.node);
                p->queued[lane]--;
                j->state = CORIO__JOB_NEW;
            }
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (wake) /* after the unlock, so the thread it wakes finds it free */
        wake_parked(p, wake);
    join_all(z);
    return rc == -ENOMEM ? -ENOMEM : rc ? -EAGAIN : 0;
}

/* Take j off its queue if it has not started: 1 if it was (DROPPED). */
static int pool_dequeue(corio__job *j)
{
    corio_pool *p = j->pool;
    int taken;
    pthread_mutex_lock(&p->mu);
    if (j->state == CORIO__JOB_QUEUED) {
        corio__list_remove(&p->queue[j->lane], &j->item.node);
        p->queued[j->lane]--;
        j->state = CORIO__JOB_DROPPED;
    }
    taken = j->state == CORIO__JOB_DROPPED;
    pthread_mutex_unlock(&p->mu);
    return taken;
}

/* ---- ports -------------------------------------------------------------------------- */

static void port_drain(corio__ready *r);

void corio__port_retain(corio__port *p)
{
    atomic_fetch_add(&p->refs, 1);
}

void corio__port_release(corio__port *p)
{
    if (atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    corio__free(p);
}

static corio__port *port_new(corio_loop *loop)
{
    corio__port *p = corio__calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        corio__free(p);
        return NULL;
    }
    if (cond_init_mono(&p->cv) != 0) {
        pthread_mutex_destroy(&p->mu);
        corio__free(p);
        return NULL;
    }
    atomic_init(&p->refs, 1);
    p->loop = loop;
    corio__list_init(&p->done);
    p->post.ready.run = port_drain;
    return p;
}

int corio__port_push_locked(corio__port *port, corio__port_item *it)
{
    if (!port->loop)
        return -ESHUTDOWN;
    corio__list_push_back(&port->done, &it->node);
    /* A failed post (the loop is being freed) leaves it in the list:
     * teardown takes it from there. */
    if (!port->posted && corio__loop_post(port->loop, &port->post) == 0)
        port->posted = 1;
    return 0;
}

/* On the loop's thread: deliver what other threads handed over. */
static void port_drain(corio__ready *r)
{
    corio__port *port = CORIO__CONTAINER(r, corio__port, post.ready);
    corio__list items;
    corio__node *n;
    pthread_mutex_lock(&port->mu);
    items = port->done;
    corio__list_init(&port->done);
    port->posted = 0;
    pthread_mutex_unlock(&port->mu);
    while ((n = corio__list_pop(&items)) != NULL) {
        corio__port_item *it = CORIO__CONTAINER(n, corio__port_item, node);
        it->deliver(it);
    }
}

/* ---- the loop's thread-layer state ------------------------------------------------ */

struct lstate {
    corio_pool *pool;       /* set, or the default once needed; retained */
    corio__port *port;
    corio__closer closer;
};

static void lstate_close(corio__closer *c, corio_loop *loop)
{
    struct lstate *ls = CORIO__CONTAINER(c, struct lstate, closer);
    corio__port *port = ls->port;
    double grace = ls->pool ? ls->pool->grace : CORIO_POOL_SHUTDOWN_GRACE;
    size_t left = 0;
    if (port) {
        struct timespec until;
        abs_after(secs_ns(grace), &until);
        pthread_mutex_lock(&port->mu);
        /* Only jobs nobody waits for are left: tasks are gone. */
        while (port->inflight > 0 &&
               pthread_cond_timedwait(&port->cv, &port->mu, &until) !=
                   ETIMEDOUT)
            ;
        left = port->inflight;
        port->loop = NULL;
        pthread_mutex_unlock(&port->mu);
        /* A pool thread may still be inside its post (job_finish): no
         * new one starts now, and this one takes microseconds. */
        while (atomic_load_explicit(&port->posting, memory_order_acquire))
            sched_yield();
        if (left)
            corio__warn("loop %p freed while %zu pool job(s) still run "
                        "after %.3g s of grace: abandoned (each frees its "
                        "result when it ends)",
                        (void *)loop, left, grace);
        corio__port_release(port);
    }
    corio_pool_release(ls->pool);
    loop->pool = NULL;
    corio__free(ls);
}

static struct lstate *lstate_of(corio_loop *loop)
{
    struct lstate *ls = loop->pool;
    if (ls)
        return ls;
    if (loop->closing || !(ls = corio__calloc(1, sizeof *ls)))
        return NULL;
    ls->closer.order = CORIO__CLOSE_IO; /* after the tasks' */
    ls->closer.close = lstate_close;
    corio__loop_add_closer(loop, &ls->closer);
    loop->pool = ls;
    return ls;
}

corio__port *corio__port_of(corio_loop *loop)
{
    struct lstate *ls = lstate_of(loop);
    if (!ls)
        return NULL;
    if (!ls->port)
        ls->port = port_new(loop);
    return ls->port;
}

int corio_loop_set_pool(corio_loop *loop, corio_pool *p)
{
    struct lstate *ls;
    if (!loop)
        return -EINVAL;
    if (loop->closing)
        return -ESHUTDOWN;
    if (!(ls = lstate_of(loop)))
        return -ENOMEM;
    corio_pool_retain(p);
    corio_pool_release(ls->pool);
    ls->pool = p;
    return 0;
}

int corio_loop_pool(corio_loop *loop, corio_pool **out)
{
    struct lstate *ls;
    int rc;
    if (!loop || !out)
        return -EINVAL;
    if (loop->closing)
        return -ESHUTDOWN;
    if (!(ls = lstate_of(loop)))
        return -ENOMEM;
    if (!ls->pool && (rc = default_get(&ls->pool)) != 0)
        return rc;
    *out = ls->pool;
    return 0;
}

/* ---- jobs a task waits for ------------------------------------------------------------ */

/* The job ended while its owner still holds it: drop what it held. */
static void job_unhold(corio__job *j)
{
    corio__port *port = j->port;
    pthread_mutex_lock(&port->mu);
    port->inflight--;
    pthread_cond_broadcast(&port->cv);
    pthread_mutex_unlock(&port->mu);
    corio__port_release(port);
    corio_pool_release(j->pool);
}

/* Nobody waits for j: free it (abandon), then what it held. Any thread. */
static void job_end_abandoned(corio__job *j)
{
    corio__port *port = j->port;
    corio_pool *pool = j->pool;
    j->abandon(j);
    pthread_mutex_lock(&port->mu);
    port->inflight--;
    pthread_cond_broadcast(&port->cv);
    pthread_mutex_unlock(&port->mu);
    corio__port_release(port);
    corio_pool_release(pool); /* maybe the last, even on a pool thread */
}

static void job_deliver(corio__port_item *it)
{
    corio__job *j = CORIO__CONTAINER(it, corio__job, item);
    corio_task *t = j->task;
    t->loop->outside_waits--;
    corio__wait_wake(&t->wait, atomic_load(&j->cancel) ? -ECANCELED : 0, j);
}

/* A cancel reaches the waiting task: in CORIO_CANCEL_WAIT mode, a job
 * that has not started is dropped (the wait ends), a started one is told
 * (work may stop early) and waited for. */
static int job_forward(corio__wait *w)
{
    corio__job *j = (corio__job *)w->obj;
    if (!j->wait_on_cancel || pool_dequeue(j))
        return 0;
    atomic_store(&j->cancel, 1);
    return 1;
}

/* The wait ends without its delivery (a cancel, or the loop's teardown):
 * payload says whether the owner keeps j. */
static void job_detach(corio__wait *w)
{
    corio__job *j = (corio__job *)w->obj;
    corio_task *t = w->task;
    corio__port *port = j->port;
    int keep = j->wait_on_cancel;

    t->loop->outside_waits--;
    atomic_store(&j->cancel, 1);
    w->payload = NULL;
    if (pool_dequeue(j)) {
        if (keep)
            w->payload = j;
        else
            job_end_abandoned(j); /* never ran */
        return;
    }
    pthread_mutex_lock(&port->mu);
    if (j->state == CORIO__JOB_RUNNING && keep) {
        /* Teardown (a cancel waits, job_forward): its memory may be the
         * task's, so give it the pool's grace to end. */
        struct timespec until;
        abs_after(secs_ns(j->pool->grace), &until);
        while (j->state == CORIO__JOB_RUNNING &&
               pthread_cond_timedwait(&port->cv, &port->mu, &until) !=
                   ETIMEDOUT)
            ;
    }
    if (j->state == CORIO__JOB_RUNNING) {
        j->abandoned = 1; /* the pool thread ends it */
        pthread_mutex_unlock(&port->mu);
        if (keep)
            corio__warn("task '%s' freed while its pool job still runs "
                        "after %.3g s of grace: abandoned",
                        t->name, j->pool->grace);
        return;
    }
    /* DONE: still in the port's list (the delivery would have ended the
     * wait). */
    corio__list_remove(&port->done, &j->item.node);
    pthread_mutex_unlock(&port->mu);
    if (keep)
        w->payload = j;
    else
        job_end_abandoned(j);
}

static void job_describe(const corio__wait *w, corio__wait_desc *d)
{
    const corio__job *j = w->obj;
    static const char *const lanes[] = {"user", "file", "name resolution"};
    int st = atomic_load((_Atomic int *)&j->state);
    corio__wait_descf(d, "pool work on the %s lane (%s)",
                      j->lane >= 0 && j->lane < 3 ? lanes[j->lane] : "?",
                      st == CORIO__JOB_QUEUED ? "queued" : "running or done");
}

static const corio__wait_ops job_wait_ops = {"pool work", job_detach,
                                             job_forward, 0, job_describe};

int corio__job_run(corio_task *t, corio__job *j, int *kept)
{
    corio_loop *loop = t->loop;
    corio__port *port;
    corio_pool *pool;
    corio__wait *w;
    int rc;

    *kept = 1;
    if (j->uncancellable)
        j->wait_on_cancel = 1; /* teardown waits for it too */
    else if (corio__task_cancel_report(t))
        return -ECANCELED;
    if (loop->closing)
        return -ESHUTDOWN;
    if ((rc = corio_loop_pool(loop, &pool)) != 0)
        return rc;
    if (!(port = corio__port_of(loop)))
        return -ENOMEM;
    corio_pool_retain(pool);
    corio__port_retain(port);
    j->item.deliver = job_deliver;
    j->pool = pool;
    j->port = port;
    j->task = t;
    j->ran = 0;
    j->abandoned = 0;
    atomic_store(&j->cancel, 0);
    pthread_mutex_lock(&port->mu);
    port->inflight++;
    pthread_mutex_unlock(&port->mu);
    if ((rc = pool_submit(pool, j)) != 0) {
        job_unhold(j);
        return rc;
    }
    loop->outside_waits++;
    w = corio__wait_begin(t, &job_wait_ops, j,
                          j->uncancellable ? CORIO__WAIT_UNCANCELLABLE : 0);
    rc = corio__wait_park(w);
    if (w->state == CORIO__WAIT_GRANTED) {
        job_unhold(j);
        if (w->value == -ECANCELED) /* a cancel waited for it: this */
            corio__task_cancel_report(t); /* call reports it */
        return w->value;
    }
    if (w->payload) {
        job_unhold(j);
    } else {
        *kept = 0;
    }
    return rc ? rc : -ECANCELED;
}
