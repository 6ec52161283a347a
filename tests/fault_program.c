/*
 * fault_program.c: the representative program of the out-of-memory
 * sweeps (fault_program.h). Every call's result is checked against what
 * it must be when nothing fails; an error goes through prog_err, which
 * accepts it only as a negative errno after a failed allocation.
 */
#include "fault_program.h"
#include "fault_alloc.h"
#include "fault_sys.h"
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

static int first_err; /* the first error a part saw */
static int nerr;      /* how many errors the parts saw */
static int rounds_, scale_;
static unsigned mask_;

/* Has a failure been injected that corio may report? */
static int fault_injected(void)
{
    return fault_alloc_failed() > 0 || fault_sys_failed_hard() > 0;
}

/* A call reported rc < 0 where success was due: it must be an error code
 * and an allocation must have failed. Returns rc. */
static int prog_err_at(int rc, const char *what, int line)
{
    if (rc >= 0)
        corio_test_fail(__FILE__, line, "%s: %d is not an error", what, rc);
    if (rc < -4095 && !(rc <= CORIO_EBASE && rc > CORIO_EBASE - 100))
        corio_test_fail(__FILE__, line, "%s: %d is not an errno", what, rc);
    if (!fault_injected())
        corio_test_fail(__FILE__, line, "%s failed (%s) with no fault "
                        "injected (EINTR must be retried)", what,
                        corio_errname(rc));
    if (getenv("CORIO_FAULT_VERBOSE"))
        fprintf(stderr, "fault_program.c:%d: %s: %s\n", line, what,
                corio_errname(rc));
    nerr++;
    if (!first_err)
        first_err = rc;
    return rc;
}
#define prog_err(rc, what) prog_err_at((rc), (what), __LINE__)

