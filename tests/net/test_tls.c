/*
 * test_tls.c: TLS streams (tls.h) over loopback with certificates made
 * at test time (the openssl command, tests/tls_certs.sh): a handshake
 * and echo with ALPN, a server through corio_server, verification
 * failures (wrong host name, unknown CA, expired) with clear errors, garbage
 * instead of a handshake, a peer that closes without close_notify, a
 * handshake cut off by a deadline, and interop with openssl s_server and
 * s_client. Skipped (never passed) when TLS is not built in or there is
 * no openssl command.
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

static char dir[128];

static void path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

/* Make a CA, a server certificate for localhost/127.0.0.1 signed by it,
 * and a second CA nobody trusts. */
static void need_tls(void)
{
    char cmd[512];
    if (!corio_tls_available())
        corio_test_skip("TLS not built in (no OpenSSL 3)");
    if (system("openssl version >/dev/null 2>&1") != 0)
        corio_test_skip("no openssl command");
    snprintf(dir, sizeof dir, "/tmp/corio-tls-%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "sh %s/tests/tls_certs.sh %s",
             CORIO_TEST_SOURCE_DIR, dir);
    if (system(cmd) != 0)
        corio_test_fail(__FILE__, __LINE__, "tls_certs.sh failed");
}

static void cleanup(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)!system(cmd);
}

static const char *server_cert = "server";

static corio_tls_ctx *server_ctx(const char *alpn)
{
    corio_tls_opts o;
    corio_tls_ctx *c;
    char cert[256], key[256], name[64];
    snprintf(name, sizeof name, "%s.pem", server_cert);
    path(cert, sizeof cert, name);
    snprintf(name, sizeof name, "%s.key", server_cert);
    path(key, sizeof key, name);
    memset(&o, 0, sizeof o);
    o.server = 1;
    o.cert_file = cert;
    o.key_file = key;
    o.alpn = alpn;
    CHECK_EQ(corio_tls_ctx_new(&o, &c), 0);
    return c;
}

static corio_tls_ctx *client_ctx(const char *ca, const char *alpn)
{
    corio_tls_opts o;
    corio_tls_ctx *c;
    char caf[256];
    path(caf, sizeof caf, ca);
    memset(&o, 0, sizeof o);
    o.ca_file = caf;
    o.alpn = alpn;
    CHECK_EQ(corio_tls_ctx_new(&o, &c), 0);
    return c;
}

struct tserver {
    corio_tls_ctx *ctx;
    int lfd;
    int rc;            /* the server side's outcome */
    int close_notify;  /* 0: close without close_notify */
};

/* Accept one connection, handshake, echo lines. */
static int tserver_task(void *arg, void **result)
{
    struct tserver *t = arg;
    corio_stream *s;
    char line[256];
    size_t len;
    int fd, rc;
    (void)result;
    fd = corio_accept(t->lfd, NULL, NULL);
    CHECK_INT(fd, >=, 0);
    CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
    rc = corio_stream_start_tls(s, t->ctx, NULL);
    while (rc == 0 &&
           (rc = corio_stream_read_line(s, line, sizeof line, &len)) == 0 &&
           len > 0) {
        if (len == 5 && memcmp(line, "quit\n", 5) == 0 && !t->close_notify) {
            /* cut the TCP connection under TLS */
            shutdown(corio_stream_fd(s), SHUT_RDWR);
            break;
        }
        CHECK_EQ(corio_stream_write(s, line, len), 0);
        CHECK_EQ(corio_stream_drain(s), 0);
    }
    t->rc = rc;
    if (rc == 0 && t->close_notify)
        corio_stream_write_eof(s);
    corio_stream_close(s);
    return 0;
}

static void start_server(struct tserver *t, corio_task **task, int *port)
{
    size_t n;
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &t->lfd, 1, &n), 0);
    *port = corio_sock_port(t->lfd);
    CHECK_EQ(corio_spawn(tserver_task, t, NULL, task), 0);
}

