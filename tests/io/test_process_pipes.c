/*
 * test_process_pipes.c: child processes' pipes (corio/process.h): reading
 * and writing them with corio's fd calls, the stdio kinds, large payloads
 * both ways without deadlock, and corio_process_communicate's limits.
 */
#include "test.h"
#include "process_tests.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- pipes ------------------------------------------------------------------- */

static int echo_body(void)
{
    const char *argv[] = {"/bin/sh", "-c", "echo hello; echo oops >&2", NULL};
    corio_process_opts o = {0};
    corio_process *p;
    int code = -1;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    o.stdio[2].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(argv, &o, &p), 0);
    CHECK(corio_process_pid(p) > 0);
    CHECK_EQ(corio_process_fd(p, 0), -1);
    CHECK(fcntl(corio_process_fd(p, 1), F_GETFL) & O_NONBLOCK);
    CHECK(fcntl(corio_process_fd(p, 1), F_GETFD) & FD_CLOEXEC);
    CHECK_EQ(strcmp(read_to_eof(corio_process_fd(p, 1)), "hello\n"), 0);
    CHECK_EQ(strcmp(read_to_eof(corio_process_fd(p, 2)), "oops\n"), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, 0);
    CHECK_EQ(corio_process_release(p), 0);
    return 0;
}

TEST(process_echo_through_pipes)
{
    RUN_OK(echo_body);
    no_children();
}

static int stdio_kinds_body(void)
{
    const char *both[] = {"/bin/sh", "-c", "echo out; echo err >&2", NULL};
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    corio_process *p;
    int code = -1, pfd[2];

    /* stderr to wherever stdout goes */
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    o.stdio[2].kind = CORIO_STDIO_STDOUT;
    CHECK_EQ(corio_process_spawn(both, &o, &p), 0);
    CHECK_EQ(corio_process_fd(p, 2), -1);
    CHECK_EQ(strcmp(read_to_eof(corio_process_fd(p, 1)), "out\nerr\n"), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(corio_process_release(p), 0);
    /* stdin from /dev/null: cat ends at once */
    memset(&o, 0, sizeof o);
    o.stdio[0].kind = CORIO_STDIO_NULL;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(cat, &o, &p), 0);
    CHECK_EQ(strcmp(read_to_eof(corio_process_fd(p, 1)), ""), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(code, 0);
    CHECK_EQ(corio_process_release(p), 0);
    /* stdout to a descriptor of ours: a pipe we read ourselves */
    CHECK_EQ(pipe2(pfd, O_CLOEXEC), 0);
    CHECK_EQ(corio_fd_nonblock(pfd[0]), 0);
    memset(&o, 0, sizeof o);
    o.stdio[1].kind = CORIO_STDIO_FD;
    o.stdio[1].fd = pfd[1];
    CHECK_EQ(corio_process_spawn(both, &o, &p), 0);
    CHECK(fcntl(pfd[1], F_GETFD) >= 0); /* still ours */
    close(pfd[1]);
    CHECK_EQ(strcmp(read_to_eof(pfd[0]), "out\n"), 0);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(corio_process_release(p), 0);
    corio_fd_close(pfd[0]);
    return 0;
}

TEST(process_stdio_kinds)
{
    RUN_OK(stdio_kinds_body);
    no_children();
}

#define BIG (4u << 20)

static int cat_big_body(void)
{
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    corio_process_io io = {0};
    corio_process *p;
    char *in = malloc(BIG);
    size_t i;
    CHECK(in);
    for (i = 0; i < BIG; i++)
        in[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    o.stdio[2].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(cat, &o, &p), 0);
    io.input = in;
    io.input_len = BIG;
    CHECK_EQ(corio_process_communicate(p, &io), 0);
    CHECK_EQ(io.written, BIG);
    CHECK_EQ(io.out_len, BIG);
    CHECK(memcmp(io.out, in, BIG) == 0);
    CHECK_EQ(io.err_len, 0);
    CHECK(io.err != NULL && io.err[0] == 0);
    CHECK_EQ(io.returncode, 0);
    CHECK_EQ(corio_process_fd(p, 0), -1); /* closed after the input */
    CHECK_EQ(corio_process_release(p), 0);
    corio_free(io.out);
    corio_free(io.err);
    free(in);
    return 0;
}

TEST(process_cat_round_trip_large_payload)
{
    RUN_OK(cat_big_body);
    no_children();
}

/* Both ways by hand: a writer task and a reader task on one cat. */
struct halves {
    corio_process *p;
    char *in;
    size_t got;
    int same;
};

static int writer_half(void *arg, void **result)
{
    struct halves *h = arg;
    (void)result;
    CHECK_EQ(corio_write_all(corio_process_fd(h->p, 0), h->in, BIG, NULL), 0);
    CHECK_EQ(corio_process_close_fd(h->p, 0), 0);
    return 0;
}

static int reader_half(void *arg, void **result)
{
    struct halves *h = arg;
    char buf[8192];
    ssize_t n;
    (void)result;
    h->same = 1;
    while ((n = corio_read(corio_process_fd(h->p, 1), buf, sizeof buf)) > 0) {
        if (memcmp(buf, h->in + h->got, (size_t)n) != 0)
            h->same = 0;
        h->got += (size_t)n;
    }
    CHECK_EQ(n, 0);
    return 0;
}

static int cat_halves_body(void)
{
    const char *cat[] = {"cat", NULL};
    corio_process_opts o = {0};
    struct halves h = {0};
    corio_task *tw, *tr;
    size_t i;
    int code = -1;
    h.in = malloc(BIG);
    for (i = 0; i < BIG; i++)
        h.in[i] = (char)(i * 31 + i / 977);
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(cat, &o, &h.p), 0);
    CHECK_EQ(corio_spawn(writer_half, &h, NULL, &tw), 0);
    CHECK_EQ(corio_spawn(reader_half, &h, NULL, &tr), 0);
    CHECK_EQ(corio_task_join(tw, NULL), 0);
    CHECK_EQ(corio_task_join(tr, NULL), 0);
    CHECK_EQ(h.got, BIG);
    CHECK(h.same);
    CHECK_EQ(corio_process_wait(h.p, &code), 0);
    CHECK_EQ(code, 0);
    corio_task_release(tw);
    corio_task_release(tr);
    CHECK_EQ(corio_process_release(h.p), 0);
    free(h.in);
    return 0;
}

