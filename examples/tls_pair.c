/*
 * tls_pair.c: a TLS echo server and its client on localhost, in one
 * program: a corio_server with a TLS context (every connection starts
 * TLS before its handler), and a client that verifies the server's
 * certificate against the CA that signed it, checks the name "localhost"
 * and agrees on an ALPN protocol.
 *
 * The certificates are made when it starts, with the `openssl` command,
 * in a temporary directory (a real server loads its own). Without the
 * command, or in a corio built without OpenSSL, it says so and exits 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <corio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int make_certs(void)
{
    char cmd[1024];
    snprintf(dir, sizeof dir, "/tmp/corio-tls-pair-%d", (int)getpid());
    snprintf(cmd, sizeof cmd,
             "(set -e; mkdir -p %s; cd %s; "
             "e='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; "
             "openssl req -x509 $e -keyout ca.key -out ca.pem -days 1 "
             "-subj /CN=example-ca; "
             "openssl req $e -keyout srv.key -out srv.csr -subj /CN=localhost; "
             "printf 'subjectAltName=DNS:localhost\\n' > ext; "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
             "-CAcreateserial -out srv.pem -days 1 -extfile ext) "
             ">/dev/null 2>&1",
             dir, dir);
    return system(cmd) == 0 ? 0 : -ENOENT;
}

static int echo(corio_stream *c, void *arg)
{
    char line[256];
    size_t len;
    int rc;
    (void)arg;
    while ((rc = corio_stream_read_line(c, line, sizeof line, &len)) == 0 &&
           len > 0)
        if ((rc = corio_stream_write(c, line, len)) != 0 ||
            (rc = corio_stream_drain(c)) != 0)
            return rc;
    return rc == CORIO_ESHUTTING ? 0 : rc;
}

static int main_task(void *arg, void **result)
{
    char cert[128], key[128], ca[128], line[256];
    corio_tls_opts so = {0}, co = {0};
    corio_tls_ctx *sctx = NULL, *cctx = NULL;
    corio_server_opts opts = {0};
    corio_server *srv = NULL;
    corio_stream *s;
    size_t len;
    int fd, rc;
    (void)arg;
    (void)result;
    snprintf(cert, sizeof cert, "%s/srv.pem", dir);
    snprintf(key, sizeof key, "%s/srv.key", dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    so.server = 1;
    so.cert_file = cert;
    so.key_file = key;
    so.alpn = "echo/1";
    co.ca_file = ca;
    co.alpn = "echo/1";
    if ((rc = corio_tls_ctx_new(&so, &sctx)) != 0 ||
        (rc = corio_tls_ctx_new(&co, &cctx)) != 0)
        goto out;
    opts.tls = sctx;
    rc = corio_tcp_server("127.0.0.1", 0, NULL, echo, NULL, &opts, &srv);
    if (rc)
        goto out;
    if ((rc = corio_tcp_connect("localhost", corio_server_port(srv), NULL,
                                &fd)) != 0)
        goto out;
    if ((rc = corio_stream_new(fd, NULL, &s)) != 0) {
        corio_fd_close(fd);
        goto out;
    }
    rc = corio_stream_start_tls(s, cctx, "localhost");
    if (rc) {
        fprintf(stderr, "handshake: %s: %s\n", corio_strerror(rc),
                corio_stream_tls_error(s));
    } else {
        printf("TLS up, ALPN %s\n", corio_stream_alpn(s));
        if ((rc = corio_stream_write(s, "private words\n", 14)) == 0 &&
            (rc = corio_stream_drain(s)) == 0 &&
            (rc = corio_stream_read_line(s, line, sizeof line, &len)) == 0)
            printf("echoed over TLS: %.*s", (int)len, line);
    }
    corio_stream_close(s);
out:
    if (srv) {
        corio_server_close(srv, 1.0);
        corio_server_wait(srv);
        corio_server_free(srv);
    }
    corio_tls_ctx_free(cctx);
    corio_tls_ctx_free(sctx);
    return rc;
}

int main(void)
{
    char cmd[128];
    int rc;
    if (!corio_tls_available()) {
        printf("TLS is not built into this corio (no OpenSSL 3): skipped\n");
        return 0;
    }
    if (make_certs() != 0) {
        printf("no openssl command to make certificates with: skipped\n");
        return 0;
    }
    rc = corio_run(main_task, NULL, NULL);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)!system(cmd);
    if (rc)
        fprintf(stderr, "tls_pair: %s\n", corio_strerror(rc));
    return rc ? 1 : 0;
}
