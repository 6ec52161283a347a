/*
 * threads.h: starting corio's own threads (pool workers, the diagnostics
 * watchdogs).
 *
 * Invariant: a thread corio starts takes no signal. Signals belong to the
 * program's threads and the loops' (signalfd waits, corio_run's SIGINT,
 * the diagnostics signals aimed at a loop's thread), so the new thread
 * starts with every signal blocked; the caller's mask is left as it was.
 */
#ifndef CORIO__THREADS_H
#define CORIO__THREADS_H

#include <pthread.h>

/* pthread_create(tid, NULL, fn, arg) with every signal blocked in the new
 * thread. 0, or the negative errno of pthread_create (-EAGAIN, ...). */
int corio__thread_start(pthread_t *tid, void *(*fn)(void *), void *arg);

#endif /* CORIO__THREADS_H */
