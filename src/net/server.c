/*
 * server.c: corio_server (contract in corio/server.h).
 *
 * Tasks: one acceptor per listener, one per connection; the server holds
 * a handle on each. `alive` counts them all; when the server is closing
 * and alive drops to 0, `done` is set (corio_server_wait waits on it).
 *
 * States: RUNNING -> CLOSING (corio_server_close: listeners closed,
 * acceptors cancelled, idle reads woken, grace timer armed) -> DONE
 * (alive == 0). corio_server_free only in DONE (or never started).
 *
 * Accepting: an acceptor waits on `room` while max_connections are open,
 * and backs off on descriptor exhaustion (a move-on scope around a wait
 * on `room`: a connection ending cuts the back-off short). Every
 * connection that ends sets `room`.
 *
 * The handler's task runs conn_main: handler, then close the stream
 * (its flush bounded by the grace timer's cancel once closing), then
 * unlink. It always returns 0: a failure is the server's to record, not
 * the task's (nobody joins it).
 */
#include "alloc.h"
#include "list.h"
#include "net/stream_impl.h"

#include <corio/future.h>
#include <corio/io.h>
#include <corio/loop.h>
#include <corio/scope.h>
#include <corio/server.h>
#include <corio/sync.h>
#include <corio/task.h>
#include <corio/tls.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BACKOFF_MIN 0.01
#define BACKOFF_MAX 1.0

struct conn {
    corio__node node;
    struct corio_server *srv;
    corio_stream *st;
    corio_task *task;
};

struct acceptor {
    struct corio_server *srv;
    int fd;
    corio_task *task;
};

struct corio_server {
    corio_loop *loop;
    struct acceptor *acc;
    size_t nacc;
    corio_server_handler handler;
    void *arg;
    size_t max;
    corio_stream_opts sopts;
    int has_sopts;
    int quiet;
    corio_tls_ctx *tls;
    corio_task_opts topts;
    int has_topts;
    corio__list conns;
    size_t alive;
    int closing, done;
    int orphan; /* corio_server_new failed halfway: free when alive == 0 */
    corio_handle *grace;
    corio_event *room, *done_ev;
    corio_server_stats st;
    int errs[CORIO_SERVER_ERRORS];
};

static void server_free(struct corio_server *s);

static void maybe_done(struct corio_server *s)
{
    if (s->closing && s->alive == 0 && !s->done) {
        s->done = 1;
        if (s->orphan)
            server_free(s);
        else
            corio_event_set(s->done_ev);
    }
}

static void record_failure(struct corio_server *s, int rc)
{
    if (s->st.failures < CORIO_SERVER_ERRORS)
        s->errs[s->st.failures] = rc;
    s->st.failures++;
    if (!s->quiet)
        fprintf(stderr, "corio server: connection handler failed: %s (%s)\n",
                corio_errname(rc), corio_strerror(rc));
}

static int conn_main(void *arg, void **result)
{
    struct conn *c = arg;
    struct corio_server *s = c->srv;
    corio_stream *st = c->st;
    int rc;
    (void)result;
    rc = s->tls ? corio_stream_start_tls(st, s->tls, NULL) : 0;
    if (rc == 0)
        rc = s->handler(st, s->arg);
    if (rc < 0 && rc != CORIO_ESHUTTING &&
        !(rc == -ECANCELED && s->closing))
        record_failure(s, rc);
    c->st = NULL;
    corio_stream_close(st); /* flushes; the grace timer's cancel bounds it */
    return 0;
}

/* When a connection's task has ended, whether its body ran or not (a task
 * cancelled before its first step never runs it). */
static void conn_done(corio_future *f, void *arg)
{
    struct conn *c = arg;
    struct corio_server *s = c->srv;
    (void)f;
    if (c->st)
        corio_stream_close(c->st); /* nothing written: never waits */
    corio__list_remove(&s->conns, &c->node);
    s->st.open--;
    corio_task_release(c->task);
    corio__free(c);
    corio_event_set(s->room);
    s->alive--;
    maybe_done(s);
}

static void acceptor_done(corio_future *f, void *arg)
{
    struct corio_server *s = arg;
    (void)f;
    s->alive--;
    maybe_done(s);
}

/* Wait on room for at most `seconds` (or for ever, seconds < 0). 0 or
 * -ECANCELED (from outside: the server closing). */
