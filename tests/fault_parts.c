/*
 * fault_parts.c: the parts of the sweep program (fault_program.h) that
 * use one area each: coroutines by hand, tasks, groups, scopes and
 * timeouts, queues, topics, async generators, context variables, locks,
 * timers, pipe I/O, gather and wait. What they share is in fault_parts.h.
 */
#include "fault_parts.h"
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- coroutines by hand ------------------------------------------------ */

int fault_gen3(void *arg, void **result)
{
    intptr_t i;
    int rc;
    (void)arg;
    for (i = 1; i <= 3; i++)
        if ((rc = corio_yield((void *)i, NULL)) != 0)
            return rc;
    *result = (void *)10;
    return 0;
}

/* Two lean coroutines taking turns on the shared stack: each switch
 * saves the other's frames in a buffer. */
static int part_coro_lean(void)
{
    corio_coro_opts o = {"lean", 0, CORIO_CORO_LEAN};
    corio_coro *a = NULL, *b = NULL;
    void *va, *vb;
    intptr_t i;
    int rc, ra, rb;
    TRY(corio_coro_new(fault_gen3, NULL, &o, &a));
    TRY(corio_coro_new(fault_gen3, NULL, &o, &b));
    for (i = 1;; i++) {
        ra = corio_coro_next(a, &va);
        rb = corio_coro_next(b, &vb);
        if (ra < 0 || rb < 0) {
            rc = prog_err(ra < 0 ? ra : rb, "lean corio_coro_next");
            goto out;
        }
        if (ra == CORIO_END || rb == CORIO_END)
            break;
        CHECK_PTR(va, (void *)i);
        CHECK_PTR(vb, (void *)i);
    }
    CHECK_EQ(ra, CORIO_END);
    CHECK_EQ(rb, CORIO_END);
    CHECK_EQ(i, 4);
    rc = 0;
out:
    corio_coro_free(a);
    corio_coro_free(b);
    return rc;
}

int fault_part_coro(void)
{
    corio_coro *co = NULL;
    void *v;
    intptr_t sum = 0;
    int rc;
    TRY(corio_coro_new(fault_gen3, NULL, NULL, &co));
    while ((rc = corio_coro_next(co, &v)) == 0)
        sum += (intptr_t)v;
    if (rc != CORIO_END) {
        prog_err(rc, "corio_coro_next");
        goto out;
    }
    CHECK_EQ(sum, 6);
    rc = part_coro_lean();
out:
    corio_coro_free(co);
    return rc;
}

/* ---- tasks ------------------------------------------------------------- */

int fault_child_double(void *arg, void **result)
{
    int rc = corio_sleep(0);
    if (rc)
        return rc;
    *result = (void *)((intptr_t)arg * 2);
    return 0;
}

int fault_part_tasks(void)
{
    corio_task *t[3] = {NULL, NULL, NULL};
    intptr_t i;
    int rc = 0, n = 0;
    for (i = 0; i < 3; i++, n++)
        if ((rc = corio_spawn(fault_child_double, (void *)i, NULL, &t[i])) < 0) {
            prog_err(rc, "corio_spawn");
            break;
        }
    for (i = 0; i < n; i++) {
        void *r = NULL;
        int jr = corio_task_join(t[i], &r);
        if (jr == 0)
            CHECK_PTR(r, (void *)(i * 2));
        else if (!rc)
            rc = prog_err(jr, "corio_task_join");
        else
            prog_err(jr, "corio_task_join");
        fault_drop(t[i]);
    }
    return rc;
}

/* ---- groups ------------------------------------------------------------ */

struct kid {
    int fails; /* by design, with -EIO */
    int ran, rc;
};

static int kid_fn(void *arg, void **result)
{
    struct kid *k = arg;
    int rc;
    (void)result;
    k->ran = 1;
    rc = corio_sleep(0);
    if (rc == 0 && k->fails)
        rc = corio_fail(-EIO, "kid %d failed", 2);
    k->rc = rc;
    return rc;
}

int fault_part_group(void)
{
    struct kid kids[3] = {{0, 0, 0}, {0, 0, 0}, {1, 0, 0}};
    corio_group *g = NULL;
    int rc, body = 0, i, wrc;
    TRY(corio_group_open(&g));
    for (i = 0; i < 3; i++)
        if ((rc = corio_group_spawn(g, kid_fn, &kids[i], NULL, NULL)) < 0) {
            body = prog_err(rc, "corio_group_spawn");
            break;
        }
    wrc = corio_group_wait(g, body);
    /* The third kid fails by design, or its spawn failed and the body
     * says so: either way the group has failed. Never 0. */
    CHECK(wrc < 0);
    for (i = 0; i < 3; i++)
        if (kids[i].ran && kids[i].rc < 0 && kids[i].rc != -ECANCELED)
            CHECK(wrc < 0);
    if (corio_group_error_count(g) > 0)
        CHECK(corio_group_error(g, 0)->code < 0);
    if (wrc == -EIO) {
        CHECK(kids[2].ran && kids[2].rc == -EIO);
        rc = 0;
    } else {
        rc = prog_err(wrc, "corio_group_wait");
    }
out:
    corio_group_free(g);
    return rc;
}

