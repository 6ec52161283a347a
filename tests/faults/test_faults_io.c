/*
 * test_faults_io.c: descriptor faults found from outside (issue 10): a
 * huge invalid descriptor must not grow the loop's tables, a number
 * reused after a raw close(2) must work on both pollers (and a debug
 * build names the task whose descriptor was closed behind its back), and
 * corio_accept out of descriptors must never spin. Every case runs on
 * epoll and, as NAME@poll, on poll.
 */
#include "io_tasks.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* ---- a huge invalid descriptor ------------------------------------------------------ */

static long maxrss_kib(void)
{
    struct rusage ru;
    CHECK_EQ(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

static int huge_fd_main(void *arg, void **result)
{
    long before = maxrss_kib();
    (void)arg;
    (void)result;
    CHECK_EQ(corio_wait_readable(8000000), -EBADF);
    CHECK_EQ(corio_wait_writable(50000000), -EBADF);
    CHECK_EQ(corio_wait_readable(1 << 30), -EBADF);
    CHECK_EQ(corio_wait_writable(INT_MAX), -EBADF);
    CHECK_EQ(corio_read(1 << 30, NULL, 0), -EBADF);
    /* The table for fd 8,000,000 alone would be 190 MiB. */
    CHECK_INT(maxrss_kib() - before, <, 64 * 1024);
    return 0;
}

TEST(io_wait_huge_invalid_fd_is_ebadf)
{
    run_main(huge_fd_main, NULL);
}

/* ---- a number reused after close(2) -------------------------------------------------- */

/* Park a reader on a pipe, let it read, then close the pipe with close(2)
 * (the caller's error, but a correct program may follow it), make a new
 * pipe that takes the same numbers, and wait on it: its data must be
 * reported. */
static int reuse_main(void *arg, void **result)
{
    struct reading r;
    corio_task *t;
    int p[2], q[2];
    (void)arg;
    (void)result;
    make_pipe(p);
    memset(&r, 0, sizeof r);
    r.fd = p[0];
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0); /* it parks: the pipe is registered */
    CHECK_EQ(write(p[1], "a", 1), 1);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(r.rc, 1);

    close(p[0]); /* behind the loop's back */
    close(p[1]);
    make_pipe(q);
    CHECK_EQ(q[0], p[0]);
    CHECK_EQ(q[1], p[1]);

    memset(&r, 0, sizeof r);
    r.fd = q[0];
    CHECK_EQ(corio_spawn(read_once, &r, NULL, &t), 0);
    CHECK_EQ(corio_sleep(0), 0); /* parks on the new pipe */
    CHECK_EQ(write(q[1], "bc", 2), 2);
    /* Before the fix, epoll never reported the new pipe: the bound only
     * turns that hang into a failure. */
    CHECK_EQ(corio_wait_for(corio_task_future(t), 30.0, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(r.rc, 2);
    CHECK_EQ(corio_fd_close(q[0]), 0);
    CHECK_EQ(corio_fd_close(q[1]), 0);
    return 0;
}

TEST(io_raw_close_reused_number_reported)
{
    run_main(reuse_main, NULL);
}

/* In debug mode, the waited descriptor closed behind corio's back is
 * reported. poll finds it at once (POLLNVAL) and names the waiter; epoll
 * never hears of it, and finds it when the number is waited on again,
 * naming the task that found it. */
static int debug_main(void *arg, void **result)
{
    struct reading r, r2;
    corio_task *t, *t2;
    corio_task_opts o;
    int p[2], q[2];
    (void)arg;
    (void)result;
    make_pipe(p);
    memset(&r, 0, sizeof r);
    r.fd = p[0];
    memset(&o, 0, sizeof o);
    o.name = "victim";
    CHECK_EQ(corio_spawn(read_once, &r, &o, &t), 0);
    CHECK_EQ(corio_sleep(0), 0); /* parks on p[0] */
    close(p[0]);
    close(p[1]);
    CHECK_EQ(corio_sleep(0.001), 0); /* the loop polls */
    corio_task_cancel(t); /* epoll: it still waits */
    (void)corio_task_join(t, NULL);
    corio_task_release(t);

    make_pipe(q);
    CHECK_EQ(q[0], p[0]);
    memset(&r2, 0, sizeof r2);
    r2.fd = q[0];
    o.name = "finder";
    CHECK_EQ(corio_spawn(read_once, &r2, &o, &t2), 0);
    CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(write(q[1], "x", 1), 1);
    CHECK_EQ(corio_wait_for(corio_task_future(t2), 30.0, NULL), 0);
    corio_task_release(t2);
    CHECK_EQ(r2.rc, 1);
    CHECK_EQ(corio_fd_close(q[0]), 0);
    CHECK_EQ(corio_fd_close(q[1]), 0);
    return 0;
}

static void debug_child(void *arg)
{
    (void)arg;
    setenv("CORIO_DEBUG", "1", 1);
    run_main(debug_main, NULL);
}

TEST(io_raw_close_reported_in_debug)
{
    char *err = NULL;
    const char *backend = getenv("CORIO_BACKEND");
    int st = corio_test_fork(debug_child, NULL, &err);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        corio_test_fail(__FILE__, __LINE__, "child failed (%d):\n%s", st,
                        err ? err : "");
    CHECK_STR_HAS(err, "was closed with close(2), not corio_fd_close");
    if (backend && strcmp(backend, "poll") == 0)
        CHECK_STR_HAS(err, "task 'victim' waits to read it");
    else
        CHECK_STR_HAS(err, "found by task 'finder'");
    free(err);
}

/* ---- corio_accept out of descriptors ------------------------------------------------ */

#define QUEUED 3

struct acceptor {
    int lfd;
    int attempts; /* corio_accept calls that returned -EMFILE */
    int rc;       /* the last call's answer */
};

/* The retrying loop of a careless server: bounded only so that a spin
 * ends in a failed check instead of a hang. */
static int accept_retry(void *arg, void **result)
{
    struct acceptor *a = arg;
    (void)result;
    while (a->attempts < 1000) {
        a->rc = corio_accept(a->lfd, NULL, NULL);
        if (a->rc != -EMFILE && a->rc != -ENFILE)
            break;
        a->attempts++;
    }
    return 0;
}

static int emfile_main(void *arg, void **result)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    struct acceptor a;
    struct rlimit lim;
    corio_task *t;
    int lfd, c[QUEUED + 1], fd, extra[64], nextra = 0, i;
    (void)arg;
    (void)result;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(lfd >= 0);
    CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_EQ(listen(lfd, 16), 0);
    CHECK_EQ(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    for (i = 0; i <= QUEUED; i++) { /* blocking connects: they queue */
        c[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(c[i] >= 0);
        CHECK_EQ(connect(c[i], (struct sockaddr *)&sa, sizeof sa), 0);
    }
    /* One accepted while descriptors are there. */
    fd = corio_accept(lfd, NULL, NULL);
    CHECK(fd >= 0);
    CHECK_EQ(corio_fd_close(fd), 0);
    /* Then none left: the limit just above what is open, the rest taken. */
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
    lim.rlim_cur = (rlim_t)corio_test_count_fds() + 8;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
    while (nextra < 64 && (fd = dup(lfd)) >= 0)
        extra[nextra++] = fd;
    CHECK_EQ(errno, EMFILE);

    memset(&a, 0, sizeof a);
    a.lfd = lfd;
    CHECK_EQ(corio_spawn(accept_retry, &a, NULL, &t), 0);
    /* Give it many turns: it may use one per queued connection, then it
     * must wait for the next one. */
    for (i = 0; i < 50; i++)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_INT(a.attempts, <=, QUEUED);
    CHECK(!corio_task_done(t));
    corio_task_cancel(t);
    (void)corio_task_join(t, NULL);
    corio_task_release(t);
    CHECK_EQ(a.rc, -ECANCELED);

    for (i = 0; i < nextra; i++)
        close(extra[i]);
    for (i = 0; i <= QUEUED; i++)
        close(c[i]);
    CHECK_EQ(corio_fd_close(lfd), 0);
    return 0;
}

static void emfile_child(void *arg)
{
    (void)arg;
    run_main(emfile_main, NULL);
}

TEST(io_accept_emfile_does_not_spin)
{
    char *err = NULL;
    int st = corio_test_fork(emfile_child, NULL, &err);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        corio_test_fail(__FILE__, __LINE__, "child failed (%d):\n%s", st,
                        err ? err : "");
    free(err);
}
