/*
 * fault_parts_more.c: the parts of the sweep program (fault_program.h)
 * that grow tables (many tasks, descriptors, variables), wait for
 * signals, use the rest of the API (cancel messages, done callbacks,
 * shields, iterators, conditions, queue joins, stopped groups, barriers,
 * nested scopes, contexts, unfinished generators, a loop run by hand) and
 * sockets. What they share is in fault_parts.h.
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

/* ---- many of everything: tables grow ----------------------------------- */

struct reader_arg {
    int fd;
    char got;
};

static int reader(void *arg, void **result)
{
    struct reader_arg *r = arg;
    ssize_t n;
    (void)result;
    n = corio_read(r->fd, &r->got, 1);
    return n == 1 ? 0 : n < 0 ? (int)n : -EPROTO;
}

static int sleeper(void *arg, void **result)
{
    intptr_t i = (intptr_t)arg;
    int rc = corio_sleep((double)(i % 7) * 1e-4);
    if (rc)
        return rc;
    *result = arg;
    return 0;
}

int fault_part_many(void)
{
    int n = 8 * fault_scale, i, rc = 0, jr, nt = 0, np = 0, nv = 0;
    corio_task **t = calloc((size_t)n, sizeof *t);
    corio_task **rt = calloc((size_t)n, sizeof *rt);
    corio_ctxvar **vars = calloc((size_t)n, sizeof *vars);
    struct reader_arg *ra = calloc((size_t)n, sizeof *ra);
    int (*fds)[2] = calloc((size_t)n, sizeof *fds);
    CHECK(t && rt && vars && ra && fds);
    /* Timers at distinct times: the timer heap grows. */
    for (; nt < n; nt++)
        if ((rc = corio_spawn(sleeper, (void *)(intptr_t)nt, NULL, &t[nt])) < 0) {
            prog_err(rc, "spawn sleeper");
            break;
        }
    /* Descriptors: the fd table and the poller's tables grow. */
    for (; rc == 0 && np < n; np++) {
        CHECK_EQ(pipe2(fds[np], O_NONBLOCK | O_CLOEXEC), 0);
        ra[np].fd = fds[np][0];
        if ((rc = corio_spawn(reader, &ra[np], NULL, &rt[np])) < 0) {
            prog_err(rc, "spawn reader");
            close(fds[np][0]);
            close(fds[np][1]);
            break;
        }
    }
    /* Variables: the context's map grows. */
    for (; rc == 0 && nv < n; nv++) {
        if ((rc = corio_ctxvar_new("many", NULL, &vars[nv])) < 0 ||
            (rc = corio_ctxvar_set(vars[nv], (void *)(intptr_t)(nv + 1),
                                   NULL)) < 0) {
            prog_err(rc, "ctxvar");
            corio_ctxvar_free(vars[nv]);
            break;
        }
    }
    if (rc == 0)
        rc = corio_sleep(0); /* the readers wait now */
    for (i = 0; i < np; i++) {
        ssize_t w = rc == 0 ? corio_write(fds[i][1], "x", 1) : -1;
        if (rc == 0 && w != 1)
            rc = prog_err((int)w, "corio_write");
        if (rc)
            corio_task_cancel(rt[i]);
    }
    for (i = 0; i < nv; i++) {
        void *v;
        CHECK_EQ(corio_ctxvar_get(vars[i], &v), 0);
        CHECK_PTR(v, (void *)(intptr_t)(i + 1));
    }
    for (i = 0; i < np; i++) {
        jr = corio_task_join(rt[i], NULL);
        if (jr == 0)
            CHECK_EQ(ra[i].got, 'x');
        else if (!rc)
            rc = prog_err(jr, "reader");
        fault_drop(rt[i]);
        CHECK_EQ(corio_fd_close(fds[i][0]), 0);
        CHECK_EQ(corio_fd_close(fds[i][1]), 0);
    }
    for (i = 0; i < nt; i++) {
        void *r = NULL;
        jr = corio_task_join(t[i], &r);
        if (jr == 0)
            CHECK_PTR(r, (void *)(intptr_t)i);
        else if (!rc)
            rc = prog_err(jr, "sleeper");
        fault_drop(t[i]);
    }
    for (i = 0; i < nv; i++)
        corio_ctxvar_free(vars[i]);
    free(t);
    free(rt);
    free(vars);
    free(ra);
    free(fds);
    return rc;
}

/* ---- signals ----------------------------------------------------------- */

