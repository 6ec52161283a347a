/*
 * test_ctxvar_callbacks.c: contexts of callbacks and spawns: call_soon,
 * call_later, call_at and done callbacks run in the context captured when
 * they were scheduled (a reference, no copy); the _in_ctx variants run in
 * a given corio_context; corio_spawn_in_ctx runs a task inside one; a ctx
 * entered elsewhere is refused; callbacks scheduled outside tasks and
 * cross-thread calls run in the empty context; tokens across callbacks.
 */
#include "test.h"
#include "run_body.h"
#include "task/task_impl.h"
#include "task/ctxvar_impl.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

static corio_ctxvar *va; /* default 1 */

static intptr_t get(void)
{
    void *x = IP(-12345);
    int rc = corio_ctxvar_get(va, &x);
    return rc ? rc : PI(x);
}

static intptr_t ctx_val(corio_context *c)
{
    void *x = IP(-12345);
    int rc = corio_context_get(c, va, &x);
    return rc ? rc : PI(x);
}

/* Records what the callback saw, then sets its own value. */
struct seen {
    intptr_t val;
    int set_rc;
    int runs;
};

static void look_and_set(void *arg)
{
    struct seen *s = arg;
    s->val = get();
    s->set_rc = corio_ctxvar_set(va, IP(99), NULL);
    s->runs++;
    CHECK_EQ(get(), s->set_rc ? s->val : 99);
}

static void done_look(corio_future *f, void *arg)
{
    (void)f;
    look_and_set(arg);
}

static int captures_at_schedule(void)
{
    corio_loop *loop = corio_loop_current();
    corio_task *me = corio_task_current();
    struct seen s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0};
    struct corio__ctx_map *m;
    corio_future *f;

    CHECK_EQ(corio_ctxvar_set(va, IP(10), NULL), 0);
    m = me->ctxvars;
    CHECK_EQ(corio__ctx_map_refs(m), 1);
    CHECK_EQ(corio_loop_call_soon(loop, look_and_set, &s1, NULL), 0);
    CHECK_EQ(corio_loop_call_later(loop, 0.001, look_and_set, &s2, NULL), 0);
    CHECK_EQ(corio_loop_call_at(loop, 0, look_and_set, &s3, NULL), 0);
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_future_add_done_callback(f, done_look, &s4), 0);
    /* Captured by reference: no copy was made. */
    CHECK(me->ctxvars == m);
    CHECK_EQ(corio__ctx_map_refs(m), 5);
    CHECK_EQ(corio_ctxvar_set(va, IP(20), NULL), 0); /* copy on write */
    CHECK(me->ctxvars != m);
    CHECK_EQ(corio_future_set_result(f, NULL), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(s1.runs + s2.runs + s3.runs + s4.runs, 4);
    CHECK_EQ(s1.val, 10);
    CHECK_EQ(s2.val, 10);
    CHECK_EQ(s3.val, 10);
    CHECK_EQ(s4.val, 10);
    CHECK_EQ(s1.set_rc, 0); /* a callback may set, in its own copy */
    CHECK_EQ(get(), 20);    /* which never reaches the task */
    corio_future_release(f);
    return 0;
}

TEST(ctxvar_callbacks_capture_at_schedule)
{
    CHECK_EQ(corio_ctxvar_new("a", IP(1), &va), 0);
    CHECK_EQ(run(captures_at_schedule), 0);
    corio_ctxvar_free(va);
}

