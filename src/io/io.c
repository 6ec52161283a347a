/*
 * io.c: tasks waiting on file descriptors, and the non-blocking I/O calls
 * built on that (contract in corio/io.h).
 *
 * Table. Each loop that has seen a descriptor keeps a table indexed by fd
 * number (grown by doubling to the largest fd used; 24 bytes per number).
 * An entry holds:
 *   gen         bumped by corio_fd_close; the poller token is (gen << 32) | fd,
 *               so an event for a closed descriptor (same number, older
 *               generation) is recognised and dropped;
 *   registered  the poller watches fd under the current token;
 *   ready       CORIO__POLL_IN/OUT as far as the loop knows: set by events,
 *               cleared only when an operation fails with EAGAIN (or a
 *               check finds it stale);
 *   interest    what the poller was last told (level-triggered backend);
 *   drained     a short read of a stream socket emptied it, and no
 *               readable event came since;
 *   unv, listed the deferred registration check (Raw close, below);
 *   reader, writer  the task parked in each direction, or NULL.
 * Generation 0xFFFFFFFF is never used here: tokens with that high half
 * belong to other parts of the loop (signal.c, the wakeup eventfd) and are
 * passed down the on_event chain.
 *
 * Readiness. Both backends are handled alike: try the call; on EAGAIN
 * clear the bit and park. Edge-triggered epoll reports every later
 * change, so a clear bit is never stale once fd is registered. One
 * exception saves the read(2) that would only say EAGAIN (issue 11): a
 * read of a stream socket that returns fewer bytes than asked has emptied
 * it (the kernel copies all it has), so the next corio_read parks at
 * once; any readable event clears that (`drained`). Edge-triggered epoll
 * reports every arrival after the read as an event; poll(2) reports data
 * whenever a reader waits. With a cancel standing, or for 0 bytes, it
 * reads anyway (a ready fd must not fail). With poll(2) the
 * interest is the set of directions that have a waiter (never more, or a
 * ready fd nobody waits for would wake every iteration), updated with
 * every change. A bare corio_wait_* finds a set bit possibly stale (the
 * caller does its own I/O, which we never see fail), so it checks it with
 * a zero-timeout poll(2) before trusting it.
 *
 * Invariants:
 *   - e->reader == t  <=>  t is parked on fd for reading (its wait record
 *     is PENDING with obj the fd number and ops read_ops); same for
 *     writers;
 *   - loop->outside_waits counts every parked reader and writer (and
 *     signal.c's waiters): increment when parking, decrement on wake or
 *     detach;
 *   - registered == 0 implies interest == 0;
 *   - listed == 1  <=>  fd is in io->unv; unv != UNV_NONE implies listed;
 *     the sweep timer is queued while io->unv is not empty.
 *
 * Raw close(2) (io.h's rule). The table cannot see it: the entry keeps
 * its generation and registration. The level-triggered backend gives
 * poll(2) the number afresh at every wait. The edge-triggered one must
 * check that the kernel still has the registration (rearm: one
 * epoll_ctl), or a new file under the number is never reported; once per
 * park would be a system call per request, so the check is deferred: a
 * park marks the fd, and a sweep (a loop timer, every SWEEP_NS while
 * anything is marked) checks each fd whose waiter has stayed parked a
 * whole period without an event: so within one to two periods. A fd that
 * gets events is never checked (an event that wakes every waiter clears
 * the mark). The same check ends a wait after a short read that did not
 * drain after all (urgent data; a Unix socket's message with descriptors):
 * the MOD makes the kernel report what is there. Debug reports name the
 * tasks when either notices (rearm finds the kernel dropped the entry or
 * the number closed; poll says POLLNVAL for a waiter's fd).
 *
 * The table grows only for a descriptor that is open (fcntl F_GETFD),
 * so a huge invalid number is -EBADF, not a huge allocation.
 *
 * Limits: one reader and one writer per descriptor; a task parked on a
 * descriptor closed with close(2) may stay parked (epoll) until cancelled.
 */
#include "alloc.h"
#include "io/io_impl.h"
#include "task/task_impl.h"

#include <corio/io.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GEN_RESERVED 0xFFFFFFFFu
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define IN CORIO__POLL_IN
#define OUT CORIO__POLL_OUT

struct fdent {
    uint32_t gen;
    unsigned char registered;
    unsigned char ready;    /* IN / OUT */
    unsigned char interest; /* IN / OUT, last given to the poller */
    unsigned char notsock;  /* send() said ENOTSOCK: write() from now on */
    unsigned char nbchecked; /* made non-blocking (nonblock_check) */
    unsigned char kind;     /* KIND_*: may a short read mean "drained"? */
    unsigned char drained;  /* a short read emptied it; no IN event since */
    unsigned char unv;      /* UNV_*: registration check deferred */
    unsigned char listed;   /* fd is in io->unv */
    corio_task *reader, *writer;
};

/* fdent.kind, learned at the first short read (SO_TYPE). */
#define KIND_UNKNOWN 0
#define KIND_STREAM 1 /* a SOCK_STREAM socket */
#define KIND_OTHER 2

/* fdent.unv: where a parked task's registration check stands. */
#define UNV_NONE 0 /* checked, or nobody parked since, or an event came */
#define UNV_NEW 1  /* parked since the last sweep, no event since */
#define UNV_OLD 2  /* ... and across one sweep: check at the next */

/* The sweep's period: a registration left unchecked is checked after one
 * to two periods without an event. */
#define SWEEP_NS 50000000

struct io {
    struct fdent *ent;
    size_t n;
    /* The hook that was installed before ours, called for tokens that
     * are not ours. */
    int (*next_on_event)(corio_loop *loop, const corio__poll_event *ev);
    corio__closer closer; /* CORIO__CLOSE_IO: io_fini */
    /* A descriptor held in reserve for corio_accept's EMFILE answer (see
     * there), opened at the loop's first corio_accept; -1 before, or
     * when it could not be had. */
    int spare;
    /* Descriptors whose registration check is deferred (see "Raw close"
     * above): each listed at most once (fdent.listed), in order. */
    int *unv;
    size_t nunv, capunv;
    corio__timer sweep; /* queued while nunv > 0 */
    corio_loop *loop;
};

