/*
 * test_poll_fds.c: the poller backends (src/poll/) and descriptors: a
 * number reused after (or without) unwatch, stale entries, token and
 * interest changes, regular files, bad arguments, many descriptors, dup'd
 * descriptors closed, a wait forever woken, no leak across open/close,
 * and finding a backend by name. Every case runs on each backend in turn. *
 * Timing checks are lower bounds only ("never early"); upper bounds are
 * loose, so a loaded machine or Valgrind cannot fail them.
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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
 * interest 0 (not even with data waiting); epoll registers what was asked
 * for, widens on request (re-arming: the state is reported afresh) and
 * never narrows (interest 0 keeps what it had). */
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
        CHECK_EQ(n, 0);
        CHECK_EQ(ops->watch(p, s[0], 0, 1), 0);
        put(s[1], "data");
        n = wait_ev(ops, p, ops->edge ? 1000 * MS : 20 * MS, ev, 4);
        if (ops->edge) {
            CHECK_EQ(n, 1);
            CHECK_EQ(ev[0].events, IN);
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
        CHECK_EQ(n, 1);
        CHECK_EQ(ev[0].events, IN | OUT);
        if (ops->edge) /* the edge is spent: nothing more until a change */
            CHECK_EQ(wait_ev(ops, p, 0, ev, 4), 0);
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
