/*
 * test_handoff.c: the direct hand-off between tasks (task.c, Go's
 * runnext): a task that wakes exactly one other task and then parks
 * switches to it directly. Two tasks doing that forever must not starve
 * a due timer, a readable descriptor, a loop stop, corio_run's SIGINT or
 * a third task, and every kind of wake (future, event, queue) must hand
 * over the right value. Proven by counts and ordering, never by time: a
 * due timer runs within a few hand-offs, a ready descriptor within a few
 * poll intervals (the poller is consulted every 61 loop iterations, and
 * each hand-off counts as one).
 */
#include "test.h"

#include <corio.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

enum { BY_FUTURE, BY_EVENT, BY_QUEUE };

/* Two sides handing a turn back and forth until `stop` is set. */
struct pp {
    int kind;
    corio_future *fut[2]; /* BY_FUTURE: what side i waits on next */
    corio_event *ev[2];
    corio_queue *q[2];
    long count;   /* hand-offs so far */
    long limit;   /* stop by itself after this many (0: never) */
    int stop;
    int ended;    /* sides that saw `stop` */
    long seen_at; /* count when the observer ran (-1: not yet) */
    int order[8]; /* BY_*: who ran, in order, for the first turns */
    int norder;
};

static int pp_wait(struct pp *s, int i)
{
    void *v;
    int rc;
    switch (s->kind) {
    case BY_FUTURE:
        rc = corio_future_await(s->fut[i], &v);
        corio_future_release(s->fut[i]);
        s->fut[i] = NULL;
        if (rc == 0)
            CHECK_PTR(v, (void *)s);
        return rc;
    case BY_EVENT:
        rc = corio_event_wait(s->ev[i]);
        corio_event_clear(s->ev[i]);
        return rc;
    default:
        rc = corio_queue_get(s->q[i], &v);
        if (rc == 0)
            CHECK_PTR(v, (void *)s);
        return rc;
    }
}

static int pp_give(struct pp *s, int to)
{
    switch (s->kind) {
    case BY_FUTURE:
        return corio_future_set_result(s->fut[to], s);
    case BY_EVENT:
        return corio_event_set(s->ev[to]);
    default:
        return corio_queue_put(s->q[to], s);
    }
}

static int pp_arm(struct pp *s, int i)
{
    return s->kind == BY_FUTURE ? corio_future_new(NULL, &s->fut[i]) : 0;
}

struct side {
    struct pp *s;
    int i;
};

static int pp_side(void *arg, void **result)
{
    struct side *me = arg;
    struct pp *s = me->s;
    int i = me->i, rc;
    *result = NULL;
    for (;;) {
        if ((rc = pp_wait(s, i)) != 0)
            return rc;
        if (s->norder < 8)
            s->order[s->norder++] = i;
        if (s->stop || (s->limit && s->count >= s->limit)) {
            s->stop = 1;
            if (s->ended++) /* the other side is gone already */
                return 0;
            return pp_give(s, 1 - i); /* let the other side end too */
        }
        if ((rc = pp_arm(s, i)) != 0)
            return rc;
        s->count++;
        if ((rc = pp_give(s, 1 - i)) != 0)
            return rc;
    }
}

static void pp_init(struct pp *s, int kind)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->seen_at = -1;
    for (int i = 0; i < 2; i++) {
        if (kind == BY_FUTURE)
            CHECK_EQ(corio_future_new(NULL, &s->fut[i]), 0);
        else if (kind == BY_EVENT)
            CHECK_EQ(corio_event_new(&s->ev[i]), 0);
        else
            CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &s->q[i]), 0);
    }
}

static void pp_fini(struct pp *s)
{
    for (int i = 0; i < 2; i++) {
        corio_future_release(s->fut[i]);
        if (s->ev[i])
            corio_event_free(s->ev[i]);
        if (s->q[i])
            corio_queue_free(s->q[i]);
    }
}

