/*
 * test_io.c: tasks waiting on descriptors, and the I/O calls (io.h).
 *
 * Every case runs on the backend named by $CORIO_BACKEND (CTest runs the
 * suite once per backend); where the backends differ on purpose (regular
 * files), the case asks which one it is on. Some cases look inside the
 * loop (loop_impl.h) to check that waits are counted for the deadlock
 * detector and to hand the loop a stale event by hand.
 */
#include "test.h"

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

#include "loop_impl.h"

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

/* Yield (sleep(0)) until t has been woken but not yet run. The loop looks
 * at the poller only every few iterations while work is ready, so this
 * may take several. Returns 1 once seen, 0 if it never happened. */
static int yield_until_woken(corio_task *t)
{
    int i;
    for (i = 0; i < 1000; i++) {
        CHECK_EQ(corio_sleep(0), 0);
        if (t->detach == NULL && t->queued)
            return 1;
    }
    return 0;
}

static int on_poll_backend(void)
{
    const char *b = getenv("CORIO_BACKEND");
    return b && strcmp(b, "poll") == 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t io_waiting(void)
{
    return corio_loop_current()->io_waiting;
}

static void make_pipe(int p[2])
{
    CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

static void make_socketpair(int sv[2])
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        0, sv),
             0);
}

/* Run main_fn as corio_run's main task; it must succeed. */
static void run_main(corio_coro_fn main_fn, void *arg)
{
    int rc = corio_run(main_fn, arg, NULL);
    if (rc != 0)
        corio_test_fail(__FILE__, __LINE__, "corio_run: %s (%s)",
                        corio_errname(rc), corio_strerror(rc));
}

/* A task that reads up to one buffer from fd and keeps the outcome. */
struct reading {
    int fd;
    char buf[64];
    ssize_t rc;
};

static int read_once(void *arg, void **result)
{
    struct reading *r = arg;
    (void)result;
    r->rc = corio_read(r->fd, r->buf, sizeof r->buf);
    return r->rc < 0 ? (int)r->rc : 0;
}

/* A task that writes a buffer with corio_write_all. */
struct writing {
    int fd;
    const char *buf;
    size_t len;
    size_t written;
    int rc;
};

static int write_all_task(void *arg, void **result)
{
    struct writing *w = arg;
    (void)result;
    w->rc = corio_write_all(w->fd, w->buf, w->len, &w->written);
    return w->rc;
}

/* ---- basic traffic ---------------------------------------------------------- */

static int pipe_reader_first_main(void *arg, void **result)
{
    struct reading r;
    corio_task *t;
    int p[2];
    (void)arg;
    (void)result;
    make_pipe(p);
    r.fd = p[0];
    r.rc = 99;
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK(!corio_task_done(t)); /* parked: the pipe is empty */
    CHECK_EQ(r.rc, 99);
    CHECK_EQ(io_waiting(), 1);
    CHECK_EQ(corio_write(p[1], "hello", 5), 5);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    CHECK_EQ(r.rc, 5);
    CHECK_EQ(memcmp(r.buf, "hello", 5), 0);
    CHECK_EQ(io_waiting(), 0);
    corio_task_release(t);
    CHECK_EQ(corio_close(p[0]), 0);
    CHECK_EQ(corio_close(p[1]), 0);
    return 0;
}

TEST(io_pipe_reader_waits_first)
{
    run_main(pipe_reader_first_main, NULL);
}

static int echo_task(void *arg, void **result)
{
    int fd = (int)PI(arg);
    char buf[16]; /* small: lines arrive in pieces */
    ssize_t n;
    int rc = 0;
    (void)result;
    while ((n = corio_read(fd, buf, sizeof buf)) > 0)
        if ((rc = corio_write_all(fd, buf, (size_t)n, NULL)) != 0)
            break;
    if (n < 0)
        rc = (int)n;
    corio_close(fd);
    return rc;
}

