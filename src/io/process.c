/*
 * process.c: child processes for tasks (contract in corio/process.h).
 *
 * Spawning. fork, then in the child only async-signal-safe calls (signal
 * dispositions and mask, setsid/setpgid, dup2, chdir, close_range, execve)
 * and, if any of them fails, its errno written to a close-on-exec "error
 * pipe" before _exit(127). The parent reads that pipe: end of file means
 * the exec happened (the pipe closed with it), four bytes are the error,
 * and spawn reaps the child and returns the error. Everything the parent
 * makes is close-on-exec from the start, so a fork by another thread
 * meanwhile inherits none of it for good. All signals are blocked in the
 * parent's thread around fork, so that no handler of the parent runs in
 * the child before exec; the child resets handled signals to their
 * default before it unblocks them. PATH is searched in the parent (the
 * child only tries the candidate paths), as malloc is not safe there.
 *
 * Per-loop state (struct procs): the processes not yet reaped (live), and
 * an on_event hook in the loop's chain for their pidfds. The loop has no
 * slot for it, so it is found through its closer in loop->closers (a
 * handful of entries). The closer shares CORIO__CLOSE_IO with io.c's and
 * signal.c's, so the hooks come off in LIFO order.
 *
 * Tokens. A pidfd is watched under 0xFFFFFFFF_8xxxxxxx (generation
 * 0xFFFFFFFF is reserved for what is not io.c's; signal.c has low half 0
 * and the wakeup eventfd all ones; the high bit of the low half marks a
 * process, the rest is the pidfd number).
 *
 * States of a process: RUNNING (in live, watched), EXITED (reaped:
 * returncode set), LOST (someone else reaped it: ECHILD). Leaving RUNNING
 * (finish) unlinks it, closes its pidfd and wakes every waiting task. A
 * released process still RUNNING stays in live and is freed when reaped.
 *
 * Fallback without pidfds: one SIGCHLD watcher (proc_sigwatch.h) per loop
 * while such children live; each delivery tries waitpid(pid, WNOHANG) on
 * each of them, then watches again. A child that exited before the
 * watcher was armed is found by the same scan right after arming.
 *
 * Limits: spawn blocks the thread until the child has exec'd (a fork of a
 * large process costs what fork costs); kill-on-release happens only at
 * the loop's teardown or a release without a loop.
 */
#include "alloc.h"
#include "task/task_impl.h"
#include "io/proc_sigwatch.h"

#include <corio/group.h>
#include <corio/io.h>
#include <corio/process.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

#define PROC_TOKEN_HIGH 0xFFFFFFFF00000000ull
#define PROC_TOKEN_BIT 0x80000000u

enum { P_RUNNING, P_EXITED, P_LOST };

struct procs {
    corio__list live;             /* corio_process.node, not yet reaped */
    size_t nfallback;             /* of them, watched through SIGCHLD */
    int no_pidfd;                 /* pidfd_open said ENOSYS (or CORIO_PIDFD=0) */
    corio__wait chld;             /* the SIGCHLD watcher (fallback) */
    corio_loop *loop;
    int (*next_on_event)(corio_loop *loop, const corio__poll_event *ev);
    corio__closer closer;         /* CORIO__CLOSE_IO: procs_fini */
};

struct corio_process {
    corio__node node;       /* in procs.live while RUNNING and ps set */
    struct procs *ps;       /* NULL once its loop is gone */
    pid_t pid;
    int pidfd;              /* -1: none (fallback), or closed */
    int fds[3];             /* the parent's pipe ends, or -1 */
    int returncode;
    int cancel_signal;
    unsigned char state;    /* P_* */
    unsigned char released;
    unsigned char leads_group;
    corio__list waiters;    /* tasks' wait records */
    size_t nwaiters;
};

/* ---- per-loop state ------------------------------------------------------- */

static void procs_fini(corio__closer *c, corio_loop *loop);
static int procs_on_event(corio_loop *loop, const corio__poll_event *ev);

