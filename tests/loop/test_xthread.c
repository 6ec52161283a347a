/*
 * test_xthread.c: the loop's cross-thread queue (loop.c, "cross-thread
 * calls"): a lock-free queue that wakes the loop only while it waits.
 * Proven by handshakes and counts, never by time: a loop that sleeps
 * between every call is woken for each one (a lost wake-up hangs the test
 * until the runner's timeout); pushes racing corio_loop_free are each
 * either refused or run exactly once (none lost, none run twice).
 * Back-pressure (loop.c, "Back-pressure"): a plain thread's call over the
 * bound waits until the loop has drained to the low-water mark, counted
 * through the loop's own counters (tsq_waiters, tsq_count) while a
 * callback holds the loop's thread; loop threads and corio's own posts
 * never wait; stopping or freeing the loop releases the waiters; the try
 * variant refuses instead.
 * Per-producer order and the per-iteration share are
 * tests/faults/test_faults_loop.c's (and here, with a small bound).
 */
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sched.h>
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

/* ---- back-pressure ------------------------------------------------------------------ */

#define BOUND 16 /* threadsafe_max of these tests: low-water 8 */

static corio_loop *bounded_loop(void)
{
    corio_loop_opts o = {NULL, BOUND};
    corio_loop *loop;
    CHECK_EQ(corio_loop_new(&o, &loop), 0);
    CHECK_EQ(loop->tsq_max, BOUND);
    CHECK_EQ(loop->tsq_low, BOUND / 2);
    return loop;
}

/* Until k producers wait on the loop's back-pressure (a handshake on the
 * loop's own count; no time limit). */
static void until_waiting(corio_loop *loop, unsigned k)
{
    while (atomic_load(&loop->tsq_waiters) < k)
        sched_yield();
}

static void sem_take(sem_t *s)
{
    while (sem_wait(s) != 0) /* EINTR */
        ;
}

struct bp {
    corio_loop *loop;
    sem_t go;            /* the loop's thread is held: start pushing */
    long per;            /* calls per producer */
    int producers;
    atomic_long pushed;  /* calls accepted (all producers) */
    atomic_int refused;  /* producers that got -ESHUTDOWN */
    long ran;            /* the loop's thread only */
    long seen[4];        /* per producer: the last k run */
    int out_of_order;
    long most_queued;    /* the largest tsq_count a callback saw */
    int stop_when_waiting; /* the gate stops the loop instead */
    struct bp_item *items; /* per * producers; the callbacks' arguments */
};

struct bp_item {
    struct bp *b;
    int id;
    long k;
};

static void bp_cb(void *arg)
{
    struct bp_item *it = arg;
    struct bp *b = it->b;
    long q = (long)atomic_load(&b->loop->tsq_count);
    if (it->k != b->seen[it->id] + 1)
        b->out_of_order = 1;
    b->seen[it->id] = it->k;
    if (q > b->most_queued)
        b->most_queued = q;
    if (++b->ran == b->per * b->producers)
        corio_loop_stop(b->loop);
}

static void *bp_producer(void *arg)
{
    struct bp_item *me = arg;
    struct bp *b = me->b;
    sem_take(&b->go);
    for (long k = 0; k < b->per; k++) {
        struct bp_item *it = &b->items[me->id * b->per + k];
        int rc;
        it->b = b;
        it->id = me->id;
        it->k = k;
        rc = corio_loop_call_soon_threadsafe(b->loop, bp_cb, it);
        if (rc == -ESHUTDOWN) {
            atomic_fetch_add(&b->refused, 1);
            break;
        }
        CHECK_EQ(rc, 0);
        atomic_fetch_add(&b->pushed, 1);
    }
    return NULL;
}

/* A callback that holds the loop's thread (the loop runs: the bound
 * holds) until every producer waits on back-pressure. */
static void bp_gate(void *arg)
{
    struct bp *b = arg;
    for (int i = 0; i < b->producers; i++)
        sem_post(&b->go);
    until_waiting(b->loop, (unsigned)b->producers);
    /* Each producer stopped at the bound: the queue holds BOUND calls,
     * plus at most one per producer that looked at the same moment. */
    CHECK_INT(atomic_load(&b->pushed), >=, BOUND);
    CHECK_INT(atomic_load(&b->pushed), <, BOUND + b->producers);
    CHECK_EQ((long)atomic_load(&b->loop->tsq_count), atomic_load(&b->pushed));
    if (b->stop_when_waiting)
        corio_loop_stop(b->loop);
}

