/*
 * signal.c: tasks waiting for POSIX signals (corio_signal_wait, io.h).
 *
 * Each loop that waits for a signal gets one signalfd (non-blocking,
 * close-on-exec), watched by the poller under SIG_TOKEN. Its mask grows as
 * tasks wait for new signals: each is first blocked in the calling thread
 * (so it stays pending instead of running its disposition), then added to
 * the signalfd. When the signalfd is readable the loop reads it dry (dry,
 * because epoll is edge-triggered) and, for each signal read, wakes every
 * task waiting for that signal (and every corio_signal_wait_any waiter
 * whose set holds it), or, if none waits, counts it pending: each later
 * wait for it takes one and returns at once. (The kernel merges
 * deliveries of a standard signal made before the loop read the first:
 * what is counted is what the signalfd gave.)
 *
 * Waiters. A task waiting for signo is linked into waiters[signo] through
 * its wait record (wait.h), whose obj holds signo; one waiting for any of
 * a set is linked into any_waiters, its obj holding the set as a 64-bit
 * mask (bit signo-1), and is woken with the signal's number. Each one
 * counts in loop->outside_waits, so the deadlock detector knows a signal may
 * still come.
 *
 * Teardown (a loop closer, CORIO__CLOSE_IO, registered with the signalfd;
 * it shares io.c's order, so of the two the newer runs first, undoing
 * their on_event hooks in LIFO order): read and discard what is
 * still pending, close the signalfd, and unblock the signals this loop
 * blocked (those that were already blocked stay blocked).
 *
 * Limits: the signal mask is per thread: wait, and free the loop, on the
 * thread the loop runs on; other threads must block the signals too or
 * may receive them instead (io.h). Two loops waiting for the same signal
 * at once each see only the deliveries they read first. A signal that
 * arrives between teardown's last read and the unblocking meets its old
 * disposition.
 */
#include "alloc.h"
#include "task/task_impl.h"
#include "io/proc_sigwatch.h"

#include <corio/io.h>
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Generation 0xFFFFFFFF is never an io.c token, and the low half keeps it
 * apart from the loop's wakeup token (UINT64_MAX). */
#define SIG_TOKEN 0xFFFFFFFF00000000ull

_Static_assert(_NSIG <= 65, "a set of signals is one 64-bit word");
_Static_assert(sizeof(uintptr_t) >= 8, "a wait record's obj holds a set");

struct sig {
    int fd;                /* the signalfd */
    sigset_t mask;         /* what the signalfd receives */
    sigset_t blocked;      /* what we blocked (and unblock at teardown) */
    uint32_t pending[_NSIG]; /* delivered while nobody waited (saturating) */
    corio__list waiters[_NSIG]; /* wait records, per signal */
    corio__list any_waiters;    /* corio_signal_wait_any's records */
    int (*next_on_event)(corio_loop *loop, const corio__poll_event *ev);
    corio__closer closer;  /* CORIO__CLOSE_IO */
};

/* signo arrived: wake everyone waiting for it, or remember it. */
/* Wake every corio_signal_wait_any waiter whose set holds signo; how many. */
static size_t wake_any(corio_loop *loop, struct sig *st, int signo)
{
    uint64_t bit = UINT64_C(1) << (signo - 1);
    corio__node *n, *nx;
    size_t woken = 0;
    CORIO__LIST_EACH(n, nx, &st->any_waiters) {
        corio__wait *w = CORIO__CONTAINER(n, corio__wait, node);
        if (!((uint64_t)(uintptr_t)w->obj & bit))
            continue;
        corio__list_remove(&st->any_waiters, &w->node);
        assert(loop->outside_waits > 0);
        loop->outside_waits--;
        corio__wait_wake(w, signo, NULL);
        woken++;
    }
    return woken;
}

static void deliver(corio_loop *loop, struct sig *st, int signo)
{
    corio__list woken;
    corio__wait *w;
    size_t n;
    if (signo <= 0 || signo >= _NSIG)
        return;
    n = wake_any(loop, st, signo);
    if (corio__list_empty(&st->waiters[signo])) {
        if (!n && st->pending[signo] < UINT32_MAX)
            st->pending[signo]++;
        return;
    }
    /* Take the list first: a watcher's notify may watch again, joining
     * the (now empty) list for the next delivery. */
    woken = st->waiters[signo];
    corio__list_init(&st->waiters[signo]);
    while ((w = corio__wait_pop(&woken)) != NULL) {
        assert(loop->outside_waits > 0);
        loop->outside_waits--;
        corio__wait_wake(w, 0, NULL);
    }
}

/* Read the signalfd until it is empty; deliver what it held, or drop it
 * when loop is NULL (teardown). */
static void drain(corio_loop *loop, struct sig *st)
{
    struct signalfd_siginfo si[8];
    ssize_t n;
    size_t i;
    for (;;) {
        n = read(st->fd, si, sizeof si);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* EAGAIN: empty */
        for (i = 0; loop && i < (size_t)n / sizeof si[0]; i++)
            deliver(loop, st, (int)si[i].ssi_signo);
    }
}

