/*
 * test_server.c: corio_server (server.h) over loopback: echo with many
 * clients, a failing handler recorded without harm to others, the
 * connection limit as backpressure, graceful shutdown (idle reads end
 * with CORIO_ESHUTTING, work in progress finishes, the grace period
 * cancels the rest), Unix listeners, and descriptor exhaustion while
 * accepting (backs off, keeps serving, never spins).
 */
#include "test.h"
#include "net_helpers.h"

#include <corio.h>
#include <math.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>

static int echo_handler(corio_stream *c, void *arg)
{
    char line[256];
    size_t len;
    int rc;
    (void)arg;
    while ((rc = corio_stream_read_line(c, line, sizeof line, &len)) == 0 &&
           len > 0) {
        if (len == 5 && memcmp(line, "fail\n", 5) == 0)
            return -EPROTO;
        if ((rc = corio_stream_write(c, line, len)) != 0 ||
            (rc = corio_stream_drain(c)) != 0)
            return rc;
    }
    return rc == CORIO_ESHUTTING ? 0 : rc;
}

struct client {
    int port;
    const char *msg;
    int rounds;
    int ok;
};

static int client_task(void *arg, void **result)
{
    struct client *cl = arg;
    corio_stream *s;
    int fd, i;
    char buf[256];
    size_t len;
    (void)result;
    CHECK_EQ(corio_tcp_connect("127.0.0.1", cl->port, NULL, &fd), 0);
    CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
    for (i = 0; i < cl->rounds; i++) {
        CHECK_EQ(corio_stream_write(s, cl->msg, strlen(cl->msg)), 0);
        CHECK_EQ(corio_stream_drain(s), 0);
        CHECK_EQ(corio_stream_read_line(s, buf, sizeof buf, &len), 0);
        CHECK_EQ(len, strlen(cl->msg));
        CHECK_EQ(memcmp(buf, cl->msg, len), 0);
    }
    cl->ok = 1;
    CHECK_EQ(corio_stream_close(s), 0);
    return 0;
}

static int echo_main(void *arg, void **result)
{
    corio_server *srv;
    struct client cl[20];
    corio_task *t[20];
    corio_server_stats st;
    int i;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, echo_handler, NULL, NULL,
                              &srv),
             0);
    for (i = 0; i < 20; i++) {
        cl[i].port = corio_server_port(srv);
        cl[i].msg = "hello server\n";
        cl[i].rounds = 10;
        cl[i].ok = 0;
        CHECK_EQ(corio_spawn(client_task, &cl[i], NULL, &t[i]), 0);
    }
    for (i = 0; i < 20; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        corio_task_release(t[i]);
        CHECK(cl[i].ok);
    }
    CHECK_EQ(corio_server_close(srv, 1.0), 0);
    CHECK_EQ(corio_server_wait(srv), 0);
    CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    CHECK_EQ(st.accepted, 20);
    CHECK_EQ(st.open, 0);
    CHECK_EQ(st.failures, 0);
    CHECK_EQ(corio_server_free(srv), 0);
    return 0;
}

TEST(server_echo_many_clients)
{
    net_run(echo_main, NULL);
}

