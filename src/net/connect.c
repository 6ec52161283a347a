/*
 * connect.c: corio_tcp_connect, Happy Eyeballs (RFC 8305; contract in
 * corio/net.h).
 *
 * The addresses are reordered to alternate families, starting with the
 * family of the resolver's first answer. Attempts are non-blocking
 * connects gathered in one mux (mux.h): the task waits for any of them
 * to become writable, or for the attempt timer. A new attempt starts
 * when the timer fires or when an attempt fails and nothing else is in
 * flight... or when every attempt in flight has failed. The first socket
 * whose connect completes without error wins; every other one is closed
 * with close(2) (none was ever registered with the loop). The winner is
 * returned never having been registered either.
 *
 * State per attempt: fd >= 0 while in flight, -1 before and after.
 * Invariant: inflight == number of attempts with fd >= 0.
 */
#include "alloc.h"
#include "net/mux.h"
#include "net/net_impl.h"

#include <corio/net.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct he {
    const struct addrinfo **addr; /* interleaved order */
    int *fd;
    size_t n, next, inflight;
    int last_err;
    corio__mux mux;
};

/* Alternate families: A1 B1 A2 B2 ..., A being the first answer's. */
static int interleave(const struct addrinfo *res, struct he *h)
{
    const struct addrinfo *a;
    size_t n = 0, i = 0, j;
    const struct addrinfo **fa, **fb;
    size_t na = 0, nb = 0, ia = 0, ib = 0;
    int first;
    for (a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET || a->ai_family == AF_INET6)
            n++;
    if (!n)
        return CORIO_ENOADDRESS;
    h->addr = corio__calloc(n, sizeof *h->addr);
    h->fd = corio__malloc(n * sizeof *h->fd);
    fa = corio__calloc(n, sizeof *fa);
    fb = corio__calloc(n, sizeof *fb);
    if (!h->addr || !h->fd || !fa || !fb) {
        corio__free(fa);
        corio__free(fb);
        return -ENOMEM;
    }
    first = -1;
    for (a = res; a; a = a->ai_next) {
        if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
            continue;
        if (first < 0)
            first = a->ai_family;
        if (a->ai_family == first)
            fa[na++] = a;
        else
            fb[nb++] = a;
    }
    while (ia < na || ib < nb) {
        if (ia < na)
            h->addr[i++] = fa[ia++];
        if (ib < nb)
            h->addr[i++] = fb[ib++];
    }
    for (j = 0; j < n; j++)
        h->fd[j] = -1;
    h->n = n;
    corio__free(fa);
    corio__free(fb);
    return 0;
}

static int setopt(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof v) < 0 ? -errno : 0;
}

static int prepare(int fd, const corio_tcp_opts *o, int family)
{
    int rc = 0;
    if (!o->no_nodelay)
        rc = setopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    if (!rc && o->keepalive > 0)
        rc = setopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1) ?:
             setopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, o->keepalive);
    if (!rc && (o->local_host || o->local_port)) {
        struct addrinfo hints, *loc = NULL;
        char serv[8];
        int e;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = family;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV |
                         (o->local_host ? AI_NUMERICHOST : 0);
        snprintf(serv, sizeof serv, "%d", o->local_port);
        e = getaddrinfo(o->local_host, serv, &hints, &loc);
        if (e)
            return e == EAI_FAMILY || e == EAI_ADDRFAMILY
                       ? -EAFNOSUPPORT : -EINVAL;
        if (bind(fd, loc->ai_addr, loc->ai_addrlen) < 0)
            rc = -errno;
        freeaddrinfo(loc);
    }
    return rc;
}

/* Start attempt h->next. 1 connected at once (fd in *won), 0 in flight,
 * < 0 failed (recorded in last_err; the caller moves on). */
static int start(struct he *h, const corio_tcp_opts *o, int *won)
{
    size_t i = h->next++;
    const struct addrinfo *a = h->addr[i];
    int fd, rc;
    if ((fd = corio__socket(a->ai_family, SOCK_STREAM, 0)) < 0)
        return h->last_err = fd;
    if ((rc = prepare(fd, o, a->ai_family)) != 0) {
        close(fd);
        return h->last_err = rc;
    }
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        *won = fd;
        return 1;
    }
    if (errno != EINPROGRESS && errno != EINTR) {
        rc = -errno;
        close(fd);
        return h->last_err = rc;
    }
    if ((rc = corio__mux_watch(&h->mux, fd, EPOLLOUT, i, 1)) != 0) {
        close(fd);
        return h->last_err = rc;
    }
    h->fd[i] = fd;
    h->inflight++;
    return 0;
}