static int echo_main(void *arg, void **result)
{
    struct tserver t = {0, -1, 99, 1};
    corio_task *st;
    corio_tls_ctx *cc;
    corio_stream *s;
    int port, fd;
    char line[64];
    size_t len;
    (void)arg;
    (void)result;
    t.ctx = server_ctx("h2,http/1.1");
    start_server(&t, &st, &port);
    cc = client_ctx("ca.pem", "http/1.1,h2");
    CHECK_EQ(corio_tcp_connect("127.0.0.1", port, NULL, &fd), 0);
    CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
    CHECK_EQ(corio_stream_start_tls(s, cc, "localhost"), 0);
    CHECK(corio_stream_alpn(s) != NULL);
    CHECK(strcmp(corio_stream_alpn(s), "h2") == 0); /* the server's choice */
    CHECK_EQ(corio_stream_start_tls(s, cc, "localhost"), -EALREADY);
    CHECK_EQ(corio_stream_write(s, "secret\n", 7), 0);
    CHECK_EQ(corio_stream_drain(s), 0);
    CHECK_EQ(corio_stream_read_line(s, line, sizeof line, &len), 0);
    CHECK_EQ(len, 7);
    CHECK_EQ(memcmp(line, "secret\n", 7), 0);
    CHECK_EQ(corio_stream_write_eof(s), 0); /* close_notify */
    CHECK_EQ(corio_stream_read_line(s, line, sizeof line, &len), 0);
    CHECK_EQ(len, 0); /* theirs */
    CHECK(corio_stream_at_eof(s));
    CHECK_EQ(corio_task_join(st, NULL), 0);
    corio_task_release(st);
    CHECK_EQ(t.rc, 0);
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(t.lfd), 0);
    corio_tls_ctx_free(cc);
    corio_tls_ctx_free(t.ctx);
    return 0;
}

TEST(tls_handshake_echo_alpn)
{
    need_tls();
    net_run(echo_main, NULL);
    cleanup();
}

/* name: the name to check; ca: the trust file. Expect CORIO_ECERT. */
struct vcase {
    const char *name, *ca, *why;
};

static int verify_main(void *arg, void **result)
{
    struct vcase *v = arg;
    struct tserver t = {0, -1, 99, 1};
    corio_task *st;
    corio_tls_ctx *cc;
    corio_stream *s;
    int port, fd;
    (void)result;
    t.ctx = server_ctx(NULL);
    start_server(&t, &st, &port);
    cc = client_ctx(v->ca, NULL);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", port, NULL, &fd), 0);
    CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
    CHECK_EQ(corio_stream_start_tls(s, cc, v->name), CORIO_ECERT);
    CHECK_STR_HAS(corio_stream_tls_error(s), v->why);
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_task_join(st, NULL), 0);
    corio_task_release(st);
    CHECK(t.rc == CORIO_ETLS || t.rc < 0); /* the server saw an alert */
    CHECK_EQ(corio_fd_close(t.lfd), 0);
    corio_tls_ctx_free(cc);
    corio_tls_ctx_free(t.ctx);
    return 0;
}

TEST(tls_wrong_host_name)
{
    struct vcase v = {"not-localhost.example", "ca.pem", "mismatch"};
    need_tls();
    net_run(verify_main, &v);
    cleanup();
}

TEST(tls_unknown_ca)
{
    struct vcase v = {"localhost", "other-ca.pem", "local issuer"};
    need_tls();
    net_run(verify_main, &v);
    cleanup();
}

TEST(tls_expired_certificate)
{
    struct vcase v = {"localhost", "ca.pem", "expired"};
    need_tls();
    server_cert = "expired";
    net_run(verify_main, &v);
    cleanup();
}

TEST(tls_ip_address_checked)
{
    struct vcase v = {"127.0.0.2", "ca.pem", "mismatch"};
    need_tls();
    net_run(verify_main, &v);
    cleanup();
}

static int garbage_main(void *arg, void **result)
{
    corio_tls_ctx *sc;
    corio_stream *s;
    int sv[2];
    (void)arg;
    (void)result;
    sc = server_ctx(NULL);
    CHECK_EQ(corio_socketpair(SOCK_STREAM, sv), 0);
    CHECK_EQ(corio_write_all(sv[1], "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27,
                             NULL),
             0);
    CHECK_EQ(corio_stream_new(sv[0], NULL, &s), 0);
    CHECK_EQ(corio_stream_start_tls(s, sc, NULL), CORIO_ETLS);
    CHECK(strlen(corio_stream_tls_error(s)) > 0);
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    corio_tls_ctx_free(sc);
    return 0;
}

