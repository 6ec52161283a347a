/*
 * test_poll.c: the poller backends (src/poll/) against their contract in
 * poll.h. Every case runs on each backend in turn, and where they differ
 * on purpose (edge- against level-triggered, regular files, closed fds)
 * the case asserts each one's documented behaviour.
 *
 * Timing checks are lower bounds only ("never early"); upper bounds are
 * loose, so a loaded machine or Valgrind cannot fail them.
 */
#include "poll/poll.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IN CORIO__POLL_IN
#define OUT CORIO__POLL_OUT
#define ERR CORIO__POLL_ERR
#define MS 1000000LL

static const corio__poller_ops *const backends[] = {&corio__poll_epoll,
                                                    &corio__poll_poll};

/* for (ops in backends), announcing each on stdout */
#define EACH_BACKEND(ops)                                                  \
    for (size_t be_ = 0;                                                   \
         be_ < 2 && ((ops) = backends[be_], printf("  [%s]\n",             \
                                                   (ops)->name), 1);       \
         be_++)

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static corio__poller *open_poller(const corio__poller_ops *ops)
{
    corio__poller *p = NULL;
    CHECK_EQ(ops->open(&p), 0);
    CHECK(p != NULL);
    return p;
}

static void make_pipe(int fds[2])
{
    CHECK_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static void make_socketpair(int fds[2])
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        0, fds),
             0);
}

static void close2(const int fds[2])
{
    close(fds[0]);
    close(fds[1]);
}

static void put(int fd, const char *s)
{
    CHECK_EQ(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void drain(int fd)
{
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

/* Events reported for token among n (ORed), or 0. */
static unsigned events_for(const corio__poll_event *ev, int n, uint64_t token)
{
    unsigned e = 0;
    int i;
    for (i = 0; i < n; i++)
        if (ev[i].token == token)
            e |= ev[i].events;
    return e;
}

/* Each event's bits are a subset of IN|OUT|ERR, never 0, and ERR comes
 * with both IN and OUT. */
static void check_shape(const corio__poll_event *ev, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        CHECK(ev[i].events != 0);
        CHECK((ev[i].events & ~(IN | OUT | ERR)) == 0);
        if (ev[i].events & ERR)
            CHECK((ev[i].events & (IN | OUT)) == (IN | OUT));
    }
}

static int wait_ev(const corio__poller_ops *ops, corio__poller *p,
                   int64_t timeout_ns, corio__poll_event *ev, int max)
{
    int n = ops->wait(p, timeout_ns, ev, max);
    CHECK(n >= 0);
    CHECK(n <= max);
    check_shape(ev, n);
    return n;
}

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
 * and comes back at once. */
TEST(poll_empty_not_readable)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[8];
        int fds[2];
        int64_t t0;
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[0], IN, 1), 0);
        t0 = now_ns();
        CHECK_EQ(wait_ev(ops, p, 0, ev, 8), 0);
        CHECK_INT(now_ns() - t0, <, 500 * MS);
        /* An empty poller too. */
        CHECK_EQ(ops->unwatch(p, fds[0]), 0);
        CHECK_EQ(wait_ev(ops, p, 0, ev, 8), 0);
        ops->close(p);
        close2(fds);
    }
}

/* Timeouts are never early, for whole and fractional milliseconds and
 * with nothing watched at all; the time measured by CLOCK_MONOTONIC. */
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
        CHECK_INT(dt, <, t[i] + 2000 * MS);
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
        fprintf(stderr, "skipped: no seccomp (%s)\n", strerror(errno));
        return;
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
    fprintf(stderr, "skipped: no SYS_epoll_pwait2 in these headers\n");
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
 * it short nor stretch it without end), and a wait without timeout still
 * returns the event that ends it, never -EINTR. */
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
        int fds[2], n;
        int64_t t0, dt;
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[0], IN, 3), 0);

        k.target = pthread_self();
        atomic_init(&k.stop, 0);
        k.write_fd = -1;
        k.write_after_ms = 0;
        sigs = 0;
        CHECK_EQ(pthread_create(&th, NULL, kick, &k), 0);
        t0 = now_ns();
        CHECK_EQ(wait_ev(ops, p, 60 * MS, ev, 4), 0);
        dt = now_ns() - t0;
        atomic_store(&k.stop, 1);
        pthread_join(th, NULL);
        printf("  60 ms wait: %.1f ms, %d signals\n", dt / 1e6, (int)sigs);
        CHECK_INT(dt, >=, 60 * MS);
        CHECK_INT(dt, <, 3000 * MS);
        CHECK(sigs > 0);

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