static int wait_room(struct corio_server *s, double seconds)
{
    corio_scope *sc;
    int rc;
    corio_event_clear(s->room);
    if (seconds < 0)
        return corio_event_wait(s->room);
    if ((rc = corio_scope_move_on_after(seconds, &sc)) != 0)
        return corio_sleep(seconds); /* no memory for a scope */
    rc = corio_event_wait(s->room);
    return corio_scope_close(sc, rc);
}

static int start_conn(struct corio_server *s, int fd)
{
    struct conn *c = corio__calloc(1, sizeof *c);
    int rc;
    if (!c)
        return -ENOMEM;
    c->srv = s;
    if ((rc = corio_stream_new(fd, s->has_sopts ? &s->sopts : NULL,
                               &c->st)) != 0) {
        corio__free(c);
        return rc;
    }
    if ((rc = corio_spawn(conn_main, c, s->has_topts ? &s->topts : NULL,
                          &c->task)) != 0 ||
        (rc = corio_future_add_done_callback(corio_task_future(c->task),
                                             conn_done, c)) != 0) {
        if (c->task) {
            corio_task_cancel(c->task); /* never started: never runs */
            corio_task_release(c->task);
        }
        corio_stream_close(c->st); /* never written: closes at once */
        corio__free(c);
        return rc;
    }
    corio__list_push_back(&s->conns, &c->node);
    s->alive++;
    s->st.open++;
    s->st.accepted++;
    if (s->closing) /* spawned while closing: it is idle by nature */
        corio__stream_shutdown_idle(c->st);
    return 0;
}

static int acceptor_main(void *arg, void **result)
{
    struct acceptor *a = arg;
    struct corio_server *s = a->srv;
    double backoff = BACKOFF_MIN;
    int fd;
    (void)result;
    while (!s->closing) {
        if (s->max && s->st.open >= s->max) {
            if (wait_room(s, -1) != 0)
                break;
            continue;
        }
        fd = corio_accept(a->fd, NULL, NULL);
        if (fd >= 0) {
            backoff = BACKOFF_MIN;
            if (start_conn(s, fd) != 0)
                corio_fd_close(fd); /* no memory: drop this client */
            continue;
        }
        if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS ||
            fd == -ENOMEM) {
            s->st.backoffs++;
            if (wait_room(s, backoff) != 0)
                break;
            backoff = backoff * 2 < BACKOFF_MAX ? backoff * 2 : BACKOFF_MAX;
            continue;
        }
        if (fd == -ECANCELED || fd == -EBADF || s->closing)
            break;
        /* Anything else (a firewall's EPERM, a protocol error): back off
         * too rather than spin. */
        s->st.backoffs++;
        if (wait_room(s, backoff) != 0)
            break;
    }
    return 0; /* acceptor_done counts it out */
}

int corio_server_new(const int *fds, size_t n, corio_server_handler handler,
                     void *arg, const corio_server_opts *opts,
                     corio_server **out)
{
    struct corio_server *s;
    size_t i;
    int rc;
    if (!fds || !n || !handler || !out)
        return -EINVAL;
    for (i = 0; i < n; i++)
        if (fds[i] < 0)
            return -EINVAL;
    if (!corio_loop_current())
        return CORIO_ENOTASK;
    s = corio__calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->acc = corio__calloc(n, sizeof *s->acc);
    rc = -ENOMEM;
    if (!s->acc || corio_event_new(&s->room) != 0 ||
        corio_event_new(&s->done_ev) != 0)
        goto fail;
    s->loop = corio_loop_current();
    s->handler = handler;
    s->arg = arg;
    if (opts) {
        s->max = opts->max_connections;
        s->quiet = opts->quiet;
        s->tls = opts->tls;
        if (opts->task) {
            s->topts = *opts->task;
            s->topts.name = NULL; /* the caller's string may not last */
            s->has_topts = 1;
        }
        if (opts->stream) {
            s->sopts = *opts->stream;
            s->has_sopts = 1;
        }
    }
    corio__list_init(&s->conns);
    for (i = 0; i < n; i++)
        if ((rc = corio_fd_nonblock(fds[i])) != 0)
            goto fail;
    for (i = 0; i < n; i++) {
        s->acc[i].srv = s;
        s->acc[i].fd = fds[i];
        if ((rc = corio_spawn(acceptor_main, &s->acc[i], NULL,
                              &s->acc[i].task)) != 0)
            break;
        if ((rc = corio_future_add_done_callback(
                 corio_task_future(s->acc[i].task), acceptor_done, s)) != 0) {
            corio_task_cancel(s->acc[i].task); /* never runs */
            corio_task_release(s->acc[i].task);
            break;
        }
        s->nacc++;
        s->alive++;
    }
    if (s->nacc == n) {
        *out = s;
        return 0;
    }
    if (s->nacc) {
        /* Out of memory halfway: the acceptors started are cancelled
         * before their first step; the last one's end frees s. The
         * descriptors stay the caller's. */
        s->closing = 1;
        s->orphan = 1;
        for (i = 0; i < s->nacc; i++)
            corio_task_cancel(s->acc[i].task);
        return rc;
    }
fail:
    if (s->room)
        corio_event_free(s->room);
    if (s->done_ev)
        corio_event_free(s->done_ev);
    corio__free(s->acc);
    corio__free(s);
    return rc;
}

