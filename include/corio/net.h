/*
 * corio/net.h: name resolution and sockets for tasks: TCP clients (Happy
 * Eyeballs) and listeners, Unix domain sockets, UDP, socket pairs.
 *
 * Every descriptor these calls give is non-blocking and close-on-exec,
 * ready for the calls of io.h and for corio_stream_new (stream.h); the
 * caller owns it and closes it with corio_fd_close.
 *
 * Calls that may suspend do so for the calling task only, must be made in
 * a task (CORIO_ENOTASK otherwise) and follow the cancellation rule: one
 * that would have to wait while a cancel stands fails with -ECANCELED at
 * once; one that need not wait (a numeric address, a Unix connect the
 * kernel completes at once) succeeds. A call that fails keeps nothing:
 * no descriptor is left open, no result to free.
 *
 * Hosts and ports. A host is a name ("localhost", "example.org") or an
 * address literal ("127.0.0.1", "::1", "fe80::1%eth0"); an empty host is
 * -EINVAL, as is a port outside 0..65535. Names are resolved with
 * corio_getaddrinfo.
 *
 * Unix socket paths: a path starting with '@' names an abstract socket
 * (Linux: the '@' stands for the leading NUL byte); a path longer than
 * sun_path can hold (107 bytes) is -ENAMETOOLONG; an empty one -EINVAL.
 *
 * Name resolution errors (error.h): CORIO_ENOTFOUND (no such name),
 * CORIO_ENOADDRESS (no address of that family), CORIO_ETRYAGAIN
 * (temporary failure), CORIO_ERESOLVE (permanent failure), CORIO_ESERVICE
 * (unknown service); corio_strerror describes each.
 */
#ifndef CORIO_NET_H
#define CORIO_NET_H

#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* struct addrinfo is POSIX: a program compiled with -std=c11 defines
 * _POSIX_C_SOURCE (200112L or later) or _GNU_SOURCE to use its fields. */
struct addrinfo;

/* ---- name resolution ----------------------------------------------------- */

/*
 * corio_getaddrinfo: getaddrinfo(3) for tasks: resolve host and/or
 * service (one may be NULL, not both) under hints (may be NULL; its
 * ai_addr, ai_canonname, ai_next must be NULL and ai_addrlen 0). On 0,
 * *res is a list the caller frees with corio_freeaddrinfo (never
 * freeaddrinfo). Suspends only the calling task while a name is looked up
 * (c-ares on the loop's poller when built in, else the C library's
 * resolver on another thread; corio_resolver says which); address
 * literals with a numeric or absent service are answered without waiting.
 * Cancellable: -ECANCELED, and the lookup's late answer is dropped.
 * Errors: -EINVAL (res NULL, both names NULL, an empty name, bad hints or
 * flags), the resolution codes above, -EAFNOSUPPORT (family), -ENOMEM,
 * -ECANCELED, CORIO_ENOTASK.
 */
CORIO_API int corio_getaddrinfo(const char *host, const char *service,
                                const struct addrinfo *hints,
                                struct addrinfo **res);

/* corio_freeaddrinfo: free a list from corio_getaddrinfo (NULL: nothing). */
CORIO_API void corio_freeaddrinfo(struct addrinfo *res);

/*
 * corio_getnameinfo: getnameinfo(3) for tasks: the host name and/or the
 * service name of an IPv4 or IPv6 address, into host (hostlen bytes) and
 * serv (servlen bytes); either may be NULL, not both. flags: NI_*
 * (NI_NUMERICHOST, NI_NUMERICSERV, NI_NAMEREQD, NI_DGRAM, NI_NOFQDN).
 * Suspends as corio_getaddrinfo; with only numeric answers asked for it
 * never waits. Errors: -EINVAL (sa NULL, salen too short for its family,
 * both outputs NULL, a zero length), -EAFNOSUPPORT (not AF_INET/AF_INET6),
 * -ENOSPC (an answer longer than its buffer), the resolution codes,
 * -ENOMEM, -ECANCELED, CORIO_ENOTASK.
 */
CORIO_API int corio_getnameinfo(const struct sockaddr *sa, socklen_t salen,
                                char *host, size_t hostlen, char *serv,
                                size_t servlen, int flags);

/* corio_resolver: "c-ares" or "thread": the backend corio_getaddrinfo
 * uses (CORIO_RESOLVER=thread in the environment picks the thread even
 * when c-ares is built in). Never NULL; static. */
