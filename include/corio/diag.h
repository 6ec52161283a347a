/*
 * corio/diag.h: diagnostics: what every task of a loop is doing, where it
 * is suspended and who waits for whom, in process, on a signal, and (with
 * scripts/corio-gdb.py) from a debugger. docs/debugging.md shows each on
 * a stuck program.
 *
 * The dump lists every live task: its id and name, its state (running,
 * ready, waiting, not started), its spawn site (file:line) and the chain
 * of tasks that spawned it, the task group it belongs to, what it waits
 * on in words (a join naming the task, a lock and its holder, a queue and
 * its fill, an fd and its direction, a sleep and the time left, ...),
 * the tasks it waits for and the tasks that wait for it (as a tree), how
 * long it has waited (debug mode only: see CORIO_DEBUG below), and a C
 * backtrace of each suspended task read from its saved stack.
 *
 * Backtraces walk frame pointers (corio itself is built with them; build
 * your program with -fno-omit-frame-pointer for whole backtraces).
 * Function names and file:line come from libdw when corio was configured
 * with its header (libdw-dev) and libdw.so.1 loads at run time; otherwise
 * from dladdr (exported symbols only: link with -rdynamic to see yours),
 * with object+offset for addr2line. CORIO_NO_LIBDW=1 in the environment
 * forces the dladdr fallback.
 *
 * Debug mode: CORIO_DEBUG=1 in the environment (read when tasks first
 * start on a loop), or corio_diag_debug on a loop, stamps each park with
 * the time, so the dump says how long each task has waited. It also
 * adds to two reports: a task error nobody retrieved is followed by its
 * async traceback (the C backtrace where corio_fail was called, and the
 * chain of tasks that spawned the failing one), and a coroutine freed
 * without ever being resumed (corio_coro_new) names the function and line
 * that created it (CORIO_DEBUG only). docs/debugging.md shows both. Off
 * (the default), none of this costs anything on the paths that switch
 * and wake tasks: the loop tests one pointer per iteration.
 */
#ifndef CORIO_DIAG_H
#define CORIO_DIAG_H

#include <stdio.h>

#include "future.h"
#include "loop.h"
#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CORIO_DUMP_TEXT = 0, /* for people */
    CORIO_DUMP_JSON = 1  /* one JSON object, for tools (docs/debugging.md) */
};

/*
 * corio_loop_dump: write the dump of loop's tasks (see above) to out in
 * format CORIO_DUMP_TEXT or CORIO_DUMP_JSON. loop NULL: the loop running
 * on this thread. Call it on the loop's thread (from a task, a callback,
 * or between runs), never from a signal handler (corio_diag_dump_on_signal
 * is for that). Does not suspend; takes the symbolizer's lock. Returns 0,
 * -EINVAL (out NULL, format unknown, or loop NULL with no loop running
 * here), -ENOMEM (nothing written), -EIO (writing to out failed).
 */
CORIO_API int corio_loop_dump(corio_loop *loop, FILE *out, int format);

/*
 * corio_diag_future_completer: record that task t is expected to complete
 * future f (t NULL: forget it), so reports and dumps say "future ... to
 * be completed by task 'x'" and count the edge in the wait-for graph. The
 * record is a borrowed note: once t has ended it reads as "its completer
 * has ended". Does not suspend. Returns 0, -EINVAL (f NULL, or t of a
 * loop other than f's).
 */
CORIO_API int corio_diag_future_completer(corio_future *f, corio_task *t);

/*
 * corio_diag_debug: turn loop's debug mode on (on != 0) or off. On:
 *   - parks are stamped with the time (the dump's "waiting for");
 *   - whenever an iteration finds nothing ready, the tasks' wait-for
 *     graph (joins, lock holders, named future completers, group
 *     children, gathers; not waits with a deadline) is checked for
 *     cycles, and each cycle is printed once to stderr ("corio: deadlock:
 *     N task(s) wait on each other in a cycle"), with each task's spawn
 *     site and wait, even while timers, descriptors or other tasks keep
 *     the loop alive (the loop's own report only sees a loop that can
 *     never run again). The program goes on; the check runs again only
 *     once the set of parked tasks has changed.
 * CORIO_DEBUG=1 does the same for every loop (the cycle check when this
 * layer is linked in: always with the shared library, and with the
 * static one once the program calls any function of this header). Does
 * not suspend. Returns 0, -EINVAL (loop NULL).
 */
CORIO_API int corio_diag_debug(corio_loop *loop, int on);

/*
 * corio_diag_slow_steps: report every task step or callback that holds
 * loop longer than `threshold` seconds (0: stop; asyncio's
 * slow_callback_duration is 0.1). A watchdog thread notices a step still
 * running past the threshold and has the loop's thread, interrupted by
 * SIGURG, capture where it runs: "corio: slow step: task 'x' (#n, spawned
 * at f:l) has held the loop for 0.120 s so far (threshold 0.100 s); it
 * runs at:" and its backtrace; when the step ends, "... held the loop for
 * 2.000 s". Turns debug mode on as well (corio_diag_debug). CORIO_DEBUG=1
 * in the environment starts it on the first loop that runs an iteration,
 * with CORIO_SLOW_STEP seconds (default 0.1; 0: not started). Call it on
 * loop's thread;
 * corio_loop_free turns it off. One loop per process; it
 * takes over SIGURG while on (a program using SIGURG itself should not
 * use it). Does not suspend. Returns 0, -EINVAL (loop NULL, threshold
 * negative, NaN or infinite), -EBUSY (on for another loop), -EAGAIN (no
 * thread), -ENOMEM, -ESHUTDOWN (loop is being freed), and sigaction's
 * errors.
 */