static void bp_start(struct bp *b, struct bp_item *ids, pthread_t *th,
                     int producers, long per)
{
    memset(b, 0, sizeof *b);
    b->loop = bounded_loop();
    b->per = per;
    b->producers = producers;
    for (int i = 0; i < producers; i++)
        b->seen[i] = -1;
    b->items = calloc((size_t)(per * producers), sizeof *b->items);
    CHECK(b->items != NULL);
    CHECK_EQ(sem_init(&b->go, 0, 0), 0);
    for (int i = 0; i < producers; i++) {
        ids[i].b = b;
        ids[i].id = i;
        CHECK_EQ(pthread_create(&th[i], NULL, bp_producer, &ids[i]), 0);
    }
    CHECK_EQ(corio_loop_call_soon(b->loop, bp_gate, b, NULL), 0);
}

/* What bp_start set up, undone: the loop freed (free_loop) and the rest. */
static void bp_end(struct bp *b, int free_loop)
{
    if (free_loop)
        CHECK_EQ(corio_loop_free(b->loop), 0);
    sem_destroy(&b->go);
    free(b->items);
}

/* Producers over the bound sleep (the loop's thread is held, so only the
 * bound can stop them) and resume once the loop drains: every call runs,
 * each producer's in its order, and the queue never held more than the
 * bound and one call per producer. */