/* Explicit contexts: sets stay in the ctx. */
static int in_ctx(void)
{
    corio_loop *loop = corio_loop_current();
    struct seen s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0};
    corio_future *f;
    corio_handle *h;
    corio_context *c;

    CHECK_EQ(corio_ctxvar_set(va, IP(30), NULL), 0);
    CHECK_EQ(corio_context_copy(&c), 0);
    CHECK_EQ(corio_ctxvar_set(va, IP(40), NULL), 0); /* not in c */
    CHECK_EQ(corio_loop_call_soon_in_ctx(loop, c, look_and_set, &s1, NULL),
             0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(s1.val, 30);
    CHECK_EQ(ctx_val(c), 99); /* set inside, kept by c */
    CHECK_EQ(get(), 40);

    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_future_add_done_callback_in_ctx(f, c, done_look, &s2), 0);
    CHECK_EQ(corio_loop_call_later_in_ctx(loop, c, 0.001, look_and_set,
                                          &s3, NULL), 0);
    CHECK_EQ(corio_loop_call_at_in_ctx(loop, c, 0, look_and_set, &s4, &h),
             0);
    CHECK_EQ(corio_handle_cancel(h), 0); /* dropped: releases c */
    corio_handle_release(h);
    CHECK_EQ(corio_future_set_result(f, NULL), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(s2.val, 99);
    CHECK_EQ(s3.val, 99);
    CHECK_EQ(s4.runs, 0);

    CHECK_EQ(corio_loop_call_soon_in_ctx(loop, NULL, look_and_set, &s1,
                                         NULL), -EINVAL);
    CHECK_EQ(corio_loop_call_later_in_ctx(loop, NULL, 1, look_and_set, &s1,
                                          NULL), -EINVAL);
    CHECK_EQ(corio_loop_call_at_in_ctx(loop, NULL, 1, look_and_set, &s1,
                                       NULL), -EINVAL);
    CHECK_EQ(corio_future_add_done_callback_in_ctx(f, NULL, done_look, &s1),
             -EINVAL);
    CHECK_EQ(corio_loop_call_soon_in_ctx(NULL, c, look_and_set, &s1, NULL),
             -EINVAL);
    corio_context_release(c); /* handles and nodes hold their own */
    corio_future_release(f);
    return 0;
}

TEST(ctxvar_callbacks_in_ctx)
{
    CHECK_EQ(corio_ctxvar_new("a", IP(1), &va), 0);
    CHECK_EQ(run(in_ctx), 0);
    corio_ctxvar_free(va);
}

/* A callback given a ctx entered elsewhere is skipped and reported. */
static corio_context *busy_ctx;

static int hold_ctx(void *arg)
{
    (void)arg;
    return corio_sleep(0.01); /* inside busy_ctx, suspended */
}

static int holder(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_context_run(busy_ctx, hold_ctx, NULL);
}