/* ---- system calls ----------------------------------------------------------- */

/* The reads and writes of the hot paths (corio_read, corio_write,
 * corio_write_all, corio__fd_read, corio__fd_send) go straight to the
 * kernel, not through glibc's read/send/write: in a process with threads
 * those wrap each call in the enabling and disabling of asynchronous
 * thread cancellation (they are pthread cancellation points), about 30
 * instructions a call, more than the rest of a wait's bookkeeping. These
 * descriptors are non-blocking, so the call never blocks and cancelling a
 * thread in it has nothing to interrupt. On x86-64 and AArch64 the system
 * call is made inline (no call, no errno: the kernel's -errno is the
 * answer); elsewhere through syscall(2).
 *
 * Sanitizer builds keep glibc's calls, whose interceptors check the
 * buffers and (TSan) see the synchronization a pipe or socket carries
 * between threads. The test binary's fault shim (tests/fault_sys.c) sees
 * these calls through corio__io_sys_hook: a hidden weak reference, null
 * unless the program linking the static library defines it (the shared
 * library never has one), tested with one compare. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define IO_LIBC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define IO_LIBC 1
#endif
#endif
#ifndef IO_LIBC
#define IO_LIBC 0
#endif

#if !IO_LIBC
extern long corio__io_sys_hook(long nr, long a, long b, long c, long d,
                               long e, long f)
    __attribute__((weak, visibility("hidden")));

/* System call nr with up to six arguments: the result, or -errno. */
static inline __attribute__((always_inline)) long
sys6(long nr, long a, long b, long c, long d, long e, long f)
{
    if (UNLIKELY(corio__io_sys_hook != NULL))
        return corio__io_sys_hook(nr, a, b, c, d, e, f);
#if defined(__x86_64__)
    {
        long r;
        register long r10 __asm__("r10") = d;
        register long r8 __asm__("r8") = e;
        register long r9 __asm__("r9") = f;
        __asm__ volatile("syscall"
                         : "=a"(r)
                         : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10),
                           "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
        return r;
    }
#elif defined(__aarch64__)
    {
        register long x8 __asm__("x8") = nr;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;
        register long x3 __asm__("x3") = d;
        register long x4 __asm__("x4") = e;
        register long x5 __asm__("x5") = f;
        __asm__ volatile("svc 0"
                         : "+r"(x0)
                         : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4),
                           "r"(x5)
                         : "memory", "cc");
        return x0;
    }
#else
    {
        long r = syscall(nr, a, b, c, d, e, f);
        return r < 0 ? -errno : r;
    }
#endif
}
#endif

/* read(2): bytes, or -errno. */
static inline ssize_t sys_read(int fd, void *buf, size_t len)
{
#if IO_LIBC
    ssize_t n = read(fd, buf, len);
    return n < 0 ? -errno : n;
#else
    return sys6(SYS_read, fd, (long)buf, (long)len, 0, 0, 0);
#endif
}

/* write(2): bytes, or -errno. */
static inline ssize_t sys_write(int fd, const void *buf, size_t len)
{
#if IO_LIBC
    ssize_t n = write(fd, buf, len);
    return n < 0 ? -errno : n;
#else
    return sys6(SYS_write, fd, (long)buf, (long)len, 0, 0, 0);
#endif
}

/* send(MSG_NOSIGNAL): bytes, or -errno (-EPIPE, never SIGPIPE, on a
 * socket). */
static inline ssize_t sys_send(int fd, const void *buf, size_t len)
{
#if IO_LIBC
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    return n < 0 ? -errno : n;
#else
    return sys6(SYS_sendto, fd, (long)buf, (long)len, MSG_NOSIGNAL, 0, 0);
#endif
}

/* ---- the table ------------------------------------------------------------ */

static uint64_t token_of(const struct fdent *e, int fd)
{
    return ((uint64_t)e->gen << 32) | (uint32_t)fd;
}

static int io_on_event(corio_loop *loop, const corio__poll_event *ev);
static void sweep_fire(corio__timer *tm);

/* The loop's closer for descriptors: it shares CORIO__CLOSE_IO with
 * signal.c's, so the newer of the two runs first and the on_event hooks
 * come off in LIFO order. */
static void io_fini(corio__closer *c, corio_loop *loop)
{
    struct io *io = CORIO__CONTAINER(c, struct io, closer);
    size_t i;
    for (i = 0; i < io->n; i++) /* tasks were detached before teardown */
        assert(!io->ent[i].reader && !io->ent[i].writer);
    (void)i;
    corio__timer_stop(loop, &io->sweep); /* no-op unless queued */
    corio__free(io->unv);
    corio__free(io->ent);
    if (io->spare >= 0)
        close(io->spare);
    loop->on_event = io->next_on_event; /* hooks come off in LIFO order */
    corio__free(io);
    loop->io = NULL;
}

/* The loop's I/O state, made (and the hooks installed) on first use.
 * NULL when out of memory. */
static struct io *io_of(corio_loop *loop)
{
    struct io *io = loop->io;
    if (io)
        return io;
    io = corio__calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->spare = -1;
    io->loop = loop;
    corio__heap_node_init(&io->sweep.node);
    io->sweep.fire = sweep_fire;
    io->next_on_event = loop->on_event;
    loop->on_event = io_on_event;
    io->closer.order = CORIO__CLOSE_IO;
    io->closer.close = io_fini;
    corio__loop_add_closer(loop, &io->closer);
    loop->io = io;
    return io;
}

/* The entry for fd, or NULL if the table does not reach it yet. */
static struct fdent *ent_find(corio_loop *loop, int fd)
{
    struct io *io = loop->io;
    /* (size_t)fd: a negative number is out of range too */
    if (!io || (size_t)fd >= io->n)
        return NULL;
    return &io->ent[fd];
}

/* The entry for fd (fd >= 0), growing the table. 0 or -ENOMEM. The
 * pointer is valid until the table next grows: never keep it across a
 * park. */
