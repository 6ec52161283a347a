/*
 * bench_http.c: the `http` suite: a keep-alive HTTP/1.1 responder loaded
 * by wrk (an external HTTP load generator) on 127.0.0.1:
 *
 *   epoll (reference)   a hand-written level-triggered epoll responder
 *   corio streams       examples/http_responder.c's handler: corio_server,
 *                       corio_stream_read_until("\r\n\r\n") per request,
 *                       write and drain
 *
 * Both answer every request head with the same 17-byte body. The server
 * runs on a thread of this process pinned to CPU 0, wrk in a child
 * process pinned to CPU 1 (where the machine allows it), for a bounded
 * few seconds per sample. The figure is requests wrk completed per second
 * of the server thread's own CPU time, so wrk's cost does not count; the
 * ratio is against the epoll responder. Rows print n/a without wrk.
 */
#include "bench.h"
#include "bench_echo.h"
#include "suites.h"

#include <corio.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BODY "hello from corio\n"
#define RESPONSE                                                           \
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n" \
    "\r\n" BODY
#define MAXFD 4096
#define HEADMAX 8192

/* ---- the reference: hand-written epoll ------------------------------------ */

struct hconn {
    char buf[HEADMAX];
    size_t len;
};

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

/* Answer every complete head in c's buffer; keep the rest. 0, or -1 to
 * close the connection. */
static int epoll_answer(int fd, struct hconn *c)
{
    static const char resp[] = RESPONSE;
    char out[64 * (sizeof resp - 1)];
    size_t at = 0, nout = 0;
    for (;;) {
        char *end = memmem(c->buf + at, c->len - at, "\r\n\r\n", 4);
        if (!end)
            break;
        at = (size_t)(end - c->buf) + 4;
        if (nout + sizeof resp - 1 > sizeof out) {
            if (send(fd, out, nout, MSG_NOSIGNAL) != (ssize_t)nout)
                return -1;
            nout = 0;
        }
        memcpy(out + nout, resp, sizeof resp - 1);
        nout += sizeof resp - 1;
    }
    if (nout && send(fd, out, nout, MSG_NOSIGNAL) != (ssize_t)nout)
        return -1; /* small answers: the socket takes them */
    memmove(c->buf, c->buf + at, c->len - at);
    c->len -= at;
    return c->len == sizeof c->buf ? -1 : 0;
}

static void *epoll_server(void *arg)
{
    struct echo_run *r = arg;
    struct epoll_event ev, evs[128];
    struct hconn **conns = calloc(MAXFD, sizeof *conns);
    int ep = epoll_create1(EPOLL_CLOEXEC), lfd = listen_local(), n, i, one = 1;
    echo_pin(0);
    if (!conns || ep < 0 || lfd < 0) {
        echo_fail(r);
        return NULL;
    }
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.fd = r->stopfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, r->stopfd, &ev);
    {
        struct sockaddr_in a;
        socklen_t l = sizeof a;
        getsockname(lfd, (struct sockaddr *)&a, &l);
        echo_announce(r, ntohs(a.sin_port));
    }
    for (;;) {
        n = epoll_wait(ep, evs, 128, -1);
        for (i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            struct hconn *c;
            ssize_t got;
            if (fd == r->stopfd)
                goto out;
            if (fd == lfd) {
                int s;
                while ((s = accept4(lfd, NULL, NULL,
                                    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    if (s >= MAXFD || !(conns[s] = calloc(1, sizeof **conns))) {
                        close(s);
                        continue;
                    }
                    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    ev.events = EPOLLIN;
                    ev.data.fd = s;
                    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
                }
                continue;
            }
            c = conns[fd];
            got = read(fd, c->buf + c->len, sizeof c->buf - c->len);
            if (got > 0) {
                c->len += (size_t)got;
                if (epoll_answer(fd, c) == 0)
                    continue;
            } else if (got < 0 && errno == EAGAIN) {
                continue;
            }
            close(fd);
            free(c);
            conns[fd] = NULL;
        }
    }
out:
    for (i = 0; i < MAXFD; i++)
        if (conns[i]) {
            close(i);
            free(conns[i]);
        }
    free(conns);
    close(lfd);
    close(ep);
    return NULL;
}

/* ---- corio: examples/http_responder.c's handler ------------------------------ */

static int wants_close(const char *head, size_t len)
{
    const char *p = head, *end = head + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);
        if (l >= 17 && strncasecmp(p, "connection: close", 17) == 0)
            return 1;
        p += l + 1;
    }
    return 0;
}

static int respond(corio_stream *c, void *arg)
{
    char head[HEADMAX], out[256];
    size_t len;
    int rc, n, close_after;
    (void)arg;
    for (;;) {
        rc = corio_stream_read_until(c, "\r\n\r\n", 4, head, sizeof head,
                                     &len);
        if (rc == CORIO_ELIMIT) {
            static const char too_big[] =
                "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n";
            corio_stream_write(c, too_big, sizeof too_big - 1);
            return corio_stream_drain(c);
        }
        if (rc == CORIO_EINCOMPLETE || rc == CORIO_ESHUTTING ||
            rc == -ECONNRESET)
            return 0; /* wrk closes its connections when it stops */
        if (rc)
            return rc;
        close_after = wants_close(head, len);
        n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n%s\r\n%s",
                     sizeof BODY - 1,
                     close_after ? "Connection: close\r\n" : "", BODY);
        if ((rc = corio_stream_write(c, out, (size_t)n)) != 0 ||
            (rc = corio_stream_drain(c)) != 0)
            return rc == -ECONNRESET || rc == -EPIPE ? 0 : rc;
        if (close_after)
            return 0;
    }
}

