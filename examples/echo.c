/*
 * echo.c: a TCP echo server and its clients, in one program.
 *
 * asyncio's echo server and client, with tasks instead of callbacks:
 *
 *     async def handle(reader, writer):            # one task per client
 *         while data := await reader.read(100):
 *             writer.write(data); await writer.drain()
 *         writer.close()
 *
 *     async def client(n):
 *         reader, writer = await asyncio.open_connection("127.0.0.1", port)
 *         for line in lines(n):
 *             writer.write(line); assert await reader.readexactly(len(line)) == line
 *         writer.close()
 *
 * The server listens on 127.0.0.1 on a port the kernel picks, accepts in a
 * task of its own and starts one task per connection. A few clients run at
 * once, send lines and check that each comes back intact. When they are
 * done, main cancels the server (its accept returns -ECANCELED and it
 * closes the listening socket); every connection task has already ended
 * on its client's end of file. Exits 0 when every echo matched.
 */
#include <corio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define CLIENTS 4
#define LINES 5

static int connections_open;

/* One connection: echo until the client closes its side. */
static int handle(void *arg, void **result)
{
    int fd = (int)(intptr_t)arg;
    char buf[100];
    size_t total = 0;
    ssize_t n;
    int rc = 0;
    (void)result;
    while ((n = corio_read(fd, buf, sizeof buf)) > 0) {
        if ((rc = corio_write_all(fd, buf, (size_t)n, NULL)) != 0)
            break;
        total += (size_t)n;
    }
    if (n < 0)
        rc = (int)n;
    printf("server: connection on fd %d closed, %zu bytes echoed\n", fd,
           total);
    corio_fd_close(fd);
    connections_open--;
    return rc;
}

/* Accept forever (until cancelled); each client gets a task. */
static int serve(void *arg, void **result)
{
    int lfd = (int)(intptr_t)arg;
    (void)result;
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        char ip[INET_ADDRSTRLEN];
        int fd = corio_accept(lfd, (struct sockaddr *)&peer, &len), rc;
        if (fd < 0) { /* -ECANCELED when main stops us */
            corio_fd_close(lfd);
            return fd;
        }
        inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
        printf("server: connection from %s:%d\n", ip, ntohs(peer.sin_port));
        if ((rc = corio_spawn(handle, (void *)(intptr_t)fd, NULL, NULL)) != 0) {
            corio_fd_close(fd);
            continue;
        }
        connections_open++;
    }
}

struct client {
    int id;
    const struct sockaddr_in *server;
    int echoed; /* lines that came back intact */
};

static int client(void *arg, void **result)
{
    struct client *c = arg;
    char line[80], back[80];
    int fd, i, rc;
    (void)result;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    rc = corio_connect(fd, (const struct sockaddr *)c->server,
                       sizeof *c->server);
    for (i = 0; rc == 0 && i < LINES; i++) {
        size_t len, got = 0;
        snprintf(line, sizeof line, "client %d, line %d: hello, echo\n",
                 c->id, i);
        len = strlen(line);
        if ((rc = corio_write_all(fd, line, len, NULL)) != 0)
            break;
        while (got < len) { /* TCP may return it in pieces */
            ssize_t n = corio_read(fd, back + got, len - got);
            if (n <= 0) {
                rc = n < 0 ? (int)n : -ECONNRESET;
                break;
            }
            got += (size_t)n;
        }
        if (rc == 0 && memcmp(line, back, len) == 0)
            c->echoed++;
    }
    corio_fd_close(fd);
    printf("client %d: %d of %d lines echoed\n", c->id, c->echoed, LINES);
    return rc;
}

static int amain(void *arg, void **result)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    struct client cl[CLIENTS];
    corio_task *server, *ct[CLIENTS];
    int lfd, i, bad = 0;
    (void)arg;
    (void)result;

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        return -errno;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0; /* any free port */
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        listen(lfd, 16) < 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &len) < 0) {
        int err = -errno;
        corio_fd_close(lfd);
        return err;
    }
    printf("server: listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    if (corio_spawn(serve, (void *)(intptr_t)lfd, NULL, &server) != 0) {
        corio_fd_close(lfd);
        return -ENOMEM;
    }

    for (i = 0; i < CLIENTS; i++) {
        cl[i].id = i + 1;
        cl[i].server = &addr;
        cl[i].echoed = 0;
        if (corio_spawn(client, &cl[i], NULL, &ct[i]) != 0)
            ct[i] = NULL;
    }
    for (i = 0; i < CLIENTS; i++) {
        if (!ct[i] || corio_task_join(ct[i], NULL) != 0 ||
            cl[i].echoed != LINES)
            bad++;
        corio_task_release(ct[i]);
    }

    /* Let the connection tasks see their clients' end of file, then stop
     * the server. */
    for (i = 0; i < 100 && connections_open > 0; i++)
        corio_sleep(0.001);
    corio_task_cancel(server);
    if (corio_task_join(server, NULL) != -ECANCELED)
        bad++;
    corio_task_release(server);
    if (connections_open != 0)
        bad++;
    printf("%s\n", bad ? "FAILED" : "all echoes matched; shut down cleanly");
    return bad ? -EIO : 0;
}

int main(void)
{
    return corio_run(amain, NULL, NULL) == 0 ? 0 : 1;
}
