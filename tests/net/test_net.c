/*
 * test_net.c: sockets (net.h) over loopback: TCP connect by address and
 * by name, listeners on every address, Happy Eyeballs (order, fallback
 * past an address that never answers), Unix stream and datagram sockets
 * (path and abstract), UDP, socket pairs, and the refusals of bad input.
 */
#include "test.h"
#include "cancel_rule.h"
#include "net_helpers.h"

#include <corio.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/un.h>

#include "net/net_impl.h"

static void exchange(int a, int b)
{
    char buf[16];
    CHECK_EQ(corio_write_all(a, "ping", 4, NULL), 0);
    CHECK_EQ(corio_read(b, buf, sizeof buf), 4);
    CHECK_EQ(memcmp(buf, "ping", 4), 0);
    CHECK_EQ(corio_write_all(b, "pong", 4, NULL), 0);
    CHECK_EQ(corio_read(a, buf, sizeof buf), 4);
    CHECK_EQ(memcmp(buf, "pong", 4), 0);
}

static int tcp_main(void *arg, void **result)
{
    int lfd, c, s, v = 0;
    size_t n;
    socklen_t vl = sizeof v;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &lfd, 1, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_INT(corio_sock_port(lfd), >, 0);
    CHECK_EQ(corio_tcp_connect((const char *)arg, corio_sock_port(lfd), NULL,
                               &c),
             0);
    CHECK_INT(fcntl(c, F_GETFL) & O_NONBLOCK, !=, 0);
    CHECK_EQ(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl), 0);
    CHECK_EQ(v, 1); /* on by default */
    s = corio_accept(lfd, NULL, NULL);
    CHECK_INT(s, >=, 0);
    exchange(c, s);
    CHECK_EQ(corio_fd_close(c), 0);
    CHECK_EQ(corio_fd_close(s), 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
    return 0;
}

TEST(net_tcp_by_address)
{
    net_run(tcp_main, "127.0.0.1");
}

TEST(net_tcp_by_name)
{
    net_run(tcp_main, "localhost");
}

static int opts_main(void *arg, void **result)
{
    int lfd, c, s, v = 0;
    size_t n;
    socklen_t vl = sizeof v;
    corio_tcp_opts o;
    (void)arg;
    (void)result;
    memset(&o, 0, sizeof o);
    o.no_nodelay = 1;
    o.keepalive = 30;
    o.local_host = "127.0.0.1";
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &lfd, 1, &n), 0);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", corio_sock_port(lfd), &o, &c), 0);
    CHECK_EQ(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, &vl), 0);
    CHECK_EQ(v, 1);
    s = corio_accept(lfd, NULL, NULL);
    CHECK_INT(s, >=, 0);
    CHECK_EQ(corio_fd_close(c), 0);
    CHECK_EQ(corio_fd_close(s), 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
    return 0;
}

TEST(net_tcp_options)
{
    net_run(opts_main, NULL);
}

static int listen_all_main(void *arg, void **result)
{
    int fds[8], c, s, v = 0;
    size_t n, i;
    socklen_t vl = sizeof v;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_tcp_listen(NULL, 0, NULL, fds, 8, &n), 0);
    CHECK_INT(n, >=, 1);
    for (i = 0; i < n; i++) {
        CHECK_EQ(corio_sock_port(fds[i]), corio_sock_port(fds[0]));
        CHECK_EQ(getsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &v, &vl), 0);
        CHECK_EQ(v, 1);
    }
    CHECK_EQ(corio_tcp_connect("127.0.0.1", corio_sock_port(fds[0]), NULL,
                               &c),
             0);
    CHECK_EQ(corio_fd_close(c), 0);
    if (have_ipv6()) {
        CHECK_EQ(n, 2);
        CHECK_EQ(corio_tcp_connect("::1", corio_sock_port(fds[0]), NULL, &c),
                 0);
        CHECK_EQ(peer_family(c), AF_INET6);
        CHECK_EQ(corio_fd_close(c), 0);
    }
    for (i = 0; i < n; i++)
        CHECK_EQ(corio_fd_close(fds[i]), 0);
    /* Too small an array: nothing kept. */
    if (have_ipv6())
        CHECK_EQ(corio_tcp_listen(NULL, 0, NULL, fds, 1, &n), -ENOSPC);
    (void)s;
    return 0;
}

