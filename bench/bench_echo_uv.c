/*
 * bench_echo_uv.c: the echo suite's libuv server (libuv found at
 * configure time): uv_tcp_t, uv_read_start, and each read echoed with
 * uv_try_write, uv_write for what it does not take. Stops when the
 * suite's eventfd becomes readable (a uv_poll_t on it).
 */
#include "bench_echo.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

const int bench_echo_have_uv = 1;

struct uv_srv {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_poll_t stop;
};

struct wreq {
    uv_write_t req;
    char data[];
};

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    static char slab[65536];
    (void)h;
    (void)size;
    *buf = uv_buf_init(slab, sizeof slab);
}

static void on_close(uv_handle_t *h)
{
    free(h);
}

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    uv_buf_t b;
    int w;
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (n == 0)
        return;
    b = uv_buf_init(buf->base, (unsigned)n);
    w = uv_try_write(s, &b, 1);
    if (w < 0)
        w = 0;
    if (w < n) { /* the rest, copied, through a write request */
        struct wreq *r = malloc(sizeof *r + (size_t)(n - w));
        memcpy(r->data, buf->base + w, (size_t)(n - w));
        b = uv_buf_init(r->data, (unsigned)(n - w));
        uv_write(&r->req, s, &b, 1, on_written);
    }
}

static void on_conn(uv_stream_t *l, int status)
{
    uv_tcp_t *c;
    if (status < 0)
        return;
    c = malloc(sizeof *c);
    uv_tcp_init(l->loop, c);
    if (uv_accept(l, (uv_stream_t *)c) == 0) {
        uv_tcp_nodelay(c, 1);
        uv_read_start((uv_stream_t *)c, on_alloc, on_read);
    } else {
        uv_close((uv_handle_t *)c, on_close);
    }
}

static void close_all(uv_handle_t *h, void *arg)
{
    struct uv_srv *u = arg;
    if (uv_is_closing(h))
        return;
    if (h == (uv_handle_t *)&u->listener || h == (uv_handle_t *)&u->stop)
        uv_close(h, NULL);
    else
        uv_close(h, on_close);
}

static void on_stop(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    uv_walk(p->loop, close_all, p->data);
}

void *bench_echo_uv_server(void *arg)
{
    struct echo_run *r = arg;
    struct uv_srv u;
    struct sockaddr_in a;
    int len = sizeof a;
    echo_pin(0);
    uv_loop_init(&u.loop);
    uv_tcp_init(&u.loop, &u.listener);
    uv_ip4_addr("127.0.0.1", 0, &a);
    if (uv_tcp_bind(&u.listener, (const struct sockaddr *)&a, 0) != 0 ||
        uv_listen((uv_stream_t *)&u.listener, SOMAXCONN, on_conn) != 0) {
        echo_fail(r);
        return NULL;
    }
    uv_tcp_getsockname(&u.listener, (struct sockaddr *)&a, &len);
    uv_poll_init(&u.loop, &u.stop, r->stopfd);
    u.stop.data = &u;
    uv_poll_start(&u.stop, UV_READABLE, on_stop);
    echo_announce(r, ntohs(a.sin_port));
    uv_run(&u.loop, UV_RUN_DEFAULT);
    uv_loop_close(&u.loop);
    return NULL;
}
