/*
 * socket.c: listeners, Unix domain sockets, UDP and socket pairs
 * (contract in corio/net.h). Happy Eyeballs connects are in connect.c.
 *
 * Every socket is made SOCK_NONBLOCK | SOCK_CLOEXEC; every failure path
 * closes what it opened (plain close(2): nothing here was shown to the
 * loop yet).
 */
#include "io/io_impl.h"
#include "net/net_impl.h"

#include <corio/io.h>
#include <corio/task.h>
#include <corio/net.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

int corio__check_host(const char *host)
{
    return (host && !*host) ? -EINVAL : 0;
}

int corio__resolve(const char *host, int port, int family, int socktype,
                   int passive, struct addrinfo **res)
{
    struct addrinfo h;
    char serv[8];
    if (port < 0 || port > 65535 || corio__check_host(host))
        return -EINVAL;
    memset(&h, 0, sizeof h);
    h.ai_family = family;
    h.ai_socktype = socktype;
    h.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) |
                 (host ? AI_ADDRCONFIG : 0);
    snprintf(serv, sizeof serv, "%d", port);
    return corio_getaddrinfo(host, serv, &h, res);
}

int corio__socket(int family, int type, int proto)
{
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    return fd < 0 ? -errno : fd;
}

static int setopt(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof v) < 0 ? -errno : 0;
}

int corio_sock_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -EAFNOSUPPORT;
}

static void set_port(struct sockaddr *sa, int port)
{
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
    else if (sa->sa_family == AF_INET6)
        ((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}

/* ---- TCP listeners -------------------------------------------------------- */

static int listen_one(const struct addrinfo *a, const corio_listen_opts *o,
                      int port)
{
    int fd, rc;
    struct sockaddr_storage ss;
    if ((fd = corio__socket(a->ai_family, SOCK_STREAM, a->ai_protocol)) < 0)
        return fd;
    rc = 0;
    if (!o->no_reuseaddr)
        rc = setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (!rc && o->reuseport)
        rc = setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
    if (!rc && a->ai_family == AF_INET6)
        rc = setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    memcpy(&ss, a->ai_addr, a->ai_addrlen);
    if (port)
        set_port((struct sockaddr *)&ss, port);
    if (!rc && bind(fd, (struct sockaddr *)&ss, a->ai_addrlen) < 0)
        rc = -errno;
    if (!rc && listen(fd, o->backlog > 0 ? o->backlog : SOMAXCONN) < 0)
        rc = -errno;
    if (rc) {
        close(fd);
        return rc;
    }
    return fd;
}

int corio_tcp_listen(const char *host, int port,
                     const corio_listen_opts *opts, int *fds, size_t cap,
                     size_t *n)
{
    static const corio_listen_opts none;
    const corio_listen_opts *o = opts ? opts : &none;
    struct addrinfo *res = NULL, *a;
    size_t count = 0, i;
    int rc = 0, fd, p = port;
    if (!fds || !n || !cap || o->backlog < 0)
        return -EINVAL;
    if (o->family != AF_UNSPEC && o->family != AF_INET &&
        o->family != AF_INET6)
        return -EINVAL;
    if ((rc = corio__resolve(host, port, o->family, SOCK_STREAM, 1, &res)))
        return rc;
    for (a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET || a->ai_family == AF_INET6)
            count++;
    if (count > cap) {
        corio_freeaddrinfo(res);
        return -ENOSPC;
    }
    count = 0;
    for (a = res; a; a = a->ai_next) {
        if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
            continue;
        fd = listen_one(a, o, p);
        if (fd == -EAFNOSUPPORT || (fd == -EADDRNOTAVAIL && !host)) {
            continue; /* no IPv6 here: serve what there is */
        }
        if (fd < 0) {
            rc = fd;
            break;
        }
        fds[count++] = fd;
        if (p == 0 && (p = corio_sock_port(fd)) < 0) {
            rc = p;
            break;
        }
    }
    corio_freeaddrinfo(res);
    if (!rc && count == 0)
        rc = -EADDRNOTAVAIL;
    if (rc) {
        for (i = 0; i < count; i++)
            close(fds[i]);
        return rc;
    }
    *n = count;
    return 0;
}

/* ---- Unix domain sockets ------------------------------------------------- */

int corio_unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
    size_t l;
    if (!path || !sun || !len || !*path)
        return -EINVAL;
    l = strlen(path);
    if (l > sizeof sun->sun_path - (path[0] == '@' ? 0 : 1))
        return -ENAMETOOLONG;
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, l);
    if (path[0] == '@')
        sun->sun_path[0] = 0; /* abstract: no terminating NUL counted */
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l +
                       (path[0] == '@' ? 0 : 1));
    return 0;
}

