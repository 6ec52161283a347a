/*
 * test_agen_edge_scope.c: adversarial cases for async generators
 * (corio/agen.h) among scopes, groups and cancellation: lean generators
 * nested three deep, a yield inside the generator's own shield, the
 * consumer's scope cancelled between two nexts, cancellation inside a
 * nested generator's wait, EYIELDSCOPE in a group whose child failed,
 * aclose by a consumer being cancelled, nested generators finalized
 * concurrently, and a generator that ends with its own scope open.
 */

#include "test.h"
#include "run_body.h"
#include "agen_edge_gens.h"

#include <corio.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* ---- lean nesting ------------------------------------------------------------------ */

/* Yields inner's items plus s->add; with no inner, yields 0..n-1. Sleeps
 * between items and keeps a buffer on its (shared) stack. */
static int adder_gen(void *arg, void **result)
{
    struct edge *s = arg;
    volatile char buf[512];
    void *x;
    int rc;
    (void)result;
    for (int i = 0;; i++) {
        if (s->inner) {
            rc = corio_agen_next(s->inner, &x);
            if (rc == CORIO_END) {
                rc = 0;
                break;
            }
        } else {
            if (i == s->n)
                break;
            x = IP(i);
            rc = 0;
        }
        buf[i % 512] = (char)i;
        if (rc == 0)
            rc = corio_sleep(0);
        if (rc == 0)
            rc = corio_yield(IP(PI(x) + s->add), NULL);
        if (rc)
            break;
        if (buf[i % 512] != (char)i)
            return -EFAULT; /* the shared stack was not restored */
    }
    if (s->inner) {
        int crc = corio_agen_close(s->inner);
        if (rc == 0)
            rc = crc;
    }
    return rc;
}

struct lean_chain {
    struct edge s[3];
    corio_agen *g[3];
    intptr_t sum;
    int rc;
};

static int lean_chain_consumer(void *arg, void **result)
{
    struct lean_chain *c = arg;
    volatile char buf[256];
    void *x;
    int rc;
    (void)result;
    memset((char *)buf, 0x5a, sizeof buf);
    c->sum = 0;
    while ((rc = corio_agen_next(c->g[0], &x)) == 0) {
        c->sum += PI(x);
        if (buf[PI(x) % 256] != 0x5a)
            return -EFAULT;
    }
    c->rc = rc;
    return rc == CORIO_END ? 0 : rc;
}

static int churn(void *arg, void **result)
{
    volatile char buf[1024];
    (void)arg;
    (void)result;
    for (int i = 0; i < 50; i++) {
        buf[i] = (char)i;
        if (corio_sleep(0) != 0)
            return 0;
        if (buf[i] != (char)i)
            return -EFAULT;
    }
    return 0;
}

static int lean_nested_body(void)
{
    corio_coro_opts lean = {.name = "lean", .flags = CORIO_CORO_LEAN};
    corio_task_opts tlean = {.flags = CORIO_CORO_LEAN};
    struct lean_chain c[4];
    corio_task *t[4], *ch[8];

    for (int k = 0; k < 4; k++) {
        memset(&c[k], 0, sizeof c[k]);
        for (int d = 2; d >= 0; d--) {
            c[k].s[d].n = 10;
            c[k].s[d].add = d == 2 ? 0 : 100;
            c[k].s[d].inner = d == 2 ? NULL : c[k].g[d + 1];
            CHECK_EQ(corio_agen_new(adder_gen, &c[k].s[d], &lean, &c[k].g[d]),
                     0);
        }
        CHECK_EQ(corio_spawn(lean_chain_consumer, &c[k], &tlean, &t[k]), 0);
    }
    for (int i = 0; i < 8; i++)
        CHECK_EQ(corio_spawn(churn, NULL, &tlean, &ch[i]), 0);
    for (int k = 0; k < 4; k++) {
        CHECK_EQ(corio_task_join(t[k], NULL), 0);
        CHECK_EQ(c[k].rc, CORIO_END);
        CHECK_EQ(c[k].sum, 45 + 200 * 10);
        corio_task_release(t[k]);
        for (int d = 0; d < 3; d++) {
            CHECK_EQ(corio_agen_state(c[k].g[d]), CORIO_CORO_CLOSED);
            CHECK_EQ(corio_agen_free(c[k].g[d]), 0);
        }
    }
    for (int i = 0; i < 8; i++) {
        CHECK_EQ(corio_task_join(ch[i], NULL), 0);
        corio_task_release(ch[i]);
    }
    return 0;
}