/* Put a new pipe's read end on the number `num` (dup2 if the kernel gave
 * another); returns the write end. */
static int pipe_at(int num)
{
    int fds[2];
    make_pipe(fds);
    if (fds[0] != num) {
        CHECK_EQ(dup2(fds[0], num), num);
        close(fds[0]);
    }
    return fds[1];
}

/* fd number reuse, by the rule: watch A with t1, unwatch, close; a new fd
 * with the same number watched with t2 reports under t2 only, even though
 * A had data pending when it went. */
TEST(poll_fd_reuse_after_unwatch)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        int fds[2], w2, num, n;
        make_pipe(fds);
        num = fds[0];
        CHECK_EQ(ops->watch(p, num, IN, 0x1001), 0);
        put(fds[1], "old");
        CHECK_EQ(ops->unwatch(p, num), 0);
        close2(fds);
        w2 = pipe_at(num);
        CHECK_EQ(ops->watch(p, num, IN, 0x2002), 0);
        CHECK_EQ(wait_ev(ops, p, 20 * MS, ev, 4), 0);
        put(w2, "new");
        n = wait_ev(ops, p, 1000 * MS, ev, 4);
        CHECK_EQ(n, 1);
        CHECK(ev[0].token == 0x2002);
        ops->close(p);
        close(num);
        close(w2);
    }
}

/* fd number reuse against the rule: A closed without unwatch (the kernel
 * drops epoll's entry with the last descriptor), a new fd on the number
 * watched with t2: the backend re-registers (epoll: MOD fails with
 * ENOENT, then ADD) and reports under t2 only. */
TEST(poll_fd_reuse_without_unwatch)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        int fds[2], w2, num, n;
        make_pipe(fds);
        num = fds[0];
        CHECK_EQ(ops->watch(p, num, IN, 0x1001), 0);
        close2(fds);
        w2 = pipe_at(num);
        CHECK_EQ(ops->watch(p, num, IN, 0x2002), 0);
        put(w2, "new");
        n = wait_ev(ops, p, 1000 * MS, ev, 4);
        CHECK_EQ(n, 1);
        CHECK(ev[0].token == 0x2002);
        CHECK_EQ(ops->unwatch(p, num), 0);
        CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 0);
        ops->close(p);
        close(num);
        close(w2);
    }
}

/* A stale epoll entry (A closed without unwatch while a dup kept its
 * description, then unwatched: DEL cannot reach it) met again when the
 * description is dup2'd back onto A's number: ADD fails with EEXIST and
 * the backend switches to MOD, so events come under the new token only. */
TEST(poll_stale_entry_readded)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        int fds[2], d, n;
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[0], IN, 0x1001), 0);
        d = dup(fds[0]);
        CHECK(d >= 0);
        close(fds[0]);
        CHECK_EQ(ops->unwatch(p, fds[0]), 0); /* forgotten, if not gone */
        CHECK_EQ(dup2(d, fds[0]), fds[0]);
        CHECK_EQ(ops->watch(p, fds[0], IN, 0x2002), 0);
        put(fds[1], "x");
        n = wait_ev(ops, p, 1000 * MS, ev, 4);
        CHECK_EQ(n, 1);
        CHECK(ev[0].token == 0x2002);
        CHECK_EQ(ops->unwatch(p, fds[0]), 0);
        ops->close(p);
        close(d);
        close2(fds);
    }
}

/* A new token for a watched fd (no unwatch) takes effect at once; for
 * epoll the same token again costs nothing: no MOD, so the edge already
 * reported does not come back, while a new token (a MOD) re-reports the
 * current readiness. */
TEST(poll_token_change)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        int s[2], n;
        make_socketpair(s);
        CHECK_EQ(ops->watch(p, s[0], OUT, 1), 0);
        n = wait_ev(ops, p, 0, ev, 4);
        CHECK_EQ(n, 1);
        CHECK(ev[0].token == 1 && ev[0].events == OUT);
        CHECK_EQ(ops->watch(p, s[0], OUT, 1), 0);
        n = wait_ev(ops, p, 0, ev, 4);
        CHECK_EQ(n, ops->edge ? 0 : 1);
        CHECK_EQ(ops->watch(p, s[0], OUT, 2), 0);
        n = wait_ev(ops, p, 0, ev, 4);
        CHECK_EQ(n, 1);
        CHECK(ev[0].token == 2 && ev[0].events == OUT);
        ops->close(p);
        close2(s);
    }
}