static int ent_get(corio_loop *loop, int fd, struct fdent **out)
{
    struct io *io = io_of(loop);
    size_t n;
    struct fdent *ent;
    assert(fd >= 0);
    if (!io)
        return -ENOMEM;
    if ((size_t)fd >= io->n) {
        n = io->n ? io->n : 64;
        while (n <= (size_t)fd)
            n *= 2;
        ent = corio__realloc(io->ent, n * sizeof *ent);
        if (!ent)
            return -ENOMEM;
        memset(ent + io->n, 0, (n - io->n) * sizeof *ent);
        io->ent = ent;
        io->n = n;
    }
    *out = &io->ent[fd];
    return 0;
}

/* Level-triggered backend: tell the poller which directions have a
 * waiter now. The edge-triggered one watches both all the time. */
__attribute__((noinline)) static void sync_level(corio_loop *loop, int fd,
                                                 struct fdent *e)
{
    unsigned want;
    if (!e->registered)
        return;
    want = (e->reader ? IN : 0) | (e->writer ? OUT : 0);
    if (want != e->interest &&
        loop->pops->watch(loop->poller, fd, want, token_of(e, fd)) == 0)
        e->interest = (unsigned char)want;
}

static inline void sync_interest(corio_loop *loop, int fd, struct fdent *e)
{
    if (UNLIKELY(!loop->pops->edge))
        sync_level(loop, fd, e);
}

/* ---- descriptors closed behind the loop's back ------------------------------- */

/* Debug reports are on in builds without NDEBUG, and in any build when
 * CORIO_DEBUG is set to something other than "" or "0". Read only on the
 * report paths, which are rare, so release builds pay nothing else. */
static int debug_reports(void)
{
#ifndef NDEBUG
    return 1;
#else
    const char *v = getenv("CORIO_DEBUG");
    return v && *v && strcmp(v, "0") != 0;
#endif
}

/* Report (debug builds) that fd was closed with close(2) while the loop
 * still had it: `how` says how it was found; the tasks waiting on the
 * number, and the one that found it, are named. */
static void report_closed_behind(int fd, const struct fdent *e,
                                 const corio_task *finder, const char *how)
{
    if (!debug_reports())
        return;
    corio__warn("fd %d was closed with close(2), not corio_fd_close, while "
                "the loop watched it (%s)%s%s%s%s%s%s%s%s%s; the raw-close "
                "rule is in corio/io.h",
                fd, how, e->reader ? "; task '" : "",
                e->reader ? corio_task_name(e->reader) : "",
                e->reader ? "' waits to read it" : "",
                e->writer ? "; task '" : "",
                e->writer ? corio_task_name(e->writer) : "",
                e->writer ? "' waits to write it" : "",
                finder ? "; found by task '" : "",
                finder ? corio_task_name(finder) : "", finder ? "'" : "");
}

/* Take the waiter out of *slot and make it runnable with err. */
static void wake_slot(corio_loop *loop, corio_task **slot, int err)
{
    corio_task *t = *slot;
    *slot = NULL;
    assert(loop->outside_waits > 0);
    loop->outside_waits--;
    corio__wait_wake(&t->wait, err, NULL);
}

/* Make the task parked in *slot (a task's record, PENDING) runnable with
 * err: wake_slot without its general parts, for the event path. */
static inline void wake_parked(corio_loop *loop, corio_task **slot)
{
    corio_task *t = *slot;
    corio__wait *w = &t->wait;
    *slot = NULL;
    CORIO_ASSERT(loop->outside_waits > 0);
    loop->outside_waits--;
    if (NEVER(w->state != CORIO__WAIT_PENDING))
        return;
    w->state = CORIO__WAIT_GRANTED;
    w->value = 0;
    w->payload = NULL;
    /* corio__task_ready, with the loop at hand */
    if (NEVER(t->queued) || loop->closing)
        return;
    t->queued = 1;
    corio__ready_push(loop, &t->ready);
    CORIO__TASK_CHECK(t);
}

/* The end of every event for fd: every waiter is woken, so a deferred
 * check (below) has nobody left to watch over (the next park starts a
 * new one); the level-triggered backend is told what is still wanted. */
static inline int event_done(corio_loop *loop, int fd, struct fdent *e)
{
    if (!e->reader && !e->writer)
        e->unv = UNV_NONE;
    sync_interest(loop, fd, e); /* level-triggered backend only */
    return 0;
}

/* An event with CORIO__POLL_ERR (error, hang-up, poll's POLLNVAL): both
 * sides must go and see the error. Rare, so out of io_on_event's way. */
__attribute__((noinline, cold)) static int
event_error(corio_loop *loop, int fd, struct fdent *e)
{
    e->ready |= IN | OUT;
    e->drained = 0;
    /* poll(2) says POLLNVAL (ERR here) for a number no longer open: a
     * waiter's descriptor was closed behind our back. */
    if ((e->reader || e->writer) && debug_reports() &&
        fcntl(fd, F_GETFD) < 0 && errno == EBADF)
        report_closed_behind(fd, e, NULL, "poll(2) reports it not open");
    if (e->reader)
        wake_slot(loop, &e->reader, 0);
    if (e->writer)
        wake_slot(loop, &e->writer, 0);
    return event_done(loop, fd, e);
}

/* The level-triggered backend's end of an event (event_done), out of
 * line so the edge-triggered path makes no call. */
__attribute__((noinline)) static int event_done_level(corio_loop *loop,
                                                      int fd,
                                                      struct fdent *e)
{
    return event_done(loop, fd, e);
}

/* The loop's hook for poller events (loop_impl.h's on_event chain): wake
 * the tasks parked on the descriptor in the directions it reports. */