TEST(agen_edge_lean_nested_three_deep)
{
    CHECK_EQ(run(lean_nested_body), 0);
}

/* ---- a shield the generator opened ------------------------------------------------ */

static int shield_gen(void *arg, void **result)
{
    struct edge *s = arg;
    corio_scope *sh;
    (void)result;
    CHECK_EQ(corio_scope_shield(&sh), 0);
    s->rc1 = corio_sleep(0.02); /* the consumer is cancelled meanwhile */
    s->rc2 = corio_yield(IP(1), NULL); /* refused: inside its own shield */
    s->rc3 = corio_scope_close(sh, s->rc2);
    s->cleanup++;
    return s->rc3;
}

static int shield_consumer(void *arg, void **result)
{
    struct edge *s = arg;
    void *x = IP(9);
    (void)result;
    s->consumer_rc = corio_agen_next(s->inner, &x);
    s->yielded = x != NULL;
    s->cleanup_rc = corio_sleep(0); /* the cancel still stands */
    return s->cleanup_rc;
}

static int shield_body(void)
{
    struct edge s = {.rc1 = 1, .rc2 = 1, .rc3 = 1};
    corio_task *t;
    CHECK_EQ(corio_agen_new(shield_gen, &s, NULL, &s.inner), 0);
    CHECK_EQ(corio_spawn(shield_consumer, &s, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.005), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(s.rc1, 0); /* shielded from the consumer's cancel */
    CHECK_EQ(s.rc2, CORIO_EYIELDSCOPE);
    CHECK_EQ(s.rc3, CORIO_EYIELDSCOPE);
    CHECK_EQ(s.consumer_rc, CORIO_EYIELDSCOPE);
    CHECK_EQ(s.yielded, 0); /* the item never arrived */
    CHECK_EQ(s.cleanup_rc, -ECANCELED);
    CHECK_EQ(corio_agen_state(s.inner), CORIO_CORO_CLOSED);
    corio_task_release(t);
    CHECK_EQ(corio_agen_free(s.inner), 0);
    return 0;
}

TEST(agen_edge_yield_inside_own_shield)
{
    CHECK_EQ(run(shield_body), 0);
}

/* ---- the consumer's own scope cancelled between two nexts ------------------------- */

static int scope_between_body(void)
{
    struct edge s = {.n = 5, .wait = 0.001, .cleanup_rc = 1};
    struct edge p = {.n = 5};
    corio_scope *sc;
    corio_agen *g, *pg;
    void *x;
    int rc;

    CHECK_EQ(corio_agen_new(sleepy_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_new(plain_gen, &p, NULL, &pg), 0);
    CHECK_EQ(corio_scope_move_on_after(100.0, &sc), 0);
    CHECK_EQ(corio_agen_next(g, &x), 0);
    CHECK_EQ(corio_agen_next(pg, &x), 0);
    corio_scope_cancel(sc);
    /* A generator that never waits has no point to be cancelled at (as in
     * Python: cancellation lands on awaits only). */
    CHECK_EQ(corio_agen_next(pg, &x), 0);
    CHECK_EQ(PI(x), 1);
    /* One that waits sees it at its wait. */
    rc = corio_agen_next(g, &x);
    CHECK_EQ(rc, -ECANCELED);
    CHECK_PTR(x, NULL);
    CHECK_EQ(s.last_rc, -ECANCELED);
    CHECK_EQ(s.cleanup_rc, -ECANCELED); /* still inside the scope */
    CHECK_EQ(corio_scope_close(sc, rc), 0);
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK_EQ(corio_agen_next(g, &x), CORIO_END);
    /* Outside the scope the other one goes on normally. */
    CHECK_EQ(corio_agen_next(pg, &x), 0);
    CHECK_EQ(PI(x), 2);
    CHECK_EQ(corio_agen_close(pg), 0);
    CHECK_EQ(p.last_rc, CORIO_EEXIT);
    CHECK_EQ(corio_sleep(0), 0);
    corio_agen_free(g);
    corio_agen_free(pg);
    return 0;
}

TEST(agen_edge_consumer_scope_cancelled_between_nexts)
{
    CHECK_EQ(run(scope_between_body), 0);
}

/* ---- cancellation delivered inside a nested generator's wait --------------------- */

static int nested_consumer(void *arg, void **result)
{
    struct edge *outer = arg;
    int rc;
    (void)result;
    while ((rc = corio_agen_next(outer->inner, NULL)) == 0)
        outer->yielded++;
    outer->consumer_rc = rc;
    return rc;
}

/* Passes on its inner generator's items; on an error, records it, closes
 * the inner one (which may wait) and returns the error. */
static int relay_gen(void *arg, void **result)
{
    struct edge *s = arg;
    void *x;
    int rc;
    (void)result;
    while ((rc = corio_agen_next(s->inner, &x)) == 0)
        if ((rc = corio_yield(x, NULL)) != 0)
            break;
    s->last_rc = rc;
    s->rc1 = corio_agen_close(s->inner);
    s->cleanup_rc = corio_sleep(0);
    s->cleanup++;
    return rc == CORIO_END ? 0 : rc;
}

static int nested_cancel_body(void)
{
    struct edge in = {.n = 10, .wait = 0.001, .cleanup_wait = 0.001,
                      .cleanup_rc = 1};
    struct edge out = {.rc1 = 1};
    struct edge top = {0};
    corio_agen *gi, *go;
    corio_task *t;

    CHECK_EQ(corio_agen_new(sleepy_gen, &in, NULL, &gi), 0);
    out.inner = gi;
    CHECK_EQ(corio_agen_new(relay_gen, &out, NULL, &go), 0);
    top.inner = go;
    CHECK_EQ(corio_spawn(nested_consumer, &top, NULL, &t), 0);
    while (in.yielded < 3)
        CHECK_EQ(corio_sleep(0), 0);
    in.wait = 10.0; /* the next wait is long: the cancel lands there */
    while (corio_agen_state(gi) != CORIO_CORO_RUNNING || in.yielded < 4)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_sleep(0.002), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(top.consumer_rc, -ECANCELED);
    CHECK_EQ(in.last_rc, -ECANCELED);
    CHECK_EQ(in.cleanup, 1);
    CHECK_EQ(in.cleanup_rc, -ECANCELED);
    CHECK_EQ(out.last_rc, -ECANCELED);
    CHECK_EQ(out.rc1, 0); /* the inner one was closed already */
    CHECK_EQ(out.cleanup, 1);
    CHECK_EQ(out.cleanup_rc, -ECANCELED);
    CHECK_EQ(top.yielded, in.yielded); /* nothing lost on the way */
    CHECK_EQ(corio_agen_state(gi), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_state(go), CORIO_CORO_CLOSED);
    corio_task_release(t);
    corio_agen_free(go);
    corio_agen_free(gi);
    return 0;
}

TEST(agen_edge_cancel_inside_nested_wait)
{
    CHECK_EQ(run(nested_cancel_body), 0);
}

/* ---- EYIELDSCOPE from inside a group whose child already failed --------------------- */

static int failing_child(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_fail(-EIO, "child failed");
}

static int group_yield_gen(void *arg, void **result)
{
    struct edge *s = arg;
    corio_group *gr;
    int rc;
    (void)result;
    CHECK_EQ(corio_group_open(&gr), 0);
    CHECK_EQ(corio_group_spawn(gr, failing_child, NULL, NULL, NULL), 0);
    s->rc1 = corio_sleep(1.0);          /* the child's failure cancels this */
    s->rc2 = corio_yield(IP(1), NULL);  /* refused anyway */
    rc = corio_group_wait(gr, s->rc2);
    s->rc3 = rc;
    corio_group_free(gr);
    s->cleanup++;
    return rc;
}

static int group_yield_body(void)
{
    struct edge s = {.rc1 = 1, .rc2 = 1, .rc3 = 1};
    corio_agen *g;
    void *x = IP(3);
    CHECK_EQ(corio_agen_new(group_yield_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, &x), -EIO); /* the child's error wins */
    CHECK_PTR(x, NULL);
    CHECK_EQ(s.rc1, -ECANCELED);
    CHECK_EQ(s.rc2, CORIO_EYIELDSCOPE);
    CHECK_EQ(s.rc3, -EIO);
    CHECK_EQ(s.cleanup, 1);
    /* The group's cancel of its parent was withdrawn: the consumer runs on
     * uncancelled. */
    CHECK_EQ(corio_task_cancelling(corio_task_current()), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK(corio_current_deadline() > 1e300);
    corio_agen_free(g);
    return 0;
}

TEST(agen_edge_yieldscope_in_failed_group)
{
    CHECK_EQ(run(group_yield_body), 0);
}

/* ---- aclose by a consumer that is being cancelled ----------------------------------- */

static int self_cancel_closer(void *arg, void **result)
{
    struct edge *s = arg;
    (void)result;
    corio_task_cancel(corio_task_current());
    s->consumer_rc = corio_agen_close(s->inner);
    return corio_sleep(0);
}

static int aclose_cancelled_body(void)
{
    struct edge s = {.n = 10, .cleanup_wait = 1.0, .cleanup_rc = 1};
    corio_agen *g;
    corio_task *t;
    CHECK_EQ(corio_agen_new(sleepy_gen, &s, NULL, &g), 0);
    CHECK_EQ(corio_agen_next(g, NULL), 0);
    s.inner = g;
    CHECK_EQ(corio_spawn(self_cancel_closer, &s, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(s.consumer_rc, 0);         /* it returned CORIO_EEXIT: fine */
    CHECK_EQ(s.last_rc, CORIO_EEXIT);
    CHECK_EQ(s.cleanup_rc, -ECANCELED); /* the cleanup's wait was cut */
    CHECK_EQ(s.cleanup, 1);
    CHECK_EQ(corio_agen_state(g), CORIO_CORO_CLOSED);
    corio_task_release(t);
    corio_agen_free(g);
    return 0;
}

TEST(agen_edge_aclose_by_cancelled_consumer)
{
    CHECK_EQ(run(aclose_cancelled_body), 0);
}

/* ---- nested generators finalized concurrently ----------------------------------------- */

static struct edge nf_in, nf_out;

static int nested_finalize_body(void)
{
    corio_agen *gi, *go;
    nf_in = (struct edge){.n = 10, .cleanup_wait = 0.002, .cleanup_rc = 1};
    nf_out = (struct edge){.rc1 = 1, .cleanup_rc = 1};
    CHECK_EQ(corio_agen_new(sleepy_gen, &nf_in, NULL, &gi), 0);
    nf_out.inner = gi;
    CHECK_EQ(corio_agen_new(relay_gen, &nf_out, NULL, &go), 0);
    CHECK_EQ(corio_agen_next(go, NULL), 0);
    /* Both unfinished: the outer one is dropped, then shutdown closes the
     * inner one while the outer one's finalizer closes it too. */
    CHECK_EQ(corio_agen_free(go), 0);
    CHECK_EQ(corio_agen_shutdown(), 0);
    WAIT_FOR(nf_in.cleanup && nf_out.cleanup);
    CHECK_EQ(nf_in.cleanup, 1); /* exactly once */
    CHECK_EQ(nf_in.cleanup_rc, 0);
    CHECK_EQ(nf_out.cleanup, 1);
    CHECK_EQ(corio_agen_state(gi), CORIO_CORO_CLOSED);
    CHECK_EQ(corio_agen_free(gi), 0);
    return 0;
}

TEST(agen_edge_nested_finalized_concurrently)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(nested_finalize_body), 0);
    err = corio_test_stderr_end();
    free(err);
    /* The outer cleanup's close of the inner one either did it or found
     * it in use by its own finalizer; never anything else. */
    CHECK(nf_out.rc1 == 0 || nf_out.rc1 == CORIO_ERUNNING);
}

/* ---- a generator that ends with its own scope still open -------------------- */

static int leaky_scope_gen(void *arg, void **result)
{
    corio_scope *sc;
    (void)arg;
    (void)result;
    return corio_scope_timeout(100.0, &sc); /* never closed: a bug in the body */
}

static int leaky_scope_body(void)
{
    corio_coro_opts o = {.name = "leaky"};
    corio_agen *g;
    CHECK_EQ(corio_agen_new(leaky_scope_gen, NULL, &o, &g), 0);
    CHECK_EQ(corio_agen_next(g, NULL), CORIO_END);
    corio_agen_free(g);
    return 0; /* the task ends inside the leaked scope */
}

TEST(agen_edge_ends_with_scope_open)
{
    char *err;
    corio_test_stderr_begin();
    CHECK_EQ(run(leaky_scope_body), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "async generator 'leaky' ended with a cancel scope");
    CHECK_STR_HAS(err, "task 'main' ended with a cancel scope still open");
    free(err);
}