TEST(loop_xthread_backpressure_waits_and_resumes_in_order)
{
    struct bp b;
    struct bp_item ids[4];
    pthread_t th[4];
    long per = corio_test_under_tsan() || corio_test_under_valgrind() ? 300
                                                                       : 5000;
    bp_start(&b, ids, th, 4, per);
    CHECK_EQ(corio_loop_run(b.loop), 0); /* until every call has run */
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    CHECK_EQ(atomic_load(&b.pushed), 4 * per);
    CHECK_EQ(b.ran, 4 * per);
    CHECK_EQ(b.out_of_order, 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(b.seen[i], per - 1);
    CHECK_INT(b.most_queued, <, BOUND + 4);
    CHECK_EQ((long)atomic_load(&b.loop->tsq_count), 0);
    CHECK_EQ(atomic_load(&b.loop->tsq_waiters), 0);
    bp_end(&b, 1);
}

/* The loop stops while producers wait: they are released and queue their
 * calls (the bound holds only while the loop runs); a second run runs
 * them all. */
TEST(loop_xthread_backpressure_released_by_stop)
{
    struct bp b;
    struct bp_item ids[3];
    pthread_t th[3];
    bp_start(&b, ids, th, 3, 200);
    b.stop_when_waiting = 1;
    CHECK_EQ(corio_loop_run(b.loop), 0); /* the gate stops it */
    for (int i = 0; i < 3; i++) /* not running: nothing bounds them */
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    CHECK_EQ(atomic_load(&b.pushed), 3 * 200);
    CHECK_EQ((long)atomic_load(&b.loop->tsq_count), 3 * 200);
    CHECK_EQ(b.ran, 0);
    CHECK_EQ(corio_loop_run(b.loop), 0);
    CHECK_EQ(b.ran, 3 * 200);
    CHECK_EQ(b.out_of_order, 0);
    bp_end(&b, 1);
}

/* corio_loop_free wakes producers waiting on back-pressure: each returns
 * -ESHUTDOWN and the calls already queued are freed with the loop (the
 * leak checkers see to that). The loop cannot be freed while it runs, so
 * "running" is set by hand here: the waiters see the bound as they would
 * under a running loop. */
TEST(loop_xthread_backpressure_released_by_free)
{
    struct bp b;
    struct bp_item ids[3];
    pthread_t th[3];
    bp_start(&b, ids, th, 3, 1000);
    b.loop->refs++; /* the checks below read the loop after the free */
    atomic_store(&b.loop->tsq_running, 1);
    for (int i = 0; i < 3; i++)
        sem_post(&b.go);
    until_waiting(b.loop, 3);
    CHECK_INT(atomic_load(&b.pushed), >=, BOUND);
    CHECK_EQ(corio_loop_free(b.loop), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    CHECK_EQ(atomic_load(&b.refused), 3);
    CHECK_EQ(atomic_load(&b.loop->tsq_waiters), 0);
    CHECK_EQ(b.ran, 0); /* callbacks are dropped at the free */
    corio__loop_unref(b.loop);
    bp_end(&b, 0);
}

/* Threads inside corio_loop_run never wait: a callback of loop A posts
 * far over the bound to A itself and to loop B, running on another
 * thread and held there by a callback (a wait would hang the test); the
 * try variant refuses both; then everything runs. */
struct two {
    corio_loop *a, *b;
    sem_t b_held, b_release;
    long ran_a, ran_b;
    long posts;
};

static void two_ran_a(void *arg)
{
    struct two *t = arg;
    if (++t->ran_a == t->posts)
        corio_loop_stop(t->a);
}

static void two_ran_b(void *arg)
{
    struct two *t = arg;
    if (++t->ran_b == t->posts)
        corio_loop_stop(t->b);
}

static void two_b_gate(void *arg)
{
    struct two *t = arg;
    sem_post(&t->b_held);
    sem_take(&t->b_release);
}

static void two_a_posts(void *arg)
{
    struct two *t = arg;
    sem_take(&t->b_held); /* B runs, its thread held: its bound holds */
    for (long i = 0; i < t->posts; i++) {
        CHECK_EQ(corio_loop_call_soon_threadsafe(t->a, two_ran_a, t), 0);
        CHECK_EQ(corio_loop_call_soon_threadsafe(t->b, two_ran_b, t), 0);
    }
    CHECK_EQ((long)atomic_load(&t->b->tsq_count), t->posts);
    CHECK_EQ(corio_loop_try_call_soon_threadsafe(t->a, two_ran_a, t),
             -EAGAIN);
    CHECK_EQ(corio_loop_try_call_soon_threadsafe(t->b, two_ran_b, t),
             -EAGAIN);
    sem_post(&t->b_release);
}

static void *two_run_b(void *arg)
{
    struct two *t = arg;
    CHECK_EQ(corio_loop_run(t->b), 0);
    return NULL;
}

TEST(loop_xthread_backpressure_never_waits_on_a_loop_thread)
{
    struct two t;
    pthread_t th;
    memset(&t, 0, sizeof t);
    t.posts = 20 * BOUND;
    t.a = bounded_loop();
    t.b = bounded_loop();
    CHECK_EQ(sem_init(&t.b_held, 0, 0), 0);
    CHECK_EQ(sem_init(&t.b_release, 0, 0), 0);
    CHECK_EQ(corio_loop_call_soon(t.b, two_b_gate, &t, NULL), 0);
    CHECK_EQ(corio_loop_call_soon(t.a, two_a_posts, &t, NULL), 0);
    CHECK_EQ(pthread_create(&th, NULL, two_run_b, &t), 0);
    CHECK_EQ(corio_loop_run(t.a), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(t.ran_a, t.posts);
    CHECK_EQ(t.ran_b, t.posts);
    CHECK_EQ(corio_loop_free(t.a), 0);
    CHECK_EQ(corio_loop_free(t.b), 0);
    sem_destroy(&t.b_held);
    sem_destroy(&t.b_release);
}

/* The try variant from a plain thread: refused exactly at the bound while
 * the loop runs (one producer, the loop's thread held), accepted again
 * once the loop drained; never refused while the loop is not running. */
struct tryer {
    corio_loop *loop;
    sem_t held, release;
    long accepted, ran;
};

static void try_cb(void *arg)
{
    struct tryer *t = arg;
    t->ran++;
}

static void try_gate(void *arg)
{
    struct tryer *t = arg;
    sem_post(&t->held);
    sem_take(&t->release);
}

static void try_stop(void *arg)
{
    struct tryer *t = arg;
    corio_loop_stop(t->loop);
}

static void *try_producer(void *arg)
{
    struct tryer *t = arg;
    int rc;
    sem_take(&t->held);
    while ((rc = corio_loop_try_call_soon_threadsafe(t->loop, try_cb, t)) ==
           0)
        t->accepted++;
    CHECK_EQ(rc, -EAGAIN);
    CHECK_EQ(t->accepted, BOUND); /* the only producer: exactly the bound */
    sem_post(&t->release);
    /* Waits, if need be, until the loop has drained to the low-water
     * mark; only this thread pushes, so a try after it is accepted. */
    CHECK_EQ(corio_loop_call_soon_threadsafe(t->loop, try_cb, t), 0);
    CHECK_INT((long)atomic_load(&t->loop->tsq_count), <=, BOUND / 2 + 1);
    CHECK_EQ(corio_loop_try_call_soon_threadsafe(t->loop, try_cb, t), 0);
    CHECK_EQ(corio_loop_call_soon_threadsafe(t->loop, try_stop, t), 0);
    return NULL;
}

TEST(loop_xthread_try_refuses_at_the_bound)
{
    struct tryer t;
    pthread_t th;
    memset(&t, 0, sizeof t);
    t.loop = bounded_loop();
    CHECK_EQ(sem_init(&t.held, 0, 0), 0);
    CHECK_EQ(sem_init(&t.release, 0, 0), 0);
    for (int i = 0; i < 2 * BOUND; i++) /* not running: no bound */
        CHECK_EQ(corio_loop_try_call_soon_threadsafe(t.loop, try_cb, &t), 0);
    CHECK_EQ(corio_loop_call_soon(t.loop, try_gate, &t, NULL), 0);
    CHECK_EQ(pthread_create(&th, NULL, try_producer, &t), 0);
    CHECK_EQ(corio_loop_run(t.loop), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(t.ran, 2 * BOUND + BOUND + 2);
    CHECK_EQ(corio_loop_free(t.loop), 0);
    sem_destroy(&t.held);
    sem_destroy(&t.release);
}

/* corio's own posts (corio__loop_post: pool completions, cross-loop
 * calls) and the watchdog's call (corio__loop_call_soon_soft) never wait,
 * even from a plain thread over the bound: the loop's thread is held
 * until after they return (a wait would hang the test). */
struct soft {
    corio_loop *loop;
    sem_t held, release;
    long ran;
};

struct soft_post {
    corio__post post;
    struct soft *s;
};

static void soft_cb(void *arg)
{
    struct soft *s = arg;
    s->ran++;
}

static void soft_post_run(corio__ready *rd)
{
    struct soft_post *p = CORIO__CONTAINER(rd, struct soft_post, post.ready);
    p->s->ran++;
    corio_loop_stop(p->s->loop);
}

static void soft_gate(void *arg)
{
    struct soft *s = arg;
    sem_post(&s->held);
    sem_take(&s->release);
}

static void *soft_producer(void *arg)
{
    struct soft *s = arg;
    static struct soft_post p;
    sem_take(&s->held);
    for (int i = 0; i < BOUND; i++) /* up to the bound: no wait yet */
        CHECK_EQ(corio_loop_call_soon_threadsafe(s->loop, soft_cb, s), 0);
    CHECK_EQ(corio_loop_try_call_soon_threadsafe(s->loop, soft_cb, s),
             -EAGAIN); /* over it now */
    CHECK_EQ(corio__loop_call_soon_soft(s->loop, soft_cb, s), 0);
    p.post.ready.run = soft_post_run;
    p.s = s;
    CHECK_EQ(corio__loop_post(s->loop, &p.post), 0);
    CHECK_EQ((long)atomic_load(&s->loop->tsq_count), BOUND + 2);
    sem_post(&s->release);
    return NULL;
}

TEST(loop_xthread_backpressure_internal_posts_never_wait)
{
    struct soft s;
    pthread_t th;
    memset(&s, 0, sizeof s);
    s.loop = bounded_loop();
    CHECK_EQ(sem_init(&s.held, 0, 0), 0);
    CHECK_EQ(sem_init(&s.release, 0, 0), 0);
    CHECK_EQ(corio_loop_call_soon(s.loop, soft_gate, &s, NULL), 0);
    CHECK_EQ(pthread_create(&th, NULL, soft_producer, &s), 0);
    CHECK_EQ(corio_loop_run(s.loop), 0); /* the post, last, stops it */
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(s.ran, BOUND + 2);
    CHECK_EQ(corio_loop_free(s.loop), 0);
    sem_destroy(&s.held);
    sem_destroy(&s.release);
}
