/*
 * process_tests.h: what the subprocess tests share (io/test_process.c,
 * io/test_process_pipes.c): running a body as main, "no child left", a
 * spawn-and-wait, and reading a pipe to its end.
 */
#ifndef CORIO_TEST_PROCESS_TESTS_H
#define CORIO_TEST_PROCESS_TESTS_H

#include "test.h"
#include "run_body.h"

#include <corio.h>
#include <errno.h>
#include <sys/wait.h>

#define RUN_OK(fn) CHECK_EQ(run(fn), 0)

static inline void no_children(void)
{
    errno = 0;
    CHECK_EQ(waitpid(-1, NULL, WNOHANG), -1);
    CHECK_EQ(errno, ECHILD);
}

static inline int spawn_wait(const char *const *argv,
                             const corio_process_opts *o, int *code)
{
    corio_process *p;
    int rc = corio_process_spawn(argv, o, &p);
    if (rc)
        return rc;
    rc = corio_process_wait(p, code);
    CHECK_EQ(corio_process_release(p), 0);
    return rc;
}

/* Read fd to end of file into a static buffer. */
static inline char *read_to_eof(int fd)
{
    static char buf[65536];
    size_t len = 0;
    ssize_t n;
    while ((n = corio_read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    CHECK_EQ(n, 0);
    buf[len] = 0;
    return buf;
}

#endif /* CORIO_TEST_PROCESS_TESTS_H */