/* ---- scopes and timeouts ----------------------------------------------- */

int fault_part_scope(void)
{
    corio_scope *s;
    corio_future *f = NULL;
    int rc;
    TRY(corio_scope_timeout(0.001, &s));
    rc = corio_scope_close(s, corio_sleep(3600));
    if (rc != -ETIMEDOUT) {
        prog_err(rc, "timeout scope");
        goto out;
    }
    TRY(corio_scope_move_on_after(0.001, &s));
    TRY(corio_scope_close(s, corio_sleep(3600)));
    TRY(corio_scope_shield(&s));
    TRY(corio_scope_close(s, corio_sleep(0)));
    TRY(corio_future_new(NULL, &f));
    rc = corio_wait_for(f, 0.001, NULL);
    if (rc != -ETIMEDOUT) {
        prog_err(rc, "corio_wait_for");
        goto out;
    }
    CHECK(corio_future_cancelled(f));
    rc = 0;
out:
    corio_future_release(f);
    return rc;
}

/* ---- queues ------------------------------------------------------------ */

static int producer(void *arg, void **result)
{
    corio_queue *q = arg;
    intptr_t i;
    int rc;
    (void)result;
    for (i = 1; i <= 5; i++)
        if ((rc = corio_queue_put(q, (void *)i)) != 0) {
            corio_queue_shutdown(q, 0);
            return rc;
        }
    return 0;
}

int fault_part_queue(void)
{
    corio_queue *q = NULL, *pq = NULL;
    corio_task *t = NULL;
    intptr_t i;
    void *v;
    int rc, jr;
    TRY(corio_queue_new(CORIO_QUEUE_FIFO, 2, &q));
    TRY(corio_spawn(producer, q, NULL, &t));
    for (i = 1; i <= 5; i++) {
        if ((rc = corio_queue_get(q, &v)) != 0) {
            prog_err(rc, "corio_queue_get");
            corio_queue_shutdown(q, 1);
            break;
        }
        CHECK_PTR(v, (void *)i);
    }
    jr = corio_task_join(t, NULL);
    if (jr < 0 && !rc)
        rc = prog_err(jr, "producer");
    else if (jr < 0)
        prog_err(jr, "producer");
    if (rc)
        goto out;
    /* Growing a priority queue's heap. */
    TRY(corio_queue_new(CORIO_QUEUE_PRIORITY, 0, &pq));
    for (i = 0; i < 40; i++)
        TRY(corio_queue_try_put_prio(pq, 40 - i, (void *)i));
    for (i = 39; i >= 0; i--) {
        CHECK_EQ(corio_queue_try_get(pq, &v), 0);
        CHECK_PTR(v, (void *)i);
    }
    rc = 0;
out:
    fault_drop(t);
    corio_queue_free(q);
    corio_queue_free(pq);
    return rc;
}

/* ---- topics ------------------------------------------------------------ */

int fault_part_topic(void)
{
    corio_topic *tp = NULL;
    corio_topic_sub *a = NULL, *b = NULL;
    size_t got;
    intptr_t i;
    void *v;
    int rc;
    TRY(corio_topic_new(&tp));
    TRY(corio_topic_subscribe(tp, 4, CORIO_TOPIC_BLOCK, &a));
    TRY(corio_topic_subscribe(tp, 1, CORIO_TOPIC_DROP_OLDEST, &b));
    for (i = 1; i <= 3; i++) {
        TRY(corio_topic_publish(tp, (void *)i, &got));
        CHECK_EQ(got, 2);
    }
    for (i = 1; i <= 3; i++) {
        TRY(corio_topic_next(a, &v, NULL));
        CHECK_PTR(v, (void *)i);
    }
    TRY(corio_topic_next(b, &v, NULL));
    CHECK_PTR(v, (void *)3);
    TRY(corio_topic_close(tp));
    CHECK_EQ(corio_topic_next(a, &v, NULL), CORIO_END);
    rc = 0;
out:
    if (a)
        CHECK_EQ(corio_topic_unsubscribe(a), 0);
    if (b)
        CHECK_EQ(corio_topic_unsubscribe(b), 0);
    corio_topic_free(tp);
    return rc;
}

