/*
 * stuck.c: a program stuck in many ways at once, and the dump that says
 * how (corio_loop_dump, corio/diag.h; docs/debugging.md walks through it).
 *
 * Two tasks deadlock: 'alice' holds lock A and wants B, 'bob' holds B and
 * wants A. Beside them a 'ticker' keeps a timer ticking (so the loop never
 * sees a global deadlock), a 'reader' waits for a pipe nobody writes, a
 * 'consumer' waits on an empty queue, a 'sleeper' sleeps, and main joins
 * alice. Once every task is parked, main prints the dump, then cancels
 * everyone and the program ends by itself.
 *
 * Try: ./example_stuck, CORIO_DEBUG=1 ./example_stuck (wait times), and
 * STUCK_JSON=1 ./example_stuck | python3 -m json.tool.
 */
#include <corio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static corio_lock *lock_a, *lock_b;
static corio_event *both_hold;
static int holders;
static int pipe_fds[2];
static corio_queue *jobs;

/* Take `first`, wait until the other task holds its own, take `second`. */
static int take_both(corio_lock *first, corio_lock *second)
{
    int rc = corio_lock_acquire(first);
    if (rc)
        return rc;
    if (++holders == 2)
        corio_event_set(both_hold);
    rc = corio_event_wait(both_hold);
    if (rc == 0)
        rc = corio_lock_acquire(second); /* the deadlock */
    if (rc == 0)
        corio_lock_release(second);
    corio_lock_release(first);
    return rc;
}

static int alice(void *arg, void **result)
{
    (void)arg, (void)result;
    return take_both(lock_a, lock_b);
}

static int bob(void *arg, void **result)
{
    (void)arg, (void)result;
    return take_both(lock_b, lock_a);
}

static int ticker(void *arg, void **result)
{
    int rc;
    (void)arg, (void)result;
    while ((rc = corio_sleep(0.001)) == 0)
        ;
    return rc;
}

static int reader(void *arg, void **result)
{
    char c;
    (void)arg, (void)result;
    return (int)corio_read(pipe_fds[0], &c, 1); /* nobody writes */
}

static int consumer(void *arg, void **result)
{
    void *item;
    (void)arg, (void)result;
    return corio_queue_get(jobs, &item); /* nobody puts */
}

static int sleeper(void *arg, void **result)
{
    (void)arg, (void)result;
    return corio_sleep(3600);
}

/* Print the dump while everyone is stuck, then cancel them. */
static int dump_then_cancel(void *arg, void **result)
{
    corio_task **t = arg;
    int i;
    (void)result;
    corio_sleep(0); /* main is parked in its join by now */
    corio_loop_dump(NULL, stdout,
                    getenv("STUCK_JSON") ? CORIO_DUMP_JSON : CORIO_DUMP_TEXT);
    for (i = 0; i < 6; i++)
        corio_task_cancel(t[i]);
    return 0;
}

static int stuck_main(void *arg, void **result)
{
    static const char *names[] = {"alice", "bob", "ticker", "reader",
                                  "consumer", "sleeper"};
    static corio_coro_fn fns[] = {alice, bob, ticker, reader, consumer,
                                  sleeper};
    corio_task *t[6];
    int i, rc;
    (void)arg, (void)result;

    for (i = 0; i < 6; i++) {
        corio_task_opts o = {names[i], 0, 0};
        if ((rc = corio_spawn(fns[i], NULL, &o, &t[i])) != 0)
            return rc;
    }
    /* Let each of them reach its wait (a few loop iterations). */
    for (i = 0; i < 10; i++)
        corio_sleep(0);
    /* Main joins alice; a helper prints the dump while main waits. */
    {
        corio_task *dumper;
        corio_task_opts o = {"dumper", 0, 0};
        if ((rc = corio_spawn(dump_then_cancel, t, &o, &dumper)) != 0)
            return rc;
        corio_task_join(t[0], NULL); /* -ECANCELED once the dumper acts */
        corio_task_join(dumper, NULL);
        corio_task_release(dumper);
    }
    for (i = 0; i < 6; i++) {
        corio_task_cancel(t[i]);
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    return 0;
}

int main(void)
{
    int rc;
    if (pipe(pipe_fds) != 0 || corio_fd_nonblock(pipe_fds[0]) != 0)
        return 1;
    if (corio_lock_new(&lock_a) || corio_lock_new(&lock_b) ||
        corio_event_new(&both_hold) ||
        corio_queue_new(CORIO_QUEUE_FIFO, 4, &jobs))
        return 1;
    rc = corio_run(stuck_main, NULL, NULL);
    corio_queue_free(jobs);
    corio_event_free(both_hold);
    corio_lock_free(lock_a);
    corio_lock_free(lock_b);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    fprintf(stderr, "corio_run returned %d\n", rc);
    return rc == 0 ? 0 : 1;
}
