/*
 * sigdump.c: corio_diag_dump_on_signal (corio/diag.h): a signal prints
 * the task dump and the program carries on, even while a task that never
 * yields holds the loop.
 *
 * Three parties:
 *   - the handler, on the loop's thread (a signal another thread receives
 *     is sent on there with tgkill). It does only what is async-signal-
 *     safe: reads the running task (corio__task_cur, an initial-exec
 *     thread-local: a plain load), copies that task's id, name pointer and
 *     spawn site, walks the frame pointers of the interrupted context
 *     (reads bounded by the running coroutine's stack, or by the loop
 *     thread's own stack when no task runs), stores them in the static
 *     snapshot and write()s one byte to a pipe. No locks, no allocation,
 *     no stdio. A signal that comes while the last snapshot is still being
 *     printed only writes its byte (the snapshot is not overwritten).
 *   - the watchdog thread, blocked in read() on that pipe. It prints the
 *     snapshot (symbolizing there is allowed: it is an ordinary thread),
 *     "task 'x' (#n) holds the loop" and where it runs, or where the loop
 *     thread is when no task runs; then asks the loop for the whole dump
 *     with corio__loop_call_soon_soft (a threadsafe call that never waits
 *     on back-pressure: the loop may be held by a hog).
 *   - the loop, which prints corio_loop_dump to stderr at its next
 *     iteration: at once when it was idle, once the hog yields otherwise.
 *
 * The handler copies the task's name (up to 63 bytes) rather than
 * keeping a pointer: the task may have ended by the time the watchdog
 * prints. Its spawn file is a string literal (__FILE__).
 *
 * Limits: one loop per process. The handler's walk needs frame pointers
 * in the code it interrupted (else it shows the pc alone). Symbolizing in
 * the watchdog takes the dynamic loader's lock (dladdr): a loop thread
 * interrupted inside dlopen would make the watchdog wait for it.
 */
#include "threads.h"
#include "diag/diag_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static struct {
    pthread_mutex_t lock; /* install / remove (not the handler) */
    corio_loop *loop;
    int signo;
    pid_t tid;            /* the loop's thread */
    uintptr_t th_lo, th_hi; /* its own stack */
    struct sigaction old;
    int pipe_rd, pipe_wr;
    pthread_t watchdog;
    atomic_int taken;     /* the snapshot is being filled or printed */
    corio__snapshot snap;
} sd = {.lock = PTHREAD_MUTEX_INITIALIZER, .pipe_rd = -1, .pipe_wr = -1};

/* ---- the handler (async-signal-safe only) ----------------------------------------- */

/* The interrupted pc and frame pointer. */
static void interrupted_at(const ucontext_t *uc, void **pc, void **fp)
{
#if defined(__x86_64__)
    *pc = (void *)uc->uc_mcontext.gregs[REG_RIP];
    *fp = (void *)uc->uc_mcontext.gregs[REG_RBP];
#elif defined(__aarch64__)
    *pc = (void *)uc->uc_mcontext.pc;
    *fp = (void *)uc->uc_mcontext.regs[29];
#else
    (void)uc;
    *pc = *fp = NULL;
#endif
}

/* Fill s in a signal handler on loop's thread (see the top of the file
 * for what is async-signal-safe here). */
void corio__diag_capture(corio__snapshot *s, const corio_loop *loop,
                         void *ucv, uintptr_t th_lo, uintptr_t th_hi)
{
    corio_task *t = corio__task_cur;
    uintptr_t lo = th_lo, hi = th_hi;
    void *pc, *fp;
    size_t i;
    s->has_task = t && t->loop == loop;
    s->npcs = 0;
    if (s->has_task) {
        s->id = t->id;
        for (i = 0; i + 1 < sizeof s->name && t->name[i]; i++)
            s->name[i] = t->name[i];
        s->name[i] = 0;
        s->file = t->file;
        s->line = t->line;
        if (t->coro.stack) {
            lo = (uintptr_t)t->coro.stack->lo;
            hi = lo + t->coro.stack->size;
        }
    }
    interrupted_at((const ucontext_t *)ucv, &pc, &fp);
    if ((uintptr_t)fp < lo || (uintptr_t)fp >= hi)
        fp = NULL; /* not a frame pointer here: the pc alone */
    s->npcs = corio__bt_walk(pc, fp, lo, hi, NULL, s->pcs, CORIO__BT_MAX);
}


static void on_signal(int signo, siginfo_t *si, void *ucv)
{
    int saved = errno;
    char byte = 's';
    ssize_t w;
    (void)si;
    if ((pid_t)syscall(SYS_gettid) != sd.tid) {
        /* Not the loop's thread: send it there (tgkill is a plain
         * system call). */
        syscall(SYS_tgkill, getpid(), sd.tid, signo);
        errno = saved;
        return;
    }
    if (atomic_exchange(&sd.taken, 1) == 0)
        corio__diag_capture(&sd.snap, sd.loop, ucv, sd.th_lo, sd.th_hi);
    do
        w = write(sd.pipe_wr, &byte, 1);
    while (w < 0 && errno == EINTR);
    errno = saved;
}