static int io_on_event(corio_loop *loop, const corio__poll_event *ev)
{
    struct io *io = loop->io;
    uint64_t token = ev->token;
    uint32_t gen = (uint32_t)(token >> 32);
    size_t fd = (uint32_t)token;
    unsigned bits = ev->events;
    struct fdent *e;

    if (UNLIKELY(gen == GEN_RESERVED))
        return io->next_on_event ? io->next_on_event(loop, ev) : 0;
    if (UNLIKELY(fd >= io->n))
        return 0; /* not ours (a closed descriptor's leftover) */
    e = &io->ent[fd];
    /* (Only corio_fd_close unregisters, and it bumps the generation: a
     * generation that matches is registered.) */
    if (UNLIKELY(e->gen != gen))
        return 0; /* a closed descriptor's leftover: drop it */
    CORIO_ASSERT(e->registered);
    if (UNLIKELY(bits & CORIO__POLL_ERR))
        return event_error(loop, (int)fd, e);
    e->ready |= (unsigned char)(bits & (IN | OUT));
    if (bits & IN) {
        e->drained = 0;
        if (e->reader)
            wake_parked(loop, &e->reader);
    }
    if ((bits & OUT) && e->writer)
        wake_parked(loop, &e->writer);
    if (UNLIKELY(!loop->pops->edge))
        return event_done_level(loop, (int)fd, e);
    if (!e->reader && !e->writer)
        e->unv = UNV_NONE;
    return 0;
}

/* ---- deferred registration checks ------------------------------------------------ */

/* The edge-triggered backend cannot see a close(2) behind our back: a
 * number reused by a new file would never be reported. Checking the
 * registration (rearm, one epoll_ctl) before every park would cost a
 * system call per wait; instead a park marks the descriptor (UNV_NEW) and
 * the sweep, a loop timer every SWEEP_NS while anything is marked, checks
 * those that have stayed parked across a whole period with no event
 * (UNV_OLD). A descriptor that gets events is never checked. The check
 * re-adds a dropped registration (the kernel then reports the new file's
 * readiness as an event) and reports the raw close; a number no longer
 * open wakes its waiters with the error. The check also catches a short
 * read that did not drain (drained, below): its MOD re-reports readiness. */
static void check_now(corio_loop *loop, int fd, struct fdent *e,
                      corio_task *finder)
{
    int rc = loop->pops->rearm(loop->poller, fd, token_of(e, fd));
    if (rc > 0) {
        report_closed_behind(fd, e, finder,
                             "its number was reused, and the kernel had "
                             "dropped the old registration");
        /* A new file: forget what was learned about the old one (it may
         * be blocking, not a socket, not a stream). */
        e->nbchecked = 0;
        e->notsock = 0;
        e->kind = KIND_UNKNOWN;
        e->drained = 0;
    }
    if (rc < 0) {
        if (rc == -EBADF)
            report_closed_behind(fd, e, NULL, "it is no longer open");
        if (e->reader)
            wake_slot(loop, &e->reader, rc);
        if (e->writer)
            wake_slot(loop, &e->writer, rc);
    }
}

static void sweep_fire(corio__timer *tm)
{
    struct io *io = CORIO__CONTAINER(tm, struct io, sweep);
    corio_loop *loop = io->loop;
    size_t i, keep = 0;
    for (i = 0; i < io->nunv; i++) {
        int fd = io->unv[i];
        struct fdent *e = &io->ent[fd]; /* the table never shrinks */
        if (e->unv == UNV_NEW) {
            e->unv = UNV_OLD;
            io->unv[keep++] = fd;
            continue;
        }
        e->listed = 0;
        if (e->unv == UNV_NONE)
            continue;
        e->unv = UNV_NONE;
        if (e->registered && (e->reader || e->writer))
            check_now(loop, fd, e, e->reader ? e->reader : e->writer);
    }
    io->nunv = keep;
    if (keep && corio__timer_start(loop, &io->sweep,
                                   corio__loop_now_ns() + SWEEP_NS) != 0) {
        /* No memory for the timer: check the rest now. */
        for (i = 0; i < keep; i++) {
            int fd = io->unv[i];
            struct fdent *e = &io->ent[fd];
            e->listed = 0;
            e->unv = UNV_NONE;
            if (e->registered && (e->reader || e->writer))
                check_now(loop, fd, e, e->reader ? e->reader : e->writer);
        }
        io->nunv = 0;
    }
}

/* A task is about to park on registered fd (edge-triggered backend):
 * defer its registration check to the sweep. 0, or -ENOMEM when it
 * cannot be deferred (the caller checks now). */
static int defer_check(corio_loop *loop, int fd, struct fdent *e)
{
    struct io *io = loop->io;
    if (e->unv != UNV_NONE)
        return 0; /* already deferred */
    if (!e->listed) {
        if (io->nunv == io->capunv) {
            size_t cap = io->capunv ? io->capunv * 2 : 64;
            int *a = corio__realloc(io->unv, cap * sizeof *a);
            if (!a)
                return -ENOMEM;
            io->unv = a;
            io->capunv = cap;
        }
        if (!corio__heap_node_queued(&io->sweep.node) &&
            (loop->closing ||
             corio__timer_start(loop, &io->sweep,
                                corio__loop_now_ns() + SWEEP_NS) != 0))
            return -ENOMEM;
        io->unv[io->nunv++] = fd;
        e->listed = 1;
    }
    e->unv = UNV_NEW;
    return 0;
}

/* ---- parking ------------------------------------------------------------------ */

static void detach_dir(corio__wait *w, unsigned dir)
{
    corio_task *t = w->task;
    corio_loop *loop = t->loop;
    int fd = (int)(intptr_t)w->obj;
    struct fdent *e = ent_find(loop, fd);
    corio_task **slot;
    assert(e);
    slot = dir == IN ? &e->reader : &e->writer;
    assert(*slot == t);
    *slot = NULL;
    assert(loop->outside_waits > 0);
    loop->outside_waits--;
    sync_interest(loop, fd, e);
}

static void detach_reader(corio__wait *w)
{
    detach_dir(w, IN);
}

static void detach_writer(corio__wait *w)
{
    detach_dir(w, OUT);
}

static void describe_fd(const corio__wait *w, corio__wait_desc *d)
{
    corio__wait_descf(d, "fd %d to become %s", (int)(intptr_t)w->obj,
                      w->ops->what[4] == 'r' ? "readable" : "writable");
}

static const corio__wait_ops read_ops = {"fd (readable)", detach_reader, 0,
                                         0, describe_fd};
static const corio__wait_ops write_ops = {"fd (writable)", detach_writer, 0,
                                          0, describe_fd};

