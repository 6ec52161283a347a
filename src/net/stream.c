/*
 * stream.c: buffered streams over a descriptor (contract in
 * corio/stream.h; the object in stream_impl.h).
 *
 * Every wait is on the descriptor's readiness (corio__fd_wait_again
 * after the kernel or TLS said EAGAIN, io/io_impl.h; the idle first read's
 * corio_wait_readable), and data moves between the kernel and our buffers only in calls that
 * cannot be cancelled halfway (read(2) into rbuf, writev from wbuf), so a
 * cancelled wait leaves the buffers as they were: nothing is lost.
 * Reads consume from rbuf only once they succeed. One read skips rbuf:
 * corio_stream_read of at least READ_CHUNK bytes with nothing buffered
 * (plain streams) reads straight into the caller's buffer, saving a copy
 * (the kernel hands over the same bytes either way). Reads go through
 * corio__fd_read, which knows when a short read left the socket empty,
 * so a request costs one read(2), not a second one that says EAGAIN.
 *
 * The read buffer grows (doubling) up to what the largest request needs:
 * the limit for read_until, n for read_exactly. It is compacted (data
 * moved to the front) before a read when the free tail is small. It is
 * allocated only once data has come (the first read waits for
 * readability first), so an idle connection holds no buffer.
 */
#include "alloc.h"
#include "io/io_impl.h"
#include "net/stream_impl.h"
#include "task/task_impl.h"

#include <corio/io.h>
#include <corio/task.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define DEFAULT_LIMIT 65536
#define DEFAULT_HIGH 65536
#define READ_CHUNK 16384

size_t corio__stream_scan(const unsigned char *buf, size_t len, size_t *from,
                          const unsigned char *delim, size_t dlen)
{
    size_t i = *from;
    const unsigned char *p;
    if (len < dlen) {
        *from = 0;
        return 0;
    }
    while (i + dlen <= len) {
        p = memchr(buf + i, delim[0], len - dlen + 1 - i);
        if (!p)
            break;
        i = (size_t)(p - buf);
        if (memcmp(p, delim, dlen) == 0)
            return i + dlen;
        i++;
    }
    *from = len - dlen + 1;
    return 0;
}

int corio_stream_new(int fd, const corio_stream_opts *opts,
                     corio_stream **out)
{
    static const corio_stream_opts none;
    const corio_stream_opts *o = opts ? opts : &none;
    corio_stream *s;
    size_t high = o->high_water ? o->high_water : DEFAULT_HIGH;
    int rc;
    if (!out || fd < 0 || o->low_water > high)
        return -EINVAL;
    if (fcntl(fd, F_GETFL) < 0)
        return -EBADF;
    s = corio__calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    if ((rc = corio_fd_nonblock(fd)) != 0) {
        corio__free(s);
        return rc;
    }
    s->fd = fd;
    s->limit = o->limit ? o->limit : DEFAULT_LIMIT;
    s->high = high;
    s->low = o->low_water;
    s->no_close = o->no_close ? 1 : 0;
    *out = s;
    return 0;
}

int corio_stream_fd(const corio_stream *s)
{
    return s ? s->fd : -1;
}

static size_t buffered(const corio_stream *s)
{
    return s->rend - s->rstart;
}

/* The first buffered byte (never a null pointer, even before the first
 * read allocated the buffer). */
static unsigned char *rdata(corio_stream *s)
{
    static unsigned char none[1];
    return s->rbuf ? s->rbuf + s->rstart : none;
}

static void consume(corio_stream *s, size_t n)
{
    s->rstart += n;
    s->scanned = 0;
    if (s->rstart == s->rend)
        s->rstart = s->rend = 0;
}

/* Room for at least `want` more bytes after rend, and for `total`
 * buffered bytes overall. 0 or -ENOMEM. */