static void on_usr1(int signo)
{
    (void)signo;
}

static int sig_waiter(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_signal_wait(SIGUSR1);
}

int fault_part_signal(void)
{
    struct sigaction sa;
    corio_task *t = NULL;
    int rc, jr;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* if nobody waits, the signal is harmless */
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    TRY(corio_spawn(sig_waiter, NULL, NULL, &t));
    rc = corio_sleep(0); /* the waiter waits now */
    if (rc < 0) {
        prog_err(rc, "corio_sleep");
        corio_task_cancel(t);
    } else {
        CHECK_EQ(raise(SIGUSR1), 0);
    }
    jr = corio_task_join(t, NULL);
    if (jr < 0 && !rc)
        rc = prog_err(jr, "signal waiter");
out:
    fault_drop(t);
    return rc;
}

/* ---- the rest: messages, callbacks, shields, iterators, conditions ------ */

int fault_forever(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_sleep(3600);
}

static void count_cb(corio_future *f, void *arg)
{
    (void)f;
    (*(int *)arg)++;
}

/* Resolves the future misc_futures waits for, if it still does (a
 * callback still queued when the loop is freed is dropped, unrun). */
static corio_future *pending_h;

static void resolve_cb(void *arg)
{
    (void)arg;
    if (pending_h)
        CHECK_EQ(corio_future_set_result(pending_h, (void *)9), 0);
}

struct cond_kit {
    corio_lock *lk;
    corio_cond *c;
    int flag;
};

static int flag_set(void *arg)
{
    return ((struct cond_kit *)arg)->flag;
}

static int notifier(void *arg, void **result)
{
    struct cond_kit *k = arg;
    int rc;
    (void)result;
    if ((rc = corio_lock_acquire(k->lk)) != 0)
        return rc;
    k->flag = 1;
    rc = corio_cond_notify_all(k->c);
    CHECK_EQ(corio_lock_release(k->lk), 0);
    return rc < 0 ? rc : 0; /* how many it woke */
}

static int consumer(void *arg, void **result)
{
    corio_queue *q = arg;
    void *v;
    int i, rc;
    (void)result;
    for (i = 0; i < 3; i++) {
        if ((rc = corio_queue_get(q, &v)) != 0)
            return rc;
        CHECK_EQ(corio_queue_task_done(q), 0);
    }
    return 0;
}

static int misc_cancel_msg(void)
{
    corio_task *t = NULL;
    int rc, cr, jr;
    TRY(corio_spawn(fault_forever, NULL, NULL, &t));
    TRY(corio_sleep(0));
    cr = corio_task_cancel_msg(t, "stop now");
    if (cr < 0)
        prog_err(cr, "corio_task_cancel_msg"); /* the cancel stands */
    jr = corio_task_join(t, NULL);
    if (jr == -ECANCELED) {
        if (cr == 0)
            CHECK(strcmp(corio_task_cancel_message(t), "stop now") == 0);
        rc = cr;
    } else {
        rc = prog_err(jr, "cancelled task");
    }
out:
    if (rc && t && !corio_task_done(t)) {
        corio_task_cancel(t);
        (void)corio_task_join(t, NULL);
    }
    fault_drop(t);
    return rc;
}

static int misc_futures(void)
{
    static int calls; /* count_cb may run after this returns */
    corio_future *f = NULL, *outer = NULL, *h = NULL;
    int rc;
    calls = 0;
    void *v = NULL;
    TRY(corio_future_new(NULL, &f));
    TRY(corio_future_add_done_callback(f, count_cb, &calls));
    TRY(corio_future_shield(f, &outer));
    TRY(corio_future_new(NULL, &h));
    pending_h = h;
    TRY(corio_loop_call_soon_threadsafe(corio_loop_current(), resolve_cb,
                                        NULL));
    TRY(corio_future_await(h, &v));
    CHECK_PTR(v, (void *)9);
    CHECK_EQ(corio_future_set_result(f, (void *)4), 0);
    TRY(corio_future_await(outer, &v));
    CHECK_PTR(v, (void *)4);
    TRY(corio_sleep(0)); /* done callbacks run soon, not at once */
    CHECK_EQ(calls, 1);
    rc = 0;
out:
    if (f) /* corio holds the shield's link until f or outer is done */
        corio_future_cancel(f);
    pending_h = NULL;
    corio_future_release(f);
    corio_future_release(outer);
    corio_future_release(h);
    return rc;
}