static int failure_main(void *arg, void **result)
{
    corio_server *srv;
    corio_server_opts o;
    struct client good = {0, "still here\n", 3, 0};
    corio_task *t;
    corio_server_stats st;
    corio_stream *s;
    int fd;
    char buf[8];
    (void)arg;
    (void)result;
    memset(&o, 0, sizeof o);
    o.quiet = arg != NULL;
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, echo_handler, NULL, &o,
                              &srv),
             0);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", corio_server_port(srv), NULL,
                               &fd),
             0);
    CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
    CHECK_EQ(corio_stream_write(s, "fail\n", 5), 0);
    CHECK_EQ(corio_stream_drain(s), 0);
    CHECK_EQ(corio_stream_read(s, buf, sizeof buf), 0); /* closed on us */
    CHECK_EQ(corio_stream_close(s), 0);
    good.port = corio_server_port(srv);
    CHECK_EQ(corio_spawn(client_task, &good, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK(good.ok); /* the server kept serving */
    CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    CHECK_EQ(st.failures, 1);
    CHECK_EQ(corio_server_error(srv, 0), -EPROTO);
    CHECK_EQ(corio_server_error(srv, 1), 0);
    CHECK_EQ(corio_server_close(srv, 1.0), 0);
    CHECK_EQ(corio_server_wait(srv), 0);
    CHECK_EQ(corio_server_free(srv), 0);
    return 0;
}

TEST(server_handler_failure_recorded)
{
    char *err;
    corio_test_stderr_begin();
    net_run(failure_main, NULL);
    err = corio_test_stderr_end();
    CHECK_STR_HAS(err, "connection handler failed: EPROTO");
    free(err);
}

/* ---- backpressure -------------------------------------------------------------- */

static int hold_handler(corio_stream *c, void *arg)
{
    char buf[8];
    (void)arg;
    /* Hold the connection until the client closes it. */
    while (corio_stream_read(c, buf, sizeof buf) > 0)
        ;
    return 0;
}

static int limit_main(void *arg, void **result)
{
    corio_server *srv;
    corio_server_opts o;
    corio_server_stats st;
    int fd[3], i;
    (void)arg;
    (void)result;
    memset(&o, 0, sizeof o);
    o.max_connections = 2;
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, hold_handler, NULL, &o,
                              &srv),
             0);
    for (i = 0; i < 3; i++)
        CHECK_EQ(corio_tcp_connect("127.0.0.1", corio_server_port(srv), NULL,
                                   &fd[i]),
                 0); /* the kernel completes the third one: backlog */
    /* Let the server take what it will. */
    do {
        CHECK_EQ(corio_sleep(0), 0);
        CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    } while (st.accepted < 2);
    for (i = 0; i < 50; i++)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    CHECK_EQ(st.accepted, 2); /* the third waits in the backlog */
    CHECK_EQ(st.open, 2);
    CHECK_EQ(corio_fd_close(fd[0]), 0);
    do {
        CHECK_EQ(corio_sleep(0), 0);
        CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    } while (st.accepted < 3);
    CHECK_EQ(st.open, 2);
    CHECK_EQ(corio_fd_close(fd[1]), 0);
    CHECK_EQ(corio_fd_close(fd[2]), 0);
    CHECK_EQ(corio_server_close(srv, INFINITY), 0);
    CHECK_EQ(corio_server_wait(srv), 0);
    CHECK_EQ(corio_server_free(srv), 0);
    return 0;
}

TEST(server_connection_limit)
{
    net_run(limit_main, NULL);
}

/* ---- graceful shutdown ------------------------------------------------------- */

struct shut {
    corio_event *go;    /* lets the busy handler finish */
    int idle_rc, busy_rc;
    int busy_started;
    int busy_finished;
};

static int shut_handler(corio_stream *c, void *arg)
{
    struct shut *sh = arg;
    char line[64];
    size_t len;
    int rc;
    rc = corio_stream_read_line(c, line, sizeof line, &len);
    if (rc)
        return rc;
    if (len == 5 && memcmp(line, "busy\n", 5) == 0) {
        sh->busy_started = 1;
        rc = corio_event_wait(sh->go); /* work in progress */
        sh->busy_rc = rc;
        if (rc == 0) {
            CHECK_EQ(corio_stream_write(c, "done\n", 5), 0);
            sh->busy_finished = 1;
        }
        return rc;
    }
    /* idle: wait for the next request */
    sh->idle_rc = corio_stream_read_line(c, line, sizeof line, &len);
    return sh->idle_rc == CORIO_ESHUTTING ? 0 : sh->idle_rc;
}