static int reserve(corio_stream *s, size_t want, size_t total)
{
    size_t need, cap;
    unsigned char *nb;
    if (s->rcap - s->rend >= want && s->rcap >= total)
        return 0;
    if (s->rstart > 0) { /* compact */
        memmove(s->rbuf, rdata(s), buffered(s));
        s->rend -= s->rstart;
        s->rstart = 0;
        if (s->rcap - s->rend >= want && s->rcap >= total)
            return 0;
    }
    need = s->rend + want;
    if (need < total)
        need = total;
    cap = s->rcap ? s->rcap : READ_CHUNK;
    while (cap < need)
        cap *= 2;
    nb = corio__realloc(s->rbuf, cap);
    if (!nb)
        return -ENOMEM;
    s->rbuf = nb;
    s->rcap = cap;
    return 0;
}

/* A plain (not TLS) stream: read once into dst (room > 0 bytes), waiting
 * for data: the buffer's free tail, or a caller's buffer when nothing is
 * buffered. > 0 bytes read, 0 end of file, < 0 error (a read error is
 * kept, sticky). */
static inline __attribute__((always_inline)) ssize_t
read_plain(corio_stream *s, unsigned char *dst, size_t room)
{
    ssize_t n;
    int rc;
    if (s->kicked && buffered(s) == 0)
        return CORIO_ESHUTTING;
    n = corio__fd_read(s->fd, dst, room);
    for (;;) {
        if (n > 0)
            return n;
        if (n == 0) {
            if (s->kicked)
                return CORIO_ESHUTTING; /* our own SHUT_RD, not the peer */
            s->eof = 1;
            return 0;
        }
        if (n != -EAGAIN && n != -EWOULDBLOCK) {
            s->rerr = (int)n;
            return s->rerr;
        }
        if (s->shutting && buffered(s) == 0)
            return CORIO_ESHUTTING; /* idle: do not start waiting */
        /* Wait, then read in the same call; a shutdown that kicked the
         * wait (an empty buffer: `idle`) reads nothing. */
        s->idle = buffered(s) == 0;
        n = corio__fd_wait_read(s->fd, dst, room,
                                s->idle ? &s->kicked : NULL, &rc);
        s->idle = 0;
        if (rc)
            return rc;
        if (n == -EAGAIN && s->kicked && buffered(s) == 0)
            return CORIO_ESHUTTING;
    }
}

/* What a read answers before it touches the descriptor: the stored error,
 * 0 at end of file, CORIO_ENOTASK outside a task; 1 to go on. */
static ssize_t read_gate(const corio_stream *s)
{
    if (s->rerr)
        return s->rerr;
    if (s->eof)
        return 0;
    if (!corio__task_running())
        return CORIO_ENOTASK;
    return 1;
}

/* Read once more into the buffer, waiting for data, with room for at
 * least `total` buffered bytes. > 0 bytes added, 0 end of file, < 0
 * error. Nothing already buffered changes on any return. */
static ssize_t fill(corio_stream *s, size_t total)
{
    ssize_t n;
    size_t room;
    int rc;
    if ((n = read_gate(s)) != 1)
        return n;
    if (!s->rbuf && !s->tls && !s->shutting) {
        /* Never read yet: wait for data before taking buffer memory, so
         * that an idle connection costs none. */
        s->idle = 1;
        rc = corio_wait_readable(s->fd);
        s->idle = 0;
        if (rc)
            return rc;
    }
    room = READ_CHUNK;
    if (total > buffered(s) && total - buffered(s) < room)
        room = total - buffered(s);
    if ((rc = reserve(s, room, total)) != 0)
        return rc;
    while (s->tls) {
        if (s->kicked && buffered(s) == 0)
            return CORIO_ESHUTTING;
        n = corio__tls_read(s, s->rbuf + s->rend, s->rcap - s->rend);
        if (n == CORIO__TLS_WANT_READ || n == CORIO__TLS_WANT_WRITE) {
            if (s->shutting && buffered(s) == 0)
                return CORIO_ESHUTTING;
            s->idle = buffered(s) == 0 && n == CORIO__TLS_WANT_READ;
            rc = corio__tls_wait(s, (int)n);
            s->idle = 0;
            if (rc)
                return rc;
            continue;
        }
        if (n < 0) {
            s->rerr = (int)n;
            return s->rerr;
        }
        if (n == 0 && s->kicked)
            return CORIO_ESHUTTING;
        if (n == 0) {
            s->eof = 1;
            return 0;
        }
        s->rend += (size_t)n;
        return n;
    }
    n = read_plain(s, s->rbuf + s->rend, s->rcap - s->rend);
    if (n > 0)
        s->rend += (size_t)n;
    return n;
}

