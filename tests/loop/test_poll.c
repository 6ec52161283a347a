/*
 * test_poll.c: the poller backends (src/poll/) against their contract in
 * poll.h: readiness of pipes and socketpairs, timeouts, EINTR retried,
 * tokens, hangups, unwatch, edge- against level-triggered. Every case runs
 * on each backend in turn, and where they differ on purpose the case
 * asserts each one's documented behaviour. *
 * Timing checks are lower bounds only ("never early"); upper bounds are
 * loose, so a loaded machine or Valgrind cannot fail them.
 * Descriptor reuse and the rest are in test_poll_fds.c; the helpers both
 * use in poll_helpers.h.
 */

#include "loop/poll/poll.h"
#include "test.h"
#include "poll_helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Data written into a pipe makes its read end readable, with its token. */
TEST(poll_pipe_readable_after_write)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[8];
        int fds[2], n;
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[0], IN, 7), 0);
        put(fds[1], "x");
        n = wait_ev(ops, p, 1000 * MS, ev, 8);
        CHECK_EQ(n, 1);
        CHECK(ev[0].token == 7);
        CHECK(ev[0].events & IN);
        CHECK(!(ev[0].events & ERR));
        ops->close(p);
        close2(fds);
    }
}

/* An empty pipe's write end is writable at once. */
TEST(poll_pipe_writable_initially)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[8];
        int fds[2], n;
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[1], OUT, 9), 0);
        n = wait_ev(ops, p, 0, ev, 8);
        CHECK_EQ(n, 1);
        CHECK(ev[0].token == 9);
        CHECK_EQ(ev[0].events, OUT);
        ops->close(p);
        close2(fds);
    }
}

/* An empty pipe's read end is not ready: a look (timeout 0) finds nothing
 * and comes back (a look that waited would wait for ever here: the
 * runner's timeout, not a clock in the test, catches that). */
TEST(poll_empty_not_readable)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[8];
        int fds[2];
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[0], IN, 1), 0);
        CHECK_EQ(wait_ev(ops, p, 0, ev, 8), 0);
        /* An empty poller too. */
        CHECK_EQ(ops->unwatch(p, fds[0]), 0);
        CHECK_EQ(wait_ev(ops, p, 0, ev, 8), 0);
        ops->close(p);
        close2(fds);
    }
}

/* Timeouts are never early, for whole and fractional milliseconds and
 * with nothing watched at all; the time measured by CLOCK_MONOTONIC. (How
 * late they may be is not for a test on a shared machine to say.) */
static void check_timeouts(const corio__poller_ops *ops)
{
    static const int64_t t[] = {20 * MS, 1500000, 1, 999999, 3 * MS + 1};
    corio__poller *p = open_poller(ops);
    corio__poll_event ev[4];
    int fds[2];
    size_t i;
    make_pipe(fds);
    CHECK_EQ(ops->watch(p, fds[0], IN, 1), 0);
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t t0 = now_ns(), dt;
        CHECK_EQ(wait_ev(ops, p, t[i], ev, 4), 0);
        dt = now_ns() - t0;
        CHECK_INT(dt, >=, t[i]);
    }
    CHECK_EQ(ops->unwatch(p, fds[0]), 0);
    {
        int64_t t0 = now_ns();
        CHECK_EQ(wait_ev(ops, p, 20 * MS, ev, 4), 0);
        CHECK_INT(now_ns() - t0, >=, 20 * MS);
    }
    ops->close(p);
    close2(fds);
}

TEST(poll_timeout_not_early)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    check_timeouts(ops);
}

/* Without epoll_pwait2 (a seccomp filter makes it fail with ENOSYS, as on
 * kernels before 5.11, or EPERM, as some container filters do), the epoll
 * backend falls back to epoll_wait with millisecond timeouts rounded up:
 * still never early, and events still arrive. Runs in a child, since a
 * filter cannot be removed; skipped where seccomp is unavailable. */
static void no_pwait2_child(void *arg)
{
#ifdef SYS_epoll_pwait2
    int err = *(int *)arg;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_pwait2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    const corio__poller_ops *ops = &corio__poll_epoll;
    corio__poller *p;
    corio__poll_event ev[4];
    int fds[2];
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        corio_test_skip("no seccomp");
    }
    /* The filter works: the call the backend prefers now fails. (Valgrind
     * 3.19 does not know the call and fails it with ENOSYS itself.) */
    CHECK_EQ(syscall(SYS_epoll_pwait2, -1, NULL, 0, NULL, NULL, 0), -1);
    CHECK(errno == err || (corio_test_under_valgrind() && errno == ENOSYS));
    check_timeouts(ops);
    p = open_poller(ops);
    make_pipe(fds);
    CHECK_EQ(ops->watch(p, fds[0], IN, 5), 0);
    put(fds[1], "x");
    CHECK_EQ(wait_ev(ops, p, -1, ev, 4), 1);
    CHECK(ev[0].token == 5);
    ops->close(p);
    close2(fds);
#else
    (void)arg;
    corio_test_skip("no SYS_epoll_pwait2 in these headers");
#endif
}

