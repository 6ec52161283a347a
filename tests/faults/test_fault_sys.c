/*
 * test_fault_sys.c: system calls that fail (fault_sys.h). Interrupted
 * calls (EINTR) are retried and lose nothing; resource errors (ENOMEM,
 * EMFILE, ENOSPC) come back as negative errnos, leak nothing (memory,
 * descriptors), and leave corio usable once the resource is back; a
 * spurious EAGAIN loses no data. Loop creation, the poller and stack
 * arenas fail cleanly too: never an abort.
 */
#include "test.h"
#include "fault_alloc.h"
#include "fault_sys.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Every case starts here: the shim must reach corio's calls, and the
 * counting allocator watches for leaks. */
static void begin(void)
{
    fault_sys_require();
    fault_sys_reset();
    fault_alloc_install();
}

static void end(int fds_before)
{
    fault_sys_reset();
    CHECK_EQ(fault_alloc_live(), 0);
    fault_alloc_uninstall();
    CHECK_EQ(corio_test_count_fds(), fds_before);
}

/* The shim stays out of the way until armed. */
TEST(fault_sys_inert)
{
    int p[2];
    char c = 'x';
    fault_sys_require();
    fault_sys_reset();
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(write(p[1], &c, 1), 1);
    CHECK_EQ(read(p[0], &c, 1), 1);
    CHECK_EQ(fault_sys_calls(FS_READ), 0);
    CHECK_EQ(fault_sys_calls(FS_WRITE), 0);
    fault_sys_fail(FS_READ, 1000000, 1, EIO); /* armed, far away */
    CHECK_EQ(write(p[1], &c, 1), 1);
    CHECK_EQ(read(p[0], &c, 1), 1);
    CHECK_EQ(fault_sys_calls(FS_READ), 1);
    CHECK_EQ(fault_sys_failed(FS_READ), 0);
    fault_sys_fail(FS_READ, 1, 1, EIO);
    CHECK_EQ(read(p[0], &c, 1), -1);
    CHECK_EQ(errno, EIO);
    fault_sys_reset();
    close(p[0]);
    close(p[1]);
}

/* ---- loop creation ------------------------------------------------------ */

/* The poller's descriptor (epoll_create1) or the wakeup eventfd cannot be
 * had: corio_loop_new returns the errno, leaks nothing. */
static void loop_new_fails(int fn, int err)
{
    int fds = corio_test_count_fds(), rc;
    corio_loop *loop = NULL;
    begin();
    fault_sys_fail(fn, 1, 1, err);
    rc = corio_loop_new(NULL, &loop);
    if (fault_sys_calls(fn) == 0) { /* the poll backend has no epoll fd */
        CHECK_EQ(rc, 0);
        CHECK_EQ(corio_loop_free(loop), 0);
    } else {
        CHECK_EQ(rc, -err);
        CHECK(loop == NULL);
    }
    fault_sys_reset();
    /* And with the descriptor back, it works. */
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_free(loop), 0);
    end(fds);
}

TEST(fault_sys_loop_epoll_create_emfile) { loop_new_fails(FS_EPOLL_CREATE1, EMFILE); }
TEST(fault_sys_loop_epoll_create_enomem) { loop_new_fails(FS_EPOLL_CREATE1, ENOMEM); }
TEST(fault_sys_loop_eventfd_emfile) { loop_new_fails(FS_EVENTFD, EMFILE); }
TEST(fault_sys_loop_eventfd_enfile) { loop_new_fails(FS_EVENTFD, ENFILE); }

/* Registering the eventfd with the poller fails. */
TEST(fault_sys_loop_epoll_ctl_enomem) { loop_new_fails(FS_EPOLL_CTL, ENOMEM); }

/* corio_run, where the loop cannot be made, says why. */
static int body_nothing(void)
{
    return 0;
}

TEST(fault_sys_run_without_eventfd)
{
    int fds = corio_test_count_fds();
    begin();
    fault_sys_fail(FS_EVENTFD, 1, 1, EMFILE);
    CHECK_EQ(run(body_nothing), -EMFILE);
    end(fds);
}

/* ---- stacks ------------------------------------------------------------- */

static int child_nothing(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return 0;
}

static int body_spawn_join(void)
{
    corio_task *t;
    int rc = corio_spawn(child_nothing, NULL, NULL, &t);
    if (rc)
        return rc;
    rc = corio_task_join(t, NULL);
    corio_task_release(t);
    return rc;
}

static int gen_one(void *arg, void **result)
{
    (void)arg;
    *result = (void *)1;
    return 0;
}

/* No arena can be mapped: the main task of corio_run, and a coroutine
 * driven by hand, fail with -ENOMEM. */
