/*
 * test_deadline.c: durations and points in time entering the library all
 * go through one deadline rule (src/loop/loop_impl.h): +INFINITY is no
 * deadline, <= 0 is now, NaN is -EINVAL, huge values saturate.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <math.h>

/* ---- corio_group_stop(g, INFINITY): asked to stop, never cancelled ---- */

struct stopper {
    corio_event *go;
    int saw_stop;
    int wait_rc;
};

static int waits_for_go(void *arg, void **result)
{
    struct stopper *st = arg;
    (void)result;
    st->wait_rc = corio_event_wait(st->go);
    st->saw_stop = corio_stop_requested();
    return st->wait_rc;
}

static int stop_forever(void)
{
    struct stopper st = {NULL, 0, 1};
    corio_group *g;
    int i;
    CHECK_EQ(corio_event_new(&st.go), 0);
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, waits_for_go, &st, NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0), 0); /* the child waits on the event */
    CHECK_EQ(corio_group_stop(g, INFINITY), 0);
    CHECK(corio_stop_requested());
    /* Before the fix the grace deadline overflowed and the child was
     * cancelled at the next iteration. Give the loop many. */
    for (i = 0; i < 50; i++)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(st.wait_rc, 1); /* still waiting */
    CHECK_EQ(corio_event_set(st.go), 0);
    CHECK_EQ(corio_group_wait(g, 0), 0);
    CHECK_EQ(st.wait_rc, 0);
    CHECK_EQ(st.saw_stop, 1);
    corio_group_free(g);
    CHECK_EQ(corio_event_free(st.go), 0);
    return 0;
}

TEST(group_stop_infinite_grace_never_cancels)
{
    CHECK_EQ(run(stop_forever), 0);
}

static int stop_nan(void)
{
    struct stopper st = {NULL, 0, 1};
    corio_group *g;
    CHECK_EQ(corio_event_new(&st.go), 0);
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, waits_for_go, &st, NULL, NULL), 0);
    CHECK_EQ(corio_group_stop(g, NAN), -EINVAL);
    CHECK(!corio_stop_requested()); /* nothing was changed */
    /* A huge finite grace saturates: asked to stop, not cancelled. */
    CHECK_EQ(corio_group_stop(g, 1e300), 0);
    CHECK(corio_stop_requested());
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(st.wait_rc, 1);
    CHECK_EQ(corio_event_set(st.go), 0);
    CHECK_EQ(corio_group_wait(g, 0), 0);
    CHECK_EQ(st.wait_rc, 0);
    corio_group_free(g);
    CHECK_EQ(corio_event_free(st.go), 0);
    return 0;
}

TEST(group_stop_nan_rejected_huge_saturates)
{
    CHECK_EQ(run(stop_nan), 0);
}

/* ---- scopes ---------------------------------------------------------------- */

static int scope_deadlines(void)
{
    corio_scope *sc = NULL;
    CHECK_EQ(corio_scope_timeout(NAN, &sc), -EINVAL);
    CHECK_EQ(corio_scope_move_on_after(NAN, &sc), -EINVAL);
    CHECK_EQ(corio_scope_timeout_at(NAN, &sc), -EINVAL);
    CHECK_EQ(corio_scope_open(CORIO_SCOPE_FAIL, NAN, &sc), -EINVAL);
    CHECK(sc == NULL);

    /* INFINITY and huge durations: no deadline, never fires. */
    CHECK_EQ(corio_scope_timeout(INFINITY, &sc), 0);
    CHECK(corio_scope_deadline(sc) == INFINITY);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_scope_close(sc, 0), 0);
    CHECK_EQ(corio_scope_timeout(1e300, &sc), 0);
    CHECK(corio_scope_deadline(sc) == INFINITY);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_scope_close(sc, 0), 0);

    /* A negative duration means now: the first wait is cut. */
    CHECK_EQ(corio_scope_timeout(-5, &sc), 0);
    CHECK_EQ(corio_sleep(1), -ECANCELED);
    CHECK_EQ(corio_scope_close(sc, -ECANCELED), -ETIMEDOUT);
    CHECK_EQ(corio_scope_move_on_after(-1, &sc), 0);
    CHECK_EQ(corio_sleep(1), -ECANCELED);
    CHECK_EQ(corio_scope_close(sc, -ECANCELED), 0);

    /* Reschedule: NaN refused and nothing changed. */
    CHECK_EQ(corio_scope_timeout(100, &sc), 0);
    CHECK_EQ(corio_scope_reschedule(sc, NAN), -EINVAL);
    CHECK(corio_scope_deadline(sc) > corio_loop_time(NULL));
    CHECK_EQ(corio_scope_reschedule(sc, INFINITY), 0);
    CHECK(corio_scope_deadline(sc) == INFINITY);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_scope_close(sc, 0), 0);
    return 0;
}

TEST(scope_deadline_rules)
{
    CHECK_EQ(run(scope_deadlines), 0);
}

/* ---- sleep and callbacks --------------------------------------------------- */

static void count_call(void *arg)
{
    (*(int *)arg)++;
}

static int sleep_and_calls(void)
{
    corio_loop *loop = corio_loop_current();
    corio_handle *h;
    int calls = 0;
    CHECK_EQ(corio_sleep(NAN), -EINVAL);
    CHECK_EQ(corio_sleep(-1), 0); /* as sleep(0) */
    CHECK_EQ(corio_loop_call_later(loop, NAN, count_call, &calls, NULL),
             -EINVAL);
    CHECK_EQ(corio_loop_call_at(loop, NAN, count_call, &calls, NULL), -EINVAL);
    /* Negative: due now; huge: never (and no overflow into the past). */
    CHECK_EQ(corio_loop_call_later(loop, -3, count_call, &calls, NULL), 0);
    CHECK_EQ(corio_loop_call_later(loop, 1e300, count_call, &calls, &h), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(calls, 1);
    CHECK_EQ(corio_handle_cancel(h), 0);
    corio_handle_release(h);
    CHECK_EQ(corio_loop_call_at(loop, INFINITY, count_call, &calls, &h), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(calls, 1);
    CHECK_EQ(corio_handle_cancel(h), 0);
    corio_handle_release(h);
    return 0;
}

TEST(loop_deadline_sleep_and_calls)
{
    CHECK_EQ(run(sleep_and_calls), 0);
}