/* Spawn both sides and start the ball; the caller joins. */
static void pp_start(struct pp *s, struct side side[2], corio_task *t[2])
{
    for (int i = 0; i < 2; i++) {
        side[i].s = s;
        side[i].i = i;
        CHECK_EQ(corio_spawn(pp_side, &side[i], NULL, &t[i]), 0);
    }
    CHECK_EQ(pp_give(s, 0), 0);
}

static void pp_join(corio_task *t[2])
{
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        corio_task_release(t[i]);
    }
}

/* ---- values and ordering ----------------------------------------------- */

static int plain_main(void *arg, void **result)
{
    struct pp *s = arg;
    struct side side[2];
    corio_task *t[2];
    *result = NULL;
    pp_start(s, side, t);
    pp_join(t);
    return 0;
}

static void run_plain(int kind)
{
    struct pp s;
    pp_init(&s, kind);
    s.limit = 10000;
    CHECK_EQ(corio_run(plain_main, &s, NULL), 0);
    CHECK_EQ(s.count, 10000);
    /* Strict alternation, side 0 first. */
    CHECK_EQ(s.norder, 8);
    for (int k = 0; k < 8; k++)
        CHECK_EQ(s.order[k], k % 2);
    pp_fini(&s);
}

TEST(task_handoff_future_values)
{
    run_plain(BY_FUTURE);
}

TEST(task_handoff_event_values)
{
    run_plain(BY_EVENT);
}

TEST(task_handoff_queue_values)
{
    run_plain(BY_QUEUE);
}

/* ---- a due timer is not starved ---------------------------------------- */

static void on_timer(void *arg)
{
    struct pp *s = arg;
    s->seen_at = s->count;
    s->stop = 1;
}

static int timer_main(void *arg, void **result)
{
    struct pp *s = arg;
    struct side side[2];
    corio_task *t[2];
    *result = NULL;
    pp_start(s, side, t);
    /* Due at once: the loop's next look at its timers runs it. */
    CHECK_EQ(corio_loop_call_later(corio_loop_current(), 0, on_timer, s,
                                   NULL),
             0);
    pp_join(t);
    return 0;
}

static void run_timer(int kind)
{
    struct pp s;
    pp_init(&s, kind);
    CHECK_EQ(corio_run(timer_main, &s, NULL), 0);
    CHECK(s.seen_at >= 0);
    /* A chain of hand-offs stops at a due timer: it runs within the
     * first few turns, not after some budget of them. */
    CHECK_INT(s.seen_at, <=, 4);
    pp_fini(&s);
}

TEST(task_handoff_timer_not_starved_future)
{
    run_timer(BY_FUTURE);
}

TEST(task_handoff_timer_not_starved_event)
{
    run_timer(BY_EVENT);
}

/* A timer that becomes due while the sides run: the chain never ends by
 * itself, so the test ending at all is the proof. */
static int later_main(void *arg, void **result)
{
    struct pp *s = arg;
    struct side side[2];
    corio_task *t[2];
    *result = NULL;
    pp_start(s, side, t);
    CHECK_EQ(corio_loop_call_later(corio_loop_current(), 0.001, on_timer, s,
                                   NULL),
             0);
    pp_join(t);
    return 0;
}

TEST(task_handoff_later_timer_fires)
{
    struct pp s;
    pp_init(&s, BY_FUTURE);
    CHECK_EQ(corio_run(later_main, &s, NULL), 0);
    CHECK(s.seen_at >= 0);
    pp_fini(&s);
}

/* ---- a readable descriptor is not starved ------------------------------ */

struct fd_case {
    struct pp *s;
    int rfd;
};

static int reader(void *arg, void **result)
{
    struct fd_case *c = arg;
    char b;
    *result = NULL;
    CHECK_EQ(corio_wait_readable(c->rfd), 0);
    CHECK_EQ(read(c->rfd, &b, 1), 1);
    c->s->seen_at = c->s->count;
    c->s->stop = 1;
    return 0;
}