TEST(fault_sys_stack_arena_mmap_fails)
{
    int fds = corio_test_count_fds();
    corio_coro *co;
    void *out;
    begin();
    fault_sys_fail(FS_MMAP, 1, -1, ENOMEM);
    CHECK_EQ(run(body_spawn_join), -ENOMEM);
    CHECK(fault_sys_failed(FS_MMAP) > 0);
    CHECK_EQ(corio_coro_new(gen_one, NULL, NULL, &co), 0);
    CHECK_EQ(corio_coro_resume(co, NULL, &out), -ENOMEM);
    CHECK_EQ(corio_coro_state(co), CORIO_CORO_CREATED); /* unchanged */
    fault_sys_reset();
    CHECK_EQ(corio_coro_resume(co, NULL, &out), CORIO_FINISHED);
    CHECK_PTR(out, (void *)1);
    CHECK_EQ(corio_coro_free(co), 0);
    CHECK_EQ(run(body_spawn_join), 0);
    end(fds);
}

/* Guard pages cannot be protected (vm.max_map_count reached looks like
 * this): stacks still work, or a stack is refused with -ENOMEM. */
TEST(fault_sys_stack_guard_mprotect_fails)
{
    int fds = corio_test_count_fds(), rc;
    begin();
    fault_sys_fail(FS_MPROTECT, 1, -1, ENOMEM);
    rc = run(body_spawn_join);
    CHECK(rc == 0 || rc == -ENOMEM);
    fault_sys_reset();
    CHECK_EQ(run(body_spawn_join), 0);
    end(fds);
}

/* ---- the poller's wait --------------------------------------------------- */

static int body_sleeps(void)
{
    int i, rc;
    for (i = 0; i < 5; i++)
        if ((rc = corio_sleep(0.001)) != 0)
            return rc;
    return 0;
}

/* EINTR from the wait (a signal handler ran) is retried. */
TEST(fault_sys_poll_wait_eintr)
{
    int fds = corio_test_count_fds();
    begin();
    fault_sys_fail(FS_EPOLL_WAIT, 1, 3, EINTR);
    fault_sys_fail(FS_POLL, 1, 3, EINTR);
    CHECK_EQ(run(body_sleeps), 0);
    CHECK_EQ(fault_sys_failed(FS_EPOLL_WAIT) + fault_sys_failed(FS_POLL), 3);
    end(fds);
}

/* Any other failure of the wait ends the run with that error. */
TEST(fault_sys_poll_wait_enomem)
{
    int fds = corio_test_count_fds();
    begin();
    fault_sys_fail(FS_EPOLL_WAIT, 1, -1, ENOMEM);
    fault_sys_fail(FS_POLL, 1, -1, ENOMEM);
    CHECK_EQ(run(body_sleeps), -ENOMEM);
    end(fds);
}

/* ---- fd I/O ------------------------------------------------------------ */

static int pipefd[2];
static char big[200000]; /* more than a pipe holds: writes block */

static int writer_all(void *arg, void **result)
{
    size_t w = 0;
    int rc;
    (void)arg;
    (void)result;
    rc = corio_write_all(pipefd[1], big, sizeof big, &w);
    CHECK(rc < 0 || w == sizeof big);
    return rc;
}

/* Read everything the writer writes; check it is all there, in order. */
static int body_pipe_transfer(void)
{
    static char got[sizeof big];
    corio_task *t;
    size_t n = 0;
    ssize_t r;
    int rc;
    if ((rc = corio_spawn(writer_all, NULL, NULL, &t)) != 0)
        return rc;
    while (n < sizeof got &&
           (r = corio_read(pipefd[0], got + n, sizeof got - n)) > 0)
        n += (size_t)r;
    rc = corio_task_join(t, NULL);
    corio_task_release(t);
    if (rc)
        return rc;
    CHECK_EQ(n, sizeof big);
    CHECK(memcmp(got, big, sizeof big) == 0);
    return 0;
}

static void pipe_open(void)
{
    size_t i;
    for (i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + i / 251);
    CHECK_EQ(pipe2(pipefd, O_NONBLOCK | O_CLOEXEC), 0);
}

static void pipe_close(void)
{
    CHECK_EQ(corio_fd_close(pipefd[0]), 0);
    CHECK_EQ(corio_fd_close(pipefd[1]), 0);
}

/* Reads and writes interrupted by signals are retried; nothing lost. */
TEST(fault_sys_io_eintr)
{
    int fds = corio_test_count_fds();
    begin();
    pipe_open();
    fault_sys_fail(FS_READ, 2, 3, EINTR);
    fault_sys_fail(FS_WRITE, 1, 4, EINTR);
    CHECK_EQ(run(body_pipe_transfer), 0);
    CHECK_EQ(fault_sys_failed(FS_READ), 3);
    CHECK_EQ(fault_sys_failed(FS_WRITE), 4);
    pipe_close();
    end(fds);
}

/* A spurious EAGAIN while data waits: the next event brings it all. */
TEST(fault_sys_io_spurious_eagain)
{
    int fds = corio_test_count_fds();
    begin();
    pipe_open();
    fault_sys_fail(FS_READ, 2, 1, EAGAIN);
    CHECK_EQ(run(body_pipe_transfer), 0);
    CHECK_EQ(fault_sys_failed(FS_READ), 1);
    pipe_close();
    end(fds);
}

/* A full disk (ENOSPC) or no memory (ENOMEM) on write is reported; what
 * was written before stays counted. */