TEST(tls_garbage_instead_of_handshake)
{
    need_tls();
    net_run(garbage_main, NULL);
    cleanup();
}

static int no_notify_main(void *arg, void **result)
{
    struct tserver t = {0, -1, 99, 0};
    corio_task *st;
    corio_tls_ctx *cc;
    corio_stream *s;
    int port, fd;
    char line[64];
    size_t len;
    (void)arg;
    (void)result;
    t.ctx = server_ctx(NULL);
    start_server(&t, &st, &port);
    cc = client_ctx("ca.pem", NULL);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", port, NULL, &fd), 0);
    CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
    CHECK_EQ(corio_stream_start_tls(s, cc, "localhost"), 0);
    CHECK_EQ(corio_stream_write(s, "quit\n", 5), 0);
    CHECK_EQ(corio_stream_drain(s), 0);
    /* Truncation is an error, not an end of file. */
    CHECK_EQ(corio_stream_read_line(s, line, sizeof line, &len), CORIO_ETLS);
    CHECK_STR_HAS(corio_stream_tls_error(s), "close_notify");
    CHECK_EQ(corio_task_join(st, NULL), 0);
    corio_task_release(st);
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(t.lfd), 0);
    corio_tls_ctx_free(cc);
    corio_tls_ctx_free(t.ctx);
    return 0;
}

TEST(tls_close_without_notify)
{
    need_tls();
    net_run(no_notify_main, NULL);
    cleanup();
}

static int deadline_main(void *arg, void **result)
{
    corio_tls_ctx *cc;
    corio_stream *s;
    corio_scope *sc;
    int lfd, fd, rc;
    size_t n;
    (void)arg;
    (void)result;
    cc = client_ctx("ca.pem", NULL);
    /* A server that accepts (the kernel does) and never answers. */
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &lfd, 1, &n), 0);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", corio_sock_port(lfd), NULL, &fd),
             0);
    CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
    CHECK_EQ(corio_scope_timeout(0.05, &sc), 0);
    rc = corio_stream_start_tls(s, cc, "localhost");
    CHECK_EQ(corio_scope_close(sc, rc), -ETIMEDOUT);
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(lfd), 0);
    corio_tls_ctx_free(cc);
    return 0;
}

TEST(tls_handshake_deadline)
{
    need_tls();
    net_run(deadline_main, NULL);
    cleanup();
}

/* ---- through corio_server --------------------------------------------------------- */

static int tls_echo(corio_stream *c, void *arg)
{
    char line[256];
    size_t len;
    int rc;
    (void)arg;
    while ((rc = corio_stream_read_line(c, line, sizeof line, &len)) == 0 &&
           len > 0) {
        if ((rc = corio_stream_write(c, line, len)) != 0 ||
            (rc = corio_stream_drain(c)) != 0)
            return rc;
    }
    return rc == CORIO_ESHUTTING ? 0 : rc;
}