/* Interest: poll reports only what the loop asked for and nothing for
 * interest 0 (not even with data waiting); epoll registers in and out
 * together whatever the interest says. */
TEST(poll_interest)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        int s[2], n;
        make_socketpair(s);
        CHECK_EQ(ops->watch(p, s[0], IN, 1), 0); /* writable, not readable */
        n = wait_ev(ops, p, 0, ev, 4);
        if (ops->edge) {
            CHECK_EQ(n, 1);
            CHECK_EQ(ev[0].events, OUT);
        } else {
            CHECK_EQ(n, 0);
        }
        CHECK_EQ(ops->watch(p, s[0], 0, 1), 0);
        put(s[1], "data");
        n = wait_ev(ops, p, ops->edge ? 1000 * MS : 20 * MS, ev, 4);
        if (ops->edge) {
            CHECK_EQ(n, 1);
            CHECK(ev[0].events & IN);
        } else {
            CHECK_EQ(n, 0);
        }
        CHECK_EQ(ops->watch(p, s[0], IN, 1), 0);
        n = wait_ev(ops, p, 0, ev, 4);
        CHECK_EQ(n, ops->edge ? 0 : 1);
        if (n)
            CHECK_EQ(ev[0].events, IN);
        CHECK_EQ(ops->watch(p, s[0], IN | OUT, 1), 0);
        n = wait_ev(ops, p, 0, ev, 4);
        CHECK_EQ(n, ops->edge ? 0 : 1);
        if (n)
            CHECK_EQ(ev[0].events, IN | OUT);
        ops->close(p);
        close2(s);
    }
}

/* Regular files: epoll refuses them (-EPERM) and keeps nothing; poll
 * accepts them and reports them always ready. */
TEST(poll_regular_file)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        char path[] = "/tmp/corio_poll_XXXXXX";
        int fd = mkstemp(path), n;
        CHECK(fd >= 0);
        unlink(path);
        if (ops->edge) {
            CHECK_EQ(ops->watch(p, fd, IN | OUT, 1), -EPERM);
            CHECK_EQ(ops->unwatch(p, fd), -ENOENT);
            CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 0);
        } else {
            CHECK_EQ(ops->watch(p, fd, IN | OUT, 1), 0);
            n = wait_ev(ops, p, 0, ev, 4);
            CHECK_EQ(n, 1);
            CHECK_EQ(ev[0].events, IN | OUT);
            CHECK_EQ(ops->unwatch(p, fd), 0);
        }
        ops->close(p);
        close(fd);
    }
}

/* Bad arguments: a negative or closed fd is -EBADF, unknown interest bits
 * -EINVAL, room for fewer than one event -EINVAL; nothing is kept. */
TEST(poll_bad_arguments)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[1];
        int fds[2], closed;
        make_pipe(fds);
        closed = fds[0];
        close(fds[0]);
        CHECK_EQ(ops->watch(p, -1, IN, 1), -EBADF);
        CHECK_EQ(ops->watch(p, closed, IN, 1), -EBADF);
        CHECK_EQ(ops->unwatch(p, closed), -ENOENT);
        CHECK_EQ(ops->watch(p, fds[1], 0x80, 1), -EINVAL);
        CHECK_EQ(ops->watch(p, fds[1], ERR, 1), -EINVAL);
        CHECK_EQ(ops->unwatch(p, fds[1]), -ENOENT);
        CHECK_EQ(ops->wait(p, 0, ev, 0), -EINVAL);
        CHECK_EQ(ops->wait(p, 0, ev, -5), -EINVAL);
        ops->close(p);
        close(fds[1]);
    }
}

/* Raise the soft fd limit toward `want`; returns the limit in effect. */
static long fd_limit(long want)
{
    struct rlimit rl;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if ((long)rl.rlim_cur < want && rl.rlim_max != rl.rlim_cur) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max > want
                          ? (rlim_t)want
                          : rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl); /* Valgrind may refuse */
        CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    return (long)rl.rlim_cur;
}

/* 1,000 pipes (fewer if the fd limit is lower), every 7th written: exactly
 * those are reported, each once. Then with room for only 16 events a
 * wait, the ready ones all come out over successive waits, none twice
 * before all have had a turn: for poll that needs its scan to resume
 * where the last wait stopped. */
