/*
 * bench_fileread.c: the fileread suite: read a file in 1 MiB pieces with
 * corio_file_pread / corio_file_read from a task, beside a plain blocking
 * pread loop on the calling thread, the limit. Warm pieces are read on
 * the loop's thread (preadv2 with RWF_NOWAIT, file.c); one more row
 * makes every inline try answer EAGAIN, as for data not in the page
 * cache, so each piece is a job on the pool's file lane: the cost of
 * the hand-off.
 *
 * The file: $TMPDIR/corio_bench_fileread.XXXXXX (TMPDIR default /tmp),
 * CORIO_BENCH_FILEREAD_MB MiB big (default 1024, i.e. 1 GiB; --quick: 16),
 * written once, then read once whole before any timing so that the page
 * cache is warm for every row alike; deleted at the end. Each row reads
 * it front to back in 1 MiB pieces into one page-aligned 1 MiB buffer
 * (see fr_new: the buffer's alignment alone moves a row by ~10%), wrapping round
 * at its end, so a sample may span several passes: the figure is ns per
 * MiB (the footer also gives GiB/s). The loop and its pool are kept
 * across samples.
 */
#include "bench.h"
#include "suites.h"

#include <corio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define PIECE ((size_t)1 << 20)

static int file_fd = -1;
static off_t file_size;

struct fr {
    corio_loop *loop;
    char *buf;
    off_t at;     /* the next piece's offset */
    uint64_t n;
    int positioned; /* corio_file_pread rather than corio_file_read */
    int pool_only;  /* every inline try says EAGAIN: the pool reads */
    int rc;
};

static int fr_new(void **state)
{
    struct fr *s = calloc(1, sizeof *s);
    void *buf = NULL;
    /* Page-aligned, the same for every row: the kernel's copy into a
     * buffer runs ~10% faster when it does not start on a 64-byte
     * boundary (measured here: offsets 0x50, 0x3a0, 0xa30 against 0x0,
     * 0x40, 0xc0, 0x800), so malloc's varying offsets made one row look
     * 9-13% slower than another. */
    if (!s || posix_memalign(&buf, 4096, PIECE) != 0) {
        free(s);
        return -ENOMEM;
    }
    s->buf = buf;
    *state = s;
    return 0;
}

/* ---- the reference: blocking pread ---------------------------------------------------- */

static int ref_setup(void **state, const char **why)
{
    (void)why;
    return fr_new(state);
}

static int ref_run(void *state, uint64_t n)
{
    struct fr *s = state;
    for (uint64_t i = 0; i < n; i++) {
        ssize_t r = pread(file_fd, s->buf, PIECE, s->at);
        if (r < 0)
            return -errno;
        if ((size_t)r != PIECE)
            return -EIO;
        s->at += (off_t)PIECE;
        if (s->at >= file_size)
            s->at = 0;
    }
    return 0;
}

static void fr_teardown(void *state)
{
    struct fr *s = state;
    if (s->loop)
        corio_loop_free(s->loop);
    free(s->buf);
    free(s);
}

/* ---- corio_file_pread / corio_file_read from a task --------------------------------- */

static int reader(void *arg, void **result)
{
    struct fr *s = arg;
    (void)result;
    for (uint64_t i = 0; i < s->n; i++) {
        size_t got = 0;
        int rc;
        if (s->positioned)
            rc = corio_file_pread(file_fd, s->buf, PIECE, s->at, &got);
        else
            rc = corio_file_read(file_fd, s->buf, PIECE, &got);
        if (rc == 0 && got != PIECE)
            rc = -EIO;
        if (rc) {
            s->rc = rc;
            break;
        }
        s->at += (off_t)PIECE;
        if (s->at >= file_size) {
            s->at = 0;
            if (!s->positioned && lseek(file_fd, 0, SEEK_SET) < 0) {
                s->rc = -errno;
                break;
            }
        }
    }
    corio_loop_stop(s->loop);
    return 0;
}

static int co_setup_k(void **state, int positioned)
{
    struct fr *s;
    int rc = fr_new((void **)&s);
    if (rc)
        return rc;
    if ((rc = corio_loop_new(NULL, &s->loop)) != 0) {
        fr_teardown(s);
        return rc;
    }
    s->positioned = positioned;
    if (!positioned && lseek(file_fd, 0, SEEK_SET) < 0) {
        rc = -errno;
        fr_teardown(s);
        return rc;
    }
    *state = s;
    return 0;
}

static int pread_setup(void **state, const char **why)
{
    (void)why;
    return co_setup_k(state, 1);
}

