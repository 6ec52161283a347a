/*
 * test_stream.c: buffered streams (stream.h) over socket pairs, TCP and
 * pipes: the read calls and their limits, peek/consume, the write buffer
 * with drain and half-close, the cancellation rule, and a randomized
 * exchange in which every wait of the reader may be cancelled while the
 * byte stream must come through intact.
 */
#include "test.h"
#include "cancel_rule.h"
#include "net_helpers.h"

#include <corio.h>
#include <fcntl.h>
#include <stdlib.h>

#include "task/task_impl.h"

static void pair(corio_stream **a, int *peer)
{
    int sv[2];
    CHECK_EQ(corio_socketpair(SOCK_STREAM, sv), 0);
    CHECK_EQ(corio_stream_new(sv[0], NULL, a), 0);
    *peer = sv[1];
}

static int reads_main(void *arg, void **result)
{
    corio_stream *s;
    int peer;
    char buf[64];
    size_t len, got;
    (void)arg;
    (void)result;
    pair(&s, &peer);
    CHECK_EQ(corio_write_all(peer, "hello\nwor", 9, NULL), 0);
    CHECK_EQ(corio_stream_read_line(s, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 6);
    CHECK_EQ(memcmp(buf, "hello\n", 6), 0);
    CHECK_EQ(corio_write_all(peer, "ld\r", 3, NULL), 0);
    CHECK_EQ(corio_write_all(peer, "\nabcdef", 7, NULL), 0);
    CHECK_EQ(corio_stream_read_until(s, "\r\n", 2, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 7);
    CHECK_EQ(memcmp(buf, "world\r\n", 7), 0);
    CHECK_EQ(corio_stream_read_exactly(s, buf, 3, &got), 0);
    CHECK_EQ(got, 3);
    CHECK_EQ(memcmp(buf, "abc", 3), 0);
    CHECK_EQ(corio_stream_read(s, buf, 2), 2);
    CHECK_EQ(memcmp(buf, "de", 2), 0);
    CHECK(!corio_stream_at_eof(s));
    CHECK_EQ(corio_fd_close(peer), 0);
    /* One byte left, then the end. */
    CHECK_EQ(corio_stream_read_exactly(s, buf, 5, &got), CORIO_EINCOMPLETE);
    CHECK_EQ(got, 1);
    CHECK_EQ(buf[0], 'f');
    CHECK(corio_stream_at_eof(s));
    CHECK_EQ(corio_stream_read(s, buf, sizeof buf), 0);
    CHECK_EQ(corio_stream_read_line(s, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 0);
    CHECK_EQ(corio_stream_close(s), 0);
    return 0;
}

TEST(stream_reads)
{
    net_run(reads_main, NULL);
}

static int eof_parts_main(void *arg, void **result)
{
    corio_stream *s;
    int peer;
    char buf[64];
    size_t len;
    (void)arg;
    (void)result;
    pair(&s, &peer);
    CHECK_EQ(corio_write_all(peer, "a;b;tail", 8, NULL), 0);
    CHECK_EQ(corio_fd_close(peer), 0);
    CHECK_EQ(corio_stream_read_until(s, ";", 1, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 2);
    CHECK_EQ(corio_stream_read_line(s, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 6); /* the last line has no newline */
    CHECK_EQ(memcmp(buf, "b;tail", 6), 0);
    CHECK_EQ(corio_stream_close(s), 0);
    pair(&s, &peer);
    CHECK_EQ(corio_write_all(peer, "xyz", 3, NULL), 0);
    CHECK_EQ(corio_fd_close(peer), 0);
    CHECK_EQ(corio_stream_read_until(s, ";", 1, buf, sizeof buf, &len),
             CORIO_EINCOMPLETE);
    CHECK_EQ(len, 3);
    CHECK_EQ(memcmp(buf, "xyz", 3), 0);
    CHECK_EQ(corio_stream_close(s), 0);
    return 0;
}

TEST(stream_end_of_stream)
{
    net_run(eof_parts_main, NULL);
}

static int limit_main(void *arg, void **result)
{
    corio_stream *s;
    corio_stream_opts o;
    int sv[2];
    char buf[64];
    size_t len;
    const void *p;
    (void)arg;
    (void)result;
    memset(&o, 0, sizeof o);
    o.limit = 8;
    CHECK_EQ(corio_socketpair(SOCK_STREAM, sv), 0);
    CHECK_EQ(corio_stream_new(sv[0], &o, &s), 0);
    CHECK_EQ(corio_write_all(sv[1], "0123456789\nok\n", 14, NULL), 0);
    CHECK_EQ(corio_stream_read_line(s, buf, sizeof buf, &len),
             CORIO_ELIMIT);
    /* Nothing consumed: the data is still there. */
    CHECK_EQ(corio_stream_peek(s, &p, &len), 0);
    CHECK_INT(len, >=, 8);
    CHECK_EQ(memcmp(p, "01234567", 8), 0);
    CHECK_EQ(corio_stream_read_exactly(s, buf, 11, NULL), 0);
    CHECK_EQ(memcmp(buf, "0123456789\n", 11), 0);
    CHECK_EQ(corio_stream_read_line(s, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 3);
    /* The caller's buffer is a limit too. */
    CHECK_EQ(corio_write_all(sv[1], "abcdef\n", 7, NULL), 0);
    CHECK_EQ(corio_stream_read_line(s, buf, 4, &len), CORIO_ELIMIT);
    CHECK_EQ(corio_stream_read_line(s, buf, 7, &len), 0);
    CHECK_EQ(len, 7);
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(stream_limit_keeps_data)
{
    net_run(limit_main, NULL);
}

static int peek_main(void *arg, void **result)
{
    corio_stream *s;
    int peer;
    const void *p;
    size_t len;
    corio_stream_opts o;
    int sv[2];
    (void)arg;
    (void)result;
    pair(&s, &peer);
    CHECK_EQ(corio_stream_peek(s, &p, &len), 0);
    CHECK_EQ(len, 0);
    CHECK_EQ(corio_write_all(peer, "abc", 3, NULL), 0);
    CHECK_EQ(corio_stream_fill(s), 3);
    CHECK_EQ(corio_stream_peek(s, &p, &len), 0);
    CHECK_EQ(len, 3);
    CHECK_EQ(memcmp(p, "abc", 3), 0);
    CHECK_EQ(corio_stream_consume(s, 4), -EINVAL);
    CHECK_EQ(corio_stream_consume(s, 2), 0);
    CHECK_EQ(corio_stream_peek(s, &p, &len), 0);
    CHECK_EQ(len, 1);
    CHECK_EQ(*(const char *)p, 'c');
    CHECK_EQ(corio_fd_close(peer), 0);
    CHECK_EQ(corio_stream_fill(s), 0);
    CHECK_EQ(corio_stream_consume(s, 1), 0);
    CHECK(corio_stream_at_eof(s));
    CHECK_EQ(corio_stream_close(s), 0);
    memset(&o, 0, sizeof o);
    o.limit = 2;
    CHECK_EQ(corio_socketpair(SOCK_STREAM, sv), 0);
    CHECK_EQ(corio_stream_new(sv[0], &o, &s), 0);
    CHECK_EQ(corio_write_all(sv[1], "xy", 2, NULL), 0);
    while (corio_stream_peek(s, &p, &len) == 0 && len < 2)
        CHECK_INT(corio_stream_fill(s), >, 0);
    CHECK_EQ(corio_stream_fill(s), CORIO_ELIMIT);
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(sv[1]), 0);
    return 0;
}

TEST(stream_peek_consume)
{
    net_run(peek_main, NULL);
}

/* ---- writing ------------------------------------------------------------------- */

struct sink {
    int fd;
    size_t n;
    unsigned sum;
};

static int sink_task(void *arg, void **result)
{
    struct sink *k = arg;
    char buf[8192];
    ssize_t r;
    size_t i;
    (void)result;
    while ((r = corio_read(k->fd, buf, sizeof buf)) > 0) {
        for (i = 0; i < (size_t)r; i++)
            k->sum = k->sum * 31 + (unsigned char)buf[i];
        k->n += (size_t)r;
    }
    return r < 0 ? (int)r : 0;
}

static int write_main(void *arg, void **result)
{
    corio_stream *s;
    int c, srv;
    struct sink k = {0, 0, 0};
    corio_task *t;
    unsigned sum = 0;
    size_t i, total = 0;
    char chunk[1000];
    (void)arg;
    (void)result;
    tcp_pair(&c, &srv);
    CHECK_EQ(corio_stream_new(c, NULL, &s), 0);
    k.fd = srv;
    CHECK_EQ(corio_spawn(sink_task, &k, NULL, &t), 0);
    for (i = 0; i < 4000; i++) {
        size_t j;
        for (j = 0; j < sizeof chunk; j++) {
            chunk[j] = (char)(i * 7 + j);
            sum = sum * 31 + (unsigned char)chunk[j];
        }
        CHECK_EQ(corio_stream_write(s, chunk, sizeof chunk), 0);
        total += sizeof chunk;
        if (i % 100 == 99)
            CHECK_EQ(corio_stream_drain(s), 0);
    }
    CHECK_EQ(corio_stream_write_eof(s), 0);
    CHECK_EQ(corio_stream_write_pending(s), 0);
    CHECK_EQ(corio_stream_write(s, "x", 1), -EPIPE);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(k.n, total);
    CHECK_EQ(k.sum, sum);
    /* Half-closed: the other direction still works. */
    CHECK_EQ(corio_write_all(srv, "back", 4, NULL), 0);
    {
        char buf[8];
        CHECK_EQ(corio_stream_read_exactly(s, buf, 4, NULL), 0);
        CHECK_EQ(memcmp(buf, "back", 4), 0);
    }
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(srv), 0);
    return 0;
}

TEST(stream_write_drain_eof)
{
    net_run(write_main, NULL);
}

static int write_error_main(void *arg, void **result)
{
    corio_stream *s;
    int peer, rc;
    char big[65536];
    (void)arg;
    (void)result;
    pair(&s, &peer);
    CHECK_EQ(corio_fd_close(peer), 0);
    memset(big, 'x', sizeof big);
    CHECK_EQ(corio_stream_write(s, "abc", 3), 0);
    rc = corio_stream_drain(s);
    CHECK(rc == -EPIPE || rc == -ECONNRESET);
    CHECK_EQ(corio_stream_write(s, "abc", 3), rc); /* sticky */
    CHECK_EQ(corio_stream_drain(s), rc);
    CHECK_EQ(corio_stream_close(s), 0);
    return 0;
}

TEST(stream_write_error_sticky)
{
    net_run(write_error_main, NULL);
}

static int close_deadline_main(void *arg, void **result)
{
    corio_stream *s;
    int peer, rc;
    static char big[1 << 20];
    corio_scope *sc;
    (void)arg;
    (void)result;
    pair(&s, &peer);
    CHECK_EQ(corio_stream_write(s, big, sizeof big), 0);
    CHECK_INT(corio_stream_write_pending(s), >, 0); /* nobody reads */
    CHECK_EQ(corio_scope_move_on_after(0.01, &sc), 0);
    rc = corio_stream_close(s); /* flushes until the deadline, then drops */
    CHECK_EQ(rc, -ECANCELED);
    CHECK_EQ(corio_scope_close(sc, 0), 0);
    CHECK_EQ(corio_fd_close(peer), 0);
    return 0;
}

TEST(stream_close_within_deadline)
{
    net_run(close_deadline_main, NULL);
}

static int pipe_main(void *arg, void **result)
{
    int p[2];
    corio_stream *r, *w;
    char buf[32];
    size_t len;
    (void)arg;
    (void)result;
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    CHECK_EQ(corio_stream_new(p[0], NULL, &r), 0);
    CHECK_EQ(corio_stream_new(p[1], NULL, &w), 0);
    CHECK_EQ(corio_stream_write(w, "line one\nline two\n", 18), 0);
    CHECK_EQ(corio_stream_drain(w), 0);
    CHECK_EQ(corio_stream_write_eof(w), -ENOTSUP);
    CHECK_EQ(corio_stream_close(w), 0);
    CHECK_EQ(corio_stream_read_line(r, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 9);
    CHECK_EQ(corio_stream_read_line(r, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 9);
    CHECK_EQ(corio_stream_read_line(r, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 0);
    CHECK(corio_stream_at_eof(r));
    CHECK_EQ(corio_stream_close(r), 0);
    return 0;
}

TEST(stream_over_pipe)
{
    net_run(pipe_main, NULL);
}

static int cancel_rule_main(void *arg, void **result)
{
    corio_stream *s;
    int peer;
    char buf[8];
    size_t len;
    (void)arg;
    (void)result;
    pair(&s, &peer);
    witness();
    cancel_self();
    CHECK_EQ(corio_stream_read(s, buf, sizeof buf), -ECANCELED);
    CHECK_EQ(corio_stream_read_line(s, buf, sizeof buf, &len), -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_write_all(peer, "a\nb", 3, NULL), 0);
    CHECK_EQ(corio_stream_fill(s), 3);
    witness();
    cancel_self();
    /* Buffered: no wait, so it succeeds. */
    CHECK_EQ(corio_stream_read_line(s, buf, sizeof buf, &len), 0);
    CHECK_EQ(len, 2);
    CHECK_EQ(corio_stream_read(s, buf, sizeof buf), 1);
    CHECK_EQ(corio_stream_write(s, "x", 1), 0);
    CHECK_EQ(corio_stream_drain(s), 0); /* the socket takes it at once */
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(peer), 0);
    return 0;
}

TEST(stream_cancel_rule)
{
    net_run(cancel_rule_main, NULL);
}

/* ---- cancelling at every wait ------------------------------------------------ */

#define XLEN 200000

static unsigned char expect_byte(size_t i)
{
    /* Lines of varying length; some bytes are '\n' and ';'. */
    unsigned x = (unsigned)(i * 2654435761u) >> 13;
    if (x % 17 == 0)
        return '\n';
    if (x % 23 == 0)
        return ';';
    return (unsigned char)('a' + x % 26);
}

struct xchg {
    int wfd;
    corio_stream *s;
    unsigned seed;
    size_t got;
    int done;
    int cancels;
    corio_task *reader;
};

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static int xwriter(void *arg, void **result)
{
    struct xchg *x = arg;
    unsigned char buf[4096];
    size_t off = 0, n, i;
    unsigned seed = x->seed ^ 0x5555;
    (void)result;
    while (off < XLEN) {
        n = 1 + rnd(&seed) % sizeof buf;
        if (n > XLEN - off)
            n = XLEN - off;
        for (i = 0; i < n; i++)
            buf[i] = expect_byte(off + i);
        CHECK_EQ(corio_write_all(x->wfd, buf, n, NULL), 0);
        off += n;
        if (rnd(&seed) % 3 == 0)
            CHECK_EQ(corio_sleep(0), 0);
    }
    CHECK_EQ(corio_fd_close(x->wfd), 0);
    return 0;
}

static void check_bytes(struct xchg *x, const unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] != expect_byte(x->got + i))
            corio_test_fail(__FILE__, __LINE__, "byte %zu differs",
                            x->got + i);
    x->got += n;
}

static int xreader(void *arg, void **result)
{
    struct xchg *x = arg;
    unsigned char buf[512];
    unsigned seed = x->seed;
    size_t len, n;
    int rc;
    ssize_t r;
    (void)result;
    for (;;) {
        unsigned op = rnd(&seed) % 5;
        len = 0;
        switch (op) {
        case 0:
            r = corio_stream_read(x->s, buf, 1 + rnd(&seed) % sizeof buf);
            rc = r < 0 ? (int)r : 0;
            len = r > 0 ? (size_t)r : 0;
            if (r == 0)
                rc = CORIO_END;
            break;
        case 1:
            n = 1 + rnd(&seed) % sizeof buf;
            rc = corio_stream_read_exactly(x->s, buf, n, &len);
            if (rc == CORIO_EINCOMPLETE)
                rc = len ? 0 : CORIO_END;
            break;
        case 2:
            rc = corio_stream_read_line(x->s, buf, sizeof buf, &len);
            if (rc == 0 && len == 0)
                rc = CORIO_END;
            break;
        case 3:
            rc = corio_stream_read_until(x->s, ";\n", 2, buf, sizeof buf,
                                         &len);
            if (rc == CORIO_EINCOMPLETE)
                rc = len ? 0 : CORIO_END;
            break;
        default: {
            const void *p;
            r = corio_stream_fill(x->s);
            rc = r < 0 ? (int)r : 0;
            if (rc == CORIO_ELIMIT)
                rc = 0;
            if (r == 0)
                rc = corio_stream_at_eof(x->s) ? CORIO_END : 0;
            if (rc == 0) {
                CHECK_EQ(corio_stream_peek(x->s, &p, &len), 0);
                n = len ? rnd(&seed) % (len + 1) : 0;
                check_bytes(x, p, n);
                CHECK_EQ(corio_stream_consume(x->s, n), 0);
                len = 0;
            }
            break;
        }
        }
        if (rc == -ECANCELED) {
            /* Cancelled at a wait: nothing consumed; go on. */
            x->cancels++;
            corio_task_uncancel(corio_task_current());
            continue;
        }
        if (rc == CORIO_ELIMIT)
            continue; /* a long line: another op will take it */
        if (rc == CORIO_END)
            break;
        CHECK_EQ(rc, 0);
        check_bytes(x, buf, len);
    }
    x->done = 1;
    return 0;
}

static int cancel_every_wait_main(void *arg, void **result)
{
    struct xchg x;
    int sv[2], i;
    corio_task *w;
    unsigned seed = (unsigned)(uintptr_t)arg;
    (void)result;
    memset(&x, 0, sizeof x);
    x.seed = seed;
    CHECK_EQ(corio_socketpair(SOCK_STREAM, sv), 0);
    CHECK_EQ(corio_stream_new(sv[0], NULL, &x.s), 0);
    x.wfd = sv[1];
    CHECK_EQ(corio_spawn(xreader, &x, NULL, &x.reader), 0);
    CHECK_EQ(corio_spawn(xwriter, &x, NULL, &w), 0);
    /* Cancel the reader at (nearly) every wait: whenever it is parked. */
    while (!x.done) {
        if (corio__task_parked(x.reader) && rnd(&seed) % 4 != 0)
            corio_task_cancel(x.reader);
        CHECK_EQ(corio_sleep(0), 0);
    }
    CHECK_EQ(corio_task_join(x.reader, NULL), 0);
    CHECK_EQ(corio_task_join(w, NULL), 0);
    corio_task_release(x.reader);
    corio_task_release(w);
    CHECK_EQ(x.got, XLEN);
    CHECK_INT(x.cancels, >, 0);
    CHECK_EQ(corio_stream_close(x.s), 0);
    (void)i;
    return 0;
}

TEST(stream_cancel_every_wait_keeps_bytes)
{
    unsigned seed = (unsigned)strtoul(getenv("CORIO_TEST_SEED")
                                          ? getenv("CORIO_TEST_SEED")
                                          : "12345",
                                      NULL, 10);
    net_run(cancel_every_wait_main, (void *)(uintptr_t)seed);
}