TEST(net_listen_every_address)
{
    net_run(listen_all_main, NULL);
}

static int reuseport_main(void *arg, void **result)
{
    int a, b, port;
    size_t n;
    corio_listen_opts o;
    (void)arg;
    (void)result;
    memset(&o, 0, sizeof o);
    o.reuseport = 1;
    o.backlog = 4;
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, &o, &a, 1, &n), 0);
    port = corio_sock_port(a);
    CHECK_EQ(corio_tcp_listen("127.0.0.1", port, &o, &b, 1, &n), 0);
    CHECK_EQ(corio_fd_close(b), 0);
    /* Without SO_REUSEPORT the port is taken. */
    CHECK_EQ(corio_tcp_listen("127.0.0.1", port, NULL, &b, 1, &n),
             -EADDRINUSE);
    CHECK_EQ(corio_fd_close(a), 0);
    return 0;
}

TEST(net_listen_reuseport)
{
    net_run(reuseport_main, NULL);
}

static int bad_input_main(void *arg, void **result)
{
    int fd = -1;
    size_t n;
    char longpath[200];
    int pair[2];
    (void)arg;
    (void)result;
    CHECK_EQ(corio_tcp_connect("", 80, NULL, &fd), -EINVAL);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", 65536, NULL, &fd), -EINVAL);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", -1, NULL, &fd), -EINVAL);
    CHECK_EQ(corio_tcp_listen("", 0, NULL, &fd, 1, &n), -EINVAL);
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 70000, NULL, &fd, 1, &n),
             -EINVAL);
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &fd, 0, &n), -EINVAL);
    CHECK_EQ(corio_udp_open("", 0, NULL, 0, NULL, &fd), -EINVAL);
    CHECK_EQ(corio_udp_open(NULL, 0, "127.0.0.1", 99999, NULL, &fd), -EINVAL);
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    CHECK_EQ(corio_unix_listen(longpath, 0, &fd), -ENAMETOOLONG);
    CHECK_EQ(corio_unix_connect(longpath, SOCK_STREAM, &fd), -ENAMETOOLONG);
    CHECK_EQ(corio_unix_listen("", 0, &fd), -EINVAL);
    CHECK_EQ(corio_unix_connect("@x", SOCK_SEQPACKET, &fd), -EINVAL);
    CHECK_EQ(corio_socketpair(SOCK_RAW, pair), -EINVAL);
    CHECK_EQ(corio_udp_join(0, "10.0.0.1"), -EINVAL); /* not multicast */
    CHECK_EQ(corio_udp_join(0, "nonsense"), -EINVAL);
    CHECK_EQ(fd, -1); /* nothing handed out */
    return 0;
}

TEST(net_bad_input)
{
    net_run(bad_input_main, NULL);
}

static int refused_main(void *arg, void **result)
{
    int lfd, port, fd = -1;
    size_t n;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &lfd, 1, &n), 0);
    port = corio_sock_port(lfd);
    CHECK_EQ(corio_fd_close(lfd), 0);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", port, NULL, &fd), -ECONNREFUSED);
    CHECK_EQ(fd, -1);
    return 0;
}

TEST(net_tcp_refused)
{
    net_run(refused_main, NULL);
}


/* A listener on 127.0.0.1 that never accepts and whose queue is full: a
 * further SYN is dropped, so a connect to it hangs (the kernel keeps
 * retrying). Returns the port; *lfd and the fillers stay open. */
static int blackhole(int *lfd, int fill[8], int *nfill)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int i;
    *lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_INT(*lfd, >=, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000001);
    CHECK_EQ(bind(*lfd, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(*lfd, 0), 0);
    CHECK_EQ(getsockname(*lfd, (struct sockaddr *)&a, &al), 0);
    *nfill = 0;
    for (i = 0; i < 8; i++) {
        struct pollfd p;
        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        CHECK_INT(s, >=, 0);
        connect(s, (struct sockaddr *)&a, sizeof a);
        fill[(*nfill)++] = s;
        p.fd = s;
        p.events = POLLOUT;
        if (poll(&p, 1, 200) == 0)
            return ntohs(a.sin_port); /* this one hangs: the queue is full */
    }
    corio_test_skip("could not fill a listen queue");
}