static int sig_on_event(corio_loop *loop, const corio__poll_event *ev)
{
    struct sig *st = loop->sig;
    if (ev->token != SIG_TOKEN)
        return st->next_on_event ? st->next_on_event(loop, ev) : 0;
    drain(loop, st);
    return 0;
}

static void sig_fini(corio__closer *c, corio_loop *loop)
{
    struct sig *st = CORIO__CONTAINER(c, struct sig, closer);
    int i;
    corio__wait *w;
    /* Tasks were detached before teardown; watchers (no task) may remain:
     * end them. */
    assert(corio__list_empty(&st->any_waiters));
    for (i = 1; i < _NSIG; i++) {
        while ((w = corio__wait_pop(&st->waiters[i])) != NULL) {
            assert(!w->task);
            w->state = CORIO__WAIT_CANCELLED;
            loop->outside_waits--;
        }
    }
    drain(NULL, st);
    loop->pops->unwatch(loop->poller, st->fd);
    close(st->fd);
    pthread_sigmask(SIG_UNBLOCK, &st->blocked, NULL);
    loop->on_event = st->next_on_event; /* hooks come off in LIFO order */
    corio__free(st);
    loop->sig = NULL;
}

/* The loop's signal state, made on first use. 0, -ENOMEM, -EMFILE,
 * -ENFILE, or the poller's error. */
