/*
 * stream_impl.h: the stream object (stream.c) as server.c sees it.
 *
 * Read buffer: bytes [rstart, rend) of rbuf (capacity rcap) are buffered
 * and not consumed; `scanned` is how far from rstart a delimiter search
 * has already looked (reset when data is consumed). Write buffer: bytes
 * [wstart, wend) of wbuf are accepted and not yet sent.
 *
 * Server shutdown (server.c): `shutting` makes a read that would wait for
 * new data with an empty buffer return CORIO_ESHUTTING; `idle` is set
 * while such a read waits, so the server can wake it (shutdown(SHUT_RD)
 * makes the descriptor readable; the read then sees `shutting` and says
 * CORIO_ESHUTTING rather than end of file).
 */
#ifndef CORIO_NET_STREAM_IMPL_H
#define CORIO_NET_STREAM_IMPL_H

#include <corio/stream.h>
#include <sys/types.h>

struct corio_stream {
    int fd;
    unsigned char *rbuf;
    size_t rcap, rstart, rend, scanned;
    unsigned char *wbuf;
    size_t wcap, wstart, wend;
    size_t limit, high, low;
    int rerr;               /* sticky read error (not EOF) */
    int werr;               /* sticky write error */
    unsigned char eof;      /* read returned 0 */
    unsigned char wshut;    /* write_eof done */
    unsigned char notsock;  /* writev instead of sendmsg */
    unsigned char no_close;
    unsigned char shutting; /* the server is shutting down */
    unsigned char idle;     /* a read waits with an empty buffer */
    unsigned char kicked;   /* the server shut the read side */
    struct corio__tls *tls; /* TLS state after start_tls (tls.c), or NULL */
    char tls_err[160];      /* the last TLS failure in words */
};

/* TLS hooks (tls.c). Both transfer calls return a count (> 0), 0 at the
 * end of the stream (read: close_notify), CORIO__TLS_WANT_READ/_WRITE
 * when the socket must become readable/writable first, or an error
 * (CORIO_ETLS, CORIO_ECERT, -errno); errors leave a reason in tls_err. */
#define CORIO__TLS_WANT_READ (CORIO_EBASE - 98)
#define CORIO__TLS_WANT_WRITE (CORIO_EBASE - 99)
ssize_t corio__tls_read(corio_stream *s, void *buf, size_t n);
ssize_t corio__tls_write(corio_stream *s, const void *buf, size_t n);
/* Send close_notify: 0, CORIO__TLS_WANT_*, or an error. */
int corio__tls_shutdown(corio_stream *s);
/* Free the TLS state (no I/O). */
void corio__tls_free(corio_stream *s);
/* Wait for what a TLS call said it needs first (want: CORIO__TLS_WANT_READ
 * or _WRITE; the socket just said EAGAIN underneath): 0 to try again, or
 * the wait's error. Suspends. */
int corio__tls_wait(const corio_stream *s, int want);

/* Server shutdown: mark s, and wake a read that waits with an empty
 * buffer. Never suspends. */
void corio__stream_shutdown_idle(corio_stream *s);

/* Search buf[0, len) for delim (dlen >= 1), starting at *from (bytes
 * before it were searched already). Returns the length up to and
 * including the delimiter, or 0 when not found; then *from is where the
 * next search (after more data) must start so that a delimiter split
 * across the boundary is found. Pure. */
size_t corio__stream_scan(const unsigned char *buf, size_t len, size_t *from,
                          const unsigned char *delim, size_t dlen);

#endif /* CORIO_NET_STREAM_IMPL_H */
