/*
 * test_stream_direct.c: corio_stream_read into a large buffer (at least
 * the stream's read chunk, 16 KiB) with nothing buffered reads straight
 * into the caller's buffer (issue 13's fast path): the same answers as the
 * buffered path (data, end of stream, errors), buffered bytes still come
 * first, no read buffer is taken, the cancellation rule, and a server's
 * shutdown still ends such a read with CORIO_ESHUTTING. Also the system
 * calls of a stream echo round trip, by count: one read(2) per request.
 */
#include "test.h"
#include "cancel_rule.h"
#include "fault_sys.h"
#include "net_helpers.h"

#include <corio.h>
#include <limits.h>
#include <stdlib.h>

#include "net/stream_impl.h"

#define BIG 32768

static char big[BIG];

static void pair(corio_stream **a, int *peer)
{
    int sv[2];
    CHECK_EQ(corio_socketpair(SOCK_STREAM, sv), 0);
    CHECK_EQ(corio_stream_new(sv[0], NULL, a), 0);
    *peer = sv[1];
}

static int direct_main(void *arg, void **result)
{
    corio_stream *s;
    int peer;
    char line[16];
    size_t len;
    (void)arg;
    (void)result;
    pair(&s, &peer);
    CHECK_EQ(corio_write_all(peer, "abc", 3, NULL), 0);
    CHECK_EQ(corio_stream_read(s, big, sizeof big), 3);
    CHECK_EQ(memcmp(big, "abc", 3), 0);
    CHECK(s->rbuf == NULL); /* straight in: no buffer taken */
    /* Buffered bytes come first, from the buffer. */
    CHECK_EQ(corio_write_all(peer, "one\ntwo", 7, NULL), 0);
    CHECK_EQ(corio_stream_read_line(s, line, sizeof line, &len), 0);
    CHECK_EQ(len, 4);
    CHECK_EQ(corio_stream_read(s, big, sizeof big), 3);
    CHECK_EQ(memcmp(big, "two", 3), 0);
    /* A read that must wait for the data. */
    CHECK_EQ(corio_write_all(peer, "x", 1, NULL), 0);
    CHECK_EQ(corio_stream_read(s, big, sizeof big), 1);
    CHECK_EQ(corio_fd_close(peer), 0);
    CHECK_EQ(corio_stream_read(s, big, sizeof big), 0);
    CHECK(corio_stream_at_eof(s));
    CHECK_EQ(corio_stream_read(s, big, sizeof big), 0);
    CHECK_EQ(corio_stream_close(s), 0);
    return 0;
}

TEST(stream_large_read_goes_direct)
{
    net_run(direct_main, NULL);
}

/* A reader task parked in a direct read gets data written later. */
struct rd {
    corio_stream *s;
    ssize_t rc;
};

static int reader(void *arg, void **result)
{
    struct rd *r = arg;
    (void)result;
    r->rc = corio_stream_read(r->s, big, sizeof big);
    return 0;
}