static int read_setup(void **state, const char **why)
{
    (void)why;
    return co_setup_k(state, 0);
}

/* file.c's preadv2 (src/io/file_impl.h; the bench links corio
 * statically). */
extern ssize_t (*corio__file_preadv2)(int fd, const struct iovec *iov,
                                      int n, off_t off, int flags);

static ssize_t not_cached(int fd, const struct iovec *iov, int n, off_t off,
                          int flags)
{
    (void)fd;
    (void)iov;
    (void)n;
    (void)off;
    (void)flags;
    errno = EAGAIN;
    return -1;
}

static int pool_setup(void **state, const char **why)
{
    int rc = pread_setup(state, why);
    if (rc == 0)
        ((struct fr *)*state)->pool_only = 1;
    return rc;
}

static int co_run(void *state, uint64_t n)
{
    struct fr *s = state;
    ssize_t (*real)(int, const struct iovec *, int, off_t, int) =
        corio__file_preadv2;
    int rc;
    s->n = n;
    s->rc = 0;
    if ((rc = corio_loop_spawn(s->loop, reader, s, NULL, NULL)) != 0)
        return rc;
    if (s->pool_only)
        corio__file_preadv2 = not_cached;
    rc = corio_loop_run(s->loop);
    corio__file_preadv2 = real;
    return rc ? rc : s->rc;
}

/* ---- the file --------------------------------------------------------------------------- */

/* Create, fill and read once (page cache warm) a file of mb MiB. */
static int make_file(size_t mb, char *path, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    char *buf;
    int rc = 0;
    if (!dir || !*dir)
        dir = "/tmp";
    snprintf(path, cap, "%s/corio_bench_fileread.XXXXXX", dir);
    if ((file_fd = mkstemp(path)) < 0)
        return -errno;
    if (!(buf = malloc(PIECE)))
        return -ENOMEM;
    for (size_t i = 0; i < PIECE; i++)
        buf[i] = (char)(i * 131u);
    for (size_t k = 0; k < mb && rc == 0; k++)
        if (pwrite(file_fd, buf, PIECE, (off_t)(k * PIECE)) != (ssize_t)PIECE)
            rc = errno ? -errno : -ENOSPC;
    for (size_t k = 0; k < mb && rc == 0; k++) /* warm the page cache */
        if (pread(file_fd, buf, PIECE, (off_t)(k * PIECE)) != (ssize_t)PIECE)
            rc = -EIO;
    free(buf);
    file_size = (off_t)(mb * PIECE);
    return rc;
}

static const bench_row rows[] = {
    {"blocking pread loop (the limit)", ref_setup, ref_run, fr_teardown, 0},
    {"corio_file_pread from a task", pread_setup, co_run, fr_teardown, 0},
    {"corio_file_read from a task", read_setup, co_run, fr_teardown, 0},
    {"corio_file_pread, every piece on the pool", pool_setup, co_run,
     fr_teardown, 0},
};

static const bench_table table = {
    "Files: read a warm file in 1 MiB pieces",
    "ns/MiB",
    NULL,
    0,
    rows,
    (int)(sizeof rows / sizeof rows[0]),
};

static int fileread_run(const bench_opts *opts)
{
    char path[4096];
    const char *e = getenv("CORIO_BENCH_FILEREAD_MB");
    size_t mb = opts->quick ? 16 : 1024;
    int rc;
    if (e && atoi(e) > 0)
        mb = (size_t)atoi(e);
    rc = make_file(mb, path, sizeof path);
    if (rc == 0) {
        printf("(file: %zu MiB in %s, written and read once before timing: "
               "page cache warm)\n", mb, path);
        rc = bench_table_run(&table, opts);
    } else {
        printf("Files: cannot make the %zu MiB file: %s\n", mb,
               strerror(-rc));
    }
    if (file_fd >= 0) {
        close(file_fd);
        unlink(path);
        file_fd = -1;
    }
    printf("\n"
           "  GiB/s = 1073741824 / (ns/MiB * 1024). Warm pieces are\n"
           "  copied on the loop's thread (preadv2 RWF_NOWAIT, at most\n"
           "  1 MiB, then the task yields once); the last row plays data\n"
           "  not in the page cache: each piece is then a pool job, a\n"
           "  hand-off to a pool thread and back through the loop's\n"
           "  eventfd, with the copy made on another CPU.\n"
           "  CORIO_BENCH_FILEREAD_MB sets the file's size (default 1024).\n");
    return rc ? -1 : 0;
}

const bench_suite bench_suite_fileread = {
    "fileread",
    "file read in 1 MiB pieces: corio_file_pread vs a blocking loop",
    fileread_run,
};