static int misc_iterators(void)
{
    corio_task *t[3] = {NULL, NULL, NULL};
    corio_future *f[3], *gf = NULL, *done;
    corio_as_completed *it = NULL;
    void *res[3];
    intptr_t i, seen = 0;
    int rc = 0, n = 0;
    for (i = 0; i < 3; i++, n++) {
        if ((rc = corio_spawn(fault_child_double, (void *)(i + 1), NULL, &t[i])) < 0) {
            prog_err(rc, "corio_spawn");
            goto out;
        }
        f[i] = corio_task_future(t[i]);
    }
    TRY(corio_as_completed_new(f, 3, INFINITY, &it));
    while ((rc = corio_as_completed_next(it, &done)) == 0) {
        void *r;
        CHECK_EQ(corio_future_result(done, &r), 0);
        seen += (intptr_t)r;
    }
    if (rc != CORIO_END) {
        prog_err(rc, "corio_as_completed_next");
        goto out;
    }
    CHECK_EQ(seen, 12);
    TRY(corio_gather_start(f, 3, 0, &gf));
    TRY(corio_future_await(gf, NULL));
    TRY(corio_gather_result(gf, res, NULL));
    for (i = 0; i < 3; i++)
        CHECK_PTR(res[i], (void *)((i + 1) * 2));
    rc = 0;
out:
    corio_as_completed_free(it);
    corio_future_release(gf);
    for (i = 0; i < n; i++) {
        if (rc) {
            corio_task_cancel(t[i]);
            (void)corio_task_join(t[i], NULL);
        }
        fault_drop(t[i]);
    }
    return rc;
}

static int misc_cond_queue(void)
{
    struct cond_kit k = {NULL, NULL, 0};
    corio_queue *q = NULL;
    corio_task *nt = NULL, *ct = NULL;
    intptr_t i;
    int rc;
    TRY(corio_lock_new(&k.lk));
    TRY(corio_cond_new(k.lk, &k.c));
    TRY(corio_lock_acquire(k.lk));
    rc = corio_spawn(notifier, &k, NULL, &nt);
    if (rc == 0)
        rc = corio_cond_wait_for(k.c, flag_set, &k);
    CHECK_EQ(corio_lock_release(k.lk), 0);
    if (rc) {
        prog_err(rc, "condition");
        goto out;
    }
    TRY(corio_task_join(nt, NULL));
    TRY(corio_queue_new(CORIO_QUEUE_LIFO, 0, &q));
    TRY(corio_spawn(consumer, q, NULL, &ct));
    for (i = 1; i <= 3; i++)
        TRY(corio_queue_put(q, (void *)i));
    TRY(corio_queue_join(q));
    TRY(corio_task_join(ct, NULL));
out:
    if (nt && !corio_task_done(nt)) { /* it holds no lock: it waits for it */
        corio_task_cancel(nt);
        (void)corio_task_join(nt, NULL);
    }
    if (ct && !corio_task_done(ct)) {
        corio_task_cancel(ct);
        (void)corio_task_join(ct, NULL);
    }
    fault_drop(nt);
    fault_drop(ct);
    corio_queue_free(q);
    corio_cond_free(k.c);
    corio_lock_free(k.lk);
    return rc;
}

static int misc_group_stop(void)
{
    corio_group *g = NULL;
    int rc, body = 0, wrc;
    TRY(corio_group_open(&g));
    if ((rc = corio_group_spawn(g, fault_forever, NULL, NULL, NULL)) < 0)
        body = prog_err(rc, "corio_group_spawn");
    else if ((rc = corio_group_stop(g, 0.001)) < 0) {
        body = prog_err(rc, "corio_group_stop");
        corio_group_cancel(g);
    }
    wrc = corio_group_wait(g, body);
    if (body)
        CHECK(wrc < 0);
    else if (wrc != 0)
        rc = prog_err(wrc, "stopped group");
    rc = body ? body : wrc;
out:
    corio_group_free(g);
    return rc;
}

int fault_part_misc(void)
{
    int (*const fns[])(void) = {misc_cancel_msg, misc_futures,
                                misc_iterators, misc_cond_queue,
                                misc_group_stop};
    size_t i;
    int rc = 0;
    for (i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        int r = fns[i]();
        if (r < 0 && !rc)
            rc = r;
    }
    return rc;
}


/* ---- extras: barriers, nested scopes, waits, contexts, loose ends ------- */