TEST(poll_many_fds)
{
    enum { P = 1000, MAXEV = 2 * P };
    const corio__poller_ops *ops;
    static int fds[P][2];
    static corio__poll_event ev[MAXEV];
    static int seen[P];
    long lim = fd_limit(2 * P + 64);
    int np = lim >= 2 * P + 64 ? P : (int)(lim - 64) / 2, i, n, want = 0;
    if (np < P)
        printf("  fd limit %ld: %d pipes\n", lim, np);
    CHECK(np > 100);
    for (i = 0; i < np; i++)
        make_pipe(fds[i]);
    for (i = 0; i < np; i += 7)
        want++;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        int total, round;
        for (i = 0; i < np; i++)
            CHECK_EQ(ops->watch(p, fds[i][0], IN, (uint64_t)i), 0);
        for (i = 0; i < np; i += 7)
            put(fds[i][1], "m");
        n = wait_ev(ops, p, 1000 * MS, ev, MAXEV);
        CHECK_EQ(n, want);
        memset(seen, 0, sizeof seen);
        for (i = 0; i < n; i++) {
            CHECK(ev[i].token < (uint64_t)np && ev[i].token % 7 == 0);
            CHECK_EQ(seen[ev[i].token]++, 0);
            CHECK_EQ(ev[i].events, IN);
        }
        for (i = 0; i < np; i += 7)
            drain(fds[i][0]);
        CHECK_EQ(wait_ev(ops, p, 0, ev, MAXEV), 0);

        /* Small batches. */
        for (i = 0; i < np; i += 7)
            put(fds[i][1], "m");
        memset(seen, 0, sizeof seen);
        total = 0;
        for (round = 0; round < (want + 15) / 16; round++) {
            /* epoll hands out each edge once; poll reports all that are
             * still ready, so its last batch wraps round to the start. */
            n = wait_ev(ops, p, 1000 * MS, ev, 16);
            CHECK_EQ(n, ops->edge && want - total < 16 ? want - total : 16);
            for (i = 0; i < n; i++) {
                CHECK(ev[i].token < (uint64_t)np && ev[i].token % 7 == 0);
                if (seen[ev[i].token]++ == 0)
                    total++;
                else
                    CHECK(!ops->edge && round == (want + 15) / 16 - 1);
            }
        }
        CHECK_EQ(total, want);
        for (i = 0; i < np; i += 7)
            drain(fds[i][0]);
        /* Unwatch every other one: the rest still report right. */
        for (i = 0; i < np; i += 2)
            CHECK_EQ(ops->unwatch(p, fds[i][0]), 0);
        for (i = 0; i < np; i++)
            put(fds[i][1], "z");
        n = wait_ev(ops, p, 1000 * MS, ev, MAXEV);
        CHECK_EQ(n, np / 2);
        for (i = 0; i < n; i++)
            CHECK(ev[i].token % 2 == 1);
        for (i = 0; i < np; i++)
            drain(fds[i][0]);
        ops->close(p);
    }
    for (i = 0; i < np; i++)
        close2(fds[i]);
}

/* reliability.md case 18, by the rule: watch A, dup it to B, unwatch A,
 * close A. Data then arriving on the shared description (readable through
 * B) is never reported: no stale event, no busy loop. */
TEST(poll_dup_unwatch_then_close)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        int fds[2], b, i, waits = 0;
        int64_t t0;
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[0], IN, 0xa), 0);
        b = dup(fds[0]);
        CHECK(b >= 0);
        CHECK_EQ(ops->unwatch(p, fds[0]), 0);
        close(fds[0]);
        put(fds[1], "data");
        t0 = now_ns();
        for (i = 0; i < 5; i++) {
            CHECK_EQ(wait_ev(ops, p, 20 * MS, ev, 4), 0);
            waits++;
        }
        /* Five quiet waits took their full time: the loop would sleep. */
        CHECK_INT(now_ns() - t0, >=, 100 * MS);
        CHECK_EQ(waits, 5);
        ops->close(p);
        close(b);
        close(fds[1]);
    }
}

/* The same against the rule (A closed without unwatch while B keeps the
 * description), to pin down what the loop must cope with. epoll: the
 * stale entry reports under A's old token once per change of readiness,
 * never continuously, and unwatch(A) still returns 0. poll: A's number is
 * closed, so every wait reports ERR (POLLNVAL) under A's token until the
 * loop unwatches it; then silence. */