static int parked_main(void *arg, void **result)
{
    struct rd r;
    corio_task *t;
    int peer;
    (void)arg;
    (void)result;
    memset(&r, 0, sizeof r);
    pair(&r.s, &peer);
    CHECK_EQ(corio_spawn(reader, &r, NULL, &t), 0);
    CHECK_EQ(corio_wait_all_blocked(), 0);
    CHECK_EQ(corio_write_all(peer, "hello", 5, NULL), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(r.rc, 5);
    CHECK_EQ(memcmp(big, "hello", 5), 0);
    /* Once more, with the data already there. */
    CHECK_EQ(corio_write_all(peer, "z", 1, NULL), 0);
    CHECK_EQ(corio_stream_read(r.s, big, sizeof big), 1);
    CHECK_EQ(corio_stream_close(r.s), 0);
    CHECK_EQ(corio_fd_close(peer), 0);
    return 0;
}

TEST(stream_large_read_waits_for_data)
{
    net_run(parked_main, NULL);
}

static int cancel_main(void *arg, void **result)
{
    corio_stream *s;
    int peer;
    (void)arg;
    (void)result;
    pair(&s, &peer);
    witness();
    cancel_self();
    CHECK_EQ(corio_stream_read(s, big, sizeof big), -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    /* Data there: no wait, so it succeeds even with a cancel standing,
     * also after a short read said "drained" and more came since. */
    CHECK_EQ(corio_write_all(peer, "ab", 2, NULL), 0);
    CHECK_EQ(corio_stream_read(s, big, sizeof big), 2);
    CHECK_EQ(corio_write_all(peer, "cd", 2, NULL), 0);
    witness();
    cancel_self();
    CHECK_EQ(corio_stream_read(s, big, sizeof big), 2);
    CHECK_EQ(memcmp(big, "cd", 2), 0);
    CHECK_EQ(corio_stream_read(s, big, sizeof big), -ECANCELED);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK_EQ(corio_stream_close(s), 0);
    CHECK_EQ(corio_fd_close(peer), 0);
    return 0;
}

TEST(stream_large_read_cancel_rule)
{
    net_run(cancel_main, NULL);
}

/* A server connection idle in a direct read: the server's close ends it
 * with CORIO_ESHUTTING. */
struct idle {
    int entered;
    ssize_t rc;
};

static int idle_handler(corio_stream *c, void *arg)
{
    struct idle *id = arg;
    id->entered = 1;
    id->rc = corio_stream_read(c, big, sizeof big);
    return id->rc == CORIO_ESHUTTING ? 0 : (int)id->rc;
}

static int shutdown_main(void *arg, void **result)
{
    struct idle id;
    corio_server *srv;
    int fd;
    (void)arg;
    (void)result;
    memset(&id, 0, sizeof id);
    id.rc = 99;
    CHECK_EQ(corio_tcp_server("127.0.0.1", 0, NULL, idle_handler, &id, NULL,
                              &srv),
             0);
    CHECK_EQ(corio_tcp_connect("127.0.0.1", corio_server_port(srv), NULL,
                               &fd),
             0);
    while (!id.entered)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_wait_all_blocked(), 0);
    CHECK_EQ(corio_server_close(srv, 1000), 0);
    CHECK_EQ(corio_server_wait(srv), 0);
    CHECK_EQ(id.rc, CORIO_ESHUTTING);
    CHECK_EQ(corio_server_free(srv), 0);
    CHECK_EQ(corio_fd_close(fd), 0);
    return 0;
}

TEST(stream_large_read_ends_at_server_shutdown)
{
    net_run(shutdown_main, NULL);
}

/* The system calls of a stream echo, by count: per request one read(2)
 * (either poller), none into EAGAIN (the short read said the socket is empty),
 * and no epoll_ctl per wait. */
#define ROUNDS 40

struct echo {
    corio_stream *s;
    int rounds;
};

static int echo_task(void *arg, void **result)
{
    struct echo *e = arg;
    ssize_t n;
    (void)result;
    while ((n = corio_stream_read(e->s, big, sizeof big)) > 0) {
        CHECK_EQ(corio_stream_write(e->s, big, (size_t)n), 0);
        CHECK_EQ(corio_stream_drain(e->s), 0);
        e->rounds++;
    }
    return (int)n;
}

static int count_main(void *arg, void **result)
{
    struct echo e;
    corio_task *t;
    char buf[16];
    long reads, ctls;
    int peer, i;
    const char *b = getenv("CORIO_BACKEND");
    (void)arg;
    (void)result;
    CHECK_EQ(corio_diag_virtual_clock(corio_loop_current(), 1), 0);
    CHECK_EQ(corio_sleep(0.001), 0); /* the loop's own first events */
    memset(&e, 0, sizeof e);
    pair(&e.s, &peer);
    CHECK_EQ(corio_spawn(echo_task, &e, NULL, &t), 0);
    CHECK_EQ(corio_wait_all_blocked(), 0); /* parked: registered */
    fault_sys_fail(FS_READ, LONG_MAX, 0, 0); /* count only */
    fault_sys_fail(FS_EPOLL_CTL, LONG_MAX, 0, 0);
    for (i = 0; i < ROUNDS; i++) {
        int k;
        /* The peer end is ours, with send and recv (not counted): send,
         * yield until the echo task has answered, take the answer. */
        CHECK_EQ(send(peer, "ping", 4, 0), 4);
        for (k = 0; k < 100000 && e.rounds <= i; k++)
            CHECK_EQ(corio_sleep(0), 0);
        CHECK_EQ(e.rounds, i + 1);
        CHECK_EQ(recv(peer, buf, sizeof buf, 0), 4);
    }
    reads = fault_sys_calls(FS_READ);
    ctls = fault_sys_calls(FS_EPOLL_CTL);
    fault_sys_reset();
    CHECK_EQ(e.rounds, ROUNDS);
    CHECK_EQ(reads, ROUNDS); /* either poller */
    if (!b || strcmp(b, "poll") != 0)
        CHECK_EQ(ctls, 0);
    CHECK_EQ(corio_fd_close(peer), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(corio_stream_close(e.s), 0);
    return 0;
}

TEST(stream_echo_one_read_per_request)
{
    fault_sys_require();
    net_run(count_main, NULL);
}
