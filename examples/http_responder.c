/*
 * http_responder.c: a tiny HTTP/1.1 keep-alive responder on corio_server
 * and streams, and a client that sends it three requests over one
 * connection, in one program.
 *
 * Each request's head is read with corio_stream_read_until("\r\n\r\n")
 * under an 8 KiB limit (a longer head is refused with 431, as
 * CORIO_ELIMIT leaves the data in the stream); every request gets
 * "hello from corio" and the connection stays open until the client says
 * "Connection: close" or goes away. Run with an argument ("serve") to
 * keep it up, and try `curl -v http://127.0.0.1:PORT/`.
 */
#define _POSIX_C_SOURCE 200809L
#include <corio.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BODY "hello from corio\n"

static int wants_close(const char *head, size_t len)
{
    const char *p = head, *end = head + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);
        if (l >= 17 && strncasecmp(p, "connection: close", 17) == 0)
            return 1;
        p += l + 1;
    }
    return 0;
}

static int respond(corio_stream *c, void *arg)
{
    char head[8192], out[256];
    size_t len;
    int rc, n, close_after;
    (void)arg;
    for (;;) {
        rc = corio_stream_read_until(c, "\r\n\r\n", 4, head, sizeof head,
                                     &len);
        if (rc == CORIO_ELIMIT) {
            static const char too_big[] =
                "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n";
            corio_stream_write(c, too_big, sizeof too_big - 1);
            return corio_stream_drain(c);
        }
        if (rc == CORIO_EINCOMPLETE || rc == CORIO_ESHUTTING)
            return 0; /* the client left, or we are shutting down */
        if (rc)
            return rc;
        close_after = wants_close(head, len);
        n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n%s\r\n%s",
                     sizeof BODY - 1,
                     close_after ? "Connection: close\r\n" : "", BODY);
        if ((rc = corio_stream_write(c, out, (size_t)n)) != 0 ||
            (rc = corio_stream_drain(c)) != 0)
            return rc;
        if (close_after)
            return 0;
    }
}

/* Three requests over one connection; the last one closes it. */
static int client(int port)
{
    corio_stream *s;
    char buf[512];
    size_t len;
    int fd, i, rc;
    if ((rc = corio_tcp_connect("127.0.0.1", port, NULL, &fd)) != 0)
        return rc;
    if ((rc = corio_stream_new(fd, NULL, &s)) != 0) {
        corio_fd_close(fd);
        return rc;
    }
    for (i = 0; i < 3 && rc == 0; i++) {
        const char *req = i < 2 ? "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                                : "GET / HTTP/1.1\r\nHost: x\r\n"
                                  "Connection: close\r\n\r\n";
        if ((rc = corio_stream_write(s, req, strlen(req))) != 0 ||
            (rc = corio_stream_drain(s)) != 0)
            break;
        rc = corio_stream_read_until(s, "\r\n\r\n", 4, buf, sizeof buf, &len);
        if (rc == 0)
            rc = corio_stream_read_exactly(s, buf, sizeof BODY - 1, NULL);
        if (rc == 0)
            printf("response %d: %.*s", i + 1, (int)(sizeof BODY - 1), buf);
    }
    corio_stream_close(s);
    return rc;
}

static int main_task(void *arg, void **result)
{
    corio_server *srv;
    int rc;
    (void)result;
    rc = corio_tcp_server("127.0.0.1", arg ? 8080 : 0, NULL, respond, NULL,
                          NULL, &srv);
    if (rc)
        return rc;
    printf("HTTP on 127.0.0.1:%d\n", corio_server_port(srv));
    if (arg)
        rc = corio_signal_wait(2 /* SIGINT */);
    else
        rc = client(corio_server_port(srv));
    corio_server_close(srv, 1.0);
    corio_server_wait(srv);
    corio_server_free(srv);
    return rc;
}

int main(int argc, char **argv)
{
    int rc;
    (void)argv;
    rc = corio_run(main_task, argc > 1 ? (void *)1 : NULL, NULL);
    if (rc)
        fprintf(stderr, "http_responder: %s\n", corio_strerror(rc));
    return rc ? 1 : 0;
}