CORIO_API int corio_diag_slow_steps(corio_loop *loop, double threshold);

/*
 * corio_diag_shuffle: run the task steps of each loop iteration in an
 * order drawn from `seed` instead of FIFO (0: FIFO again), to shake out
 * code that depends on an order corio does not promise; the same seed
 * replays the same order exactly in a deterministic program. What moves
 * is the steps that tasks made ready (spawns, wake-ups by other tasks);
 * callbacks, and steps woken in the iteration by timers, descriptors or
 * other threads, keep their order and places after them, so how many
 * timers a late iteration finds due (the machine's load) does not change
 * the order. Turns debug mode on; prints the seed to
 * stderr ("replay: CORIO_SHUFFLE_SEED=N"). CORIO_SHUFFLE_SEED=N in the
 * environment does the same for loops in debug mode (CORIO_DEBUG=1),
 * silently (the variable already names the seed).
 * Does not suspend. Returns 0, -EINVAL (loop NULL), -ENOMEM.
 */
CORIO_API int corio_diag_shuffle(corio_loop *loop, unsigned long long seed);

/*
 * corio_diag_virtual_clock: for tests: give loop a virtual clock (on != 0)
 * or its real one back. While on, the loop's time (corio_loop_time,
 * sleeps, timeouts, deadlines) stands still while anything runs or is
 * ready, and jumps to the next deadline when nothing is ready and no
 * event is pending (Trio's MockClock with autojump): a test of a long
 * timeout runs in microseconds and never depends on the machine's speed.
 * It starts at the real time of the call. Descriptors still work, but
 * time does not wait for them: a timeout on a read from a peer that has
 * not written yet fires at once. Call it on loop's thread (or before the
 * loop runs). Does not suspend. Returns 0, -EINVAL (loop NULL),
 * CORIO_EWRONGTHREAD (loop runs on another thread).
 */
CORIO_API int corio_diag_virtual_clock(corio_loop *loop, int on);

/*
 * corio_wait_all_blocked: for tests: suspend the calling task until every
 * other task of its loop is parked (nothing else ready), as Trio's
 * wait_all_tasks_blocked. With a virtual clock, time has not moved
 * meanwhile unless everything waited on a timer. Suspends. Returns 0,
 * CORIO_ENOTASK (outside a task), -ECANCELED (the caller was cancelled:
 * it waits, so it fails at once while a cancel stands).
 */
CORIO_API int corio_wait_all_blocked(void);

/* Kinds of wait, for corio_loop_metrics. */
enum {
    CORIO_WAIT_JOIN,     /* a task's end (join, await of a task) */
    CORIO_WAIT_FUTURE,   /* a future, wait_for */
    CORIO_WAIT_SYNC,     /* lock, event, condition, semaphore, barrier */
    CORIO_WAIT_CHAN,     /* queue, topic */
    CORIO_WAIT_FD,       /* descriptor readiness */
    CORIO_WAIT_SLEEP,    /* sleep */
    CORIO_WAIT_SIGNAL,   /* signal */
    CORIO_WAIT_GROUP,    /* group wait, gather, wait, as_completed */
    CORIO_WAIT_OTHER,
    CORIO_WAIT_KINDS
};

typedef struct corio_metrics {
    /* Counted in debug mode only (corio_diag_debug; 0 otherwise), since
     * debug mode was first turned on: */
    unsigned long long iterations; /* loop iterations */
    unsigned long long steps;      /* task steps and callbacks run */
    double busy;                   /* seconds spent running them */
    double idle;                   /* seconds since, minus busy */
    /* Always: */
    size_t ready;                  /* ready queue depth now */
    size_t tasks;                  /* tasks alive */
    size_t waiting[CORIO_WAIT_KINDS]; /* tasks parked now, by kind */
    unsigned long long slow_steps; /* steps over the slow-step threshold */
} corio_metrics;

/*
 * corio_loop_metrics: fill *out with loop's metrics (libuv's uv_metrics,
 * for monitoring). Call it on loop's thread. Does not suspend. Returns 0,
 * -EINVAL (loop or out NULL).
 */
CORIO_API int corio_loop_metrics(corio_loop *loop, corio_metrics *out);

/*
 * corio_diag_dump_on_signal: when signal signo arrives, print the dump of
 * loop to stderr and carry on (signo 0: stop doing so and restore the
 * signal's previous disposition). Off by default. Call it on loop's
 * thread (corio_run's loop: from the main task); corio_loop_free turns it
 * off. One loop per process at a time.
 *
 * How it works, and what runs where: the handler runs on the loop's
 * thread (it redirects the signal there with tgkill if another thread got
 * it) and does only async-signal-safe work: it reads which task runs now
 * (a thread-local), records its name pointer and the frame pointers of
 * where it was interrupted (reads bounded by that task's stack), and
 * writes one byte to a pipe. A watchdog thread reading that pipe then
 * prints, if a task held the loop at that moment, "task 'x' holds the
 * loop" with that backtrace (symbolized outside the handler), and asks
 * the loop (corio_loop_call_soon_threadsafe) to print the whole dump at
 * its next step. So a task that never yields is still named, with where
 * it runs; the whole dump follows when it gives the loop back.
 *
 * Returns 0, -EINVAL (loop NULL, signo invalid, SIGKILL or SIGSTOP),
 * -EBUSY (another loop has it on), -ENOMEM / -EAGAIN / -EMFILE (no
 * memory, thread or pipe), -ESHUTDOWN (loop is being freed), and
 * sigaction's errors. Does not suspend.
 */
CORIO_API int corio_diag_dump_on_signal(corio_loop *loop, int signo);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_DIAG_H */
