/*
 * net_helpers.h: what the networking tests (net/test_dns.c, net/test_net*.c,
 * net/test_stream.c, net/test_server.c) share: running a main task, IPv6
 * availability, a connected TCP pair over loopback.
 */
#ifndef CORIO_TEST_NET_HELPERS_H
#define CORIO_TEST_NET_HELPERS_H

#include "test.h"

#include <corio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static inline void net_run(corio_coro_fn fn, void *arg)
{
    int rc = corio_run(fn, arg, NULL);
    if (rc != 0)
        corio_test_fail(__FILE__, __LINE__, "corio_run: %s (%s)",
                        corio_errname(rc), corio_strerror(rc));
}

/* 1 if ::1 can be bound here. */
static inline int have_ipv6(void)
{
    struct sockaddr_in6 a;
    int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;
    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* A connected TCP pair over 127.0.0.1 (inside a task): c client, s
 * server side. */
static inline void tcp_pair(int *c, int *s)
{
    int lfd;
    size_t n;
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &lfd, 1, &n), 0);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", corio_sock_port(lfd), NULL, c),
             0);
    *s = corio_accept(lfd, NULL, NULL);
    CHECK_INT(*s, >=, 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
}

static inline int peer_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    CHECK_EQ(getpeername(fd, (struct sockaddr *)&ss, &len), 0);
    return ss.ss_family == AF_INET
               ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
               : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static inline int peer_family(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    CHECK_EQ(getpeername(fd, (struct sockaddr *)&ss, &len), 0);
    return ss.ss_family;
}

#endif /* CORIO_TEST_NET_HELPERS_H */
