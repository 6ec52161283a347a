/*
 * subprocess.c: running child processes from tasks.
 *
 * asyncio's subprocess calls, in C:
 *
 *     p = await asyncio.create_subprocess_exec("ls", "/", stdout=PIPE)
 *     out, _ = await p.communicate()
 *
 *     p = await asyncio.create_subprocess_exec("sort", stdin=PIPE, stdout=PIPE)
 *     out, _ = await p.communicate(b"pear\napple\nfig\n")
 *
 *     # printf ... | tr a-z A-Z, read with a timeout
 *     async with asyncio.timeout(10):
 *         out = await second.stdout.read()
 *
 * Three parts: `ls /` with its output read through a pipe; `sort` fed its
 * input and read back by corio_process_communicate (writing and reading at
 * once, so no pipe can fill up and deadlock); and a pipeline of two
 * processes connected by a pipe of our own, whose output is read inside a
 * timeout scope. The timed-out wait would kill the child (cancel_signal).
 * Exits 0 when every output is what it should be.
 */
#define _GNU_SOURCE /* pipe2 */
#include <corio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "subprocess: %s: %s\n", what, corio_strerror(rc));
    return rc < 0 ? rc : -EIO;
}

/* `ls /`: read the pipe ourselves until end of file. */
static int run_ls(void)
{
    const char *argv[] = {"ls", "/", NULL};
    corio_process_opts o = {0};
    corio_process *p;
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    int rc, code = -1;

    o.stdio[1].kind = CORIO_STDIO_PIPE;
    if ((rc = corio_process_spawn(argv, &o, &p)) != 0)
        return fail("spawn ls", rc);
    while ((n = corio_read(corio_process_fd(p, 1), buf + len,
                           sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = 0;
    rc = corio_process_wait(p, &code);
    corio_process_release(p);
    if (rc)
        return fail("wait ls", rc);
    printf("ls / exited with %d; it lists %s\n", code,
           strstr(buf, "proc\n") ? "proc" : "no proc (odd)");
    return code == 0 ? 0 : -EIO;
}

/* `sort`: input in, output out, all at once. */
static int run_sort(void)
{
    const char *argv[] = {"sort", NULL};
    corio_process_opts o = {0};
    corio_process_io io = {0};
    corio_process *p;
    int rc;

    o.stdio[0].kind = CORIO_STDIO_PIPE;
    o.stdio[1].kind = CORIO_STDIO_PIPE;
    if ((rc = corio_process_spawn(argv, &o, &p)) != 0)
        return fail("spawn sort", rc);
    io.input = "pear\napple\nfig\n";
    io.input_len = strlen(io.input);
    io.limit = 1 << 20;
    rc = corio_process_communicate(p, &io);
    corio_process_release(p);
    if (rc == 0)
        printf("sort said:\n%s", io.out);
    if (rc == 0 && strcmp(io.out, "apple\nfig\npear\n") != 0)
        rc = -EIO;
    corio_free(io.out);
    corio_free(io.err);
    return rc ? fail("sort", rc) : 0;
}

/* printf ... | tr a-z A-Z, the second one's output read within 10 s. */
static int run_pipeline(void)
{
    const char *first[] = {"printf", "one\\ntwo\\n", NULL};
    const char *second[] = {"tr", "a-z", "A-Z", NULL};
    corio_process_opts o1 = {0}, o2 = {0};
    corio_process *p1, *p2;
    corio_scope *timeout;
    char buf[256];
    size_t len = 0;
    ssize_t n = 0;
    int link[2], rc, c1 = -1, c2 = -1;

    if (pipe2(link, O_CLOEXEC) != 0)
        return fail("pipe", -errno);
    o1.stdio[1].kind = CORIO_STDIO_FD;
    o1.stdio[1].fd = link[1];
    o2.stdio[0].kind = CORIO_STDIO_FD;
    o2.stdio[0].fd = link[0];
    o2.stdio[1].kind = CORIO_STDIO_PIPE;
    o2.cancel_signal = SIGKILL; /* a timed-out wait kills it */
    rc = corio_process_spawn(first, &o1, &p1);
    if (rc == 0 && (rc = corio_process_spawn(second, &o2, &p2)) != 0)
        corio_process_release(p1);
    close(link[0]); /* the children have their own copies now */
    close(link[1]);
    if (rc)
        return fail("spawn pipeline", rc);

    if ((rc = corio_scope_timeout(10.0, &timeout)) != 0) {
        corio_process_kill(p1);
        corio_process_kill(p2);
    } else {
        while ((n = corio_read(corio_process_fd(p2, 1), buf + len,
                               sizeof buf - 1 - len)) > 0)
            len += (size_t)n;
        rc = n < 0 ? (int)n : 0;
        if (rc == 0)
            rc = corio_process_wait(p2, &c2);
        rc = corio_scope_close(timeout, rc);
    }
    buf[len] = 0;
    if (rc == 0)
        rc = corio_process_wait(p1, &c1);
    corio_process_release(p1);
    corio_process_release(p2);
    if (rc)
        return fail("pipeline", rc);
    printf("printf | tr exited with %d and %d, saying:\n%s", c1, c2, buf);
    return strcmp(buf, "ONE\nTWO\n") == 0 && c1 == 0 && c2 == 0 ? 0 : -EIO;
}

static int main_task(void *arg, void **result)
{
    int rc;
    (void)arg;
    (void)result;
    if ((rc = run_ls()) != 0 || (rc = run_sort()) != 0 ||
        (rc = run_pipeline()) != 0)
        return rc;
    return 0;
}

int main(void)
{
    int rc = corio_run(main_task, NULL, NULL);
    if (rc != 0) {
        fprintf(stderr, "subprocess: %s\n", corio_strerror(rc));
        return 1;
    }
    return 0;
}
