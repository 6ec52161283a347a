/*
 * test_loop.c: the loop, futures, tasks, cancellation, sleep, corio_run,
 * cross-thread calls and the deadlock report.
 *
 * Every test runs on the backend named by $CORIO_BACKEND (the suite is run
 * once per backend by CTest).
 */
#include "test.h"
#include "helpers.h"

#include <corio.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

static corio_loop *new_loop(void)
{
    corio_loop *loop = NULL;
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    return loop;
}

/* ---- callbacks ----------------------------------------------------------------- */

struct trace {
    char buf[256];
};

static void note(struct trace *t, const char *s)
{
    strncat(t->buf, s, sizeof t->buf - strlen(t->buf) - 1);
}

struct cb_arg {
    struct trace *trace;
    const char *text;
    corio_loop *loop;
    int stop;
};

static void cb_note(void *arg)
{
    struct cb_arg *a = arg;
    note(a->trace, a->text);
    if (a->stop)
        corio_loop_stop(a->loop);
}

TEST(loop_call_soon_fifo_and_cancel)
{
    corio_loop *loop = new_loop();
    struct trace tr = {""};
    struct cb_arg a = {&tr, "a", loop, 0}, b = {&tr, "b", loop, 0},
                  c = {&tr, "c", loop, 1};
    corio_handle *hb;
    CHECK_EQ(corio_loop_call_soon(loop, cb_note, &a, NULL), 0);
    CHECK_EQ(corio_loop_call_soon(loop, cb_note, &b, &hb), 0);
    CHECK_EQ(corio_loop_call_soon(loop, cb_note, &c, NULL), 0);
    CHECK_EQ(corio_handle_cancel(hb), 0);
    CHECK_EQ(corio_handle_cancel(hb), -EALREADY);
    corio_handle_release(hb);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK_EQ(strcmp(tr.buf, "ac"), 0);
    CHECK_EQ(corio_loop_call_soon(NULL, cb_note, &a, NULL), -EINVAL);
    CHECK_EQ(corio_loop_call_soon(loop, NULL, &a, NULL), -EINVAL);
    CHECK_EQ(corio_loop_free(loop), 0);
}

TEST(loop_call_later_order_and_never_early)
{
    corio_loop *loop = new_loop();
    struct trace tr = {""};
    struct cb_arg a = {&tr, "1", loop, 0}, b = {&tr, "2", loop, 0},
                  c = {&tr, "3", loop, 1}, d = {&tr, "x", loop, 0};
    corio_handle *hd;
    double t0 = corio_loop_time(loop), t1;
    /* Each delay counts from its own call: "3", made first, is due 90 ms
     * after "1" and "2", so a process stalled between the calls (a loaded
     * machine) does not reorder them. */
    CHECK_EQ(corio_loop_call_later(loop, 0.1, cb_note, &c, NULL), 0);
    CHECK_EQ(corio_loop_call_later(loop, 0.01, cb_note, &a, NULL), 0);
    CHECK_EQ(corio_loop_call_later(loop, 0.01, cb_note, &b, NULL), 0);
    CHECK_EQ(corio_loop_call_later(loop, 0.02, cb_note, &d, &hd), 0);
    CHECK_EQ(corio_handle_cancel(hd), 0);
    corio_handle_release(hd);
    CHECK_EQ(corio_loop_run(loop), 0);
    t1 = corio_loop_time(loop);
    CHECK_EQ(strcmp(tr.buf, "123"), 0); /* ties FIFO, cancelled never */
    CHECK(t1 - t0 >= 0.1);
    CHECK_EQ(corio_loop_free(loop), 0);
}

