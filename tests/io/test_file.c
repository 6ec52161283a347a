/*
 * test_file.c: corio_file_* (file.h): every call's result and errors,
 * the whole-file helpers (atomic replace, size limit), and cancellation
 * with a cancel standing, while queued and while running (a read or
 * write blocked on a pipe, which the test then feeds or drains), and a
 * loop freed while an operation runs. The pool's running count tells the
 * test when an operation has started; nothing sleeps.
 */
#include "test.h"

#include "cancel_rule.h"
#include "run_body.h"
#include "thread/pool.h"

#include <corio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/corio_file_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static char *in_dir(const char *name)
{
    static char buf[4][400];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 400, "%s/%s", dir, name);
    return p;
}

static int count_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    CHECK(d != NULL);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            unlink(in_dir(e->d_name));
    closedir(d);
    rmdir(dir);
}

/* ---- the calls ------------------------------------------------------------------ */

static int basic_body(void)
{
    const char *path = in_dir("a");
    char buf[32];
    struct stat st;
    size_t n = 99;
    int fd;

    CHECK_EQ(corio_file_open(path, O_RDONLY, 0, &fd), -ENOENT);
    CHECK_EQ(corio_file_open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600, &fd),
             0);
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    CHECK_EQ(corio_file_write(fd, "hello world", 11, &n), 0);
    CHECK_EQ(n, 11);
    CHECK_EQ(corio_file_pwrite(fd, "W", 1, 6, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(corio_file_fsync(fd), 0);
    CHECK_EQ(corio_file_fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 11);
    CHECK_EQ(corio_file_close(fd), 0);

    CHECK_EQ(corio_file_stat(path, &st), 0);
    CHECK_EQ(st.st_size, 11);
    CHECK_EQ(corio_file_open(path, O_RDONLY, 0, &fd), 0);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(corio_file_read(fd, buf, 5, &n), 0);
    CHECK_EQ(n, 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(corio_file_pread(fd, buf, sizeof buf, 6, &n), 0);
    CHECK_EQ(n, 5);
    CHECK(memcmp(buf, "World", 5) == 0);
    CHECK_EQ(corio_file_read(fd, buf, sizeof buf, &n), 0); /* rest */
    CHECK_EQ(n, 6);
    CHECK_EQ(corio_file_read(fd, buf, sizeof buf, &n), 0); /* the end */
    CHECK_EQ(n, 0);
    CHECK_EQ(corio_file_read(fd, buf, 0, NULL), 0);
    CHECK_EQ(corio_file_write(fd, "x", 1, &n), -EBADF); /* read-only */
    CHECK_EQ(n, 0);
    CHECK_EQ(corio_file_close(fd), 0);

    /* Errors. */
    CHECK_EQ(corio_file_read(fd, buf, 1, &n), -EBADF);
    CHECK_EQ(corio_file_fsync(-1), -EBADF);
    CHECK_EQ(corio_file_fstat(-1, &st), -EBADF);
    CHECK_EQ(corio_file_close(-1), -EBADF);
    CHECK_EQ(corio_file_stat(in_dir("none"), &st), -ENOENT);
    CHECK_EQ(corio_file_pread(0, buf, 1, -1, &n), -EINVAL);
    CHECK_EQ(corio_file_pwrite(0, buf, 1, -1, &n), -EINVAL);
    CHECK_EQ(corio_file_read(0, NULL, 1, &n), -EINVAL);
    CHECK_EQ(corio_file_write(0, NULL, 1, &n), -EINVAL);
    CHECK_EQ(corio_file_open(NULL, O_RDONLY, 0, &fd), -EINVAL);
    CHECK_EQ(corio_file_open(path, O_RDONLY, 0, NULL), -EINVAL);
    CHECK_EQ(corio_file_stat(NULL, &st), -EINVAL);
    CHECK_EQ(corio_file_stat(path, NULL), -EINVAL);
    CHECK_EQ(corio_file_fstat(0, NULL), -EINVAL);
    return 0;
}

TEST(file_calls)
{
    struct stat st;
    int fd;
    make_dir();
    /* Outside a task. */
    CHECK_EQ(corio_file_open(in_dir("a"), O_RDONLY, 0, &fd), CORIO_ENOTASK);
    CHECK_EQ(corio_file_stat(dir, &st), CORIO_ENOTASK);
    CHECK_EQ(corio_file_close(0), CORIO_ENOTASK);
    CHECK_EQ(run(basic_body), 0);
    remove_dir();
}

static int whole_body(void)
{
    const char *path = in_dir("whole");
    void *data = NULL;
    size_t len = 0;
    struct stat st;
    static char big[3 << 20];
    size_t i;

    CHECK_EQ(corio_file_read_all(path, 0, &data, &len), -ENOENT);
    CHECK_EQ(corio_file_write_all(path, "first", 5, 0644), 0);
    CHECK_EQ(corio_file_read_all(path, 0, &data, &len), 0);
    CHECK_EQ(len, 5);
    CHECK(strcmp(data, "first") == 0); /* NUL-terminated */
    corio_free(data);
    CHECK_EQ(corio_file_stat(path, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0644);
    /* Replaced whole, bigger than a piece; the mode as given. */
    for (i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    CHECK_EQ(corio_file_write_all(path, big, sizeof big, 0600), 0);
    CHECK_EQ(corio_file_read_all(path, 0, &data, &len), 0);
    CHECK_EQ(len, sizeof big);
    CHECK(memcmp(data, big, len) == 0);
    corio_free(data);
    CHECK_EQ(corio_file_stat(path, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0600);
    /* A limit. */
    data = (void *)1;
    len = 7;
    CHECK_EQ(corio_file_read_all(path, 1000, &data, &len), -EFBIG);
    CHECK_PTR(data, (void *)1);
    CHECK_EQ(len, 7);
    CHECK_EQ(corio_file_read_all(path, sizeof big, &data, &len), 0);
    corio_free(data);
    /* Empty. */
    CHECK_EQ(corio_file_write_all(path, NULL, 0, 0600), 0);
    CHECK_EQ(corio_file_read_all(path, 0, &data, &len), 0);
    CHECK_EQ(len, 0);
    corio_free(data);
    CHECK_EQ(count_entries(), 1); /* no temporary file left */
    /* Errors. */
    CHECK_EQ(corio_file_write_all(in_dir("no/such"), "x", 1, 0600), -ENOENT);
    CHECK_EQ(corio_file_write_all(path, "x", 1, 010000), -EINVAL);
    CHECK_EQ(corio_file_write_all(path, NULL, 1, 0600), -EINVAL);
    CHECK_EQ(corio_file_write_all(NULL, "x", 1, 0600), -EINVAL);
    CHECK_EQ(corio_file_read_all(NULL, 0, &data, &len), -EINVAL);
    CHECK_EQ(corio_file_read_all(path, 0, NULL, &len), -EINVAL);
    CHECK_EQ(corio_file_read_all(path, 0, &data, NULL), -EINVAL);
    CHECK_EQ(corio_file_read_all(dir, 0, &data, &len), -EISDIR);
    CHECK_EQ(count_entries(), 1);
    return 0;
}

TEST(file_whole)
{
    make_dir();
    CHECK_EQ(run(whole_body), 0);
    remove_dir();
}

/* ---- cancellation -------------------------------------------------------------------- */

static int standing_body(void)
{
    char buf[4];
    size_t n = 5;
    struct stat st;
    void *data = NULL;
    size_t len = 0;
    int fd = -1;
    CHECK_EQ(corio_file_write_all(in_dir("keep"), "old", 3, 0600), 0);
    witness();
    cancel_self();
    CHECK_EQ(corio_file_open(in_dir("new"), O_CREAT | O_WRONLY, 0600, &fd),
             -ECANCELED);
    CHECK_EQ(fd, -1);
    CHECK_EQ(corio_file_read(0, buf, 1, &n), -ECANCELED);
    CHECK_EQ(n, 0);
    CHECK_EQ(corio_file_write(1, "x", 1, &n), -ECANCELED);
    CHECK_EQ(n, 0);
    CHECK_EQ(corio_file_pread(0, buf, 1, 0, &n), -ECANCELED);
    CHECK_EQ(corio_file_pwrite(1, "x", 1, 0, &n), -ECANCELED);
    CHECK_EQ(corio_file_fsync(1), -ECANCELED);
    CHECK_EQ(corio_file_stat(dir, &st), -ECANCELED);
    CHECK_EQ(corio_file_fstat(0, &st), -ECANCELED);
    CHECK_EQ(corio_file_read_all(in_dir("keep"), 0, &data, &len),
             -ECANCELED);
    CHECK_EQ(corio_file_write_all(in_dir("keep"), "new", 3, 0600),
             -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK(data == NULL);
    CHECK_EQ(count_entries(), 1); /* "new" never made, "keep" kept */
    CHECK_EQ(corio_file_read_all(in_dir("keep"), 0, &data, &len), 0);
    CHECK(strcmp(data, "old") == 0);
    corio_free(data);
    /* Close is not cancellable: the descriptor goes anyway. */
    CHECK_EQ(corio_file_open(in_dir("keep"), O_RDONLY, 0, &fd), 0);
    cancel_self();
    CHECK_EQ(corio_file_close(fd), 0);
    uncancel_self();
    CHECK_EQ(fcntl(fd, F_GETFD), -1);
    return 0;
}

TEST(file_cancel_standing)
{
    make_dir();
    CHECK_EQ(run(standing_body), 0);
    remove_dir();
}

static int pipefd[2];
static char rbuf[8];
static int op_rc;
static size_t op_n;

static int reader(void *arg, void **result)
{
    (void)arg;
    (void)result;
    op_n = 99;
    op_rc = corio_file_read(pipefd[0], rbuf, sizeof rbuf, &op_n);
    return 0;
}

#define BIG (1 << 20)
static char wbuf[BIG];

static int writer(void *arg, void **result)
{
    (void)arg;
    (void)result;
    op_n = 99;
    op_rc = corio_file_write(pipefd[1], wbuf, BIG, &op_n);
    return 0;
}

/* Wait (yielding the loop) until the file lane runs n jobs. */
static void until_running(unsigned n)
{
    corio_pool *p;
    CHECK_EQ(corio_loop_pool(corio_loop_current(), &p), 0);
    while (corio__pool_running(p, CORIO_LANE_FILE) != n) {
        sched_yield();
        CHECK_EQ(corio_sleep(0), 0);
    }
}

/* A read blocked in the kernel: the cancel waits for it, then the call
 * reports -ECANCELED with what it read. */
static int cancel_read_body(void)
{
    corio_task *t;
    int i;
    CHECK_EQ(pipe2(pipefd, O_CLOEXEC), 0); /* blocking: the job blocks */
    CHECK_EQ(corio_spawn(reader, NULL, NULL, &t), 0);
    until_running(1);
    CHECK_EQ(corio_task_cancel(t), 0);
    for (i = 0; i < 3; i++)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_task_done(t), 0); /* still waiting for the read */
    CHECK_EQ(write(pipefd[1], "abc", 3), 3);
    CHECK_EQ(corio_task_join(t, NULL), 0); /* its body saw the cancel */
    CHECK_EQ(op_rc, -ECANCELED);
    CHECK_EQ(op_n, 3);
    CHECK(memcmp(rbuf, "abc", 3) == 0);
    corio_task_release(t);
    close(pipefd[0]);
    close(pipefd[1]);
    return 0;
}

TEST(file_cancel_read_running)
{
    CHECK_EQ(run(cancel_read_body), 0);
}

/* A write blocked on a full pipe: cancelled, then the reader goes away;
 * the call reports how much went out. */
static int cancel_write_body(void)
{
    corio_task *t;
    int queued = 0;
    CHECK_EQ(pipe2(pipefd, O_CLOEXEC), 0);
    CHECK_EQ(corio_spawn(writer, NULL, NULL, &t), 0);
    until_running(1);
    /* Wait until the pipe is full: the write is blocked in the kernel. */
    while (queued < 4096) {
        CHECK_EQ(ioctl(pipefd[0], FIONREAD, &queued), 0);
        CHECK_EQ(corio_sleep(0), 0);
    }
    CHECK_EQ(corio_task_cancel(t), 0);
    close(pipefd[0]); /* the write returns its partial count */
    CHECK_EQ(corio_task_join(t, NULL), 0); /* its body saw the cancel */
    CHECK_EQ(op_rc, -ECANCELED);
    CHECK(op_n > 0 && op_n < BIG);
    corio_task_release(t);
    close(pipefd[1]);
    return 0;
}

TEST(file_cancel_write_running)
{
    signal(SIGPIPE, SIG_IGN);
    CHECK_EQ(run(cancel_write_body), 0);
}

/* Queued behind a running job (lane limit 1): dropped, never run. */
static int cancel_queued_body(void)
{
    corio_pool_opts o = {{0, 1, 0}, 0, 0};
    corio_pool *p;
    corio_task *t1, *t2;
    static char other[4];
    CHECK_EQ(corio_pool_new(&o, &p), 0);
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), p), 0);
    corio_pool_release(p);
    CHECK_EQ(pipe2(pipefd, O_CLOEXEC), 0);
    CHECK_EQ(corio_spawn(reader, NULL, NULL, &t1), 0);
    until_running(1);
    CHECK_EQ(corio_spawn(writer, NULL, NULL, &t2), 0);
    CHECK_EQ(corio_sleep(0), 0); /* t2's write queues */
    CHECK_EQ(corio_task_cancel(t2), 0);
    CHECK_EQ(corio_task_join(t2, NULL), 0);
    CHECK_EQ(op_rc, -ECANCELED);
    CHECK_EQ(op_n, 0);
    CHECK_EQ(write(pipefd[1], "z", 1), 1);
    CHECK_EQ(corio_task_join(t1, NULL), 0);
    CHECK_EQ(op_rc, 0);
    CHECK_EQ(op_n, 1);
    /* Nothing else went into the pipe: the write never ran. */
    CHECK_EQ(corio_fd_nonblock(pipefd[0]), 0);
    CHECK_EQ(read(pipefd[0], other, sizeof other), -1);
    CHECK_EQ(errno, EAGAIN);
    corio_task_release(t1);
    corio_task_release(t2);
    close(pipefd[0]);
    close(pipefd[1]);
    return 0;
}

TEST(file_cancel_queued)
{
    CHECK_EQ(run(cancel_queued_body), 0);
}

/* The loop is freed while a read runs: the grace passes, the job is
 * abandoned (reported), and ends on its own once fed. */
static int start_read_then_stop(void *arg, void **result)
{
    corio_loop *loop = arg;
    CHECK_EQ(corio_spawn(reader, NULL, NULL, NULL), 0);
    until_running(1);
    corio_loop_stop(loop);
    (void)result;
    return 0;
}

TEST(file_loop_free_in_flight)
{
    corio_pool_opts o = {{0, 0, 0}, 0.001, 0.02};
    corio_pool *p;
    corio_loop *loop;
    char *err;
    CHECK_EQ(pipe2(pipefd, O_CLOEXEC), 0);
    CHECK_EQ(corio_pool_new(&o, &p), 0);
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_set_pool(loop, p), 0);
    CHECK_EQ(corio_loop_spawn(loop, start_read_then_stop, loop, NULL, NULL),
             0);
    CHECK_EQ(corio_loop_run(loop), 0);
    corio_test_stderr_begin();
    CHECK_EQ(corio_loop_free(loop), 0);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "abandoned");
    free(err);
    CHECK_EQ(write(pipefd[1], "q", 1), 1);
    /* Our reference keeps the pool: its thread exits once idle, so the
     * job has ended (and freed itself) when none is left. */
    while (corio_pool_threads(p) > 0)
        sched_yield();
    CHECK_EQ(rbuf[0], 'q');
    corio_pool_release(p);
    close(pipefd[0]);
    close(pipefd[1]);
}