static int graceful_main(void *arg, void **result)
{
    struct shut sh;
    corio_server *srv;
    corio_stream *busy;
    int idle, fd, port;
    char buf[16];
    size_t len;
    corio_server_stats st;
    double grace = 1000;
    (void)result;
    memset(&sh, 0, sizeof sh);
    sh.idle_rc = 99;
    CHECK_EQ(corio_event_new(&sh.go), 0);
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, shut_handler, &sh, NULL,
                              &srv),
             0);
    port = corio_server_port(srv);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", port, NULL, &idle), 0);
    CHECK_EQ(corio_write_all(idle, "hi\n", 3, NULL), 0);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", port, NULL, &fd), 0);
    CHECK_EQ(corio_stream_new(fd, NULL, &busy), 0);
    CHECK_EQ(corio_stream_write(busy, "busy\n", 5), 0);
    CHECK_EQ(corio_stream_drain(busy), 0);
    while (!sh.busy_started)
        CHECK_EQ(corio_sleep(0), 0);
    do {
        CHECK_EQ(corio_sleep(0), 0);
        CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    } while (st.accepted < 2);
    CHECK_EQ(corio_server_close(srv, grace), 0);
    CHECK_EQ(corio_server_port(srv), -EBADF);
    /* The idle connection's read ends at once. */
    while (sh.idle_rc == 99)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(sh.idle_rc, CORIO_ESHUTTING);
    /* New connections are refused. */
    CHECK_EQ(corio_tcp_connect("127.0.0.1", port, NULL, &fd), -ECONNREFUSED);
    if (!arg) {
        CHECK_EQ(corio_event_set(sh.go), 0); /* the work finishes */
        CHECK_EQ(corio_server_wait(srv), 0);
        CHECK(sh.busy_finished);
        CHECK_EQ(corio_stream_read_line(busy, buf, sizeof buf, &len), 0);
        CHECK_EQ(len, 5);
    } else {
        CHECK_EQ(corio_server_close(srv, 0), 0); /* force: cancel the rest */
        CHECK_EQ(corio_server_wait(srv), 0);
        CHECK_EQ(sh.busy_rc, -ECANCELED);
        CHECK(!sh.busy_finished);
    }
    CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    CHECK_EQ(st.failures, 0); /* neither shutdown code is a failure */
    CHECK_EQ(corio_server_free(srv), 0);
    CHECK_EQ(corio_stream_close(busy), 0);
    CHECK_EQ(corio_fd_close(idle), 0);
    corio_event_free(sh.go);
    return 0;
}

TEST(server_graceful_shutdown)
{
    net_run(graceful_main, NULL);
}

TEST(server_close_again_forces)
{
    net_run(graceful_main, (void *)1);
}

/* Only work in progress that never ends: the grace period's end cancels
 * it (the timer, not a race: nothing else could end it). */
static int grace_main(void *arg, void **result)
{
    struct shut sh;
    corio_server *srv;
    corio_stream *busy;
    int fd;
    corio_server_stats st;
    (void)arg;
    (void)result;
    memset(&sh, 0, sizeof sh);
    CHECK_EQ(corio_event_new(&sh.go), 0);
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, shut_handler, &sh, NULL,
                              &srv),
             0);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", corio_server_port(srv), NULL,
                               &fd),
             0);
    CHECK_EQ(corio_stream_new(fd, NULL, &busy), 0);
    CHECK_EQ(corio_stream_write(busy, "busy\n", 5), 0);
    CHECK_EQ(corio_stream_drain(busy), 0);
    while (!sh.busy_started)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_server_close(srv, 0.05), 0);
    CHECK_EQ(corio_server_wait(srv), 0); /* the grace period ends it */
    CHECK_EQ(sh.busy_rc, -ECANCELED);
    CHECK(!sh.busy_finished);
    CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    CHECK_EQ(st.failures, 0);
    CHECK_EQ(corio_server_free(srv), 0);
    CHECK_EQ(corio_stream_close(busy), 0);
    corio_event_free(sh.go);
    return 0;
}

TEST(server_grace_period_cancels)
{
    net_run(grace_main, NULL);
}

static int unix_main(void *arg, void **result)
{
    corio_server *srv;
    int lfd, fd;
    char path[64], buf[16];
    corio_stream *s;
    size_t len;
    (void)arg;
    (void)result;
    snprintf(path, sizeof path, "@corio-srv-%d", (int)getpid());
    CHECK_EQ(corio_unix_listen(path, 0, &lfd), 0);
    CHECK_EQ(corio_server_new(&lfd, 1, echo_handler, NULL, NULL, &srv), 0);
    CHECK_EQ(corio_server_port(srv), -EAFNOSUPPORT);
    CHECK_EQ(corio_unix_connect(path, SOCK_STREAM, &fd), 0);
    CHECK_EQ(corio_stream_new(fd, NULL, &s), 0);
    CHECK_EQ(corio_stream_write(s, "unix\n", 5), 0);
    CHECK_EQ(corio_stream_drain(s), 0);
    CHECK_EQ(corio_stream_read_line(s, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 5);
    CHECK_EQ(corio_server_close(srv, 0), 0); /* cancels at once */
    CHECK_EQ(corio_server_wait(srv), 0);
    CHECK_EQ(corio_server_free(srv), 0);
    CHECK_EQ(corio_stream_close(s), 0);
    return 0;
}

TEST(server_unix_listener)
{
    net_run(unix_main, NULL);
}

static int busy_free_main(void *arg, void **result)
{
    corio_server *srv;
    (void)arg;
    (void)result;
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, echo_handler, NULL, NULL,
                              &srv),
             0);
    CHECK_EQ(corio_server_free(srv), -EBUSY);
    CHECK_EQ(corio_server_close(srv, 0), 0);
    CHECK_EQ(corio_server_close(srv, 0), 0);
    CHECK_EQ(corio_server_wait(srv), 0);
    CHECK_EQ(corio_server_free(srv), 0);
    return 0;
}