CORIO_API const char *corio_resolver(void);

/* ---- TCP ------------------------------------------------------------------- */

/* Options for corio_tcp_connect; NULL or all zero: the defaults. */
typedef struct corio_tcp_opts {
    int family;            /* AF_UNSPEC (0: both), AF_INET or AF_INET6 */
    const char *local_host; /* bind to this address first (NULL: any) */
    int local_port;        /* with local_host or alone (0: any) */
    int no_nodelay;        /* 1: leave Nagle's algorithm on (TCP_NODELAY
                              is set by default, as asyncio does) */
    int keepalive;         /* > 0: SO_KEEPALIVE, probes after that many
                              idle seconds */
    double attempt_delay;  /* Happy Eyeballs: seconds before the next
                              address is tried (0: 0.25, RFC 8305) */
} corio_tcp_opts;

/*
 * corio_tcp_connect: connect to host:port over TCP. The host's addresses
 * are tried as RFC 8305 (Happy Eyeballs) says: families interleaved
 * (starting with the resolver's first), the next attempt started when
 * attempt_delay has passed or the previous attempt failed, several in
 * flight; the first connection made wins and every other attempt is
 * closed. Runs under the caller's cancel scopes: a deadline (scope.h) or
 * a cancel ends every attempt. On 0 *fd is the connected socket.
 * Suspends. Errors: -EINVAL (host or fd NULL, empty host, port out of
 * range, bad opts), the resolution codes, the last attempt's connect
 * error when every attempt failed (-ECONNREFUSED, -ENETUNREACH, ...),
 * -ECANCELED, -EMFILE/-ENFILE, -ENOMEM, CORIO_ENOTASK.
 */
CORIO_API int corio_tcp_connect(const char *host, int port,
                                const corio_tcp_opts *opts, int *fd);

/* Options for corio_tcp_listen; NULL or all zero: the defaults. */
typedef struct corio_listen_opts {
    int family;     /* AF_UNSPEC (0), AF_INET or AF_INET6 */
    int backlog;    /* listen(2)'s backlog (0: SOMAXCONN) */
    int reuseport;  /* 1: SO_REUSEPORT (several sockets, for instance one
                       per loop and thread, share the port) */
    int no_reuseaddr; /* 1: no SO_REUSEADDR (set by default) */
} corio_listen_opts;

/*
 * corio_tcp_listen: listening TCP sockets on every address host resolves
 * to (NULL: every local address, IPv4 and IPv6), one per address, IPv6
 * ones IPV6_V6ONLY. With port 0 the first socket gets a free port and the
 * others take the same one. Up to cap descriptors go to fds, their count
 * to *n. Suspends while host is resolved (not for NULL or a literal).
 * Errors: -EINVAL (fds or n NULL, cap 0, empty host, port out of range),
 * -ENOSPC (more addresses than cap: nothing kept), the resolution codes,
 * bind/listen errors (-EADDRINUSE, -EACCES, -EADDRNOTAVAIL), -EMFILE,
 * -ENFILE, -ENOMEM, -ECANCELED, CORIO_ENOTASK.
 */
CORIO_API int corio_tcp_listen(const char *host, int port,
                               const corio_listen_opts *opts, int *fds,
                               size_t cap, size_t *n);

/* corio_sock_port: the local port of a bound IPv4/IPv6 socket, or a
 * negative errno (-EBADF, -EAFNOSUPPORT for other families). Never
 * suspends. */
CORIO_API int corio_sock_port(int fd);

/* ---- Unix domain sockets ------------------------------------------------ */

/*
 * corio_unix_listen: a listening SOCK_STREAM Unix socket at path ('@'
 * first: abstract). A stale socket file at path is not removed: -EADDRINUSE
 * (unlink it first). backlog 0: SOMAXCONN. Never suspends. Errors: -EINVAL
 * (path or fd NULL, empty path, backlog < 0), -ENAMETOOLONG, bind and
 * listen's errors, -EMFILE, -ENFILE.
 */
CORIO_API int corio_unix_listen(const char *path, int backlog, int *fd);

