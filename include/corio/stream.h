/*
 * corio/stream.h: buffered streams over a descriptor (asyncio's
 * StreamReader and StreamWriter in one object): TCP and Unix sockets,
 * pipes, a subprocess's pipes, ttys; anything non-blocking that read(2)
 * and write(2) work on.
 *
 * Reading. Data is read into the stream's buffer and handed out from
 * there: read (up to n), read_exactly (n or fail), read_until a
 * delimiter, read_line, and peek/consume for parsers that look at the
 * buffer in place. Each call that may wait suspends only the calling task.
 *
 * Nothing is lost to cancellation: a read that is cancelled while it waits
 * (or fails with an error) consumes nothing; every byte received stays in
 * the buffer for the next read. Only a successful call (or one that
 * returns CORIO_EINCOMPLETE, which hands over the partial data) consumes.
 *
 * Limits. read_until and read_line look for the delimiter within at most
 * `limit` bytes (the stream's option, 64 KiB by default, and never more
 * than the caller's buffer). When the buffer holds that many bytes without
 * one, they fail with CORIO_ELIMIT and consume nothing: the data stays
 * readable (with read, or peek/consume).
 *
 * Writing. corio_stream_write never suspends: it appends to the stream's
 * write buffer (and, past the high-water mark, hands the kernel what it
 * takes at once, with writev). corio_stream_drain sends what is buffered,
 * waiting while the kernel's buffer is full, until no more than the
 * low-water mark remains. A cancelled drain leaves the unsent bytes
 * buffered (corio_stream_write_pending says how many): nothing accepted is
 * dropped except by corio_stream_close. Write errors are sticky: once a
 * write failed (-EPIPE, -ECONNRESET...), every later write and drain
 * returns that error.
 *
 * Sockets are written with MSG_NOSIGNAL (a closed peer gives -EPIPE, no
 * SIGPIPE); other descriptors with writev(2), which may raise SIGPIPE.
 *
 * Tasks: one task may read while another writes; two readers (or two
 * drainers) at once get -EBUSY from the second (io.h). A stream belongs to
 * the loop's thread.
 */
#ifndef CORIO_STREAM_H
#define CORIO_STREAM_H

#include <stddef.h>
#include <sys/types.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_stream corio_stream;

/* Options for corio_stream_new; NULL or all zero: the defaults. */
typedef struct corio_stream_opts {
    size_t limit;      /* read_until/read_line limit (0: 65536) */
    size_t high_water; /* write: past this many buffered bytes, send at
                          once (0: 65536) */
    size_t low_water;  /* drain: wait until no more than this many remain
                          (0: all sent) */
    int no_close;      /* 1: corio_stream_close leaves fd open */
} corio_stream_opts;

/*
 * corio_stream_new: a stream over fd (made non-blocking here), which it
 * owns from then on: corio_stream_close closes it (unless no_close).
 * Never suspends. Returns 0 with *out set, -EINVAL (out NULL, fd < 0,
 * low_water > high_water), -EBADF (fd not open), -ENOMEM; on error fd is
 * left as it was (open, the caller's).
 */
CORIO_API int corio_stream_new(int fd, const corio_stream_opts *opts,
                               corio_stream **out);

/* corio_stream_fd: the descriptor, or -1 for NULL. */
CORIO_API int corio_stream_fd(const corio_stream *s);

/*
 * corio_stream_read: up to n bytes into buf: what is buffered, or, when
 * nothing is, waits for data. Returns the count (0 at end of file, or for
 * n 0), or -ECANCELED, the read error (-ECONNRESET...), CORIO_ESHUTTING (a
 * server connection that its server is closing: server.h), -EINVAL (s
 * NULL, buf NULL with n > 0), CORIO_ENOTASK, -EBUSY, -ENOMEM. Suspends.
 */
CORIO_API ssize_t corio_stream_read(corio_stream *s, void *buf, size_t n);

/*
 * corio_stream_read_exactly: exactly n bytes into buf, waiting until they
 * have all come. Returns 0; CORIO_EINCOMPLETE when the stream ended first
 * (what came, fewer than n bytes, is in buf and consumed, its count in
 * *got); or, consuming nothing, -ECANCELED, read errors, CORIO_ESHUTTING,
 * -ENOMEM, -EINVAL (s or buf NULL), CORIO_ENOTASK. *got (may be NULL) is
 * set on every return (0 when nothing was consumed). Suspends.
 */
CORIO_API int corio_stream_read_exactly(corio_stream *s, void *buf, size_t n,
                                        size_t *got);