static int socketpair_echo_main(void *arg, void **result)
{
    corio_task *t;
    char line[64], back[64];
    int sv[2], i;
    (void)arg;
    (void)result;
    make_socketpair(sv);
    CHECK_EQ(corio_spawn(echo_task, IP(sv[1]), NULL, &t), 0);
    for (i = 0; i < 20; i++) {
        size_t len, got = 0;
        snprintf(line, sizeof line, "line %d of the echo test\n", i);
        len = strlen(line);
        CHECK_EQ(corio_write_all(sv[0], line, len, NULL), 0);
        while (got < len) {
            ssize_t n = corio_read(sv[0], back + got, len - got);
            CHECK(n > 0);
            got += (size_t)n;
        }
        CHECK_EQ(memcmp(line, back, len), 0);
    }
    CHECK_EQ(shutdown(sv[0], SHUT_WR), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0); /* saw end of file */
    CHECK_EQ(corio_read(sv[0], back, sizeof back), 0);
    corio_task_release(t);
    CHECK_EQ(corio_close(sv[0]), 0);
    CHECK_EQ(io_waiting(), 0);
    return 0;
}

TEST(io_socketpair_echo)
{
    run_main(socketpair_echo_main, NULL);
}

/* ---- readiness bookkeeping --------------------------------------------------- */

/* Cancel `victim` after `secs`: turns a lost wakeup into a clear failure
 * instead of a hang until the runner's timeout. */
struct watchdog {
    corio_task *victim;
    double secs;
};

static int watchdog_task(void *arg, void **result)
{
    struct watchdog *w = arg;
    (void)result;
    if (corio_sleep(w->secs) == 0)
        corio_task_cancel(w->victim);
    return 0;
}

static int wait_then_read(void *arg, void **result)
{
    int fd = (int)PI(arg);
    (void)result;
    return corio_wait_readable(fd);
}

static int write_later(void *arg, void **result)
{
    int fd = (int)PI(arg);
    (void)result;
    CHECK_EQ(corio_sleep(0.03), 0);
    CHECK_EQ(corio_write(fd, "c", 1), 1);
    return 0;
}

static int readiness_main(void *arg, void **result)
{
    struct watchdog wd = {corio_task_current(), 5.0};
    corio_task *t, *dog;
    char c;
    double t0;
    int p[2], sv[2];
    (void)arg;
    (void)result;
    CHECK_EQ(corio_spawn(watchdog_task, &wd, NULL, &dog), 0);
    make_pipe(p);

    /* Data before the descriptor was ever watched. */
    CHECK_EQ(write(p[1], "a", 1), 1);
    CHECK_EQ(corio_wait_readable(p[0]), 0);
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'a');

    /* Another task saw the readiness (and left the data): the loop's bit
     * is set and true, so this wait returns at once. */
    CHECK_EQ(corio_spawn(wait_then_read, IP(p[0]), NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(write(p[1], "b", 1), 1);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(corio_wait_readable(p[0]), 0);
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'b');

    /* The bit is still set (no read failed), but the pipe is empty: the
     * wait must notice and really wait. */
    CHECK_EQ(corio_spawn(write_later, IP(p[1]), NULL, &t), 0);
    t0 = now_s();
    CHECK_EQ(corio_wait_readable(p[0]), 0);
    CHECK(now_s() - t0 >= 0.02);
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'c');
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);

    /* The bit cleared by EAGAIN (a reader parked, then was cancelled);
     * data arrives while nobody waits, and the loop goes round: the next
     * wait must not miss it (edge-triggered epoll reports it only once). */
    {
        struct reading r = {p[0], {0}, 0};
        CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
        CHECK_EQ(corio_sleep(0.01), 0);
        CHECK_EQ(corio_task_cancel(t), 0);
        CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
        corio_task_release(t);
        CHECK_EQ(write(p[1], "d", 1), 1);
        CHECK_EQ(corio_sleep(0.01), 0);
        CHECK_EQ(corio_wait_readable(p[0]), 0);
        CHECK_EQ(corio_read(p[0], &c, 1), 1);
        CHECK_EQ(c, 'd');
    }

    /* Writable from the start. */
    make_socketpair(sv);
    CHECK_EQ(corio_wait_writable(sv[0]), 0);
    CHECK_EQ(corio_wait_writable(p[1]), 0);

    CHECK_EQ(io_waiting(), 0);
    corio_task_cancel(dog);
    corio_task_release(dog);
    corio_close(p[0]);
    corio_close(p[1]);
    corio_close(sv[0]);
    corio_close(sv[1]);
    return 0;
}

