/*
 * test_file_inline.c: corio_file_read / corio_file_pread's inline path
 * (and corio_file_read_all's, whose pieces take it)
 * (file.c): warm data is read on the loop's thread with
 * preadv2(RWF_NOWAIT), no pool thread involved, and the task still
 * yields once per call; what the inline try does not get goes to the
 * pool; a file that refuses RWF_NOWAIT (EOPNOTSUPP, EINVAL: played by
 * replacing file.c's preadv2) goes to the pool for good, until its
 * number is opened or closed again through corio; a cache miss (EAGAIN)
 * goes to the pool each time; short reads, the end of the file, pipes,
 * errors and cancellation keep their contracts.
 *
 * Whether the file system under /tmp takes RWF_NOWAIT at all is the
 * kernel's business: cases that need it report SKIPPED where it is
 * refused. The pool's thread count (a fresh pool per case) tells whether
 * a read went to the pool: no thread exists before its first job.
 */
#include "test.h"

#include "cancel_rule.h"
#include "io/file_impl.h"
#include "run_body.h"
#include "thread/pool.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SZ (3u << 20) /* bigger than one inline copy (1 MiB) */

static char path[64];
static unsigned char *want, *got;
static corio_pool *pool;

static void make_file(void)
{
    int fd;
    size_t i;
    strcpy(path, "/tmp/corio_inline_XXXXXX");
    CHECK((fd = mkstemp(path)) >= 0);
    want = malloc(SZ);
    got = malloc(SZ);
    CHECK(want && got);
    for (i = 0; i < SZ; i++)
        want[i] = (unsigned char)(i * 7 + i / 4096);
    CHECK_EQ(write(fd, want, SZ), (ssize_t)SZ); /* in the page cache */
    close(fd);
}

static void drop_file(void)
{
    unlink(path);
    free(want);
    free(got);
}

/* A fresh pool for the running loop: its thread count says whether any
 * job ran. */
static void fresh_pool(void)
{
    CHECK_EQ(corio_pool_new(NULL, &pool), 0);
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), pool), 0);
    corio_pool_release(pool); /* the loop holds it */
}

/* ---- a replaceable preadv2 ------------------------------------------------------------ */

static ssize_t (*real_preadv2)(int, const struct iovec *, int, off_t, int);
static atomic_int fake_err;   /* fail with this errno (0: do not) */
static atomic_int fake_half;  /* read only the first half */
static atomic_long fake_calls;

static ssize_t fake_preadv2(int fd, const struct iovec *iov, int n,
                            off_t off, int flags)
{
    int err = atomic_load(&fake_err);
    atomic_fetch_add(&fake_calls, 1);
    if (err) {
        errno = err;
        return -1;
    }
    if (atomic_load(&fake_half) && n == 1 && iov[0].iov_len > 1) {
        struct iovec half = {iov[0].iov_base, iov[0].iov_len / 2};
        return real_preadv2(fd, &half, 1, off, flags);
    }
    return real_preadv2(fd, iov, n, off, flags);
}

static void fake_on(int err, int half)
{
    if (!real_preadv2)
        real_preadv2 = corio__file_preadv2;
    atomic_store(&fake_err, err);
    atomic_store(&fake_half, half);
    atomic_store(&fake_calls, 0);
    corio__file_preadv2 = fake_preadv2;
}

/* ---- warm reads stay on the loop's thread ------------------------------------------- */

static int other_runs;

static int other(void *arg, void **result)
{
    (void)arg;
    (void)result;
    for (;;) {
        other_runs++;
        if (corio_sleep(0) != 0)
            return 0;
    }
}

