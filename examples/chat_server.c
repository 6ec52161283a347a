/*
 * chat_server.c: a TCP chat server that fans every line out to every
 * connected client through a topic (topic.h), and three clients, in one
 * program.
 *
 * Each connection subscribes to the topic with a bounded buffer and the
 * LAG policy, so a slow client never slows the others down: it misses
 * lines and is told how many ("[missed N lines]"). A connection runs two
 * tasks: its handler reads lines and publishes them; a writer takes
 * them from its subscription and writes them out. Messages are counted
 * references shared by every subscriber: whoever is last (a writer, or
 * the topic's drop callback for a line a subscriber never takes) frees
 * it. Run with an argument ("serve") to keep it up and chat with
 * `nc 127.0.0.1 PORT` from several terminals.
 */
#define _POSIX_C_SOURCE 200809L
#include <corio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENTS 3
#define BIAS (SIZE_MAX / 2) /* references held while a publish delivers */

struct msg {
    size_t refs;
    size_t len;
    char text[];
};

static corio_topic *room;

static void msg_unref(void *item, void *arg)
{
    struct msg *m = item;
    (void)arg;
    if (--m->refs == 0)
        free(m);
}

/* Publish a copy of line to everyone (including the sender). */
static int say(const char *line, size_t len)
{
    struct msg *m = malloc(sizeof *m + len);
    size_t delivered = 0;
    int rc;
    if (!m)
        return -ENOMEM;
    m->refs = BIAS; /* drop callbacks during the publish count down from it */
    m->len = len;
    memcpy(m->text, line, len);
    rc = corio_topic_publish(room, m, &delivered);
    m->refs -= BIAS - delivered; /* one reference per subscriber reached */
    if (m->refs == 0)
        free(m);
    return rc;
}

struct writer {
    corio_stream *conn;
    corio_topic_sub *sub;
};

static int writer_task(void *arg, void **result)
{
    struct writer *w = arg;
    void *item;
    size_t missed;
    char note[64];
    int rc;
    (void)result;
    while ((rc = corio_topic_next(w->sub, &item, &missed)) == 0) {
        struct msg *m = item;
        if (missed) {
            int n = snprintf(note, sizeof note, "[missed %zu lines]\n",
                             missed);
            corio_stream_write(w->conn, note, (size_t)n);
        }
        rc = corio_stream_write(w->conn, m->text, m->len);
        msg_unref(m, NULL);
        if (rc || (rc = corio_stream_drain(w->conn)) != 0)
            return rc;
    }
    return rc == CORIO_END ? 0 : rc;
}

static int handle(corio_stream *conn, void *arg)
{
    struct writer w = {conn, NULL};
    corio_task *wt;
    char line[512];
    size_t len;
    int rc;
    (void)arg;
    if ((rc = corio_topic_subscribe(room, 64, CORIO_TOPIC_LAG, &w.sub)) != 0)
        return rc;
    corio_topic_sub_on_drop(w.sub, msg_unref, NULL);
    if ((rc = corio_spawn(writer_task, &w, NULL, &wt)) != 0) {
        corio_topic_unsubscribe(w.sub);
        return rc;
    }
    while ((rc = corio_stream_read_line(conn, line, sizeof line, &len)) == 0 &&
           len > 0)
        if ((rc = say(line, len)) != 0)
            break;
    corio_task_cancel(wt);
    corio_task_join(wt, NULL);
    corio_task_release(wt);
    corio_topic_unsubscribe(w.sub); /* what it still held: to msg_unref */
    return rc == CORIO_ESHUTTING || rc == -ECANCELED ? 0 : rc;
}

/* A client: wait until everyone is in the room, say hello, and read the
 * three hellos (its own among them). */
static int client(void *arg, void **result)
{
    int port = (int)(intptr_t)arg, fd, i, rc;
    corio_stream *s;
    char line[128], hello[64];
    size_t len;
    (void)result;
    if ((rc = corio_tcp_connect("127.0.0.1", port, NULL, &fd)) != 0)
        return rc;
    if ((rc = corio_stream_new(fd, NULL, &s)) != 0)
        return rc;
    while (corio_topic_subscribers(room) < CLIENTS)
        corio_sleep(0.001);
    snprintf(hello, sizeof hello, "hello from client on fd %d\n", fd);
    if ((rc = corio_stream_write(s, hello, strlen(hello))) == 0)
        rc = corio_stream_drain(s);
    for (i = 0; i < CLIENTS && rc == 0; i++)
        if ((rc = corio_stream_read_line(s, line, sizeof line, &len)) == 0)
            printf("fd %d got: %.*s", fd, (int)len, line);
    corio_stream_close(s);
    return rc;
}

static int main_task(void *arg, void **result)
{
    corio_server *srv;
    corio_task *c[CLIENTS];
    int rc, i, port, failed = 0;
    (void)result;
    if ((rc = corio_topic_new(&room)) != 0)
        return rc;
    rc = corio_tcp_server("127.0.0.1", 0, NULL, handle, NULL, NULL, &srv);
    if (rc)
        return rc;
    port = corio_server_port(srv);
    printf("chat on 127.0.0.1:%d\n", port);
    if (arg) {
        rc = corio_signal_wait(2 /* SIGINT */);
    } else {
        for (i = 0; i < CLIENTS; i++)
            corio_spawn(client, (void *)(intptr_t)port, NULL, &c[i]);
        for (i = 0; i < CLIENTS; i++) {
            rc = corio_task_join(c[i], NULL);
            printf("client %d: %s\n", i, rc ? corio_strerror(rc) : "ok");
            failed |= rc != 0;
            corio_task_release(c[i]);
        }
    }
    corio_topic_close(room); /* writers drain what they hold, then end */
    corio_server_close(srv, 1.0);
    corio_server_wait(srv);
    corio_server_free(srv);
    corio_topic_free(room);
    return failed ? -EPROTO : 0;
}

int main(int argc, char **argv)
{
    int rc;
    (void)argv;
    rc = corio_run(main_task, argc > 1 ? (void *)1 : NULL, NULL);
    if (rc)
        fprintf(stderr, "chat_server: %s\n", corio_strerror(rc));
    return rc ? 1 : 0;
}