ssize_t corio_stream_read(corio_stream *s, void *buf, size_t n)
{
    size_t k;
    ssize_t r;
    if (!s || (!buf && n > 0))
        return -EINVAL;
    if (n == 0)
        return 0;
    if (buffered(s) == 0 && !s->tls && n >= READ_CHUNK) {
        /* Nothing buffered and a large buffer: read straight into it (no
         * copy, and no buffer memory), as the kernel would give it to a
         * read of the buffer anyway. */
        if ((r = read_gate(s)) != 1)
            return r;
        return read_plain(s, buf, n);
    }
    while (buffered(s) == 0) {
        r = fill(s, 1);
        if (r <= 0)
            return r;
    }
    k = buffered(s) < n ? buffered(s) : n;
    memcpy(buf, rdata(s), k);
    consume(s, k);
    return (ssize_t)k;
}

int corio_stream_read_exactly(corio_stream *s, void *buf, size_t n,
                              size_t *got)
{
    ssize_t r;
    size_t k;
    if (got)
        *got = 0;
    if (!s || (!buf && n > 0))
        return -EINVAL;
    while (buffered(s) < n) {
        r = fill(s, n);
        if (r < 0)
            return (int)r;
        if (r == 0) { /* the end: hand over what came */
            k = buffered(s);
            memcpy(buf, rdata(s), k);
            consume(s, k);
            if (got)
                *got = k;
            return CORIO_EINCOMPLETE;
        }
    }
    memcpy(buf, rdata(s), n);
    consume(s, n);
    if (got)
        *got = n;
    return 0;
}

/* Wait until the buffer holds the delimiter within `limit` bytes. 0 with
 * *found its end; CORIO_ELIMIT; 1 at end of stream without it; < 0. */
static int until(corio_stream *s, const unsigned char *d, size_t dlen,
                 size_t limit, size_t *found)
{
    size_t end, avail;
    ssize_t r;
    s->scanned = 0; /* an earlier search may have had another delimiter */
    for (;;) {
        avail = buffered(s) < limit ? buffered(s) : limit;
        if (s->scanned > avail)
            s->scanned = 0;
        end = corio__stream_scan(rdata(s), avail, &s->scanned, d,
                                 dlen);
        if (end) {
            *found = end;
            return 0;
        }
        if (buffered(s) >= limit)
            return CORIO_ELIMIT;
        r = fill(s, limit);
        if (r < 0)
            return (int)r;
        if (r == 0)
            return 1;
    }
}

static int read_until(corio_stream *s, const void *delim, size_t dlen,
                      void *buf, size_t cap, size_t *len, int line)
{
    size_t limit, end = 0, k;
    int rc;
    if (len)
        *len = 0;
    if (!s || !delim || !buf || !len || dlen == 0 || cap < dlen)
        return -EINVAL;
    limit = cap < s->limit ? cap : s->limit;
    if (limit < dlen)
        limit = dlen;
    rc = until(s, delim, dlen, limit, &end);
    if (rc == 1) { /* end of stream: the rest (less than limit bytes) */
        k = buffered(s);
        memcpy(buf, rdata(s), k);
        consume(s, k);
        *len = k;
        return line ? 0 : CORIO_EINCOMPLETE;
    }
    if (rc != 0)
        return rc;
    memcpy(buf, rdata(s), end);
    consume(s, end);
    *len = end;
    return 0;
}

int corio_stream_read_until(corio_stream *s, const void *delim, size_t dlen,
                            void *buf, size_t cap, size_t *len)
{
    return read_until(s, delim, dlen, buf, cap, len, 0);
}

int corio_stream_read_line(corio_stream *s, void *buf, size_t cap,
                           size_t *len)
{
    return read_until(s, "\n", 1, buf, cap, len, 1);
}