static struct procs *procs_find(corio_loop *loop)
{
    corio__closer *c;
    for (c = loop->closers; c; c = c->next)
        if (c->close == procs_fini)
            return CORIO__CONTAINER(c, struct procs, closer);
    return NULL;
}

static struct procs *procs_of(corio_loop *loop)
{
    struct procs *ps = procs_find(loop);
    const char *e;
    if (ps)
        return ps;
    ps = corio__calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    e = getenv("CORIO_PIDFD");
    ps->no_pidfd = e && strcmp(e, "0") == 0;
    ps->loop = loop;
    ps->chld.state = CORIO__WAIT_IDLE;
    ps->next_on_event = loop->on_event;
    loop->on_event = procs_on_event;
    ps->closer.order = CORIO__CLOSE_IO;
    ps->closer.close = procs_fini;
    corio__loop_add_closer(loop, &ps->closer);
    return ps;
}

/* ---- reaping -------------------------------------------------------------- */

static void proc_free(corio_process *p)
{
    int i;
    for (i = 0; i < 3; i++)
        if (p->fds[i] >= 0)
            corio_fd_close(p->fds[i]);
    if (p->pidfd >= 0)
        close(p->pidfd);
    corio__free(p);
}

/* p left RUNNING: unlink it, drop its pidfd, wake its waiters. */
static void finish(corio_process *p)
{
    struct procs *ps = p->ps;
    corio__wait *w;
    int value = p->state == P_LOST ? -ECHILD : 0;
    if (ps) {
        corio__list_remove(&ps->live, &p->node);
        if (p->pidfd >= 0)
            ps->loop->pops->unwatch(ps->loop->poller, p->pidfd);
        else
            ps->nfallback--;
    }
    if (p->pidfd >= 0) {
        close(p->pidfd);
        p->pidfd = -1;
    }
    while ((w = corio__wait_pop(&p->waiters)) != NULL) {
        assert(ps && ps->loop->outside_waits > 0);
        p->nwaiters--;
        ps->loop->outside_waits--;
        corio__wait_wake(w, value, NULL);
    }
    p->ps = NULL;
    if (p->released)
        proc_free(p);
}

/* Try to reap p (options: WNOHANG or 0). 1 if it is no longer RUNNING
 * (p may be freed then, if released), 0 if it still runs. */
static int reap(corio_process *p, int options)
{
    int st = 0;
    pid_t r;
    assert(p->state == P_RUNNING);
    do
        r = waitpid(p->pid, &st, options);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return 0;
    if (r == p->pid) {
        p->state = P_EXITED;
        if (WIFEXITED(st))
            p->returncode = WEXITSTATUS(st);
        else if (WIFSIGNALED(st))
            p->returncode = -WTERMSIG(st);
        else
            return 0; /* stopped or continued: not an exit */
    } else {
        p->state = P_LOST; /* ECHILD: reaped behind our back */
    }
    finish(p);
    return 1;
}

static int send_signal(corio_process *p, int sig)
{
    if (p->state != P_RUNNING)
        return -ESRCH;
    if (p->pidfd >= 0) {
        if (syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) == 0)
            return 0;
        if (errno != ENOSYS)
            return -errno;
    }
    return kill(p->pid, sig) == 0 ? 0 : -errno;
}

/* Kill and reap p now, blocking (teardown, release without a loop).
 * 1 when done (p freed if it was released), 0 if waitpid gave nothing. */
static int kill_and_reap(corio_process *p)
{
    send_signal(p, SIGKILL);
    return reap(p, 0);
}

static int procs_on_event(corio_loop *loop, const corio__poll_event *ev)
{
    struct procs *ps = procs_find(loop);
    uint32_t low = (uint32_t)ev->token;
    corio__node *n, *nx;
    assert(ps);
    if ((ev->token & PROC_TOKEN_HIGH) != PROC_TOKEN_HIGH ||
        !(low & PROC_TOKEN_BIT) || low == UINT32_MAX)
        return ps->next_on_event ? ps->next_on_event(loop, ev) : 0;
    CORIO__LIST_EACH(n, nx, &ps->live) {
        corio_process *p = CORIO__CONTAINER(n, corio_process, node);
        if (p->pidfd == (int)(low & ~PROC_TOKEN_BIT)) {
            reap(p, WNOHANG);
            break;
        }
    }
    return 0;
}

