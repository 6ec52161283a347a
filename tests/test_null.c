/*
 * test_null.c: the NULL rule (docs/design.md, Conventions) for every public
 * function: a call that returns int gives -EINVAL for a NULL object or
 * required pointer; _free/_release/_retain of NULL do nothing (an int _free
 * returns 0); queries give their documented answer (0, NULL, "", the
 * CLOSED state, INFINITY) and never crash. Optional pointers documented as
 * "may be NULL" are passed as NULL too where that is cheap.
 *
 * Most checks run twice, outside any loop and inside a task: the answer
 * for a NULL argument must not depend on where the call is made. A few
 * need a live object of the same kind (NULL in the second argument) or a
 * running task, and run only where they can.
 *
 * tests/null_coverage.sh fails when a CORIO_API function of the public
 * headers is not named in this file.
 */
#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/socket.h>

static int body_ok(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return 0;
}

static void cb_nop(void *arg)
{
    (void)arg;
}

static void fut_cb_nop(corio_future *f, void *arg)
{
    (void)f;
    (void)arg;
}

static int pred_true(void *arg)
{
    (void)arg;
    return 1;
}

static int ctx_fn(void *arg)
{
    (void)arg;
    return 0;
}

static void drop_nop(void *item, void *arg)
{
    (void)item;
    (void)arg;
}

/* error.h: no pointer arguments; every code has a name and a text. */
static void null_error(void)
{
    CHECK(corio_strerror(-EINVAL) != NULL);
    CHECK(corio_strerror(12345) != NULL);
    CHECK(corio_errname(-EINVAL) != NULL);
    CHECK(corio_errname(12345) != NULL);
    /* version.h: no arguments, never NULL. */
    CHECK(corio_version() != NULL);
    CHECK(corio_version_number() > 0);
}

/* coro.h */
static void null_coro(void)
{
    corio_coro *co = NULL;
    void *out = &out;

    CHECK_EQ(corio_coro_new(NULL, NULL, NULL, &co), -EINVAL);
    CHECK(co == NULL);
    CHECK_EQ(corio_coro_new(body_ok, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_coro_resume(NULL, NULL, &out), -EINVAL);
    CHECK_EQ(corio_coro_next(NULL, NULL), -EINVAL);
    CHECK_EQ(corio_coro_throw(NULL, -EIO, NULL), -EINVAL);
    CHECK_EQ(corio_coro_close(NULL), -EINVAL);
    CHECK_EQ(corio_coro_free(NULL), 0);
    CHECK_EQ(corio_coro_state(NULL), CORIO_CORO_CLOSED);
    CHECK(strcmp(corio_state_name(CORIO_CORO_CLOSED), "CLOSED") == 0);
    CHECK(strcmp(corio_state_name((corio_state)99), "?") == 0);
    CHECK(strcmp(corio_coro_name(NULL), "coro") == 0);
    CHECK_EQ(corio_coro_error(NULL), 0);

    /* Optional pointers: opts and out may be NULL. */
    CHECK_EQ(corio_coro_new(body_ok, NULL, NULL, &co), 0);
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_FINISHED);
    CHECK_EQ(corio_coro_free(co), 0);
}

