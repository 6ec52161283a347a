/*
 * bench_procspawn.c: the procspawn suite: start /bin/true and wait for it
 * to exit, one child at a time, with corio_process_spawn +
 * corio_process_wait from a task, beside libuv's uv_spawn and a plain
 * posix_spawn + waitpid (no event loop at all: the floor).
 *
 * Rows:
 *   libuv uv_spawn: uv_spawn of /bin/true (stdio ignored), its exit
 *     callback closes the handle and starts the next child; uv_run until
 *     the last has exited (libuv watches exits through its SIGCHLD
 *     handler and a signal pipe), when libuv was found;
 *   corio_process_spawn + wait: a task spawns /bin/true, waits for it
 *     (its pidfd in the loop's poller) and releases it, n times; the loop
 *     is kept across samples;
 *   posix_spawn + waitpid: the same with no loop (vfork-like spawn, a
 *     blocking wait).
 * Samples are ~1.4 s each, so the 7 samples of a row make about 10,000
 * spawns (--quick: a handful). Every child's stdio is inherited from the
 * benchmark (libuv: stdio count 0, i.e. the same).
 * asyncio (loop_bench.py procspawn: create_subprocess_exec + wait, 2,000
 * times) runs once after the table, in a process of its own.
 */
#include "bench.h"
#include "loopbench.h"
#include "suites.h"

#include <corio.h>

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#ifdef CORIO_BENCH_HAVE_LIBUV
#include <uv.h>
#endif

extern char **environ;

#define TRUE_PATH "/bin/true"

/* ---- corio ------------------------------------------------------------------------ */

struct cp {
    corio_loop *loop;
    uint64_t n;
    int rc;
};

static int cp_task(void *arg, void **result)
{
    struct cp *s = arg;
    const char *argv[] = {TRUE_PATH, NULL};
    (void)result;
    for (uint64_t i = 0; i < s->n && s->rc == 0; i++) {
        corio_process *p;
        int code = -1;
        if ((s->rc = corio_process_spawn(argv, NULL, &p)) != 0)
            break;
        s->rc = corio_process_wait(p, &code);
        corio_process_release(p);
        if (s->rc == 0 && code != 0)
            s->rc = -EIO;
    }
    corio_loop_stop(s->loop);
    return 0;
}

static int cp_setup(void **state, const char **why)
{
    struct cp *s = calloc(1, sizeof *s);
    int rc;
    (void)why;
    if (!s)
        return -ENOMEM;
    if ((rc = corio_loop_new(NULL, &s->loop)) != 0) {
        free(s);
        return rc;
    }
    *state = s;
    return 0;
}

static int cp_run(void *state, uint64_t n)
{
    struct cp *s = state;
    int rc;
    s->n = n;
    s->rc = 0;
    if ((rc = corio_loop_spawn(s->loop, cp_task, s, NULL, NULL)) != 0)
        return rc;
    if ((rc = corio_loop_run(s->loop)) != 0)
        return rc;
    return s->rc;
}

static void cp_teardown(void *state)
{
    struct cp *s = state;
    corio_loop_free(s->loop);
    free(s);
}

/* ---- posix_spawn + waitpid ------------------------------------------------------------ */

static int ps_run(void *state, uint64_t n)
{
    char *argv[] = {(char *)TRUE_PATH, NULL};
    (void)state;
    for (uint64_t i = 0; i < n; i++) {
        pid_t pid;
        int st, rc = posix_spawn(&pid, TRUE_PATH, NULL, NULL, argv, environ);
        if (rc != 0)
            return -rc;
        while (waitpid(pid, &st, 0) < 0)
            if (errno != EINTR)
                return -errno;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return -EIO;
    }
    return 0;
}

/* ---- libuv's uv_spawn ---------------------------------------------------------------- */

#ifdef CORIO_BENCH_HAVE_LIBUV
struct uvp {
    uv_loop_t loop;
    uv_process_t proc;
    uv_process_options_t opts;
    char *argv[2];
    uint64_t left;
    int rc;
};

static void uvp_start(struct uvp *s);

