/*
 * test_xthread.c: the loop's cross-thread queue (loop.c, "cross-thread
 * calls"): a lock-free queue that wakes the loop only while it waits.
 * Proven by handshakes and counts, never by time: a loop that sleeps
 * between every call is woken for each one (a lost wake-up hangs the test
 * until the runner's timeout); pushes racing corio_loop_free are each
 * either refused or run exactly once (none lost, none run twice).
 * Per-producer order and the per-iteration share are
 * tests/faults/test_faults_loop.c's.
 */
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "loop/loop_impl.h"

/* ---- a loop asleep between every call ---------------------------------------- */

struct pingpong {
    corio_loop *loop;
    sem_t ran;   /* posted by each call */
    int rounds;
    int count;   /* the loop's thread only */
};

static void pong(void *arg)
{
    struct pingpong *p = arg;
    if (++p->count == p->rounds)
        corio_loop_stop(p->loop);
    sem_post(&p->ran);
}

static void *ping(void *arg)
{
    struct pingpong *p = arg;
    for (int i = 0; i < p->rounds; i++) {
        CHECK_EQ(corio_loop_call_soon_threadsafe(p->loop, pong, p), 0);
        while (sem_wait(&p->ran) != 0) /* EINTR */
            ;
    }
    return NULL;
}

static void run_pingpong(int with_timer)
{
    struct pingpong p;
    pthread_t th;
    corio_handle *h = NULL;
    p.rounds = corio_test_under_tsan() || corio_test_under_valgrind() ? 300
                                                                       : 3000;
    p.count = 0;
    CHECK_EQ(sem_init(&p.ran, 0, 0), 0);
    CHECK_EQ(corio_loop_new(NULL, &p.loop), 0);
    CHECK_EQ(corio_loop_hold(p.loop), 0); /* nothing of its own to do */
    if (with_timer) /* a finite wait: the same wake-up must end it */
        CHECK_EQ(corio_loop_call_later(p.loop, 3600, pong, &p, &h), 0);
    CHECK_EQ(pthread_create(&th, NULL, ping, &p), 0);
    CHECK_EQ(corio_loop_run(p.loop), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(p.count, p.rounds);
    if (h) {
        CHECK_EQ(corio_handle_cancel(h), 0);
        corio_handle_release(h);
    }
    CHECK_EQ(corio_loop_unhold(p.loop), 0);
    CHECK_EQ(corio_loop_free(p.loop), 0);
    sem_destroy(&p.ran);
}

TEST(loop_xthread_wakes_a_loop_asleep_for_good)
{
    run_pingpong(0);
}

TEST(loop_xthread_wakes_a_loop_asleep_until_a_timer)
{
    run_pingpong(1);
}

/* ---- pushes racing corio_loop_free ---------------------------------------------- */

#define RACERS 4

struct race {
    corio_loop *loop;
    atomic_long accepted, ran;
    long stop_after;
};

struct race_node {
    corio__post post;
    struct race *r;
};

static void race_run(corio__ready *rd)
{
    struct race_node *n = CORIO__CONTAINER(rd, struct race_node, post.ready);
    struct race *r = n->r;
    /* Runs once, in the loop or in corio_loop_free's drain (closing). */
    if (atomic_fetch_add(&r->ran, 1) + 1 == r->stop_after)
        corio_loop_stop(r->loop);
    free(n);
}

static void *racer(void *arg)
{
    struct race *r = arg;
    for (;;) {
        struct race_node *n = malloc(sizeof *n);
        int rc;
        CHECK(n != NULL);
        n->post.ready.run = race_run;
        n->r = r;
        rc = corio__loop_post(r->loop, &n->post);
        if (rc == -ESHUTDOWN) {
            free(n);
            return NULL;
        }
        CHECK_EQ(rc, 0);
        atomic_fetch_add(&r->accepted, 1);
    }
}

TEST(loop_xthread_pushes_racing_free_run_once_or_are_refused)
{
    struct race r;
    pthread_t th[RACERS];
    int i;
    atomic_init(&r.accepted, 0);
    atomic_init(&r.ran, 0);
    r.stop_after = corio_test_under_tsan() || corio_test_under_valgrind()
                       ? 500
                       : 20000;
    CHECK_EQ(corio_loop_new(NULL, &r.loop), 0);
    r.loop->refs++; /* the racers use the loop's memory after the free */
    for (i = 0; i < RACERS; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, racer, &r), 0);
    CHECK_EQ(corio_loop_hold(r.loop), 0);
    CHECK_EQ(corio_loop_run(r.loop), 0); /* until stop_after have run */
    CHECK_EQ(corio_loop_free(r.loop), 0); /* while they still push */
    for (i = 0; i < RACERS; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    CHECK(atomic_load(&r.ran) >= r.stop_after);
    CHECK_EQ(atomic_load(&r.ran), atomic_load(&r.accepted));
    corio__loop_unref(r.loop);
}