static int server_main(void *arg, void **result)
{
    corio_server *srv;
    corio_server_opts so;
    corio_tls_ctx *cc, *sctx;
    corio_stream *s;
    corio_server_stats st;
    int fd, i;
    char line[64];
    size_t len;
    (void)arg;
    (void)result;
    sctx = server_ctx(NULL);
    cc = client_ctx("ca.pem", NULL);
    memset(&so, 0, sizeof so);
    so.tls = sctx;
    so.quiet = 1;
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, tls_echo, NULL, &so,
                              &srv),
             0);
    for (i = 0; i < 3; i++) {
        CHECK_EQ(corio_tcp_connect("localhost", corio_server_port(srv), NULL,
                                   &fd),
                 0);
        CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
        CHECK_EQ(corio_stream_start_tls(s, cc, "localhost"), 0);
        CHECK_EQ(corio_stream_write(s, "over tls\n", 9), 0);
        CHECK_EQ(corio_stream_drain(s), 0);
        CHECK_EQ(corio_stream_read_line(s, line, sizeof line, &len), 0);
        CHECK_EQ(len, 9);
        CHECK_EQ(corio_stream_close(s), 0);
    }
    /* A plaintext client: the handshake fails, counted, the server goes on. */
    CHECK_EQ(corio_tcp_connect("127.0.0.1", corio_server_port(srv), NULL, &fd),
             0);
    CHECK_EQ(corio_write_all(fd, "hello\n", 6, NULL), 0);
    {
        ssize_t r = corio_read(fd, line, sizeof line); /* an alert, or RST */
        CHECK(r >= 0 || r == -ECONNRESET);
    }
    CHECK_EQ(corio_fd_close(fd), 0);
    CHECK_EQ(corio_server_close(srv, 1), 0);
    CHECK_EQ(corio_server_wait(srv), 0);
    CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    CHECK_EQ(st.accepted, 4);
    CHECK_EQ(st.failures, 1);
    CHECK_EQ(corio_server_error(srv, 0), CORIO_ETLS);
    CHECK_EQ(corio_server_free(srv), 0);
    corio_tls_ctx_free(cc);
    corio_tls_ctx_free(sctx);
    return 0;
}

TEST(tls_server)
{
    need_tls();
    net_run(server_main, NULL);
    cleanup();
}

/* ---- interop with the openssl command ------------------------------------------- */

static pid_t spawn(char *const argv[], int *in_fd, int *out_fd)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int pin[2], pout[2];
    CHECK_EQ(pipe2(pin, O_CLOEXEC), 0);
    CHECK_EQ(pipe2(pout, O_CLOEXEC), 0);
    CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
    CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, pin[0], 0), 0);
    CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, pout[1], 1), 0);
    CHECK_EQ(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(pin[0]);
    close(pout[1]);
    *in_fd = pin[1];
    *out_fd = pout[0];
    return pid;
}

static int reap(pid_t pid)
{
    int status;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        CHECK_INT(w, >=, 0);
        if (w == pid)
            return status;
        CHECK_EQ(corio_sleep(0.01), 0);
    }
}

/* corio client against `openssl s_server`. */
static int s_server_main(void *arg, void **result)
{
    char cert[256], key[256], port_s[16], line[512];
    char *argv[16];
    corio_tls_ctx *cc;
    corio_stream *s, *out;
    int lfd, port, fd, in, ofd, tries;
    size_t n, len;
    pid_t pid;
    (void)arg;
    (void)result;
    /* A free port: bind, note it, close (s_server binds it next). */
    CHECK_EQ(corio_tcp_listen("127.0.0.1", 0, NULL, &lfd, 1, &n), 0);
    port = corio_sock_port(lfd);
    CHECK_EQ(corio_fd_close(lfd), 0);
    snprintf(port_s, sizeof port_s, "%d", port);
    path(cert, sizeof cert, "server.pem");
    path(key, sizeof key, "server.key");
    argv[0] = "openssl";
    argv[1] = "s_server";
    argv[2] = "-accept";
    argv[3] = port_s;
    argv[4] = "-cert";
    argv[5] = cert;
    argv[6] = "-key";
    argv[7] = key;
    argv[8] = "-alpn";
    argv[9] = "corio/1";
    argv[10] = "-naccept";
    argv[11] = "1";
    argv[12] = "-quiet";
    argv[13] = NULL;
    pid = spawn(argv, &in, &ofd);
    CHECK_EQ(corio_stream_new(ofd, NULL, &out), 0);
    cc = client_ctx("ca.pem", "corio/1");
    /* Wait until it listens (it prints nothing useful with -quiet). */
    for (tries = 0;; tries++) {
        int rc = corio_tcp_connect("127.0.0.1", port, NULL, &fd);
        if (rc == 0)
            break;
        CHECK_EQ(rc, -ECONNREFUSED);
        CHECK_INT(tries, <, 1000);
        CHECK_EQ(corio_sleep(0.01), 0);
    }
    CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
    CHECK_EQ(corio_stream_start_tls(s, cc, "localhost"), 0);
    CHECK(corio_stream_alpn(s) && strcmp(corio_stream_alpn(s), "corio/1") == 0);
    /* s_server prints what it receives on stdout. */
    CHECK_EQ(corio_stream_write(s, "to s_server\n", 12), 0);
    CHECK_EQ(corio_stream_drain(s), 0);
    CHECK_EQ(corio_stream_read_line(out, line, sizeof line, &len), 0);
    CHECK_EQ(len, 12);
    CHECK_EQ(memcmp(line, "to s_server\n", 12), 0);
    /* ... and sends what it reads on stdin. */
    CHECK_EQ(corio_write_all(in, "from s_server\n", 14, NULL), 0);
    CHECK_EQ(corio_stream_read_line(s, line, sizeof line, &len), 0);
    CHECK_EQ(len, 14);
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(in), 0);
    kill(pid, SIGTERM);
    reap(pid);
    CHECK_EQ(corio_stream_close(out), 0);
    corio_tls_ctx_free(cc);
    return 0;
}