static int fd_main(void *arg, void **result)
{
    struct fd_case *c = arg;
    struct side side[2];
    corio_task *t[2], *r;
    int i;
    *result = NULL;
    /* The reader parks on the descriptor first (it is not readable yet:
     * a wait that has to reach the poller). */
    CHECK_EQ(corio_spawn(reader, c, NULL, &r), 0);
    CHECK_EQ(corio_sleep(0), 0);
    for (i = 0; i < 3 && !corio_task_done(r); i++)
        CHECK_EQ(corio_sleep(0), 0);
    pp_start(c->s, side, t);
    pp_join(t);
    CHECK_EQ(corio_task_join(r, NULL), 0);
    corio_task_release(r);
    return 0;
}

static int writer_side(void *arg, void **result)
{
    int *wfd = arg;
    *result = NULL;
    CHECK_EQ(write(*wfd, "x", 1), 1);
    return 0;
}

/* The byte is written by a task from inside the ping-pong's loop, after
 * the reader parked: from then on only the poller can wake the reader. */
static int fd_main2(void *arg, void **result)
{
    struct fd_case *c = arg;
    struct side side[2];
    corio_task *t[2], *r, *w;
    int *wfd = (int *)(c + 1);
    *result = NULL;
    CHECK_EQ(corio_spawn(reader, c, NULL, &r), 0);
    CHECK_EQ(corio_sleep(0), 0); /* the reader parks on the descriptor */
    CHECK_EQ(corio_spawn(writer_side, wfd, NULL, &w), 0);
    CHECK_EQ(corio_task_join(w, NULL), 0);
    corio_task_release(w);
    pp_start(c->s, side, t);
    pp_join(t);
    CHECK_EQ(corio_task_join(r, NULL), 0);
    corio_task_release(r);
    return 0;
}

static void run_fd(int kind, int late)
{
    struct {
        struct fd_case c;
        int wfd;
    } x;
    struct pp s;
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pp_init(&s, kind);
    x.c.s = &s;
    x.c.rfd = p[0];
    x.wfd = p[1];
    if (!late)
        CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(corio_run(late ? fd_main2 : fd_main, &x.c, NULL), 0);
    CHECK(s.seen_at >= 0);
    /* The poller is consulted every 61 loop iterations, hand-offs
     * included: the reader runs within two such intervals. */
    CHECK_INT(s.seen_at, <=, 2 * 61 + 4);
    close(p[0]);
    close(p[1]);
    pp_fini(&s);
}

TEST(task_handoff_fd_not_starved_future)
{
    run_fd(BY_FUTURE, 1);
}

TEST(task_handoff_fd_not_starved_event)
{
    run_fd(BY_EVENT, 1);
}

TEST(task_handoff_fd_ready_first)
{
    run_fd(BY_QUEUE, 0);
}

/* ---- a loop stop ends the chain ---------------------------------------- */

struct stop_case {
    struct pp s;
    corio_loop *loop;
    long stop_at;
    long ran_after_stop;
};

static int stopper_side(void *arg, void **result)
{
    struct side *me = arg;
    struct stop_case *c = (struct stop_case *)me->s;
    struct pp *s = me->s;
    int i = me->i, rc;
    *result = NULL;
    for (;;) {
        if ((rc = pp_wait(s, i)) != 0)
            return rc;
        if (c->stop_at >= 0)
            c->ran_after_stop++;
        if (s->count == 100 && c->stop_at < 0) {
            c->stop_at = s->count;
            corio_loop_stop(c->loop);
        }
        if ((rc = pp_arm(s, i)) != 0)
            return rc;
        s->count++;
        if ((rc = pp_give(s, 1 - i)) != 0)
            return rc;
    }
}

TEST(task_handoff_stop_ends_chain)
{
    struct stop_case c;
    struct side side[2];
    corio_task *t[2];
    pp_init(&c.s, BY_FUTURE);
    c.stop_at = -1;
    c.ran_after_stop = 0;
    CHECK_EQ(corio_loop_new(NULL, &c.loop), 0);
    for (int i = 0; i < 2; i++) {
        side[i].s = &c.s;
        side[i].i = i;
        CHECK_EQ(corio_loop_spawn(c.loop, stopper_side, &side[i], NULL,
                                  &t[i]),
                 0);
    }
    CHECK_EQ(corio_future_set_result(c.s.fut[0], &c.s), 0);
    CHECK_EQ(corio_loop_run(c.loop), 0);
    /* The loop stops after the iteration that asked: the side woken by
     * that step does not run. */
    CHECK_EQ(c.stop_at, 100);
    CHECK_EQ(c.ran_after_stop, 0);
    for (int i = 0; i < 2; i++) {
        corio_task_cancel(t[i]);
        corio_task_release(t[i]);
    }
    CHECK_EQ(corio_loop_free(c.loop), 0);
    pp_fini(&c.s);
}

