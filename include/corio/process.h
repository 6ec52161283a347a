/*
 * corio/process.h: child processes for tasks (asyncio's
 * create_subprocess_exec and Process).
 *
 * A process is started by corio_process_spawn on the loop running on the
 * calling thread and belongs to that loop. Its exit is watched through a
 * pidfd registered with the loop's poller (Linux 5.3 and later), so no
 * SIGCHLD handler is involved and only this process is ever reaped; where
 * the kernel has no pidfd_open, a SIGCHLD-based watch takes over (see
 * "Without pidfds" below). corio never calls waitpid(-1): it reaps only
 * the children it started.
 *
 * Exit status: a returncode as in asyncio: the exit code (0..255) if the
 * child exited, or minus the number of the signal that ended it
 * (-SIGKILL = -9).
 *
 * Pipes: the parent's ends of the pipes are non-blocking and close-on-exec;
 * use them with corio_read / corio_write / corio_write_all (io.h). The
 * process owns them: corio_process_close_fd closes one early (the child
 * then sees end of file on its stdin), corio_process_release closes the
 * rest. Writing to a pipe whose reader has exited raises SIGPIPE unless
 * the program ignores or blocks it (then -EPIPE), as io.h says.
 *
 * Lifetime: corio_process_release while the child runs leaves it running;
 * the loop reaps it in the background when it exits (no zombie). When the
 * loop is freed, children that nobody holds any more and that still run
 * are killed (SIGKILL) and reaped; a process still held at that time is
 * left alone, and releasing it later (with no loop) kills and reaps its
 * child if it still runs. So a child never outlives its process object
 * and its loop both, and none is left a zombie.
 *
 * The application reaping our children itself (waitpid(-1) in its own
 * SIGCHLD handler) takes their status away: a wait then returns -ECHILD.
 *
 * Without pidfds (kernels before 5.3, or CORIO_PIDFD=0 in the environment,
 * for tests): corio watches SIGCHLD through corio_signal_wait's machinery
 * (io.h), so SIGCHLD is blocked in the loop's thread from the first spawn
 * on and must be blocked in every other thread too; each SIGCHLD makes
 * the loop try waitpid(pid, WNOHANG) on each of its own children; SIGCHLD
 * must not be ignored (SIG_IGN): spawn refuses then, and ignoring it later
 * leaves waits hanging. (With pidfds, an ignored SIGCHLD only makes the
 * kernel reap the children, so waits give -ECHILD.) Signals
 * sent to a child are then sent by pid (kill), which is only safe while
 * nobody else reaps it.
 */
#ifndef CORIO_PROCESS_H
#define CORIO_PROCESS_H

#include <stddef.h>
#include <sys/types.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_process corio_process;

/* What a child's stdin, stdout or stderr is. */
enum corio_stdio_kind {
    CORIO_STDIO_INHERIT = 0, /* the parent's own descriptor (the default) */
    CORIO_STDIO_PIPE,        /* a pipe; the parent's end: corio_process_fd */
    CORIO_STDIO_NULL,        /* /dev/null */
    CORIO_STDIO_FD,          /* corio_stdio.fd, duplicated (stays the
                                caller's, open in the parent) */
    CORIO_STDIO_STDOUT       /* stderr only: wherever stdout goes (2>&1) */
};

typedef struct corio_stdio {
    int kind; /* enum corio_stdio_kind */
    int fd;   /* for CORIO_STDIO_FD */
} corio_stdio;

/* corio_process_opts.flags */
#define CORIO_PROCESS_NEW_GROUP 0x1u   /* the child leads a new process group
                                          (setpgid(0, 0)) */
#define CORIO_PROCESS_NEW_SESSION 0x2u /* the child leads a new session
                                          (setsid(): also a new group) */
#define CORIO_PROCESS_KEEP_FDS 0x4u    /* do not close the descriptors
                                          above 2 in the child (only those
                                          without close-on-exec survive) */