TEST(process_cat_both_ways_by_hand)
{
    RUN_OK(cat_halves_body);
    no_children();
}

static int communicate_edges_body(void)
{
    const char *noisy[] = {"/bin/sh", "-c",
                           "echo 0123456789; echo abcdefghij >&2; cat", NULL};
    const char *t[] = {"/bin/true", NULL};
    corio_process_opts o = {0};
    corio_process_io io = {0};
    corio_process *p;
    char *in = calloc(1, BIG);
    int code = -1, rc;

    /* A limit: -E2BIG, the first bytes kept; the child is left running. */
    o.stdio[0].kind = CORIO_STDIO_PIPE;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    o.stdio[2].kind = CORIO_STDIO_PIPE;
    CHECK_EQ(corio_process_spawn(noisy, &o, &p), 0);
    io.limit = 4;
    CHECK_EQ(corio_process_communicate(p, &io), -E2BIG);
    CHECK(io.out_len <= 4 && io.err_len <= 4);
    CHECK(io.out_len == 4 || io.err_len == 4);
    corio_free(io.out);
    corio_free(io.err);
    /* The writer may have been cancelled before it closed stdin. */
    rc = corio_process_close_fd(p, 0);
    CHECK(rc == 0 || rc == -EBADF);
    CHECK_EQ(corio_process_wait(p, &code), 0);
    CHECK_EQ(corio_process_release(p), 0);
    /* A child that reads nothing: the input is cut short, no SIGPIPE. */
    CHECK_EQ(corio_process_spawn(t, &o, &p), 0);
    memset(&io, 0, sizeof io);
    io.input = in;
    io.input_len = BIG;
    CHECK_EQ(corio_process_communicate(p, &io), 0);
    CHECK(io.written < BIG);
    CHECK_EQ(io.returncode, 0);
    corio_free(io.out);
    corio_free(io.err);
    CHECK_EQ(corio_process_release(p), 0);
    /* Input without a stdin pipe */
    memset(&o, 0, sizeof o);
    CHECK_EQ(corio_process_spawn(t, &o, &p), 0);
    CHECK_EQ(corio_process_communicate(p, &io), -EINVAL);
    memset(&io, 0, sizeof io);
    CHECK_EQ(corio_process_communicate(p, &io), 0); /* just a wait */
    CHECK(io.out == NULL && io.err == NULL);
    CHECK_EQ(corio_process_release(p), 0);
    free(in);
    return 0;
}

TEST(process_communicate_limits_and_broken_pipe)
{
    RUN_OK(communicate_edges_body);
    no_children();
}

/* stdout and stderr swapped (stdout to our fd 2, stderr to our fd 1):
 * spawn must move sources among 0..2 out of the way before it dup2()s
 * them. Done in a forked child whose fds 1 and 2 are pipes it reads. */
static int swap_body(void)
{
    const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2", NULL};
    corio_process_opts o = {0};
    int code = -1;
    o.stdio[1].kind = CORIO_STDIO_FD;
    o.stdio[1].fd = 2;
    o.stdio[2].kind = CORIO_STDIO_FD;
    o.stdio[2].fd = 1;
    CHECK_EQ(spawn_wait(argv, &o, &code), 0);
    CHECK_EQ(code, 0);
    return 0;
}

static void swap_child(void *arg)
{
    char a_buf[16] = {0}, b_buf[16] = {0};
    int a[2], b[2], ok;
    (void)arg;
    if (pipe(a) != 0 || pipe(b) != 0)
        _exit(2);
    dup2(a[1], 1);
    dup2(b[1], 2);
    close(a[1]);
    close(b[1]);
    ok = run(swap_body) == 0;
    close(1);
    close(2);
    ok = ok && read(a[0], a_buf, sizeof a_buf - 1) == 4 &&
         read(b[0], b_buf, sizeof b_buf - 1) == 4 &&
         strcmp(a_buf, "err\n") == 0 && strcmp(b_buf, "out\n") == 0;
    _exit(ok ? 0 : 1);
}

TEST(process_stdio_swapped_descriptors)
{
    int st = corio_test_fork(swap_child, NULL, NULL);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    no_children();
}
