/*
 * corio/file.h: files, for tasks, on the thread pool.
 *
 * Regular files are always "ready" to the kernel, so their reads and
 * writes block in the kernel instead of saying EAGAIN: the event loop
 * cannot wait for them. These calls run each operation on a thread of the
 * loop's pool (its file lane, CORIO_LANE_FILE: thread.h), suspending only
 * the calling task, as libuv's uv_fs_* do. They work on any descriptor,
 * but pipes, sockets and ttys are better served by io.h's calls, which
 * wait for readiness without a thread.
 *
 * Warm reads: corio_file_read and corio_file_pread (and the pieces of
 * corio_file_read_all) first try the read on
 * the loop's thread with preadv2(RWF_NOWAIT), which copies what the page
 * cache holds and never waits for a disk; what it did not get goes to
 * the pool, and the caller still sees one read. One inline copy is at
 * most 1 MiB, and the call then yields to the loop once (other tasks run)
 * before it returns. A descriptor whose file refuses RWF_NOWAIT
 * (EOPNOTSUPP, EINVAL) uses the pool from then on, until corio_file_open
 * returns that number again or corio_file_close closes it; O_DIRECT
 * descriptors and writes always use the pool.
 *
 * Every call must be made in a task (CORIO_ENOTASK otherwise) and
 * suspends. Descriptors are plain ints (opened close-on-exec); close them
 * with corio_file_close or close(2). Besides the errors listed with each
 * call, any may return -ESHUTDOWN when the task's loop is being freed.
 *
 * Cancellation: with a cancel standing, a call fails with -ECANCELED at
 * once and does nothing; a cancel that comes while the operation waits
 * for a thread drops it (-ECANCELED, nothing done). Once an operation
 * runs, its system call is not interrupted (the buffers are the
 * caller's): the cancel waits for it to end, and the call then returns
 * -ECANCELED along with what was done: *nread / *nwritten say how many
 * bytes were read or written (so a cancelled read reports what was read,
 * a cancelled write how much was written); a transfer made of several
 * system calls stops after the current one. A read done inline that is
 * cancelled while it yields returns 0 or -ECANCELED, with *nread the
 * bytes read either way. A cancelled open closes the
 * descriptor it got; corio_file_write_all's cancel leaves the file as it
 * was unless the new contents were already in place (then it returns 0);
 * corio_file_close is not cancellable (the descriptor is always closed).
 *
 * When the loop is freed while an operation runs, the task's cancel waits
 * for it up to the pool's shutdown grace (thread.h), then abandons it
 * with a line on stderr: the operation may still write into the buffer
 * it was given.
 *
 * NULL: a NULL path, buffer (with len > 0) or out-parameter gives
 * -EINVAL (the count out-parameters may be NULL).
 */
#ifndef CORIO_FILE_H
#define CORIO_FILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * corio_file_open: open(2) path with flags (O_CLOEXEC is added) and mode
 * (for O_CREAT). Returns 0 with *fd set (the caller's), -EINVAL (path or
 * fd NULL), open's errors, -ECANCELED, -ENOMEM, -EAGAIN (no pool thread
 * could start), CORIO_ENOTASK. Suspends.
 */
CORIO_API int corio_file_open(const char *path, int flags, unsigned mode,
                              int *fd);

/*
 * corio_file_read: one read(2) of up to len bytes into buf at the file
 * position (warm data on the loop's thread, the rest on the pool: see
 * above). *nread (may be NULL) gets the count: 0 at end of file; fewer
 * than len is normal near the end, and from a pipe or socket what it
 * held. An error after some bytes were read gives 0 with those bytes
 * (read(2)'s rule: the error comes with the next call). Returns 0, read's errors (-EBADF;
 * -EAGAIN from a non-blocking pipe or socket with nothing to read: use
 * corio_read for those),
 * -EINVAL, -ECANCELED (*nread: what was read), -ENOMEM, -EAGAIN,
 * CORIO_ENOTASK. Suspends.
 */
