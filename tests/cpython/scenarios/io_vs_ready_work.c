/* io_vs_ready_work: when a task waiting for a readable socket runs,
 * relative to a task that keeps yielding with corio_sleep(0).
 *
 * DELIBERATE DIFFERENCE (see the .expected-diff): corio looks at the
 * poller while work is ready only every 61 iterations (docs/loop.md);
 * asyncio polls every iteration. */
#include "evtrace.h"
#include <sys/socket.h>
#include <unistd.h>

static int spins, got;

static int reader(void *arg, void **result)
{
    int fd = *(int *)arg;
    char c;
    ssize_t n;
    ev("reader", "waiting for a byte");
    if ((n = corio_read(fd, &c, 1)) < 0)
        return (int)n;
    got = 1;
    ev("reader", "got %c after %d spins", c, spins);
    return 0;
}

static int scenario(void *arg, void **result)
{
    int sv[2], rc;
    corio_task *r;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return -errno;
    corio_fd_nonblock(sv[0]);
    corio_fd_nonblock(sv[1]);
    if ((rc = corio_spawn(reader, &sv[0], NULL, &r)) != 0)
        return rc;
    corio_sleep(0);
    if (write(sv[1], "x", 1) != 1)
        return -errno;
    ev("main", "sent x, spinning with sleep(0)");
    for (spins = 0; spins < 199; spins++) {
        if (got)
            break;
        corio_sleep(0);
    }
    ev("main", "stopped spinning at %d", spins);
    rc = corio_task_join(r, NULL);
    corio_task_release(r);
    corio_fd_close(sv[0]);
    corio_fd_close(sv[1]);
    return rc;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