static void uvp_closed(uv_handle_t *h)
{
    struct uvp *s = h->data;
    if (s->rc == 0 && --s->left > 0)
        uvp_start(s);
}

static void uvp_exit(uv_process_t *p, int64_t status, int sig)
{
    struct uvp *s = p->data;
    if (status != 0 || sig != 0)
        s->rc = -EIO;
    uv_close((uv_handle_t *)p, uvp_closed);
}

static void uvp_start(struct uvp *s)
{
    int rc;
    s->proc.data = s;
    if ((rc = uv_spawn(&s->loop, &s->proc, &s->opts)) != 0) {
        s->rc = rc;
        uv_close((uv_handle_t *)&s->proc, NULL);
    }
}

static int uvp_setup(void **state, const char **why)
{
    struct uvp *s = calloc(1, sizeof *s);
    (void)why;
    if (!s)
        return -ENOMEM;
    if (uv_loop_init(&s->loop) != 0) {
        free(s);
        return -ENOMEM;
    }
    s->argv[0] = (char *)TRUE_PATH;
    s->opts.file = TRUE_PATH;
    s->opts.args = s->argv;
    s->opts.exit_cb = uvp_exit;
    *state = s;
    return 0;
}

static int uvp_run(void *state, uint64_t n)
{
    struct uvp *s = state;
    if (n == 0)
        return 0;
    s->left = n;
    s->rc = 0;
    uvp_start(s);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return s->rc;
}

static void uvp_teardown(void *state)
{
    struct uvp *s = state;
    uv_loop_close(&s->loop);
    free(s);
}
#else
static int uvp_setup(void **state, const char **why)
{
    (void)state;
    *why = "libuv1-dev not installed";
    return BENCH_NA;
}

static int uvp_run(void *state, uint64_t n)
{
    (void)state;
    (void)n;
    return 0;
}

static void uvp_teardown(void *state)
{
    (void)state;
}
#endif

/* ---- the table ----------------------------------------------------------------------- */

static const bench_row rows[] = {
    {"libuv uv_spawn + exit callback", uvp_setup, uvp_run, uvp_teardown, 0},
    {"corio_process_spawn + wait", cp_setup, cp_run, cp_teardown, 0},
    {"posix_spawn + waitpid (no loop)", NULL, ps_run, NULL, 0},
};

static const bench_table table = {
    "Subprocesses: spawn /bin/true and wait for it, one at a time",
    "ns/spawn+wait",
    NULL,
    0,
    rows,
    (int)(sizeof rows / sizeof rows[0]),
};

static void asyncio_row(const bench_opts *opts)
{
    char out[512], n[32];
    const char *why = NULL;
    const char *args[] = {"procspawn", n, NULL};
    double ns = 0;
    snprintf(n, sizeof n, "%d", opts->quick ? 20 : 2000);
    if (lb_python_setup(&why) != 0 ||
        lb_python_run(args, 300, out, sizeof out, &why) != 0 ||
        lb_field(out, "ns_per_spawn", &ns) != 0) {
        printf("  asyncio create_subprocess_exec + wait (one run): n/a "
               "(%s)\n", why ? why : "no result");
        return;
    }
    printf("  asyncio create_subprocess_exec + wait (one run, %s): "
           "%.0f ns/spawn+wait\n", n, ns);
}

static int procspawn_run(const bench_opts *opts)
{
    bench_opts o = *opts;
    int rc;
    if (!o.quick)
        o.sample_sec = 1.4; /* 7 samples: ~10,000 spawns per row */
    rc = bench_table_run(&table, &o);
    asyncio_row(opts);
    printf("\n"
           "  Ratios are to libuv. Each spawn is a fork/vfork + exec of\n"
           "  /bin/true and its exit; the loops add watching the exit\n"
           "  (corio: a pidfd; libuv: SIGCHLD and its signal pipe).\n");
    return rc;
}

const bench_suite bench_suite_procspawn = {
    "procspawn",
    "subprocess spawn + wait of /bin/true: corio vs libuv uv_spawn",
    procspawn_run,
};