TEST(io_readiness_not_lost)
{
    run_main(readiness_main, NULL);
}

/* ---- one waiter per direction ---------------------------------------------- */

static int second_reader_main(void *arg, void **result)
{
    static char big[1 << 20];
    struct reading r;
    struct writing w = {0, big, sizeof big, 0, 0};
    corio_task *tr, *tw;
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    char c;
    int sv[2];
    (void)arg;
    (void)result;
    make_socketpair(sv);
    r.fd = sv[0];
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &tr), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    /* Data is there, but it is the first reader's: no stealing. */
    CHECK_EQ(write(sv[1], "y", 1), 1);
    CHECK_EQ(corio_read(sv[0], &c, 1), -EBUSY);
    CHECK_EQ(corio_wait_readable(sv[0]), -EBUSY);
    CHECK_EQ(corio_accept(sv[0], (struct sockaddr *)&sa, &salen), -EBUSY);
    /* The other direction is free. */
    CHECK_EQ(corio_wait_writable(sv[0]), 0);

    w.fd = sv[0];
    CHECK_EQ(corio_spawn(write_all_task, &w, NULL, &tw), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK(!corio_task_done(tw)); /* the socket buffer is full */
    CHECK_EQ(corio_write(sv[0], "x", 1), -EBUSY);
    CHECK_EQ(corio_wait_writable(sv[0]), -EBUSY);
    CHECK(corio_task_done(tr)); /* took its byte meanwhile */
    CHECK_EQ(io_waiting(), 1);

    CHECK_EQ(corio_task_join(tr, NULL), 0);
    CHECK_EQ(r.rc, 1);
    CHECK_EQ(r.buf[0], 'y');
    CHECK_EQ(corio_task_cancel(tw), 0);
    CHECK_EQ(corio_task_join(tw, NULL), -ECANCELED);
    CHECK(w.written > 0 && w.written < sizeof big);
    CHECK_EQ(io_waiting(), 0);
    corio_task_release(tr);
    corio_task_release(tw);
    corio_close(sv[0]);
    corio_close(sv[1]);
    return 0;
}

TEST(io_second_reader_gets_ebusy)
{
    run_main(second_reader_main, NULL);
}

/* ---- cancellation ------------------------------------------------------------- */

static int cancel_read_main(void *arg, void **result)
{
    struct reading r;
    corio_task *t;
    char c;
    int p[2];
    (void)arg;
    (void)result;
    make_pipe(p);
    r.fd = p[0];

    /* Cancelled while parked. */
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(io_waiting(), 1);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(io_waiting(), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(r.rc, -ECANCELED);
    corio_task_release(t);
    CHECK_EQ(corio_write(p[1], "x", 1), 1);
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'x');

    /* Cancelled in the same step the data arrives. */
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(corio_write(p[1], "y", 1), 1);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    corio_task_release(t);
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'y');

    /* Woken by the data, then cancelled before it ran: still nothing
     * read. main keeps itself queued (sleep(0)), so the iteration whose
     * poll wakes the reader runs main first, which cancels it in
     * between. */
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK(t->detach != NULL);
    CHECK_EQ(write(p[1], "z", 1), 1);
    CHECK(yield_until_woken(t)); /* woken, not yet run */
    CHECK_EQ(io_waiting(), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    corio_task_release(t);
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'z');

    /* Level-triggered: with a cancel standing, even ready data is not
     * taken. */
    CHECK_EQ(write(p[1], "w", 1), 1);
    CHECK_EQ(corio_task_cancel(corio_task_current()), 0);
    CHECK_EQ(corio_read(p[0], &c, 1), -ECANCELED);
    CHECK_EQ(corio_wait_readable(p[0]), -ECANCELED);
    CHECK_EQ(corio_write(p[1], "v", 1), -ECANCELED);
    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'w');

    corio_close(p[0]);
    corio_close(p[1]);
    return 0;
}

