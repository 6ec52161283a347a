/*
 * proc_sigwatch.h: signal watchers without a task, for process.c's
 * SIGCHLD-based fallback (implemented in signal.c, beside the task
 * waiters of corio_signal_wait).
 *
 * A watcher is a wait record with no task (wait.h's corio__wait_watch,
 * with a notify). Watching links it among signo's waiters: the next
 * delivery of signo wakes it once (its notify runs, from the loop's
 * event dispatch), and a notify may watch again at once. While linked it
 * counts in loop->outside_waits, as a task's signal wait does.
 */
#ifndef CORIO_PROC_SIGWATCH_H
#define CORIO_PROC_SIGWATCH_H

#include "task/task_impl.h"

/* Start watching signo with w (set up by corio__wait_watch, not linked).
 * 1: signo had come already with nobody waiting (taken now; w not
 * linked); 0: linked; or a negative errno as corio_signal_wait's
 * (-EINVAL, -ENOMEM, -EMFILE, -ENFILE), nothing linked. */
int corio__signal_watch(corio_loop *loop, int signo, corio__wait *w);
/* Stop a watch: unlink w if it is still linked (PENDING); it becomes
 * CANCELLED. Safe to call on a record that already fired. */
void corio__signal_unwatch(corio_loop *loop, corio__wait *w);

#endif /* CORIO_PROC_SIGWATCH_H */
