/*
 * bench_echo.c: the `echo` suite: TCP echo of 1 KiB messages over many
 * connections on 127.0.0.1, the same load client for every server:
 *
 *   epoll (reference)   a hand-written level-triggered epoll server: the
 *                       limit a corio server can approach
 *   corio raw fd calls  corio_accept, a task per connection, corio_read
 *                       and corio_write_all
 *   corio streams       corio_server, a handler per connection reading
 *                       with corio_stream_read, writing and draining
 *   libuv               uv_tcp_t with uv_read_start and uv_try_write,
 *                       falling back to uv_write (bench_echo_uv.c)
 *
 * Server and client run in this process on two threads, the server's
 * pinned to CPU 0 and the client's to CPU 1 where the machine allows it.
 * Each row sends REQS messages in total, CONNS connections each with one
 * in flight. The figure is requests per second of the server thread's
 * own CPU time (its thread CPU clock), so the client's cost and other
 * processes' load do not count; the ratio is against the epoll server.
 * Each row runs `samples` times; the median is shown, and the spread
 * (highest minus lowest, over the median).
 *
 * For profiling one server (perf, callgrind, strace -c; bench/echo_count.sh
 * counts instructions per request of each server with callgrind):
 * CORIO_BENCH_ECHO_ROW=k runs only row k (0 epoll, 1 raw, 2 streams,
 * 3 libuv), CORIO_BENCH_ECHO_REQS=n sends n requests per sample.
 */
#include "bench.h"
#include "bench_echo.h"
#include "suites.h"

#include <corio.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 1024
#define MAXCONN 100

#define run echo_run

void echo_pin(int cpu)
{
    cpu_set_t set;
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)sched_setaffinity(0, sizeof set, &set); /* best effort */
}

void echo_announce(struct run *r, int port)
{
    pthread_mutex_lock(&r->mu);
    r->port = port;
    r->ready = 1;
    pthread_getcpuclockid(pthread_self(), &r->cpu);
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void echo_fail(struct run *r)
{
    pthread_mutex_lock(&r->mu);
    r->failed = 1;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

#define pin echo_pin
#define announce echo_announce

static int listen_local(void)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(fd, SOMAXCONN) < 0) {
        close(fd);
        return -errno;
    }
    return fd;
}

static int port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    return ntohs(a.sin_port);
}

/* ---- the reference: hand-written epoll ------------------------------------ */

static void *epoll_server(void *arg)
{
    struct run *r = arg;
    struct epoll_event ev, evs[128];
    static char buf[65536];
    int ep = epoll_create1(EPOLL_CLOEXEC), lfd = listen_local(), n, i, one = 1;
    pin(0);
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.fd = r->stopfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, r->stopfd, &ev);
    announce(r, port_of(lfd));
    for (;;) {
        n = epoll_wait(ep, evs, 128, -1);
        for (i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == r->stopfd)
                goto out;
            if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL,
                                    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    ev.events = EPOLLIN;
                    ev.data.fd = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                }
                continue;
            }
            ssize_t got = read(fd, buf, sizeof buf), off = 0;
            if (got <= 0) {
                close(fd);
                continue;
            }
            while (off < got) { /* 1 KiB answers: the socket takes them */
                ssize_t w = send(fd, buf + off, (size_t)(got - off),
                                 MSG_NOSIGNAL);
                if (w < 0)
                    break;
                off += w;
            }
        }
    }
out:
    close(lfd);
    close(ep);
    return NULL;
}

/* ---- corio on raw descriptor calls ------------------------------------------- */

static int raw_conn(void *arg, void **result)
{
    int fd = (int)(intptr_t)arg;
    static char buf[65536];
    ssize_t n;
    (void)result;
    while ((n = corio_read(fd, buf, sizeof buf)) > 0)
        if (corio_write_all(fd, buf, (size_t)n, NULL) != 0)
            break;
    corio_fd_close(fd);
    return 0;
}

