/*
 * test_net_interop.c: corio's streams against a peer corio did not write:
 * Python's asyncio (open_connection / start_server, and their Unix
 * socket forms), over TCP and Unix sockets, with half-close both ways and
 * a peer that resets the connection. The peer is
 * tests/interop/stream_peer.py. Skipped without python3 (unless
 * CORIO_REQUIRE_PYTHON=1, as in CI, which makes that a failure).
 */
#include "test.h"
#include "net_helpers.h"

#include <corio.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

#define PEER CORIO_TEST_SOURCE_DIR "/tests/interop/stream_peer.py"

static void need_python(void)
{
    if (system("python3 -c 'import asyncio' >/dev/null 2>&1") != 0) {
        const char *req = getenv("CORIO_REQUIRE_PYTHON");
        if (req && strcmp(req, "1") == 0)
            corio_test_fail(__FILE__, __LINE__, "python3 is required");
        corio_test_skip("no python3");
    }
}

/* Start the peer with args; its stdout into *out_fd (if not NULL). */
static pid_t spawn_peer(const char *role, const char *kind, const char *where,
                        int *out_fd)
{
    posix_spawn_file_actions_t fa;
    char *argv[6];
    pid_t pid;
    int p[2];
    argv[0] = "python3";
    argv[1] = (char *)PEER;
    argv[2] = (char *)role;
    argv[3] = (char *)kind;
    argv[4] = (char *)where;
    argv[5] = NULL;
    CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
    if (out_fd) {
        CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
        CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, p[1], 1), 0);
    }
    CHECK_EQ(posix_spawnp(&pid, "python3", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    if (out_fd) {
        close(p[1]);
        *out_fd = p[0];
    }
    return pid;
}

/* Wait for the peer to exit, letting the loop run meanwhile. */
static int reap(pid_t pid)
{
    int status;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        CHECK_INT(w, >=, 0);
        if (w == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        CHECK_EQ(corio_sleep(0.01), 0);
    }
}

/* ---- Python client, corio server ------------------------------------------------ */

static int echo_bye(corio_stream *c, void *arg)
{
    char line[8192];
    size_t len;
    int rc;
    (void)arg;
    while ((rc = corio_stream_read_line(c, line, sizeof line, &len)) == 0 &&
           len > 0) {
        CHECK_EQ(corio_stream_write(c, line, len), 0);
        CHECK_EQ(corio_stream_drain(c), 0);
    }
    CHECK_EQ(rc, 0);
    CHECK(corio_stream_at_eof(c)); /* the peer's half-close */
    CHECK_EQ(corio_stream_write(c, "bye\n", 4), 0);
    return corio_stream_write_eof(c);
}

static int py_client_main(void *arg, void **result)
{
    corio_server *srv;
    corio_server_stats st;
    char where[64];
    int lfd;
    pid_t pid;
    (void)result;
    if (arg) {
        snprintf(where, sizeof where, "/tmp/corio-interop-%d.sock",
                 (int)getpid());
        unlink(where);
        CHECK_EQ(corio_unix_listen(where, 0, &lfd), 0);
        CHECK_EQ(corio_server_new(&lfd, 1, echo_bye, NULL, NULL, &srv), 0);
    } else {
        CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, echo_bye, NULL, NULL,
                                  &srv),
                 0);
        snprintf(where, sizeof where, "%d", corio_server_port(srv));
    }
    pid = spawn_peer("client", arg ? "unix" : "tcp", where, NULL);
    CHECK_EQ(reap(pid), 0);
    CHECK_EQ(corio_server_close(srv, 5), 0);
    CHECK_EQ(corio_server_wait(srv), 0);
    CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    CHECK_EQ(st.accepted, 1);
    CHECK_EQ(st.failures, 0);
    CHECK_EQ(corio_server_free(srv), 0);
    if (arg)
        unlink(where);
    return 0;
}

TEST(net_interop_python_client_tcp)
{
    need_python();
    net_run(py_client_main, NULL);
}

TEST(net_interop_python_client_unix)
{
    need_python();
    net_run(py_client_main, (void *)1);
}

/* ---- corio client, Python server ------------------------------------------------ */

