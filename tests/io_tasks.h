/*
 * io_tasks.h: what the I/O tests (test_io*.c) share: descriptor pairs,
 * run_main, tasks that read once or write everything, and two looks inside
 * the loop (loop_impl.h, task_impl.h): how many tasks wait on descriptors, and whether
 * a task has been woken but not yet run.
 */
#ifndef CORIO_TEST_IO_TASKS_H
#define CORIO_TEST_IO_TASKS_H

#include "test.h"

#include <corio.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "task/task_impl.h"

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

/* Yield (sleep(0)) until t has been woken but not yet run. The loop looks
 * at the poller only every few iterations while work is ready, so this
 * may take several. Returns 1 once seen, 0 if it never happened. */
static inline int yield_until_woken(corio_task *t)
{
    int i;
    for (i = 0; i < 1000; i++) {
        CHECK_EQ(corio_sleep(0), 0);
        if (!corio__task_parked(t) && t->queued)
            return 1;
    }
    return 0;
}

static inline size_t io_waiting(void)
{
    return corio_loop_current()->outside_waits;
}

static inline void make_pipe(int p[2])
{
    CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

static inline void make_socketpair(int sv[2])
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        0, sv),
             0);
}

/* Run main_fn as corio_run's main task; it must succeed. */
static inline void run_main(corio_coro_fn main_fn, void *arg)
{
    int rc = corio_run(main_fn, arg, NULL);
    if (rc != 0)
        corio_test_fail(__FILE__, __LINE__, "corio_run: %s (%s)",
                        corio_errname(rc), corio_strerror(rc));
}

/* A task that reads up to one buffer from fd and keeps the outcome. */
struct reading {
    int fd;
    char buf[64];
    ssize_t rc;
};

static inline int read_once(void *arg, void **result)
{
    struct reading *r = arg;
    (void)result;
    r->rc = corio_read(r->fd, r->buf, sizeof r->buf);
    return r->rc < 0 ? (int)r->rc : 0;
}

/* A task that writes a buffer with corio_write_all. */
struct writing {
    int fd;
    const char *buf;
    size_t len;
    size_t written;
    int rc;
};

static inline int write_all_task(void *arg, void **result)
{
    struct writing *w = arg;
    (void)result;
    w->rc = corio_write_all(w->fd, w->buf, w->len, &w->written);
    return w->rc;
}

#endif /* CORIO_TEST_IO_TASKS_H */