static int raw_acceptor(void *arg, void **result)
{
    int lfd = (int)(intptr_t)arg, c, one = 1;
    (void)result;
    while ((c = corio_accept(lfd, NULL, NULL)) >= 0) {
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (corio_spawn(raw_conn, (void *)(intptr_t)c, NULL, NULL) != 0)
            corio_fd_close(c);
    }
    return 0;
}

static int raw_main(void *arg, void **result)
{
    struct run *r = arg;
    int lfd = listen_local();
    corio_task *acc;
    (void)result;
    if (lfd < 0)
        return lfd;
    corio_spawn(raw_acceptor, (void *)(intptr_t)lfd, NULL, &acc);
    announce(r, port_of(lfd));
    corio_wait_readable(r->stopfd);
    corio_task_cancel(acc);
    corio_task_join(acc, NULL);
    corio_task_release(acc);
    corio_fd_close(lfd);
    return 0;
}

/* ---- corio streams and corio_server ---------------------------------------------- */

static int stream_conn(corio_stream *s, void *arg)
{
    static char buf[65536];
    ssize_t n;
    (void)arg;
    while ((n = corio_stream_read(s, buf, sizeof buf)) > 0)
        if (corio_stream_write(s, buf, (size_t)n) != 0 ||
            corio_stream_drain(s) != 0)
            break;
    return 0;
}

static int stream_main(void *arg, void **result)
{
    struct run *r = arg;
    corio_server *srv;
    int rc;
    (void)result;
    rc = corio_tcp_server("127.0.0.1", 0, NULL, stream_conn, NULL, NULL,
                          &srv);
    if (rc)
        return rc;
    announce(r, corio_server_port(srv));
    corio_wait_readable(r->stopfd);
    corio_server_close(srv, 0);
    corio_server_wait(srv);
    corio_server_free(srv);
    return 0;
}

static void *corio_server_thread(void *arg)
{
    struct run *r = arg;
    pin(0);
    if (corio_run(r->kind == 1 ? raw_main : stream_main, r, NULL) != 0)
        echo_fail(r);
    return NULL;
}

/* ---- the load client ------------------------------------------------------------- */

struct cconn {
    int fd;
    size_t got;
};

/* CONNS connections, one 1 KiB message in flight on each, until reqs
 * answers came. 0 or -1. */