/*
 * corio_stream_read_until: the bytes up to and including the first
 * occurrence of the delimiter delim (dlen bytes, dlen >= 1) into buf (cap
 * bytes), *len their count; waits until the delimiter has come. The search
 * limit is min(cap, the stream's limit). Returns 0; CORIO_ELIMIT (no
 * delimiter within the limit: nothing consumed, the data stays readable);
 * CORIO_EINCOMPLETE (end of stream before a delimiter: the rest, without
 * one, is in buf and consumed, *len its count); or, consuming nothing,
 * -ECANCELED, read errors, CORIO_ESHUTTING, -ENOMEM, -EINVAL (s, delim,
 * buf or len NULL, dlen 0, cap < dlen), CORIO_ENOTASK. Suspends.
 */
CORIO_API int corio_stream_read_until(corio_stream *s, const void *delim,
                                      size_t dlen, void *buf, size_t cap,
                                      size_t *len);

/*
 * corio_stream_read_line: read_until "\n", except that at the end of the
 * stream the last line without a newline is returned with 0 (asyncio's
 * readline), and an empty *len with 0 means the end. Errors as
 * read_until, without CORIO_EINCOMPLETE. Suspends.
 */
CORIO_API int corio_stream_read_line(corio_stream *s, void *buf, size_t cap,
                                     size_t *len);

/*
 * corio_stream_peek: the buffered bytes, in place (*data, *len), without
 * waiting or consuming; valid until the next call on s. Returns 0 or
 * -EINVAL (a NULL argument). Never suspends.
 */
CORIO_API int corio_stream_peek(corio_stream *s, const void **data,
                                size_t *len);

/*
 * corio_stream_fill: wait for more data and add it to the buffer (peek
 * sees it). Returns how many bytes came (> 0), 0 at end of file,
 * CORIO_ELIMIT when the buffer already holds `limit` bytes (consume some
 * first), or -ECANCELED, read errors, CORIO_ESHUTTING, -ENOMEM, -EINVAL,
 * CORIO_ENOTASK. Suspends.
 */
CORIO_API ssize_t corio_stream_fill(corio_stream *s);

/*
 * corio_stream_consume: drop the first n buffered bytes (after a peek).
 * Returns 0, -EINVAL (s NULL, n more than is buffered: nothing dropped).
 * Never suspends.
 */
CORIO_API int corio_stream_consume(corio_stream *s, size_t n);

/* corio_stream_at_eof: 1 when the end of the stream has been seen and the
 * buffer is empty (asyncio's at_eof), else 0 (NULL: 0). Never suspends. */
CORIO_API int corio_stream_at_eof(const corio_stream *s);

/*
 * corio_stream_write: append n bytes to the write buffer; past the
 * high-water mark, first send what the kernel takes at once (writev of
 * the buffer and buf). Never suspends. Returns 0 (all n bytes accepted),
 * or, accepting nothing: a sticky write error, -EPIPE after
 * corio_stream_write_eof, -ENOMEM, -EINVAL (s NULL, buf NULL with n > 0).
 */
CORIO_API int corio_stream_write(corio_stream *s, const void *buf, size_t n);

/*
 * corio_stream_drain: send buffered bytes, waiting while the descriptor
 * is full, until at most the low-water mark remains. Returns 0, a
 * (sticky) write error, -ECANCELED (what was not sent stays buffered),
 * -EBUSY, CORIO_ENOTASK, -EINVAL (s NULL). Suspends (only when it must
 * wait).
 */
CORIO_API int corio_stream_drain(corio_stream *s);

/* corio_stream_write_pending: bytes buffered, not yet sent (NULL: 0). */
CORIO_API size_t corio_stream_write_pending(const corio_stream *s);

/*
 * corio_stream_write_eof: send everything buffered, then shut the
 * writing side (shutdown(SHUT_WR): the peer reads end of file; reading
 * goes on). Returns 0, drain's errors (then nothing is shut), -ENOTSUP
 * (not a socket), -EINVAL (s NULL). Later writes give -EPIPE. Suspends
 * while it drains.
 */
CORIO_API int corio_stream_write_eof(corio_stream *s);

/*
 * corio_stream_close: send what is buffered within the caller's deadline
 * (scope.h; a cancel or an expired deadline drops the rest), close the
 * descriptor (corio_fd_close; not with no_close) and free the stream.
 * Always frees s. Returns 0, or the flush's error (-ECANCELED, a write
 * error) when buffered bytes were dropped. NULL: 0. Suspends while it
 * flushes.
 */
CORIO_API int corio_stream_close(corio_stream *s);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_STREAM_H */