/* loop.h: what needs no running loop. */
static void null_loop(void)
{
    corio_loop *loop = NULL;
    corio_handle *h = NULL;

    CHECK_EQ(corio_loop_new(NULL, NULL), -EINVAL);
    CHECK_EQ(corio_loop_free(NULL), 0);
    CHECK_EQ(corio_loop_run(NULL), -EINVAL);
    corio_loop_stop(NULL);
    CHECK(corio_loop_time(NULL) > 0);
    CHECK_EQ(corio_loop_call_soon(NULL, cb_nop, NULL, &h), -EINVAL);
    CHECK_EQ(corio_loop_call_later(NULL, 1.0, cb_nop, NULL, &h), -EINVAL);
    CHECK_EQ(corio_loop_call_at(NULL, 1.0, cb_nop, NULL, &h), -EINVAL);
    CHECK_EQ(corio_loop_call_soon_threadsafe(NULL, cb_nop, NULL), -EINVAL);
    CHECK_EQ(corio_loop_call_soon_in_ctx(NULL, NULL, cb_nop, NULL, &h),
             -EINVAL);
    CHECK_EQ(corio_loop_call_later_in_ctx(NULL, NULL, 1.0, cb_nop, NULL, &h),
             -EINVAL);
    CHECK_EQ(corio_loop_call_at_in_ctx(NULL, NULL, 1.0, cb_nop, NULL, &h),
             -EINVAL);
    CHECK(h == NULL);
    CHECK_EQ(corio_loop_hold(NULL), -EINVAL);
    CHECK_EQ(corio_loop_unhold(NULL), -EINVAL);
    CHECK_EQ(corio_handle_cancel(NULL), -EINVAL);
    corio_handle_release(NULL);

    /* fn is required once there is a loop; opts and out are optional. */
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_call_soon(loop, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_loop_call_later(loop, 1.0, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_loop_call_at(loop, 1.0, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_loop_call_soon_threadsafe(loop, NULL, NULL), -EINVAL);
    /* The _in_ctx variants need their context. */
    CHECK_EQ(corio_loop_call_soon_in_ctx(loop, NULL, cb_nop, NULL, NULL),
             -EINVAL);
    CHECK_EQ(corio_loop_call_later_in_ctx(loop, NULL, 1.0, cb_nop, NULL, NULL),
             -EINVAL);
    CHECK_EQ(corio_loop_call_at_in_ctx(loop, NULL, 1.0, cb_nop, NULL, NULL),
             -EINVAL);
    CHECK_EQ(corio_loop_call_soon(loop, cb_nop, NULL, NULL), 0);
    CHECK_EQ(corio_loop_tasks(loop, NULL, 4), 0);
    CHECK_EQ(corio_loop_free(loop), 0);
}

/* future.h */
static void null_future(void)
{
    corio_future *f = NULL;
    void *res = &res;

    CHECK_EQ(corio_future_new(NULL, NULL), -EINVAL);
    corio_future_retain(NULL);
    corio_future_release(NULL);
    CHECK_EQ(corio_future_set_result(NULL, NULL), -EINVAL);
    CHECK_EQ(corio_future_set_error(NULL, -EIO), -EINVAL);
    CHECK_EQ(corio_future_cancel(NULL), -EINVAL);
    CHECK_EQ(corio_future_done(NULL), 0);
    CHECK_EQ(corio_future_cancelled(NULL), 0);
    CHECK_EQ(corio_future_result(NULL, &res), -EINVAL);
    CHECK_EQ(corio_future_add_done_callback(NULL, fut_cb_nop, NULL), -EINVAL);
    CHECK_EQ(corio_future_add_done_callback_in_ctx(NULL, NULL, fut_cb_nop,
                                                   NULL),
             -EINVAL);
    CHECK_EQ(corio_future_remove_done_callback(NULL, fut_cb_nop, NULL),
             -EINVAL);
    CHECK_EQ(corio_future_await(NULL, &res), -EINVAL);
    CHECK(res == &res);

    /* A live future: fn is required; result may be NULL. */
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_future_add_done_callback(f, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_future_add_done_callback_in_ctx(f, NULL, fut_cb_nop, NULL),
             -EINVAL);
    CHECK_EQ(corio_future_remove_done_callback(f, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_future_set_result(f, NULL), 0);
    CHECK_EQ(corio_future_result(f, NULL), 0);
    CHECK_EQ(corio_future_await(f, NULL), 0);
    corio_future_release(f);
}

/* task.h: the object calls. */
static void null_task(void)
{
    corio_task *buf[2];
    void *res = &res;

    CHECK_EQ(corio_task_spawn_at(NULL, NULL, NULL, NULL, NULL, "f", 1),
             -EINVAL);
    corio_task_retain(NULL);
    corio_task_release(NULL);
    CHECK_EQ(corio_task_join(NULL, &res), -EINVAL);
    CHECK_EQ(corio_task_result(NULL, &res), -EINVAL);
    CHECK(res == &res);
    CHECK_EQ(corio_task_cancel(NULL), -EINVAL);
    CHECK_EQ(corio_task_uncancel(NULL), -EINVAL);
    CHECK_EQ(corio_task_cancel_msg(NULL, "m"), -EINVAL);
    CHECK(corio_task_cancel_message(NULL) == NULL);
    CHECK_EQ(corio_task_spawn_in_ctx_at(NULL, NULL, body_ok, NULL, NULL, NULL,
                                        "f", 1),
             -EINVAL);
    CHECK_EQ(corio_task_cancelling(NULL), 0);
    CHECK_EQ(corio_task_done(NULL), 0);
    CHECK_EQ(corio_task_cancelled(NULL), 0);
    CHECK(strcmp(corio_task_name(NULL), "") == 0);
    CHECK(corio_task_future(NULL) == NULL);
    CHECK(corio_task_message(NULL) == NULL);
    CHECK_EQ(corio_loop_tasks(NULL, buf, 2), 0);
    CHECK_EQ(corio_fail(-EIO, NULL), -EIO);
    CHECK_EQ(corio_run(NULL, NULL, NULL), -EINVAL);
}

/* io.h: buffers and addresses are required (fds are ints). */
static void null_io(void)
{
    struct sockaddr_storage sa;
    size_t written = 99;

    CHECK_EQ(corio_read(0, NULL, 1), -EINVAL);
    CHECK_EQ(corio_write(1, NULL, 1), -EINVAL);
    CHECK_EQ(corio_write_all(1, NULL, 3, &written), -EINVAL);
    CHECK_EQ(written, 0);
    CHECK_EQ(corio_accept(0, (struct sockaddr *)&sa, NULL), -EINVAL);
    CHECK_EQ(corio_connect(0, NULL, 0), -EINVAL);
    /* No pointer arguments: a bad descriptor is the kernel's answer. */
    CHECK_EQ(corio_fd_nonblock(-1), -EBADF);
    CHECK_EQ(corio_fd_close(-1), -EBADF);
}

/* scope.h */
static void null_scope(void)
{
    CHECK_EQ(corio_scope_open(CORIO_SCOPE_FAIL, INFINITY, NULL), -EINVAL);
    CHECK_EQ(corio_scope_timeout(1.0, NULL), -EINVAL);
    CHECK_EQ(corio_scope_timeout_at(1.0, NULL), -EINVAL);
    CHECK_EQ(corio_scope_move_on_after(1.0, NULL), -EINVAL);
    CHECK_EQ(corio_scope_shield(NULL), -EINVAL);
    CHECK_EQ(corio_scope_close(NULL, 0), -EINVAL);
    CHECK_EQ(corio_scope_close(NULL, -EIO), -EINVAL);
    corio_scope_cancel(NULL);
    CHECK_EQ(corio_scope_reschedule(NULL, 1.0), -EINVAL);
    CHECK(corio_scope_deadline(NULL) == INFINITY);
    CHECK_EQ(corio_scope_cancelled(NULL), 0);
}

/* group.h */
static void null_group(void)
{
    CHECK_EQ(corio_group_open(NULL), -EINVAL);
    CHECK_EQ(corio_group_spawn_at(NULL, body_ok, NULL, NULL, NULL, "f", 1),
             -EINVAL);
    CHECK_EQ(corio_group_wait(NULL, 0), -EINVAL);
    CHECK_EQ(corio_group_wait(NULL, -EIO), -EINVAL);
    corio_group_cancel(NULL);
    CHECK_EQ(corio_group_stop(NULL, 1.0), -EINVAL);
    CHECK_EQ(corio_group_error_count(NULL), 0);
    CHECK(corio_group_error(NULL, 0) == NULL);
    corio_group_free(NULL);
}

/* combine.h: the array pointers and out-parameters. */
static void null_combine(void)
{
    corio_as_completed *it = NULL;
    corio_future *outer = NULL;
    void *res = &res;
    int errs[1];

    CHECK_EQ(corio_gather(NULL, 1, 0, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_gather(NULL, 1, CORIO_GATHER_COLLECT, NULL, errs), -EINVAL);
    CHECK_EQ(corio_gather_start(NULL, 1, 0, &outer), -EINVAL);
    CHECK_EQ(corio_gather_start(NULL, 0, 0, NULL), -EINVAL);
    CHECK(outer == NULL);
    CHECK_EQ(corio_gather_result(NULL, &res, errs), -EINVAL);
    CHECK_EQ(corio_wait(NULL, 1, CORIO_WAIT_ALL_COMPLETED, 1.0, NULL),
             -EINVAL);
    CHECK_EQ(corio_as_completed_new(NULL, 1, INFINITY, &it), -EINVAL);
    CHECK_EQ(corio_as_completed_new(NULL, 0, INFINITY, NULL), -EINVAL);
    CHECK(it == NULL);
    CHECK_EQ(corio_as_completed_next(NULL, &outer), -EINVAL);
    corio_as_completed_free(NULL);
    CHECK_EQ(corio_wait_for(NULL, 1.0, &res), -EINVAL);
    CHECK(res == &res);
    CHECK_EQ(corio_future_shield(NULL, &outer), -EINVAL);
    CHECK(outer == NULL);
}

/* sync.h */
static void null_sync(void)
{
    corio_cond *c = NULL;

    CHECK_EQ(corio_lock_new(NULL), -EINVAL);
    CHECK_EQ(corio_lock_free(NULL), 0);
    CHECK_EQ(corio_lock_acquire(NULL), -EINVAL);
    CHECK_EQ(corio_lock_try_acquire(NULL), -EINVAL);
    CHECK_EQ(corio_lock_release(NULL), -EINVAL);
    CHECK_EQ(corio_lock_locked(NULL), 0);
    CHECK(corio_lock_owner(NULL) == NULL);

    CHECK_EQ(corio_event_new(NULL), -EINVAL);
    CHECK_EQ(corio_event_free(NULL), 0);
    CHECK_EQ(corio_event_set(NULL), -EINVAL);
    corio_event_clear(NULL);
    CHECK_EQ(corio_event_is_set(NULL), 0);
    CHECK_EQ(corio_event_wait(NULL), -EINVAL);

    CHECK_EQ(corio_cond_new(NULL, NULL), -EINVAL);
    CHECK_EQ(corio_cond_free(NULL), 0);
    CHECK(corio_cond_lock(NULL) == NULL);
    CHECK_EQ(corio_cond_wait(NULL), -EINVAL);
    CHECK_EQ(corio_cond_wait_for(NULL, pred_true, NULL), -EINVAL);
    CHECK_EQ(corio_cond_notify(NULL, 1), -EINVAL);
    CHECK_EQ(corio_cond_notify_all(NULL), -EINVAL);
    /* lock is optional (the condition's own); pred is required. */
    CHECK_EQ(corio_cond_new(NULL, &c), 0);
    CHECK(corio_cond_lock(c) != NULL);
    CHECK_EQ(corio_cond_wait_for(c, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_cond_free(c), 0);

    CHECK_EQ(corio_sem_new(1, NULL), -EINVAL);
    CHECK_EQ(corio_sem_new_bounded(1, NULL), -EINVAL);
    CHECK_EQ(corio_sem_free(NULL), 0);
    CHECK_EQ(corio_sem_acquire(NULL), -EINVAL);
    CHECK_EQ(corio_sem_try_acquire(NULL), -EINVAL);
    CHECK_EQ(corio_sem_release(NULL), -EINVAL);
    CHECK_EQ(corio_sem_value(NULL), 0);
    CHECK_EQ(corio_sem_locked(NULL), 0);

    CHECK_EQ(corio_barrier_new(1, NULL), -EINVAL);
    CHECK_EQ(corio_barrier_free(NULL), 0);
    CHECK_EQ(corio_barrier_wait(NULL), -EINVAL);
    CHECK_EQ(corio_barrier_reset(NULL), -EINVAL);
    CHECK_EQ(corio_barrier_abort(NULL), -EINVAL);
    CHECK_EQ(corio_barrier_parties(NULL), 0);
    CHECK_EQ(corio_barrier_n_waiting(NULL), 0);
    CHECK_EQ(corio_barrier_broken(NULL), 0);
}

/* queue.h */
static void null_queue(void)
{
    corio_queue *q = NULL;
    void *item = &item;

    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, NULL), -EINVAL);
    CHECK_EQ(corio_queue_free(NULL), 0);
    CHECK_EQ(corio_queue_put(NULL, item), -EINVAL);
    CHECK_EQ(corio_queue_put_prio(NULL, 1, item), -EINVAL);
    CHECK_EQ(corio_queue_try_put(NULL, item), -EINVAL);
    CHECK_EQ(corio_queue_try_put_prio(NULL, 1, item), -EINVAL);
    CHECK_EQ(corio_queue_get(NULL, &item), -EINVAL);
    CHECK_EQ(corio_queue_try_get(NULL, &item), -EINVAL);
    CHECK(item == &item);
    CHECK_EQ(corio_queue_size(NULL), 0);
    CHECK_EQ(corio_queue_empty(NULL), 1); /* as its size, 0 */
    CHECK_EQ(corio_queue_full(NULL), 0);
    CHECK_EQ(corio_queue_maxsize(NULL), 0);
    CHECK_EQ(corio_queue_task_done(NULL), -EINVAL);
    CHECK_EQ(corio_queue_join(NULL), -EINVAL);
    CHECK_EQ(corio_queue_shutdown(NULL, 0), -EINVAL);
    CHECK_EQ(corio_queue_shutdown(NULL, 1), -EINVAL);
    CHECK_EQ(corio_queue_is_shutdown(NULL), 0);

    /* A live queue: the item out-pointer is required; NULL items are
     * fine (they are the caller's values). */
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 0, &q), 0);
    CHECK_EQ(corio_queue_try_put(q, NULL), 0);
    CHECK_EQ(corio_queue_get(q, NULL), -EINVAL);
    CHECK_EQ(corio_queue_try_get(q, NULL), -EINVAL);
    CHECK_EQ(corio_queue_size(q), 1);
    CHECK_EQ(corio_queue_free(q), 0);
}

/* topic.h */
static void null_topic(void)
{
    corio_topic *t = NULL;
    corio_topic_sub *s = NULL;
    void *item = &item;
    size_t delivered = 99, missed = 99;

    CHECK_EQ(corio_topic_new(NULL), -EINVAL);
    CHECK_EQ(corio_topic_free(NULL), 0);
    CHECK_EQ(corio_topic_subscribe(NULL, 1, CORIO_TOPIC_LAG, &s), -EINVAL);
    CHECK(s == NULL);
    CHECK_EQ(corio_topic_unsubscribe(NULL), -EINVAL);
    CHECK_EQ(corio_topic_sub_on_drop(NULL, drop_nop, NULL), -EINVAL);
    CHECK_EQ(corio_topic_publish(NULL, item, &delivered), -EINVAL);
    CHECK_EQ(delivered, 0);
    CHECK_EQ(corio_topic_next(NULL, &item, &missed), -EINVAL);
    CHECK(item == &item);
    CHECK_EQ(missed, 99);
    CHECK_EQ(corio_topic_close(NULL), -EINVAL);
    CHECK_EQ(corio_topic_is_closed(NULL), 0);
    CHECK_EQ(corio_topic_subscribers(NULL), 0);
    CHECK_EQ(corio_topic_sub_size(NULL), 0);
    CHECK_EQ(corio_topic_sub_dropped(NULL), 0);

    /* A live topic: out and item are required; fn NULL removes. */
    CHECK_EQ(corio_topic_new(&t), 0);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_LAG, NULL), -EINVAL);
    CHECK_EQ(corio_topic_subscribe(t, 1, CORIO_TOPIC_LAG, &s), 0);
    CHECK_EQ(corio_topic_sub_on_drop(s, NULL, NULL), 0);
    CHECK_EQ(corio_topic_next(s, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_topic_unsubscribe(s), 0);
    CHECK_EQ(corio_topic_free(t), 0);
}