static int unix_bound(const char *path, int type, int backlog, int *out)
{
    struct sockaddr_un sun;
    socklen_t len;
    int fd, rc;
    if (!out || backlog < 0)
        return -EINVAL;
    if ((rc = corio_unix_addr(path, &sun, &len)) != 0)
        return rc;
    if ((fd = corio__socket(AF_UNIX, type, 0)) < 0)
        return fd;
    rc = 0;
    if (bind(fd, (struct sockaddr *)&sun, len) < 0)
        rc = -errno;
    else if (type == SOCK_STREAM &&
             listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
        rc = -errno;
    if (rc) {
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

int corio_unix_listen(const char *path, int backlog, int *fd)
{
    return unix_bound(path, SOCK_STREAM, backlog, fd);
}

int corio_unix_bind(const char *path, int *fd)
{
    return unix_bound(path, SOCK_DGRAM, 0, fd);
}

int corio_unix_connect(const char *path, int type, int *out)
{
    struct sockaddr_un sun;
    socklen_t len;
    double backoff = 0.001;
    int fd, rc;
    if (!out || (type != SOCK_STREAM && type != SOCK_DGRAM))
        return -EINVAL;
    if ((rc = corio_unix_addr(path, &sun, &len)) != 0)
        return rc;
    if (!corio_task_running_p())
        return CORIO_ENOTASK;
    if ((fd = corio__socket(AF_UNIX, type, 0)) < 0)
        return fd;
    for (;;) {
        rc = corio_connect(fd, (struct sockaddr *)&sun, len);
        if (rc != -EAGAIN)
            break;
        /* Full backlog: Linux says EAGAIN for Unix sockets, and nothing
         * signals when there is room (the unconnected socket polls
         * writable), so back off and try again. */
        rc = corio_sleep(backoff);
        if (rc)
            break;
        backoff = backoff * 2 < 0.5 ? backoff * 2 : 0.5;
    }
    if (rc) {
        corio_fd_close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

int corio_socketpair(int type, int fds[2])
{
    if (!fds || (type != SOCK_STREAM && type != SOCK_DGRAM))
        return -EINVAL;
    if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
        return -errno;
    return 0;
}

/* ---- UDP ------------------------------------------------------------------- */

int corio_udp_open(const char *local_host, int local_port,
                   const char *remote_host, int remote_port,
                   const corio_udp_opts *opts, int *out)
{
    static const corio_udp_opts none;
    const corio_udp_opts *o = opts ? opts : &none;
    struct addrinfo *loc = NULL, *rem = NULL;
    int family, fd = -1, rc;
    if (!out || corio__check_host(local_host) ||
        corio__check_host(remote_host) || local_port < 0 ||
        local_port > 65535 || remote_port < 0 || remote_port > 65535)
        return -EINVAL;
    if (o->family != AF_UNSPEC && o->family != AF_INET &&
        o->family != AF_INET6)
        return -EINVAL;
    family = o->family;
    if (remote_host) {
        rc = corio__resolve(remote_host, remote_port, family, SOCK_DGRAM, 0,
                            &rem);
        if (rc)
            return rc;
        family = rem->ai_family;
    }
    if (local_host || local_port || !remote_host) {
        rc = corio__resolve(local_host, local_port,
                            family ? family : (local_host ? 0 : AF_INET),
                            SOCK_DGRAM, 1, &loc);
        if (rc) {
            corio_freeaddrinfo(rem);
            return rc;
        }
        family = loc->ai_family;
    }
    if ((fd = corio__socket(family, SOCK_DGRAM, 0)) < 0) {
        rc = fd;
        goto out;
    }
    rc = 0;
    if (o->reuseport)
        rc = setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1) ?:
             setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
    if (!rc && o->broadcast)
        rc = setopt(fd, SOL_SOCKET, SO_BROADCAST, 1);
    if (!rc && o->multicast_ttl > 0)
        rc = family == AF_INET6
                 ? setopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS,
                          o->multicast_ttl)
                 : setopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, o->multicast_ttl);
    if (!rc && o->multicast_noloop)
        rc = family == AF_INET6
                 ? setopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0)
                 : setopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    if (!rc && loc && bind(fd, loc->ai_addr, loc->ai_addrlen) < 0)
        rc = -errno;
    if (!rc && rem && connect(fd, rem->ai_addr, rem->ai_addrlen) < 0)
        rc = -errno; /* UDP connects never wait */
out:
    corio_freeaddrinfo(loc);
    corio_freeaddrinfo(rem);
    if (rc) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

int corio_udp_join(int fd, const char *group)
{
    struct ip_mreqn m4;
    struct ipv6_mreq m6;
    if (!group)
        return -EINVAL;
    memset(&m4, 0, sizeof m4);
    memset(&m6, 0, sizeof m6);
    if (inet_pton(AF_INET, group, &m4.imr_multiaddr) == 1) {
        if (!IN_MULTICAST(ntohl(m4.imr_multiaddr.s_addr)))
            return -EINVAL;
        return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m4, sizeof m4)
                   ? -errno : 0;
    }
    if (inet_pton(AF_INET6, group, &m6.ipv6mr_multiaddr) == 1) {
        if (!IN6_IS_ADDR_MULTICAST(&m6.ipv6mr_multiaddr))
            return -EINVAL;
        return setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof m6)
                   ? -errno : 0;
    }
    return -EINVAL;
}

ssize_t corio_sendto(int fd, const void *buf, size_t len,
                     const struct sockaddr *to, socklen_t tolen)
{
    ssize_t n;
    int rc;
    if (!buf && len > 0)
        return -EINVAL;
    if ((rc = corio__fd_prepare(fd)) != 0)
        return rc;
    for (;;) {
        n = sendto(fd, buf, len, MSG_NOSIGNAL, to, to ? tolen : 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        if ((rc = corio__fd_wait_again(fd, 0)) != 0)
            return rc;
    }
}

ssize_t corio_recvfrom(int fd, void *buf, size_t len, struct sockaddr *from,
                       socklen_t *fromlen)
{
    ssize_t n;
    socklen_t l0 = fromlen ? *fromlen : 0;
    int rc;
    if ((!buf && len > 0) || (from && !fromlen))
        return -EINVAL;
    if ((rc = corio__fd_prepare(fd)) != 0)
        return rc;
    for (;;) {
        if (fromlen)
            *fromlen = l0;
        n = recvfrom(fd, buf, len, MSG_TRUNC, from, fromlen);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        if ((rc = corio__fd_wait_again(fd, 1)) != 0)
            return rc;
    }
}
