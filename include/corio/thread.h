/*
 * corio/thread.h: blocking work on a thread pool, and calls between
 * loops on different threads.
 *
 * Pool. A corio_pool runs blocking functions on threads of its own, so
 * the loop never blocks. Its jobs go into lanes (CORIO_LANE_*), each with
 * a thread limit of its own; a pool may run as many threads as its lanes'
 * limits add up to, so a lane's jobs never wait for another lane's
 * threads: slow name resolution cannot starve file I/O, and neither can
 * user jobs. Threads start only when a job needs one (a pool that never
 * got a job has no thread) and exit after idle_timeout seconds without
 * work. Within a lane, jobs start in the order they were submitted.
 *
 * Each loop uses a pool: the one given with corio_loop_set_pool, or else
 * the process's default pool (CORIO_POOL_LANE_THREADS threads per lane,
 * idle threads exit after CORIO_POOL_IDLE_TIMEOUT seconds), made when a
 * loop first needs it and shared by every loop that has not been given
 * one; it goes (its threads joined) when the last of those loops is
 * freed. A pool can serve any number of loops on any threads.
 *
 * Work in flight and the loop's end. A task waiting on pool work keeps
 * its loop alive (corio_loop_run never reports it as a deadlock). When
 * the loop is freed with work still running (corio_loop_free, or
 * corio_run returning after a Ctrl-C), its waiting tasks are cancelled as
 * usual, then corio_loop_free waits up to the pool's shutdown_grace
 * seconds for the jobs still running; a job still running after that is
 * abandoned: a line on stderr says how many, and each finishes on its
 * thread and frees itself (its result goes to its free_result), never
 * touching the freed loop.
 *
 * Threads: corio_pool_*, corio_run_coroutine_threadsafe and
 * corio_xcall_* may be called from any thread; the others from the
 * loop's thread, as stated for each. Pool threads block every signal
 * (signals belong to the loops' threads: signal waits, corio_run's
 * SIGINT).
 *
 * CPU affinity. A loop whose task waits for a job with nothing else to
 * run, waking a pool thread asleep on another CPU, pins that thread to
 * its own CPU for the wake-up (on an idle machine, a hand-off between two
 * sleeping CPUs costs tens of microseconds); the thread takes back the
 * affinity it started with as soon as it is awake, before it runs the
 * job. So a job never runs pinned, and an affinity set on a pool thread
 * from outside after it started may be replaced by that one.
 */
#ifndef CORIO_THREAD_H
#define CORIO_THREAD_H

#include <stddef.h>
#include "coro.h"
#include "error.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lanes of a pool. */
enum {
    CORIO_LANE_USER = 0, /* corio_to_thread's default */
    CORIO_LANE_FILE = 1, /* corio_file_* (file.h) */
    CORIO_LANE_DNS = 2,  /* name resolution (getaddrinfo and friends) */
    CORIO_LANE_COUNT = 3
};

/* Defaults of a pool (and the default pool's settings). */
#define CORIO_POOL_LANE_THREADS 4      /* threads per lane */
#define CORIO_POOL_IDLE_TIMEOUT 10.0   /* seconds */
#define CORIO_POOL_SHUTDOWN_GRACE 2.0  /* seconds */

typedef struct corio_pool corio_pool;

typedef struct corio_pool_opts {
    /* Most threads running each lane's jobs at once; 0: the default
     * (CORIO_POOL_LANE_THREADS). At most 1024 each. */
    unsigned lane_threads[CORIO_LANE_COUNT];
    /* Seconds an idle thread waits for work before it exits; 0: the
     * default. */
    double idle_timeout;
    /* Seconds corio_loop_free waits for this pool's running jobs of
     * that loop before abandoning them; 0: the default. */
    double shutdown_grace;
} corio_pool_opts;

/*
 * corio_pool_new: make a pool (no thread yet). opts may be NULL
 * (defaults). Returns 0 with *out set (a reference: corio_pool_release),
 * or -EINVAL (out NULL; a limit over 1024; a negative, NaN or infinite
 * time), -ENOMEM. Never suspends; any thread.
 */
