/*
 * test_scope.c: cancel scopes: timeouts (fail and move-on), nesting,
 * shields, rescheduling, asyncio's counters, misuse.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))


/* ---- fail and move-on ------------------------------------------------------ */

static int timeout_expires(void)
{
    corio_scope *sc;
    double t0 = now_s();
    int rc;
    CHECK_EQ(corio_scope_timeout(0.02, &sc), 0);
    CHECK(!corio_scope_cancelled(sc));
    rc = corio_sleep(10);
    CHECK_EQ(rc, -ECANCELED);
    CHECK(corio_scope_cancelled(sc));
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 1); /* asyncio */
    CHECK_EQ(corio_sleep(0), -ECANCELED); /* level-triggered inside */
    rc = corio_scope_close(sc, rc);
    CHECK_EQ(rc, -ETIMEDOUT);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK(now_s() - t0 >= 0.02);
    CHECK_EQ(corio_sleep(0.001), 0); /* outside the scope: fine again */
    return 0;
}

TEST(scope_timeout_expires)
{
    CHECK_EQ(run(timeout_expires), 0);
}

static int timeout_not_reached(void)
{
    corio_scope *sc;
    CHECK_EQ(corio_scope_timeout(10, &sc), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(corio_scope_close(sc, 0), 0);
    CHECK_EQ(corio_scope_timeout(10, &sc), 0);
    CHECK_EQ(corio_scope_close(sc, -EIO), -EIO); /* passes through */
    return 0;
}

TEST(scope_timeout_not_reached)
{
    CHECK_EQ(run(timeout_not_reached), 0);
}

static int move_on(void)
{
    corio_scope *sc;
    int rc;
    CHECK_EQ(corio_scope_move_on_after(0.01, &sc), 0);
    rc = corio_sleep(10);
    CHECK_EQ(rc, -ECANCELED);
    CHECK(corio_scope_cancelled(sc));
    CHECK_EQ(corio_scope_close(sc, rc), 0);
    return 0;
}

TEST(scope_move_on_after)
{
    CHECK_EQ(run(move_on), 0);
}

static int zero_timeout(void)
{
    corio_scope *sc;
    CHECK_EQ(corio_scope_timeout(0, &sc), 0);
    CHECK(corio_scope_cancelled(sc)); /* already due */
    CHECK_EQ(corio_scope_close(sc, corio_sleep(0)), -ETIMEDOUT);
    CHECK_EQ(corio_scope_timeout(-5, &sc), 0);
    CHECK_EQ(corio_scope_close(sc, 0), 0); /* body did not notice */
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    return 0;
}

TEST(scope_zero_and_negative_timeout)
{
    CHECK_EQ(run(zero_timeout), 0);
}

/* ---- nesting ------------------------------------------------------------------ */

static int inner_expires_first(void)
{
    corio_scope *a, *b, *c;
    int rc;
    CHECK_EQ(corio_scope_timeout(10, &a), 0);
    CHECK_EQ(corio_scope_timeout(5, &b), 0);
    CHECK_EQ(corio_scope_timeout(0.01, &c), 0);
    CHECK(fabs(corio_current_deadline() - corio_scope_deadline(c)) < 1e-6);
    rc = corio_scope_close(c, corio_sleep(10));
    CHECK_EQ(rc, -ETIMEDOUT);
    CHECK(!corio_scope_cancelled(b));
    CHECK_EQ(corio_sleep(0.001), 0); /* b and a still fine */
    CHECK_EQ(corio_scope_close(b, 0), 0);
    CHECK_EQ(corio_scope_close(a, 0), 0);
    return 0;
}

TEST(scope_nested_inner_expires_first)
{
    CHECK_EQ(run(inner_expires_first), 0);
}

static int outer_expires_first(void)
{
    corio_scope *a, *b, *c;
    int rc;
    CHECK_EQ(corio_scope_timeout(0.01, &a), 0);
    CHECK_EQ(corio_scope_timeout(5, &b), 0);
    CHECK_EQ(corio_scope_timeout(10, &c), 0);
    CHECK(fabs(corio_current_deadline() - corio_scope_deadline(a)) < 1e-6);
    rc = corio_sleep(10);
    CHECK_EQ(rc, -ECANCELED);
    /* Not caused by c or b: they pass the cancellation through. */
    rc = corio_scope_close(c, rc);
    CHECK_EQ(rc, -ECANCELED);
    rc = corio_scope_close(b, rc);
    CHECK_EQ(rc, -ECANCELED);
    rc = corio_scope_close(a, rc);
    CHECK_EQ(rc, -ETIMEDOUT);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    return 0;
}

TEST(scope_nested_outer_expires_first)
{
    CHECK_EQ(run(outer_expires_first), 0);
}

/* ---- cancellation from outside is never swallowed --------------------------- */

static int cancelled_inside_timeout(void *arg, void **result)
{
    corio_scope *sc;
    int rc;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_scope_timeout(0.02, &sc), 0);
    rc = corio_sleep(10);          /* the task is cancelled from outside */
    CHECK_EQ(rc, -ECANCELED);
    rc = corio_sleep(10);          /* and then the deadline passes too */
    CHECK_EQ(rc, -ECANCELED);
    rc = corio_scope_close(sc, rc);
    return rc;
}