/*
 * corio_unix_connect: a socket of `type` (SOCK_STREAM or SOCK_DGRAM)
 * connected to the Unix socket at path. Suspends while the listener's
 * backlog is full (retrying at growing intervals up to 0.5 s, under the
 * caller's deadline); otherwise the kernel connects at once.
 * Errors: -EINVAL (path or fd NULL, empty path, other type),
 * -ENAMETOOLONG, -ENOENT, -ECONNREFUSED, -EAGAIN never (a full backlog
 * is waited out), -ECANCELED, -EMFILE, -ENFILE, CORIO_ENOTASK.
 */
CORIO_API int corio_unix_connect(const char *path, int type, int *fd);

/*
 * corio_unix_bind: a SOCK_DGRAM Unix socket bound to path (for
 * corio_recvfrom; datagram peers send to path with corio_sendto). Never
 * suspends. Errors as corio_unix_listen.
 */
CORIO_API int corio_unix_bind(const char *path, int *fd);

/*
 * corio_unix_addr: fill *sun and *len for path (as above: '@' abstract),
 * for corio_sendto. -EINVAL (a NULL argument, empty path),
 * -ENAMETOOLONG. Never suspends.
 */
struct sockaddr_un;
CORIO_API int corio_unix_addr(const char *path, struct sockaddr_un *sun,
                              socklen_t *len);

/*
 * corio_socketpair: a connected pair of Unix sockets of `type`
 * (SOCK_STREAM or SOCK_DGRAM). Never suspends. -EINVAL (fds NULL, other
 * type), -EMFILE, -ENFILE.
 */
CORIO_API int corio_socketpair(int type, int fds[2]);

/* ---- UDP --------------------------------------------------------------------- */

/* Options for corio_udp_open; NULL or all zero: the defaults. */
typedef struct corio_udp_opts {
    int family;           /* AF_UNSPEC (0), AF_INET or AF_INET6 */
    int reuseport;        /* 1: SO_REUSEPORT (and SO_REUSEADDR) */
    int broadcast;        /* 1: SO_BROADCAST */
    int multicast_ttl;    /* > 0: IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS */
    int multicast_noloop; /* 1: do not loop multicast back to this host */
} corio_udp_opts;

/*
 * corio_udp_open: a UDP socket bound to local_host:local_port (host NULL:
 * any address; port 0: any port) and, when remote_host is not NULL,
 * connected to remote_host:remote_port (then corio_write/corio_read send
 * and receive datagrams with that peer only). The family is the first
 * that resolves (or opts->family). Suspends while names are resolved.
 * Errors: -EINVAL (fd NULL, empty host, port out of range, both hosts
 * NULL with no family when a remote port is given), the resolution codes,
 * bind/connect errors, -EMFILE, -ENFILE, -ENOMEM, -ECANCELED,
 * CORIO_ENOTASK.
 */
CORIO_API int corio_udp_open(const char *local_host, int local_port,
                             const char *remote_host, int remote_port,
                             const corio_udp_opts *opts, int *fd);

/*
 * corio_udp_join: join the multicast group `group` (an IPv4 or IPv6
 * literal) on fd, on the interface the kernel picks. Never suspends.
 * -EINVAL (group NULL or not a multicast literal), setsockopt's errors.
 */
CORIO_API int corio_udp_join(int fd, const char *group);

/*
 * corio_sendto: send one datagram of len bytes to `to` (NULL: the
 * connected peer), waiting while the socket's buffer is full. Returns
 * the count sent or a negative errno: -EINVAL (buf NULL with len > 0),
 * sendto's errors (-EMSGSIZE, -EDESTADDRREQ, -ECONNREFUSED from an
 * earlier datagram's ICMP answer), those of corio_wait_writable.
 * Suspends. A descriptor left blocking is made non-blocking by the first
 * call, as corio_read and corio_write do (io.h).
 */
CORIO_API ssize_t corio_sendto(int fd, const void *buf, size_t len,
                               const struct sockaddr *to, socklen_t tolen);

/*
 * corio_recvfrom: receive one datagram into buf (a longer one is cut to
 * len), waiting for one; the sender's address goes to from and *fromlen
 * (both may be NULL; from without fromlen is -EINVAL). Returns the
 * datagram's length as received or a negative errno: -EINVAL, recvfrom's
 * errors, those of corio_wait_readable. Suspends. A descriptor left
 * blocking is made non-blocking by the first call, as corio_read does.
 */
CORIO_API ssize_t corio_recvfrom(int fd, void *buf, size_t len,
                                 struct sockaddr *from, socklen_t *fromlen);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_NET_H */
