/*
 * test_io_loop.c: the loop's side of descriptor waits: ready descriptors
 * left idle do not make it spin, the I/O calls outside a loop, regular
 * files on each backend, corio_loop_free with waiters, and waits counted
 * for the deadlock detector (loop_impl.h: outside_waits). *
 * Every case runs on the backend named by $CORIO_BACKEND (CTest runs the
 * suite once per backend); where the backends differ on purpose (regular
 * files), the case asks which one it is on.
 */

#include "test.h"
#include "io_tasks.h"

#include <corio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "task/task_impl.h"

/* ---- no busy loops ------------------------------------------------------------ */

/* Loop iterations while the loop sleeps `secs` with nothing to do: a loop
 * that spins on a ready descriptor iterates without end; one that does not
 * wakes once for the timer (a few times at most, for a timeout rounded to
 * the poller's resolution). A count, not CPU time, so a loaded machine
 * changes nothing. */
static unsigned idle_iterations;
static void (*idle_chained)(corio_loop *loop);

static void count_iteration(corio_loop *loop)
{
    idle_iterations++;
    if (idle_chained)
        idle_chained(loop);
}

static unsigned idle_iterations_in(double secs)
{
    corio_loop *loop = corio_loop_current();
    unsigned n;
    idle_chained = loop->on_iteration;
    loop->on_iteration = count_iteration;
    idle_iterations = 0;
    CHECK_EQ(corio_sleep(secs), 0);
    n = idle_iterations;
    loop->on_iteration = idle_chained;
    return n;
}

static int no_spin_main(void *arg, void **result)
{
    int p[2], q[2], keep, sv[2];
    unsigned its;
    (void)arg;
    (void)result;
    /* A readable pipe that a task waited on once and then left alone: the
     * level-triggered backend must drop its interest. */
    make_pipe(p);
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(corio_wait_readable(p[0]), 0);
    /* A socket in error (peer gone) that was waited on. */
    make_socketpair(sv);
    CHECK_EQ(corio_wait_writable(sv[0]), 0);
    close(sv[1]);
    /* A watched pipe closed with corio_fd_close while a dup keeps its
     * description alive, then made readable and hung up (libuv#1468). */
    make_pipe(q);
    keep = dup(q[0]);
    CHECK_EQ(corio_wait_writable(q[1]), 0);
    {
        struct reading r = {q[0], {0}, 0};
        corio_task *t;
        CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
        CHECK_EQ(corio_sleep(0.01), 0);
        CHECK_EQ(corio_fd_close(q[0]), 0);
        CHECK_EQ(corio_task_join(t, NULL), -EBADF);
        corio_task_release(t);
    }
    CHECK_EQ(write(q[1], "y", 1), 1);
    CHECK_EQ(corio_sleep(0.01), 0);
    its = idle_iterations_in(0.2);
    if (its > 50)
        corio_test_fail(__FILE__, __LINE__, "%u loop iterations in a 0.2 s "
                        "idle sleep: the loop spins", its);
    corio_fd_close(p[0]);
    corio_fd_close(p[1]);
    corio_fd_close(sv[0]);
    corio_fd_close(q[1]);
    close(keep);
    return 0;
}

TEST(io_idle_ready_descriptors_do_not_spin)
{
    run_main(no_spin_main, NULL);
}

/* ---- outside a loop, regular files, deadlock accounting ------------------------ */

TEST(io_calls_outside_a_loop)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    size_t written = 99;
    char c;
    int p[2];
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(corio_read(p[0], &c, 1), CORIO_ENOTASK);
    CHECK_EQ(corio_write(p[1], "x", 1), CORIO_ENOTASK);
    CHECK_EQ(corio_write_all(p[1], "x", 1, &written), CORIO_ENOTASK);
    CHECK_EQ(written, 0);
    CHECK_EQ(corio_wait_readable(p[0]), CORIO_ENOTASK);
    CHECK_EQ(corio_wait_writable(p[1]), CORIO_ENOTASK);
    CHECK_EQ(corio_accept(p[0], (struct sockaddr *)&sa, &salen),
             CORIO_ENOTASK);
    memset(&sa, 0, sizeof sa);
    CHECK_EQ(corio_connect(p[0], (struct sockaddr *)&sa, sizeof sa),
             CORIO_ENOTASK);
    CHECK_EQ(corio_signal_wait(SIGUSR1), CORIO_ENOTASK);
    /* These two need no loop. */
    CHECK(!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
    CHECK_EQ(corio_fd_nonblock(p[0]), 0);
    CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    CHECK_EQ(corio_fd_nonblock(p[0]), 0); /* already: fine */
    CHECK_EQ(corio_fd_close(p[0]), 0);
    CHECK(fcntl(p[0], F_GETFD) < 0 && errno == EBADF);
    CHECK_EQ(corio_fd_nonblock(p[0]), -EBADF);
    CHECK_EQ(corio_fd_close(p[0]), -EBADF);
    CHECK_EQ(corio_fd_close(p[1]), 0);
}