static int outside_cancel(void)
{
    corio_task *t;
    CHECK_EQ(corio_spawn(cancelled_inside_timeout, NULL, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED); /* not -ETIMEDOUT */
    CHECK(corio_task_cancelled(t));
    corio_task_release(t);
    return 0;
}

TEST(scope_timeout_never_swallows_outside_cancel)
{
    CHECK_EQ(run(outside_cancel), 0);
}

/* ---- shields ------------------------------------------------------------------ */

static int shield_inside_timeout(void)
{
    corio_scope *to, *sh;
    int rc;
    CHECK_EQ(corio_scope_timeout(0.01, &to), 0);
    CHECK_EQ(corio_scope_shield(&sh), 0);
    CHECK_EQ(corio_sleep(0.03), 0); /* the deadline passes meanwhile */
    CHECK(corio_scope_cancelled(to));
    CHECK_EQ(corio_sleep(0), 0);     /* still shielded */
    CHECK_EQ(corio_scope_close(sh, 0), 0);
    rc = corio_sleep(0);             /* now the timeout reaches us */
    CHECK_EQ(rc, -ECANCELED);
    CHECK_EQ(corio_scope_close(to, rc), -ETIMEDOUT);
    return 0;
}

TEST(scope_shield_inside_timeout)
{
    CHECK_EQ(run(shield_inside_timeout), 0);
}

struct shielded {
    int slept_rc, after_rc;
};

static int shielded_cleanup(void *arg, void **result)
{
    struct shielded *s = arg;
    corio_scope *sh;
    int rc;
    (void)result;
    rc = corio_sleep(10); /* cancelled here */
    CHECK_EQ(rc, -ECANCELED);
    CHECK_EQ(corio_scope_shield(&sh), 0);
    s->slept_rc = corio_sleep(0.01); /* cleanup that suspends */
    CHECK_EQ(corio_scope_close(sh, 0), 0);
    s->after_rc = corio_sleep(0);
    return rc;
}

static int shield_lets_cleanup_suspend(void)
{
    struct shielded s = {1, 1};
    corio_task *t;
    CHECK_EQ(corio_spawn(shielded_cleanup, &s, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.002), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_sleep(0.002), 0);
    CHECK_EQ(corio_task_cancel(t), 0); /* again, while shielded */
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(s.slept_rc, 0);
    CHECK_EQ(s.after_rc, -ECANCELED);
    corio_task_release(t);
    return 0;
}

TEST(scope_shield_lets_cleanup_suspend)
{
    CHECK_EQ(run(shield_lets_cleanup_suspend), 0);
}

static int shield_own_cancel(void)
{
    corio_scope *sh;
    CHECK_EQ(corio_scope_shield(&sh), 0);
    corio_scope_cancel(sh); /* its own cancellation does apply */
    CHECK_EQ(corio_scope_close(sh, corio_sleep(1)), 0);
    return 0;
}

TEST(scope_shield_cancelled_by_hand)
{
    CHECK_EQ(run(shield_own_cancel), 0);
}

/* ---- rescheduling and manual cancel -------------------------------------------- */

static int reschedule(void)
{
    corio_scope *sc;
    double t0 = now_s();
    CHECK_EQ(corio_scope_timeout(0.01, &sc), 0);
    /* Far off: a process that wakes late past the new deadline would
     * have both timers fire in one iteration, and the cancel would reach
     * the sleep before it returns. (It goes to infinity right after.) */
    CHECK_EQ(corio_scope_reschedule(sc, corio_loop_time(NULL) + 1), 0);
    CHECK_EQ(corio_sleep(0.02), 0); /* past the old deadline: fine */
    CHECK_EQ(corio_scope_reschedule(sc, INFINITY), 0);
    CHECK(isinf(corio_scope_deadline(sc)));
    CHECK_EQ(corio_sleep(0.04), 0);
    CHECK_EQ(corio_scope_reschedule(sc, NAN), -EINVAL);
    CHECK_EQ(corio_scope_reschedule(sc, corio_loop_time(NULL) - 1), 0);
    CHECK(corio_scope_cancelled(sc)); /* a past deadline cancels now */
    CHECK_EQ(corio_scope_close(sc, corio_sleep(1)), -ETIMEDOUT);
    CHECK(now_s() - t0 >= 0.06);
    return 0;
}

TEST(scope_reschedule)
{
    CHECK_EQ(run(reschedule), 0);
}

/* asyncio raises RuntimeError when an expired Timeout is rescheduled;
 * corio refuses with -EALREADY and changes nothing. */
static int reschedule_expired(void)
{
    corio_scope *sc;
    double when;
    CHECK_EQ(corio_scope_timeout_at(corio_loop_time(NULL) - 1, &sc), 0);
    CHECK(corio_scope_cancelled(sc)); /* expired at once */
    when = corio_scope_deadline(sc);
    CHECK_EQ(corio_scope_reschedule(sc, corio_loop_time(NULL) + 10),
             -EALREADY);
    CHECK_EQ(corio_scope_reschedule(sc, INFINITY), -EALREADY);
    CHECK_EQ(corio_scope_reschedule(sc, NAN), -EINVAL);
    CHECK(corio_scope_deadline(sc) == when);
    CHECK(corio_scope_cancelled(sc));
    CHECK_EQ(corio_scope_close(sc, corio_sleep(1)), -ETIMEDOUT);

    /* Expired by its timer while the body waited. */
    CHECK_EQ(corio_scope_timeout(0.001, &sc), 0);
    CHECK_EQ(corio_sleep(10), -ECANCELED);
    when = corio_scope_deadline(sc);
    CHECK_EQ(corio_scope_reschedule(sc, corio_loop_time(NULL) + 10),
             -EALREADY);
    CHECK(corio_scope_deadline(sc) == when);
    CHECK_EQ(corio_sleep(0), -ECANCELED); /* still cancelled */
    CHECK_EQ(corio_scope_close(sc, -ECANCELED), -ETIMEDOUT);

    /* Cancelled by hand: the same. */
    CHECK_EQ(corio_scope_move_on_after(10, &sc), 0);
    corio_scope_cancel(sc);
    CHECK_EQ(corio_scope_reschedule(sc, INFINITY), -EALREADY);
    CHECK_EQ(corio_scope_close(sc, corio_sleep(1)), 0);
    CHECK_EQ(corio_scope_reschedule(NULL, 1), -EINVAL);
    return 0;
}

TEST(scope_reschedule_expired)
{
    CHECK_EQ(run(reschedule_expired), 0);
}

static int manual_cancel(void)
{
    corio_scope *sc;
    CHECK_EQ(corio_scope_move_on_after(INFINITY, &sc), 0);
    CHECK(isinf(corio_current_deadline()));
    corio_scope_cancel(sc);
    corio_scope_cancel(sc); /* idempotent */
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 1);
    CHECK(isinf(corio_current_deadline()) && corio_current_deadline() < 0);
    CHECK_EQ(corio_scope_close(sc, corio_sleep(1)), 0);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    return 0;
}