/* ctxvar.h */
static void null_ctxvar(void)
{
    corio_ctxvar *v = NULL;
    corio_context *ctx = NULL;
    void *val = &val;

    CHECK_EQ(corio_ctxvar_new(NULL, NULL, &v), -EINVAL);
    CHECK_EQ(corio_ctxvar_new("v", NULL, NULL), -EINVAL);
    CHECK_EQ(corio_ctxvar_new_nodefault(NULL, &v), -EINVAL);
    CHECK_EQ(corio_ctxvar_new_nodefault("v", NULL), -EINVAL);
    CHECK(v == NULL);
    corio_ctxvar_free(NULL);
    CHECK(strcmp(corio_ctxvar_name(NULL), "") == 0);
    CHECK_EQ(corio_ctxvar_get(NULL, &val), -EINVAL);
    CHECK_EQ(corio_ctxvar_set(NULL, val, NULL), -EINVAL);
    CHECK_EQ(corio_ctxvar_reset(NULL), -EINVAL);
    corio_ctxvar_token_free(NULL);
    CHECK_EQ(corio_context_copy(NULL), -EINVAL);
    corio_context_retain(NULL);
    corio_context_release(NULL);
    CHECK_EQ(corio_context_run(NULL, ctx_fn, NULL), -EINVAL);
    CHECK_EQ(corio_context_size(NULL), 0);
    CHECK(val == &val);

    /* Live objects, NULL in the other pointer. */
    CHECK_EQ(corio_ctxvar_new("v", NULL, &v), 0);
    CHECK_EQ(corio_context_copy(&ctx), 0);
    CHECK_EQ(corio_ctxvar_get(v, NULL), -EINVAL);
    CHECK_EQ(corio_context_get(NULL, v, &val), -EINVAL);
    CHECK_EQ(corio_context_get(ctx, NULL, &val), -EINVAL);
    CHECK_EQ(corio_context_get(ctx, v, NULL), -EINVAL);
    CHECK_EQ(corio_context_run(ctx, NULL, NULL), -EINVAL);
    CHECK(val == &val);
    corio_context_release(ctx);
    corio_ctxvar_free(v);
}