int corio_stream_peek(corio_stream *s, const void **data, size_t *len)
{
    if (!s || !data || !len)
        return -EINVAL;
    *data = rdata(s);
    *len = buffered(s);
    return 0;
}

ssize_t corio_stream_fill(corio_stream *s)
{
    if (!s)
        return -EINVAL;
    if (buffered(s) >= s->limit)
        return CORIO_ELIMIT;
    return fill(s, buffered(s) + 1);
}

int corio_stream_consume(corio_stream *s, size_t n)
{
    if (!s || n > buffered(s))
        return -EINVAL;
    if (n)
        consume(s, n);
    return 0;
}

int corio_stream_at_eof(const corio_stream *s)
{
    return s && s->eof && buffered(s) == 0;
}

/* ---- writing ---------------------------------------------------------------- */

size_t corio_stream_write_pending(const corio_stream *s)
{
    return s ? s->wend - s->wstart : 0;
}

/* One non-blocking attempt to send iov. Bytes sent, or -errno (EAGAIN
 * included). */
int corio__tls_wait(const corio_stream *s, int want)
{
    return corio__fd_wait_again(s->fd, want == CORIO__TLS_WANT_READ);
}

static inline __attribute__((always_inline)) ssize_t
send_iov(corio_stream *s, struct iovec *iov, int n)
{
    struct msghdr m;
    ssize_t r;
    for (;;) {
        if (!s->notsock && n == 1) {
            r = corio__fd_send(s->fd, iov[0].iov_base, iov[0].iov_len);
            if (r >= 0)
                return r;
            if (r == -ENOTSOCK) {
                s->notsock = 1;
                continue;
            }
            if (r != -EINTR)
                return r;
            continue;
        } else if (!s->notsock) {
            memset(&m, 0, sizeof m);
            m.msg_iov = iov;
            m.msg_iovlen = (size_t)n;
            r = sendmsg(s->fd, &m, MSG_NOSIGNAL);
            if (r < 0 && errno == ENOTSOCK) {
                s->notsock = 1;
                continue;
            }
        } else {
            r = writev(s->fd, iov, n);
        }
        if (r >= 0)
            return r;
        if (errno != EINTR)
            return -errno;
    }
}

static int is_again(ssize_t r)
{
    return r == -EAGAIN || r == -EWOULDBLOCK;
}

/* Drop the first n pending bytes. */
static void sent(corio_stream *s, size_t n)
{
    s->wstart += n;
    if (s->wstart == s->wend)
        s->wstart = s->wend = 0;
}

static int wreserve(corio_stream *s, size_t n)
{
    size_t pending = s->wend - s->wstart, cap;
    unsigned char *nb;
    if (s->wcap - s->wend >= n)
        return 0;
    if (s->wstart > 0 && s->wcap - pending >= n) {
        memmove(s->wbuf, s->wbuf + s->wstart, pending);
        s->wstart = 0;
        s->wend = pending;
        return 0;
    }
    cap = s->wcap ? s->wcap : 4096;
    while (cap - pending < n)
        cap *= 2;
    if (s->wstart > 0) {
        memmove(s->wbuf, s->wbuf + s->wstart, pending);
        s->wstart = 0;
        s->wend = pending;
    }
    nb = corio__realloc(s->wbuf, cap);
    if (!nb)
        return -ENOMEM;
    s->wbuf = nb;
    s->wcap = cap;
    return 0;
}