static int barrier_party(void *arg, void **result)
{
    int rc = corio_barrier_wait(arg);
    (void)result;
    return rc < 0 ? rc : 0;
}

static int extra_barrier(void)
{
    corio_barrier *b = NULL;
    corio_task *t = NULL;
    int rc, jr;
    TRY(corio_barrier_new(2, &b));
    TRY(corio_spawn(barrier_party, b, NULL, &t));
    rc = corio_barrier_wait(b);
    if (rc < 0) {
        prog_err(rc, "corio_barrier_wait");
        corio_barrier_abort(b);
    } else {
        CHECK(rc == 0 || rc == 1);
        rc = 0;
    }
    jr = corio_task_join(t, NULL);
    if (jr < 0 && !rc)
        rc = prog_err(jr, "barrier party");
out:
    fault_drop(t);
    if (b)
        CHECK_EQ(corio_barrier_free(b), 0);
    return rc;
}

static int extra_scopes(void)
{
    corio_scope *outer = NULL, *inner = NULL;
    int rc;
    TRY(corio_scope_timeout(3600, &outer));
    rc = corio_scope_move_on_after(3600, &inner);
    if (rc < 0) {
        prog_err(rc, "inner scope");
        CHECK_EQ(corio_scope_close(outer, rc), rc);
        return rc;
    }
    rc = corio_scope_reschedule(inner, corio_loop_time(NULL) + 0.001);
    if (rc == 0)
        rc = corio_sleep(3600);
    rc = corio_scope_close(inner, rc); /* moved on: 0 */
    rc = corio_scope_close(outer, rc);
    if (rc < 0)
        prog_err(rc, "nested scopes");
out:
    return rc;
}

static int extra_wait_timeout(void)
{
    corio_future *f[2] = {NULL, NULL};
    size_t ndone = 9;
    void *v = NULL;
    int rc;
    TRY(corio_future_new(NULL, &f[0]));
    TRY(corio_future_new(NULL, &f[1]));
    TRY(corio_wait(f, 2, CORIO_WAIT_FIRST_COMPLETED, 0.001, &ndone));
    CHECK_EQ(ndone, 0);
    CHECK_EQ(corio_future_set_result(f[1], (void *)6), 0);
    TRY(corio_wait(f, 2, CORIO_WAIT_FIRST_COMPLETED, INFINITY, &ndone));
    CHECK_EQ(ndone, 1);
    TRY(corio_wait_for(f[1], 3600, &v));
    CHECK_PTR(v, (void *)6);
    rc = 0;
out:
    corio_future_release(f[0]);
    corio_future_release(f[1]);
    return rc;
}

static int extra_spawn_in_ctx(void)
{
    corio_context *ctx = NULL;
    corio_task *t = NULL;
    void *v = NULL;
    int rc;
    TRY(corio_ctxvar_new("x", (void *)1, &fault_var));
    TRY(corio_context_copy(&ctx));
    TRY(corio_spawn_in_ctx(ctx, fault_read_var, NULL, NULL, &t));
    TRY(corio_task_join(t, &v));
    CHECK_PTR(v, (void *)1);
    rc = 0;
out:
    fault_drop(t);
    corio_context_release(ctx);
    corio_ctxvar_free(fault_var);
    fault_var = NULL;
    return rc;
}

/* A generator left suspended is closed by whoever frees it, or by
 * corio_run's shutdown. */
static int extra_agen_unfinished(void)
{
    corio_agen *g = NULL;
    void *v;
    int rc;
    TRY(corio_agen_new(fault_gen_sleepy, NULL, NULL, &g));
    TRY(corio_agen_next(g, &v));
    CHECK_PTR(v, (void *)0);
    rc = 0;
out:
    if (g)
        CHECK_EQ(corio_agen_free(g), 0);
    return rc;
}

int fault_part_extra(void)
{
    int (*const fns[])(void) = {extra_barrier, extra_scopes,
                                extra_wait_timeout, extra_spawn_in_ctx,
                                extra_agen_unfinished};
    size_t i;
    int rc = 0;
    for (i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        int r = fns[i]();
        if (r < 0 && !rc)
            rc = r;
    }
    return rc;
}

/* A loop made and run by hand, left with work when it is freed. */
static corio_loop *hand_loop;

static int hand_main(void *arg, void **result)
{
    corio_task *t;
    int rc;
    (void)arg;
    (void)result;
    rc = corio_spawn(fault_forever, NULL, NULL, &t); /* abandoned at free */
    if (rc == 0)
        corio_task_release(t); /* left running: abandoned at the free */
    corio_loop_stop(hand_loop);
    return rc;
}