TEST(scope_manual_cancel)
{
    CHECK_EQ(run(manual_cancel), 0);
}

/* ---- misuse ------------------------------------------------------------------- */

static int out_of_order(void)
{
    corio_scope *a, *b;
    CHECK_EQ(corio_scope_timeout(10, &a), 0);
    CHECK_EQ(corio_scope_timeout(10, &b), 0);
    CHECK_EQ(corio_scope_close(a, 0), CORIO_ESCOPE); /* b is innermost */
    CHECK_EQ(corio_scope_close(b, 0), 0);
    CHECK_EQ(corio_scope_close(a, 0), 0);
    CHECK_EQ(corio_scope_close(NULL, 0), -EINVAL);
    CHECK_EQ(corio_scope_open(7, INFINITY, &a), -EINVAL);
    CHECK_EQ(corio_scope_open(CORIO_SCOPE_FAIL, NAN, &a), -EINVAL);
    return 0;
}

TEST(scope_close_out_of_order)
{
    CHECK_EQ(run(out_of_order), 0);
}

static int leaves_scope_open(void *arg, void **result)
{
    corio_scope *sc;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_scope_timeout(10, &sc), 0);
    return 0;
}

static int left_open(void)
{
    corio_task *t;
    CHECK_EQ(corio_spawn(leaves_scope_open, NULL, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    return 0;
}

TEST(scope_left_open_is_reported)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(left_open), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "ended with a cancel scope still open");
    free(err);
}

TEST(scope_outside_task)
{
    corio_scope *sc = NULL;
    CHECK_EQ(corio_scope_timeout(1, &sc), CORIO_ENOTASK);
    CHECK_PTR(sc, NULL);
    CHECK(isinf(corio_current_deadline()));
}

/* Deadlines share the loop's timer heap with sleeps: many scopes. */
static int many_scopes(void)
{
    corio_scope *sc[200];
    int i, rc;
    for (i = 0; i < 200; i++)
        CHECK_EQ(corio_scope_timeout(10 - i * 0.01, &sc[i]), 0);
    rc = corio_sleep(0.001);
    for (i = 199; i >= 0; i--)
        rc = corio_scope_close(sc[i], rc);
    CHECK_EQ(rc, 0);
    return 0;
}

TEST(scope_many_nested)
{
    CHECK_EQ(run(many_scopes), 0);
}