TEST(loop_call_at_uses_loop_clock)
{
    corio_loop *loop = new_loop();
    struct trace tr = {""};
    struct cb_arg a = {&tr, "a", loop, 1};
    double when = corio_loop_time(loop) + 0.02;
    CHECK_EQ(corio_loop_call_at(loop, when, cb_note, &a, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK(corio_loop_time(loop) >= when);
    CHECK_EQ(strcmp(tr.buf, "a"), 0);
    CHECK_EQ(corio_loop_free(loop), 0);
}

struct ts_arg {
    corio_loop *loop;
    int per_thread;
    atomic_int *count;
};

static void ts_cb(void *arg)
{
    struct ts_arg *a = arg;
    atomic_fetch_add(a->count, 1);
}

static void *ts_thread(void *arg)
{
    struct ts_arg *a = arg;
    int i;
    for (i = 0; i < a->per_thread; i++)
        CHECK_EQ(corio_loop_call_soon_threadsafe(a->loop, ts_cb, a), 0);
    return NULL;
}

static void stop_cb(void *arg)
{
    corio_loop_stop(arg);
}

static void check_done_cb(void *arg)
{
    struct ts_arg *a = arg;
    if (atomic_load(a->count) == 4 * a->per_thread)
        corio_loop_stop(a->loop);
    else
        CHECK_EQ(corio_loop_call_later(a->loop, 0.001, check_done_cb, a,
                                       NULL), 0);
}

TEST(loop_call_soon_threadsafe_from_threads)
{
    corio_loop *loop = new_loop();
    atomic_int count = 0;
    struct ts_arg a = {loop, 20000, &count};
    pthread_t th[4];
    int i;
    if (corio_test_under_tsan() || corio_test_under_valgrind())
        a.per_thread = 2000;
    for (i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, ts_thread, &a), 0);
    CHECK_EQ(corio_loop_call_soon(loop, check_done_cb, &a, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    for (i = 0; i < 4; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    CHECK_EQ(atomic_load(&count), 4 * a.per_thread);
    CHECK_EQ(corio_loop_free(loop), 0);
}

TEST(loop_threadsafe_after_free_is_refused)
{
    corio_loop *loop = new_loop();
    CHECK_EQ(corio_loop_call_soon(loop, stop_cb, loop, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK_EQ(corio_loop_free(loop), 0);
}

/* ---- tasks ---------------------------------------------------------------------- */

static int add_one(void *arg, void **result)
{
    *result = IP(PI(arg) + 1);
    return 0;
}

static int outer_awaits_inner(void *arg, void **result)
{
    corio_task *inner;
    void *r = NULL;
    int rc;
    (void)arg;
    CHECK_EQ(corio_spawn(add_one, IP(10), NULL, &inner), 0);
    rc = corio_task_join(inner, &r);
    corio_task_release(inner);
    *result = r;
    return rc;
}

TEST(task_outer_awaits_inner_gets_11)
{
    void *r = NULL;
    CHECK_EQ(corio_run(outer_awaits_inner, NULL, &r), 0);
    CHECK_EQ(PI(r), 11);
}

static int fails_with_message(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_fail(-EPROTO, "bad frame %d", 7);
}

static int catches_inner_error(void *arg, void **result)
{
    corio_task *inner;
    int rc;
    (void)arg;
    CHECK_EQ(corio_spawn(fails_with_message, NULL, NULL, &inner), 0);
    rc = corio_task_join(inner, NULL);
    CHECK_EQ(rc, -EPROTO);
    CHECK_STR_HAS(corio_task_message(inner), "bad frame 7");
    corio_task_release(inner);
    *result = IP(1);
    return 0;
}

TEST(task_error_caught_by_awaiter)
{
    void *r = NULL;
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(corio_run(catches_inner_error, NULL, &r), 0);
    err = corio_test_stderr_end();
    CHECK_EQ(PI(r), 1);
    CHECK_EQ(strlen(err), 0); /* retrieved: no report */
    free(err);
}

static int spawns_and_forgets_failure(void *arg, void **result)
{
    (void)arg;
    (void)result;
    CHECK_EQ(corio_spawn(fails_with_message, NULL, NULL, NULL), 0);
    return corio_sleep(0.01);
}

TEST(task_unretrieved_error_is_reported)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(corio_run(spawns_and_forgets_failure, NULL, NULL), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "task 'task-2' (spawned at");
    CHECK_STR_HAS(err, "test_loop.c:");
    CHECK_STR_HAS(err, "EPROTO");
    CHECK_STR_HAS(err, "bad frame 7");
    free(err);
}

struct thinker {
    struct trace *trace;
    const char *name;
    double secs;
};

static int think(void *arg, void **result)
{
    struct thinker *th = arg;
    char line[32];
    int rc;
    snprintf(line, sizeof line, "start %s;", th->name);
    note(th->trace, line);
    rc = corio_sleep(th->secs);
    if (rc)
        return rc;
    snprintf(line, sizeof line, "end %s;", th->name);
    note(th->trace, line);
    *result = (void *)th->name;
    return 0;
}

static int gather_two(void *arg, void **result)
{
    struct trace *tr = arg;
    /* 90 ms apart: "fast" starts its sleep after "slow" does, and must
     * still end first if the process stalls in between. */
    struct thinker a = {tr, "slow", 0.1}, b = {tr, "fast", 0.01};
    corio_task *ta, *tb;
    void *ra, *rb;
    CHECK_EQ(corio_spawn(think, &a, NULL, &ta), 0);
    CHECK_EQ(corio_spawn(think, &b, NULL, &tb), 0);
    CHECK_EQ(corio_task_join(ta, &ra), 0);
    CHECK_EQ(corio_task_join(tb, &rb), 0);
    CHECK_EQ(strcmp(ra, "slow"), 0);
    CHECK_EQ(strcmp(rb, "fast"), 0);
    corio_task_release(ta);
    corio_task_release(tb);
    *result = NULL;
    return 0;
}

TEST_FIFO(task_two_thinkers_shorter_first,
          "the trace starts in the tasks' spawn order")
{
    struct trace tr = {""};
    double t0 = now_s();
    CHECK_EQ(corio_run(gather_two, &tr, NULL), 0);
    CHECK_EQ(strcmp(tr.buf, "start slow;start fast;end fast;end slow;"), 0);
    CHECK(now_s() - t0 >= 0.1);
}

/* ---- cancellation ----------------------------------------------------------------- */

struct sleeper {
    int cleanup;
    int first_rc, second_rc;
};

static int sleeps_then_cleans(void *arg, void **result)
{
    struct sleeper *s = arg;
    (void)result;
    s->first_rc = corio_sleep(10);
    /* level-triggered: every further suspension fails at once */
    s->second_rc = corio_sleep(10);
    s->cleanup++;
    return s->first_rc;
}

static int cancels_sleeper(void *arg, void **result)
{
    struct sleeper *s = arg;
    corio_task *t;
    int rc;
    (void)result;
    CHECK_EQ(corio_spawn(sleeps_then_cleans, s, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(corio_task_cancelling(t), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_cancelling(t), 1);
    rc = corio_task_join(t, NULL);
    CHECK_EQ(rc, -ECANCELED);
    CHECK(corio_task_cancelled(t));
    CHECK_EQ(corio_task_cancel(t), -EALREADY);
    corio_task_release(t);
    return 0;
}

TEST(task_cancel_sleeping_runs_cleanup)
{
    struct sleeper s = {0, 0, 0};
    CHECK_EQ(corio_run(cancels_sleeper, &s, NULL), 0);
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(s.first_rc, -ECANCELED); /* the sleep(10)s were cut */
    CHECK_EQ(s.second_rc, -ECANCELED);
}

static int never_runs(void *arg, void **result)
{
    int *ran = arg;
    (void)result;
    (*ran)++;
    return 0;
}

static int cancel_before_start(void *arg, void **result)
{
    int *ran = arg;
    corio_task *t;
    (void)result;
    CHECK_EQ(corio_spawn(never_runs, ran, NULL, &t), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK(corio_task_cancelled(t));
    corio_task_release(t);
    return 0;
}

TEST(task_cancelled_before_start_never_runs)
{
    int ran = 0;
    CHECK_EQ(corio_run(cancel_before_start, &ran, NULL), 0);
    CHECK_EQ(ran, 0);
}

static int uncancel_then_sleep(void *arg, void **result)
{
    corio_task *me = corio_task_current();
    (void)arg;
    (void)result;
    CHECK_EQ(corio_task_cancel(me), 0);
    CHECK_EQ(corio_sleep(0), -ECANCELED);
    CHECK_EQ(corio_sleep(0.001), -ECANCELED);
    CHECK_EQ(corio_task_uncancel(me), 0);
    CHECK_EQ(corio_sleep(0.001), 0); /* works again once withdrawn */
    CHECK_EQ(corio_task_cancel(me), 0);
    CHECK_EQ(corio_task_cancel(me), 0);
    CHECK_EQ(corio_task_cancelling(me), 2);
    CHECK_EQ(corio_task_uncancel(me), 1);
    CHECK_EQ(corio_sleep(0), -ECANCELED);
    CHECK_EQ(corio_task_uncancel(me), 0);
    CHECK_EQ(corio_task_uncancel(me), 0); /* never below zero */
    return 0;
}

TEST(task_uncancel_counters)
{
    CHECK_EQ(corio_run(uncancel_then_sleep, NULL, NULL), 0);
}

static int joiner(void *arg, void **result)
{
    corio_task *target = arg;
    (void)result;
    return corio_task_join(target, NULL);
}

static int cancel_joiner_cancels_target(void *arg, void **result)
{
    struct sleeper s = {0, 0, 0};
    corio_task *target, *j;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_spawn(sleeps_then_cleans, &s, NULL, &target), 0);
    CHECK_EQ(corio_spawn(joiner, target, NULL, &j), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(corio_task_cancel(j), 0);
    CHECK_EQ(corio_task_join(j, NULL), -ECANCELED);
    /* as asyncio: cancelling `await task` cancels the task */
    CHECK_EQ(corio_task_join(target, NULL), -ECANCELED);
    CHECK_EQ(s.cleanup, 1);
    corio_task_release(target);
    corio_task_release(j);
    return 0;
}

TEST(task_cancel_join_cancels_joined)
{
    CHECK_EQ(corio_run(cancel_joiner_cancels_target, NULL, NULL), 0);
}

static int self_join(void *arg, void **result)
{
    (void)arg;
    (void)result;
    CHECK_EQ(corio_task_join(corio_task_current(), NULL), -EDEADLK);
    return 0;
}

TEST(task_join_self_is_refused)
{
    CHECK_EQ(corio_run(self_join, NULL, NULL), 0);
}

/* ---- sleep(0) fairness ------------------------------------------------------------- */

struct pinger {
    struct trace *trace;
    const char *name;
};

static int yields_three(void *arg, void **result)
{
    struct pinger *p = arg;
    int i;
    (void)result;
    for (i = 0; i < 3; i++) {
        note(p->trace, p->name);
        CHECK_EQ(corio_sleep(0), 0);
    }
    return 0;
}

static int interleave(void *arg, void **result)
{
    struct trace *tr = arg;
    struct pinger a = {tr, "a"}, b = {tr, "b"};
    corio_task *ta, *tb;
    (void)result;
    CHECK_EQ(corio_spawn(yields_three, &a, NULL, &ta), 0);
    CHECK_EQ(corio_spawn(yields_three, &b, NULL, &tb), 0);
    CHECK_EQ(corio_task_join(ta, NULL), 0);
    CHECK_EQ(corio_task_join(tb, NULL), 0);
    corio_task_release(ta);
    corio_task_release(tb);
    return 0;
}

TEST_FIFO(task_sleep_zero_interleaves,
          "asserts the round-robin order of yielding tasks")
{
    struct trace tr = {""};
    CHECK_EQ(corio_run(interleave, &tr, NULL), 0);
    CHECK_EQ(strcmp(tr.buf, "ababab"), 0);
}

static int bare_yield(void *arg, void **result)
{
    struct trace *tr = arg;
    (void)result;
    note(tr, "1");
    CHECK_EQ(corio_yield(NULL, NULL), 0); /* asyncio's bare yield */
    note(tr, "3");
    return 0;
}

static int bare_yield_main(void *arg, void **result)
{
    corio_task *t;
    (void)result;
    CHECK_EQ(corio_spawn(bare_yield, arg, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0);
    note(arg, "2");
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    return 0;
}

TEST_FIFO(task_bare_yield_is_sleep_zero,
          "asserts the round-robin order of yielding tasks")
{
    struct trace tr = {""};
    CHECK_EQ(corio_run(bare_yield_main, &tr, NULL), 0);
    CHECK_EQ(strcmp(tr.buf, "123"), 0);
}

/* ---- futures --------------------------------------------------------------------- */

static int waits_future(void *arg, void **result)
{
    return corio_future_await(arg, result);
}

static void set_later(void *arg)
{
    CHECK_EQ(corio_future_set_result(arg, IP(42)), 0);
}

struct cbrec {
    struct trace *trace;
    const char *text;
};

static void fut_cb(corio_future *f, void *arg)
{
    struct cbrec *c = arg;
    CHECK(corio_future_done(f));
    note(c->trace, c->text);
}

static int future_main(void *arg, void **result)
{
    struct trace *tr = arg;
    struct cbrec c1 = {tr, "cb1;"}, c2 = {tr, "cb2;"}, c3 = {tr, "cb3;"};
    corio_future *f;
    corio_task *w1, *w2;
    void *r = NULL;
    (void)result;
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_future_result(f, &r), -EAGAIN);
    CHECK_EQ(corio_future_add_done_callback(f, fut_cb, &c1), 0);
    CHECK_EQ(corio_future_add_done_callback(f, fut_cb, &c2), 0);
    CHECK_EQ(corio_future_add_done_callback(f, fut_cb, &c3), 0);
    CHECK_EQ(corio_future_remove_done_callback(f, fut_cb, &c2), 1);
    CHECK_EQ(corio_spawn(waits_future, f, NULL, &w1), 0);
    CHECK_EQ(corio_spawn(waits_future, f, NULL, &w2), 0);
    CHECK_EQ(corio_loop_call_later(corio_loop_current(), 0.005, set_later, f,
                                   NULL), 0);
    CHECK_EQ(corio_task_join(w1, &r), 0);
    CHECK_EQ(PI(r), 42);
    CHECK_EQ(corio_task_join(w2, &r), 0);
    CHECK_EQ(PI(r), 42);
    CHECK_EQ(corio_future_set_result(f, IP(1)), -EALREADY);
    CHECK_EQ(corio_future_cancel(f), -EALREADY);
    CHECK_EQ(corio_future_set_error(f, 5), -EINVAL);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(strcmp(tr->buf, "cb1;cb3;"), 0);
    corio_task_release(w1);
    corio_task_release(w2);
    corio_future_release(f);
    return 0;
}

TEST(future_waiters_and_callbacks)
{
    struct trace tr = {""};
    CHECK_EQ(corio_run(future_main, &tr, NULL), 0);
}

static int future_cancel_main(void *arg, void **result)
{
    corio_future *f;
    corio_task *w;
    void *r;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_spawn(waits_future, f, NULL, &w), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_task_cancel(w), 0);
    CHECK_EQ(corio_task_join(w, &r), -ECANCELED);
    CHECK(corio_future_cancelled(f)); /* as asyncio */
    CHECK_EQ(corio_future_result(f, &r), -ECANCELED);
    corio_task_release(w);
    corio_future_release(f);

    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_spawn(waits_future, f, NULL, &w), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_future_set_error(f, -ENOSPC), 0);
    CHECK_EQ(corio_task_join(w, &r), -ENOSPC);
    corio_task_release(w);
    corio_future_release(f);
    return 0;
}

TEST(future_cancel_and_error)
{
    CHECK_EQ(corio_run(future_cancel_main, NULL, NULL), 0);
}

/* The raw protocol: a hand-driven coroutine awaiting a future hands it to
 * its driver, which completes it. */
static int awaits_raw(void *arg, void **result)
{
    return corio_future_await(arg, result);
}

TEST(future_hand_driven_driver)
{
    corio_future *f;
    corio_coro *co;
    void *out = NULL;
    CHECK_EQ(corio_future_new(NULL, &f), 0); /* no loop */
    CHECK_EQ(corio_coro_new(awaits_raw, f, NULL, &co), 0);
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_AWAITING);
    CHECK_PTR(out, f);
    CHECK_EQ(corio_future_set_result(f, IP(5)), 0);
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_FINISHED);
    CHECK_EQ(PI(out), 5);
    CHECK_EQ(corio_coro_free(co), 0);
    corio_future_release(f);
    CHECK_EQ(corio_future_await(f = NULL, NULL), -EINVAL);
}

/* Inside a task, a raw corio_await of a future also works. */
static int raw_in_task(void *arg, void **result)
{
    corio_future *f = arg;
    while (!corio_future_done(f))
        CHECK_EQ(corio_await(f, NULL), 0);
    return corio_future_result(f, result);
}

static int raw_main(void *arg, void **result)
{
    corio_future *f;
    corio_task *t;
    (void)arg;
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_spawn(raw_in_task, f, NULL, &t), 0);
    CHECK_EQ(corio_loop_call_later(corio_loop_current(), 0.002, set_later, f,
                                   NULL), 0);
    CHECK_EQ(corio_task_join(t, result), 0);
    corio_task_release(t);
    corio_future_release(f);
    return 0;
}

TEST(future_raw_await_inside_task)
{
    void *r = NULL;
    CHECK_EQ(corio_run(raw_main, NULL, &r), 0);
    CHECK_EQ(PI(r), 42);
}

static int raw_await_when_cancelled(void *arg, void **result)
{
    corio_future *f;
    int rc;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_task_cancel(corio_task_current()), 0);
    rc = corio_await(f, NULL); /* never completed: must not hang */
    CHECK_EQ(rc, -ECANCELED);
    CHECK(!corio_future_done(f)); /* left alone */
    corio_future_release(f);
    return rc;
}

TEST(future_raw_await_fails_at_once_when_cancelled)
{
    CHECK_EQ(corio_run(raw_await_when_cancelled, NULL, NULL), -ECANCELED);
}

/* sleep(0) resumes from the ready queue without a wake; a cancel that
 * arrives later while the task runs must not queue it a second time. */
static int sleep0_then_cancel(void *arg, void **result)
{
    corio_task *me = corio_task_current();
    int i;
    (void)arg;
    (void)result;
    for (i = 0; i < 3; i++) {
        CHECK_EQ(corio_sleep(0), 0);
        CHECK_EQ(corio_task_cancel(me), 0); /* while running */
        CHECK_EQ(corio_sleep(0), -ECANCELED);
        CHECK_EQ(corio_task_uncancel(me), 0);
        CHECK_EQ(corio_sleep(0.001), 0); /* woken once, by its timer */
    }
    return 0;
}

TEST(task_cancel_while_running_after_sleep_zero)
{
    CHECK_EQ(corio_run(sleep0_then_cancel, NULL, NULL), 0);
}

static int bad_yield(void *arg, void **result)
{
    static long not_a_future[8] = {1, 2, 3};
    (void)arg;
    (void)result;
    return corio_await(not_a_future, NULL);
}

TEST(task_bad_await_fails_with_einval)
{
    CHECK_EQ(corio_run(bad_yield, NULL, NULL), -EINVAL);
}

/* ---- no loop ------------------------------------------------------------------------ */

static int sleeps_in_plain_coro(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_sleep(0);
}

TEST(task_loop_calls_without_loop)
{
    corio_coro *co;
    corio_future *f;
    corio_task *t = NULL;
    CHECK_EQ(corio_sleep(0.1), CORIO_ENOTASK);
    CHECK_EQ(corio_spawn(add_one, NULL, NULL, &t), CORIO_ENOTASK);
    CHECK_PTR(t, NULL);
    CHECK_PTR(corio_loop_current(), NULL);
    CHECK_PTR(corio_task_current(), NULL);
    CHECK_EQ(corio_coro_new(sleeps_in_plain_coro, NULL, NULL, &co), 0);
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_ENOTASK);
    CHECK_EQ(corio_coro_free(co), 0);
    /* Awaiting a future needs a task or a driving coroutine: the loop
     * layer's one "not inside a task" code, not the coroutine layer's. */
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_future_await(f, NULL), CORIO_ENOTASK);
    corio_future_release(f);
    CHECK_STR_HAS(corio_strerror(CORIO_ENOTASK), "not inside a task");
}