TEST(tls_interop_openssl_s_server)
{
    need_tls();
    net_run(s_server_main, NULL);
    cleanup();
}

/* `openssl s_client` against a corio TLS server. */
static int s_client_main(void *arg, void **result)
{
    struct tserver t = {0, -1, 99, 1};
    corio_task *st;
    char port_s[32], ca[256], line[512];
    char *argv[16];
    corio_stream *out;
    int port, in, ofd;
    size_t len;
    pid_t pid;
    (void)arg;
    (void)result;
    t.ctx = server_ctx("corio/1");
    start_server(&t, &st, &port);
    snprintf(port_s, sizeof port_s, "127.0.0.1:%d", port);
    path(ca, sizeof ca, "ca.pem");
    argv[0] = "openssl";
    argv[1] = "s_client";
    argv[2] = "-connect";
    argv[3] = port_s;
    argv[4] = "-CAfile";
    argv[5] = ca;
    argv[6] = "-verify_return_error";
    argv[7] = "-servername";
    argv[8] = "localhost";
    argv[9] = "-alpn";
    argv[10] = "corio/1";
    argv[11] = "-quiet";
    argv[12] = "-no_ign_eof"; /* -quiet implies -ign_eof */
    argv[13] = NULL;
    pid = spawn(argv, &in, &ofd);
    CHECK_EQ(corio_stream_new(ofd, NULL, &out), 0);
    CHECK_EQ(corio_write_all(in, "via s_client\n", 13, NULL), 0);
    CHECK_EQ(corio_stream_read_line(out, line, sizeof line, &len), 0);
    CHECK_EQ(len, 13);
    CHECK_EQ(memcmp(line, "via s_client\n", 13), 0);
    CHECK_EQ(corio_fd_close(in), 0); /* s_client ends on stdin's end */
    CHECK_EQ(corio_task_join(st, NULL), 0);
    corio_task_release(st);
    reap(pid);
    CHECK_EQ(corio_stream_close(out), 0);
    CHECK_EQ(corio_fd_close(t.lfd), 0);
    corio_tls_ctx_free(t.ctx);
    return 0;
}

TEST(tls_interop_openssl_s_client)
{
    need_tls();
    net_run(s_client_main, NULL);
    cleanup();
}

TEST(tls_ctx_bad_options)
{
    corio_tls_opts o;
    corio_tls_ctx *c = NULL;
    if (!corio_tls_available()) {
        CHECK_EQ(corio_tls_ctx_new(NULL, &c), CORIO_ENOTBUILT);
        corio_test_skip("TLS not built in (no OpenSSL 3)");
    }
    memset(&o, 0, sizeof o);
    o.server = 1;
    CHECK_EQ(corio_tls_ctx_new(&o, &c), -EINVAL); /* no certificate */
    memset(&o, 0, sizeof o);
    o.alpn = "h2,,x";
    CHECK_EQ(corio_tls_ctx_new(&o, &c), -EINVAL);
    o.alpn = "";
    CHECK_EQ(corio_tls_ctx_new(&o, &c), -EINVAL);
    memset(&o, 0, sizeof o);
    o.cert_file = "/nonexistent.pem";
    o.key_file = "/nonexistent.key";
    CHECK_EQ(corio_tls_ctx_new(&o, &c), CORIO_ETLS);
    CHECK(c == NULL);
}