/* ---- the watchdog thread ------------------------------------------------------------ */

static void dump_now(void *arg)
{
    corio_loop *loop = arg;
    fprintf(stderr, "corio: dump on signal:\n");
    corio_loop_dump(loop, stderr, CORIO_DUMP_TEXT);
}

static void print_snapshot(const corio__snapshot *s)
{
    char head[512];
    if (s->has_task)
        snprintf(head, sizeof head,
                 "corio: on signal: task '%s' (#%llu, spawned at %s:%d) holds "
                 "the loop; it runs at:\n",
                 s->name, (unsigned long long)s->id, s->file, s->line);
    else
        snprintf(head, sizeof head, "corio: on signal: no task holds the "
                                    "loop; its thread is at:\n");
    corio__bt_report(head, s->pcs, s->npcs);
}

static void *watchdog(void *arg)
{
    corio_loop *loop = arg;
    char byte;
    for (;;) {
        ssize_t r = read(sd.pipe_rd, &byte, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || byte == 'q')
            break;
        if (atomic_load(&sd.taken)) {
            print_snapshot(&sd.snap);
            atomic_store(&sd.taken, 0);
        }
        if (corio__loop_call_soon_soft(loop, dump_now, loop) != 0)
            fprintf(stderr, "corio: on signal: the loop takes no more "
                            "calls (being freed)\n");
    }
    return NULL;
}

/* ---- setting it up ------------------------------------------------------------------ */

void corio__diag_thread_stack(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t a;
    void *addr;
    size_t size;
    *lo = *hi = 0;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return;
    if (pthread_attr_getstack(&a, &addr, &size) == 0) {
        *lo = (uintptr_t)addr;
        *hi = *lo + size;
    }
    pthread_attr_destroy(&a);
}

static void remove_locked(int restore)
{
    char q = 'q';
    ssize_t w;
    if (restore)
        sigaction(sd.signo, &sd.old, NULL);
    do
        w = write(sd.pipe_wr, &q, 1);
    while (w < 0 && errno == EINTR);
    pthread_join(sd.watchdog, NULL);
    close(sd.pipe_rd);
    close(sd.pipe_wr);
    sd.pipe_rd = sd.pipe_wr = -1;
    sd.loop = NULL;
    sd.signo = 0;
    atomic_store(&sd.taken, 0);
}

void corio__diag_sigdump_let_go(corio_loop *loop)
{
    pthread_mutex_lock(&sd.lock);
    if (sd.loop == loop)
        remove_locked(1);
    pthread_mutex_unlock(&sd.lock);
}

int corio_diag_dump_on_signal(corio_loop *loop, int signo)
{
    corio__diag_state *ds;
    struct sigaction sa;
    sigset_t probe;
    int fds[2], rc;

    if (!loop)
        return -EINVAL;
    if (signo != 0) {
        sigemptyset(&probe);
        if (signo < 0 || signo >= _NSIG || signo == SIGKILL ||
            signo == SIGSTOP || sigaddset(&probe, signo) != 0)
            return -EINVAL;
    }
    pthread_mutex_lock(&sd.lock);
    if (signo == 0) {
        if (sd.loop == loop)
            remove_locked(1);
        pthread_mutex_unlock(&sd.lock);
        return 0;
    }
    if (sd.loop && sd.loop != loop) {
        pthread_mutex_unlock(&sd.lock);
        return -EBUSY;
    }
    if (sd.loop) /* again on the same loop: perhaps another signal */
        remove_locked(1);
    if (!(ds = corio__diag_state_of(loop))) {
        pthread_mutex_unlock(&sd.lock);
        return loop->closing ? -ESHUTDOWN : -ENOMEM;
    }
    corio__diag_let_go_at_free(loop, ds);
    if (pipe2(fds, O_CLOEXEC) != 0) {
        rc = -errno;
        pthread_mutex_unlock(&sd.lock);
        return rc;
    }
    sd.pipe_rd = fds[0];
    sd.pipe_wr = fds[1];
    sd.loop = loop;
    sd.signo = signo;
    sd.tid = (pid_t)syscall(SYS_gettid);
    corio__diag_thread_stack(&sd.th_lo, &sd.th_hi);
    /* The watchdog must never take the signal itself (threads.h). */
    rc = corio__thread_start(&sd.watchdog, watchdog, loop);
    if (rc == 0) {
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigfillset(&sa.sa_mask);
        if (sigaction(signo, &sa, &sd.old) != 0) {
            rc = -errno;
            remove_locked(0); /* nothing was installed */
            pthread_mutex_unlock(&sd.lock);
            return rc;
        }
    } else {
        close(fds[0]);
        close(fds[1]);
        sd.pipe_rd = sd.pipe_wr = -1;
        sd.loop = NULL;
        sd.signo = 0;
    }
    pthread_mutex_unlock(&sd.lock);
    return rc;
}