/* ---- corio_run ------------------------------------------------------------------------- */

static int leaves_sleepers(void *arg, void **result)
{
    struct sleeper *s = arg;
    (void)result;
    CHECK_EQ(corio_spawn(sleeps_then_cleans, &s[0], NULL, NULL), 0);
    CHECK_EQ(corio_spawn(sleeps_then_cleans, &s[1], NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    *result = IP(3);
    return 0;
}

TEST(run_cancels_leftover_tasks)
{
    struct sleeper s[2] = {{0, 0, 0}, {0, 0, 0}};
    void *r;
    CHECK_EQ(corio_run(leaves_sleepers, s, &r), 0);
    CHECK_EQ(PI(r), 3);
    CHECK_EQ(s[0].cleanup, 1);
    CHECK_EQ(s[1].cleanup, 1);
    CHECK_EQ(s[0].first_rc, -ECANCELED); /* the sleep(10)s were cut */
    CHECK_EQ(s[1].first_rc, -ECANCELED);
}

static int run_nested(void *arg, void **result)
{
    (void)arg;
    (void)result;
    CHECK_EQ(corio_run(add_one, NULL, NULL), CORIO_ERUNNING);
    return 0;
}

TEST(run_refuses_nesting)
{
    CHECK_EQ(corio_run(run_nested, NULL, NULL), 0);
    CHECK_EQ(corio_run(NULL, NULL, NULL), -EINVAL);
}

static int waits_forever(void *arg, void **result)
{
    corio_future *f;
    int rc;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    rc = corio_future_await(f, NULL);
    corio_future_release(f);
    return rc;
}

static int deadlocks(void *arg, void **result)
{
    corio_task *t;
    int rc;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_spawn(waits_forever, NULL, NULL, &t), 0);
    rc = corio_task_join(t, NULL);
    corio_task_release(t);
    return rc;
}

TEST(run_reports_deadlock)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(corio_run(deadlocks, NULL, NULL), -EDEADLK);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "deadlock");
    CHECK_STR_HAS(err, "task 'main'");
    CHECK_STR_HAS(err, "task 'task-2'");
    CHECK_STR_HAS(err, "waits on future");
    free(err);
}