CORIO_API int corio_pool_new(const corio_pool_opts *opts, corio_pool **out);

/* corio_pool_retain: take another reference (NULL: no-op). */
CORIO_API void corio_pool_retain(corio_pool *p);

/*
 * corio_pool_release: drop a reference (NULL: no-op). At the last one
 * (no loop uses the pool any more and no job is in flight, since each
 * holds one) the pool's threads are told to exit and joined, then the
 * pool is freed. Never suspends; any thread.
 */
CORIO_API void corio_pool_release(corio_pool *p);

/* corio_pool_threads: how many threads p has now (0 for NULL). */
CORIO_API size_t corio_pool_threads(const corio_pool *p);

/*
 * corio_loop_set_pool: make loop's later jobs go to p (retained; the
 * previous pool is released; jobs already submitted stay on theirs).
 * p NULL goes back to the default pool. Returns 0, -EINVAL (loop NULL),
 * -ENOMEM, -ESHUTDOWN (loop being freed). The loop's thread (or before
 * the loop runs). Never suspends.
 */
CORIO_API int corio_loop_set_pool(corio_loop *loop, corio_pool *p);

/*
 * corio_loop_pool: the pool loop uses (the default pool, made now if
 * needed, unless one was set), borrowed: valid while the loop uses it;
 * retain it to keep it. Returns 0, -EINVAL (loop or out NULL), -ENOMEM,
 * -ESHUTDOWN. The loop's thread. Never suspends.
 */
CORIO_API int corio_loop_pool(corio_loop *loop, corio_pool **out);

/* ---- to_thread ------------------------------------------------------------- */

/* Work for a pool thread: runs fn(arg, &result) there, and returns 0 or a
 * negative errno, as a coroutine body (corio_coro_fn) does. It must not
 * call corio functions that need a loop or a task. */
typedef int (*corio_thread_fn)(void *arg, void **result);

/* What a cancel of the waiting task does (corio_to_thread_opts.cancel). */
enum {
    /* The wait ends with -ECANCELED at once. Work not yet started never
     * runs; running work runs on and its result goes to free_result. So
     * fn and arg must not depend on the caller's stack. */
    CORIO_CANCEL_ABANDON = 0,
    /* Work not yet started never runs (-ECANCELED at once); running work
     * is waited for, and the call then returns -ECANCELED with *result
     * set to what fn gave (the caller owns it). For work that uses the
     * caller's memory. */
    CORIO_CANCEL_WAIT = 1
};

typedef struct corio_to_thread_opts {
    int lane;       /* CORIO_LANE_*; 0: CORIO_LANE_USER */
    int cancel;     /* CORIO_CANCEL_*; 0: CORIO_CANCEL_ABANDON */
    /* Frees a result nobody will take (abandoned work's, or one the
     * caller gave no `result` pointer for), when it is not NULL; called
     * on a pool thread or on the loop's thread; keep it quick (a pool
     * thread runs it before it looks for its next job). NULL: such
     * results are dropped as they are. */
    void (*free_result)(void *result);
} corio_to_thread_opts;

/*
 * corio_to_thread: run fn(arg, &r) on a thread of the loop's pool (lane
 * CORIO_LANE_USER), suspending only the calling task until it returns;
 * then *result = r (result may be NULL) and the call returns fn's return
 * value (0 or fn's negative errno). asyncio's to_thread.
 *
 * Cancellation (CORIO_CANCEL_ABANDON, see above): with a cancel standing
 * it fails with -ECANCELED before submitting anything; a cancel while it
 * waits ends the wait with -ECANCELED at once (*result untouched).
 * Other errors (fn never ran, *result untouched): -EINVAL (fn NULL),
 * CORIO_ENOTASK (not in a task), -ENOMEM, -EAGAIN (no thread could be
 * started and none runs), -ESHUTDOWN (the loop is being freed).
 * Suspends.
 */
