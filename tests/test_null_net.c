/*
 * test_null_net.c: the NULL rule (STYLE 2a) for net.h, stream.h and
 * server.h: every public function's answer to NULL arguments.
 */
#include "test.h"
#include "net_helpers.h"

#include <corio.h>
#include <math.h>
#include <sys/un.h>

static int null_net_main(void *arg, void **result)
{
    int fd = -1, fds[2];
    size_t n = 0;
    struct sockaddr_un sun;
    socklen_t len;
    char buf[8];
    (void)arg;
    (void)result;
    CHECK_EQ(corio_getaddrinfo("localhost", "80", NULL, NULL), -EINVAL);
    CHECK_EQ(corio_getaddrinfo(NULL, NULL, NULL, NULL), -EINVAL);
    corio_freeaddrinfo(NULL);
    CHECK_EQ(corio_getnameinfo(NULL, 0, buf, sizeof buf, NULL, 0, 0),
             -EINVAL);
    CHECK(corio_resolver() != NULL);
    CHECK_EQ(corio_tcp_connect(NULL, 80, NULL, &fd), -EINVAL);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", 80, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, NULL, 1, &n), -EINVAL);
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &fd, 1, NULL), -EINVAL);
    CHECK_EQ(corio_sock_port(-1), -EBADF);
    CHECK_EQ(corio_unix_listen(NULL, 0, &fd), -EINVAL);
    CHECK_EQ(corio_unix_listen("@x", 0, NULL), -EINVAL);
    CHECK_EQ(corio_unix_connect(NULL, SOCK_STREAM, &fd), -EINVAL);
    CHECK_EQ(corio_unix_connect("@x", SOCK_STREAM, NULL), -EINVAL);
    CHECK_EQ(corio_unix_bind(NULL, &fd), -EINVAL);
    CHECK_EQ(corio_unix_bind("@x", NULL), -EINVAL);
    CHECK_EQ(corio_unix_addr(NULL, &sun, &len), -EINVAL);
    CHECK_EQ(corio_unix_addr("@x", NULL, &len), -EINVAL);
    CHECK_EQ(corio_unix_addr("@x", &sun, NULL), -EINVAL);
    CHECK_EQ(corio_socketpair(SOCK_STREAM, NULL), -EINVAL);
    CHECK_EQ(corio_udp_open(NULL, 0, NULL, 0, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_udp_join(-1, NULL), -EINVAL);
    CHECK_EQ(corio_sendto(-1, NULL, 1, NULL, 0), -EINVAL);
    CHECK_EQ(corio_recvfrom(-1, NULL, 1, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_socketpair(SOCK_STREAM, fds), 0);
    CHECK_EQ(corio_fd_close(fds[0]), 0);
    CHECK_EQ(corio_fd_close(fds[1]), 0);
    return 0;
}

static int null_stream_main(void *arg, void **result)
{
    corio_stream *s;
    const void *p;
    size_t len, got = 7;
    char buf[8];
    int sv[2];
    (void)arg;
    (void)result;
    CHECK_EQ(corio_stream_new(0, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_stream_new(-1, NULL, &s), -EINVAL);
    CHECK_EQ(corio_stream_fd(NULL), -1);
    CHECK_EQ(corio_stream_read(NULL, buf, 1), -EINVAL);
    CHECK_EQ(corio_stream_read_exactly(NULL, buf, 1, &got), -EINVAL);
    CHECK_EQ(got, 0);
    CHECK_EQ(corio_stream_read_until(NULL, ";", 1, buf, 8, &len), -EINVAL);
    CHECK_EQ(corio_stream_read_line(NULL, buf, 8, &len), -EINVAL);
    CHECK_EQ(corio_stream_peek(NULL, &p, &len), -EINVAL);
    CHECK_EQ(corio_stream_fill(NULL), -EINVAL);
    CHECK_EQ(corio_stream_consume(NULL, 0), -EINVAL);
    CHECK_EQ(corio_stream_at_eof(NULL), 0);
    CHECK_EQ(corio_stream_write(NULL, "x", 1), -EINVAL);
    CHECK_EQ(corio_stream_drain(NULL), -EINVAL);
    CHECK_EQ(corio_stream_write_pending(NULL), 0);
    CHECK_EQ(corio_stream_write_eof(NULL), -EINVAL);
    CHECK_EQ(corio_stream_close(NULL), 0);
    CHECK_EQ(corio_socketpair(SOCK_STREAM, sv), 0);
    CHECK_EQ(corio_stream_new(sv[0], NULL, &s), 0);
    CHECK_EQ(corio_stream_read(s, NULL, 1), -EINVAL);
    CHECK_EQ(corio_stream_read_exactly(s, NULL, 1, NULL), -EINVAL);
    CHECK_EQ(corio_stream_read_until(s, NULL, 1, buf, 8, &len), -EINVAL);
    CHECK_EQ(corio_stream_read_until(s, ";", 1, NULL, 8, &len), -EINVAL);
    CHECK_EQ(corio_stream_read_until(s, ";", 1, buf, 8, NULL), -EINVAL);
    CHECK_EQ(corio_stream_read_until(s, ";", 0, buf, 8, &len), -EINVAL);
    CHECK_EQ(corio_stream_read_line(s, NULL, 8, &len), -EINVAL);
    CHECK_EQ(corio_stream_peek(s, NULL, &len), -EINVAL);
    CHECK_EQ(corio_stream_peek(s, &p, NULL), -EINVAL);
    CHECK_EQ(corio_stream_write(s, NULL, 1), -EINVAL);
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(null_stream)
{
    net_run(null_stream_main, NULL);
}

TEST(null_net)
{
    net_run(null_net_main, NULL);
}

static int null_server_handler(corio_stream *c, void *arg)
{
    (void)c;
    (void)arg;
    return 0;
}

static int null_server_main(void *arg, void **result)
{
    corio_server *s;
    corio_server_stats st;
    int fd = 0;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_server_new(NULL, 1, null_server_handler, NULL, NULL, &s),
             -EINVAL);
    CHECK_EQ(corio_server_new(&fd, 1, NULL, NULL, NULL, &s), -EINVAL);
    CHECK_EQ(corio_server_new(&fd, 1, null_server_handler, NULL, NULL, NULL),
             -EINVAL);
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, NULL, NULL, NULL, &s),
             -EINVAL);
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, null_server_handler, NULL,
                              NULL, NULL),
             -EINVAL);
    CHECK_EQ(corio_server_port(NULL), -EINVAL);
    CHECK_EQ(corio_server_close(NULL, 0), -EINVAL);
    CHECK_EQ(corio_server_wait(NULL), -EINVAL);
    CHECK_EQ(corio_server_stats_get(NULL, &st), -EINVAL);
    CHECK_EQ(corio_server_error(NULL, 0), 0);
    CHECK_EQ(corio_server_free(NULL), 0);
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, null_server_handler, NULL,
                              NULL, &s),
             0);
    CHECK_EQ(corio_server_stats_get(s, NULL), -EINVAL);
    CHECK_EQ(corio_server_close(s, NAN), -EINVAL);
    CHECK_EQ(corio_server_close(s, 0), 0);
    CHECK_EQ(corio_server_wait(s), 0);
    CHECK_EQ(corio_server_free(s), 0);
    return 0;
}

TEST(null_server)
{
    net_run(null_server_main, NULL);
}
