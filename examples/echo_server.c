/*
 * echo_server.c: a line echo server with graceful shutdown on SIGINT, and
 * its clients, in one program (asyncio's start_server / open_connection).
 *
 *     async def handle(reader, writer):
 *         while line := await reader.readline():
 *             writer.write(line); await writer.drain()
 *
 *     server = await asyncio.start_server(handle, "127.0.0.1", 0)
 *
 * The server listens on 127.0.0.1 (a port the kernel picks) and runs
 * handle() in a task per connection. A task waits for SIGINT and then
 * closes the server gracefully: it stops accepting, idle connections'
 * reads return CORIO_ESHUTTING at once, and work in progress gets two
 * seconds to finish. So that `make demo` ends by itself, the program
 * sends itself SIGINT once its clients are done; run it with an argument
 * ("serve") to keep it up until you press Ctrl-C, and talk to it with
 * `nc 127.0.0.1 PORT`.
 */
#define _POSIX_C_SOURCE 200809L
#include <corio.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CLIENTS 3
#define LINES 4

static int handle(corio_stream *conn, void *arg)
{
    char line[1024];
    size_t len;
    int rc;
    (void)arg;
    while ((rc = corio_stream_read_line(conn, line, sizeof line, &len)) == 0 &&
           len > 0) {
        if ((rc = corio_stream_write(conn, line, len)) != 0 ||
            (rc = corio_stream_drain(conn)) != 0)
            return rc;
    }
    if (rc == CORIO_ESHUTTING)
        return 0; /* the server is closing: this idle client is done */
    return rc;
}

static int client(void *arg, void **result)
{
    int port = *(int *)arg, fd, i, rc;
    corio_stream *s;
    char out[64], in[64];
    size_t len;
    (void)result;
    if ((rc = corio_tcp_connect("localhost", port, NULL, &fd)) != 0)
        return rc;
    if ((rc = corio_stream_new(fd, NULL, &s)) != 0) {
        corio_fd_close(fd);
        return rc;
    }
    for (i = 0; i < LINES && rc == 0; i++) {
        snprintf(out, sizeof out, "line %d from fd %d\n", i, fd);
        if ((rc = corio_stream_write(s, out, strlen(out))) == 0 &&
            (rc = corio_stream_drain(s)) == 0 &&
            (rc = corio_stream_read_line(s, in, sizeof in, &len)) == 0 &&
            (len != strlen(out) || memcmp(in, out, len) != 0))
            rc = -EPROTO;
    }
    corio_stream_close(s);
    return rc;
}

static int stopper(void *arg, void **result)
{
    corio_server *srv = arg;
    int rc;
    (void)result;
    if ((rc = corio_signal_wait(SIGINT)) != 0)
        return rc;
    printf("SIGINT: closing the server gracefully\n");
    return corio_server_close(srv, 2.0);
}

static int main_task(void *arg, void **result)
{
    corio_server *srv;
    corio_task *clients[CLIENTS], *stop;
    corio_server_stats st;
    int port, i, rc, failed = 0;
    (void)result;
    rc = corio_tcp_server("127.0.0.1", 0, NULL, handle, NULL, NULL, &srv);
    if (rc) {
        fprintf(stderr, "listen: %s\n", corio_strerror(rc));
        return rc;
    }
    port = corio_server_port(srv);
    printf("echo server on 127.0.0.1:%d\n", port);
    if ((rc = corio_spawn(stopper, srv, NULL, &stop)) != 0)
        return rc;
    if (!arg) {
        for (i = 0; i < CLIENTS; i++)
            if (corio_spawn(client, &port, NULL, &clients[i]) != 0)
                return -ENOMEM;
        for (i = 0; i < CLIENTS; i++) {
            rc = corio_task_join(clients[i], NULL);
            printf("client %d: %s\n", i, rc ? corio_strerror(rc) : "ok");
            failed |= rc != 0;
            corio_task_release(clients[i]);
        }
        kill(getpid(), SIGINT); /* as if someone pressed Ctrl-C */
    }
    corio_server_wait(srv);
    corio_task_join(stop, NULL);
    corio_task_release(stop);
    corio_server_stats_get(srv, &st);
    printf("served %zu connections, %zu failed\n", st.accepted, st.failures);
    corio_server_free(srv);
    return failed ? -EPROTO : 0;
}

int main(int argc, char **argv)
{
    int rc;
    (void)argv;
    rc = corio_run(main_task, argc > 1 ? (void *)1 : NULL, NULL);
    if (rc)
        fprintf(stderr, "echo_server: %s\n", corio_strerror(rc));
    return rc ? 1 : 0;
}