static int py_server_main(void *arg, void **result)
{
    const char *mode = arg;
    int out, fd, port;
    corio_stream *po, *s;
    char line[8192], where[64];
    size_t len;
    pid_t pid;
    static const char *lines[] = {"one\n", "two two\n", "three\n"};
    int i;
    (void)result;
    snprintf(where, sizeof where, "/tmp/corio-interop-s%d.sock",
             (int)getpid());
    unlink(where);
    pid = spawn_peer("server", mode[0] == 'u' ? "unix" : "tcp", where, &out);
    CHECK_EQ(corio_stream_new(out, NULL, &po), 0);
    CHECK_EQ(corio_stream_read_line(po, line, sizeof line, &len), 0);
    CHECK_INT(len, >, 0);
    line[len] = 0;
    if (mode[0] == 'u') {
        CHECK_EQ(corio_unix_connect(where, SOCK_STREAM, &fd), 0);
    } else {
        port = atoi(line);
        CHECK_EQ(corio_tcp_connect("127.0.0.1", port, NULL, &fd), 0);
    }
    CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
    for (i = 0; i < 3; i++) {
        CHECK_EQ(corio_stream_write(s, lines[i], strlen(lines[i])), 0);
        CHECK_EQ(corio_stream_drain(s), 0);
        CHECK_EQ(corio_stream_read_line(s, line, sizeof line, &len), 0);
        CHECK_EQ(len, strlen(lines[i]));
        CHECK_EQ(memcmp(line, lines[i], len), 0);
    }
    if (strcmp(mode + 1, "reset") == 0) {
        ssize_t r;
        CHECK_EQ(corio_stream_write(s, "reset\n", 6), 0);
        CHECK_EQ(corio_stream_drain(s), 0);
        r = corio_stream_read(s, line, sizeof line);
        CHECK_EQ(r, -ECONNRESET);
        CHECK_EQ(corio_stream_read(s, line, sizeof line), -ECONNRESET);
    } else {
        CHECK_EQ(corio_stream_write_eof(s), 0); /* half-close */
        CHECK_EQ(corio_stream_read_line(s, line, sizeof line, &len), 0);
        CHECK_EQ(len, 4);
        CHECK_EQ(memcmp(line, "bye\n", 4), 0);
        CHECK_EQ(corio_stream_read_line(s, line, sizeof line, &len), 0);
        CHECK_EQ(len, 0);
        CHECK(corio_stream_at_eof(s));
    }
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_stream_close(po), 0);
    CHECK_EQ(reap(pid), 0);
    unlink(where);
    return 0;
}

TEST(net_interop_python_server_tcp)
{
    need_python();
    net_run(py_server_main, "t");
}

TEST(net_interop_python_server_unix)
{
    need_python();
    net_run(py_server_main, "u");
}

TEST(net_interop_python_server_resets)
{
    need_python();
    net_run(py_server_main, "treset");
}

/* ---- curl against an HTTP/1.1 keep-alive responder ---------------------------- */

static int http_handler(corio_stream *c, void *arg)
{
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
                               "Content-Type: text/plain\r\n\r\ncorio\n";
    char head[4096];
    size_t len;
    int rc, *requests = arg;
    for (;;) {
        rc = corio_stream_read_until(c, "\r\n\r\n", 4, head, sizeof head,
                                     &len);
        if (rc == CORIO_EINCOMPLETE || rc == CORIO_ESHUTTING)
            return 0;
        if (rc)
            return rc;
        (*requests)++;
        if ((rc = corio_stream_write(c, resp, sizeof resp - 1)) != 0 ||
            (rc = corio_stream_drain(c)) != 0)
            return rc;
    }
}

static int curl_main(void *arg, void **result)
{
    corio_server *srv;
    corio_server_stats st;
    char url1[64], url2[64], out[256];
    char *argv[8];
    posix_spawn_file_actions_t fa;
    corio_stream *s;
    int requests = 0, p[2];
    size_t got;
    pid_t pid;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, http_handler, &requests,
                              NULL, &srv),
             0);
    snprintf(url1, sizeof url1, "http://127.0.0.1:%d/a",
             corio_server_port(srv));
    snprintf(url2, sizeof url2, "http://127.0.0.1:%d/b",
             corio_server_port(srv));
    argv[0] = "curl";
    argv[1] = "-sS";
    argv[2] = "--http1.1";
    argv[3] = url1;
    argv[4] = url2; /* the same connection, kept alive */
    argv[5] = NULL;
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
    CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, p[1], 1), 0);
    CHECK_EQ(posix_spawnp(&pid, "curl", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    CHECK_EQ(corio_stream_new(p[0], NULL, &s), 0);
    CHECK_EQ(corio_stream_read_exactly(s, out, sizeof out, &got),
             CORIO_EINCOMPLETE); /* all of curl's output, to its end */
    CHECK_EQ(got, 12);
    CHECK_EQ(memcmp(out, "corio\ncorio\n", 12), 0);
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(reap(pid), 0);
    CHECK_EQ(requests, 2);
    CHECK_EQ(corio_server_close(srv, 1), 0);
    CHECK_EQ(corio_server_wait(srv), 0);
    CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    CHECK_EQ(st.accepted, 1); /* keep-alive: one connection */
    CHECK_EQ(corio_server_free(srv), 0);
    return 0;
}

TEST(net_interop_curl_keepalive)
{
    if (system("curl --version >/dev/null 2>&1") != 0)
        corio_test_skip("no curl");
    net_run(curl_main, NULL);
}