static int body_write_enospc(void)
{
    size_t w = 12345;
    int rc = corio_write_all(pipefd[1], big, 100, &w);
    CHECK_EQ(rc, -ENOSPC);
    CHECK_EQ(w, 0);
    return 0;
}

TEST(fault_sys_io_write_enospc)
{
    int fds = corio_test_count_fds();
    begin();
    pipe_open();
    fault_sys_fail(FS_WRITE, 1, 1, ENOSPC);
    CHECK_EQ(run(body_write_enospc), 0);
    pipe_close();
    end(fds);
}

static int body_read_enomem(void)
{
    char c;
    CHECK_EQ(corio_write(pipefd[1], "z", 1), 1);
    CHECK_EQ(corio_read(pipefd[0], &c, 1), -ENOMEM);
    CHECK_EQ(corio_read(pipefd[0], &c, 1), 1); /* the byte is still there */
    CHECK_EQ(c, 'z');
    return 0;
}

TEST(fault_sys_io_read_enomem)
{
    int fds = corio_test_count_fds();
    begin();
    pipe_open();
    fault_sys_fail(FS_READ, 1, 1, ENOMEM);
    CHECK_EQ(run(body_read_enomem), 0);
    pipe_close();
    end(fds);
}

/* The poller cannot take the descriptor (epoll_ctl ENOMEM or ENOSPC, the
 * max_user_watches limit): the wait fails with that error, and works once
 * the poller can take it again. */
static int wait_err;

static int body_register_fails(void)
{
    char c;
    int rc = corio_wait_readable(pipefd[0]); /* empty: must register */
    if (fault_sys_calls(FS_EPOLL_CTL) > 0)
        CHECK_EQ(rc, wait_err);
    fault_sys_reset();
    if (rc == 0)
        return 0; /* poll backend: nothing to register */
    CHECK_EQ(corio_write(pipefd[1], "q", 1), 1);
    CHECK_EQ(corio_wait_readable(pipefd[0]), 0);
    CHECK_EQ(corio_read(pipefd[0], &c, 1), 1);
    return 0;
}

static int body_register_poll_side(void)
{
    /* Under poll there is no epoll_ctl; make the wait end. */
    CHECK_EQ(corio_write(pipefd[1], "q", 1), 1);
    return body_register_fails();
}

static void register_fails(int err)
{
    int fds = corio_test_count_fds();
    const char *b = getenv("CORIO_BACKEND");
    begin();
    pipe_open();
    wait_err = -err;
    /* Loop creation registers the eventfd (call 1); the pipe is next. */
    fault_sys_fail(FS_EPOLL_CTL, 2, 1, err);
    if (b && strcmp(b, "poll") == 0)
        CHECK_EQ(run(body_register_poll_side), 0);
    else
        CHECK_EQ(run(body_register_fails), 0);
    pipe_close();
    end(fds);
}

TEST(fault_sys_io_register_enomem) { register_fails(ENOMEM); }
TEST(fault_sys_io_register_enospc) { register_fails(ENOSPC); }

/* ---- accept ------------------------------------------------------------ */

static int lsock, csock;

static void listen_local(void)
{
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX; /* autobind: an abstract name of its own */
    lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(lsock >= 0);
    CHECK_EQ(bind(lsock, (struct sockaddr *)&a, sizeof(sa_family_t)), 0);
    CHECK_EQ(listen(lsock, 4), 0);
    CHECK_EQ(getsockname(lsock, (struct sockaddr *)&a, &len), 0);
    csock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(csock >= 0);
    CHECK_EQ(connect(csock, (struct sockaddr *)&a, len), 0);
}

static int accept_err;

static int body_accept(void)
{
    int s = corio_accept(lsock, NULL, NULL);
    if (accept_err) {
        CHECK_EQ(s, accept_err);
        s = corio_accept(lsock, NULL, NULL); /* the client still waits */
    }
    CHECK(s >= 0);
    CHECK_EQ(corio_fd_close(s), 0);
    return 0;
}

static void accept_fails(int err, int times, int reported)
{
    int fds = corio_test_count_fds();
    begin();
    listen_local();
    accept_err = reported ? -err : 0;
    fault_sys_fail(FS_ACCEPT4, 1, times, err);
    CHECK_EQ(run(body_accept), 0);
    CHECK_EQ(fault_sys_failed(FS_ACCEPT4), times);
    CHECK_EQ(corio_fd_close(lsock), 0);
    CHECK_EQ(close(csock), 0);
    end(fds);
}

TEST(fault_sys_accept_eintr) { accept_fails(EINTR, 3, 0); }
TEST(fault_sys_accept_enomem) { accept_fails(ENOMEM, 1, 1); }

/* ---- signals ----------------------------------------------------------- */

static int body_signal_emfile(void)
{
    CHECK_EQ(corio_signal_wait(SIGUSR2), -EMFILE);
    return 0;
}

/* No descriptor for the signalfd: the wait says so; no signal is left
 * blocked and nothing leaks. */
TEST(fault_sys_signalfd_emfile)
{
    int fds = corio_test_count_fds();
    begin();
    fault_sys_fail(FS_SIGNALFD, 1, 1, EMFILE);
    CHECK_EQ(run(body_signal_emfile), 0);
    end(fds);
}