static int corio_main(void *arg, void **result)
{
    struct echo_run *r = arg;
    corio_server *srv;
    int rc;
    (void)result;
    rc = corio_tcp_server("127.0.0.1", 0, NULL, respond, NULL, NULL, &srv);
    if (rc)
        return rc;
    echo_announce(r, corio_server_port(srv));
    corio_wait_readable(r->stopfd);
    corio_server_close(srv, 0);
    corio_server_wait(srv);
    corio_server_free(srv);
    return 0;
}

static void *corio_server_thread(void *arg)
{
    struct echo_run *r = arg;
    echo_pin(0);
    if (corio_run(corio_main, r, NULL) != 0)
        echo_fail(r);
    return NULL;
}

/* ---- the load: wrk in a child process ------------------------------------------ */

static int have_wrk(void)
{
    return system("command -v wrk >/dev/null 2>&1") == 0;
}

/* Run wrk against port for secs seconds with conns connections: the
 * number of requests it completed, or -1. */
static double run_wrk(int port, int conns, int secs)
{
    char url[64], c[16], d[16], line[512];
    int p[2], st;
    double reqs = -1;
    pid_t pid;
    FILE *f;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    snprintf(c, sizeof c, "%d", conns);
    snprintf(d, sizeof d, "%ds", secs);
    if (pipe(p) < 0)
        return -1;
    if ((pid = fork()) < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        echo_pin(1);
        execlp("wrk", "wrk", "-t1", "-c", c, "-d", d, url, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    f = fdopen(p[0], "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long n;
        if (sscanf(line, " %llu requests in", &n) == 1)
            reqs = (double)n;
    }
    if (f)
        fclose(f);
    else
        close(p[0]);
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return reqs;
}

static double cpu_now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One sample of one server (0 epoll, 1 corio): requests per
 * server-CPU-second, or a negative value on failure. */
static double one_run(int kind, int conns, int secs, double *wall_rps)
{
    struct echo_run r;
    pthread_t th;
    double c0, c1, t0, t1, reqs;
    uint64_t one = 1;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r.kind = kind;
    if (pthread_create(&th, NULL, kind == 0 ? epoll_server : corio_server_thread,
                       &r) != 0) {
        close(r.stopfd);
        return -1;
    }
    pthread_mutex_lock(&r.mu);
    while (!r.ready && !r.failed)
        pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);
    c0 = r.ready ? cpu_now(r.cpu) : 0;
    t0 = bench_now_ns() / 1e9;
    reqs = r.ready ? run_wrk(r.port, conns, secs) : -1;
    t1 = bench_now_ns() / 1e9;
    c1 = r.ready ? cpu_now(r.cpu) : 0;
    (void)!write(r.stopfd, &one, sizeof one);
    pthread_join(th, NULL);
    close(r.stopfd);
    if (reqs <= 0 || r.failed || c1 <= c0)
        return -1;
    *wall_rps = reqs / (t1 - t0);
    return reqs / (c1 - c0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int http_run(const bench_opts *opts)
{
    static const char *names[] = {"epoll (reference)",
                                  "corio streams + server"};
    int conns = opts->quick ? 4 : 50, secs = opts->quick ? 1 : 3;
    int samples = opts->quick ? 1 : opts->samples, k, s, failed = 0;
    double med[2] = {0, 0};
    if (samples > 3)
        samples = 3; /* each sample is secs seconds of wrk */
    printf("http: keep-alive GET, wrk -t1 -c%d for %d s per sample, "
           "%d samples (median)\n",
           conns, secs, samples);
    printf("%-26s %16s %14s %8s %7s\n", "server", "req/server-CPU-s",
           "req/s wall", "ratio", "spread");
    signal(SIGPIPE, SIG_IGN);
    for (k = 0; k < 2; k++) {
        double v[3], w[3];
        if (!have_wrk()) {
            printf("%-26s %16s\n", names[k], "n/a (wrk not installed)");
            continue;
        }
        for (s = 0; s < samples; s++) {
            v[s] = one_run(k, conns, secs, &w[s]);
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
        printf("%-26s %16.0f %14.0f %7.2fx %6.0f%%\n", names[k], med[k],
               w[samples / 2], med[0] > 0 ? med[k] / med[0] : 0.0,
               100.0 * (v[samples - 1] - v[0]) / med[k]);
    }
    printf("\n");
    return failed ? -1 : 0;
}

const bench_suite bench_suite_http = {
    "http", "HTTP/1.1 keep-alive responder under wrk: epoll reference, corio",
    http_run};