TEST(io_cancel_read_consumes_nothing)
{
    run_main(cancel_read_main, NULL);
}

static int write_all_cancel_main(void *arg, void **result)
{
    static char big[1 << 20];
    struct writing w = {0, big, sizeof big, 0, 0};
    corio_task *t;
    size_t i, total = 0;
    char buf[4096];
    ssize_t n;
    int p[2];
    (void)arg;
    (void)result;
    for (i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 31 + (i >> 12));
    make_pipe(p);
    w.fd = p[1];
    CHECK_EQ(corio_spawn(write_all_task, &w, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    CHECK_EQ(w.rc, -ECANCELED);
    CHECK(w.written > 0 && w.written < sizeof big);
    /* Exactly what *written says went out, and nothing more. */
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
        CHECK_EQ(memcmp(buf, big + total, (size_t)n), 0);
        total += (size_t)n;
    }
    CHECK_EQ(total, w.written);
    corio_task_release(t);
    corio_close(p[0]);
    corio_close(p[1]);
    return 0;
}

TEST(io_write_all_cancel_reports_written)
{
    run_main(write_all_cancel_main, NULL);
}

/* ---- closing ------------------------------------------------------------------- */

static int close_wakes_main(void *arg, void **result)
{
    static char big[1 << 20];
    struct reading r;
    struct writing w = {0, big, sizeof big, 0, 0};
    corio_task *tr, *tw;
    int p[2], sv[2];
    (void)arg;
    (void)result;
    make_pipe(p);
    make_socketpair(sv);
    r.fd = p[0];
    w.fd = sv[0];
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &tr), 0);
    CHECK_EQ(corio_spawn(write_all_task, &w, NULL, &tw), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(io_waiting(), 2);
    CHECK_EQ(corio_close(p[0]), 0);
    CHECK_EQ(corio_close(sv[0]), 0);
    CHECK_EQ(io_waiting(), 0);
    CHECK_EQ(corio_sleep(0), 0); /* one iteration */
    CHECK(corio_task_done(tr));
    CHECK(corio_task_done(tw));
    CHECK_EQ(r.rc, -EBADF);
    CHECK_EQ(w.rc, -EBADF);
    CHECK_EQ(corio_task_join(tr, NULL), -EBADF);
    CHECK_EQ(corio_task_join(tw, NULL), -EBADF);
    corio_task_release(tr);
    corio_task_release(tw);
    /* The descriptors are really closed. */
    CHECK(fcntl(p[0], F_GETFD) < 0 && errno == EBADF);
    corio_close(p[1]);
    corio_close(sv[1]);
    return 0;
}

TEST(io_close_wakes_waiters_with_ebadf)
{
    run_main(close_wakes_main, NULL);
}