int fault_part_hand_loop(void)
{
    corio_task *t = NULL;
    int rc;
    TRY(corio_loop_new(NULL, &hand_loop));
    TRY(corio_loop_spawn(hand_loop, hand_main, NULL, NULL, &t));
    TRY(corio_loop_call_later(hand_loop, 3600, fault_cb_never, NULL, NULL));
    TRY(corio_loop_run(hand_loop));
    CHECK(corio_task_done(t));
    TRY(corio_task_result(t, NULL));
    rc = 0;
out:
    corio_task_release(t);
    if (hand_loop)
        CHECK_EQ(corio_loop_free(hand_loop), 0);
    hand_loop = NULL;
    return rc;
}


/* ---- sockets: accept and connect --------------------------------------- */

static int lfd_open; /* the listener: the server closes it on failure */

static int server(void *arg, void **result)
{
    int lfd = (int)(intptr_t)arg, s, rc = 0;
    char c;
    ssize_t n;
    (void)result;
    if ((s = corio_accept(lfd, NULL, NULL)) < 0) {
        /* A server that gives up closes its listener, which resets the
         * connection it left queued: the client hears of it. */
        CHECK_EQ(corio_fd_close(lfd), 0);
        lfd_open = 0;
        return s;
    }
    if ((n = corio_read(s, &c, 1)) != 1)
        rc = n < 0 ? (int)n : -EPROTO;
    else if ((n = corio_write(s, "s", 1)) != 1)
        rc = n < 0 ? (int)n : -EPROTO;
    CHECK_EQ(corio_fd_close(s), 0);
    return rc;
}

int fault_part_socket(void)
{
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    corio_task *t = NULL;
    int lfd, cfd = -1, rc, jr;
    ssize_t n;
    char c = 0;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX; /* autobind: an abstract name of its own */
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(lfd >= 0);
    CHECK_EQ(bind(lfd, (struct sockaddr *)&a, sizeof(sa_family_t)), 0);
    CHECK_EQ(listen(lfd, 4), 0);
    CHECK_EQ(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    lfd_open = 1;
    cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(cfd >= 0);
    TRY(corio_spawn(server, (void *)(intptr_t)lfd, NULL, &t));
    TRY(corio_connect(cfd, (struct sockaddr *)&a, len));
    if ((n = corio_write(cfd, "c", 1)) != 1) {
        rc = prog_err(n < 0 ? (int)n : -EPROTO, "corio_write");
        goto out;
    }
    if ((n = corio_read(cfd, &c, 1)) != 1) { /* 0: reset by the server */
        rc = prog_err(n < 0 ? (int)n : -EPROTO, "corio_read");
        goto out;
    }
    CHECK_EQ(c, 's');
    rc = 0;
out:
    CHECK_EQ(corio_fd_close(cfd), 0); /* the server sees the end */
    if (t) {
        jr = corio_task_join(t, NULL);
        if (jr < 0 && !rc)
            rc = prog_err(jr, "server");
    }
    fault_drop(t);
    if (lfd_open)
        CHECK_EQ(corio_fd_close(lfd), 0);
    return rc;
}


/* ---- threads: the pool, and calls back into the loop -------------------- */

static int work_double(void *arg, void **result)
{
    *result = (void *)((intptr_t)arg * 2);
    return 0;
}

/* On a pool thread: run a task on the loop and wait for its outcome. */
static int work_xcall(void *arg, void **result)
{
    corio_xcall *h;
    int rc = corio_run_coroutine_threadsafe(arg, fault_child_double,
                                            (void *)5, &h);
    if (rc)
        return rc;
    rc = corio_xcall_wait(h, INFINITY, result);
    corio_xcall_release(h);
    return rc;
}

int fault_part_thread(void)
{
    corio_to_thread_opts wait = {CORIO_LANE_USER, CORIO_CANCEL_WAIT, NULL};
    void *r = NULL;
    int rc;
    TRY(corio_to_thread(work_double, (void *)21, &r));
    CHECK_PTR(r, (void *)42);
    /* It waits for the loop: a cancel must wait for it in turn, or the
     * loop's end would have to abandon it (after the pool's grace). */
    TRY(corio_to_thread_with(work_xcall, corio_loop_current(), &wait, &r));
    CHECK_PTR(r, (void *)10);
out:
    return rc;
}
