/*
 * file.c: file operations on the thread pool's file lane (contract in
 * corio/file.h).
 *
 * Each call is one pool job (thread/pool.h) in CORIO_CANCEL_WAIT mode,
 * since the buffers are the caller's: a cancel drops a job that has not
 * started and waits for one that has. The job is on the heap (not the
 * task's stack), so one abandoned at the loop's teardown still has its
 * own memory; fj_abandon undoes what it got (a descriptor, a buffer).
 * Transfers made of several system calls look at the job's cancel flag
 * between them and stop early.
 *
 * Reads of warm data skip the pool. corio_file_read, _pread and _read_all
 * (after its open, on the pool) first try
 * preadv2(..., RWF_NOWAIT) on the loop's thread: the kernel copies what
 * the page cache holds and answers EAGAIN rather than wait for a disk.
 * A hand-off to a pool thread and back costs more than copying a MiB
 * (and the copy on a pool thread lands the data in another CPU's cache),
 * so warm reads run at the blocking loop's speed. Bounds: one inline
 * copy is at most INLINE_MAX bytes (~100 us at 10 GB/s, ~1 ms on a slow
 * board: far below the loop's 100 ms slow-step threshold), and the task
 * yields to the loop after it (corio_sleep(0)), so a task reading a warm
 * file in a loop lets every other ready task and timer run between its
 * reads. What the inline try did not get (a cache miss, more than
 * INLINE_MAX) goes to the pool as before. A descriptor whose file
 * refuses RWF_NOWAIT (EOPNOTSUPP: no FMODE_NOWAIT, e.g. ttys, most
 * FUSE and network file systems; EINVAL: a kernel before 4.14) is
 * remembered in `refused` and goes straight to the pool from then on,
 * until corio_file_open returns or corio_file_close closes that number.
 * O_DIRECT descriptors never go inline (their reads wait for the device
 * even with RWF_NOWAIT). Writes never go inline: a buffered write can
 * block in dirty-page throttling (balance_dirty_pages), which RWF_NOWAIT
 * does not cover on every kernel and file system, and a write's cost is
 * not known before it is made.
 */
#include "alloc.h"
#include "thread/pool.h"
#include "io/file_impl.h"

#include <corio/file.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

#define INLINE_MAX ((size_t)1 << 20) /* most one inline read copies */
#define REFUSED_FDS 65536            /* descriptors `refused` tracks;
                                        higher ones try every time */

#define PIECE ((size_t)1 << 20) /* read_all/write_all look at the cancel
                                   flag between pieces this big */

enum { F_OPEN, F_READ, F_PREAD, F_WRITE, F_PWRITE, F_FSYNC, F_STAT,
       F_FSTAT, F_CLOSE, F_OPEN_STAT, F_WRITE_ALL };

struct fjob {
    corio__job job;
    int op;
    int fd;            /* F_OPEN: the result */
    const char *path;  /* the caller's, valid while it waits */
    void *buf;
    size_t len;
    off_t off;
    int flags;
    unsigned mode;
    size_t max;
    size_t done;       /* bytes moved */
    int err;           /* 0 or -errno */
    int renamed;       /* F_WRITE_ALL: the new file is in place */
    struct stat st;    /* F_STAT, F_FSTAT, F_OPEN_STAT */
};

static int cancelled(struct fjob *f)
{
    return atomic_load(&f->job.cancel);
}

/* Read or write until len bytes moved, an error, or (read) the end. */
static void transfer(struct fjob *f, int write_op, int positioned, int all)
{
    char *p = f->buf;
    while (f->done < f->len || (f->len == 0 && f->done == 0 && !all)) {
        size_t want = f->len - f->done;
        off_t at = f->off + (off_t)f->done;
        char *q = p ? p + f->done : p; /* NULL with len 0 is allowed */
        ssize_t n;
        if (write_op)
            n = positioned ? pwrite(f->fd, q, want, at)
                           : write(f->fd, q, want);
        else
            n = positioned ? pread(f->fd, q, want, at)
                           : read(f->fd, q, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            f->err = -errno;
            return;
        }
        f->done += (size_t)n;
        if (!all || n == 0 || cancelled(f))
            return; /* one call; or the end; or asked to stop */
    }
}

