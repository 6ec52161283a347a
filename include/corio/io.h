/*
 * corio/io.h: waiting on file descriptors, non-blocking I/O calls, and
 * signals, for tasks.
 *
 * The calls that may suspend do so for the calling task only, and must be
 * made inside a task (CORIO_ENOTASK otherwise); corio_fd_nonblock and
 * corio_fd_close work anywhere. The I/O calls try the operation first
 * and wait for readiness only when it would block (EAGAIN), so a ready
 * descriptor costs no extra system call.
 *
 * Kinds of descriptors, alike on every poller (epoll, poll): pipes,
 * sockets and terminals wait for readiness. A descriptor left blocking is
 * made non-blocking (O_NONBLOCK, on its open file description, which
 * other holders share) by the first call that reads or writes it
 * (corio_read, corio_write, corio_write_all, corio_accept, corio_connect)
 * on a loop (again after corio_fd_close), so a read with nothing to read
 * waits for the task instead of hanging the loop; the bare waits leave
 * it as it is (the caller does its own I/O). A regular file or a directory
 * is always ready: the calls read and write it at once (the loop waits
 * for the disk meanwhile: use file.h's calls to keep it running), and the
 * waits return 0 at once.
 *
 * One reader and one writer may wait on a descriptor at a time; while
 * one waits, another task's call in the same direction gets -EBUSY (and
 * reads or writes nothing).
 *
 * Closing: close every descriptor these calls have been used on with
 * corio_fd_close, never close(2), and while its loop runs (in a task or
 * callback). It wakes the waiters (their call returns -EBADF), forgets the
 * descriptor's registration, then closes it, so a new descriptor that
 * reuses the number never receives the old one's events.
 * The raw-close rule (the same on every backend): close(2) of a
 * descriptor a task waits on is the caller's error, and that task's fate
 * is undefined (woken to find it gone, woken by a new descriptor that
 * took the number, or left waiting until cancelled). A new descriptor that
 * reuses the number still works once the old waiters are gone: corio
 * checks the registration of a descriptor whose waiter has had no event
 * for a while (50 to 100 ms of loop time on epoll, at once on poll), so
 * a wait on it may start that late. Debug builds (no
 * NDEBUG), or any build run with CORIO_DEBUG=1, report such a close on
 * stderr, naming the tasks involved, when the loop notices it.
 *
 * Cancellation: if it would have to wait while a cancel stands, fails
 * with -ECANCELED at once (every suspending call here; task.h). So a call
 * on a ready descriptor still succeeds (a read reads, a wait for a
 * readiness that is there returns 0, a signal already delivered is
 * taken). A call that returns -ECANCELED consumed and wrote nothing
 * (corio_write_all: nothing beyond what it reports in *written), and
 * corio_signal_wait set nothing up for the signal.
 *
 * NULL: a NULL buffer with len > 0, or a NULL address for corio_connect,
 * gives -EINVAL (corio_accept's addr and addrlen are optional).
 *
 * System calls: on x86-64 and AArch64, corio_read, corio_write and
 * corio_write_all (and the streams over them) make their reads, writes
 * and sends as direct system calls, not through libc's read, write and
 * send (libc's are kept in sanitizer builds; other architectures go
 * through syscall(2)). Two consequences: they are not pthread
 * cancellation points (neither is anything else in corio: cancel tasks,
 * not threads), and a library interposed on read or send (LD_PRELOAD)
 * does not see them.
 */
#ifndef CORIO_IO_H
#define CORIO_IO_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* corio_fd_nonblock: set O_NONBLOCK on fd. 0 or -errno. Never suspends. */
CORIO_API int corio_fd_nonblock(int fd);

/*
 * corio_wait_readable / corio_wait_writable: suspend the calling task until
 * fd is readable (or at end of file, or in error) / writable, for callers
 * that do their own I/O (recvmsg, a library's read). Returns at once when
 * fd is ready already (corio checks, so a readiness that the caller's own
 * I/O used up is not reported again). Consumes nothing. Returns 0,
 * -ECANCELED, -EBADF (fd closed with corio_fd_close meanwhile, or not
 * open: checked before anything is kept for it, so a huge invalid number
 * costs nothing), -EBUSY (another task already waits in that direction),
 * -ENOMEM, -ENOSPC (epoll's watch limit), CORIO_ENOTASK. A regular file or
 * directory is always ready (0 at once).
 */
CORIO_API int corio_wait_readable(int fd);
CORIO_API int corio_wait_writable(int fd);

/*
 * corio_read: read up to len bytes into buf, waiting until some are
 * available. Returns the count (0 at end of file) or a negative errno:
 * -EINVAL (buf NULL with len > 0), the errors of read(2) except
 * EAGAIN/EINTR (retried), and those of corio_wait_readable. Suspends.
 */
CORIO_API ssize_t corio_read(int fd, void *buf, size_t len);