/* rc = expr; on an error record it and go to out. */
#define TRY(expr)                                                          \
    do {                                                                   \
        rc = (expr);                                                       \
        if (rc < 0) {                                                      \
            prog_err(rc, #expr);                                           \
            goto out;                                                      \
        }                                                                  \
    } while (0)

/* ---- coroutines by hand ------------------------------------------------ */

static int gen3(void *arg, void **result)
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
    TRY(corio_coro_new(gen3, NULL, &o, &a));
    TRY(corio_coro_new(gen3, NULL, &o, &b));
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

static int part_coro(void)
{
    corio_coro *co = NULL;
    void *v;
    intptr_t sum = 0;
    int rc;
    TRY(corio_coro_new(gen3, NULL, NULL, &co));
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

static int child_double(void *arg, void **result)
{
    int rc = corio_sleep(0);
    if (rc)
        return rc;
    *result = (void *)((intptr_t)arg * 2);
    return 0;
}

static int part_tasks(void)
{
    corio_task *t[3] = {NULL, NULL, NULL};
    intptr_t i;
    int rc = 0, n = 0;
    for (i = 0; i < 3; i++, n++)
        if ((rc = corio_spawn(child_double, (void *)i, NULL, &t[i])) < 0) {
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
        corio_task_release(t[i]);
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

static int part_group(void)
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

static int part_scope(void)
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

static int part_queue(void)
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
    corio_task_release(t);
    corio_queue_free(q);
    corio_queue_free(pq);
    return rc;
}

/* ---- topics ------------------------------------------------------------ */

static int part_topic(void)
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

static int gen_sleepy(void *arg, void **result)
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

static int part_agen(void)
{
    corio_agen *g = NULL;
    intptr_t i = 0;
    void *v;
    int rc;
    TRY(corio_agen_new(gen_sleepy, NULL, NULL, &g));
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

static corio_ctxvar *var;

static int read_var(void *arg, void **result)
{
    (void)arg;
    return corio_ctxvar_get(var, result);
}

static int set_var_3(void *arg)
{
    (void)arg;
    return corio_ctxvar_set(var, (void *)3, NULL);
}

static int part_ctxvar(void)
{
    corio_ctxvar_token *tok = NULL;
    corio_context *ctx = NULL;
    corio_task *t = NULL;
    void *v = NULL;
    int rc;
    TRY(corio_ctxvar_new("v", (void *)1, &var));
    TRY(corio_ctxvar_set(var, (void *)2, &tok));
    TRY(corio_spawn(read_var, NULL, NULL, &t));
    TRY(corio_task_join(t, &v));
    CHECK_PTR(v, (void *)2);
    TRY(corio_context_copy(&ctx));
    TRY(corio_context_run(ctx, set_var_3, NULL));
    CHECK_EQ(corio_context_get(ctx, var, &v), 0);
    CHECK_PTR(v, (void *)3);
    CHECK_EQ(corio_ctxvar_get(var, &v), 0);
    CHECK_PTR(v, (void *)2);
    TRY(corio_ctxvar_reset(tok));
    CHECK_EQ(corio_ctxvar_get(var, &v), 0);
    CHECK_PTR(v, (void *)1);
    rc = 0;
out:
    corio_task_release(t);
    corio_context_release(ctx);
    corio_ctxvar_token_free(tok);
    corio_ctxvar_free(var);
    var = NULL;
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

static int part_sync(void)
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
    corio_task_release(t);
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

static void cb_never(void *arg)
{
    (void)arg;
    CHECK(!"a cancelled timer ran");
}

static int part_timers(void)
{
    corio_loop *loop = corio_loop_current();
    corio_future *f = NULL, *g = NULL;
    corio_handle *h[3] = {NULL, NULL, NULL};
    void *v = NULL;
    int rc, i;
    TRY(corio_future_new(NULL, &f));
    TRY(corio_future_new(NULL, &g));
    TRY(corio_loop_call_later(loop, 3600, cb_never, NULL, &h[0]));
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

static int writer(void *arg, void **result)
{
    int fd = (int)(intptr_t)arg, rc;
    size_t w = 0;
    (void)result;
    rc = corio_write_all(fd, msg, sizeof msg, &w);
    CHECK_EQ(corio_fd_close(fd), 0);
    return rc;
}

static int part_pipe(void)
{
    corio_task *t = NULL;
    char buf[64];
    size_t got = 0;
    int fds[2], rc = 0, jr;
    ssize_t n;
    CHECK_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
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
    corio_task_release(t);
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

static int part_gather(void)
{
    corio_task *t[3] = {NULL, NULL, NULL};
    corio_future *f[3];
    void *res[3];
    size_t ndone = 0;
    intptr_t i;
    int rc = 0, n = 0;
    for (i = 0; i < 3; i++, n++) {
        if ((rc = corio_spawn(child_double, (void *)(i + 1), NULL, &t[i])) < 0) {
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
        corio_task_release(t[i]);
    }
    return rc;
}


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

static int part_many(void)
{
    int n = 8 * scale_, i, rc = 0, jr, nt = 0, np = 0, nv = 0;
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
        corio_task_release(rt[i]);
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
        corio_task_release(t[i]);
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

static int part_signal(void)
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
    corio_task_release(t);
    return rc;
}

/* ---- the rest: messages, callbacks, shields, iterators, conditions ------ */

static int forever(void *arg, void **result)
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
    TRY(corio_spawn(forever, NULL, NULL, &t));
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
    corio_task_release(t);
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
        if ((rc = corio_spawn(child_double, (void *)(i + 1), NULL, &t[i])) < 0) {
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
        corio_task_release(t[i]);
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
    corio_task_release(nt);
    corio_task_release(ct);
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
    if ((rc = corio_group_spawn(g, forever, NULL, NULL, NULL)) < 0)
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

static int part_misc(void)
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

/* ---- the program ------------------------------------------------------- */

static const struct {
    unsigned bit;
    int (*fn)(void);
} parts[] = {
    {PART_TASKS, part_tasks},   {PART_GROUP, part_group},
    {PART_SCOPE, part_scope},   {PART_QUEUE, part_queue},
    {PART_TOPIC, part_topic},   {PART_AGEN, part_agen},
    {PART_CTXVAR, part_ctxvar}, {PART_SYNC, part_sync},
    {PART_TIMERS, part_timers}, {PART_PIPE, part_pipe},
    {PART_GATHER, part_gather}, {PART_MANY, part_many},
    {PART_SIGNAL, part_signal}, {PART_MISC, part_misc},
};

static int main_body(void *arg, void **result)
{
    size_t i;
    int r, rc = 0;
    (void)arg;
    (void)result;
    for (r = 0; r < rounds_; r++)
        for (i = 0; i < sizeof parts / sizeof parts[0]; i++)
            if (mask_ & parts[i].bit) {
                int prc = parts[i].fn();
                if (prc < 0 && !rc)
                    rc = prc;
            }
    return rc;
}

int fault_program_run(unsigned mask, int rounds, int scale)
{
    int r, rc = 0, crc;
    first_err = 0;
    nerr = 0;
    rounds_ = rounds;
    scale_ = scale;
    mask_ = mask;
    signal(SIGPIPE, SIG_IGN);
    if (mask & PART_CORO)
        for (r = 0; r < rounds; r++)
            if ((crc = part_coro()) < 0 && !rc)
                rc = crc;
    if (mask & ~PART_CORO) {
        first_err = 0; /* what the loop's parts see, from here */
        nerr = 0;
        crc = corio_run(main_body, NULL, NULL);
        if (crc < 0 && first_err == 0)
            prog_err(crc, "corio_run"); /* corio_run's own failure */
        else if (crc >= 0)
            CHECK_EQ(crc, 0);
        /* An error a part saw must come out of corio_run. */
        if (nerr > 0 && crc >= 0)
            corio_test_fail(__FILE__, __LINE__, "a part saw %s but "
                            "corio_run returned %d", corio_errname(first_err),
                            crc);
        if (crc < 0 && !rc)
            rc = crc;
    }
    if (!fault_injected())
        CHECK_EQ(rc, 0);
    return rc;
}

/* ---- one child --------------------------------------------------------- */

/* LeakSanitizer's check, where there is one. */
extern void __lsan_do_leak_check(void) __attribute__((weak));

/* A child still running after this long is hung (it does milliseconds of
 * work; this only catches a lost wakeup). */
#define CHILD_LIMIT_S 30

static int full_size(void)
{
    const char *f = getenv("CORIO_FAULTS");
    return f && strcmp(f, "full") == 0;
}

static void child(unsigned mask, const struct fault_plan *p, int report_fd)
{
    long counts[FS_NFN + 1];
    int i;
    alarm(CHILD_LIMIT_S);
    fault_alloc_install();
    fault_alloc_fail_at(p->alloc_n, p->alloc_mode);
    fault_sys_reset();
    if (report_fd >= 0) /* count every call, fail none */
        for (i = 0; i < FS_NFN; i++)
            fault_sys_fail(i, LONG_MAX, 1, EIO);
    else if (p->sys_k > 0)
        fault_sys_fail(p->sys_fn, p->sys_k, 1, p->sys_err);
    (void)fault_program_run(mask, full_size() ? 3 : 1, full_size() ? 4 : 1);
    for (i = 0; i < FS_NFN; i++)
        counts[i] = fault_sys_calls(i);
    counts[FS_NFN] = fault_alloc_calls();
    fault_sys_reset();
    if (fault_alloc_live() != 0)
        corio_test_fail(__FILE__, __LINE__, "%ld blocks leaked",
                        fault_alloc_live());
    fault_alloc_uninstall();
    if (report_fd >= 0)
        CHECK_EQ(write(report_fd, counts, sizeof counts),
                 (ssize_t)sizeof counts);
    if (__lsan_do_leak_check)
        __lsan_do_leak_check();
    fflush(NULL);
    _exit(0);
}

static void describe(const struct fault_plan *p, char *buf, size_t n)
{
    static const char *const names[FS_NFN] = {
        "epoll_create1", "epoll_ctl", "epoll_wait", "poll", "read", "write",
        "accept4", "eventfd", "signalfd", "mmap", "mprotect"};
    if (p->sys_k > 0)
        snprintf(buf, n, "call %ld of %s failing with %s", p->sys_k,
                 names[p->sys_fn], corio_errname(-p->sys_err));
    else
        snprintf(buf, n, "allocation %ld failing %s", p->alloc_n,
                 p->alloc_mode == FAULT_ONCE ? "once" : "from then on");
}

void fault_program_child(unsigned mask, const struct fault_plan *plan,
                         long *counts)
{
    char what[128];
    int pfd[2] = {-1, -1}, st;
    pid_t pid;
    fflush(NULL);
    if (counts)
        CHECK_EQ(pipe(pfd), 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (counts)
            close(pfd[0]);
        child(mask, plan, pfd[1]);
    }
    if (counts) {
        size_t sz = (FS_NFN + 1) * sizeof *counts;
        close(pfd[1]);
        CHECK_EQ(read(pfd[0], counts, sz), (ssize_t)sz);
        close(pfd[0]);
    }
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    describe(plan, what, sizeof what);
    if (WIFSIGNALED(st))
        corio_test_fail(__FILE__, __LINE__, "%s: child died of signal %d%s",
                        what, WTERMSIG(st),
                        WTERMSIG(st) == SIGALRM ? " (hung)" : "");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        corio_test_fail(__FILE__, __LINE__, "%s: child exited %d", what,
                        WEXITSTATUS(st));
}