static int entered_elsewhere(void)
{
    struct seen s = {0};
    corio_task *t;
    CHECK_EQ(corio_context_copy(&busy_ctx), 0);
    CHECK_EQ(corio_spawn(holder, NULL, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0); /* holder is inside busy_ctx */
    CHECK_EQ(corio_loop_call_soon_in_ctx(corio_loop_current(), busy_ctx,
                                         look_and_set, &s, NULL), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(s.runs, 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    corio_context_release(busy_ctx);
    return 0;
}

TEST(ctxvar_callbacks_ctx_entered_elsewhere)
{
    char *err;
    CHECK_EQ(corio_ctxvar_new("a", IP(1), &va), 0);
    corio_test_stderr_begin();
    CHECK_EQ(run(entered_elsewhere), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "skipped");
    CHECK_STR_HAS(err, "already entered");
    free(err);
    corio_ctxvar_free(va);
}

/* Tasks spawned into a ctx run inside it for their whole life. */
static int child_sets(void *arg, void **result)
{
    corio_context *c = arg;
    *result = IP(get());
    CHECK_EQ(corio_ctxvar_set(va, IP(77), NULL), 0);
    CHECK_EQ(corio_sleep(0.001), 0);
    CHECK_EQ(ctx_val(c), 77); /* live, while entered */
    return 0;
}

static int never_runs(void *arg, void **result)
{
    (void)arg;
    (void)result;
    CHECK(0);
    return 0;
}

static int ret_zero(void *arg)
{
    (void)arg;
    return 0;
}

static int spawn_in_ctx(void)
{
    corio_task *t, *u = IP(1);
    corio_context *c;
    void *r;
    CHECK_EQ(corio_ctxvar_set(va, IP(50), NULL), 0);
    CHECK_EQ(corio_context_copy(&c), 0);
    CHECK_EQ(corio_ctxvar_set(va, IP(60), NULL), 0);
    CHECK_EQ(corio_spawn_in_ctx(c, child_sets, c, NULL, &t), 0);
    /* Entered for the task's life. */
    CHECK_EQ(corio_spawn_in_ctx(c, never_runs, NULL, NULL, &u), -EBUSY);
    CHECK(u == IP(1));
    CHECK_EQ(corio_context_run(c, ret_zero, NULL), -EBUSY);
    CHECK_EQ(corio_spawn_in_ctx(NULL, never_runs, NULL, NULL, &u), -EINVAL);
    CHECK_EQ(corio_task_join(t, &r), 0);
    CHECK_EQ(PI(r), 50);
    CHECK_EQ(ctx_val(c), 77); /* kept in c */
    CHECK_EQ(get(), 60);      /* not here */
    corio_task_release(t);
    /* Free again once the task is done. */
    CHECK_EQ(corio_context_run(c, ret_zero, NULL), 0);
    CHECK_EQ(corio_spawn_in_ctx(c, child_sets, c, NULL, &t), 0);
    corio_context_release(c); /* the task holds its own */
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    return 0;
}

TEST(ctxvar_spawn_in_ctx)
{
    CHECK_EQ(corio_ctxvar_new("a", IP(1), &va), 0);
    CHECK_EQ(run(spawn_in_ctx), 0);
    corio_ctxvar_free(va);
}

/* Tokens: one made while a ctx is current is valid wherever that ctx is
 * current (a callback given it); one made in a plain callback only in
 * that run. */
static corio_ctxvar_token *tok;
static int reset_rc;

static int set_with_token(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_ctxvar_set(va, IP(5), &tok);
}

static void reset_token(void *arg)
{
    (void)arg;
    reset_rc = corio_ctxvar_reset(tok);
}

static void set_token_cb(void *arg)
{
    (void)arg;
    CHECK_EQ(corio_ctxvar_set(va, IP(6), &tok), 0);
    CHECK_EQ(get(), 6);
}

static int tokens(void)
{
    corio_loop *loop = corio_loop_current();
    corio_task *t;
    corio_context *c;
    CHECK_EQ(corio_context_copy(&c), 0);
    CHECK_EQ(corio_spawn_in_ctx(c, set_with_token, NULL, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(ctx_val(c), 5);
    reset_rc = 1;
    CHECK_EQ(corio_loop_call_soon(loop, reset_token, NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(reset_rc, -EINVAL); /* not in c */
    CHECK_EQ(corio_loop_call_soon_in_ctx(loop, c, reset_token, NULL, NULL),
             0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(reset_rc, 0);
    CHECK_EQ(ctx_val(c), 1); /* back to unset */
    corio_ctxvar_token_free(tok);

    CHECK_EQ(corio_loop_call_soon(loop, set_token_cb, NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_loop_call_soon(loop, reset_token, NULL, NULL), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(reset_rc, -EINVAL); /* another callback's context */
    CHECK_EQ(corio_ctxvar_reset(tok), -EINVAL); /* nor the task's */
    corio_ctxvar_token_free(tok);
    corio_context_release(c);
    return 0;
}

TEST(ctxvar_callbacks_tokens)
{
    CHECK_EQ(corio_ctxvar_new("a", IP(1), &va), 0);
    CHECK_EQ(run(tokens), 0);
    corio_ctxvar_free(va);
}

/* Scheduled outside any task: the empty context; a task spawned from a
 * callback copies the callback's context; cross-thread calls run empty. */
static intptr_t spawned_saw;
static corio_task *spawned;

static int reads(void *arg, void **result)
{
    (void)arg;
    (void)result;
    spawned_saw = get();
    return 0;
}

static void outside_cb(void *arg)
{
    struct seen *s = arg;
    look_and_set(s); /* sets 99 in its own copy */
    CHECK_EQ(corio_spawn(reads, NULL, NULL, &spawned), 0);
}

static void threadsafe_cb(void *arg)
{
    look_and_set(arg);
    corio_loop_stop(corio_loop_current());
}

TEST(ctxvar_callbacks_outside_tasks)
{
    struct seen s = {0}, ts = {0};
    corio_loop *loop;
    CHECK_EQ(corio_ctxvar_new("a", IP(1), &va), 0);
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_call_soon(loop, outside_cb, &s, NULL), 0);
    CHECK_EQ(corio_loop_call_soon_threadsafe(loop, threadsafe_cb, &ts), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK_EQ(s.val, 1);  /* empty: the default */
    CHECK_EQ(s.set_rc, 0);
    CHECK_EQ(ts.val, 1);
    CHECK_EQ(ts.set_rc, 0);
    CHECK_EQ(get(), 1);  /* outside again: nothing changed */
    CHECK(spawned != NULL);
    corio_loop_stop(loop);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK(corio_task_done(spawned));
    CHECK_EQ(spawned_saw, 99);
    corio_task_release(spawned);
    CHECK_EQ(corio_loop_free(loop), 0);
    corio_ctxvar_free(va);
}
