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
#include <unistd.h>

#define GEN_RESERVED 0xFFFFFFFFu
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
    if (!io || fd < 0 || (size_t)fd >= io->n)
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
static void sync_interest(corio_loop *loop, int fd, struct fdent *e)
{
    unsigned want;
    if (loop->pops->edge || !e->registered)
        return;
    want = (e->reader ? IN : 0) | (e->writer ? OUT : 0);
    if (want != e->interest &&
        loop->pops->watch(loop->poller, fd, want, token_of(e, fd)) == 0)
        e->interest = (unsigned char)want;
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

static int io_on_event(corio_loop *loop, const corio__poll_event *ev)
{
    struct io *io = loop->io;
    uint32_t gen = (uint32_t)(ev->token >> 32);
    int fd = (int)(uint32_t)ev->token;
    unsigned bits;
    struct fdent *e;

    if (gen == GEN_RESERVED)
        return io->next_on_event ? io->next_on_event(loop, ev) : 0;
    e = ent_find(loop, fd);
    if (!e || !e->registered || e->gen != gen)
        return 0; /* a closed descriptor's leftover: drop it */
    bits = ev->events & (IN | OUT);
    if (ev->events & CORIO__POLL_ERR)
        bits = IN | OUT; /* both sides must go and see the error */
    e->ready |= (unsigned char)bits;
    if (bits & IN)
        e->drained = 0;
    /* poll(2) says POLLNVAL (ERR here) for a number no longer open: a
     * waiter's descriptor was closed behind our back. */
    if ((ev->events & CORIO__POLL_ERR) && (e->reader || e->writer) &&
        debug_reports() && fcntl(fd, F_GETFD) < 0 && errno == EBADF)
        report_closed_behind(fd, e, NULL, "poll(2) reports it not open");
    if ((bits & IN) && e->reader)
        wake_slot(loop, &e->reader, 0);
    if ((bits & OUT) && e->writer)
        wake_slot(loop, &e->writer, 0);
    /* Every waiter is woken: a deferred check (below) has nobody left to
     * watch over; the next park starts a new one. */
    if (!e->reader && !e->writer)
        e->unv = UNV_NONE;
    if (!loop->pops->edge)
        sync_interest(loop, fd, e);
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
    corio_task **slot;
    uint32_t gen;
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
    slot = dir == IN ? &e->reader : &e->writer;
    if (*slot)
        return -EBUSY;
    /* A clear bit may only mean the loop has not heard yet: with a cancel
     * standing, look, since a ready fd needs no wait and must not fail. */
    if (!would_block &&
        ((e->ready & dir) || corio__task_cancel_pending(t))) {
        rc = probe(fd, dir);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    e->ready &= (unsigned char)~dir;
    if (corio__task_cancel_report(t))
        return -ECANCELED; /* it would have to wait */
    if (!e->registered) {
        unsigned want = loop->pops->edge ? IN | OUT : dir;
        rc = loop->pops->watch(loop->poller, fd, want, token_of(e, fd));
        if (rc == -EPERM)
            return 0; /* a regular file or directory (epoll refuses it):
                         always ready, as poll(2) says */
        if (rc)
            return rc;
        e->registered = 1;
        e->interest = (unsigned char)want;
    } else if (loop->pops->edge && defer_check(loop, fd, e) != 0) {
        /* A close(2) behind our back and a reused number would leave the
         * new file unwatched: the check could not be deferred, so make
         * sure now that the kernel still has it. */
        rc = loop->pops->rearm(loop->poller, fd, token_of(e, fd));
        if (rc < 0)
            return rc;
        if (rc > 0)
            report_closed_behind(fd, e, t,
                                 "its number was reused, and the kernel "
                                 "had dropped the old registration");
    }
    *slot = t;
    loop->outside_waits++;
    sync_interest(loop, fd, e);
    gen = e->gen;
    rc = corio__wait_park(corio__wait_begin(
        t, dir == IN ? &read_ops : &write_ops, (void *)(intptr_t)fd, 0));
    if (rc)
        return rc;
    /* Woken by readiness; but a task that ran before us may have closed
     * fd (and a new one may have its number). */
    e = ent_find(loop, fd);
    if (!e || e->gen != gen)
        return -EBADF;
    return corio__task_cancel_report(t) ? -ECANCELED : 0;
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
static int short_read_drains(corio_loop *loop, int fd, struct fdent *e)
{
    int type = 0;
    socklen_t len = sizeof type;
    (void)loop;
    if (e->kind == KIND_UNKNOWN)
        e->kind = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
                          type == SOCK_STREAM
                      ? KIND_STREAM
                      : KIND_OTHER;
    return e->kind == KIND_STREAM;
}

/*
 * One read(2) of fd for the running task t, with what the loop knows:
 * when an earlier short read drained fd (no readable event since) the
 * answer is -EAGAIN without a system call, unless a cancel stands (then
 * the kernel is asked, since a ready fd must not fail) or len is 0. A
 * short read of a stream socket marks it drained. Bytes, 0 at end of
 * file, or -errno (-EAGAIN: wait for readability).
 */
static ssize_t read_once(corio_task *t, int fd, void *buf, size_t len)
{
    corio_loop *loop = t->loop;
    struct fdent *e = ent_find(loop, fd);
    ssize_t n;
    if (e && e->drained && len > 0 && !corio__task_cancel_pending(t))
        return -EAGAIN;
    do
        n = read(fd, buf, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n > 0 && (size_t)n < len &&
        (e || ent_get(loop, fd, &e) == 0) && short_read_drains(loop, fd, e))
        e->drained = 1;
    return n;
}

ssize_t corio__fd_read(int fd, void *buf, size_t len)
{
    corio_task *t = caller();
    if (!t)
        return CORIO_ENOTASK;
    return read_once(t, fd, buf, len);
}

ssize_t corio_read(int fd, void *buf, size_t len)
{
    corio_task *t = caller();
    struct fdent *e;
    ssize_t n;
    int rc;
    if (!buf && len > 0)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    for (;;) {
        /* The common case in one look at the table: a descriptor seen
         * before, nobody else reading it. */
        e = ent_find(t->loop, fd);
        if (!e || !e->nbchecked) {
            if ((rc = nonblock_check(t->loop, fd)) != 0)
                return rc;
            e = ent_find(t->loop, fd);
        }
        if (e && e->reader)
            return -EBUSY;
        /* Drained (read_once): straight to the wait, unless a cancel
         * stands (then read_once asks the kernel) or nothing is asked
         * for (read(2) answers 0 at once). */
        if (!e || !e->drained || len == 0 ||
            corio__task_cancel_pending(t)) {
            n = read_once(t, fd, buf, len);
            if (n >= 0)
                return n;
            if (!is_again((int)-n))
                return n;
        }
        if ((rc = fd_wait(t, fd, IN, 1)) != 0)
            return rc;
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
        n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0 || errno != ENOTSOCK)
            return n < 0 ? -errno : n;
        if (ent_get(loop, fd, &e) == 0)
            e->notsock = 1; /* no memory: just ask send() again next time */
    }
    n = write(fd, buf, len);
    return n < 0 ? -errno : n;
}

ssize_t corio_write(int fd, const void *buf, size_t len)
{
    corio_task *t = caller();
    struct fdent *e;
    ssize_t n;
    int rc;
    if (!buf && len > 0)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    for (;;) {
        e = ent_find(t->loop, fd); /* as in corio_read */
        if (!e || !e->nbchecked) {
            if ((rc = nonblock_check(t->loop, fd)) != 0)
                return rc;
            e = ent_find(t->loop, fd);
        }
        if (e && e->writer)
            return -EBUSY;
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

int corio_write_all(int fd, const void *buf, size_t len, size_t *written)
{
    const char *p = buf;
    size_t done = 0;
    int rc = 0;
    if (!buf && len > 0) {
        rc = -EINVAL;
        len = 0;
    } else if (!caller()) {
        rc = CORIO_ENOTASK;
        len = 0;
    }
    while (done < len) {
        ssize_t n = corio_write(fd, p + done, len - done);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        done += (size_t)n;
    }
    if (written)
        *written = done;
    return rc;
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
