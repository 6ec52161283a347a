/*
 * test_io_syscalls.c: the system calls corio's descriptor I/O makes, by
 * count (fault_sys.h's shim counts them; never by time), and the
 * contracts the savings must keep (issue 11, "I/O at the epoll limit"):
 *
 *   - a short read of a stream socket means it is drained: the next
 *     corio_read waits for readiness instead of reading into EAGAIN, so a
 *     request costs one read(2) (either poller);
 *   - a park on a registered descriptor makes no epoll_ctl: the check
 *     against a close(2) behind corio's back is deferred to a sweep that
 *     only looks at descriptors parked a whole period with no event;
 *   - a short read that does not drain (a datagram) never waits;
 *   - the cancel rule: a drained socket that has data again reads while a
 *     cancel stands;
 *   - a number reused after close(2), still marked drained, is found by
 *     the sweep (virtual clock: no wall-clock wait);
 *   - a short read that did not drain (a Unix stream socket stops at a
 *     message that carried descriptors) still gets the rest: poll(2)
 *     reports it, and on epoll the sweep's check re-reports it.
 */
#include "test.h"
#include "cancel_rule.h"
#include "fault_sys.h"
#include "io_tasks.h"

#include <corio.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ROUNDS 50
#define MSG "0123456789"

static int on_epoll(void)
{
    const char *b = getenv("CORIO_BACKEND");
    return !b || strcmp(b, "poll") != 0;
}

/* Count calls of fn from now on (a plan that never fails). */
static void count(int fn)
{
    fault_sys_fail(fn, LONG_MAX, 0, 0);
}

struct echoer {
    int fd;
    int got;  /* messages read */
    int bad;  /* a read that was not one whole message */
};

/* Read ROUNDS messages of sizeof MSG - 1 bytes, each with a buffer far
 * larger than the message (so each read is short). */
static int reader(void *arg, void **result)
{
    struct echoer *e = arg;
    char buf[4096];
    (void)result;
    while (e->got < ROUNDS) {
        ssize_t n = corio_read(e->fd, buf, sizeof buf);
        if (n != (ssize_t)sizeof MSG - 1) {
            e->bad = 1;
            return n < 0 ? (int)n : -EIO;
        }
        e->got++;
    }
    return 0;
}

/* Yield until the reader has read `want` messages. */
static void until_got(struct echoer *e, int want)
{
    int i;
    for (i = 0; i < 100000 && e->got < want && !e->bad; i++)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(e->bad, 0);
    CHECK_EQ(e->got, want);
}

static int drained_main(void *arg, void **result)
{
    struct echoer e;
    corio_task *t;
    long reads, ctls;
    int sv[2], i;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_diag_virtual_clock(corio_loop_current(), 1), 0);
    /* Let the loop poll once first: its own wakeup descriptor's first
     * event costs a read that is not ours. */
    CHECK_EQ(corio_sleep(0.001), 0);
    make_socketpair(sv);
    memset(&e, 0, sizeof e);
    e.fd = sv[0];
    CHECK_EQ(write(sv[1], MSG, sizeof MSG - 1), (ssize_t)sizeof MSG - 1);
    count(FS_READ);
    count(FS_EPOLL_CTL);
    CHECK_EQ(corio_spawn(reader, &e, NULL, &t), 0);
    until_got(&e, 1);
    for (i = 1; i < ROUNDS; i++) {
        CHECK_EQ(corio_wait_all_blocked(), 0); /* the reader parks */
        CHECK_EQ(write(sv[1], MSG, sizeof MSG - 1),
                 (ssize_t)sizeof MSG - 1);
        until_got(&e, i + 1);
    }
    reads = fault_sys_calls(FS_READ);
    ctls = fault_sys_calls(FS_EPOLL_CTL);
    fault_sys_reset();
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    /* One read per message, none into EAGAIN, on both pollers; on epoll
     * one epoll_ctl (the registration at the first park), none per
     * park. */
    CHECK_EQ(reads, ROUNDS);
    if (on_epoll())
        CHECK_EQ(ctls, 1);
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(io_drained_socket_one_read_per_message)
{
    fault_sys_require();
    run_main(drained_main, NULL);
}

/* Datagrams: a read shorter than the buffer is one datagram of several;
 * the next corio_read must take the next one without waiting. */
static int dgram_main(void *arg, void **result)
{
    char buf[256];
    int sv[2];
    (void)arg;
    (void)result;
    CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        0, sv),
             0);
    CHECK_EQ(write(sv[1], "one", 3), 3);
    CHECK_EQ(write(sv[1], "two!", 4), 4);
    witness();
    CHECK_EQ(corio_read(sv[0], buf, sizeof buf), 3);
    CHECK_EQ(corio_read(sv[0], buf, sizeof buf), 4);
    CHECK_EQ(memcmp(buf, "two!", 4), 0);
    NOT_SUSPENDED();
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(io_short_datagram_read_never_waits)
{
    run_main(dgram_main, NULL);
}

/* The cancel rule: a short read drained the socket; data comes again
 * (the loop has not polled since); with a cancel standing, corio_read
 * must read it, not fail, and not suspend. */
