/*
 * bench_tls.c: the `tls` suite: bulk transfer over a corio stream on
 * 127.0.0.1, plain TCP (the reference) against TLS (OpenSSL through
 * corio_stream_start_tls, TLS 1.3 with a throwaway self-signed
 * certificate). Client and server are tasks of one loop on one thread:
 * the client writes TOTAL bytes in 64 KiB writes, the server reads them
 * all and answers one byte. The figure is MiB moved per CPU-second of
 * that thread (both ends' work); the ratio says what TLS costs. Rows
 * print n/a without TLS in the build or without the openssl command.
 *
 * The TLS reference (issue 13: "beside openssl s_server's figures"):
 * OpenSSL's own programs moving the same bytes the same way, with the
 * same certificate and defaults (TLS 1.3, the same cipher suite):
 * `openssl s_client` sends TOTAL bytes it reads from a pipe to
 * `openssl s_server -naccept 1`, which writes them to /dev/null; the
 * figure is MiB per CPU-second of the two processes together (their
 * rusage), so it too counts both ends. It carries costs corio's row has
 * not (s_client reads its input from a pipe, s_server writes to
 * /dev/null, both in 16 KiB pieces) and corio's has costs it has not (the
 * loop, tasks): read it as where OpenSSL itself stands on this machine.
 */
#include "bench.h"
#include "suites.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

struct xfer {
    size_t total;
    int tls;
    const char *dir;
    int rc;
};

static int sink(corio_stream *s, void *arg)
{
    static char buf[CHUNK];
    struct xfer *x = arg;
    size_t got = 0;
    ssize_t n;
    while (got < x->total && (n = corio_stream_read(s, buf, sizeof buf)) > 0)
        got += (size_t)n;
    if (got < x->total)
        return 0;
    if (corio_stream_write(s, "k", 1) == 0)
        (void)corio_stream_drain(s);
    return 0;
}

static int xfer_main(void *arg, void **result)
{
    static char chunk[CHUNK];
    struct xfer *x = arg;
    char cert[256], key[256], ack;
    corio_tls_opts so, co;
    corio_tls_ctx *sctx = NULL, *cctx = NULL;
    corio_server_opts opts;
    corio_server *srv = NULL;
    corio_stream *s = NULL;
    size_t sent = 0;
    ssize_t n;
    int fd, rc;
    (void)result;
    memset(&so, 0, sizeof so);
    memset(&co, 0, sizeof co);
    memset(&opts, 0, sizeof opts);
    memset(chunk, 'x', sizeof chunk);
    if (x->tls) {
        snprintf(cert, sizeof cert, "%s/c.pem", x->dir);
        snprintf(key, sizeof key, "%s/k.pem", x->dir);
        so.server = 1;
        so.cert_file = cert;
        so.key_file = key;
        co.no_verify = 1; /* a throwaway certificate */
        if ((rc = corio_tls_ctx_new(&so, &sctx)) != 0 ||
            (rc = corio_tls_ctx_new(&co, &cctx)) != 0)
            goto out;
        opts.tls = sctx;
    }
    if ((rc = corio_tcp_server("127.0.0.1", 0, NULL, sink, x, &opts,
                               &srv)) != 0)
        goto out;
    if ((rc = corio_tcp_connect("127.0.0.1", corio_server_port(srv), NULL,
                                &fd)) != 0)
        goto out;
    if ((rc = corio_stream_new(fd, NULL, &s)) != 0) {
        corio_fd_close(fd);
        goto out;
    }
    if (x->tls && (rc = corio_stream_start_tls(s, cctx, NULL)) != 0)
        goto out;
    while (sent < x->total) {
        size_t k = x->total - sent < CHUNK ? x->total - sent : CHUNK;
        if ((rc = corio_stream_write(s, chunk, k)) != 0 ||
            (rc = corio_stream_drain(s)) != 0)
            goto out;
        sent += k;
    }
    n = corio_stream_read(s, &ack, 1);
    rc = n == 1 ? 0 : -EPROTO;
out:
    if (s)
        corio_stream_close(s);
    if (srv) {
        corio_server_close(srv, 1.0);
        corio_server_wait(srv);
        corio_server_free(srv);
    }
    corio_tls_ctx_free(cctx);
    corio_tls_ctx_free(sctx);
    x->rc = rc;
    return rc;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* MiB per CPU-second of one transfer, or -1. */
static double one_run(int tls, const char *dir, size_t total, double *wall)
{
    struct xfer x = {total, tls, dir, 0};
    double c0 = cpu_now(), t0 = bench_now_ns() / 1e9, c1, t1;
    if (corio_run(xfer_main, &x, NULL) != 0 || x.rc != 0)
        return -1;
    c1 = cpu_now();
    t1 = bench_now_ns() / 1e9;
    *wall = (double)total / (1 << 20) / (t1 - t0);
    return c1 > c0 ? (double)total / (1 << 20) / (c1 - c0) : -1;
}

/* ---- the reference: openssl s_server and s_client ------------------------ */

/* A free TCP port on 127.0.0.1 (the kernel's pick), or -1. */
static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Is something listening on 127.0.0.1:port (/proc/net/tcp, state 0A)?
 * Asked without connecting, since s_server takes one connection only. */
static int listening(int port)
{
    char line[256], want[32];
    FILE *f = fopen("/proc/net/tcp", "r");
    int found = 0;
    if (!f)
        return 0;
    snprintf(want, sizeof want, "0100007F:%04X 00000000:0000 0A", port);
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, want) != NULL;
    fclose(f);
    return found;
}

