/*
 * overflow.c: reporting a stack overflow by the coroutine's name.
 *
 * A SIGSEGV/SIGBUS handler, installed once for the process, runs on the
 * per-thread alternate signal stack that corio__stack_thread_init gives
 * every thread running coroutines. It decides by addresses which stack
 * overflowed (no cost per switch): the running coroutine's, when the
 * faulting stack pointer has left that stack downward and the fault lies
 * between it and the stack (a frame larger than the guard jumps it, so
 * the fault may land in another stack's guard, and naming that stack's
 * owner would blame a suspended coroutine); else the stack whose guard
 * holds si_addr (arena.c walks its arena list). It reports by name and
 * aborts. Anything else is passed to the
 * handler installed before corio's, or to the default action. The same
 * report serves coro.c's canary check, which finds an overflow after the
 * fact and has no fault address.
 *
 * Invariants: everything on the handler's path is async-signal-safe: no
 * lock, no allocation, no stdio (the report is built in a buffer on the
 * signal stack and written with write(2)); errno is preserved when the
 * handler returns.
 *
 * Limits: the previous handler's sa_mask and flags are not replayed (it is
 * just called). A frame larger than the guard, in code built without
 * -fstack-clash-protection, may write into the neighbouring stack without
 * faulting at all (silent corruption): corio is built with the flag where
 * the compiler has it, and docs/coro.md asks programs to be too.
 */
#include "stack_impl.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static struct sigaction prev_segv, prev_bus;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

/* coro.c's "stack of the running coroutine" (stack.h). */
static const corio__stack *(*_Atomic running_fn)(void);

/* How far below its stack an overflowing coroutine's stack pointer may be
 * and still be taken for an overflow (a frame of up to this size). */
#define OVERFLOW_REACH ((uintptr_t)64 << 20)

void corio__stack_set_running_fn(const corio__stack *(*fn)(void))
{
    running_fn = fn;
}

/* The stack pointer of the interrupted context, or 0 if unknown here. */
static uintptr_t fault_sp(const void *uc)
{
    const ucontext_t *u = uc;
    if (!u)
        return 0;
#if defined(__x86_64__)
    return (uintptr_t)u->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)u->uc_mcontext.sp;
#else
    return 0;
#endif
}

/* The stack that overflowed, or NULL if the fault is not an overflow. */
static const corio__stack *overflowed(const void *addr, const void *uc)
{
    const corio__stack *(*fn)(void) = running_fn;
    const corio__stack *run = fn ? fn() : NULL;
    uintptr_t sp = fault_sp(uc), a = (uintptr_t)addr;
    if (run && sp) {
        uintptr_t lo = (uintptr_t)run->lo;
        /* The stack pointer left the running stack downward, and the
         * fault is in the frame being made (at most a page below sp:
         * the red zone, a push). */
        if (sp < lo && lo - sp <= OVERFLOW_REACH && a < lo &&
            a + 4096 >= sp)
            return run;
    }
    return corio__stack_guard_owner(addr);
}

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
    const struct sigaction *prev = sig == SIGBUS ? &prev_bus : &prev_segv;
    void (*h)(int) = prev->sa_handler; /* shares storage with sa_sigaction */
    int saved_errno = errno;
    if (si && si->si_code > 0) { /* raised by a fault, not by kill() */
        const corio__stack *st = overflowed(si->si_addr, uc);
        if (st)
            corio__stack_overflow_report(st, si->si_addr);
    }
    /* Not ours: whoever was there before. Their sa_mask and flags are not
     * replayed; the handler just runs. */
    if (h != SIG_DFL && h != SIG_IGN) {
        if (prev->sa_flags & SA_SIGINFO)
            prev->sa_sigaction(sig, si, uc);
        else
            h(sig);
    } else {
        /* Default action (a fault cannot be ignored): the faulting
         * instruction runs again and kills the process; a signal sent by
         * kill() is raised again and delivered once we return. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(sig, &dfl, NULL);
        if (!si || si->si_code <= 0)
            raise(sig);
    }
    errno = saved_errno;
}

static void handler_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &prev_segv);
    sigaction(SIGBUS, &sa, &prev_bus);
}

void corio__stack_handler_install(void)
{
    pthread_once(&handler_once, handler_install);
}

/* Append s, or the hex of v, to buf for the report. */
static size_t put_str(char *buf, size_t n, size_t cap, const char *s,
                      size_t max)
{
    for (size_t i = 0; s[i] && i < max && n < cap; i++)
        buf[n++] = s[i];
    return n;
}

static size_t put_hex(char *buf, size_t n, size_t cap, uintptr_t v)
{
    char tmp[2 + 2 * sizeof v];
    int k = 0;
    do {
        tmp[k++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    n = put_str(buf, n, cap, "0x", 2);
    while (k && n < cap)
        buf[n++] = tmp[--k];
    return n;
}

_Noreturn void corio__stack_overflow_report(const corio__stack *st,
                                            const void *addr)
{
    char buf[512];
    size_t n = 0, cap = sizeof buf - 1; /* room for the newline */
    struct sigaction dfl;
    sigset_t set;
    const char *name = st && st->name ? st->name : "coro";
    n = put_str(buf, n, cap, "corio: stack overflow in coroutine '", 64);
    n = put_str(buf, n, cap, name, 256);
    n = put_str(buf, n, cap, "' (stack ", 16);
    n = put_hex(buf, n, cap, st ? (uintptr_t)st->lo : 0);
    n = put_str(buf, n, cap, "-", 1);
    n = put_hex(buf, n, cap, st ? (uintptr_t)st->lo + st->size : 0);
    if (addr) {
        n = put_str(buf, n, cap, ", fault at ", 16);
        n = put_hex(buf, n, cap, (uintptr_t)addr);
    } else {
        n = put_str(buf, n, cap, ", canary overwritten", 32);
    }
    n = put_str(buf, n, cap, ")", 1);
    buf[n++] = '\n';
    for (size_t done = 0; done < n;) {
        ssize_t w = write(2, buf + done, n - done);
        if (w > 0)
            done += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGABRT, &dfl, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGABRT);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    abort();
}