static int he_fallback_main(void *arg, void **result)
{
    int hole, fill[8], nfill, hport, lfd, fd = -1, s, i;
    size_t n;
    struct addrinfo *list = NULL, h;
    char p1[8], p2[8];
    struct addrinfo *a1 = NULL, *a2 = NULL;
    corio_tcp_opts o;
    (void)arg;
    (void)result;
    hport = blackhole(&hole, fill, &nfill);
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &lfd, 1, &n), 0);
    memset(&h, 0, sizeof h);
    h.ai_socktype = SOCK_STREAM;
    h.ai_family = AF_INET;
    snprintf(p1, sizeof p1, "%d", hport);
    snprintf(p2, sizeof p2, "%d", corio_sock_port(lfd));
    CHECK_EQ(corio_getaddrinfo("127.0.0.1", p1, &h, &a1), 0);
    CHECK_EQ(corio_getaddrinfo("127.0.0.1", p2, &h, &a2), 0);
    a1->ai_next = a2; /* the black hole first, then the listener */
    list = a1;
    memset(&o, 0, sizeof o);
    o.attempt_delay = 0.05;
    CHECK_EQ(corio__tcp_connect_list(list, &o, &fd), 0);
    /* The second address won; the first attempt was given up. */
    CHECK_EQ(peer_port(fd), corio_sock_port(lfd));
    s = corio_accept(lfd, NULL, NULL);
    CHECK_INT(s, >=, 0);
    CHECK_EQ(corio_fd_close(s), 0);
    CHECK_EQ(corio_fd_close(fd), 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
    corio_freeaddrinfo(list);
    for (i = 0; i < nfill; i++)
        close(fill[i]);
    close(hole);
    return 0;
}

TEST(net_happy_eyeballs_fallback)
{
    net_run(he_fallback_main, NULL);
}

static int he_deadline_main(void *arg, void **result)
{
    int hole, fill[8], nfill, hport, fd = -1, i, rc;
    corio_scope *sc;
    (void)arg;
    (void)result;
    hport = blackhole(&hole, fill, &nfill);
    CHECK_EQ(corio_scope_timeout(0.05, &sc), 0);
    rc = corio_tcp_connect("127.0.0.1", hport, NULL, &fd);
    CHECK_EQ(corio_scope_close(sc, rc), -ETIMEDOUT);
    CHECK_EQ(fd, -1);
    for (i = 0; i < nfill; i++)
        close(fill[i]);
    close(hole);
    return 0;
}

/* The cancel rule: a connect that would have to wait fails at once; one
 * the kernel completes before we look (loopback) succeeds. */
static int cancel_connect_main(void *arg, void **result)
{
    int hole, fill[8], nfill, hport, fd = -1, i;
    (void)arg;
    (void)result;
    hport = blackhole(&hole, fill, &nfill);
    witness();
    cancel_self();
    CHECK_EQ(corio_tcp_connect("127.0.0.1", hport, NULL, &fd), -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(fd, -1);
    for (i = 0; i < nfill; i++)
        close(fill[i]);
    close(hole);
    return 0;
}

TEST(net_tcp_connect_cancel_rule)
{
    net_run(cancel_connect_main, NULL);
}

TEST(net_tcp_connect_deadline)
{
    net_run(he_deadline_main, NULL);
}

static int he_ipv6_main(void *arg, void **result)
{
    int lfd, fd = -1, s;
    size_t n;
    struct addrinfo *a4 = NULL, *a6 = NULL, h;
    char p[8];
    corio_tcp_opts o;
    (void)arg;
    (void)result;
    if (!have_ipv6())
        corio_test_skip("no ::1 here");
    /* Only 127.0.0.1 listens; ::1 (tried first) refuses: the refusal
     * starts the IPv4 attempt at once, which wins. */
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &lfd, 1, &n), 0);
    memset(&h, 0, sizeof h);
    h.ai_socktype = SOCK_STREAM;
    snprintf(p, sizeof p, "%d", corio_sock_port(lfd));
    CHECK_EQ(corio_getaddrinfo("::1", p, &h, &a6), 0);
    CHECK_EQ(corio_getaddrinfo("127.0.0.1", p, &h, &a4), 0);
    a6->ai_next = a4;
    memset(&o, 0, sizeof o);
    o.attempt_delay = 1000; /* only the failure may start the next one */
    CHECK_EQ(corio__tcp_connect_list(a6, &o, &fd), 0);
    CHECK_EQ(peer_family(fd), AF_INET);
    s = corio_accept(lfd, NULL, NULL);
    CHECK_INT(s, >=, 0);
    CHECK_EQ(corio_fd_close(s), 0);
    CHECK_EQ(corio_fd_close(fd), 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
    corio_freeaddrinfo(a6);
    return 0;
}