/* Run argv with stdin from `in` and stdout, stderr to /dev/null. */
static pid_t spawn(char *const argv[], int in)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(in, 0);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static double ru_cpu(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

/* Wait for pid for at most `secs` (then kill it): its CPU seconds, or -1
 * when it failed or had to be killed. */
static double reap(pid_t pid, double secs)
{
    struct rusage ru;
    int st, i;
    for (i = 0; i < (int)(secs * 100); i++) {
        pid_t r = wait4(pid, &st, WNOHANG, &ru);
        if (r == pid)
            return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? ru_cpu(&ru) : -1;
        if (r < 0)
            return -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    (void)wait4(pid, &st, 0, &ru);
    return -1;
}

/* MiB per CPU-second of s_server and s_client together, or -1. */
static double openssl_run(const char *dir, size_t total, double *wall)
{
    static char chunk[CHUNK];
    char cert[256], key[256], acc[64], conn[64];
    int sin[2] = {-1, -1}, cin[2] = {-1, -1}, port = free_port(), i;
    pid_t srv = -1, cli = -1;
    double t0, t1, cs, cc;
    size_t sent = 0;
    if (port < 0 || pipe2(sin, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(cin, O_CLOEXEC) != 0) {
        close(sin[0]);
        close(sin[1]);
        return -1;
    }
    snprintf(cert, sizeof cert, "%s/c.pem", dir);
    snprintf(key, sizeof key, "%s/k.pem", dir);
    snprintf(acc, sizeof acc, "127.0.0.1:%d", port);
    snprintf(conn, sizeof conn, "127.0.0.1:%d", port);
    {
        /* s_server's stdin stays open (its end of file would end it). */
        char *sargv[] = {"openssl", "s_server", "-accept", acc, "-cert", cert,
                         "-key", key, "-quiet", "-naccept", "1", NULL};
        srv = spawn(sargv, sin[0]);
    }
    close(sin[0]);
    for (i = 0; srv > 0 && i < 1000 && !listening(port); i++)
        usleep(10000);
    t0 = bench_now_ns() / 1e9;
    if (srv > 0 && i < 1000) {
        char *cargv[] = {"openssl", "s_client", "-connect", conn, "-quiet",
                         "-no_ign_eof", NULL};
        cli = spawn(cargv, cin[0]);
    }
    close(cin[0]);
    memset(chunk, 'x', sizeof chunk);
    signal(SIGPIPE, SIG_IGN);
    while (cli > 0 && sent < total) {
        size_t k = total - sent < CHUNK ? total - sent : CHUNK;
        ssize_t w = write(cin[1], chunk, k);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    close(cin[1]);
    cc = cli > 0 ? reap(cli, 120) : -1;
    cs = srv > 0 ? reap(srv, 120) : -1;
    t1 = bench_now_ns() / 1e9;
    close(sin[1]);
    if (sent < total || cc < 0 || cs < 0 || cc + cs <= 0)
        return -1;
    *wall = (double)total / (1 << 20) / (t1 - t0);
    return (double)total / (1 << 20) / (cc + cs);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int tls_run(const bench_opts *opts)
{
    static const char *names[] = {"corio plain (reference)", "corio TLS",
                                  "openssl s_server+s_client"};
    char dir[] = "/tmp/corio_bench_tlsXXXXXX", cmd[512];
    size_t total = opts->quick ? (size_t)1 << 20 : (size_t)256 << 20;
    int samples = opts->quick ? 1 : opts->samples, k, s, failed = 0;
    int have_cert = 0;
    double med[3] = {0, 0, 0};
    if (samples > 5)
        samples = 5;
    if (corio_tls_available() && mkdtemp(dir)) {
        snprintf(cmd, sizeof cmd,
                 "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
                 "-subj /CN=localhost -keyout %s/k.pem -out %s/c.pem "
                 ">/dev/null 2>&1",
                 dir, dir);
        have_cert = system(cmd) == 0;
    }
    printf("tls: %zu MiB one way in 64 KiB writes, client and server on one "
           "loop, %d samples (median)\n",
           total >> 20, samples);
    printf("%-26s %16s %14s %8s %7s\n", "stream", "MiB/CPU-s", "MiB/s wall",
           "ratio", "spread");
    for (k = 0; k < 3; k++) {
        double v[5], w[5];
        if (k >= 1 && !have_cert) {
            printf("%-26s %16s\n", names[k],
                   corio_tls_available() ? "n/a (no openssl command)"
                                         : "n/a (built without OpenSSL)");
            continue;
        }
        for (s = 0; s < samples; s++)
            if ((v[s] = k == 2 ? openssl_run(dir, total, &w[s])
                               : one_run(k, dir, total, &w[s])) < 0)
                break;
        if (s < samples) {
            failed = 1;
            printf("%-26s %16s\n", names[k], "FAILED");
            continue;
        }
        qsort(v, (size_t)samples, sizeof v[0], cmp_double);
        qsort(w, (size_t)samples, sizeof w[0], cmp_double);
        med[k] = v[samples / 2];
        printf("%-26s %16.0f %14.0f %7.2fx %6.0f%%\n", names[k], med[k],
               w[samples / 2], med[0] > 0 ? med[k] / med[0] : 0.0,
               100.0 * (v[samples - 1] - v[0]) / med[k]);
    }
    printf("\n");
    if (have_cert) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void)!system(cmd);
    } else if (strchr(dir, 'X') == NULL) {
        rmdir(dir);
    }
    return failed ? -1 : 0;
}

const bench_suite bench_suite_tls = {
    "tls", "bulk transfer over a stream: plain TCP against TLS", tls_run};