static int warm_body(void)
{
    corio_task *o;
    size_t n = 0;
    int fd, k, before;
    fresh_pool();
    CHECK((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
    CHECK_EQ(corio_spawn(other, NULL, NULL, &o), 0);
    CHECK_EQ(corio_sleep(0), 0); /* o runs once */
    CHECK_EQ(corio_file_pread(fd, got, 1, 0, &n), 0);
    if (corio__file_inline_refused(fd)) { /* e.g. qemu-user refuses */
        close(fd);
        corio_task_cancel(o);
        corio_task_release(o);
        corio_test_skip("RWF_NOWAIT refused here (file system, kernel or emulator)");
    }
    /* pread: small pieces, each inline, each a suspension. */
    for (k = 0; k < 8; k++) {
        before = other_runs;
        memset(got, 0, 4096);
        CHECK_EQ(corio_file_pread(fd, got, 4096, (off_t)k * 4096, &n), 0);
        CHECK_EQ(n, 4096);
        CHECK(memcmp(got, want + k * 4096, 4096) == 0);
        CHECK_EQ(other_runs, before + 1); /* the task yielded once */
    }
    /* read: the file position moves. */
    CHECK_EQ(corio_file_read(fd, got, 1000, &n), 0);
    CHECK_EQ(n, 1000);
    CHECK_EQ(corio_file_read(fd, got + 1000, 1000, &n), 0);
    CHECK_EQ(n, 1000);
    CHECK(memcmp(got, want, 2000) == 0);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 2000);
    /* The end: short, then 0. */
    CHECK_EQ(corio_file_pread(fd, got, 4096, SZ - 100, &n), 0);
    CHECK_EQ(n, 100);
    CHECK(memcmp(got, want + SZ - 100, 100) == 0);
    CHECK_EQ(corio_file_pread(fd, got, 4096, SZ, &n), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(corio_pool_threads(pool), 0); /* no job ever ran */
    /* More than one inline copy: the first MiB inline, the rest on the
     * pool; the caller sees one whole read. */
    memset(got, 0, SZ);
    CHECK_EQ(corio_file_pread(fd, got, SZ, 0, &n), 0);
    CHECK_EQ(n, SZ);
    CHECK(memcmp(got, want, SZ) == 0);
    CHECK(corio_pool_threads(pool) >= 1);
    CHECK_EQ(corio_task_cancel(o), 0);
    CHECK_EQ(corio_task_join(o, NULL), 0);
    corio_task_release(o);
    close(fd);
    return 0;
}

TEST(file_inline_warm)
{
    make_file();
    CHECK_EQ(run(warm_body), 0);
    drop_file();
}

/* ---- cancellation ------------------------------------------------------------------------ */

static int rd_rc;
static size_t rd_n;
static int rd_fd;

static int inline_reader(void *arg, void **result)
{
    (void)arg;
    (void)result;
    rd_n = 99;
    rd_rc = corio_file_pread(rd_fd, got, 4096, 0, &rd_n);
    return 0;
}

static int cancel_body(void)
{
    corio_task *t;
    size_t n = 7;
    CHECK((rd_fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
    fresh_pool();
    /* Standing: nothing read, no suspension. */
    witness();
    cancel_self();
    CHECK_EQ(corio_file_pread(rd_fd, got, 4096, 0, &n), -ECANCELED);
    CHECK_EQ(n, 0);
    CHECK_EQ(corio_file_read(rd_fd, got, 4096, &n), -ECANCELED);
    CHECK_EQ(n, 0);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(lseek(rd_fd, 0, SEEK_CUR), 0);
    /* A cancel that comes while the reader yields after its inline copy:
     * the call still reports what it read. */
    CHECK_EQ(corio_spawn(inline_reader, NULL, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0); /* t reads inline, then yields */
    CHECK_EQ(corio_task_cancel(t), 0);
    corio_task_join(t, NULL);
    if (corio__file_inline_refused(rd_fd)) {
        corio_task_release(t);
        close(rd_fd);
        corio_test_skip("RWF_NOWAIT refused here (file system, kernel or emulator)");
    }
    CHECK(rd_rc == 0 || rd_rc == -ECANCELED);
    CHECK_EQ(rd_n, 4096);
    CHECK(memcmp(got, want, 4096) == 0);
    CHECK_EQ(corio_pool_threads(pool), 0);
    corio_task_release(t);
    close(rd_fd);
    return 0;
}

TEST(file_inline_cancel)
{
    make_file();
    CHECK_EQ(run(cancel_body), 0);
    drop_file();
}

/* ---- files that refuse RWF_NOWAIT, cache misses, partial copies ------------------- */

static int refused_body(int err)
{
    size_t n = 0;
    int fd;
    fresh_pool();
    CHECK_EQ(corio_file_open(path, O_RDONLY, 0, &fd), 0);
    fake_on(err, 0);
    CHECK_EQ(corio_file_pread(fd, got, 8192, 100, &n), 0);
    CHECK_EQ(n, 8192);
    CHECK(memcmp(got, want + 100, 8192) == 0);
    CHECK_EQ(atomic_load(&fake_calls), 1);
    CHECK_EQ(corio__file_inline_refused(fd), 1);
    CHECK(corio_pool_threads(pool) >= 1); /* the pool read it */
    /* For good: no second try. */
    CHECK_EQ(corio_file_read(fd, got, 5000, &n), 0);
    CHECK_EQ(n, 5000);
    CHECK(memcmp(got, want, 5000) == 0);
    CHECK_EQ(atomic_load(&fake_calls), 1);
    /* The number's next file starts afresh. */
    CHECK_EQ(corio_file_close(fd), 0);
    CHECK_EQ(corio__file_inline_refused(fd), 0);
    atomic_store(&fake_err, 0);
    CHECK_EQ(corio_file_open(path, O_RDONLY, 0, &fd), 0);
    CHECK_EQ(corio_file_pread(fd, got, 100, 0, &n), 0);
    CHECK_EQ(n, 100);
    CHECK(memcmp(got, want, 100) == 0);
    CHECK_EQ(atomic_load(&fake_calls), 2);
    CHECK_EQ(corio_file_close(fd), 0);
    return 0;
}

static int refused_eopnotsupp(void)
{
    return refused_body(EOPNOTSUPP);
}

static int refused_einval(void)
{
    return refused_body(EINVAL);
}

TEST(file_inline_refused)
{
    make_file();
    CHECK_EQ(run(refused_eopnotsupp), 0);
    CHECK_EQ(run(refused_einval), 0);
    drop_file();
}

/* Not in the cache (EAGAIN): the pool reads it, and the next call tries
 * inline again. */
static int miss_body(void)
{
    size_t n = 0;
    int fd;
    fresh_pool();
    CHECK((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
    fake_on(EAGAIN, 0);
    CHECK_EQ(corio_file_read(fd, got, 3000, &n), 0);
    CHECK_EQ(n, 3000);
    CHECK_EQ(corio_file_read(fd, got + 3000, 3000, &n), 0);
    CHECK_EQ(n, 3000);
    CHECK(memcmp(got, want, 6000) == 0);
    CHECK_EQ(atomic_load(&fake_calls), 2);
    CHECK_EQ(corio__file_inline_refused(fd), 0);
    CHECK(corio_pool_threads(pool) >= 1);
    /* Errors come from the pool's read as before. */
    CHECK_EQ(corio_file_read(fd, NULL, 0, &n), 0);
    close(fd);
    CHECK_EQ(corio_file_read(fd, got, 10, &n), -EBADF);
    CHECK_EQ(n, 0);
    return 0;
}

TEST(file_inline_miss)
{
    make_file();
    CHECK_EQ(run(miss_body), 0);
    drop_file();
}

/* Part of a regular file inline (the rest not cached): the pool reads
 * on from there, for pread and read alike; the caller sees one read. */
static int half_body(void)
{
    size_t n = 0;
    int fd;
    fresh_pool();
    CHECK((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
    fake_on(0, 1);
    memset(got, 0, SZ);
    CHECK_EQ(corio_file_pread(fd, got, 10000, 5, &n), 0);
    CHECK_EQ(n, 10000);
    CHECK(memcmp(got, want + 5, 10000) == 0);
    if (corio__file_inline_refused(fd)) {
        close(fd);
        corio_test_skip("RWF_NOWAIT refused here (file system, kernel or emulator)");
    }
    CHECK_EQ(corio_file_read(fd, got, 10000, &n), 0);
    CHECK_EQ(n, 10000);
    CHECK(memcmp(got, want, 10000) == 0);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 10000);
    CHECK_EQ(atomic_load(&fake_calls), 2);
    CHECK(corio_pool_threads(pool) >= 1);
    close(fd);
    return 0;
}

TEST(file_inline_partial)
{
    make_file();
    CHECK_EQ(run(half_body), 0);
    drop_file();
}

/* A pipe: what it holds comes back at once (a short read, as read(2)
 * gives), inline or on the pool alike; an empty one waits on the pool
 * for its writer. */
static int pfd[2];

static int pipe_reader(void *arg, void **result)
{
    (void)arg;
    (void)result;
    rd_n = 99;
    rd_rc = corio_file_read(pfd[0], got, 64, &rd_n);
    return 0;
}

static int pipe_body(void)
{
    corio_task *t;
    size_t n = 0;
    CHECK_EQ(pipe2(pfd, O_CLOEXEC), 0); /* blocking */
    CHECK_EQ(write(pfd[1], "abc", 3), 3);
    CHECK_EQ(corio_file_read(pfd[0], got, 64, &n), 0);
    CHECK_EQ(n, 3);
    CHECK(memcmp(got, "abc", 3) == 0);
    CHECK_EQ(corio_spawn(pipe_reader, NULL, NULL, &t), 0);
    /* Empty: the reader waits on the pool until the data comes. */
    while (corio__pool_running(pool, CORIO_LANE_FILE) != 1) {
        sched_yield();
        CHECK_EQ(corio_sleep(0), 0);
    }
    CHECK_EQ(write(pfd[1], "xy", 2), 2);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(rd_rc, 0);
    CHECK_EQ(rd_n, 2);
    CHECK(memcmp(got, "xy", 2) == 0);
    corio_task_release(t);
    close(pfd[1]);
    CHECK_EQ(corio_file_read(pfd[0], got, 64, &n), 0); /* the end */
    CHECK_EQ(n, 0);
    close(pfd[0]);
    return 0;
}

static int pipe_main(void)
{
    fresh_pool();
    return pipe_body();
}

TEST(file_inline_pipe)
{
    got = malloc(64);
    CHECK(got != NULL);
    CHECK_EQ(run(pipe_main), 0);
    free(got);
}

/* ---- corio_file_read_all ----------------------------------------------------------------- */

/* A warm file: the open on the pool, every piece inline (1 MiB each, a
 * yield after each: 3 pieces and the try that finds the end), the close
 * on the loop's thread; a file over max stops at max + 1 bytes. */
static int read_all_warm_body(void)
{
    void *data = NULL;
    size_t len = 0;
    int fds = corio_test_count_fds(), before;
    corio_task *o;
    fresh_pool();
    fake_on(0, 0);
    CHECK_EQ(corio_spawn(other, NULL, NULL, &o), 0);
    before = other_runs;
    CHECK_EQ(corio_file_read_all(path, 0, &data, &len), 0);
    CHECK_EQ(len, SZ);
    CHECK(memcmp(data, want, SZ) == 0);
    CHECK_EQ(((char *)data)[SZ], '\0');
    corio_free(data);
    CHECK_EQ(corio_test_count_fds(), fds);
    if (atomic_load(&fake_calls) == 1) { /* refused at the first try */
        corio_task_cancel(o);
        corio_task_release(o);
        corio_test_skip("RWF_NOWAIT refused here (file system, kernel or emulator)");
    }
    CHECK_EQ(atomic_load(&fake_calls), 4);
    CHECK(other_runs >= before + 4); /* the open, then a yield a piece */
    /* Over max: -EFBIG, nothing kept. */
    data = (void *)1;
    len = 7;
    CHECK_EQ(corio_file_read_all(path, SZ - 1, &data, &len), -EFBIG);
    CHECK_PTR(data, (void *)1);
    CHECK_EQ(len, 7);
    CHECK_EQ(corio_file_read_all(path, SZ, &data, &len), 0);
    CHECK_EQ(len, SZ);
    corio_free(data);
    CHECK_EQ(corio_test_count_fds(), fds);
    CHECK_EQ(corio_task_cancel(o), 0);
    CHECK_EQ(corio_task_join(o, NULL), 0);
    corio_task_release(o);
    return 0;
}

/* A file that refuses RWF_NOWAIT: every piece and the close on the pool,
 * the same result. */
static int read_all_refused_body(void)
{
    void *data = NULL;
    size_t len = 0;
    int fds = corio_test_count_fds();
    fresh_pool();
    fake_on(EOPNOTSUPP, 0);
    CHECK_EQ(corio_file_read_all(path, 0, &data, &len), 0);
    CHECK_EQ(len, SZ);
    CHECK(memcmp(data, want, SZ) == 0);
    corio_free(data);
    CHECK_EQ(atomic_load(&fake_calls), 1); /* refused once, then the pool */
    CHECK_EQ(corio_test_count_fds(), fds);
    return 0;
}

/* A cancel while read_all yields after an inline piece: -ECANCELED,
 * nothing returned, the descriptor closed. */
static int ra_rc;
static void *ra_data;

static int ra_reader(void *arg, void **result)
{
    size_t len = 5;
    (void)arg;
    (void)result;
    ra_data = (void *)1;
    ra_rc = corio_file_read_all(path, 0, &ra_data, &len);
    CHECK_EQ(len, 5);
    return 0;
}

static int read_all_cancel_body(void)
{
    corio_task *t;
    int fds = corio_test_count_fds();
    fresh_pool();
    fake_on(0, 0);
    CHECK_EQ(corio_spawn(ra_reader, NULL, NULL, &t), 0);
    while (atomic_load(&fake_calls) == 0) /* the open runs on the pool */
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(ra_rc, -ECANCELED);
    CHECK_PTR(ra_data, (void *)1);
    CHECK_EQ(corio_test_count_fds(), fds);
    return 0;
}

/* A FIFO: no offsets, the data its writer gave, then the end. */
static void *fifo_writer(void *arg)
{
    int fd = open((const char *)arg, O_WRONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "hello fifo", 10), 10);
    close(fd);
    return NULL;
}

static char fifo_path[64];

static int read_all_fifo_body(void)
{
    pthread_t th;
    void *data = NULL;
    size_t len = 0;
    CHECK_EQ(pthread_create(&th, NULL, fifo_writer, fifo_path), 0);
    CHECK_EQ(corio_file_read_all(fifo_path, 0, &data, &len), 0);
    CHECK_EQ(len, 10);
    CHECK(memcmp(data, "hello fifo", 11) == 0);
    corio_free(data);
    CHECK_EQ(pthread_join(th, NULL), 0);
    return 0;
}

TEST(file_inline_read_all)
{
    snprintf(fifo_path, sizeof fifo_path, "/tmp/corio_fifo_%d", (int)getpid());
    unlink(fifo_path);
    CHECK_EQ(mkfifo(fifo_path, 0600), 0);
    CHECK_EQ(run(read_all_fifo_body), 0);
    unlink(fifo_path);
    make_file();
    CHECK_EQ(run(read_all_warm_body), 0);
    CHECK_EQ(run(read_all_refused_body), 0);
    CHECK_EQ(run(read_all_cancel_body), 0);
    drop_file();
}