/* Is fd ready in direction dir right now? 1 yes (or in error: the caller's
 * next call reports it), 0 no, -EBADF not open. */
static int probe(int fd, unsigned dir)
{
    struct pollfd p;
    int r;
    p.fd = fd;
    p.events = dir == IN ? POLLIN : POLLOUT;
    p.revents = 0;
    do
        r = poll(&p, 1, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == 0)
        return 0;
    return (p.revents & POLLNVAL) ? -EBADF : 1;
}

/* A cancel stands on t (corio__task_cancel_pending), with the common case
 * (no scope, no request) in two loads. */
static inline int cancel_standing(const corio_task *t)
{
    return corio__task_cancel_maybe(t) && corio__task_cancel_pending(t);
}

/* fd (entry e) is about to get its first waiter: register it with the
 * poller (edge-triggered: both directions, for good). 0 registered, 1 a
 * regular file or directory (epoll refuses it: always ready, as poll(2)
 * says, so no wait), or -errno. */
__attribute__((noinline)) static int park_register(corio_loop *loop, int fd,
                                                   struct fdent *e,
                                                   unsigned dir)
{
    unsigned want = loop->pops->edge ? IN | OUT : dir;
    int rc = loop->pops->watch(loop->poller, fd, want, token_of(e, fd));
    if (rc == -EPERM)
        return 1;
    if (rc)
        return rc;
    e->registered = 1;
    e->interest = (unsigned char)want;
    return 0;
}

/* The edge-triggered backend, a registered fd with no deferred check
 * running: defer one (Raw close, above), or when that cannot be done make
 * sure now that the kernel still has the registration (a close(2) behind
 * our back and a reused number would leave the new file unwatched). 0 or
 * -errno. */
__attribute__((noinline)) static int park_check(corio_loop *loop, int fd,
                                                struct fdent *e,
                                                corio_task *t)
{
    int rc;
    if (defer_check(loop, fd, e) == 0)
        return 0;
    rc = loop->pops->rearm(loop->poller, fd, token_of(e, fd));
    if (rc < 0)
        return rc;
    if (rc > 0)
        report_closed_behind(fd, e, t,
                             "its number was reused, and the kernel had "
                             "dropped the old registration");
    return 0;
}

/*
 * Park the running task t until fd (its entry *ep) is ready in direction
 * dir (IN or OUT): the direction is known not ready (t's own call just
 * said EAGAIN, or fd_wait looked). The wait is t's record with read_ops
 * or write_ops and the slot in the entry; an event for fd wakes it
 * (io_on_event), corio_fd_close ends it with -EBADF, a cancel through
 * detach_dir. -ECANCELED only once it knows it would have to park (the
 * cancel rule, io.h). Returns 0 (ready: try again; *ep is fd's entry
 * again, the table may have grown meanwhile), or -ECANCELED, -EBADF
 * (closed with corio_fd_close meanwhile), -EBUSY, -ENOMEM, -ENOSPC, the
 * poller's errors.
 */
static inline __attribute__((always_inline)) int
fd_park(corio_task *t, int fd, struct fdent **ep, unsigned dir,
        int no_cancel)
{
    corio_loop *loop = t->loop;
    struct fdent *e = *ep;
    corio_task **slot = dir == IN ? &e->reader : &e->writer;
    corio__wait *w;
    uint32_t gen;
    int rc;

    if (UNLIKELY(*slot != NULL))
        return -EBUSY;
    e->ready &= (unsigned char)~dir;
    if (!no_cancel && corio__task_cancel_now(t))
        return -ECANCELED; /* it would have to wait */
    if (UNLIKELY(!e->registered)) {
        if ((rc = park_register(loop, fd, e, dir)) != 0)
            return rc > 0 ? 0 : rc;
    } else if (loop->pops->edge && e->unv == UNV_NONE) {
        if (LIKELY(e->listed))
            e->unv = UNV_NEW; /* the sweep still has it listed */
        else if ((rc = park_check(loop, fd, e, t)) != 0)
            return rc;
    }
    *slot = t;
    loop->outside_waits++;
    sync_interest(loop, fd, e);
    gen = e->gen;
    w = corio__wait_begin(t, dir == IN ? &read_ops : &write_ops,
                          (void *)(intptr_t)fd, 0);
    rc = CORIO__WAIT_SWITCH(w);
    rc = CORIO__WAIT_PARKED(w, rc);
    if (rc)
        return rc;
    /* Woken by readiness; but a task that ran before us may have closed
     * fd (and a new one may have its number). The table is there (a
     * granted wait: the loop is not being torn down) and reaches fd (it
     * never shrinks), but may have moved. */
    e = &((struct io *)loop->io)->ent[fd];
    if (UNLIKELY(e->gen != gen))
        return -EBADF;
    *ep = e;
    return corio__task_cancel_now(t) ? -ECANCELED : 0;
}

/*
 * Park the running task t until fd is ready in direction dir (IN or OUT).
 * would_block: the caller's operation just failed with EAGAIN, so the
 * direction is known not ready; otherwise a set readiness bit is checked
 * and, if true, returned at once. -ECANCELED only once it knows it would
 * have to park (the cancel rule, io.h). Returns 0 (ready: try again), or
 * -ECANCELED, -EBADF (invalid, or closed with corio_fd_close meanwhile),
 * -EBUSY, -EPERM, -ENOMEM, -ENOSPC.
 */