int corio_tcp_server(const char *host, int port,
                     const corio_listen_opts *lopts,
                     corio_server_handler handler, void *arg,
                     const corio_server_opts *opts, corio_server **out)
{
    int fds[16];
    size_t n = 0, i;
    int rc;
    if (!handler || !out)
        return -EINVAL;
    if ((rc = corio_tcp_listen(host, port, lopts, fds, 16, &n)) != 0)
        return rc;
    if ((rc = corio_server_new(fds, n, handler, arg, opts, out)) != 0)
        for (i = 0; i < n; i++)
            corio_fd_close(fds[i]);
    return rc;
}

int corio_server_port(const corio_server *s)
{
    if (!s)
        return -EINVAL;
    if (s->closing)
        return -EBADF;
    return corio_sock_port(s->acc[0].fd);
}

static void grace_expired(void *arg)
{
    struct corio_server *s = arg;
    corio__node *n;
    corio_handle_release(s->grace);
    s->grace = NULL;
    for (n = corio__list_first(&s->conns); n; n = n->next)
        corio_task_cancel(CORIO__CONTAINER(n, struct conn, node)->task);
}

int corio_server_close(corio_server *s, double grace)
{
    corio__node *n;
    size_t i;
    int rc;
    if (!s || isnan(grace))
        return -EINVAL;
    if (s->closing) {
        if (grace <= 0) { /* force: cancel what the grace period spares */
            if (s->grace) {
                corio_handle_cancel(s->grace);
                corio_handle_release(s->grace);
                s->grace = NULL;
            }
            for (n = corio__list_first(&s->conns); n; n = n->next)
                corio_task_cancel(
                    CORIO__CONTAINER(n, struct conn, node)->task);
        }
        return 0;
    }
    if (grace > 0 && !isinf(grace) && !corio__list_empty(&s->conns)) {
        rc = corio_loop_call_later(s->loop, grace, grace_expired, s,
                                   &s->grace);
        if (rc)
            return rc;
    }
    s->closing = 1;
    for (i = 0; i < s->nacc; i++) {
        corio_fd_close(s->acc[i].fd); /* wakes an accept with -EBADF */
        if (!corio_task_done(s->acc[i].task))
            corio_task_cancel(s->acc[i].task); /* in a back-off */
    }
    for (n = corio__list_first(&s->conns); n; n = n->next) {
        struct conn *c = CORIO__CONTAINER(n, struct conn, node);
        if (c->st) /* NULL: its handler is over, the stream closed */
            corio__stream_shutdown_idle(c->st);
    }
    if (grace <= 0)
        for (n = corio__list_first(&s->conns); n; n = n->next)
            corio_task_cancel(CORIO__CONTAINER(n, struct conn, node)->task);
    maybe_done(s);
    return 0;
}

int corio_server_wait(corio_server *s)
{
    if (!s)
        return -EINVAL;
    if (!corio_task_current())
        return CORIO_ENOTASK;
    return corio_event_wait(s->done_ev);
}

int corio_server_stats_get(const corio_server *s, corio_server_stats *st)
{
    if (!s || !st)
        return -EINVAL;
    *st = s->st;
    return 0;
}

int corio_server_error(const corio_server *s, size_t i)
{
    if (!s || i >= s->st.failures || i >= CORIO_SERVER_ERRORS)
        return 0;
    return s->errs[i];
}

static void server_free(struct corio_server *s)
{
    size_t i;
    if (s->grace) {
        corio_handle_cancel(s->grace);
        corio_handle_release(s->grace);
    }
    for (i = 0; i < s->nacc; i++)
        corio_task_release(s->acc[i].task);
    corio_event_free(s->room);
    corio_event_free(s->done_ev);
    corio__free(s->acc);
    corio__free(s);
}

int corio_server_free(corio_server *s)
{
    if (!s)
        return 0;
    if (!s->done)
        return -EBUSY;
    server_free(s);
    return 0;
}