TEST(net_happy_eyeballs_failure_moves_on)
{
    net_run(he_ipv6_main, NULL);
}

static int unix_stream_main(void *arg, void **result)
{
    const char *path = arg;
    int lfd, c, s;
    (void)result;
    if (path[0] != '@')
        unlink(path);
    CHECK_EQ(corio_unix_listen(path, 0, &lfd), 0);
    CHECK_EQ(corio_unix_connect(path, SOCK_STREAM, &c), 0);
    s = corio_accept(lfd, NULL, NULL);
    CHECK_INT(s, >=, 0);
    exchange(c, s);
    CHECK_EQ(corio_fd_close(c), 0);
    CHECK_EQ(corio_fd_close(s), 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
    CHECK_EQ(corio_unix_connect(path[0] == '@' ? "@corio-test-nobody"
                                               : "/nonexistent/corio.sock",
                                SOCK_STREAM, &c),
             path[0] == '@' ? -ECONNREFUSED : -ENOENT);
    if (path[0] != '@')
        unlink(path);
    return 0;
}

TEST(net_unix_stream_path)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/corio-test-%d.sock", (int)getpid());
    net_run(unix_stream_main, path);
}

TEST(net_unix_stream_abstract)
{
    char path[64];
    snprintf(path, sizeof path, "@corio-test-%d", (int)getpid());
    net_run(unix_stream_main, path);
}

static int unix_dgram_main(void *arg, void **result)
{
    char path[64], cpath[64], buf[16];
    struct sockaddr_un sun, from;
    socklen_t len, fl = sizeof from;
    int srv, cli, c2;
    (void)arg;
    (void)result;
    snprintf(path, sizeof path, "@corio-dg-%d", (int)getpid());
    snprintf(cpath, sizeof cpath, "@corio-dgc-%d", (int)getpid());
    CHECK_EQ(corio_unix_bind(path, &srv), 0);
    CHECK_EQ(corio_unix_bind(cpath, &cli), 0);
    CHECK_EQ(corio_unix_addr(path, &sun, &len), 0);
    CHECK_EQ(corio_sendto(cli, "hi", 2, (struct sockaddr *)&sun, len), 2);
    CHECK_EQ(corio_recvfrom(srv, buf, sizeof buf, (struct sockaddr *)&from,
                            &fl),
             2);
    CHECK_EQ(memcmp(buf, "hi", 2), 0);
    CHECK_EQ(corio_sendto(srv, "ho", 2, (struct sockaddr *)&from, fl), 2);
    CHECK_EQ(corio_recvfrom(cli, buf, sizeof buf, NULL, NULL), 2);
    CHECK_EQ(corio_unix_connect(path, SOCK_DGRAM, &c2), 0);
    CHECK_EQ(corio_sendto(c2, "x", 1, NULL, 0), 1);
    CHECK_EQ(corio_recvfrom(srv, buf, sizeof buf, NULL, NULL), 1);
    CHECK_EQ(corio_fd_close(c2), 0);
    CHECK_EQ(corio_fd_close(cli), 0);
    CHECK_EQ(corio_fd_close(srv), 0);
    return 0;
}

TEST(net_unix_datagram)
{
    net_run(unix_dgram_main, NULL);
}