static int cancel_main(void *arg, void **result)
{
    char buf[256];
    int sv[2];
    (void)arg;
    (void)result;
    make_socketpair(sv);
    CHECK_EQ(write(sv[1], "ab", 2), 2);
    CHECK_EQ(corio_read(sv[0], buf, sizeof buf), 2); /* short: drained */
    CHECK_EQ(write(sv[1], "cde", 3), 3);
    witness();
    cancel_self();
    CHECK_EQ(corio_read(sv[0], buf, sizeof buf), 3);
    CHECK_EQ(memcmp(buf, "cde", 3), 0);
    /* Now it would have to wait: fails at once. */
    CHECK_EQ(corio_read(sv[0], buf, sizeof buf), -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(io_drained_socket_reads_under_cancel)
{
    run_main(cancel_main, NULL);
}

/* A read of 0 bytes answers 0 at once, drained or not, as read(2) does. */
static int zero_main(void *arg, void **result)
{
    char buf[16];
    int sv[2];
    (void)arg;
    (void)result;
    make_socketpair(sv);
    CHECK_EQ(write(sv[1], "ab", 2), 2);
    CHECK_EQ(corio_read(sv[0], buf, sizeof buf), 2); /* short: drained */
    witness();
    CHECK_EQ(corio_read(sv[0], buf, 0), 0);
    NOT_SUSPENDED();
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(io_drained_socket_zero_read_returns_at_once)
{
    run_main(zero_main, NULL);
}

/* A socket drained and parked on (so registered), then closed with
 * close(2) behind corio's back; a new socket pair takes the numbers and
 * has data before anyone reads. The entry still says "drained" and
 * "registered", so the read parks at once; the sweep finds the dropped
 * registration, adds the new socket and its data is reported. With the
 * virtual clock the sweep's periods pass as soon as the loop is idle. */
static int reuse_main(void *arg, void **result)
{
    struct reading r;
    corio_task *t;
    char buf[64];
    int sv[2], sw[2];
    (void)arg;
    (void)result;
    CHECK_EQ(corio_diag_virtual_clock(corio_loop_current(), 1), 0);
    make_socketpair(sv);
    CHECK_EQ(write(sv[1], "x", 1), 1);
    CHECK_EQ(corio_read(sv[0], buf, sizeof buf), 1); /* drained */
    memset(&r, 0, sizeof r);
    r.fd = sv[0];
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_wait_all_blocked(), 0); /* parked: registered */
    CHECK_EQ(write(sv[1], "y", 1), 1);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(r.rc, 1);

    close(sv[0]); /* behind the loop's back */
    close(sv[1]);
    /* Blocking this time: what corio learned of the old file must not
     * stick to the new one. */
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sw), 0);
    CHECK_EQ(sw[0], sv[0]);
    CHECK_EQ(write(sw[1], "new", 3), 3);
    memset(&r, 0, sizeof r);
    r.fd = sw[0];
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(r.rc, 3);
    CHECK_EQ(memcmp(r.buf, "new", 3), 0);
    if (on_epoll()) /* the sweep found the new file: checked afresh */
        CHECK(fcntl(sw[0], F_GETFL) & O_NONBLOCK);
    CHECK_EQ(corio_fd_close(sw[0]), 0);
    CHECK_EQ(corio_fd_close(sw[1]), 0);
    return 0;
}

TEST(io_raw_close_reuse_of_drained_socket_found_by_sweep)
{
    run_main(reuse_main, NULL);
}

/* Send "fd!" with a descriptor attached (SCM_RIGHTS). */
static void send_with_fd(int sock, int passed)
{
    char data[3] = {'f', 'd', '!'};
    char ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {data, sizeof data};
    struct msghdr m;
    struct cmsghdr *c;
    memset(&m, 0, sizeof m);
    memset(ctl, 0, sizeof ctl);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof ctl;
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &passed, sizeof(int));
    CHECK_EQ(sendmsg(sock, &m, 0), 3);
}

static int not_drained_main(void *arg, void **result)
{
    struct reading r;
    corio_task *t;
    char buf[64];
    int sv[2];
    (void)arg;
    (void)result;
    CHECK_EQ(corio_diag_virtual_clock(corio_loop_current(), 1), 0);
    make_socketpair(sv);
    /* Register the socket: a reader parks, then gets one byte. */
    memset(&r, 0, sizeof r);
    r.fd = sv[0];
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_wait_all_blocked(), 0);
    CHECK_EQ(write(sv[1], "a", 1), 1);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(r.rc, 1);
    /* A message with a descriptor, then plain bytes, both queued before
     * the next read: read(2) stops after the first (short, yet not
     * drained); the next corio_read must still get "tail". */
    send_with_fd(sv[1], 0);
    CHECK_EQ(write(sv[1], "tail", 4), 4);
    CHECK_EQ(corio_read(sv[0], buf, sizeof buf), 3);
    CHECK_EQ(memcmp(buf, "fd!", 3), 0);
    memset(&r, 0, sizeof r);
    r.fd = sv[0];
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(r.rc, 4);
    CHECK_EQ(memcmp(r.buf, "tail", 4), 0);
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(io_short_read_that_did_not_drain_completes)
{
    run_main(not_drained_main, NULL);
}