TEST(server_free_while_running)
{
    net_run(busy_free_main, NULL);
}

/* ---- out of descriptors -------------------------------------------------------- */

#define EM_CLIENTS 8

/* The child: EM_CLIENTS blocking clients, each sends a line and wants it
 * back. Exit 0 when all were served. */
static void em_child(int port, const int *fill, int nfill)
{
    int fds[EM_CLIENTS], i;
    for (i = 0; i < nfill; i++)
        close(fill[i]); /* the child has descriptors of its own to use */
    struct sockaddr_in a;
    char buf[16];
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(0x7f000001);
    for (i = 0; i < EM_CLIENTS; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&a, sizeof a))
            _exit(2);
        if (write(fds[i], "x\n", 2) != 2)
            _exit(3);
    }
    for (i = 0; i < EM_CLIENTS; i++)
        if (read(fds[i], buf, sizeof buf) != 2)
            _exit(4);
    _exit(0);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int emfile_main(void *arg, void **result)
{
    corio_server *srv;
    corio_server_opts o;
    corio_server_stats st;
    int fill[4096], nfill = 0, i, status, port;
    pid_t pid;
    double t0, c0;
    size_t b0;
    struct rlimit rl;
    (void)arg;
    (void)result;
    if (getenv("CORIO_UNDER_VALGRIND"))
        corio_test_skip("CPU use and descriptor limits mean nothing under "
                        "Valgrind");
    memset(&o, 0, sizeof o);
    o.quiet = 1;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = 256 < rl.rlim_max ? 256 : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        corio_test_skip("cannot lower RLIMIT_NOFILE here (Valgrind?)");
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, echo_handler, NULL, &o,
                              &srv),
             0);
    port = corio_server_port(srv);
    /* Use up every descriptor. */
    while (nfill < 4096) {
        int d = dup(0);
        if (d < 0)
            break;
        fill[nfill++] = d;
    }
    CHECK_EQ(errno, EMFILE);
    pid = fork();
    CHECK_INT(pid, >=, 0);
    if (pid == 0)
        em_child(port, fill, nfill);
    do {
        CHECK_EQ(corio_sleep(0.01), 0);
        CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    } while (st.backoffs == 0);
    /* Out of descriptors with clients waiting: over a stretch of time,
     * the server must mostly sleep (a spinning accept would retry
     * thousands of times and burn a core). */
    b0 = st.backoffs;
    c0 = cpu_seconds();
    t0 = corio_loop_time(NULL);
    CHECK_EQ(corio_sleep(0.5), 0);
    CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    CHECK_INT(st.backoffs - b0, <=, 10);
    CHECK(cpu_seconds() - c0 < 0.5 * (corio_loop_time(NULL) - t0));
    CHECK_EQ(st.accepted, 0);
    /* Descriptors come back: every client gets served. */
    for (i = 0; i < nfill; i++)
        close(fill[i]);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        CHECK_INT(w, >=, 0);
        if (w == pid)
            break;
        CHECK_EQ(corio_sleep(0.01), 0);
    }
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    CHECK_EQ(corio_server_stats_get(srv, &st), 0);
    CHECK_EQ(st.accepted, EM_CLIENTS);
    CHECK_EQ(corio_server_close(srv, 0), 0);
    CHECK_EQ(corio_server_wait(srv), 0);
    CHECK_EQ(corio_server_free(srv), 0);
    return 0;
}

TEST(server_out_of_descriptors_backs_off)
{
    net_run(emfile_main, NULL);
}