static int cleans_on_sigint(void *arg, void **result)
{
    int *cleaned = arg;
    int rc;
    (void)result;
    kill(getpid(), SIGINT);
    rc = corio_sleep(10);
    *cleaned = rc == -ECANCELED;
    return rc;
}

TEST(run_sigint_cancels_main)
{
    int cleaned = 0;
    struct sigaction dfl, after;
    /* The default disposition (a shell may start us with SIGINT ignored,
     * which corio_run then leaves alone: see the next test). */
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    CHECK_EQ(sigaction(SIGINT, &dfl, NULL), 0);
    CHECK_EQ(corio_run(cleans_on_sigint, &cleaned, NULL), -ECANCELED);
    CHECK_EQ(cleaned, 1);
    /* the previous disposition is back */
    CHECK_EQ(sigaction(SIGINT, NULL, &after), 0);
    CHECK(after.sa_handler == SIG_DFL);
}

static int sleeps_through_sigint(void *arg, void **result)
{
    int *slept = arg;
    (void)result;
    kill(getpid(), SIGINT);
    *slept = corio_sleep(0.02) == 0;
    return 0;
}

/* As asyncio.run: SIGINT ignored (nohup, a background job) stays ignored,
 * and a handler of the program's own stays in place. */
TEST(run_sigint_leaves_ignored_alone)
{
    int slept = 0;
    struct sigaction ign, after;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    CHECK_EQ(sigaction(SIGINT, &ign, NULL), 0);
    CHECK_EQ(corio_run(sleeps_through_sigint, &slept, NULL), 0);
    CHECK_EQ(slept, 1); /* main was not cancelled */
    CHECK_EQ(sigaction(SIGINT, NULL, &after), 0);
    CHECK(after.sa_handler == SIG_IGN);
}