static int regular_file_main(void *arg, void **result)
{
    char path[] = "/tmp/corio_test_io_XXXXXX", buf[8];
    int fd = mkstemp(path);
    (void)arg;
    (void)result;
    CHECK(fd >= 0);
    CHECK_EQ(unlink(path), 0);
    CHECK_EQ(write(fd, "data", 4), 4);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    /* The calls try first, and a regular file never says EAGAIN. */
    CHECK_EQ(corio_read(fd, buf, sizeof buf), 4);
    CHECK_EQ(memcmp(buf, "data", 4), 0);
    CHECK_EQ(corio_write(fd, "more", 4), 4);
    /* Always ready, on every backend (epoll refuses to watch it). */
    CHECK_EQ(corio_wait_readable(fd), 0);
    CHECK_EQ(corio_wait_writable(fd), 0);
    CHECK_EQ(io_waiting(), 0);
    CHECK_EQ(corio_fd_close(fd), 0);
    return 0;
}

TEST(io_regular_file_per_backend)
{
    run_main(regular_file_main, NULL);
}

/* A reader that closes its descriptor on the way out, whatever happens. */
static int read_then_close(void *arg, void **result)
{
    struct reading *r = arg;
    (void)result;
    r->rc = corio_read(r->fd, r->buf, sizeof r->buf);
    CHECK_EQ(corio_fd_close(r->fd), 0);
    return (int)r->rc;
}

static void stop_loop(void *arg)
{
    corio_loop_stop(arg);
}

TEST(io_loop_free_with_waiters)
{
    static char big[1 << 20];
    struct writing w = {0, big, sizeof big, 0, 0};
    struct reading r;
    corio_loop *loop;
    int p[2], sv[2], fds = corio_test_count_fds();
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    make_pipe(p);
    make_socketpair(sv);
    r.fd = p[0];
    w.fd = sv[0];
    CHECK_EQ(corio_loop_spawn(loop, read_then_close, &r, NULL, NULL), 0);
    CHECK_EQ(corio_loop_spawn(loop, write_all_task, &w, NULL, NULL), 0);
    CHECK_EQ(corio_loop_call_later(loop, 0.01, stop_loop, loop, NULL), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK_EQ(loop->outside_waits, 2);
    /* Abandoned: their waits end with -ECANCELED, cleanup runs (and may
     * still use corio_fd_close), and the loop's I/O state goes with it. */
    CHECK_EQ(corio_loop_free(loop), 0);
    CHECK_EQ(r.rc, -ECANCELED);
    CHECK_EQ(w.rc, -ECANCELED);
    CHECK(fcntl(p[0], F_GETFD) < 0); /* closed by the reader's cleanup */
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
    CHECK_EQ(corio_test_count_fds(), fds);
}

static void *write_after_delay(void *arg)
{
    int fd = (int)PI(arg);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (write(fd, "t", 1) != 1)
        abort();
    return NULL;
}

static int waits_for_thread_main(void *arg, void **result)
{
    int *p = arg;
    char c;
    (void)result;
    /* Nothing in the loop can wake this task; only another thread can.
     * The wait counts as "something may still happen": no deadlock. */
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 't');
    return 0;
}

static int deadlocks_after_cancel_main(void *arg, void **result)
{
    int *p = arg;
    struct reading r;
    corio_future *f;
    corio_task *t;
    int rc;
    (void)result;
    r.fd = p[0];
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    corio_task_release(t);
    /* Nobody waits on a descriptor now: waiting on nothing is a deadlock
     * the loop must see. */
    CHECK_EQ(corio_future_new(corio_loop_current(), &f), 0);
    rc = corio_future_await(f, NULL);
    corio_future_release(f);
    return rc;
}

TEST(io_waits_count_for_deadlock_detection)
{
    pthread_t th;
    char *err;
    int p[2];
    make_pipe(p);
    CHECK_EQ(pthread_create(&th, NULL, write_after_delay, IP(p[1])), 0);
    CHECK_EQ(corio_run(waits_for_thread_main, p, NULL), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    corio_test_stderr_begin();
    CHECK_EQ(corio_run(deadlocks_after_cancel_main, p, NULL), -EDEADLK);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "deadlock");
    free(err);
    close(p[0]);
    close(p[1]);
}