static void drop(struct he *h, size_t i)
{
    corio__mux_unwatch(&h->mux, h->fd[i]);
    close(h->fd[i]);
    h->fd[i] = -1;
    h->inflight--;
}

static int run(struct he *h, const corio_tcp_opts *o, int *out)
{
    struct epoll_event ev[8];
    double delay = o->attempt_delay > 0 ? o->attempt_delay : 0.25;
    int won = -1, n, k, rc, err;
    socklen_t el;
    size_t i;
    for (;;) {
        /* Start attempts until one is in flight (or one connected). */
        while (h->inflight == 0 && h->next < h->n) {
            rc = start(h, o, &won);
            if (rc == 1)
                return *out = won, 0;
            if (rc == 0)
                corio__mux_timer(&h->mux, h->next < h->n ? delay : -1);
        }
        if (h->inflight == 0)
            return h->last_err ? h->last_err : -ECONNREFUSED;
        n = corio__mux_wait(&h->mux, ev, 8);
        if (n < 0)
            return n;
        for (k = 0; k < n; k++) {
            if (ev[k].data.u64 == CORIO__MUX_TIMER) {
                if (h->next < h->n) {
                    rc = start(h, o, &won);
                    if (rc == 1)
                        return *out = won, 0;
                    corio__mux_timer(&h->mux, h->next < h->n ? delay : -1);
                }
                continue;
            }
            i = (size_t)ev[k].data.u64;
            if (h->fd[i] < 0)
                continue;
            err = 0;
            el = sizeof err;
            if (getsockopt(h->fd[i], SOL_SOCKET, SO_ERROR, &err, &el) < 0)
                err = errno;
            if (err == 0) {
                won = h->fd[i];
                corio__mux_unwatch(&h->mux, won);
                h->fd[i] = -1;
                h->inflight--;
                return *out = won, 0;
            }
            h->last_err = -err;
            drop(h, i);
            /* A failure starts the next attempt now (RFC 8305 5). */
            if (h->next < h->n) {
                rc = start(h, o, &won);
                if (rc == 1)
                    return *out = won, 0;
                corio__mux_timer(&h->mux, h->next < h->n ? delay : -1);
            }
        }
    }
}

int corio__tcp_connect_list(const struct addrinfo *res,
                            const corio_tcp_opts *o, int *fd)
{
    struct he h;
    size_t i;
    int rc;
    memset(&h, 0, sizeof h);
    h.mux.ep = -1;
    if ((rc = interleave(res, &h)) == 0 &&
        (rc = corio__mux_open(&h.mux)) == 0)
        rc = run(&h, o, fd);
    for (i = 0; i < h.n; i++)
        if (h.fd[i] >= 0)
            close(h.fd[i]); /* the losers */
    corio__mux_close(&h.mux);
    corio__free(h.addr);
    corio__free(h.fd);
    return rc;
}

int corio_tcp_connect(const char *host, int port, const corio_tcp_opts *opts,
                      int *fd)
{
    static const corio_tcp_opts none;
    const corio_tcp_opts *o = opts ? opts : &none;
    struct addrinfo *res = NULL;
    int rc;
    if (!host || !fd || !*host || port < 0 || port > 65535 ||
        o->keepalive < 0 || !(o->attempt_delay >= 0) || o->local_port < 0 ||
        o->local_port > 65535 || corio__check_host(o->local_host))
        return -EINVAL;
    if (o->family != AF_UNSPEC && o->family != AF_INET &&
        o->family != AF_INET6)
        return -EINVAL;
    if (!corio_task_running_p())
        return CORIO_ENOTASK;
    if ((rc = corio__resolve(host, port, o->family, SOCK_STREAM, 0, &res)))
        return rc;
    rc = corio__tcp_connect_list(res, o, fd);
    corio_freeaddrinfo(res);
    return rc;
}