/* ---- a third task keeps its turn ---------------------------------------- */

struct third {
    struct pp *s;
    long turns;
};

static int yielder(void *arg, void **result)
{
    struct third *th = arg;
    *result = NULL;
    while (!th->s->stop) {
        th->turns++;
        if (th->turns == 1000)
            th->s->stop = 1;
        CHECK_EQ(corio_sleep(0), 0);
    }
    return 0;
}

static int third_main(void *arg, void **result)
{
    struct third *th = arg;
    struct side side[2];
    corio_task *t[2], *y;
    *result = NULL;
    CHECK_EQ(corio_spawn(yielder, th, NULL, &y), 0);
    pp_start(th->s, side, t);
    pp_join(t);
    CHECK_EQ(corio_task_join(y, NULL), 0);
    corio_task_release(y);
    return 0;
}

TEST(task_handoff_yielder_keeps_turn)
{
    struct pp s;
    struct third th = {&s, 0};
    pp_init(&s, BY_FUTURE);
    CHECK_EQ(corio_run(third_main, &th, NULL), 0);
    CHECK_EQ(th.turns, 1000);
    /* As in asyncio: one ping-pong turn per loop iteration while a
     * yielding task is ready too, so the sides took one turn per yield
     * (give or take the start and the end). */
    CHECK_INT(s.count, <=, 1000 + 2);
    CHECK_INT(s.count, >=, 1000 - 2);
    pp_fini(&s);
}

/* ---- corio_run's SIGINT check between chains ----------------------------- */

/* A side that sends the process SIGINT at the 100th hand-off and goes on. */
static int sigint_side(void *arg, void **result)
{
    struct side *me = arg;
    struct pp *s = me->s;
    int i = me->i, rc;
    *result = NULL;
    for (;;) {
        if ((rc = pp_wait(s, i)) != 0)
            return rc;
        if (s->count == 100)
            CHECK_EQ(kill(getpid(), SIGINT), 0);
        if ((rc = pp_arm(s, i)) != 0)
            return rc;
        s->count++;
        if ((rc = pp_give(s, 1 - i)) != 0)
            return rc;
    }
}

static int sigint_main(void *arg, void **result)
{
    struct pp *s = arg;
    struct side side[2];
    corio_task *t[2];
    int rc;
    *result = NULL;
    for (int i = 0; i < 2; i++) {
        side[i].s = s;
        side[i].i = i;
        CHECK_EQ(corio_spawn(sigint_side, &side[i], NULL, &t[i]), 0);
    }
    CHECK_EQ(pp_give(s, 0), 0);
    rc = corio_task_join(t[0], NULL); /* the SIGINT cancels main here */
    s->seen_at = s->count;
    for (int i = 0; i < 2; i++) {
        corio_task_cancel(t[i]);
        corio_task_release(t[i]);
    }
    return rc;
}

/* corio_run looks at SIGINT once per loop iteration, and a chain of
 * hand-offs is granted at most the iterations left before the next poll
 * (61), so two tasks handing off forever still let the signal cancel main
 * within that many hand-offs (counted, not timed). */
TEST(task_handoff_sigint_seen_within_poll_interval)
{
    struct pp s;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL; /* corio_run leaves an ignored SIGINT alone */
    CHECK_EQ(sigaction(SIGINT, &dfl, NULL), 0);
    pp_init(&s, BY_FUTURE);
    CHECK_EQ(corio_run(sigint_main, &s, NULL), -ECANCELED);
    CHECK_INT(s.seen_at, >=, 101);
    CHECK_INT(s.seen_at, <=, 100 + 61 + 2);
    pp_fini(&s);
}