TEST(poll_epoll_without_pwait2)
{
    static int errs[] = {ENOSYS, EPERM};
    size_t i;
    for (i = 0; i < 2; i++) {
        char *err = NULL;
        int st = corio_test_fork(no_pwait2_child, &errs[i], &err);
        if (err && *err)
            printf("  child (%s): %s", strerror(errs[i]), err);
        if (WIFEXITED(st) && WEXITSTATUS(st) == CORIO_TEST_SKIP_CODE) {
            free(err);
            corio_test_skip("the child could not filter epoll_pwait2");
        }
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        free(err);
    }
}

/* A helper thread that keeps sending SIGUSR1 to the main thread (every
 * 2 ms) and, if asked, writes a byte into a pipe after a delay. */
struct kicker {
    pthread_t target;
    atomic_int stop;
    int write_fd, write_after_ms;
};

static volatile sig_atomic_t sigs;

static void on_usr1(int sig)
{
    (void)sig;
    sigs++;
}

static void *kick(void *arg)
{
    struct kicker *k = arg;
    int64_t t0 = now_ns();
    int written = 0;
    while (!atomic_load(&k->stop)) {
        sleep_ms(2);
        pthread_kill(k->target, SIGUSR1);
        if (k->write_fd >= 0 && !written &&
            now_ns() - t0 >= k->write_after_ms * MS) {
            CHECK_EQ(write(k->write_fd, "k", 1), 1);
            written = 1;
        }
    }
    return NULL;
}

/* Signals interrupting a wait are absorbed: a timed wait still lasts its
 * full time (the remainder is recomputed, so the interruptions neither cut
 * it short nor stretch it without end: a wait that restarted its whole
 * timeout at every signal would never end, and the runner's timeout says
 * so), and a wait without timeout still returns the event that ends it,
 * never -EINTR. The kicker thread may not get a CPU in time for a given
 * wait on a loaded machine: the timed wait is repeated until signals came
 * in during one. */
TEST(poll_eintr_retried)
{
    const corio__poller_ops *ops;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART: calls fail with EINTR */
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, &old), 0);
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        struct kicker k;
        pthread_t th;
        int fds[2], n, s0;
        int64_t t0, dt;
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[0], IN, 3), 0);

        k.target = pthread_self();
        atomic_init(&k.stop, 0);
        k.write_fd = -1;
        k.write_after_ms = 0;
        sigs = 0;
        CHECK_EQ(pthread_create(&th, NULL, kick, &k), 0);
        do {
            s0 = sigs;
            t0 = now_ns();
            CHECK_EQ(wait_ev(ops, p, 60 * MS, ev, 4), 0);
            dt = now_ns() - t0;
            printf("  60 ms wait: %.1f ms, %d signals\n", dt / 1e6,
                   (int)(sigs - s0));
            CHECK_INT(dt, >=, 60 * MS);
        } while (sigs == s0);
        atomic_store(&k.stop, 1);
        pthread_join(th, NULL);

        atomic_store(&k.stop, 0);
        k.write_fd = fds[1];
        k.write_after_ms = 50;
        sigs = 0;
        CHECK_EQ(pthread_create(&th, NULL, kick, &k), 0);
        n = wait_ev(ops, p, -1, ev, 4);
        atomic_store(&k.stop, 1);
        pthread_join(th, NULL);
        CHECK_EQ(n, 1);
        CHECK(ev[0].token == 3 && (ev[0].events & IN));
        ops->close(p);
        close2(fds);
    }
    sigaction(SIGUSR1, &old, NULL);
}

/* Tokens come back exactly as given, all 64 bits, one per fd. */
TEST(poll_token_round_trip)
{
    static const uint64_t tokens[] = {
        0, 1, UINT64_MAX, 0x8000000000000000ull, 0xdeadbeefcafef00dull,
        0x00000001ffffffffull};
    enum { T = sizeof tokens / sizeof tokens[0] };
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[2 * T];
        int fds[T][2], n, i;
        for (i = 0; i < T; i++) {
            make_pipe(fds[i]);
            CHECK_EQ(ops->watch(p, fds[i][0], IN, tokens[i]), 0);
            put(fds[i][1], "t");
        }
        n = wait_ev(ops, p, 1000 * MS, ev, 2 * T);
        CHECK_EQ(n, T);
        for (i = 0; i < T; i++)
            CHECK_EQ(events_for(ev, n, tokens[i]), IN);
        ops->close(p);
        for (i = 0; i < T; i++)
            close2(fds[i]);
    }
}

/* Hang-ups: the read end of a pipe whose writer closed reports IN or ERR
 * (a read then returns 0); the write end of a pipe whose reader closed
 * reports ERR (with IN|OUT, so a blocked writer wakes and meets EPIPE). */
TEST(poll_hangup_reported)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        int a[2], b[2], n;
        unsigned e;
        make_pipe(a);
        make_pipe(b);
        CHECK_EQ(ops->watch(p, a[0], IN, 10), 0);
        CHECK_EQ(ops->watch(p, b[1], OUT, 20), 0);
        n = wait_ev(ops, p, 0, ev, 4); /* b[1] is writable: take that */
        CHECK_EQ(events_for(ev, n, 10), 0);
        close(a[1]);
        close(b[0]);
        n = wait_ev(ops, p, 1000 * MS, ev, 4);
        e = events_for(ev, n, 10);
        CHECK(e & (IN | ERR));
        e = events_for(ev, n, 20);
        CHECK(e & ERR);
        ops->close(p);
        close(a[0]);
        close(b[1]);
    }
}