/* ---- async generators -------------------------------------------------- */

int fault_gen_sleepy(void *arg, void **result)
{
    intptr_t i;
    int rc;
    (void)arg;
    (void)result;
    for (i = 0; i < 3; i++) {
        if ((rc = corio_sleep(0)) != 0 ||
            (rc = corio_yield((void *)i, NULL)) != 0)
            return rc;
    }
    return 0;
}

int fault_part_agen(void)
{
    corio_agen *g = NULL;
    intptr_t i = 0;
    void *v;
    int rc;
    TRY(corio_agen_new(fault_gen_sleepy, NULL, NULL, &g));
    while ((rc = corio_agen_next(g, &v)) == 0) {
        CHECK_PTR(v, (void *)i);
        i++;
    }
    if (rc != CORIO_END) {
        prog_err(rc, "corio_agen_next");
        goto out;
    }
    CHECK_EQ(i, 3);
    rc = 0;
out:
    if (g)
        CHECK_EQ(corio_agen_free(g), 0);
    return rc;
}

/* ---- context variables ------------------------------------------------- */

corio_ctxvar *fault_var;

int fault_read_var(void *arg, void **result)
{
    (void)arg;
    return corio_ctxvar_get(fault_var, result);
}

static int set_var_3(void *arg)
{
    (void)arg;
    return corio_ctxvar_set(fault_var, (void *)3, NULL);
}

int fault_part_ctxvar(void)
{
    corio_ctxvar_token *tok = NULL;
    corio_context *ctx = NULL;
    corio_task *t = NULL;
    void *v = NULL;
    int rc;
    TRY(corio_ctxvar_new("v", (void *)1, &fault_var));
    TRY(corio_ctxvar_set(fault_var, (void *)2, &tok));
    TRY(corio_spawn(fault_read_var, NULL, NULL, &t));
    TRY(corio_task_join(t, &v));
    CHECK_PTR(v, (void *)2);
    TRY(corio_context_copy(&ctx));
    TRY(corio_context_run(ctx, set_var_3, NULL));
    CHECK_EQ(corio_context_get(ctx, fault_var, &v), 0);
    CHECK_PTR(v, (void *)3);
    CHECK_EQ(corio_ctxvar_get(fault_var, &v), 0);
    CHECK_PTR(v, (void *)2);
    TRY(corio_ctxvar_reset(tok));
    CHECK_EQ(corio_ctxvar_get(fault_var, &v), 0);
    CHECK_PTR(v, (void *)1);
    rc = 0;
out:
    fault_drop(t);
    corio_context_release(ctx);
    corio_ctxvar_token_free(tok);
    corio_ctxvar_free(fault_var);
    fault_var = NULL;
    return rc;
}

/* ---- locks, events, semaphores ----------------------------------------- */

struct sync_kit {
    corio_lock *lk;
    corio_event *ev;
    int in_lock;
};

static int locker(void *arg, void **result)
{
    struct sync_kit *k = arg;
    int rc;
    (void)result;
    if ((rc = corio_lock_acquire(k->lk)) != 0)
        return rc;
    k->in_lock = 1;
    CHECK_EQ(corio_lock_release(k->lk), 0);
    return corio_event_wait(k->ev);
}

int fault_part_sync(void)
{
    struct sync_kit k = {NULL, NULL, 0};
    corio_sem *s = NULL;
    corio_task *t = NULL;
    int rc, jr;
    TRY(corio_lock_new(&k.lk));
    TRY(corio_event_new(&k.ev));
    TRY(corio_sem_new(1, &s));
    TRY(corio_lock_acquire(k.lk));
    rc = corio_spawn(locker, &k, NULL, &t);
    if (rc == 0)
        rc = corio_sleep(0); /* the locker waits for the lock */
    CHECK_EQ(corio_lock_release(k.lk), 0);
    if (rc < 0) {
        prog_err(rc, "spawn or sleep");
        if (t)
            corio_task_cancel(t);
    } else {
        CHECK_EQ(corio_sem_acquire(s), 0);
        CHECK_EQ(corio_sem_try_acquire(s), -EAGAIN);
        CHECK_EQ(corio_sem_release(s), 0);
    }
    CHECK_EQ(corio_event_set(k.ev), 0);
    if (t) {
        jr = corio_task_join(t, NULL);
        if (jr == 0)
            CHECK(k.in_lock);
        else if (!rc)
            rc = prog_err(jr, "locker");
    }
out:
    fault_drop(t);
    corio_sem_free(s);
    corio_event_free(k.ev);
    corio_lock_free(k.lk);
    return rc;
}