/* fsync the directory holding path, so a rename in it is durable. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd, rc = 0;
    if (!slash)
        dir = corio__strdup(".");
    else if (slash == path)
        dir = corio__strdup("/");
    else if ((dir = corio__malloc((size_t)(slash - path) + 1)) != NULL) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = 0;
    }
    if (!dir)
        return -ENOMEM;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    corio__free(dir);
    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0 && errno != EINVAL) /* some file systems refuse */
        rc = -errno;
    close(fd);
    return rc;
}

static void write_all(struct fjob *f)
{
    size_t n = strlen(f->path);
    char *tmp = corio__malloc(n + 8);
    int fd;
    if (!tmp) {
        f->err = -ENOMEM;
        return;
    }
    memcpy(tmp, f->path, n);
    memcpy(tmp + n, ".XXXXXX", 8);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        f->err = -errno;
        corio__free(tmp);
        return;
    }
    f->fd = fd;
    f->off = 0;
    while (f->done < f->len && !f->err) {
        size_t want = f->len - f->done;
        ssize_t w = write(fd, (char *)f->buf + f->done,
                          want < PIECE ? want : PIECE);
        if (w < 0) {
            if (errno != EINTR)
                f->err = -errno;
            continue;
        }
        f->done += (size_t)w;
        if (cancelled(f))
            f->err = -ECANCELED;
    }
    if (!f->err && fchmod(fd, f->mode) < 0)
        f->err = -errno;
    if (!f->err && fsync(fd) < 0)
        f->err = -errno;
    if (close(fd) < 0 && !f->err && errno != EINTR)
        f->err = -errno;
    f->fd = -1;
    if (!f->err && cancelled(f))
        f->err = -ECANCELED;
    if (!f->err && rename(tmp, f->path) < 0)
        f->err = -errno;
    if (f->err) {
        unlink(tmp);
    } else {
        f->renamed = 1;
        f->err = sync_dir(f->path);
    }
    corio__free(tmp);
}

static void fj_work(corio__job *j)
{
    struct fjob *f = CORIO__CONTAINER(j, struct fjob, job);
    int r = 0;
    switch (f->op) {
    case F_OPEN:
        do
            f->fd = open(f->path, f->flags | O_CLOEXEC, (mode_t)f->mode);
        while (f->fd < 0 && errno == EINTR);
        r = f->fd < 0 ? -errno : 0;
        break;
    case F_READ:
    case F_PREAD:
        transfer(f, 0, f->op == F_PREAD, 0);
        return;
    case F_WRITE:
    case F_PWRITE:
        transfer(f, 1, f->op == F_PWRITE, 1);
        return;
    case F_FSYNC:
        r = fsync(f->fd) < 0 ? -errno : 0;
        break;
    case F_STAT:
        r = stat(f->path, &f->st) < 0 ? -errno : 0;
        break;
    case F_FSTAT:
        r = fstat(f->fd, &f->st) < 0 ? -errno : 0;
        break;
    case F_CLOSE:
        r = close(f->fd) < 0 && errno != EINTR ? -errno : 0;
        break;
    case F_OPEN_STAT: /* read_all's open: the size sizes its buffer */
        do
            f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
        while (f->fd < 0 && errno == EINTR);
        if (f->fd < 0)
            r = -errno;
        else if (fstat(f->fd, &f->st) < 0)
            f->st.st_size = 0; /* grow as it goes */
        break;
    case F_WRITE_ALL:
        write_all(f);
        return;
    }
    f->err = r;
}

/* Nobody waits any more (the loop's teardown outlasted the grace). */
static void fj_abandon(corio__job *j)
{
    struct fjob *f = CORIO__CONTAINER(j, struct fjob, job);
    if (j->ran && (f->op == F_OPEN || f->op == F_OPEN_STAT) && f->fd >= 0)
        close(f->fd);
    corio__free(f);
}

