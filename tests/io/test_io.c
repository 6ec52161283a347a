/*
 * test_io.c: tasks waiting on descriptors, and the I/O calls (io.h): the
 * traffic itself: a pipe whose reader waits first, a socketpair echo, a
 * large write under backpressure, TCP accept/connect, a peer's reset and
 * a refused connect. *
 * Every case runs on the backend named by $CORIO_BACKEND (CTest runs the
 * suite once per backend); where the backends differ on purpose (regular
 * files), the case asks which one it is on.
 * The waits themselves are in test_io_wait.c, the loop's side in
 * test_io_loop.c, the tasks they share in io_tasks.h.
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
    CHECK_EQ(corio_fd_close(p[0]), 0);
    CHECK_EQ(corio_fd_close(p[1]), 0);
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
    corio_fd_close(fd);
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
    CHECK_EQ(corio_fd_close(sv[0]), 0);
    CHECK_EQ(io_waiting(), 0);
    return 0;
}

TEST(io_socketpair_echo)
{
    run_main(socketpair_echo_main, NULL);
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
        corio_fd_close(fds[0]);
        corio_fd_close(fds[1]);
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
    return corio_fd_close(fd);
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
    CHECK_EQ(corio_fd_close(fd), 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
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
    CHECK_EQ(corio_fd_close(cfd), 0);
    CHECK_EQ(corio_read(sfd, buf, sizeof buf), -ECONNRESET);
    /* Writing after the reset: an error, and no SIGPIPE. */
    {
        ssize_t n = corio_write(sfd, "x", 1);
        CHECK(n == -EPIPE || n == -ECONNRESET);
    }
    CHECK_EQ(io_waiting(), 0);
    CHECK_EQ(corio_fd_close(sfd), 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
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
    corio_fd_close(fd);
    close(bound);
    return 0;
}

TEST(io_connect_refused)
{
    run_main(refused_main, NULL);
}