static int sig_of(corio_loop *loop, struct sig **out)
{
    struct sig *st = loop->sig;
    int rc;
    if (st) {
        *out = st;
        return 0;
    }
    st = corio__calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    sigemptyset(&st->mask);
    sigemptyset(&st->blocked);
    st->fd = signalfd(-1, &st->mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (st->fd < 0) {
        rc = -errno;
        corio__free(st);
        return rc;
    }
    rc = loop->pops->watch(loop->poller, st->fd, CORIO__POLL_IN, SIG_TOKEN);
    if (rc) {
        close(st->fd);
        corio__free(st);
        return rc;
    }
    st->next_on_event = loop->on_event;
    loop->on_event = sig_on_event;
    st->closer.order = CORIO__CLOSE_IO;
    st->closer.close = sig_fini;
    corio__loop_add_closer(loop, &st->closer);
    loop->sig = st;
    *out = st;
    return 0;
}

/* Make the signalfd receive signo: block it here, then extend the mask.
 * In that order, so no delivery in between meets the old disposition.
 * 0 or a negative errno (nothing changed). */
static int sig_add(corio_loop *loop, struct sig *st, int signo)
{
    sigset_t one, old, mask;
    int rc;
    if (sigismember(&st->mask, signo))
        return 0;
    sigemptyset(&one);
    sigaddset(&one, signo);
    if ((rc = pthread_sigmask(SIG_BLOCK, &one, &old)) != 0)
        return -rc;
    mask = st->mask;
    sigaddset(&mask, signo);
    if (signalfd(st->fd, &mask, 0) < 0) {
        rc = -errno;
        if (!sigismember(&old, signo))
            pthread_sigmask(SIG_UNBLOCK, &one, NULL);
        return rc;
    }
    st->mask = mask;
    if (!sigismember(&old, signo))
        sigaddset(&st->blocked, signo);
    /* It may be pending already (the caller had blocked it): take it now,
     * so the wait that follows returns without a trip through the loop. */
    drain(loop, st);
    return 0;
}

static void detach_signal(corio__wait *w)
{
    corio_loop *loop = w->task->loop;
    struct sig *st = loop->sig;
    int signo = (int)(intptr_t)w->obj;
    assert(st && signo > 0 && signo < _NSIG);
    corio__list_remove(&st->waiters[signo], &w->node);
    assert(loop->outside_waits > 0);
    loop->outside_waits--;
}

/* Has signo come without being waited for, so a wait would return at
 * once? Reads what the signalfd holds (the loop may not have yet), or,
 * for a signal corio does not receive yet, asks whether it is pending in
 * the kernel (the program blocks it). Sets nothing up. */
static int arrived(corio_loop *loop, int signo)
{
    struct sig *st = loop->sig;
    sigset_t set;
    if (st && sigismember(&st->mask, signo)) {
        drain(loop, st);
        return st->pending[signo] > 0;
    }
    return sigpending(&set) == 0 && sigismember(&set, signo) == 1;
}
static void describe_signal(const corio__wait *w, corio__wait_desc *d)
{
    int signo = (int)(intptr_t)w->obj;
    corio__wait_descf(d, "signal %d (%s)", signo, strsignal(signo));
}

static const corio__wait_ops signal_ops = {"signal", detach_signal, 0, 0,
                                           describe_signal};

int corio_signal_wait(int signo)
{
    corio_task *t = corio__task_running();
    corio_loop *loop;
    struct sig *st = NULL;
    sigset_t probe;
    corio__wait *w;
    int rc;

    if (!t)
        return CORIO_ENOTASK;
    /* sigaddset also refuses the C library's internal signals. */
    sigemptyset(&probe);
    if (signo <= 0 || signo >= _NSIG || signo == SIGKILL ||
        signo == SIGSTOP || sigaddset(&probe, signo) != 0)
        return -EINVAL;
    loop = t->loop;
    /* With a cancel standing, set nothing up for a signal that has not
     * come: the wait would fail anyway. */
    if (corio__task_cancel_pending(t) && !arrived(loop, signo)) {
        corio__task_cancel_report(t);
        return -ECANCELED;
    }
    if ((rc = sig_of(loop, &st)) != 0)
        return rc;
    if ((rc = sig_add(loop, st, signo)) != 0)
        return rc;
    if (st->pending[signo] > 0) {
        st->pending[signo]--;
        return 0;
    }
    if (corio__task_cancel_report(t))
        return -ECANCELED; /* it would have to wait */
    w = corio__wait_begin(t, &signal_ops, (void *)(intptr_t)signo, 0);
    corio__list_push_back(&st->waiters[signo], &w->node);
    loop->outside_waits++;
    rc = corio__wait_park(w);
    if (rc)
        return rc;
    return corio__task_cancel_report(t) ? -ECANCELED : 0;
}

/* ---- several signals at once ------------------------------------------------- */

static void detach_any(corio__wait *w)
{
    corio_loop *loop = w->task->loop;
    struct sig *st = loop->sig;
    assert(st);
    corio__list_remove(&st->any_waiters, &w->node);
    assert(loop->outside_waits > 0);
    loop->outside_waits--;
}

static void describe_any(const corio__wait *w, corio__wait_desc *d)
{
    uint64_t mask = (uint64_t)(uintptr_t)w->obj;
    const char *sep = "";
    int signo;
    corio__wait_descf(d, "any of signals ");
    for (signo = 1; signo <= 64; signo++) {
        if (mask & (UINT64_C(1) << (signo - 1))) {
            corio__wait_descf(d, "%s%d", sep, signo);
            sep = ", ";
        }
    }
}

static const corio__wait_ops signal_any_ops = {"signals", detach_any, 0, 0,
                                               describe_any};

/* A valid signal number for waiting (as corio_signal_wait checks). */
static int waitable(int signo)
{
    sigset_t probe;
    sigemptyset(&probe);
    return signo > 0 && signo < _NSIG && signo != SIGKILL &&
           signo != SIGSTOP && sigaddset(&probe, signo) == 0;
}

int corio_signal_wait_any(const int *signos, size_t n, int *which)
{
    corio_task *t = corio__task_running();
    struct sig *st = NULL;
    corio__wait *w;
    uint64_t mask = 0;
    size_t i;
    int rc, any_arrived = 0;

    if (!signos || n == 0)
        return -EINVAL;
    for (i = 0; i < n; i++)
        if (!waitable(signos[i]))
            return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (corio__task_cancel_pending(t)) {
        for (i = 0; i < n && !any_arrived; i++)
            any_arrived = arrived(t->loop, signos[i]);
        if (!any_arrived) {
            corio__task_cancel_report(t);
            return -ECANCELED;
        }
    }
    if ((rc = sig_of(t->loop, &st)) != 0)
        return rc;
    for (i = 0; i < n; i++) {
        if ((rc = sig_add(t->loop, st, signos[i])) != 0)
            return rc;
        mask |= UINT64_C(1) << (signos[i] - 1);
    }
    for (i = 0; i < n; i++) {
        if (st->pending[signos[i]] > 0) {
            st->pending[signos[i]]--;
            if (which)
                *which = signos[i];
            return 0;
        }
    }
    if (corio__task_cancel_report(t))
        return -ECANCELED;
    w = corio__wait_begin(t, &signal_any_ops, (void *)(uintptr_t)mask, 0);
    corio__list_push_back(&st->any_waiters, &w->node);
    t->loop->outside_waits++;
    rc = corio__wait_park(w);
    if (w->state != CORIO__WAIT_GRANTED)
        return rc;
    if (which)
        *which = rc;
    return 0;
}

/* ---- watchers without a task (proc_sigwatch.h) ------------------------------ */

int corio__signal_watch(corio_loop *loop, int signo, corio__wait *w)
{
    struct sig *st = NULL;
    int rc;
    assert(!w->task && w->state == CORIO__WAIT_PENDING);
    if (signo <= 0 || signo >= _NSIG)
        return -EINVAL;
    if ((rc = sig_of(loop, &st)) != 0)
        return rc;
    if ((rc = sig_add(loop, st, signo)) != 0)
        return rc;
    if (st->pending[signo] > 0) {
        st->pending[signo] = 0; /* a watcher takes them all at once */
        return 1;
    }
    w->obj = (void *)(intptr_t)signo;
    corio__list_push_back(&st->waiters[signo], &w->node);
    loop->outside_waits++;
    return 0;
}

void corio__signal_unwatch(corio_loop *loop, corio__wait *w)
{
    struct sig *st = loop->sig;
    int signo = (int)(intptr_t)w->obj;
    if (w->state != CORIO__WAIT_PENDING)
        return;
    assert(st && signo > 0 && signo < _NSIG);
    corio__list_remove(&st->waiters[signo], &w->node);
    assert(loop->outside_waits > 0);
    loop->outside_waits--;
    w->state = CORIO__WAIT_CANCELLED;
}
