/*
 * bench_idle.c: the `idle` suite: memory per idle connection. A
 * corio_server (on a thread of its own) holds N connections whose
 * handlers all wait in corio_stream_read_line; the figure is the growth
 * of the process's resident memory from before the clients connect to
 * when every handler waits, divided by N. Kernel socket buffers are not
 * resident memory and do not count. Rows: connection tasks with their
 * own stacks (the default) and lean tasks (CORIO_CORO_LEAN: a shared
 * stack, each suspended task keeping only the part it used).
 * N is 10,000 (100 with --quick), fewer if RLIMIT_NOFILE cannot allow
 * two descriptors per connection.
 */
#include "bench.h"
#include "suites.h"

#include <corio.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct idle_run {
    int lean;
    int stopfd;
    _Atomic int port;   /* 0 until the server listens, -1 if it failed */
    _Atomic long waiting;
};

static long rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = -1;
    fclose(f);
    return rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE);
}

static int idle_handler(corio_stream *c, void *arg)
{
    struct idle_run *r = arg;
    char line[128];
    size_t len;
    atomic_fetch_add(&r->waiting, 1);
    while (corio_stream_read_line(c, line, sizeof line, &len) == 0 && len)
        ;
    return 0;
}

static int idle_main(void *arg, void **result)
{
    struct idle_run *r = arg;
    corio_server *srv;
    corio_server_opts so;
    corio_task_opts to;
    int rc;
    (void)result;
    memset(&so, 0, sizeof so);
    memset(&to, 0, sizeof to);
    to.flags = r->lean ? CORIO_CORO_LEAN : 0;
    so.task = &to;
    so.quiet = 1;
    rc = corio_tcp_server("127.0.0.1", 0, NULL, idle_handler, r, &so, &srv);
    if (rc) {
        atomic_store(&r->port, -1);
        return rc;
    }
    atomic_store(&r->port, corio_server_port(srv));
    corio_wait_readable(r->stopfd);
    corio_server_close(srv, 0);
    corio_server_wait(srv);
    corio_server_free(srv);
    return 0;
}

static void *idle_thread(void *arg)
{
    struct idle_run *r = arg;
    if (corio_run(idle_main, r, NULL) != 0)
        atomic_store(&r->port, -1);
    return NULL;
}

/* Bytes per idle connection, or -1. */
static double one_row(int lean, int n)
{
    struct idle_run r;
    pthread_t th;
    struct sockaddr_in a;
    int *fds, i, made = 0, port;
    long rss0, rss1;
    uint64_t one = 1;
    double per = -1;
    memset(&r, 0, sizeof r);
    r.lean = lean;
    r.stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    fds = calloc((size_t)n, sizeof *fds);
    if (!fds || r.stopfd < 0)
        return -1;
    pthread_create(&th, NULL, idle_thread, &r);
    while ((port = atomic_load(&r.port)) == 0)
        usleep(1000);
    if (port > 0) {
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        usleep(20000); /* let the server settle into its first wait */
        rss0 = rss_bytes();
        for (made = 0; made < n; made++) {
            fds[made] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fds[made] < 0 ||
                connect(fds[made], (struct sockaddr *)&a, sizeof a) < 0)
                break;
        }
        for (i = 0; i < 10000 && atomic_load(&r.waiting) < made; i++)
            usleep(1000);
        rss1 = rss_bytes();
        if (made == n && atomic_load(&r.waiting) == n && rss0 > 0)
            per = (double)(rss1 - rss0) / n;
    }
    for (i = 0; i < made; i++)
        close(fds[i]);
    (void)!write(r.stopfd, &one, sizeof one);
    pthread_join(th, NULL);
    close(r.stopfd);
    free(fds);
    return per;
}

static int idle_run(const bench_opts *opts)
{
    struct rlimit rl;
    int n = opts->quick ? 100 : 10000, failed = 0;
    double d, l;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if ((rlim_t)(2 * n + 64) > rl.rlim_cur)
            n = (int)((rl.rlim_cur - 64) / 2);
    }
    printf("idle: memory per idle connection (corio_server, a handler "
           "waiting in read_line), %d connections\n", n);
    printf("%-34s %14s\n", "connection tasks", "bytes/conn");
    d = one_row(0, n);
    l = one_row(1, n);
    if (d < 0 || l < 0)
        failed = 1;
    printf("%-34s %14.0f\n", "default (own stack)", d);
    printf("%-34s %14.0f\n", "lean (CORIO_CORO_LEAN)", l);
    printf("\n");
    return failed ? -1 : 0;
}

const bench_suite bench_suite_idle = {
    "idle", "memory per idle server connection, default and lean tasks",
    idle_run};
