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
 * the time, so the dump says how long each task has waited. Off (the
 * default), none of this costs anything on the paths that switch and
 * wake tasks: the loop tests one pointer per iteration.
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
 * corio_diag_debug: turn loop's debug mode on (on != 0) or off: parks are
 * stamped with the time (the dump's "waiting for"). Does not suspend.
 * Returns 0, -EINVAL (loop NULL).
 */
CORIO_API int corio_diag_debug(corio_loop *loop, int on);

/*
 * corio_diag_dump_on_signal: when signal signo arrives, print the dump of
 * loop to stderr and carry on (signo 0: stop doing so and restore the
 * signal's previous disposition). Off by default. Call it on loop's
 * thread; the loop must outlive the setting (turn it off before
 * corio_loop_free; corio_run's own loop: from the main task). One loop
 * per process at a time.
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
 * -EBUSY (another loop has it on), -ENOMEM / -EAGAIN (no thread or pipe),
 * and sigaction's errors. Does not suspend.
 */
CORIO_API int corio_diag_dump_on_signal(corio_loop *loop, int signo);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_DIAG_H */