/* Fallback: try every child watched through SIGCHLD. */
static void scan_fallback(struct procs *ps)
{
    corio__node *n, *nx;
    CORIO__LIST_EACH(n, nx, &ps->live) {
        corio_process *p = CORIO__CONTAINER(n, corio_process, node);
        if (p->pidfd < 0)
            reap(p, WNOHANG);
    }
}

static void chld_notify(corio__wait *w);
static const corio__wait_ops chld_ops = {"SIGCHLD watch", NULL, 0,
                                         chld_notify, NULL};

/* Keep the SIGCHLD watcher armed while fallback children live, scanning
 * after each arming so no exit slips between. 0 or a negative errno. */
static int chld_arm(struct procs *ps)
{
    int rc;
    for (;;) {
        if (ps->nfallback == 0 || ps->chld.state == CORIO__WAIT_PENDING)
            return 0;
        corio__wait_watch(&ps->chld, &chld_ops, ps);
        rc = corio__signal_watch(ps->loop, SIGCHLD, &ps->chld);
        if (rc < 0) {
            ps->chld.state = CORIO__WAIT_IDLE;
            return rc;
        }
        if (rc == 1)
            ps->chld.state = CORIO__WAIT_GRANTED; /* came already: rescan */
        scan_fallback(ps);
        if (rc == 0)
            return 0;
    }
}

static void chld_notify(corio__wait *w)
{
    struct procs *ps = CORIO__CONTAINER(w, struct procs, chld);
    scan_fallback(ps);
    chld_arm(ps); /* nothing it can fail at: the signalfd exists */
}

static void procs_fini(corio__closer *c, corio_loop *loop)
{
    struct procs *ps = CORIO__CONTAINER(c, struct procs, closer);
    corio__node *n;
    corio__signal_unwatch(loop, &ps->chld);
    while ((n = corio__list_first(&ps->live)) != NULL) {
        corio_process *p = CORIO__CONTAINER(n, corio_process, node);
        assert(p->nwaiters == 0); /* tasks were detached before teardown */
        if (p->released && kill_and_reap(p))
            continue; /* finish unlinked and freed it */
        corio__list_remove(&ps->live, &p->node);
        if (p->pidfd >= 0)
            loop->pops->unwatch(loop->poller, p->pidfd);
        p->ps = NULL; /* still the holder's; release kills it */
    }
    loop->on_event = ps->next_on_event; /* hooks come off in LIFO order */
    corio__free(ps);
}

/* ---- spawning ------------------------------------------------------------- */

/* What the child needs, all prepared in the parent. */
struct spawn {
    char **paths;        /* candidate program paths, NULL-terminated */
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int src[3];          /* what becomes fd i; -1: leave it */
    int err_to_out;      /* stderr = stdout */
    unsigned flags;
    int errfd;           /* the error pipe's write end */
    int maxfd;           /* for the close loop, when close_range is missing */
};

static __attribute__((noreturn)) void child_fail(int errfd, int err)
{
    ssize_t r;
    do
        r = write(errfd, &err, sizeof err);
    while (r < 0 && errno == EINTR);
    _exit(127);
}