CORIO_API int corio_file_read(int fd, void *buf, size_t len, size_t *nread);

/* corio_file_pread: corio_file_read at `offset` (pread(2): the file
 * position does not move); -EINVAL for a negative offset. Suspends. */
CORIO_API int corio_file_pread(int fd, void *buf, size_t len, off_t offset,
                               size_t *nread);

/*
 * corio_file_write: write all len bytes of buf at the file position (as
 * many write(2) calls as it takes). *nwritten (may be NULL) gets how many
 * were written, also on error. Returns 0, write's errors (-ENOSPC,
 * -EBADF, -EPIPE...), -EINVAL, -ECANCELED (*nwritten: what was written),
 * -ENOMEM, -EAGAIN, CORIO_ENOTASK. Suspends.
 */
CORIO_API int corio_file_write(int fd, const void *buf, size_t len,
                               size_t *nwritten);

/* corio_file_pwrite: corio_file_write at `offset` (pwrite(2)); -EINVAL
 * for a negative offset. Suspends. */
CORIO_API int corio_file_pwrite(int fd, const void *buf, size_t len,
                                off_t offset, size_t *nwritten);

/* corio_file_fsync: fsync(2). Returns 0, fsync's errors (-EIO, -EBADF,
 * -EINVAL), -ECANCELED (the fsync may have happened), -ENOMEM, -EAGAIN,
 * CORIO_ENOTASK. Suspends. */
CORIO_API int corio_file_fsync(int fd);

/* corio_file_stat / corio_file_fstat: stat(2) / fstat(2) into *st
 * (untouched on error). Returns 0, their errors, -EINVAL (path or st
 * NULL), -ECANCELED, -ENOMEM, -EAGAIN, CORIO_ENOTASK. Suspends. */
CORIO_API int corio_file_stat(const char *path, struct stat *st);
CORIO_API int corio_file_fstat(int fd, struct stat *st);

/*
 * corio_file_close: close(2) fd on the pool (closing can wait for a
 * network file system). The descriptor is closed whatever happens: a
 * standing cancel does not stop it, and an interrupted close counts as
 * done. Returns 0, close's errors (-EBADF, -EIO), -ENOMEM and -EAGAIN (then
 * it was closed in the caller, at once), CORIO_ENOTASK (fd untouched).
 * Suspends.
 */
CORIO_API int corio_file_close(int fd);

/*
 * corio_file_read_all: read the whole file at path into a new buffer:
 * *data (the caller frees it with corio_free; one more byte, a NUL,
 * follows the data) and
 * *len. It opens the file on the pool, reads it in pieces of 1 MiB as
 * corio_file_read does (warm pieces on the loop's thread, a yield after
 * each), and closes it on the loop's thread (on the pool if the file
 * refused the inline reads). Files over max bytes (0: no limit) fail
 * with -EFBIG. Returns 0,
 * -EINVAL (path, data or len NULL), open's and read's errors, -EFBIG,
 * -ECANCELED (it stops at the next piece; nothing is returned), -ENOMEM,
 * -EAGAIN, CORIO_ENOTASK. On error *data and *len are untouched.
 * Suspends.
 */
CORIO_API int corio_file_read_all(const char *path, size_t max, void **data,
                                  size_t *len);

/*
 * corio_file_write_all: replace the file at path with len bytes of data,
 * atomically: they go to a new file beside it (path.XXXXXX), which is
 * flushed (fsync), given `mode` (chmod's bits as given, not masked by
 * the umask) and renamed over path; then the directory is flushed. Readers see the old
 * contents or the new, never a part. Returns 0 (the new contents are in
 * place), -EINVAL (path NULL, data NULL with len > 0, mode over 07777),
 * the errors of open, write, fsync and rename (-ENOSPC, -EACCES...),
 * -ECANCELED (path untouched, the temporary file removed), -ENOMEM,
 * -EAGAIN, CORIO_ENOTASK. Suspends.
 */
CORIO_API int corio_file_write_all(const char *path, const void *data,
                                   size_t len, unsigned mode);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_FILE_H */