/*
 * corio_write: write up to len bytes from buf, waiting until the
 * descriptor takes some. Returns how many were written (at least 1 when
 * len > 0; a short count is normal) or a negative errno: -EINVAL (buf
 * NULL with len > 0), write(2)'s errors except EAGAIN/EINTR (retried),
 * and those of corio_wait_writable.
 * Sockets are written with send(MSG_NOSIGNAL), so a closed peer gives
 * -EPIPE and no SIGPIPE; other descriptors with write(2), so a pipe whose
 * reader is gone still raises SIGPIPE (ignore or block it to get -EPIPE).
 * Suspends.
 */
CORIO_API ssize_t corio_write(int fd, const void *buf, size_t len);

/*
 * corio_write_all: write all len bytes, waiting as needed. Returns 0, or a
 * negative errno: -EINVAL (buf NULL with len > 0), CORIO_ENOTASK, and
 * those of corio_write; *written (may be NULL) gets how many were written
 * either way, so a cancelled call says exactly what went out. Suspends.
 */
CORIO_API int corio_write_all(int fd, const void *buf, size_t len,
                              size_t *written);

/*
 * corio_accept: accept a connection on a listening non-blocking socket,
 * waiting for one. The new socket is non-blocking and close-on-exec; the
 * caller owns it. addr/addrlen as accept4(2) (may be NULL; addr without
 * addrlen is -EINVAL). Returns the new descriptor or a negative errno:
 * accept4's (a connection aborted while queued is skipped, not reported),
 * and those of corio_wait_readable.
 * Out of descriptors it never spins: the loop keeps one spare descriptor
 * (opened at its first corio_accept, closed with the loop), and on
 * EMFILE/ENFILE gives it back, accepts the first queued connection with
 * the descriptor that frees, closes that connection at once (the client
 * sees a reset), takes the spare again and returns -EMFILE/-ENFILE; with
 * nothing queued it waits for a connection first. So each such call turns
 * one client away, and a caller that just calls again waits for the next
 * (docs/loop.md shows the loop). Do not retry a raw accept(2) after
 * corio_wait_readable instead: the listener stays readable while the
 * connection stays queued, and that loop spins. Without a spare (none
 * could be opened), it waits 10 ms and returns -EMFILE/-ENFILE, leaving
 * the connection queued. Suspends.
 */
CORIO_API int corio_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);

/*
 * corio_connect: connect a non-blocking socket, waiting for the
 * connection to be established. Returns 0 or a negative errno (-EINVAL
 * for addr NULL, connect's, the socket's SO_ERROR such as -ECONNREFUSED,
 * and those of corio_wait_writable). After -ECANCELED the attempt may
 * still be in progress: close the socket. Suspends.
 */
CORIO_API int corio_connect(int fd, const struct sockaddr *addr,
                            socklen_t addrlen);

/*
 * corio_fd_close: wake every task waiting on fd (they get -EBADF), drop fd's
 * registration with the loop running on this thread (if any), and close
 * it. Returns 0 or -errno from close(2) (an interrupted close counts as
 * done: Linux has freed the descriptor, so it is never retried). Never
 * suspends. Safe for a descriptor corio never saw, and outside a loop
 * (then it is close(2)).
 */
CORIO_API int corio_fd_close(int fd);

/*
 * corio_signal_wait: suspend the calling task until signal `signo` is
 * delivered to the process, and return 0. From the first wait for a signal
 * until the loop is freed, corio blocks it in the loop's thread and
 * receives it through a signalfd (deliveries with no task waiting are
 * counted, and each later wait takes one and returns at once; the kernel
 * itself merges deliveries of a standard signal made before corio read
 * the first); block it in
 * every other thread too (for instance with pthread_sigmask before
 * starting them), or another thread may take it.
 * Several tasks may wait for the same signal; one delivery wakes them all.
 * Cancellation: if it would have to wait while a cancel stands, fails with
 * -ECANCELED at once, and a signal never waited for before is not taken
 * over then (not blocked); one already delivered is returned with 0.
 * Returns 0, -ECANCELED, -EINVAL (bad signal number, SIGKILL/SIGSTOP, or
 * one the C library keeps for itself), -ENOMEM, -EMFILE/-ENFILE (no
 * descriptor for the signalfd), CORIO_ENOTASK.
 * Free the loop on the thread that ran it: that thread's signal mask is
 * restored then (signals it had blocked before stay blocked). One loop at
 * a time should wait for a given signal. Waiting for SIGINT takes it from
 * corio_run's handling, from the first wait until the loop is freed: it
 * wakes the waiters instead of cancelling the main task.
 */
CORIO_API int corio_signal_wait(int signo);

/*
 * corio_signal_wait_any: corio_signal_wait for several signals at once:
 * suspend until one of the n signals in signos is delivered, and set
 * *which (may be NULL) to it. A signal of the set that came while nobody
 * waited (counted, as above) is taken first, in the order of signos.
 * Every signal of the set is taken over as corio_signal_wait does, from
 * this call on. One delivery wakes every waiter for it, of either call.
 * Cancellation: as corio_signal_wait (if none of them has come, nothing is
 * set up). Returns 0, -ECANCELED, -EINVAL (signos NULL, n 0, or a number
 * corio_signal_wait refuses), -ENOMEM, -EMFILE/-ENFILE, CORIO_ENOTASK.
 */
CORIO_API int corio_signal_wait_any(const int *signos, size_t n, int *which);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_IO_H */