/* ---- warm reads on the loop's thread -------------------------------------------------- */

/* preadv2, through a pointer the tests can replace (fault cases: a
 * kernel or file system without RWF_NOWAIT). */
ssize_t (*corio__file_preadv2)(int fd, const struct iovec *iov, int n,
                               off_t off, int flags) = preadv2;

/* One bit per descriptor number: its file refused RWF_NOWAIT. */
static atomic_ulong refused[REFUSED_FDS / (8 * sizeof(unsigned long))];
#define RBITS (8 * sizeof(unsigned long))

static int refused_get(int fd)
{
    return fd < REFUSED_FDS &&
           (atomic_load_explicit(&refused[fd / RBITS],
                                 memory_order_relaxed) >>
            (fd % RBITS)) & 1;
}

static void refused_set(int fd)
{
    if (fd >= 0 && fd < REFUSED_FDS)
        atomic_fetch_or_explicit(&refused[fd / RBITS], 1UL << (fd % RBITS),
                                 memory_order_relaxed);
}

/* fd is a new file (opened, or closed): forget what its number did. */
static void refused_clear(int fd)
{
    if (fd >= 0 && fd < REFUSED_FDS &&
        (atomic_load_explicit(&refused[fd / RBITS], memory_order_relaxed) >>
         (fd % RBITS)) & 1)
        atomic_fetch_and_explicit(&refused[fd / RBITS],
                                  ~(1UL << (fd % RBITS)),
                                  memory_order_relaxed);
}

int corio__file_inline_refused(int fd)
{
    return refused_get(fd);
}

/* Try a read on the loop's thread. Returns 1 when it is complete (*got
 * bytes: all len, or fewer at the end of the file or of a pipe's data),
 * 0 when the pool must read the rest (len - *got bytes at *got; *got may
 * be 0). Never blocks. */
