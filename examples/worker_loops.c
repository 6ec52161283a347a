/*
 * worker_loops.c: an acceptor loop feeding a pool of worker loops, one
 * per thread (the shape of a server that spreads connections over CPUs).
 *
 * The acceptor (corio_run's loop, on the main thread) takes requests (here
 * in-memory lines instead of sockets, so the example needs no network)
 * and hands each to the next worker loop with
 * corio_run_coroutine_threadsafe; it awaits every reply with
 * corio_xcall_await, which suspends only the task waiting for it, so the
 * acceptor could go on accepting meanwhile. A worker handles a request as
 * a task of its own loop: it waits a little (as it would on I/O) and does
 * the blocking part on the thread pool with corio_to_thread.
 */
#include <corio.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NWORKERS 3

struct worker {
    corio_loop *loop;
    pthread_t thread;
    int rc;
};

static struct worker workers[NWORKERS];

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->rc = corio_loop_run(w->loop); /* until corio_loop_stop */
    return NULL;
}

static void stop_loop(void *loop)
{
    corio_loop_stop(loop);
}

/* The blocking part, on a pool thread: an upper-case copy. */
static int shout(void *arg, void **result)
{
    const char *in = arg;
    size_t i, n = strlen(in);
    char *out = malloc(n + 1);
    if (!out)
        return -ENOMEM;
    for (i = 0; i <= n; i++)
        out[i] = (char)toupper((unsigned char)in[i]);
    *result = out;
    return 0;
}

/* A request, run as a task on a worker loop. */
static int handle(void *arg, void **result)
{
    int rc = corio_sleep(0.001); /* as if waiting on a socket */
    if (rc)
        return rc;
    return corio_to_thread(shout, arg, result);
}

static int acceptor(void *arg, void **result)
{
    static const char *requests[] = {"hello", "from", "the", "acceptor",
                                     "to", "three", "worker", "loops"};
    enum { N = sizeof requests / sizeof requests[0] };
    corio_xcall *calls[N];
    int i, rc = 0;
    (void)arg;
    (void)result;
    for (i = 0; i < N; i++) {
        corio_loop *to = workers[i % NWORKERS].loop;
        rc = corio_run_coroutine_threadsafe(to, handle, (void *)requests[i],
                                            &calls[i]);
        if (rc)
            return rc;
    }
    for (i = 0; i < N; i++) {
        void *reply = NULL;
        int r = corio_xcall_await(calls[i], &reply);
        if (r == 0)
            printf("request %d -> worker %d: %s\n", i, i % NWORKERS,
                   (char *)reply);
        else
            rc = r;
        free(reply);
        corio_xcall_release(calls[i]);
    }
    return rc;
}

int main(void)
{
    int i, rc;
    for (i = 0; i < NWORKERS; i++) {
        if (corio_loop_new(NULL, &workers[i].loop) != 0 ||
            pthread_create(&workers[i].thread, NULL, worker_main,
                           &workers[i]) != 0) {
            fprintf(stderr, "worker_loops: cannot start worker %d\n", i);
            return 1;
        }
    }
    rc = corio_run(acceptor, NULL, NULL);
    for (i = 0; i < NWORKERS; i++) {
        corio_loop_call_soon_threadsafe(workers[i].loop, stop_loop,
                                        workers[i].loop);
        pthread_join(workers[i].thread, NULL);
        corio_loop_free(workers[i].loop);
    }
    if (rc) {
        fprintf(stderr, "worker_loops: %s\n", corio_strerror(rc));
        return 1;
    }
    return 0;
}
