/*
 * test_file_fds.c: what io.h's descriptor calls do with each kind of
 * descriptor, the same on every poller (these cases run on epoll and on
 * poll): a regular file and a directory are always ready; a pipe, a
 * socket or a pseudo-terminal left blocking is made non-blocking by the
 * first call that reads or writes it, so a read with nothing to read
 * waits for the task instead of hanging the loop; a bare wait leaves it
 * alone.
 */
#include "test.h"

#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int nonblocking(int fd)
{
    return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

static int regular_body(void)
{
    char path[] = "/tmp/corio_fds_XXXXXX", buf[8];
    int fd = mkstemp(path), dfd;
    CHECK(fd >= 0);
    CHECK_EQ(unlink(path), 0);
    CHECK_EQ(corio_wait_readable(fd), 0);
    CHECK_EQ(corio_wait_writable(fd), 0);
    CHECK_EQ(corio_write(fd, "abc", 3), 3);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ(corio_read(fd, buf, sizeof buf), 3);
    CHECK_EQ(corio_read(fd, buf, sizeof buf), 0); /* the end: no wait */
    CHECK_EQ(corio_wait_readable(fd), 0);        /* still "ready" */
    CHECK_EQ(corio_fd_close(fd), 0);
    dfd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd >= 0);
    CHECK_EQ(corio_wait_readable(dfd), 0);
    CHECK_EQ(corio_read(dfd, buf, sizeof buf), -EISDIR);
    CHECK_EQ(corio_fd_close(dfd), 0);
    /* Not open at all: -EBADF, on both pollers. */
    CHECK_EQ(corio_wait_readable(dfd), -EBADF);
    CHECK_EQ(corio_read(dfd, buf, 1), -EBADF);
    CHECK_EQ(corio_write(dfd, "x", 1), -EBADF);
    return 0;
}

TEST(file_fds_regular_always_ready)
{
    CHECK_EQ(run(regular_body), 0);
}

static int feeder_fd;
static const char *feeding = "z";

static int feed(void *arg, void **result)
{
    size_t n = strlen(feeding);
    (void)arg;
    (void)result;
    return write(feeder_fd, feeding, n) == (ssize_t)n ? 0 : -errno;
}

/* A blocking descriptor: the first call makes it non-blocking, so the
 * read with nothing there parks the task; another task then feeds it. */
static void blocking_read(int rfd, int wfd)
{
    char c = 0;
    CHECK(!nonblocking(rfd));
    feeder_fd = wfd;
    CHECK_EQ(corio_spawn(feed, NULL, NULL, NULL), 0);
    CHECK_EQ(corio_read(rfd, &c, 1), 1); /* would hang if still blocking */
    CHECK_EQ(c, 'z');
    CHECK(nonblocking(rfd));
}

static int blocking_body(void)
{
    int p[2], sv[2], m, s;
    char c, buf[8];
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    blocking_read(p[0], p[1]);
    /* A bare wait leaves it alone: the caller does its own I/O. */
    CHECK(!nonblocking(p[1]));
    CHECK_EQ(corio_wait_writable(p[1]), 0);
    CHECK(!nonblocking(p[1]));
    CHECK_EQ(corio_fd_close(p[0]), 0);
    CHECK_EQ(corio_fd_close(p[1]), 0);

    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    blocking_read(sv[0], sv[1]);
    CHECK_EQ(corio_write(sv[1], "y", 1), 1);
    CHECK(nonblocking(sv[1]));
    CHECK_EQ(corio_read(sv[0], &c, 1), 1);
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);

    /* A terminal (a pseudo-terminal pair: the tests have no tty). */
    m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0) {
        s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
        CHECK(s >= 0);
        CHECK(!nonblocking(s));
        /* Nothing typed yet: the read waits for the task only. */
        feeder_fd = m;
        feeding = "z\n"; /* a line: the terminal is in canonical mode */
        CHECK_EQ(corio_spawn(feed, NULL, NULL, NULL), 0);
        CHECK_EQ(corio_read(s, buf, sizeof buf), 2);
        CHECK(nonblocking(s));
        CHECK_EQ(corio_fd_close(s), 0);
    }
    if (m >= 0)
        CHECK_EQ(corio_fd_close(m), 0);
    return 0;
}

TEST(file_fds_blocking_made_nonblocking)
{
    CHECK_EQ(run(blocking_body), 0);
}