static int read_inline(int fd, void *buf, size_t len, off_t off,
                       int positioned, size_t *got)
{
    struct iovec iov;
    struct stat st;
    ssize_t n;
    int fl;
    *got = 0;
    if (len == 0 || fd < 0 || refused_get(fd))
        return 0;
    if ((fl = fcntl(fd, F_GETFL)) < 0 || (fl & O_DIRECT))
        return 0; /* the pool reports EBADF; O_DIRECT waits for a disk */
    iov.iov_base = buf;
    iov.iov_len = len < INLINE_MAX ? len : INLINE_MAX;
    n = corio__file_preadv2(fd, &iov, 1, positioned ? off : (off_t)-1,
                            RWF_NOWAIT);
    if (n < 0) {
        if (errno == EOPNOTSUPP || errno == EINVAL)
            refused_set(fd); /* for good: the pool from now on */
        return 0; /* EAGAIN (not cached), or an error the pool reports */
    }
    *got = (size_t)n;
    if (n == 0 || (size_t)n == len)
        return 1;
    /* Short. A pipe, socket or device gave what it had: a read(2) would
     * have stopped there too. A regular file stopped at its end, or
     * where the cache did not hold the rest (or at INLINE_MAX): then the
     * pool reads on. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return 1;
    if (!positioned && (off = lseek(fd, 0, SEEK_CUR)) < 0)
        return 0;
    return positioned ? off + n >= st.st_size : off >= st.st_size;
}

/* Make a job for op, run it, and leave it with the caller (*out) or
 * return an error. On 0 or -ECANCELED, *out is the finished job (the
 * caller frees it with corio__free); *out NULL when it never ran or was
 * abandoned. */
static int fj_run(struct fjob *f, struct fjob **out)
{
    corio_task *t = corio__task_running();
    int rc, kept;
    *out = NULL;
    if (!t) {
        corio__free(f);
        return CORIO_ENOTASK;
    }
    f->job.work = fj_work;
    f->job.abandon = fj_abandon;
    f->job.lane = CORIO_LANE_FILE;
    f->job.wait_on_cancel = 1;
    rc = corio__job_run(t, &f->job, &kept);
    if (!kept)
        return rc;
    if (!f->job.ran) {
        corio__free(f);
        return rc ? rc : -ECANCELED;
    }
    *out = f;
    return rc;
}

static struct fjob *fj_new(int op, int fd)
{
    struct fjob *f = corio__calloc(1, sizeof *f);
    if (f) {
        f->op = op;
        f->fd = fd;
    }
    return f;
}

/* The common shape: run, then the job's own error unless cancelled. */
static int fj_simple(struct fjob *f, struct fjob **out)
{
    int rc;
    if (!f)
        return corio__task_running() ? -ENOMEM : CORIO_ENOTASK;
    rc = fj_run(f, out);
    if (*out && rc == 0)
        rc = (*out)->err;
    return rc;
}

int corio_file_open(const char *path, int flags, unsigned mode, int *fd)
{
    struct fjob *f, *done;
    int rc;
    if (!path || !fd)
        return -EINVAL;
    if ((f = fj_new(F_OPEN, -1)) != NULL) {
        f->path = path;
        f->flags = flags;
        f->mode = mode;
    }
    rc = fj_simple(f, &done);
    if (done) {
        if (rc == 0) {
            *fd = done->fd;
            refused_clear(done->fd); /* a new file under that number */
        }
        else if (done->fd >= 0)
            close(done->fd); /* cancelled after it opened */
        corio__free(done);
    }
    return rc;
}

static int rw(int op, int fd, void *buf, size_t len, off_t off,
              size_t *count)
{
    struct fjob *f, *done;
    corio_task *t;
    size_t got = 0;
    int rc;
    if (count)
        *count = 0;
    if ((!buf && len > 0) || off < 0)
        return -EINVAL;
    if ((op == F_READ || op == F_PREAD) && (t = corio__task_running())) {
        if (corio__task_cancel_report(t))
            return -ECANCELED; /* standing: nothing is read */
        if (read_inline(fd, buf, len, off, op == F_PREAD, &got)) {
            /* Done without the pool: still suspend once, so a task
             * reading a warm file does not hold the loop. A cancel that
             * comes meanwhile reports what was read. */
            if (count)
                *count = got;
            return corio_sleep(0);
        }
    }
    if ((f = fj_new(op, fd)) != NULL) {
        f->buf = got ? (char *)buf + got : buf; /* buf may be NULL */
        f->len = len - got;
        f->off = off + (off_t)got;
    }
    rc = fj_simple(f, &done);
    if (count)
        *count = got + (done ? done->done : 0);
    if (got > 0 && rc != 0 && rc != -ECANCELED)
        rc = 0; /* some was read: as read(2), the error waits for the
                   next call */
    corio__free(done);
    return rc;
}

int corio_file_read(int fd, void *buf, size_t len, size_t *nread)
{
    return rw(F_READ, fd, buf, len, 0, nread);
}

int corio_file_pread(int fd, void *buf, size_t len, off_t offset,
                     size_t *nread)
{
    return rw(F_PREAD, fd, buf, len, offset, nread);
}

int corio_file_write(int fd, const void *buf, size_t len, size_t *nwritten)
{
    return rw(F_WRITE, fd, (void *)buf, len, 0, nwritten);
}

int corio_file_pwrite(int fd, const void *buf, size_t len, off_t offset,
                      size_t *nwritten)
{
    return rw(F_PWRITE, fd, (void *)buf, len, offset, nwritten);
}

int corio_file_fsync(int fd)
{
    struct fjob *done;
    int rc = fj_simple(fj_new(F_FSYNC, fd), &done);
    corio__free(done);
    return rc;
}

static int do_stat(int op, int fd, const char *path, struct stat *st)
{
    struct fjob *f, *done;
    int rc;
    if ((f = fj_new(op, fd)) != NULL)
        f->path = path;
    rc = fj_simple(f, &done);
    if (done && rc == 0)
        *st = done->st;
    corio__free(done);
    return rc;
}

int corio_file_stat(const char *path, struct stat *st)
{
    if (!path || !st)
        return -EINVAL;
    return do_stat(F_STAT, -1, path, st);
}

int corio_file_fstat(int fd, struct stat *st)
{
    if (!st)
        return -EINVAL;
    return do_stat(F_FSTAT, fd, NULL, st);
}

int corio_file_close(int fd)
{
    corio_task *t = corio__task_running();
    struct fjob *f;
    int rc, kept;
    if (!t)
        return CORIO_ENOTASK;
    refused_clear(fd); /* the number's next file starts afresh */
    if (!(f = fj_new(F_CLOSE, fd))) {
        close(fd); /* the descriptor goes whatever happens */
        return -ENOMEM;
    }
    f->job.work = fj_work;
    f->job.abandon = fj_abandon;
    f->job.lane = CORIO_LANE_FILE;
    f->job.uncancellable = 1;
    rc = corio__job_run(t, &f->job, &kept);
    if (!kept)
        return rc; /* abandoned at teardown: the pool thread closes it */
    if (f->job.ran)
        rc = f->err;
    else
        close(fd); /* not submitted, or dropped at teardown */
    corio__free(f);
    return rc;
}

/* read_all's close: on the loop's thread when the file took inline reads
 * (a local file system: closing a read-only descriptor does not wait),
 * on the pool otherwise (a network or FUSE file system may wait). */
static void read_all_close(int fd)
{
    if (corio__file_inline_refused(fd))
        corio_file_close(fd);
    else {
        refused_clear(fd);
        close(fd);
    }
}

int corio_file_read_all(const char *path, size_t max, void **data,
                        size_t *len)
{
    struct fjob *f, *done;
    size_t cap, n = 0;
    char *buf;
    int rc, fd;
    if (!path || !data || !len)
        return -EINVAL;
    /* Open (and fstat) on the pool: a path lookup can wait for a disk. */
    if ((f = fj_new(F_OPEN_STAT, -1)) != NULL)
        f->path = path;
    rc = fj_simple(f, &done);
    if (!done)
        return rc;
    fd = done->fd;
    cap = done->st.st_size > 0 ? (size_t)done->st.st_size + 1 : 4096;
    corio__free(done);
    if (rc != 0) {
        if (fd >= 0)
            close(fd); /* cancelled after it opened */
        return rc;
    }
    refused_clear(fd); /* a new file under that number */
    if (max && cap > max + 1)
        cap = max + 1;
    /* Then piece by piece as corio_file_read: warm pieces inline (one
     * yield after each), the rest on the pool. */
    buf = corio__malloc(cap + 1);
    for (;;) {
        size_t got;
        if (!buf) {
            rc = -ENOMEM;
            break;
        }
        if (n == cap) {
            char *nb;
            size_t ncap = cap * 2;
            if (max && ncap > max + 1)
                ncap = max + 1;
            if (ncap <= cap) {
                rc = -EFBIG; /* more than max */
                break;
            }
            if (!(nb = corio__realloc(buf, ncap + 1))) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        /* At the file position (not pread): pipes and character
         * devices have no offsets. */
        rc = rw(F_READ, fd, buf + n, cap - n < PIECE ? cap - n : PIECE, 0,
                &got);
        n += got;
        if (rc != 0 || got == 0)
            break; /* an error, a cancel, or the end */
        if (max && n > max) {
            rc = -EFBIG;
            break;
        }
    }
    read_all_close(fd);
    if (rc != 0) {
        corio__free(buf);
        return rc;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int corio_file_write_all(const char *path, const void *data, size_t len,
                         unsigned mode)
{
    struct fjob *f, *done;
    int rc;
    if (!path || (!data && len > 0) || mode > 07777)
        return -EINVAL;
    if ((f = fj_new(F_WRITE_ALL, -1)) != NULL) {
        f->path = path;
        f->buf = (void *)data;
        f->len = len;
        f->mode = mode;
    }
    rc = fj_simple(f, &done);
    if (done) {
        if (rc == -ECANCELED && done->renamed)
            rc = done->err; /* in place already: that is what counts */
        corio__free(done);
    }
    return rc;
}