int corio_stream_write(corio_stream *s, const void *buf, size_t n)
{
    struct iovec iov[2];
    size_t pending, off = 0;
    ssize_t r;
    int k = 0;
    if (!s || (!buf && n > 0))
        return -EINVAL;
    if (s->werr)
        return s->werr;
    if (s->wshut)
        return -EPIPE;
    if (n == 0)
        return 0;
    pending = s->wend - s->wstart;
    if (pending + n > s->high && !s->tls) {
        /* Past the mark: what the kernel takes now, buffer and new bytes
         * in one writev, with no copy of the new ones. */
        if (pending) {
            iov[k].iov_base = s->wbuf + s->wstart;
            iov[k++].iov_len = pending;
        }
        iov[k].iov_base = (void *)buf;
        iov[k++].iov_len = n;
        r = send_iov(s, iov, k);
        if (r < 0 && !is_again(r)) {
            s->werr = (int)r;
            return s->werr;
        }
        if (r > 0) {
            if ((size_t)r <= pending) {
                sent(s, (size_t)r);
            } else {
                sent(s, pending);
                off = (size_t)r - pending;
            }
        }
    }
    if (off < n) {
        if (wreserve(s, n - off) != 0) {
            if (off)
                s->werr = -ENOMEM; /* part went out: the stream is broken */
            return -ENOMEM;
        }
        memcpy(s->wbuf + s->wend, (const char *)buf + off, n - off);
        s->wend += n - off;
    }
    return 0;
}

/* Send until at most `keep` bytes remain, waiting as needed. */
static inline __attribute__((always_inline)) int flush(corio_stream *s,
                                                      size_t keep)
{
    struct iovec iov;
    ssize_t r;
    int rc;
    if (s->werr)
        return s->werr;
    while (s->wend - s->wstart > keep) {
        if (s->tls) {
            r = corio__tls_write(s, s->wbuf + s->wstart, s->wend - s->wstart);
            if (r == CORIO__TLS_WANT_READ || r == CORIO__TLS_WANT_WRITE) {
                rc = corio__tls_wait(s, (int)r);
                if (rc)
                    return rc;
                continue;
            }
            if (r > 0) {
                sent(s, (size_t)r);
                continue;
            }
            s->werr = r < 0 ? (int)r : -EPIPE;
            return s->werr;
        }
        iov.iov_base = s->wbuf + s->wstart;
        iov.iov_len = s->wend - s->wstart;
        r = send_iov(s, &iov, 1);
        if (r > 0) {
            sent(s, (size_t)r);
            continue;
        }
        if (r < 0 && !is_again(r)) {
            s->werr = (int)r;
            return s->werr;
        }
        if ((rc = corio__fd_wait_again(s->fd, 0)) != 0)
            return rc;
    }
    return 0;
}

int corio_stream_drain(corio_stream *s)
{
    if (!s)
        return -EINVAL;
    if (s->wend - s->wstart > s->low && !corio__task_running())
        return CORIO_ENOTASK;
    return flush(s, s->low);
}

int corio_stream_write_eof(corio_stream *s)
{
    int rc;
    if (!s)
        return -EINVAL;
    if (s->wshut)
        return 0;
    if (s->wend > s->wstart && !corio__task_running())
        return CORIO_ENOTASK;
    if ((rc = flush(s, 0)) != 0)
        return rc;
    while (s->tls && (rc = corio__tls_shutdown(s)) != 0) {
        if (rc != CORIO__TLS_WANT_READ && rc != CORIO__TLS_WANT_WRITE)
            return rc;
        rc = corio__tls_wait(s, rc);
        if (rc)
            return rc;
    }
    if (shutdown(s->fd, SHUT_WR) < 0)
        return errno == ENOTSOCK ? -ENOTSUP : -errno;
    s->wshut = 1;
    return 0;
}

int corio_stream_close(corio_stream *s)
{
    int rc = 0;
    if (!s)
        return 0;
    if (s->wend > s->wstart && !s->werr)
        rc = corio__task_running() ? flush(s, 0) : CORIO_ENOTASK;
    if (s->tls) {
        if (rc == 0 && !s->wshut && !s->werr)
            (void)corio__tls_shutdown(s); /* close_notify, if it goes now */
        corio__tls_free(s);
    }
    if (!s->no_close)
        corio_fd_close(s->fd);
    corio__free(s->rbuf);
    corio__free(s->wbuf);
    corio__free(s);
    return rc;
}

void corio__stream_shutdown_idle(corio_stream *s)
{
    s->shutting = 1;
    if (s->idle && !s->kicked) {
        s->kicked = 1;
        shutdown(s->fd, SHUT_RD); /* wakes the read; it says ESHUTTING */
    }
}