typedef struct corio_process_opts {
    /* "NAME=value" strings, NULL-terminated: the child's whole
     * environment; NULL: the parent's (environ at the time of the call). */
    const char *const *env;
    /* The child's working directory; NULL: the parent's. A relative
     * program path (one with a '/') is then relative to it. */
    const char *cwd;
    /* stdin, stdout, stderr; zeroed: all inherited. */
    corio_stdio stdio[3];
    unsigned flags; /* CORIO_PROCESS_* */
    /* Sent to the child when a corio_process_wait of it ends in
     * cancellation (a cancel or a timeout); 0 (the default) sends nothing
     * and leaves it running, as asyncio does. Sent to the child's whole
     * process group when it leads one (NEW_GROUP / NEW_SESSION). */
    int cancel_signal;
} corio_process_opts;

/*
 * corio_process_spawn: start the program argv[0] with arguments argv
 * (NULL-terminated) as a child process of the loop running on this
 * thread. A program name without '/' is looked for in the parent's PATH
 * (default "/bin:/usr/bin") as execvp does; one with a '/' is used as
 * given. opts may be NULL (everything inherited). In the child every
 * signal is unblocked, SIGPIPE and SIGXFSZ get their default action, and
 * (unless CORIO_PROCESS_KEEP_FDS) every descriptor above 2 is closed.
 *
 * Does not suspend, but blocks the thread for the fork and until the
 * child has called exec (or failed to), so that a program that cannot be
 * run is reported here, not as a child exiting with 127. Needs a running
 * loop on this thread (a task or a loop callback).
 *
 * Returns 0 with *out set (release it with corio_process_release), or a
 * negative errno, with nothing started and nothing leaked:
 *   the exec's error: -ENOENT (no such program), -EACCES (not executable
 *   or not permitted), -ENOEXEC, -E2BIG, -ENOTDIR, -ELOOP, ...;
 *   chdir's error for opts->cwd (-ENOENT, -ENOTDIR, -EACCES);
 *   -EINVAL: argv or out NULL, argv[0] NULL, an unknown stdio kind or
 *   flag, CORIO_STDIO_STDOUT for stdin or stdout, a bad cancel_signal;
 *   -EBADF: a CORIO_STDIO_FD descriptor that is not open;
 *   -EMFILE / -ENFILE: no descriptor for a pipe, /dev/null or the pidfd;
 *   -EAGAIN: fork failed (process limit), -ENOMEM;
 *   -ECHILD: no pidfds (see above) and SIGCHLD ignored (SIG_IGN or
 *   SA_NOCLDWAIT), so the exit could not be watched (the child is killed);
 *   -ESHUTDOWN: the loop is being freed; CORIO_ENOTASK: no running loop.
 */
CORIO_API int corio_process_spawn(const char *const argv[],
                                  const corio_process_opts *opts,
                                  corio_process **out);

/*
 * corio_process_wait: suspend the calling task until the child has exited
 * and been reaped, and set *returncode (may be NULL). Returns at once when
 * it has exited already. Several tasks may wait for the same process.
 *
 * Cancellation: if it would have to wait while a cancel stands, or a
 * cancel (a timeout scope included) reaches it while it waits, returns
 * -ECANCELED and the child keeps running, unless the process was spawned
 * with a cancel_signal: that signal is then sent to it (or its group)
 * before returning; the loop still reaps it, and a later wait gets its
 * status. A child that has exited already is reported with 0, cancel or
 * not.
 *
 * Returns 0, -ECANCELED, -ECHILD (someone else reaped the child: its
 * status is lost), -EINVAL (p NULL), -EPERM (p belongs to another loop,
 * or its loop is gone), CORIO_ENOTASK (not in a task).
 */
CORIO_API int corio_process_wait(corio_process *p, int *returncode);

/*
 * corio_process_try_wait: the returncode if the child has exited (it is
 * reaped now if need be), without waiting. Returns 0 with *returncode set
 * (may be NULL), -EAGAIN while it runs, -ECHILD (reaped by someone else),
 * -EINVAL (p NULL). Never suspends; works without a loop.
 */
CORIO_API int corio_process_try_wait(corio_process *p, int *returncode);

/*
 * corio_process_signal: send signal sig (0 only checks) to the child,
 * through its pidfd when it has one, so never to a process that reused
 * its pid. Returns 0, -ESRCH (it has exited; asyncio's
 * ProcessLookupError), -EINVAL (p NULL, bad signal), -EPERM. Never
 * suspends.
 * corio_process_terminate and corio_process_kill send SIGTERM and SIGKILL.
 */