/* A socketpair, each end watched for both directions: writable at first;
 * data written at one end makes the other readable, both ways. */
TEST(poll_socketpair_both_directions)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[8];
        int s[2], n;
        make_socketpair(s);
        CHECK_EQ(ops->watch(p, s[0], IN | OUT, 100), 0);
        CHECK_EQ(ops->watch(p, s[1], IN | OUT, 200), 0);
        n = wait_ev(ops, p, 1000 * MS, ev, 8);
        CHECK_EQ(n, 2);
        CHECK_EQ(events_for(ev, n, 100), OUT);
        CHECK_EQ(events_for(ev, n, 200), OUT);

        put(s[0], "ping");
        n = wait_ev(ops, p, 1000 * MS, ev, 8);
        CHECK(events_for(ev, n, 200) & IN);
        CHECK(!(events_for(ev, n, 100) & IN));
        drain(s[1]);

        put(s[1], "pong");
        n = wait_ev(ops, p, 1000 * MS, ev, 8);
        CHECK(events_for(ev, n, 100) & IN);
        CHECK(!(events_for(ev, n, 200) & IN));
        drain(s[0]);
        ops->close(p);
        close2(s);
    }
}

/* After unwatch, pending and new readiness of the fd is not reported;
 * unwatching what is not watched gives -ENOENT. */
TEST(poll_unwatch_stops_events)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        int fds[2], other[2];
        make_pipe(fds);
        make_pipe(other);
        CHECK_EQ(ops->watch(p, fds[0], IN, 1), 0);
        CHECK_EQ(ops->watch(p, other[0], IN, 2), 0);
        put(fds[1], "a"); /* ready, not yet collected */
        CHECK_EQ(ops->unwatch(p, fds[0]), 0);
        CHECK_EQ(wait_ev(ops, p, 20 * MS, ev, 4), 0);
        put(fds[1], "b");
        CHECK_EQ(wait_ev(ops, p, 20 * MS, ev, 4), 0);
        /* The other fd is unaffected (poll moved it in its array). */
        put(other[1], "c");
        CHECK_EQ(wait_ev(ops, p, 1000 * MS, ev, 4), 1);
        CHECK(ev[0].token == 2);

        CHECK_EQ(ops->unwatch(p, fds[0]), -ENOENT);
        CHECK_EQ(ops->unwatch(p, fds[1]), -ENOENT);
        CHECK_EQ(ops->unwatch(p, -1), -ENOENT);
        CHECK_EQ(ops->unwatch(p, 100000), -ENOENT);
        ops->close(p);
        close2(fds);
        close2(other);
    }
}

/* The documented difference: epoll reports a readiness once (a second
 * look with no new data finds nothing), poll reports it at every wait as
 * long as it lasts and the interest is set. Both stop once drained. */
TEST(poll_edge_vs_level)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        int fds[2];
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[0], IN, 1), 0);
        put(fds[1], "x");
        CHECK_EQ(wait_ev(ops, p, 1000 * MS, ev, 4), 1);
        if (ops->edge) {
            CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 0);
            CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 0);
            put(fds[1], "y"); /* new data: a new edge */
            CHECK_EQ(wait_ev(ops, p, 1000 * MS, ev, 4), 1);
        } else {
            CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 1);
            CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 1);
            CHECK(ev[0].token == 1 && ev[0].events == IN);
        }
        drain(fds[0]);
        CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 0);
        ops->close(p);
        close2(fds);
    }
}

/* A descriptor watched for input only is not reported for output: an
 * eventfd drained by a read (which makes it "more writable") stays
 * quiet, so the loop's wake eventfd does not wake the next wait for
 * nothing. Asking later for output as well widens the watch, and the
 * socket, writable from the start, is reported at once. */
TEST(poll_input_only_interest_kept)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        uint64_t one = 1, v;
        int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), sv[2];
        CHECK(efd >= 0);
        CHECK_EQ(ops->watch(p, efd, IN, 3), 0);
        CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 0);
        CHECK_EQ(write(efd, &one, sizeof one), (ssize_t)sizeof one);
        CHECK_EQ(wait_ev(ops, p, 1000 * MS, ev, 4), 1);
        CHECK(ev[0].token == 3 && ev[0].events == IN);
        CHECK_EQ(read(efd, &v, sizeof v), (ssize_t)sizeof v);
        CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 0);
        ops->close(p);
        close(efd);

        p = open_poller(ops);
        CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        CHECK_EQ(ops->watch(p, sv[0], IN, 4), 0);
        CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 0);
        CHECK_EQ(ops->watch(p, sv[0], IN | OUT, 4), 0);
        CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 1);
        CHECK(ev[0].token == 4 && ev[0].events == OUT);
        ops->close(p);
        close2(sv);
    }
}
