/*
 * io_impl.h: what io.c offers the layers above it (src/net) that do their
 * own I/O on a descriptor (sendto, recvfrom, a stream's writev, TLS) but
 * wait the way corio_read and corio_write do.
 */
#ifndef CORIO_IO_IMPL_H
#define CORIO_IO_IMPL_H

#include <sys/types.h>

/* Make fd ready for corio's I/O calls on the running task's loop: the
 * first time it is seen, switch it to non-blocking (a blocking descriptor
 * would stop the whole loop), as corio_read and corio_write do. 0,
 * -errno of fcntl (-EBADF), or CORIO_ENOTASK. Does not suspend. */
int corio__fd_prepare(int fd);

/* The caller's own operation on fd just failed with EAGAIN (or TLS said
 * it must read or write first): park the running task until fd is
 * readable (readable != 0) or writable. Unlike corio_wait_readable it
 * never asks the kernel whether fd is ready first: it was just told no.
 * Returns what corio_wait_readable/_writable return. Suspends. */
int corio__fd_wait_again(int fd, int readable);

/* One read(2) of fd, as corio_read makes it, never waiting: -EAGAIN
 * without a system call when an earlier short read of a stream socket
 * drained fd and no readable event came since (and no cancel stands).
 * Bytes, 0 at end of file, -errno (-EAGAIN: corio__fd_wait_again(fd, 1)),
 * or CORIO_ENOTASK. Does not suspend. */
ssize_t corio__fd_read(int fd, void *buf, size_t len);

/* corio__fd_read said -EAGAIN: park the running task until fd is
 * readable (as corio__fd_wait_again(fd, 1)), then read once into buf, in
 * one call: unless *stop (may be NULL) is set by then: the layer above
 * was told to stop reading meanwhile (a server's shutdown), and the
 * answer is -EAGAIN without a read. When the wait fails, *wait_rc gets
 * its error (what corio__fd_wait_again returns) and nothing is read;
 * else *wait_rc is 0 and the answer is corio__fd_read's (bytes, 0 at end
 * of file, -errno; -EAGAIN: nothing after all, wait again). Suspends. */
ssize_t corio__fd_wait_read(int fd, void *buf, size_t len,
                            const unsigned char *stop, int *wait_rc);

/* One send(2) of len bytes with MSG_NOSIGNAL (never SIGPIPE), as
 * corio_write makes it on a socket (without glibc's cancellation-point
 * wrapper, io.c's "system calls"): bytes sent, or -errno (-EAGAIN,
 * -ENOTSOCK for a descriptor that is not a socket, -EINTR). Never waits;
 * needs no task. */
ssize_t corio__fd_send(int fd, const void *buf, size_t len);

#endif /* CORIO_IO_IMPL_H */