static int fd_reuse_main(void *arg, void **result)
{
    corio_loop *loop = corio_loop_current();
    struct reading ra, rb;
    corio__poll_event stale;
    corio_task *ta, *tb;
    int p1[2], p2[2], keep, old_fd;
    (void)arg;
    (void)result;
    make_pipe(p1);
    old_fd = p1[0];
    keep = dup(p1[0]); /* the old description outlives the number */
    CHECK(keep >= 0);
    ra.fd = old_fd;
    CHECK_EQ(corio_spawn(read_once, &ra, NULL, &ta), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(corio_close(old_fd), 0);
    CHECK_EQ(corio_task_join(ta, NULL), -EBADF);
    corio_task_release(ta);

    /* A new pipe whose read end has the old number. */
    make_pipe(p2);
    if (p2[0] != old_fd) {
        CHECK_EQ(dup2(p2[0], old_fd), old_fd);
        close(p2[0]);
        p2[0] = old_fd;
    }
    rb.fd = old_fd;
    rb.rc = 99;
    CHECK_EQ(corio_spawn(read_once, &rb, NULL, &tb), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK(tb->detach != NULL);

    /* Traffic on the old description, and an event under the old token
     * (generation 0: the number's first life in this loop), as a poller
     * holding a stale registration would report it. Neither wakes B. */
    CHECK_EQ(write(p1[1], "old", 3), 3);
    stale.token = (uint64_t)(uint32_t)old_fd;
    stale.events = CORIO__POLL_IN | CORIO__POLL_ERR;
    loop->on_event(loop, &stale);
    CHECK(tb->detach != NULL);
    CHECK_EQ(corio_sleep(0.02), 0);
    CHECK(!corio_task_done(tb));
    CHECK_EQ(rb.rc, 99);
    CHECK_EQ(io_waiting(), 1);

    /* B works normally. */
    CHECK_EQ(write(p2[1], "new", 3), 3);
    CHECK_EQ(corio_task_join(tb, NULL), 0);
    CHECK_EQ(rb.rc, 3);
    CHECK_EQ(memcmp(rb.buf, "new", 3), 0);
    corio_task_release(tb);

    /* Woken by readiness, but before it runs another task closes the fd
     * and a new file takes the number: its read must fail with -EBADF,
     * not take the new file's data. */
    CHECK_EQ(corio_spawn(read_once, &rb, NULL, &tb), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(write(p2[1], "x", 1), 1);
    CHECK(yield_until_woken(tb)); /* woken, not yet run */
    CHECK_EQ(corio_close(old_fd), 0);
    corio_close(p2[1]);
    make_pipe(p2);
    if (p2[0] != old_fd) {
        CHECK_EQ(dup2(p2[0], old_fd), old_fd);
        close(p2[0]);
        p2[0] = old_fd;
    }
    CHECK_EQ(write(p2[1], "intruder", 8), 8);
    CHECK_EQ(corio_task_join(tb, NULL), -EBADF);
    CHECK_EQ(rb.rc, -EBADF);
    corio_task_release(tb);

    corio_close(keep);
    corio_close(p1[1]);
    corio_close(p2[0]);
    corio_close(p2[1]);
    return 0;
}

TEST(io_fd_reuse_ignores_stale_events)
{
    run_main(fd_reuse_main, NULL);
}

/* ---- errors ---------------------------------------------------------------------- */

static int epipe_main(void *arg, void **result)
{
    sigset_t pend;
    size_t written = 99;
    int sv[2];
    (void)arg;
    (void)result;
    make_socketpair(sv);
    close(sv[1]);
    CHECK_EQ(corio_write(sv[0], "x", 1), -EPIPE);
    CHECK_EQ(corio_write_all(sv[0], "xyz", 3, &written), -EPIPE);
    CHECK_EQ(written, 0);
    CHECK_EQ(sigpending(&pend), 0);
    CHECK(!sigismember(&pend, SIGPIPE));
    corio_close(sv[0]);
    return 0;
}

TEST(io_write_to_closed_peer_is_epipe)
{
    /* Default disposition: a SIGPIPE would kill the test. */
    signal(SIGPIPE, SIG_DFL);
    run_main(epipe_main, NULL);
}

struct hangup {
    struct reading r;
    struct writing w;
};

static int hangup_main(void *arg, void **result)
{
    static char big[1 << 20];
    struct hangup h;
    corio_task *tr, *tw;
    int sv[2];
    (void)arg;
    (void)result;
    make_socketpair(sv);
    h.r.fd = sv[0];
    h.w.fd = sv[0];
    h.w.buf = big;
    h.w.len = sizeof big;
    CHECK_EQ(corio_spawn(read_once, &h.r, NULL, &tr), 0);
    CHECK_EQ(corio_spawn(write_all_task, &h.w, NULL, &tw), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(io_waiting(), 2);
    close(sv[1]); /* the peer hangs up: both directions must hear of it */
    corio_task_join(tr, NULL);
    corio_task_join(tw, NULL);
    CHECK(h.r.rc == 0 || h.r.rc == -ECONNRESET);
    CHECK(h.w.rc == -EPIPE || h.w.rc == -ECONNRESET);
    CHECK_EQ(io_waiting(), 0);
    corio_task_release(tr);
    corio_task_release(tw);
    corio_close(sv[0]);
    return 0;
}

TEST(io_hangup_wakes_reader_and_writer)
{
    signal(SIGPIPE, SIG_DFL);
    run_main(hangup_main, NULL);
}

static int bad_fd_main(void *arg, void **result)
{
    char c = 0;
    int p[2];
    (void)arg;
    (void)result;
    CHECK_EQ(corio_wait_readable(-1), -EBADF);
    CHECK_EQ(corio_wait_writable(-1), -EBADF);
    CHECK_EQ(corio_read(-1, &c, 1), -EBADF);
    CHECK_EQ(corio_write(-1, &c, 1), -EBADF);
    make_pipe(p);
    close(p[0]);
    close(p[1]);
    CHECK_EQ(corio_read(p[0], &c, 1), -EBADF);
    CHECK_EQ(corio_wait_readable(p[0]), -EBADF);
    CHECK_EQ(corio_wait_writable(p[1]), -EBADF);
    CHECK_EQ(io_waiting(), 0);
    return 0;
}

TEST(io_bad_descriptor_is_ebadf)
{
    run_main(bad_fd_main, NULL);
}

/* ---- backpressure -------------------------------------------------------------- */

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 131 + (i >> 8) * 7 + (i >> 16));
}

static int backpressure_main(void *arg, void **result)
{
    enum { SIZE = 4 << 20 };
    unsigned char *big = malloc(SIZE), chunk[5000];
    int kind;
    (void)arg;
    (void)result;
    CHECK(big != NULL);
    for (size_t i = 0; i < SIZE; i++)
        big[i] = pattern(i);
    for (kind = 0; kind < 2; kind++) { /* a pipe (write()), a socket (send()) */
        struct writing w = {0, (const char *)big, SIZE, 0, 1};
        size_t got = 0, reads = 0;
        corio_task *t;
        int fds[2], r;
        if (kind == 0)
            make_pipe(fds);
        else
            make_socketpair(fds);
        r = fds[0];
        w.fd = fds[1];
        CHECK_EQ(corio_spawn(write_all_task, &w, NULL, &t), 0);
        CHECK_EQ(corio_sleep(0.01), 0);
        CHECK(!corio_task_done(t)); /* suspended on a full buffer */
        CHECK(w.written == 0);      /* only known at the end */
        CHECK_EQ(io_waiting(), 1);
        while (got < SIZE) {
            /* Uneven reads, with a pause now and then: a slow reader. */
            size_t want = 1 + (reads * 977) % sizeof chunk;
            ssize_t n = corio_read(r, chunk, want);
            CHECK(n > 0);
            for (ssize_t k = 0; k < n; k++)
                if (chunk[k] != pattern(got + (size_t)k))
                    corio_test_fail(__FILE__, __LINE__,
                                    "byte %zu: %u, expected %u",
                                    got + (size_t)k, chunk[k],
                                    pattern(got + (size_t)k));
            got += (size_t)n;
            if (++reads % 64 == 0)
                CHECK_EQ(corio_sleep(0.0005), 0);
        }
        CHECK_EQ(corio_task_join(t, NULL), 0);
        CHECK_EQ(w.rc, 0);
        CHECK_EQ(w.written, SIZE);
        CHECK_EQ(got, SIZE);
        corio_task_release(t);
        corio_close(fds[0]);
        corio_close(fds[1]);
    }
    free(big);
    return 0;
}

TEST(io_backpressure_large_write)
{
    run_main(backpressure_main, NULL);
}

/* ---- TCP ------------------------------------------------------------------------- */

static int listen_local(struct sockaddr_in *sa)
{
    socklen_t len = sizeof *sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa->sin_port = 0;
    CHECK_EQ(bind(fd, (struct sockaddr *)sa, sizeof *sa), 0);
    CHECK_EQ(listen(fd, 16), 0);
    CHECK_EQ(getsockname(fd, (struct sockaddr *)sa, &len), 0);
    return fd;
}

static int tcp_server(void *arg, void **result)
{
    int lfd = (int)PI(arg), fd;
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    char buf[4];
    size_t got = 0;
    (void)result;
    fd = corio_accept(lfd, (struct sockaddr *)&peer, &plen);
    CHECK(fd >= 0);
    CHECK_EQ(plen, sizeof peer);
    CHECK_EQ(peer.sin_family, AF_INET);
    CHECK_EQ(ntohl(peer.sin_addr.s_addr), INADDR_LOOPBACK);
    CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    while (got < 4) {
        ssize_t n = corio_read(fd, buf + got, 4 - got);
        CHECK(n > 0);
        got += (size_t)n;
    }
    CHECK_EQ(memcmp(buf, "ping", 4), 0);
    CHECK_EQ(corio_write_all(fd, "pong", 4, NULL), 0);
    return corio_close(fd);
}

static int tcp_main(void *arg, void **result)
{
    struct sockaddr_in sa;
    corio_task *t;
    char buf[8];
    size_t got = 0;
    int lfd, fd;
    ssize_t n;
    (void)arg;
    (void)result;
    lfd = listen_local(&sa);
    CHECK(ntohs(sa.sin_port) != 0);
    CHECK_EQ(corio_spawn(tcp_server, IP(lfd), NULL, &t), 0);
    CHECK_EQ(corio_sleep(0.01), 0);
    CHECK_EQ(io_waiting(), 1); /* the server waits in accept */
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK_EQ(corio_connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_EQ(corio_write_all(fd, "ping", 4, NULL), 0);
    while ((n = corio_read(fd, buf + got, sizeof buf - got)) > 0)
        got += (size_t)n;
    CHECK_EQ(n, 0); /* the server closed after answering */
    CHECK_EQ(got, 4);
    CHECK_EQ(memcmp(buf, "pong", 4), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(corio_close(fd), 0);
    CHECK_EQ(corio_close(lfd), 0);
    return 0;
}

TEST(io_tcp_accept_connect)
{
    run_main(tcp_main, NULL);
}

static int reset_main(void *arg, void **result)
{
    struct linger lg = {1, 0};
    struct sockaddr_in sa;
    char buf[16];
    int lfd, cfd, sfd;
    (void)arg;
    (void)result;
    lfd = listen_local(&sa);
    cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(cfd >= 0);
    CHECK_EQ(corio_connect(cfd, (struct sockaddr *)&sa, sizeof sa), 0);
    sfd = corio_accept(lfd, NULL, NULL);
    CHECK(sfd >= 0);
    CHECK_EQ(corio_write_all(cfd, "hi", 2, NULL), 0);
    CHECK_EQ(corio_read(sfd, buf, sizeof buf), 2);
    /* The client aborts: linger 0 sends a reset instead of a FIN. */
    CHECK_EQ(setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    CHECK_EQ(corio_close(cfd), 0);
    CHECK_EQ(corio_read(sfd, buf, sizeof buf), -ECONNRESET);
    /* Writing after the reset: an error, and no SIGPIPE. */
    {
        ssize_t n = corio_write(sfd, "x", 1);
        CHECK(n == -EPIPE || n == -ECONNRESET);
    }
    CHECK_EQ(io_waiting(), 0);
    CHECK_EQ(corio_close(sfd), 0);
    CHECK_EQ(corio_close(lfd), 0);
    return 0;
}

TEST(io_tcp_peer_reset)
{
    int fds = corio_test_count_fds();
    signal(SIGPIPE, SIG_DFL);
    run_main(reset_main, NULL);
    CHECK_EQ(corio_test_count_fds(), fds);
}

static int refused_main(void *arg, void **result)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int bound, fd;
    (void)arg;
    (void)result;
    /* A port bound but not listening: a SYN gets a reset, and nobody else
     * can take the port meanwhile. */
    bound = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(bound >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(bound, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_EQ(getsockname(bound, (struct sockaddr *)&sa, &len), 0);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK_EQ(corio_connect(fd, (struct sockaddr *)&sa, sizeof sa),
             -ECONNREFUSED);
    CHECK_EQ(io_waiting(), 0);
    corio_close(fd);
    close(bound);
    return 0;
}

TEST(io_connect_refused)
{
    run_main(refused_main, NULL);
}

/* ---- no busy loops ------------------------------------------------------------ */

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU used while the loop sleeps `secs` with nothing to do. */
static double idle_cpu(double secs)
{
    double c0 = cpu_s();
    CHECK_EQ(corio_sleep(secs), 0);
    return cpu_s() - c0;
}

static int no_spin_main(void *arg, void **result)
{
    int p[2], q[2], keep, sv[2];
    double cpu;
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
    /* A watched pipe closed with corio_close while a dup keeps its
     * description alive, then made readable and hung up (libuv#1468). */
    make_pipe(q);
    keep = dup(q[0]);
    CHECK_EQ(corio_wait_writable(q[1]), 0);
    {
        struct reading r = {q[0], {0}, 0};
        corio_task *t;
        CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
        CHECK_EQ(corio_sleep(0.01), 0);
        CHECK_EQ(corio_close(q[0]), 0);
        CHECK_EQ(corio_task_join(t, NULL), -EBADF);
        corio_task_release(t);
    }
    CHECK_EQ(write(q[1], "y", 1), 1);
    CHECK_EQ(corio_sleep(0.01), 0);
    cpu = idle_cpu(0.2);
    if (cpu > 0.06)
        corio_test_fail(__FILE__, __LINE__, "%.3f s of CPU in 0.2 s idle",
                        cpu);
    corio_close(p[0]);
    corio_close(p[1]);
    corio_close(sv[0]);
    corio_close(q[1]);
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
    CHECK_EQ(corio_read(p[0], &c, 1), CORIO_ENOLOOP);
    CHECK_EQ(corio_write(p[1], "x", 1), CORIO_ENOLOOP);
    CHECK_EQ(corio_write_all(p[1], "x", 1, &written), CORIO_ENOLOOP);
    CHECK_EQ(written, 0);
    CHECK_EQ(corio_wait_readable(p[0]), CORIO_ENOLOOP);
    CHECK_EQ(corio_wait_writable(p[1]), CORIO_ENOLOOP);
    CHECK_EQ(corio_accept(p[0], (struct sockaddr *)&sa, &salen),
             CORIO_ENOLOOP);
    memset(&sa, 0, sizeof sa);
    CHECK_EQ(corio_connect(p[0], (struct sockaddr *)&sa, sizeof sa),
             CORIO_ENOLOOP);
    CHECK_EQ(corio_signal_wait(SIGUSR1), CORIO_ENOLOOP);
    /* These two need no loop. */
    CHECK(!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
    CHECK_EQ(corio_fd_nonblock(p[0]), 0);
    CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    CHECK_EQ(corio_fd_nonblock(p[0]), 0); /* already: fine */
    CHECK_EQ(corio_close(p[0]), 0);
    CHECK(fcntl(p[0], F_GETFD) < 0 && errno == EBADF);
    CHECK_EQ(corio_fd_nonblock(p[0]), -EBADF);
    CHECK_EQ(corio_close(p[0]), -EBADF);
    CHECK_EQ(corio_close(p[1]), 0);
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
    if (on_poll_backend()) {
        CHECK_EQ(corio_wait_readable(fd), 0); /* always ready for poll(2) */
        CHECK_EQ(corio_wait_writable(fd), 0);
    } else {
        CHECK_EQ(corio_wait_readable(fd), -EPERM); /* epoll refuses it */
        CHECK_EQ(corio_wait_writable(fd), -EPERM);
    }
    CHECK_EQ(io_waiting(), 0);
    CHECK_EQ(corio_close(fd), 0);
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
    CHECK_EQ(corio_close(r->fd), 0);
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
    CHECK_EQ(loop->io_waiting, 2);
    /* Abandoned: their waits end with -ECANCELED, cleanup runs (and may
     * still use corio_close), and the loop's I/O state goes with it. */
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
