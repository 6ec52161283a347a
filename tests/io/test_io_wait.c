/*
 * test_io_wait.c: a task's wait on a descriptor: readiness is never lost,
 * one waiter per direction (the second gets EBUSY), cancellation consumes
 * nothing and write_all reports what it wrote, close wakes waiters with
 * EBADF, a reused descriptor ignores stale events (handed to the loop by
 * hand, through loop_impl.h), EPIPE, hangups and bad descriptors. *
 * Every case runs on the backend named by $CORIO_BACKEND (CTest runs the
 * suite once per backend); where the backends differ on purpose (regular
 * files), the case asks which one it is on.
 */

#include "test.h"
#include "helpers.h"
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
    corio_fd_close(p[0]);
    corio_fd_close(p[1]);
    corio_fd_close(sv[0]);
    corio_fd_close(sv[1]);
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
    corio_fd_close(sv[0]);
    corio_fd_close(sv[1]);
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
    CHECK(corio__task_parked(t));
    CHECK_EQ(write(p[1], "z", 1), 1);
    CHECK(yield_until_woken(t)); /* woken, not yet run */
    CHECK_EQ(io_waiting(), 0);
    CHECK_EQ(corio_task_cancel(t), 0);
    CHECK_EQ(corio_task_join(t, NULL), -ECANCELED);
    corio_task_release(t);
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'z');

    /* With a cancel standing, ready data is taken (no wait needed);
     * a read that would wait fails and takes nothing. */
    CHECK_EQ(write(p[1], "w", 1), 1);
    CHECK_EQ(corio_task_cancel(corio_task_current()), 0);
    CHECK_EQ(corio_wait_readable(p[0]), 0);
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'w');
    CHECK_EQ(corio_read(p[0], &c, 1), -ECANCELED);
    CHECK_EQ(corio_wait_readable(p[0]), -ECANCELED);
    CHECK_EQ(corio_write(p[1], "v", 1), 1);
    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
    CHECK_EQ(corio_read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'v');

    corio_fd_close(p[0]);
    corio_fd_close(p[1]);
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
    corio_fd_close(p[0]);
    corio_fd_close(p[1]);
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
    CHECK_EQ(corio_fd_close(p[0]), 0);
    CHECK_EQ(corio_fd_close(sv[0]), 0);
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
    corio_fd_close(p[1]);
    corio_fd_close(sv[1]);
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
    CHECK_EQ(corio_fd_close(old_fd), 0);
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
    CHECK(corio__task_parked(tb));

    /* Traffic on the old description, and an event under the old token
     * (generation 0: the number's first life in this loop), as a poller
     * holding a stale registration would report it. Neither wakes B. */
    CHECK_EQ(write(p1[1], "old", 3), 3);
    stale.token = (uint64_t)(uint32_t)old_fd;
    stale.events = CORIO__POLL_IN | CORIO__POLL_ERR;
    loop->on_event(loop, &stale);
    CHECK(corio__task_parked(tb));
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
    CHECK_EQ(corio_fd_close(old_fd), 0);
    corio_fd_close(p2[1]);
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

    corio_fd_close(keep);
    corio_fd_close(p1[1]);
    corio_fd_close(p2[0]);
    corio_fd_close(p2[1]);
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
    corio_fd_close(sv[0]);
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
    corio_fd_close(sv[0]);
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