TEST(poll_dup_close_without_unwatch)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        int fds[2], b, n, i;
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[0], IN, 0xa), 0);
        b = dup(fds[0]);
        CHECK(b >= 0);
        close(fds[0]);
        put(fds[1], "data");
        n = wait_ev(ops, p, 1000 * MS, ev, 4);
        CHECK_EQ(n, 1);
        CHECK(ev[0].token == 0xa);
        if (ops->edge) {
            CHECK(ev[0].events & IN);
            for (i = 0; i < 5; i++) /* no busy loop */
                CHECK_EQ(wait_ev(ops, p, 20 * MS, ev, 4), 0);
        } else {
            CHECK_EQ(ev[0].events, ERR | IN | OUT);
            CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 1); /* level: again */
        }
        CHECK_EQ(ops->unwatch(p, fds[0]), 0);
        if (!ops->edge)
            CHECK_EQ(wait_ev(ops, p, 20 * MS, ev, 4), 0);
        ops->close(p);
        close(b);
        close(fds[1]);
    }
}

/* A wait with no timeout sleeps until an event, and returns it. */
static void *write_later(void *arg)
{
    sleep_ms(30);
    CHECK_EQ(write(*(int *)arg, "w", 1), 1);
    return NULL;
}

TEST(poll_wait_forever_wakes)
{
    const corio__poller_ops *ops;
    EACH_BACKEND(ops)
    {
        corio__poller *p = open_poller(ops);
        corio__poll_event ev[4];
        pthread_t th;
        int fds[2];
        int64_t t0;
        make_pipe(fds);
        CHECK_EQ(ops->watch(p, fds[0], IN, 77), 0);
        t0 = now_ns();
        CHECK_EQ(pthread_create(&th, NULL, write_later, &fds[1]), 0);
        CHECK_EQ(wait_ev(ops, p, -1, ev, 4), 1);
        CHECK(ev[0].token == 77);
        CHECK_INT(now_ns() - t0, >=, 25 * MS);
        pthread_join(th, NULL);
        ops->close(p);
        close2(fds);
    }
}

/* Opening and closing pollers leaks no fd; epoll's own fd is close-on-exec
 * (so an exec'd child does not inherit it). */
TEST(poll_open_close_no_leak)
{
    const corio__poller_ops *ops;
    int base = corio_test_count_fds();
    EACH_BACKEND(ops)
    {
        corio__poller *ps[20];
        int i, fd, found = 0;
        for (i = 0; i < 20; i++)
            ps[i] = open_poller(ops);
        CHECK_EQ(corio_test_count_fds(), base + (ops->edge ? 20 : 0));
        for (fd = 0; fd < 4096; fd++) {
            char link[64], target[64];
            ssize_t len;
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            len = readlink(link, target, sizeof target - 1);
            if (len <= 0)
                continue;
            target[len] = 0;
            if (strstr(target, "eventpoll")) {
                CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
                found++;
            }
        }
        CHECK_EQ(found, ops->edge ? 20 : 0);
        for (i = 0; i < 20; i++)
            ops->close(ps[i]);
        CHECK_EQ(corio_test_count_fds(), base);
    }
}

/* Choosing a backend: by name, else $CORIO_BACKEND, else epoll; unknown
 * names (given or from the environment) give NULL. */
TEST(poll_find_backend)
{
    CHECK_PTR(corio__poll_find("epoll"), &corio__poll_epoll);
    CHECK_PTR(corio__poll_find("poll"), &corio__poll_poll);
    CHECK_PTR(corio__poll_find("kqueue"), NULL);
    CHECK_PTR(corio__poll_find(""), NULL);
    CHECK_PTR(corio__poll_find("EPOLL"), NULL);
    unsetenv("CORIO_BACKEND");
    CHECK_PTR(corio__poll_find(NULL), &corio__poll_epoll);
    setenv("CORIO_BACKEND", "poll", 1);
    CHECK_PTR(corio__poll_find(NULL), &corio__poll_poll);
    CHECK_PTR(corio__poll_find("epoll"), &corio__poll_epoll); /* name wins */
    setenv("CORIO_BACKEND", "", 1);
    CHECK_PTR(corio__poll_find(NULL), &corio__poll_epoll);
    setenv("CORIO_BACKEND", "bogus", 1);
    CHECK_PTR(corio__poll_find(NULL), NULL);
    unsetenv("CORIO_BACKEND");
    CHECK(strcmp(corio__poll_epoll.name, "epoll") == 0 &&
          corio__poll_epoll.edge == 1);
    CHECK(strcmp(corio__poll_poll.name, "poll") == 0 &&
          corio__poll_poll.edge == 0);
}