/* ---- timers and callbacks ---------------------------------------------- */

static void cb_resolve(void *arg)
{
    /* Resolving a pending future from a callback must work: nothing here
     * can report a failure. */
    CHECK_EQ(corio_future_set_result(arg, (void *)5), 0);
}

void fault_cb_never(void *arg)
{
    (void)arg;
    CHECK(!"a cancelled timer ran");
}

int fault_part_timers(void)
{
    corio_loop *loop = corio_loop_current();
    corio_future *f = NULL, *g = NULL;
    corio_handle *h[3] = {NULL, NULL, NULL};
    void *v = NULL;
    int rc, i;
    TRY(corio_future_new(NULL, &f));
    TRY(corio_future_new(NULL, &g));
    TRY(corio_loop_call_later(loop, 3600, fault_cb_never, NULL, &h[0]));
    TRY(corio_loop_call_later(loop, 0.001, cb_resolve, f, &h[1]));
    TRY(corio_loop_call_soon(loop, cb_resolve, g, &h[2]));
    TRY(corio_future_await(f, &v));
    CHECK_PTR(v, (void *)5);
    TRY(corio_future_await(g, &v));
    CHECK_PTR(v, (void *)5);
    rc = 0;
out:
    for (i = 0; i < 3; i++) { /* what has not run never will */
        if (h[i])
            corio_handle_cancel(h[i]);
        corio_handle_release(h[i]);
    }
    corio_future_release(f);
    corio_future_release(g);
    return rc;
}

/* ---- fd I/O on a pipe -------------------------------------------------- */

static const char msg[] = "hello, pipe";

static int writer_closed; /* a writer cancelled before it ran did not */

static int writer(void *arg, void **result)
{
    int fd = (int)(intptr_t)arg, rc;
    size_t w = 0;
    (void)result;
    rc = corio_write_all(fd, msg, sizeof msg, &w);
    CHECK_EQ(corio_fd_close(fd), 0);
    writer_closed = 1;
    return rc;
}

int fault_part_pipe(void)
{
    corio_task *t = NULL;
    char buf[64];
    size_t got = 0;
    int fds[2], rc = 0, jr;
    ssize_t n;
    CHECK_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    writer_closed = 0;
    if ((rc = corio_spawn(writer, (void *)(intptr_t)fds[1], NULL, &t)) < 0) {
        prog_err(rc, "spawn writer");
        corio_fd_close(fds[1]);
        corio_fd_close(fds[0]);
        return rc;
    }
    while ((n = corio_read(fds[0], buf + got, sizeof buf - got)) > 0)
        got += (size_t)n;
    if (n < 0)
        rc = prog_err((int)n, "corio_read");
    CHECK_EQ(corio_fd_close(fds[0]), 0);
    jr = corio_task_join(t, NULL);
    fault_drop(t);
    if (!writer_closed)
        CHECK_EQ(corio_fd_close(fds[1]), 0);
    if (jr < 0 && jr != -EPIPE) {
        if (!rc)
            rc = prog_err(jr, "writer");
        else
            prog_err(jr, "writer");
    }
    if (!rc && !jr) {
        CHECK_EQ(got, sizeof msg);
        CHECK(memcmp(buf, msg, sizeof msg) == 0);
    }
    return rc;
}

/* ---- gather and wait --------------------------------------------------- */

int fault_part_gather(void)
{
    corio_task *t[3] = {NULL, NULL, NULL};
    corio_future *f[3];
    void *res[3];
    size_t ndone = 0;
    intptr_t i;
    int rc = 0, n = 0;
    for (i = 0; i < 3; i++, n++) {
        if ((rc = corio_spawn(fault_child_double, (void *)(i + 1), NULL, &t[i])) < 0) {
            prog_err(rc, "corio_spawn");
            break;
        }
        f[i] = corio_task_future(t[i]);
    }
    if (rc == 0) {
        rc = corio_gather(f, 3, 0, res, NULL);
        if (rc == 0)
            for (i = 0; i < 3; i++)
                CHECK_PTR(res[i], (void *)((i + 1) * 2));
        else
            prog_err(rc, "corio_gather");
    }
    if (rc == 0) {
        TRY(corio_wait(f, 3, CORIO_WAIT_ALL_COMPLETED, INFINITY, &ndone));
        CHECK_EQ(ndone, 3);
    }
out:
    for (i = 0; i < n; i++) {
        if (rc) { /* make sure nothing is left running or unretrieved */
            corio_task_cancel(t[i]);
            (void)corio_task_join(t[i], NULL);
        }
        fault_drop(t[i]);
    }
    return rc;
}