/* ---- lean tasks and many tasks -------------------------------------------------------- */

static int spawn_many(void *arg, void **result)
{
    corio_task_opts o = {0};
    size_t n = (size_t)PI(arg), i;
    corio_task **t = malloc(n * sizeof *t);
    intptr_t sum = 0;
    CHECK(t);
    o.flags = CORIO_CORO_LEAN;
    for (i = 0; i < n; i++)
        CHECK_EQ(corio_spawn(add_one, IP(i), i % 2 ? &o : NULL, &t[i]), 0);
    for (i = 0; i < n; i++) {
        void *r;
        CHECK_EQ(corio_task_join(t[i], &r), 0);
        sum += PI(r);
        corio_task_release(t[i]);
    }
    free(t);
    *result = IP(sum);
    return 0;
}

TEST(task_spawn_join_many)
{
    void *r;
    intptr_t n = 20000;
    CHECK_EQ(corio_run(spawn_many, IP(n), &r), 0);
    CHECK_EQ(PI(r), n * (n + 1) / 2);
}

static int loop_free_abandons(void *arg, void **result)
{
    struct sleeper *s = arg;
    (void)result;
    return corio_sleep(s ? 10 : 10);
}

TEST(loop_free_closes_abandoned_tasks)
{
    corio_loop *loop = new_loop();
    struct sleeper s = {0, 0, 0};
    corio_task *t;
    CHECK_EQ(corio_loop_spawn(loop, sleeps_then_cleans, &s, NULL, &t), 0);
    CHECK_EQ(corio_loop_spawn(loop, loop_free_abandons, NULL, NULL, NULL), 0);
    CHECK_EQ(corio_loop_call_later(loop, 0.005, stop_cb, loop, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK(!corio_task_done(t));
    CHECK_EQ(corio_loop_free(loop), 0);
    CHECK_EQ(s.cleanup, 1);
    CHECK(corio_task_done(t));
    CHECK_EQ(corio_task_result(t, NULL), -ECANCELED);
    corio_task_release(t); /* outlives the loop safely */
}