static int udp_main(void *arg, void **result)
{
    int srv, cli, port;
    char buf[16];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    corio_udp_opts o;
    (void)arg;
    (void)result;
    memset(&o, 0, sizeof o);
    o.broadcast = 1;
    o.multicast_ttl = 1;
    o.multicast_noloop = 1;
    CHECK_EQ(corio_udp_open("127.0.0.1", 0, NULL, 0, &o, &srv), 0);
    port = corio_sock_port(srv);
    CHECK_EQ(corio_udp_open(NULL, 0, "127.0.0.1", port, NULL, &cli), 0);
    CHECK_EQ(corio_write(cli, "dgram", 5), 5);
    CHECK_EQ(corio_recvfrom(srv, buf, sizeof buf, (struct sockaddr *)&from,
                            &fl),
             5);
    CHECK_EQ(memcmp(buf, "dgram", 5), 0);
    CHECK_EQ(corio_sendto(srv, "back", 4, (struct sockaddr *)&from, fl), 4);
    CHECK_EQ(corio_read(cli, buf, sizeof buf), 4);
    CHECK_EQ(memcmp(buf, "back", 4), 0);
    CHECK_EQ(corio_udp_join(srv, "239.1.2.3") == 0 ||
                 corio_udp_join(srv, "239.1.2.3") == -ENODEV ||
                 corio_udp_join(srv, "239.1.2.3") == -EADDRINUSE,
             1);
    CHECK_EQ(corio_fd_close(cli), 0);
    CHECK_EQ(corio_fd_close(srv), 0);
    return 0;
}

TEST(net_udp)
{
    net_run(udp_main, NULL);
}