/* The child, between fork and exec: async-signal-safe calls only. */
static __attribute__((noreturn)) void child_run(const struct spawn *s)
{
    struct sigaction sa;
    sigset_t none;
    int i, fd, err = ENOENT, saw_eacces = 0;

    /* Handlers of the parent must not run here: default for each signal
     * that has one (exec would reset them anyway), and for SIGPIPE and
     * SIGXFSZ when ignored. All signals are blocked until the exec. */
    for (i = 1; i < _NSIG; i++) {
        if (i == SIGKILL || i == SIGSTOP || sigaction(i, NULL, &sa) != 0)
            continue;
        if (sa.sa_handler == SIG_DFL && !(sa.sa_flags & SA_SIGINFO))
            continue;
        if (sa.sa_handler == SIG_IGN && !(sa.sa_flags & SA_SIGINFO) &&
            i != SIGPIPE && i != SIGXFSZ)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigaction(i, &sa, NULL);
    }
    if ((s->flags & CORIO_PROCESS_NEW_SESSION) && setsid() < 0)
        child_fail(s->errfd, errno);
    if ((s->flags & CORIO_PROCESS_NEW_GROUP) &&
        !(s->flags & CORIO_PROCESS_NEW_SESSION) && setpgid(0, 0) < 0)
        child_fail(s->errfd, errno);
    /* Sources among 0..2 that would be overwritten: move them up first. */
    int src[3] = {s->src[0], s->src[1], s->src[2]};
    for (i = 0; i < 3; i++) {
        if (src[i] >= 0 && src[i] < 3 && src[i] != i) {
            fd = fcntl(src[i], F_DUPFD_CLOEXEC, 3);
            if (fd < 0)
                child_fail(s->errfd, errno);
            src[i] = fd;
        }
    }
    for (i = 0; i < 3; i++) {
        if (src[i] < 0)
            continue;
        if (src[i] == i) {
            if (fcntl(i, F_SETFD, 0) < 0)
                child_fail(s->errfd, errno);
        } else if (dup2(src[i], i) < 0) {
            child_fail(s->errfd, errno);
        }
    }
    if (s->err_to_out && dup2(1, 2) < 0)
        child_fail(s->errfd, errno);
    if (s->cwd && chdir(s->cwd) < 0)
        child_fail(s->errfd, errno);
    if (!(s->flags & CORIO_PROCESS_KEEP_FDS) &&
        syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
        /* Before Linux 5.11: close all but the error pipe. */
        if (s->errfd > 3)
            syscall(SYS_close_range, 3u, (unsigned)s->errfd - 1, 0u);
        if (syscall(SYS_close_range, (unsigned)s->errfd + 1, ~0u, 0u) != 0)
            for (fd = 3; fd <= s->maxfd; fd++)
                if (fd != s->errfd)
                    close(fd);
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (i = 0; s->paths[i]; i++) {
        execve(s->paths[i], s->argv, s->envp);
        /* As execvp: go on past missing entries and refused ones; keep
         * EACCES if any entry gave it. */
        if (errno == EACCES)
            saw_eacces = 1;
        else if (errno != ENOENT && errno != ENOTDIR) {
            err = errno;
            goto failed;
        }
    }
    err = saw_eacces ? EACCES : ENOENT;
failed:
    child_fail(s->errfd, err);
}

/* The paths to try for program name: itself if it has a '/', else each
 * PATH entry joined with it. One allocation (free the array). */
static int make_paths(const char *name, char ***out)
{
    const char *path, *p, *e;
    size_t nlen = strlen(name), n = 1, bytes, dlen;
    char **v, *s;
    if (strchr(name, '/') || !*name) {
        v = corio__malloc(2 * sizeof *v + nlen + 1);
        if (!v)
            return -ENOMEM;
        v[0] = (char *)(v + 2);
        memcpy(v[0], name, nlen + 1);
        v[1] = NULL;
        *out = v;
        return 0;
    }
    path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    for (p = path; *p; p++)
        n += *p == ':';
    bytes = (n + 1) * sizeof *v + strlen(path) + n * (nlen + 3);
    v = corio__malloc(bytes);
    if (!v)
        return -ENOMEM;
    s = (char *)(v + n + 1);
    n = 0;
    for (p = path;; p = e + 1) {
        e = strchr(p, ':');
        if (!e)
            e = p + strlen(p);
        dlen = (size_t)(e - p);
        v[n++] = s;
        if (dlen == 0) {
            *s++ = '.'; /* an empty entry is the current directory */
        } else {
            memcpy(s, p, dlen);
            s += dlen;
        }
        *s++ = '/';
        memcpy(s, name, nlen + 1);
        s += nlen + 1;
        if (!*e)
            break;
    }
    v[n] = NULL;
    *out = v;
    return 0;
}

static int valid_signal(int sig)
{
    return sig >= 0 && sig < _NSIG;
}

static int check_opts(const corio_process_opts *o)
{
    int i;
    if (o->flags & ~(CORIO_PROCESS_NEW_GROUP | CORIO_PROCESS_NEW_SESSION |
                     CORIO_PROCESS_KEEP_FDS))
        return -EINVAL;
    if (!valid_signal(o->cancel_signal))
        return -EINVAL;
    for (i = 0; i < 3; i++) {
        switch (o->stdio[i].kind) {
        case CORIO_STDIO_INHERIT:
        case CORIO_STDIO_PIPE:
        case CORIO_STDIO_NULL:
            break;
        case CORIO_STDIO_FD:
            if (o->stdio[i].fd < 0 || fcntl(o->stdio[i].fd, F_GETFD) < 0)
                return -EBADF;
            break;
        case CORIO_STDIO_STDOUT:
            if (i != 2)
                return -EINVAL;
            break;
        default:
            return -EINVAL;
        }
    }
    return 0;
}

static void close_if(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Register p's exit watch: its pidfd with the poller, or the SIGCHLD
 * fallback. 0 or a negative errno (nothing registered). */
static int watch_exit(struct procs *ps, corio_process *p)
{
    corio_loop *loop = ps->loop;
    struct sigaction sa;
    int rc;
    if (!ps->no_pidfd) {
        p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0u);
        if (p->pidfd < 0) {
            /* ESRCH: gone already, reaped by someone else (SIGCHLD
             * ignored): reap finds that out and ends it as LOST. */
            if (errno == ESRCH && reap(p, WNOHANG))
                return 0;
            if (errno != ENOSYS)
                return -errno;
            ps->no_pidfd = 1;
        } else if ((unsigned)p->pidfd & PROC_TOKEN_BIT) {
            return -EMFILE; /* cannot be: fds stay far below 2^31 */
        } else {
            rc = loop->pops->watch(loop->poller, p->pidfd, CORIO__POLL_IN,
                                   PROC_TOKEN_HIGH | PROC_TOKEN_BIT |
                                       (uint32_t)p->pidfd);
            if (rc) {
                close_if(&p->pidfd);
                return rc;
            }
            corio__list_push_back(&ps->live, &p->node);
            p->ps = ps;
            return 0;
        }
    }
    /* With SIGCHLD ignored the kernel reaps the child itself and sends
     * no SIGCHLD: there would be nothing to wait for. */
    if (sigaction(SIGCHLD, NULL, &sa) == 0 &&
        ((!(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_IGN) ||
         (sa.sa_flags & SA_NOCLDWAIT)))
        return -ECHILD;
    corio__list_push_back(&ps->live, &p->node);
    p->ps = ps;
    ps->nfallback++;
    if ((rc = chld_arm(ps)) != 0) {
        corio__list_remove(&ps->live, &p->node);
        ps->nfallback--;
        p->ps = NULL;
    }
    return rc;
}

int corio_process_spawn(const char *const argv[],
                        const corio_process_opts *opts,
                        corio_process **out)
{
    static const corio_process_opts defaults;
    corio_loop *loop = corio_loop_current();
    struct procs *ps;
    struct spawn s;
    corio_process *p = NULL;
    int child_end[3] = {-1, -1, -1}, errpipe[2] = {-1, -1}, nullfd = -1;
    int i, rc, err = 0, fds[2];
    sigset_t all, old;
    struct rlimit rl;
    ssize_t n;
    pid_t pid;

    if (!argv || !argv[0] || !out)
        return -EINVAL;
    if (!opts)
        opts = &defaults;
    if ((rc = check_opts(opts)) != 0)
        return rc;
    if (!loop)
        return CORIO_ENOTASK;
    if (loop->closing)
        return -ESHUTDOWN;
    if (!(ps = procs_of(loop)))
        return -ENOMEM;
    memset(&s, 0, sizeof s);
    if ((rc = make_paths(argv[0], &s.paths)) != 0)
        return rc;
    if (!(p = corio__calloc(1, sizeof *p))) {
        rc = -ENOMEM;
        goto fail;
    }
    p->pidfd = -1;
    p->fds[0] = p->fds[1] = p->fds[2] = -1;
    s.argv = (char *const *)argv;
    s.envp = (char *const *)(opts->env ? opts->env
                                       : (const char *const *)environ);
    s.cwd = opts->cwd;
    s.flags = opts->flags;
    s.maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
                      rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < INT_MAX
                  ? (int)rl.rlim_cur
                  : 65536;
    for (i = 0; i < 3; i++) {
        s.src[i] = -1;
        switch (opts->stdio[i].kind) {
        case CORIO_STDIO_PIPE:
            if (pipe2(fds, O_CLOEXEC) < 0) {
                rc = -errno;
                goto fail;
            }
            /* stdin: the child reads fds[0]; outputs: it writes fds[1]. */
            p->fds[i] = i == 0 ? fds[1] : fds[0];
            child_end[i] = i == 0 ? fds[0] : fds[1];
            s.src[i] = child_end[i];
            if ((rc = corio_fd_nonblock(p->fds[i])) != 0)
                goto fail;
            break;
        case CORIO_STDIO_NULL:
            if (nullfd < 0 &&
                (nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
                rc = -errno;
                goto fail;
            }
            s.src[i] = nullfd;
            break;
        case CORIO_STDIO_FD:
            s.src[i] = opts->stdio[i].fd;
            break;
        case CORIO_STDIO_STDOUT:
            s.err_to_out = 1;
            break;
        default:
            break;
        }
    }
    if (pipe2(errpipe, O_CLOEXEC) < 0) {
        rc = -errno;
        goto fail;
    }
    s.errfd = errpipe[1];

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid = fork();
    if (pid == 0)
        child_run(&s);
    err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        rc = -err;
        goto fail;
    }
    close_if(&errpipe[1]);
    for (i = 0; i < 3; i++)
        close_if(&child_end[i]);
    close_if(&nullfd);
    do
        n = read(errpipe[0], &err, sizeof err);
    while (n < 0 && errno == EINTR);
    close_if(&errpipe[0]);
    p->pid = pid;
    p->state = P_RUNNING;
    if (n != 0) {
        /* The exec failed (or the pipe did: report it as EIO). */
        rc = n == (ssize_t)sizeof err && err > 0 ? -err : -EIO;
        reap(p, 0);
        goto fail;
    }
    if ((rc = watch_exit(ps, p)) != 0) {
        kill_and_reap(p);
        goto fail;
    }
    p->cancel_signal = opts->cancel_signal;
    p->leads_group = (opts->flags & (CORIO_PROCESS_NEW_GROUP |
                                     CORIO_PROCESS_NEW_SESSION)) != 0;
    corio__free(s.paths);
    *out = p;
    return 0;

fail:
    for (i = 0; i < 3; i++)
        close_if(&child_end[i]);
    close_if(&errpipe[0]);
    close_if(&errpipe[1]);
    close_if(&nullfd);
    if (p)
        proc_free(p);
    corio__free(s.paths);
    return rc;
}

/* ---- waiting -------------------------------------------------------------- */

static int result(const corio_process *p, int *returncode)
{
    if (p->state == P_LOST)
        return -ECHILD;
    if (returncode)
        *returncode = p->returncode;
    return 0;
}

static void detach_wait(corio__wait *w)
{
    corio_process *p = (corio_process *)(uintptr_t)w->obj;
    corio_loop *loop = w->task->loop;
    corio__list_remove(&p->waiters, &w->node);
    p->nwaiters--;
    assert(loop->outside_waits > 0);
    loop->outside_waits--;
}

static void describe_wait(const corio__wait *w, corio__wait_desc *d)
{
    const corio_process *p = (const corio_process *)(uintptr_t)w->obj;
    corio__wait_descf(d, "exit of child process %ld", (long)p->pid);
}

static const corio__wait_ops process_ops = {"process", detach_wait, 0, 0,
                                            describe_wait};

/* A wait of p ended in cancellation: send its cancel_signal, if any. */
static void cancelled(corio_process *p)
{
    if (!p->cancel_signal || p->state != P_RUNNING)
        return;
    if (p->leads_group && kill(-p->pid, p->cancel_signal) == 0)
        return;
    send_signal(p, p->cancel_signal);
}

int corio_process_wait(corio_process *p, int *returncode)
{
    corio_task *t = corio__task_running();
    corio__wait *w;
    int rc;

    if (!p)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (p->state != P_RUNNING)
        return result(p, returncode);
    if (!p->ps || p->ps->loop != t->loop)
        return -EPERM;
    /* It may have exited already: then there is nothing to wait for. */
    if (reap(p, WNOHANG))
        return result(p, returncode);
    if (corio__task_cancel_report(t)) {
        cancelled(p);
        return -ECANCELED;
    }
    w = corio__wait_begin(t, &process_ops, p, 0);
    corio__list_push_back(&p->waiters, &w->node);
    p->nwaiters++;
    t->loop->outside_waits++;
    rc = corio__wait_park(w);
    if (w->state == CORIO__WAIT_GRANTED)
        return rc ? rc : result(p, returncode);
    if (rc == -ECANCELED)
        cancelled(p);
    return rc;
}

int corio_process_try_wait(corio_process *p, int *returncode)
{
    if (!p)
        return -EINVAL;
    if (p->state == P_RUNNING && !reap(p, WNOHANG))
        return -EAGAIN;
    return result(p, returncode);
}

/* ---- signals, descriptors, release ----------------------------------------- */

int corio_process_signal(corio_process *p, int sig)
{
    if (!p || !valid_signal(sig))
        return -EINVAL;
    return send_signal(p, sig);
}

int corio_process_terminate(corio_process *p)
{
    return corio_process_signal(p, SIGTERM);
}

int corio_process_kill(corio_process *p)
{
    return corio_process_signal(p, SIGKILL);
}

int corio_process_signal_group(corio_process *p, int sig)
{
    if (!p || !valid_signal(sig) || !p->leads_group)
        return -EINVAL;
    return kill(-p->pid, sig) == 0 ? 0 : -errno;
}

pid_t corio_process_pid(const corio_process *p)
{
    return p ? p->pid : 0;
}

int corio_process_fd(const corio_process *p, int which)
{
    if (!p || which < 0 || which > 2)
        return -1;
    return p->fds[which];
}

int corio_process_close_fd(corio_process *p, int which)
{
    int fd;
    if (!p || which < 0 || which > 2)
        return -EINVAL;
    if ((fd = p->fds[which]) < 0)
        return -EBADF;
    p->fds[which] = -1;
    corio_fd_close(fd);
    return 0;
}

int corio_process_release(corio_process *p)
{
    int i;
    if (!p)
        return 0;
    if (p->nwaiters)
        return -EBUSY;
    for (i = 0; i < 3; i++)
        if (p->fds[i] >= 0)
            corio_process_close_fd(p, i);
    p->released = 1;
    if (p->state == P_RUNNING && p->ps && !p->ps->loop->closing)
        return 0; /* its loop reaps it (finish frees it then) */
    if (p->state == P_RUNNING && kill_and_reap(p))
        return 0; /* no loop to reap it later; finish freed it */
    proc_free(p);
    return 0;
}

/* ---- communicate ---------------------------------------------------------- */

struct comm {
    corio_process *p;
    corio_process_io *io;
};

/* write(2) with SIGPIPE held off: a reader gone gives EPIPE, and the
 * SIGPIPE the write raised is taken (unless one was pending before). */
static ssize_t write_nopipe(int fd, const void *buf, size_t len)
{
    static const struct timespec zero = {0, 0};
    sigset_t pipeset, old, pend;
    int was_pending, e;
    ssize_t n;
    sigemptyset(&pipeset);
    sigaddset(&pipeset, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipeset, &old);
    was_pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE);
    n = write(fd, buf, len);
    e = errno;
    if (n < 0 && e == EPIPE && !was_pending)
        while (sigtimedwait(&pipeset, NULL, &zero) < 0 && errno == EINTR)
            ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return n;
}

static int comm_writer(void *arg, void **result)
{
    struct comm *c = arg;
    const char *buf = c->io->input;
    size_t len = c->io->input_len, chunk;
    int fd = c->p->fds[0], rc;
    ssize_t n;
    (void)result;
    while (c->io->written < len) {
        chunk = len - c->io->written;
        if (chunk > (1u << 20))
            chunk = 1u << 20;
        n = write_nopipe(fd, buf + c->io->written, chunk);
        if (n > 0) {
            c->io->written += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            if ((rc = corio_wait_writable(fd)) != 0)
                return rc;
        } else if (n < 0 && errno == EPIPE) {
            break; /* the child stopped reading: as asyncio, not an error */
        } else {
            return n < 0 ? -errno : -EIO;
        }
    }
    return corio_process_close_fd(c->p, 0);
}

/* Read fd to end of file into *buf / *len (NUL-terminated). */
static int read_all(int fd, size_t limit, char **buf, size_t *len)
{
    size_t cap = *buf ? *len + 1 : 0, want;
    char *nb;
    ssize_t n;
    for (;;) {
        if (cap - *len < 4096 + 1) {
            size_t ncap = cap ? cap * 2 : 8192;
            if (!(nb = corio__realloc(*buf, ncap)))
                return -ENOMEM;
            *buf = nb;
            cap = ncap;
            (*buf)[*len] = 0;
        }
        want = cap - *len - 1;
        if (limit && want > limit - *len + 1)
            want = limit - *len + 1; /* one byte more tells "too long" */
        n = corio_read(fd, *buf + *len, want);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return 0;
        *len += (size_t)n;
        (*buf)[*len] = 0;
        if (limit && *len > limit) {
            *len = limit;
            (*buf)[*len] = 0;
            return -E2BIG;
        }
    }
}

static int comm_err_reader(void *arg, void **result)
{
    struct comm *c = arg;
    (void)result;
    return read_all(c->p->fds[2], c->io->limit, &c->io->err,
                    &c->io->err_len);
}

int corio_process_communicate(corio_process *p, corio_process_io *io)
{
    corio_task *t = corio__task_running();
    struct comm *c; /* on the heap: the caller may be a lean task */
    corio_group *g;
    int rc = 0;

    if (!p || !io || (!io->input && io->input_len > 0))
        return -EINVAL;
    if (io->input_len > 0 && p->fds[0] < 0)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (p->state == P_RUNNING && (!p->ps || p->ps->loop != t->loop))
        return -EPERM;
    io->out = io->err = NULL;
    io->out_len = io->err_len = io->written = 0;
    io->returncode = 0;
    if (p->fds[0] >= 0 || p->fds[2] >= 0) {
        if (!(c = corio__malloc(sizeof *c)))
            return -ENOMEM;
        c->p = p;
        c->io = io;
        if ((rc = corio_group_open(&g)) != 0) {
            corio__free(c);
            return rc;
        }
        if (p->fds[0] >= 0)
            rc = corio_group_spawn(g, comm_writer, c, NULL, NULL);
        if (rc == 0 && p->fds[2] >= 0)
            rc = corio_group_spawn(g, comm_err_reader, c, NULL, NULL);
        if (rc == 0 && p->fds[1] >= 0)
            rc = read_all(p->fds[1], io->limit, &io->out, &io->out_len);
        if (rc && rc != -ECANCELED)
            corio_group_cancel(g);
        rc = corio_group_wait(g, rc);
        corio_group_free(g);
        corio__free(c);
    } else if (p->fds[1] >= 0) {
        rc = read_all(p->fds[1], io->limit, &io->out, &io->out_len);
    }
    if (rc == 0)
        return corio_process_wait(p, &io->returncode);
    if (rc == -ECANCELED)
        cancelled(p);
    return rc;
}