static int fd_wait(corio_task *t, int fd, unsigned dir, int would_block)
{
    corio_loop *loop = t->loop;
    struct fdent *e;
    int rc;

    if (fd < 0)
        return -EBADF;
    /* The table grows only for a descriptor that exists (a huge invalid
     * number is -EBADF, never a huge table). */
    if ((e = ent_find(loop, fd)) == NULL) {
        if (fcntl(fd, F_GETFD) < 0)
            return -errno;
        if ((rc = ent_get(loop, fd, &e)) != 0)
            return rc;
    }
    if (dir == IN ? e->reader : e->writer)
        return -EBUSY;
    /* A clear bit may only mean the loop has not heard yet: with a cancel
     * standing, look, since a ready fd needs no wait and must not fail. */
    if (!would_block &&
        ((e->ready & dir) || corio__task_cancel_pending(t))) {
        rc = probe(fd, dir);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return fd_park(t, fd, &e, dir, 0);
}

/* A blocking descriptor would block the whole loop in its read or write:
 * the first time a call that does the I/O sees fd (per loop, until
 * corio_fd_close), make it non-blocking, as asyncio's pipe transports and
 * libuv's uv_pipe_open do. (The bare waits leave it alone: the caller
 * does its own I/O, perhaps a library that wants it blocking.) 0, or
 * -errno of fcntl (-EBADF: not open). One table lookup once checked. */
static int nonblock_check(corio_loop *loop, int fd)
{
    struct fdent *e = ent_find(loop, fd);
    int rc;
    if (e && e->nbchecked)
        return 0;
    if (fd < 0)
        return -EBADF;
    if ((rc = corio_fd_nonblock(fd)) != 0)
        return rc;
    if (ent_get(loop, fd, &e) == 0) /* no memory: just check next time */
        e->nbchecked = 1;
    return 0;
}

/* The running task, for a call that may suspend; NULL outside a task. */
static corio_task *caller(void)
{
    return corio__task_running();
}

/* -EBUSY when another task already waits on fd in direction dir, so a
 * second reader cannot take data from under the first. */
static int busy(corio_task *t, int fd, unsigned dir)
{
    struct fdent *e = ent_find(t->loop, fd);
    if (!e)
        return 0;
    return (dir == IN ? e->reader : e->writer) ? -EBUSY : 0;
}

static int is_again(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK;
}

/* The entry of fd for a call that does its own I/O on it, made
 * non-blocking first (nonblock_check): 0 with *ep set, 0 with *ep NULL
 * when no memory could be had for an entry (the caller goes the slow way,
 * which works without one until it has to wait), or -errno of fcntl. */
static inline int io_entry(corio_loop *loop, int fd, struct fdent **ep)
{
    struct fdent *e = ent_find(loop, fd);
    int rc;
    if (LIKELY(e && e->nbchecked)) {
        *ep = e;
        return 0;
    }
    if ((rc = nonblock_check(loop, fd)) != 0)
        return rc;
    *ep = ent_find(loop, fd);
    return 0;
}

/* ---- the public calls ---------------------------------------------------------- */

int corio_fd_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

int corio_wait_readable(int fd)
{
    corio_task *t = caller();
    if (!t)
        return CORIO_ENOTASK;
    return fd_wait(t, fd, IN, 0);
}

int corio_wait_writable(int fd)
{
    corio_task *t = caller();
    if (!t)
        return CORIO_ENOTASK;
    return fd_wait(t, fd, OUT, 0);
}

int corio__fd_prepare(int fd)
{
    corio_task *t = caller();
    if (!t)
        return CORIO_ENOTASK;
    return nonblock_check(t->loop, fd);
}

int corio__fd_wait_again(int fd, int readable)
{
    corio_task *t = caller();
    if (!t)
        return CORIO_ENOTASK;
    return fd_wait(t, fd, readable ? IN : OUT, 1);
}

/* May a read shorter than asked on fd mean it is drained? Yes for a
 * stream socket (TCP, Unix stream): the kernel copies all it has up to
 * the length asked. Not for datagrams (one per read), terminals (a line
 * per read) or pipes in packet mode. Asked of the kernel once per fd. */
__attribute__((noinline)) static int short_read_drains(int fd,
                                                       struct fdent *e)
{
    int type = 0;
    socklen_t len = sizeof type;
    if (e->kind == KIND_UNKNOWN)
        e->kind = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
                          type == SOCK_STREAM
                      ? KIND_STREAM
                      : KIND_OTHER;
    return e->kind == KIND_STREAM;
}

/* A read of fd (entry e) returned fewer bytes than asked: mark fd drained
 * if that means it is empty. */
static inline void note_short_read(int fd, struct fdent *e)
{
    if (e->kind == KIND_STREAM ||
        (e->kind == KIND_UNKNOWN && short_read_drains(fd, e)))
        e->drained = 1;
}

/*
 * One read(2) of fd for the running task t, with what the loop knows:
 * when an earlier short read drained fd (no readable event since) the
 * answer is -EAGAIN without a system call, unless a cancel stands (then
 * the kernel is asked, since a ready fd must not fail) or len is 0. A
 * short read of a stream socket marks it drained. Bytes, 0 at end of
 * file, or -errno (-EAGAIN: wait for readability).
 */
__attribute__((noinline)) static ssize_t read_once(corio_task *t, int fd,
                                                   void *buf, size_t len)
{
    corio_loop *loop = t->loop;
    struct fdent *e = ent_find(loop, fd);
    ssize_t n;
    if (e && e->drained && len > 0 && !cancel_standing(t))
        return -EAGAIN;
    do
        n = sys_read(fd, buf, len);
    while (n == -EINTR);
    if (n < 0)
        return n;
    if (n > 0 && (size_t)n < len && (e || ent_get(loop, fd, &e) == 0))
        note_short_read(fd, e);
    return n;
}

ssize_t corio__fd_read(int fd, void *buf, size_t len)
{
    corio_task *t = caller();
    struct fdent *e;
    if (!t)
        return CORIO_ENOTASK;
    /* read_once's first answer, without its frame: the stream layer asks
     * this before every wait of a drained socket. */
    e = ent_find(t->loop, fd);
    if (e && e->drained && len > 0 && !corio__task_cancel_maybe(t))
        return -EAGAIN;
    return read_once(t, fd, buf, len);
}

ssize_t corio__fd_wait_read(int fd, void *buf, size_t len,
                            const unsigned char *stop, int *wait_rc)
{
    corio_task *t = caller();
    struct fdent *e;
    ssize_t n;
    int rc;
    if (!t) {
        *wait_rc = CORIO_ENOTASK;
        return CORIO_ENOTASK;
    }
    if ((e = ent_find(t->loop, fd)) == NULL) { /* never parked: the long way */
        if ((rc = fd_wait(t, fd, IN, 1)) != 0) {
            *wait_rc = rc;
            return rc;
        }
        e = ent_find(t->loop, fd);
    } else if ((rc = fd_park(t, fd, &e, IN, 0)) != 0) {
        *wait_rc = rc;
        return rc;
    }
    *wait_rc = 0;
    if (stop && *stop)
        return -EAGAIN;
    /* Woken by a readable event, which cleared `drained`: read. */
    do
        n = sys_read(fd, buf, len);
    while (n == -EINTR);
    if (n > 0 && (size_t)n < len && e)
        note_short_read(fd, e);
    return n;
}

ssize_t corio__fd_send(int fd, const void *buf, size_t len)
{
    return sys_send(fd, buf, len);
}

/* corio_read without an entry for fd (no memory for one): the general
 * way, one read and one wait at a time. */
__attribute__((noinline)) static ssize_t read_slow(corio_task *t, int fd,
                                                   void *buf, size_t len)
{
    ssize_t n;
    int rc;
    for (;;) {
        if ((rc = busy(t, fd, IN)) != 0)
            return rc;
        n = read_once(t, fd, buf, len);
        if (n >= 0 || !is_again((int)-n))
            return n;
        if ((rc = fd_wait(t, fd, IN, 1)) != 0)
            return rc;
    }
}

ssize_t corio_read(int fd, void *buf, size_t len)
{
    corio_task *t = caller();
    struct fdent *e;
    ssize_t n;
    int rc, no_cancel = 0;
    if (!buf && len > 0)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
again:
    /* The common case in one look at the table: a descriptor seen
     * before, nobody else reading it. */
    if ((rc = io_entry(t->loop, fd, &e)) != 0)
        return rc;
    if (UNLIKELY(!e))
        return read_slow(t, fd, buf, len);
    if (UNLIKELY(e->reader != NULL))
        return -EBUSY;
    /* Drained (read_once): straight to the wait, unless a cancel stands
     * (then ask the kernel: a ready fd must not fail) or nothing is
     * asked for (read(2) answers 0 at once). */
    if (e->drained && len > 0) {
        /* No cancel (the common case, two loads): fd_park need not look
         * again. */
        no_cancel = !corio__task_cancel_maybe(t);
        if (no_cancel || !corio__task_cancel_pending(t))
            goto wait;
    }
    for (;;) {
        n = sys_read(fd, buf, len);
        if (n >= 0) {
            if (n > 0 && (size_t)n < len)
                note_short_read(fd, e);
            return n;
        }
        if (n == -EINTR)
            continue;
        if (!is_again((int)-n))
            return n;
    wait:
        if ((rc = fd_park(t, fd, &e, IN, no_cancel)) != 0)
            return rc;
        no_cancel = 0;
        /* A new file under the number (the sweep found a raw close): it
         * may be blocking; look at it afresh. */
        if (UNLIKELY(!e->nbchecked))
            goto again;
    }
}

/* One write attempt: send() with MSG_NOSIGNAL on sockets (-EPIPE, no
 * SIGPIPE), write() on anything else (remembered per fd). */
static ssize_t write_once(corio_loop *loop, int fd, const void *buf,
                          size_t len)
{
    struct fdent *e = ent_find(loop, fd);
    ssize_t n;
    if (!e || !e->notsock) {
        n = sys_send(fd, buf, len);
        if (n != -ENOTSOCK)
            return n;
        if (ent_get(loop, fd, &e) == 0)
            e->notsock = 1; /* no memory: just ask send() again next time */
    }
    return sys_write(fd, buf, len);
}

/* corio_write without an entry for fd (no memory for one): one write and
 * one wait at a time. */
__attribute__((noinline)) static ssize_t write_slow(corio_task *t, int fd,
                                                    const void *buf,
                                                    size_t len)
{
    ssize_t n;
    int rc;
    for (;;) {
        if ((rc = busy(t, fd, OUT)) != 0)
            return rc;
        n = write_once(t->loop, fd, buf, len);
        if (n >= 0)
            return n;
        if (n == -EINTR)
            continue;
        if (!is_again((int)-n))
            return n;
        if ((rc = fd_wait(t, fd, OUT, 1)) != 0)
            return rc;
    }
}

/*
 * Write from buf to fd for the running task t, waiting while fd does not
 * take anything: until one write took some bytes (all == 0), or all len
 * (all != 0). *done gets how many were written; 0, or -errno (the last
 * attempt's, or the wait's).
 */
static inline __attribute__((always_inline)) int
write_task(corio_task *t, int fd, const char *buf, size_t len, int all,
           size_t *donep)
{
    struct fdent *e;
    size_t done = 0;
    ssize_t n;
    int rc;
again:
    if ((rc = io_entry(t->loop, fd, &e)) != 0)
        goto out;
    if (UNLIKELY(e != NULL && e->writer != NULL)) {
        rc = -EBUSY;
        goto out;
    }
    for (;;) {
        if (UNLIKELY(!e)) {
            n = write_slow(t, fd, buf + done, len - done);
        } else if (LIKELY(!e->notsock)) {
            n = sys_send(fd, buf + done, len - done);
            if (UNLIKELY(n == -ENOTSOCK)) {
                e->notsock = 1;
                continue;
            }
        } else {
            n = sys_write(fd, buf + done, len - done);
        }
        if (n >= 0) {
            done += (size_t)n;
            if (!all || done == len)
                break;
            continue;
        }
        if (e) { /* write_slow waited already, and returns -errno */
            if (n == -EINTR)
                continue;
            if (!is_again((int)-n)) {
                rc = (int)n;
                break;
            }
            if ((rc = fd_park(t, fd, &e, OUT, 0)) != 0)
                break;
            if (UNLIKELY(!e->nbchecked))
                goto again; /* a new file under the number (corio_read) */
        } else {
            rc = (int)n;
            break;
        }
    }
out:
    *donep = done;
    return rc;
}

ssize_t corio_write(int fd, const void *buf, size_t len)
{
    corio_task *t = caller();
    size_t done;
    int rc;
    if (!buf && len > 0)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    rc = write_task(t, fd, buf, len, 0, &done);
    return rc ? rc : (ssize_t)done;
}

/* corio_write_all the general way, after the fast path's send took
 * `sent` bytes (0 <= sent < len), or failed (sent < 0: asked again here),
 * or was not tried (sent < 0). */
__attribute__((noinline)) static int write_all_rest(int fd, const void *buf,
                                                    size_t len,
                                                    size_t *written,
                                                    ssize_t sent)
{
    corio_task *t = caller();
    size_t done = 0, off = sent > 0 ? (size_t)sent : 0;
    int rc = 0;
    if (!buf && len > 0)
        rc = -EINVAL;
    else if (!t)
        rc = CORIO_ENOTASK;
    else if (len > off)
        rc = write_task(t, fd, (const char *)buf + off, len - off, 1, &done);
    if (written)
        *written = off + done;
    return rc;
}

int corio_write_all(int fd, const void *buf, size_t len, size_t *written)
{
    corio_task *t = caller();
    struct fdent *e;
    ssize_t n;
    /* The common case: a socket seen before, nobody waiting to write it,
     * and one send takes it all (the kernel's buffer has room). Every
     * other way out is a tail call, so this path saves no registers. */
    if (LIKELY(t != NULL && len > 0 && buf != NULL) &&
        (e = ent_find(t->loop, fd)) != NULL && e->nbchecked &&
        !e->notsock && !e->writer
#if !IO_LIBC
        && corio__io_sys_hook == NULL
#endif
    ) {
        n = sys_send(fd, buf, len);
        if (LIKELY((size_t)n == len)) {
            if (written)
                *written = len;
            return 0;
        }
        /* Nothing taken (EAGAIN, an error, ENOTSOCK: the general way asks
         * again and reports or waits), or a part: the rest. */
        return write_all_rest(fd, buf, len, written, n);
    }
    return write_all_rest(fd, buf, len, written, -1);
}

/* The spare descriptor: anything that takes a descriptor and nothing
 * else. -1 when none can be had. */
static int spare_open(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fd = open("/", O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    return fd;
}

/*
 * accept4 said EMFILE/ENFILE (err), which Linux says before it looks at
 * the queue: a queued connection stays queued and the listener stays
 * ready, so a caller that retries would spin. Give back the spare, take
 * the connection with the descriptor that frees, close it at once (its
 * client sees the connection reset), and take the spare again: the queue
 * shrinks by one per call. Returns -err when a connection was dropped so;
 * 0 when the queue was empty (the caller waits for the next connection,
 * as for EAGAIN). Without a spare (none could be had), waits a little
 * instead and returns -err, so that a retrying caller still does not
 * spin (-ECANCELED if a cancel stands then).
 */
static int accept_no_fd(corio_task *t, int fd, int err)
{
    struct io *io = t->loop->io;
    int s, rc, again;
    if (io && io->spare >= 0) {
        close(io->spare);
        do
            s = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        while (s < 0 && (errno == EINTR || errno == ECONNABORTED));
        again = s < 0 && is_again(errno);
        if (s >= 0)
            close(s);
        io->spare = spare_open();
        if (again)
            return 0;
        return -err;
    }
    if ((rc = corio_sleep(0.01)) != 0)
        return rc;
    return -err;
}

int corio_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    corio_task *t = caller();
    socklen_t len0 = addrlen ? *addrlen : 0;
    int s, rc, err;
    if (addr && !addrlen)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if ((rc = nonblock_check(t->loop, fd)) != 0)
        return rc;
    if (!t->loop->io || ((struct io *)t->loop->io)->spare < 0) {
        struct io *io = io_of(t->loop);
        if (io && io->spare < 0)
            io->spare = spare_open(); /* no descriptor: try next time */
    }
    for (;;) {
        if ((rc = busy(t, fd, IN)) != 0)
            return rc;
        if (addrlen)
            *addrlen = len0;
        s = accept4(fd, addr, addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s >= 0)
            return s;
        err = errno;
        /* ECONNABORTED: that client gave up while queued; take the next. */
        if (err == EINTR || err == ECONNABORTED)
            continue;
        if (err == EMFILE || err == ENFILE) {
            if ((rc = accept_no_fd(t, fd, err)) != 0)
                return rc; /* 0: nothing queued, wait as for EAGAIN */
        } else if (!is_again(err)) {
            return -err;
        }
        if ((rc = fd_wait(t, fd, IN, 1)) != 0)
            return rc;
    }
}

int corio_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    corio_task *t = caller();
    socklen_t elen = sizeof(int);
    int err = 0, rc;
    if (!addr)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if ((rc = nonblock_check(t->loop, fd)) != 0)
        return rc;
    if ((rc = busy(t, fd, OUT)) != 0)
        return rc;
    if (connect(fd, addr, addrlen) == 0)
        return 0;
    /* EINTR: the connection still proceeds in the background, as with
     * EINPROGRESS; calling connect again would only say EALREADY. */
    if (errno != EINPROGRESS && errno != EINTR)
        return -errno;
    if ((rc = fd_wait(t, fd, OUT, 1)) != 0)
        return rc;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        return -errno;
    return -err;
}

int corio_fd_close(int fd)
{
    corio_loop *loop = corio_loop_current();
    corio_task *t = corio__task_running();
    struct fdent *e;
    /* A task's cleanup while its loop is being freed still finds it. */
    if (!loop && t)
        loop = t->loop;
    if (loop && (e = ent_find(loop, fd)) != NULL) {
        if (e->reader)
            wake_slot(loop, &e->reader, -EBADF);
        if (e->writer)
            wake_slot(loop, &e->writer, -EBADF);
        if (e->registered)
            loop->pops->unwatch(loop->poller, fd);
        e->registered = 0;
        e->ready = 0;
        e->interest = 0;
        e->notsock = 0;
        e->nbchecked = 0;
        e->kind = KIND_UNKNOWN;
        e->drained = 0;
        e->unv = UNV_NONE; /* e->listed stays: the sweep drops it */
        if (++e->gen == GEN_RESERVED)
            e->gen = 0;
    }
    /* Linux frees the descriptor even when close is interrupted, so
     * EINTR (and POSIX's EINPROGRESS) are success; never retry. */
    if (close(fd) < 0 && errno != EINTR && errno != EINPROGRESS)
        return -errno;
    return 0;
}