static int pair_main(void *arg, void **result)
{
    int sv[2];
    (void)arg;
    (void)result;
    CHECK_EQ(corio_socketpair(SOCK_STREAM, sv), 0);
    CHECK_INT(fcntl(sv[0], F_GETFL) & O_NONBLOCK, !=, 0);
    exchange(sv[0], sv[1]);
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(net_socketpair)
{
    net_run(pair_main, NULL);
}

TEST(net_outside_task)
{
    int fd;
    CHECK_EQ(corio_tcp_connect("127.0.0.1", 80, NULL, &fd), CORIO_ENOTASK);
    CHECK_EQ(corio_unix_connect("@x", SOCK_STREAM, &fd), CORIO_ENOTASK);
}

/* A Unix listener whose backlog is full: the connect waits (backing off)
 * until the server accepts one, then gets in. */
struct ufull {
    const char *path;
    int done, rc, fd;
};

static int ufull_connect(void *arg, void **result)
{
    struct ufull *u = arg;
    (void)result;
    u->rc = corio_unix_connect(u->path, SOCK_STREAM, &u->fd);
    u->done = 1;
    return 0;
}

static int unix_full_main(void *arg, void **result)
{
    char path[64];
    int lfd, fill[8], nfill = 0, i, s, rc;
    struct ufull u;
    corio_task *t;
    (void)arg;
    (void)result;
    snprintf(path, sizeof path, "@corio-full-%d", (int)getpid());
    CHECK_EQ(corio_unix_listen(path, 1, &lfd), 0);
    /* Fill the backlog with plain connects until one would block. */
    for (;;) {
        struct sockaddr_un sun;
        socklen_t len;
        int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        CHECK_EQ(corio_unix_addr(path, &sun, &len), 0);
        rc = connect(c, (struct sockaddr *)&sun, len);
        if (rc < 0) {
            CHECK_EQ(errno, EAGAIN);
            close(c);
            break;
        }
        CHECK_INT(nfill, <, 8);
        fill[nfill++] = c;
    }
    u.path = path;
    u.done = 0;
    u.fd = -1;
    CHECK_EQ(corio_spawn(ufull_connect, &u, NULL, &t), 0);
    for (i = 0; i < 20; i++)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK(!u.done); /* waiting for room */
    s = corio_accept(lfd, NULL, NULL); /* make room */
    CHECK_INT(s, >=, 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(u.rc, 0);
    CHECK_EQ(corio_fd_close(u.fd), 0);
    CHECK_EQ(corio_fd_close(s), 0);
    for (i = 0; i < nfill; i++)
        close(fill[i]);
    CHECK_EQ(corio_fd_close(lfd), 0);
    return 0;
}

TEST(net_unix_connect_full_backlog)
{
    net_run(unix_full_main, NULL);
}

/* RFC 8305's interleaving: given [::1 refusing, ::1 listening, 127.0.0.1
 * listening], the attempt after the refusal goes to the other family, so
 * IPv4 wins; trying the list in its own order would pick the second
 * IPv6 address. */
static int he_interleave_main(void *arg, void **result)
{
    int l6, l4, dead, fd = -1, s;
    size_t n;
    char p[8];
    struct addrinfo h, *a = NULL, *b = NULL, *c = NULL;
    corio_tcp_opts o;
    corio_listen_opts lo;
    (void)arg;
    (void)result;
    if (!have_ipv6())
        corio_test_skip("no ::1 here");
    memset(&lo, 0, sizeof lo);
    CHECK_EQ(corio_tcp_listen("::1", 0, &lo, &l6, 1, &n), 0);
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &l4, 1, &n), 0);
    CHECK_EQ(corio_tcp_listen("::1", 0, NULL, &dead, 1, &n), 0);
    memset(&h, 0, sizeof h);
    h.ai_socktype = SOCK_STREAM;
    snprintf(p, sizeof p, "%d", corio_sock_port(dead));
    CHECK_EQ(corio_fd_close(dead), 0); /* now it refuses */
    CHECK_EQ(corio_getaddrinfo("::1", p, &h, &a), 0);
    snprintf(p, sizeof p, "%d", corio_sock_port(l6));
    CHECK_EQ(corio_getaddrinfo("::1", p, &h, &b), 0);
    snprintf(p, sizeof p, "%d", corio_sock_port(l4));
    CHECK_EQ(corio_getaddrinfo("127.0.0.1", p, &h, &c), 0);
    a->ai_next = b;
    b->ai_next = c;
    memset(&o, 0, sizeof o);
    o.attempt_delay = 1000; /* only a failure starts the next attempt */
    CHECK_EQ(corio__tcp_connect_list(a, &o, &fd), 0);
    CHECK_EQ(peer_family(fd), AF_INET);
    CHECK_EQ(peer_port(fd), corio_sock_port(l4));
    s = corio_accept(l4, NULL, NULL);
    CHECK_INT(s, >=, 0);
    CHECK_EQ(corio_fd_close(s), 0);
    CHECK_EQ(corio_fd_close(fd), 0);
    CHECK_EQ(corio_fd_close(l4), 0);
    CHECK_EQ(corio_fd_close(l6), 0);
    corio_freeaddrinfo(a);
    return 0;
}

TEST(net_happy_eyeballs_interleaves_families)
{
    net_run(he_interleave_main, NULL);
}

/* corio_recvfrom / corio_sendto on a descriptor the program left blocking:
 * the first call makes it non-blocking (as corio_read does), so a receiver
 * that waits lets the sender run instead of stopping the loop in
 * recvfrom(2). A blocking receive would hang here (the runner's timeout). */
static int dgram_sender(void *arg, void **result)
{
    int fd = (int)(intptr_t)arg;
    (void)result;
    return corio_sendto(fd, "ping", 4, NULL, 0) == 4 ? 0 : -EIO;
}

static int blocking_dgram_main(void *arg, void **result)
{
    int sv[2];
    char buf[8];
    corio_task *t;
    (void)arg, (void)result;
    CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    CHECK_EQ(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0); /* left blocking */
    CHECK_EQ(corio_spawn(dgram_sender, (void *)(intptr_t)sv[1], NULL, &t), 0);
    CHECK_EQ(corio_recvfrom(sv[0], buf, sizeof buf, NULL, NULL), 4);
    CHECK(memcmp(buf, "ping", 4) == 0);
    CHECK(fcntl(sv[0], F_GETFL) & O_NONBLOCK); /* switched by corio */
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    corio_fd_close(sv[0]);
    corio_fd_close(sv[1]);
    return 0;
}

TEST(net_dgram_blocking_fd_made_nonblocking)
{
    net_run(blocking_dgram_main, NULL);
}