static int client(int port, int conns, uint64_t reqs)
{
    struct cconn c[MAXCONN];
    struct epoll_event ev, evs[MAXCONN];
    struct sockaddr_in a;
    static char msg[MSG], buf[MSG];
    uint64_t done = 0, sent = 0;
    int ep = epoll_create1(EPOLL_CLOEXEC), i, n, one = 1, rc = 0;
    memset(msg, 'm', sizeof msg);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < conns; i++) {
        c[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        c[i].got = 0;
        if (c[i].fd < 0 || connect(c[i].fd, (struct sockaddr *)&a, sizeof a))
            return -1;
        setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ev.events = EPOLLIN;
        ev.data.u32 = (uint32_t)i;
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    for (i = 0; i < conns && sent < reqs; i++, sent++)
        if (send(c[i].fd, msg, MSG, MSG_NOSIGNAL) != MSG)
            rc = -1;
    while (done < reqs && rc == 0) {
        n = epoll_wait(ep, evs, MAXCONN, 5000);
        if (n <= 0) {
            rc = -1; /* a server that stopped answering */
            break;
        }
        for (i = 0; i < n; i++) {
            struct cconn *k = &c[evs[i].data.u32];
            ssize_t r = recv(k->fd, buf, sizeof buf - k->got, 0);
            if (r <= 0) {
                rc = -1;
                break;
            }
            k->got += (size_t)r;
            if (k->got < MSG)
                continue;
            k->got = 0;
            done++;
            if (sent < reqs) {
                sent++;
                if (send(k->fd, msg, MSG, MSG_NOSIGNAL) != MSG)
                    rc = -1;
            }
        }
    }
    for (i = 0; i < conns; i++)
        close(c[i].fd);
    close(ep);
    return rc;
}

static double cpu_now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One run of one server kind (0 epoll, 1 raw, 2 streams): requests per
 * server-CPU-second, or a negative value on failure. */
static double one_run(int kind, int conns, uint64_t reqs, double *wall_rps)
{
    struct run r;
    pthread_t th;
    double c0, c1, t0, t1;
    uint64_t one = 1;
    int rc;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r.kind = kind;
    pthread_create(&th, NULL,
                   kind == 0   ? epoll_server
                   : kind == 3 ? bench_echo_uv_server
                               : corio_server_thread,
                   &r);
    pthread_mutex_lock(&r.mu);
    while (!r.ready && !r.failed)
        pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);
    pin(1);
    c0 = r.ready ? cpu_now(r.cpu) : 0;
    t0 = bench_now_ns() / 1e9;
    rc = r.ready ? client(r.port, conns, reqs) : -1;
    t1 = bench_now_ns() / 1e9;
    c1 = r.ready ? cpu_now(r.cpu) : 0;
    (void)!write(r.stopfd, &one, sizeof one);
    pthread_join(th, NULL);
    close(r.stopfd);
    if (rc != 0 || r.failed || c1 <= c0)
        return -1;
    *wall_rps = (double)reqs / (t1 - t0);
    return (double)reqs / (c1 - c0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int echo_run(const bench_opts *opts)
{
    static const char *names[] = {"epoll (reference)", "corio raw fd calls",
                                  "corio streams + server", "libuv"};
    int conns = opts->quick ? 4 : MAXCONN, samples = opts->samples, k, s;
    uint64_t reqs = opts->quick ? 2000 : 200000;
    double med[4] = {0, 0, 0, 0}, wmed[4] = {0, 0, 0, 0};
    int failed = 0, only = -1;
    const char *env = getenv("CORIO_BENCH_ECHO_ROW");
    if (env && *env)
        only = atoi(env);
    env = getenv("CORIO_BENCH_ECHO_REQS");
    if (env && strtoull(env, NULL, 10) > 0)
        reqs = strtoull(env, NULL, 10);
    if (samples > 15)
        samples = 15;
    printf("echo: 1 KiB messages, %d connections, %llu requests per sample,"
           " %d samples (median)\n",
           conns, (unsigned long long)reqs, samples);
    printf("%-26s %16s %14s %8s %7s\n", "server", "req/server-CPU-s",
           "req/s wall", "ratio", "spread");
    for (k = 0; k < 4; k++) {
        double v[15], w[15];
        if (only >= 0 && k != only)
            continue;
        if (k == 3 && !bench_echo_have_uv) {
            printf("%-26s %16s\n", names[k], "n/a (libuv1-dev not installed)");
            continue;
        }
        for (s = 0; s < samples; s++) {
            v[s] = one_run(k, conns, reqs, &w[s]);
            if (v[s] < 0) {
                failed = 1;
                break;
            }
        }
        if (s < samples) {
            printf("%-26s %16s\n", names[k], "FAILED");
            continue;
        }
        qsort(v, (size_t)samples, sizeof v[0], cmp_double);
        qsort(w, (size_t)samples, sizeof w[0], cmp_double);
        med[k] = v[samples / 2];
        wmed[k] = w[samples / 2];
        printf("%-26s %16.0f %14.0f %7.2fx %6.0f%%\n", names[k], med[k],
               wmed[k], med[0] > 0 ? med[k] / med[0] : 0.0,
               100.0 * (v[samples - 1] - v[0]) / med[k]);
    }
    printf("\n");
    return failed ? -1 : 0;
}

const bench_suite bench_suite_echo = {
    "echo", "TCP echo servers: epoll reference, corio raw calls, streams",
    echo_run};
