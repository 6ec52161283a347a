/*
 * corio/run.h: corio_run, the front door of a corio program (asyncio.run).
 *
 * It is the one call that owns a whole loop's life: it makes the loop,
 * runs a main task on it, tidies up and frees it. Programs that need the
 * loop itself (to run it more than once, to spawn before it runs, to call
 * back into it from other threads) use corio/loop.h and corio/task.h
 * instead.
 */
#ifndef CORIO_RUN_H
#define CORIO_RUN_H

#include "coro.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * corio_run: asyncio.run for C. Makes a loop, runs main(arg, &result) as
 * its main task until it finishes, then cancels every task still alive and
 * waits for them, closes the async generators left unfinished (each in a
 * task, as asyncio.run's shutdown_asyncgens; see agen.h), frees the loop
 * and returns main's outcome: 0 with *result set, its error, or
 * -ECANCELED. Blocks the thread (it is not a suspending call).
 *
 * While it runs, SIGINT cancels the main task (its cleanup runs) instead
 * of killing the process, provided SIGINT had its default disposition
 * (ignored or handled by the program, it is left alone, as asyncio.run
 * does); the disposition is restored afterwards.
 *
 * Errors: -EDEADLK if nothing can ever run again while main waits (after
 * printing what each task waits on); -EINVAL (main NULL); CORIO_ERUNNING
 * if a loop already runs on this thread (inside a task too); the errors of
 * corio_loop_new and corio_loop_run (-ENOMEM, -EMFILE, ...). result may be
 * NULL.
 */
CORIO_API int corio_run(corio_coro_fn main, void *arg, void **result);

/* corio_run_at: corio_run, with the site (file:line) reports and dumps
 * show as the main task's spawn site (file NULL: "corio_run"). The macro
 * corio_run passes the caller's __FILE__ and __LINE__; the function
 * corio_run (taken by address, or called as (corio_run)(...)) passes
 * none. */
CORIO_API int corio_run_at(corio_coro_fn main, void *arg, void **result,
                           const char *file, int line);
#define corio_run(main, arg, result)                                       \
    corio_run_at((main), (arg), (result), __FILE__, __LINE__)

#ifdef __cplusplus
}
#endif

#endif /* CORIO_RUN_H */