CORIO_API int corio_to_thread(corio_thread_fn fn, void *arg, void **result);

/*
 * corio_to_thread_with: corio_to_thread with options (opts may be NULL:
 * the defaults): the lane, what a cancel does, and the destructor of
 * results nobody takes. Besides corio_to_thread's errors: -EINVAL (an
 * unknown lane or cancel mode). Suspends.
 */
CORIO_API int corio_to_thread_with(corio_thread_fn fn, void *arg,
                                   const corio_to_thread_opts *opts,
                                   void **result);

/* ---- calls between loops ------------------------------------------------------ */

/* A call of a coroutine on another loop (asyncio's
 * run_coroutine_threadsafe and its concurrent future). */
typedef struct corio_xcall corio_xcall;

/*
 * corio_run_coroutine_threadsafe: from any thread, start fn(arg) as a
 * task on loop (in a coming iteration of it). loop must not have been
 * freed (it may be running or not; a loop that is freed before the task
 * starts completes the call with -ESHUTDOWN). If out is not NULL, *out
 * gets a handle (a reference: corio_xcall_release) to wait for the
 * outcome, await it, or cancel it. The task's result pointer is handed
 * over as it is: one nobody takes (out NULL, or the handle released
 * unwaited) is dropped, so a coroutine run fire-and-forget should return
 * nothing that needs freeing. Returns 0, -EINVAL (loop or fn NULL),
 * -ENOMEM, -ESHUTDOWN (the loop is being freed: nothing started). Never
 * suspends.
 */
CORIO_API int corio_run_coroutine_threadsafe(corio_loop *loop,
                                             corio_coro_fn fn, void *arg,
                                             corio_xcall **out);

/*
 * corio_xcall_wait: block the calling thread (a plain thread, not a
 * task's: use corio_xcall_await there) until the call is done or
 * `timeout` seconds passed (INFINITY: no limit; <= 0: just look).
 * Returns the task's outcome (0 with *result set, result may be NULL;
 * the task's negative error; -ECANCELED if it was cancelled;
 * -ESHUTDOWN if its loop was freed before it started), or -ETIMEDOUT
 * (not done yet: the call goes on), -EINVAL (h NULL, timeout NaN),
 * -EDEADLK (called on the thread running h's loop, which could never
 * finish it). Any number of threads may wait; each gets the outcome.
 */
CORIO_API int corio_xcall_wait(corio_xcall *h, double timeout,
                               void **result);

/*
 * corio_xcall_await: suspend the calling task (on any loop, on any
 * thread) until the call is done, and return its outcome as
 * corio_xcall_wait does. A done call returns at once. Cancellation: with
 * a cancel standing, or a cancel while it waits, -ECANCELED at once (the
 * call itself goes on: cancel it with corio_xcall_cancel). Other errors:
 * -EINVAL (h NULL), -ENOMEM, -ESHUTDOWN (the task's loop is being freed),
 * CORIO_ENOTASK. Suspends.
 */
CORIO_API int corio_xcall_await(corio_xcall *h, void **result);

/*
 * corio_xcall_cancel: from any thread, ask for the call's task to be
 * cancelled (corio_task_cancel on its loop; a call not started yet never
 * starts and ends with -ECANCELED). Returns 0, -EALREADY (already done),
 * -EINVAL (h NULL). Never suspends. The outcome still comes through wait
 * or await.
 */
CORIO_API int corio_xcall_cancel(corio_xcall *h);

/* corio_xcall_done: 1 if the call is done, else 0 (0 for NULL). Any
 * thread. */
CORIO_API int corio_xcall_done(corio_xcall *h);

/* corio_xcall_release: drop the reference (NULL: no-op). It does not
 * cancel the call; the handle goes when the call is done too. Any
 * thread. */
CORIO_API void corio_xcall_release(corio_xcall *h);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_THREAD_H */
