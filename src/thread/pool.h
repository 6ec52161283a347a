/*
 * pool.h: the thread layer as the layers above see it (io's files, net's
 * name resolution): jobs a task runs on its loop's pool and waits for,
 * and ports, through which other threads hand things back to a loop.
 *
 * Job. A corio__job is embedded in its submitter's object: work runs on a
 * pool thread; abandon frees the whole object when nobody waits for it
 * any more (the waiting task was cancelled in CORIO_CANCEL_ABANDON mode,
 * or its loop was freed). States, each owned by one side:
 *   QUEUED   in its pool's lane queue (pool->mu);
 *   RUNNING  a pool thread runs work (the thread; `abandoned` under the
 *            port's lock says nobody waits);
 *   DONE     work returned; in the port's done list until the loop's
 *            thread delivers it to the waiting task (port lock);
 *   DROPPED  taken out of the queue before it ran.
 * A job moves QUEUED -> RUNNING -> DONE, or QUEUED -> DROPPED; RUNNING
 * with `abandoned` ends on the pool thread, in abandon.
 *
 * Port. One per loop that used the thread layer: a locked list of items
 * (finished jobs, cross-loop wakeups) that other threads fill and the
 * loop's thread empties (corio__loop_post wakes it). It is reference
 * counted, so a job that outlives its loop still has a port to look at;
 * port->loop is NULL once the loop's closer ran, and then nothing is
 * posted.
 */
#ifndef CORIO_THREAD_POOL_H
#define CORIO_THREAD_POOL_H

#include <corio/thread.h>
#include <pthread.h>
#include <stdatomic.h>

#include "task/task_impl.h"

typedef struct corio__port corio__port;
typedef struct corio__port_item corio__port_item;
typedef struct corio__job corio__job;

/* Something handed to a loop's thread through its port. */
struct corio__port_item {
    corio__node node;
    void (*deliver)(corio__port_item *it); /* on the loop's thread */
};

struct corio__port {
    atomic_size_t refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* broadcast when a job of this port finishes */
    corio_loop *loop;      /* NULL once the loop's closer ran */
    corio__list done;      /* corio__port_item, to deliver */
    corio__post post;      /* queued on the loop while posted */
    unsigned char posted;
    atomic_int posting;    /* pool threads inside a post (threadpool.c) */
    size_t inflight;       /* jobs submitted here and not yet ended */
};

enum {
    CORIO__JOB_NEW,
    CORIO__JOB_QUEUED,
    CORIO__JOB_RUNNING,
    CORIO__JOB_DONE,
    CORIO__JOB_DROPPED
};

struct corio__job {
    corio__port_item item; /* lane queue while QUEUED, port list while DONE */
    /* Set by the submitter. */
    void (*work)(corio__job *j);    /* on a pool thread */
    void (*abandon)(corio__job *j); /* free j's object; j->ran says if
                                       work ran; any thread */
    int lane;                       /* CORIO_LANE_* */
    unsigned char wait_on_cancel;   /* CORIO_CANCEL_WAIT */
    unsigned char uncancellable;    /* cancels do not end the wait (only
                                       the loop's teardown, which then
                                       waits as wait_on_cancel does) */
    /* Read-only for the submitter. */
    unsigned char ran;              /* work ran (valid once the job ended) */
    atomic_int cancel;              /* the waiting task was cancelled: work
                                       may poll it and stop early */
    /* threadpool.c's. */
    _Atomic int state;               /* CORIO__JOB_* (moves under pool->mu
                                        or port->mu, read under either) */
    unsigned char abandoned;
    corio_pool *pool;
    corio__port *port;
    corio_task *task;
};

/*
 * Submit j (work, abandon, lane, wait_on_cancel set) to the pool of the
 * running task t's loop and park t until j has run. Returns:
 *   0           j ran; *kept = 1: the caller owns j again;
 *   -ECANCELED  *kept = 1: the caller owns j (j->ran says whether work
 *               ran: only in wait_on_cancel mode, or when it ended just
 *               as the cancel came); *kept = 0: j belongs to the pool
 *               now and abandon frees it (or did);
 *   otherwise   j was not submitted (*kept = 1): -ENOMEM, -EAGAIN (no
 *               thread), -ESHUTDOWN (the loop is being freed).
 * The cancel rule holds: with a cancel standing, -ECANCELED at once
 * (unless uncancellable). A returned -ECANCELED counts as the task's
 * report of the cancel (corio__task_cancel_report).
 */
int corio__job_run(corio_task *t, corio__job *j, int *kept);

/* How many of p's jobs in lane run now (tests wait on it). */
unsigned corio__pool_running(corio_pool *p, int lane);
/* How many of p's threads are parked, asleep on their futex word
 * (tests and the bench check that idle threads sleep). */
unsigned corio__pool_parked(corio_pool *p);

/* The port of loop, made on first use (loop's thread): NULL when out of
 * memory or closing. Borrowed: retain it to keep it. */
corio__port *corio__port_of(corio_loop *loop);
void corio__port_retain(corio__port *p);
void corio__port_release(corio__port *p);
/* Hand it to port's loop: 0, or -ESHUTDOWN when the loop is gone (it is
 * not queued). Caller holds port->mu. Any thread. */
int corio__port_push_locked(corio__port *port, corio__port_item *it);

#endif /* CORIO_THREAD_POOL_H */