CORIO_API int corio_process_signal(corio_process *p, int sig);
CORIO_API int corio_process_terminate(corio_process *p);
CORIO_API int corio_process_kill(corio_process *p);

/*
 * corio_process_signal_group: send sig to the process group the child
 * leads (spawned with CORIO_PROCESS_NEW_GROUP or NEW_SESSION): the child
 * and what it started, even after the child itself has exited, as long as
 * a member of the group lives. Returns 0, -ESRCH (no member left), -EINVAL
 * (p NULL, bad signal, p leads no group), -EPERM. Never suspends.
 */
CORIO_API int corio_process_signal_group(corio_process *p, int sig);

/* corio_process_pid: the child's pid (0 for NULL). It stays the process
 * object's to reap: never waitpid() it. */
CORIO_API pid_t corio_process_pid(const corio_process *p);

/* corio_process_fd: the parent's end of the pipe for the child's stdin
 * (which 0), stdout (1) or stderr (2): non-blocking, owned by p; -1 if
 * that stream is no pipe, was closed, or p is NULL or which is out of
 * range. */
CORIO_API int corio_process_fd(const corio_process *p, int which);

/*
 * corio_process_close_fd: close the parent's end of pipe `which` (0, 1 or
 * 2) with corio_fd_close (tasks waiting on it get -EBADF); closing stdin
 * gives the child end of file. Returns 0, -EBADF (no such pipe, or closed
 * already), -EINVAL (p NULL, which out of range). Never suspends.
 */
CORIO_API int corio_process_close_fd(corio_process *p, int which);

/* What corio_process_communicate takes and gives. */
typedef struct corio_process_io {
    /* In: written to the child's stdin pipe (if it has one), which is
     * then closed. input may be NULL when input_len is 0. */
    const void *input;
    size_t input_len;
    /* In: the most bytes kept from stdout and from stderr each; 0: no
     * limit. */
    size_t limit;
    /* Out: what the child wrote to its stdout / stderr pipes:
     * NUL-terminated (an empty string when it wrote nothing), the caller
     * frees them with corio_free (corio/alloc.h), also after an error (what had been read by
     * then). NULL for a stream that is no pipe, or when no buffer could
     * be had or the call ended before reading it. */
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
    size_t written;  /* Out: how much of input went to the child */
    int returncode;  /* Out: after success, as corio_process_wait's */
} corio_process_io;

/*
 * corio_process_communicate: write io->input to the child's stdin while
 * reading its stdout and stderr, all at once (so a child that writes a lot
 * before reading everything never deadlocks with us), close stdin after
 * the input, read both to end of file, then wait for the child to exit.
 * Suspends. Helper tasks do the writing and the stderr reading; they are
 * finished before it returns.
 *
 * Returns 0 with every out field set, or a negative errno, with the out
 * fields telling what was done: -ECANCELED (as corio_process_wait,
 * cancel_signal included; the helper tasks are cancelled and finished
 * first), -E2BIG (more than io->limit bytes on a stream: the first limit
 * bytes are kept, the child is left running, its stdin possibly still
 * open), -ENOMEM, -ECHILD, -EINVAL (p or io NULL, input NULL with
 * input_len > 0, input given but stdin is no pipe), -EPERM and
 * CORIO_ENOTASK as corio_process_wait, and the errors of corio_read /
 * corio_wait_writable.
 * A child that closes its stdin (or exits) before reading all the input
 * is not an error, as in asyncio: io->written tells how much it got. The
 * SIGPIPE such a write raises is taken (SIGPIPE is blocked in the calling
 * thread around each write), never delivered.
 */
CORIO_API int corio_process_communicate(corio_process *p,
                                        corio_process_io *io);

/*
 * corio_process_release: drop the process object: close the pipes it
 * still owns and, if the child is still running, leave it running and
 * reaped in the background by its loop (or, if its loop is gone or being
 * freed, kill it with SIGKILL and reap it: this blocks until it is dead).
 * Returns 0 (also for NULL), or -EBUSY, with nothing done, while a task
 * waits on p. Never suspends. Call it on the loop's thread (or, once the
 * loop is gone, on any one thread).
 */
CORIO_API int corio_process_release(corio_process *p);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_PROCESS_H */