/* agen.h */
static void null_agen(void)
{
    corio_agen *g = NULL;
    void *item = &item;

    CHECK_EQ(corio_agen_new(NULL, NULL, NULL, &g), -EINVAL);
    CHECK_EQ(corio_agen_new(body_ok, NULL, NULL, NULL), -EINVAL);
    CHECK(g == NULL);
    CHECK_EQ(corio_agen_next(NULL, &item), -EINVAL);
    CHECK(item == NULL); /* documented: NULL on anything but 0 */
    CHECK_EQ(corio_agen_send(NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_agen_throw(NULL, -EIO, NULL), -EINVAL);
    CHECK_EQ(corio_agen_close(NULL), -EINVAL);
    CHECK_EQ(corio_agen_free(NULL), 0);
    CHECK_EQ(corio_agen_state(NULL), CORIO_CORO_CLOSED);
    CHECK(strcmp(corio_agen_name(NULL), "agen") == 0);
}

static void null_everywhere(void)
{
    null_error();
    null_coro();
    null_loop();
    null_future();
    null_task();
    null_io();
    null_scope();
    null_group();
    null_combine();
    null_sync();
    null_queue();
    null_topic();
    null_ctxvar();
    null_agen();
}

TEST(null_outside_loop)
{
    void *sent = &sent;

    null_everywhere();
    /* Calls with no pointer argument, outside any loop or coroutine. */
    CHECK(corio_coro_current() == NULL);
    CHECK(corio_task_current() == NULL);
    CHECK(corio_loop_current() == NULL);
    CHECK_EQ(corio_yield(NULL, NULL), CORIO_ENOTCORO);
    CHECK_EQ(corio_await(NULL, &sent), CORIO_ENOTCORO);
    CHECK(sent == &sent);
    CHECK_EQ(corio_sleep(0), CORIO_ENOTASK);
    CHECK_EQ(corio_stop_requested(), 0);
    CHECK(corio_current_deadline() == INFINITY);
    CHECK_EQ(corio_agen_shutdown(), CORIO_ENOTASK);
    CHECK_EQ(corio_wait_readable(0), CORIO_ENOTASK);
    CHECK_EQ(corio_wait_writable(1), CORIO_ENOTASK);
    CHECK_EQ(corio_signal_wait(SIGUSR1), CORIO_ENOTASK);
}

static int in_task_body(void)
{
    corio_future *futs[2] = {NULL, NULL};
    corio_as_completed *it = NULL;
    corio_group *g = NULL;
    corio_future *f = NULL;
    corio_task *self = corio_task_current();
    corio_task *buf[4];
    void *sent = &sent;

    null_everywhere();
    CHECK(self != NULL);

    /* A NULL entry in a future array. */
    CHECK_EQ(corio_gather(futs, 2, 0, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_wait(futs, 2, CORIO_WAIT_ALL_COMPLETED, 1.0, NULL),
             -EINVAL);
    CHECK_EQ(corio_as_completed_new(futs, 2, INFINITY, &it), -EINVAL);
    CHECK(it == NULL);
    /* An iterator, and NULL for next's out-parameter. */
    CHECK_EQ(corio_as_completed_new(NULL, 0, INFINITY, &it), 0);
    CHECK_EQ(corio_as_completed_next(it, NULL), -EINVAL);
    corio_as_completed_free(it);
    /* shield's out-parameter. */
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    CHECK_EQ(corio_future_shield(f, NULL), -EINVAL);
    CHECK_EQ(corio_future_set_result(f, NULL), 0);
    corio_future_release(f);

    /* A group: fn is required; out is optional. */
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, NULL, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_group_spawn(g, body_ok, NULL, NULL, NULL), 0);
    CHECK_EQ(corio_group_wait(g, 0), 0);
    CHECK_EQ(corio_group_error_count(g), 0);
    corio_group_free(g);

    /* Spawning: fn is required, the loop is optional in a task. */
    CHECK_EQ(corio_spawn(NULL, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_spawn(body_ok, NULL, NULL, NULL), 0);
    CHECK_EQ(corio_loop_tasks(corio_loop_current(), NULL, 4), 2);
    CHECK_EQ(corio_loop_tasks(corio_loop_current(), buf, 4), 2);

    /* A bare yield is sleep(0); awaiting NULL is asyncio's bad yield. */
    CHECK_EQ(corio_yield(NULL, NULL), 0);
    CHECK_EQ(corio_await(NULL, &sent), -EINVAL);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_stop_requested(), 0);
    CHECK(corio_current_deadline() == INFINITY);
    CHECK_EQ(corio_agen_shutdown(), 0);
    CHECK(strcmp(corio_task_name(self), "main") == 0);
    return 0;
}

TEST(null_in_task)
{
    CHECK_EQ(run(in_task_body), 0);
}

/* A hand-driven coroutine: NULL values pass through yield and await. */
static int yield_null(void *arg, void **result)
{
    void *sent = &sent;
    int rc;
    if ((rc = corio_yield(NULL, &sent)) != 0)
        return rc;
    CHECK(sent == NULL);
    if ((rc = corio_await(NULL, NULL)) != 0)
        return rc;
    *result = arg;
    return 0;
}

TEST(null_in_coro)
{
    corio_coro *co;
    void *out = &out;

    CHECK_EQ(corio_coro_new(yield_null, NULL, NULL, &co), 0);
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_YIELDED);
    CHECK(out == NULL);
    out = &out;
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_AWAITING);
    CHECK(out == NULL);
    CHECK_EQ(corio_coro_resume(co, NULL, NULL), CORIO_FINISHED);
    CHECK_EQ(corio_coro_error(co), 0);
    CHECK_EQ(corio_coro_free(co), 0);
}
