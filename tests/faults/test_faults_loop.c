/*
 * test_faults_loop.c: a flood of cross-thread calls must not hold up
 * timers (issue 10). Proven by counts: a timer that comes due while the
 * cross-thread queue holds FLOOD calls runs long before they are all
 * done. (The latency figure itself is bench/bench_flood.c's.)
 */
#include "test.h"

#include <corio.h>
#include <pthread.h>

#define FLOOD 20000
#define PRODUCERS 4

struct flood {
    corio_loop *loop;
    long ran;          /* cross-thread calls run so far */
    long ran_at_timer; /* ... when the timer fired; -1 before */
};

static void timer_cb(void *arg)
{
    struct flood *f = arg;
    f->ran_at_timer = f->ran;
}

static void flood_cb(void *arg)
{
    struct flood *f = arg;
    /* The 10th call makes a timer due at once: it must not wait for the
     * rest of the queue. */
    if (++f->ran == 10)
        CHECK_EQ(corio_loop_call_later(f->loop, 0, timer_cb, f, NULL), 0);
    if (f->ran == FLOOD)
        corio_loop_stop(f->loop);
}

TEST(loop_flood_does_not_hold_up_a_due_timer)
{
    struct flood f = {NULL, 0, -1};
    int i;
    CHECK_EQ(corio_loop_new(NULL, &f.loop), 0);
    for (i = 0; i < FLOOD; i++) /* queued before the loop runs */
        CHECK_EQ(corio_loop_call_soon_threadsafe(f.loop, flood_cb, &f), 0);
    CHECK_EQ(corio_loop_run(f.loop), 0);
    CHECK_EQ(f.ran, FLOOD);
    CHECK(f.ran_at_timer >= 10);
    CHECK_INT(f.ran_at_timer, <, FLOOD / 2);
    CHECK_EQ(corio_loop_free(f.loop), 0);
}

/* The same from other threads, while they keep calling: every call runs,
 * in each thread's order, and the timer still comes before the end. */
struct producer {
    struct flood *f;
    int id;
};

static long last_seen_[PRODUCERS];
static int out_of_order_;

struct item {
    struct flood *f;
    int id;
    long k;
};

static struct item items_[PRODUCERS][FLOOD / PRODUCERS];

static void ordered_cb(void *arg)
{
    struct item *it = arg;
    if (it->k != last_seen_[it->id] + 1)
        out_of_order_ = 1;
    last_seen_[it->id] = it->k;
    flood_cb(it->f);
}

static void *produce(void *arg)
{
    struct producer *p = arg;
    long k;
    for (k = 0; k < FLOOD / PRODUCERS; k++) {
        struct item *it = &items_[p->id][k];
        it->f = p->f;
        it->id = p->id;
        it->k = k;
        CHECK_EQ(corio_loop_call_soon_threadsafe(p->f->loop, ordered_cb, it),
                 0);
    }
    return NULL;
}

TEST(loop_flood_from_threads_runs_in_order)
{
    struct flood f = {NULL, 0, -1};
    struct producer p[PRODUCERS];
    pthread_t th[PRODUCERS];
    int i;
    CHECK_EQ(corio_loop_new(NULL, &f.loop), 0);
    for (i = 0; i < PRODUCERS; i++) {
        last_seen_[i] = -1;
        p[i].f = &f;
        p[i].id = i;
        CHECK_EQ(pthread_create(&th[i], NULL, produce, &p[i]), 0);
    }
    CHECK_EQ(corio_loop_hold(f.loop), 0); /* until every call is made */
    CHECK_EQ(corio_loop_run(f.loop), 0);
    for (i = 0; i < PRODUCERS; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    CHECK_EQ(corio_loop_unhold(f.loop), 0);
    CHECK_EQ(f.ran, FLOOD);
    CHECK_EQ(out_of_order_, 0);
    CHECK(f.ran_at_timer >= 10);
    CHECK_EQ(corio_loop_free(f.loop), 0);
}
