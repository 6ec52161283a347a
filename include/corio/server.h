/*
 * corio/server.h: servers (asyncio's start_server, Go's http.Server's
 * life cycle): listeners, a task per connection, backpressure, graceful
 * shutdown.
 *
 * A server accepts on one or more listening sockets (TCP or Unix), each
 * in a task of its own. Each connection becomes a stream (stream.h) and
 * runs handler(stream, arg) in a task the server owns. When the handler
 * returns, the server closes the stream (flushing what it buffered).
 *
 * Failures. A handler that returns a negative code has failed: the
 * failure is counted, kept (the first CORIO_SERVER_ERRORS codes) and
 * reported on stderr (unless opts->quiet), as asyncio logs an exception
 * in a client_connected_cb; it never cancels the server or other
 * connections. CORIO_ESHUTTING and the -ECANCELED of a shutdown are not
 * failures.
 *
 * Backpressure. With max_connections, the server stops accepting while
 * that many connections are open (clients queue in the kernel's backlog)
 * and goes on when one ends: it never refuses or fails.
 *
 * Out of descriptors. When accept fails with -EMFILE or -ENFILE (or
 * -ENOBUFS/-ENOMEM), the server backs off (10 ms doubling to 1 s, cut
 * short when one of its connections ends) and keeps serving: it never
 * spins.
 *
 * Shutdown. corio_server_close stops accepting (the listeners are closed)
 * and makes every read that waits for new data with nothing buffered on
 * an idle connection return CORIO_ESHUTTING at once, as later reads that
 * would have to wait do; work in progress goes on for `grace` seconds,
 * after which the remaining handlers are cancelled. corio_server_wait
 * waits until everything has ended.
 *
 * Threads: a server belongs to the loop it was made on; every call is for
 * that loop's thread.
 */
#ifndef CORIO_SERVER_H
#define CORIO_SERVER_H

#include <stddef.h>
#include "error.h"
#include "net.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_server corio_server;

/* A connection's handler: runs in its own task; conn is the server's
 * (closed by it when the handler returns). A negative return is a
 * failure (see above). */
typedef int (*corio_server_handler)(corio_stream *conn, void *arg);

/* How many failure codes a server keeps. */
#define CORIO_SERVER_ERRORS 16

/* Options for corio_server_new; NULL or all zero: the defaults. */
typedef struct corio_server_opts {
    size_t max_connections;          /* 0: no limit */
    const corio_stream_opts *stream; /* for each connection's stream */
    int quiet;                       /* 1: no failure lines on stderr */
} corio_server_opts;

/* Counters of a server, from corio_server_stats. */
typedef struct corio_server_stats {
    size_t open;       /* connections open now */
    size_t accepted;   /* connections accepted so far */
    size_t failures;   /* handlers that failed */
    size_t backoffs;   /* accept back-offs for want of descriptors */
} corio_server_stats;

/*
 * corio_server_new: serve the n listening sockets fds (the server owns
 * them from now on, and closes them) with handler(conn, arg), starting
 * now on the loop running on this thread. Never suspends. Returns 0 with
 * *out set (free it with corio_server_free after corio_server_wait),
 * -EINVAL (fds, handler or out NULL, n 0, a descriptor < 0), -ENOMEM,
 * CORIO_ENOTASK (no loop runs on this thread). On error the descriptors
 * stay the caller's.
 */
CORIO_API int corio_server_new(const int *fds, size_t n,
                               corio_server_handler handler, void *arg,
                               const corio_server_opts *opts,
                               corio_server **out);

/*
 * corio_tcp_server: corio_tcp_listen(host, port, lopts) and
 * corio_server_new on what it gives (up to 16 listeners). Suspends while
 * host is resolved. Errors: those of both calls.
 */
CORIO_API int corio_tcp_server(const char *host, int port,
                               const corio_listen_opts *lopts,
                               corio_server_handler handler, void *arg,
                               const corio_server_opts *opts,
                               corio_server **out);

/* corio_server_port: the local port of the first listener (TCP), or a
 * negative errno (-EINVAL for NULL, -EBADF once closed, -EAFNOSUPPORT for
 * Unix sockets). Never suspends. */
CORIO_API int corio_server_port(const corio_server *s);

/*
 * corio_server_close: begin a graceful shutdown (see above): stop
 * accepting, wake idle reads with CORIO_ESHUTTING, cancel the handlers
 * still running `grace` seconds from now (<= 0: now; INFINITY: never).
 * Never suspends. Returns 0 (a second call changes nothing), -EINVAL (s
 * NULL, grace NaN), -ENOMEM (no timer: nothing changed).
 */
CORIO_API int corio_server_close(corio_server *s, double grace);

/*
 * corio_server_wait: wait until the server is closed and every
 * connection's handler has ended. Returns 0, -ECANCELED (the server is
 * left as it is), -EINVAL (s NULL), CORIO_ENOTASK. Suspends.
 */
CORIO_API int corio_server_wait(corio_server *s);

/* corio_server_stats_get: the counters into *st. -EINVAL for NULL. */
CORIO_API int corio_server_stats_get(const corio_server *s,
                                     corio_server_stats *st);

/* corio_server_error: the i-th failure code kept (i < min(failures,
 * CORIO_SERVER_ERRORS)), or 0 past them or for NULL. */
CORIO_API int corio_server_error(const corio_server *s, size_t i);

/*
 * corio_server_free: free a server that corio_server_wait saw end.
 * Returns 0 (NULL too), -EBUSY while it still runs (nothing freed: close
 * and wait first).
 */
CORIO_API int corio_server_free(corio_server *s);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_SERVER_H */
