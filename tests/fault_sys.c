/*
 * fault_sys.c: the system-call fault shim (fault_sys.h).
 *
 * Each wrapper asks plan_hit(fn) whether this call fails; if not it calls
 * the real function, resolved once with dlsym. Under ASan or TSan (clang
 * links their runtime into the binary) the real function is the
 * sanitizer's interceptor, __interceptor_NAME, so the sanitizer still sees
 * the call; otherwise it is the next definition, libc's (RTLD_NEXT).
 * With no plan armed a wrapper costs one atomic load.
 */
#include "fault_sys.h"
#include "test.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

struct plan {
    atomic_long calls, failed;
    long k, times;
    int err;
};

static atomic_int armed; /* any plan stands */
static struct plan plans[FS_NFN];

void fault_sys_fail(int fn, long k, long times, int err)
{
    struct plan *p = &plans[fn];
    atomic_store(&p->calls, 0);
    atomic_store(&p->failed, 0);
    p->k = k;
    p->times = times;
    p->err = err;
    atomic_store(&armed, 1);
}

void fault_sys_reset(void)
{
    int i;
    atomic_store(&armed, 0);
    for (i = 0; i < FS_NFN; i++) {
        plans[i].k = 0;
        atomic_store(&plans[i].calls, 0);
        atomic_store(&plans[i].failed, 0);
    }
}

long fault_sys_calls(int fn)
{
    return atomic_load(&plans[fn].calls);
}

long fault_sys_failed(int fn)
{
    return atomic_load(&plans[fn].failed);
}

long fault_sys_failed_hard(void)
{
    long n = 0;
    int i;
    for (i = 0; i < FS_NFN; i++)
        if (plans[i].err != EINTR)
            n += atomic_load(&plans[i].failed);
    return n;
}

/* Does this call of fn fail? Sets errno if so. */
static int plan_hit(int fn)
{
    struct plan *p = &plans[fn];
    long n;
    if (!atomic_load_explicit(&armed, memory_order_acquire) || p->k <= 0)
        return 0;
    n = atomic_fetch_add(&p->calls, 1) + 1;
    if (n < p->k || (p->times >= 0 && n >= p->k + p->times))
        return 0;
    atomic_fetch_add(&p->failed, 1);
    errno = p->err;
    return 1;
}

static void *real_sym(const char *name)
{
    char buf[64];
    void *f;
    snprintf(buf, sizeof buf, "__interceptor_%s", name);
    if ((f = dlsym(RTLD_DEFAULT, buf)) != NULL)
        return f;
    snprintf(buf, sizeof buf, "___interceptor_%s", name);
    if ((f = dlsym(RTLD_DEFAULT, buf)) != NULL)
        return f;
    f = dlsym(RTLD_NEXT, name);
    if (!f) {
        static const char msg[] = "fault_sys: no real function\n";
        (void)!syscall(SYS_write, 2, msg, sizeof msg - 1);
        abort();
    }
    return f;
}

/* The atomic pointer loads are not needed for correctness (every thread
 * stores the same value), but keep TSan quiet. */
#define RESOLVE(var, type, name)                                           \
    static _Atomic(type) var##_slot;                                       \
    type var = atomic_load_explicit(&var##_slot, memory_order_relaxed);    \
    if (!var) {                                                            \
        var = (type)real_sym(name);                                        \
        atomic_store_explicit(&var##_slot, var, memory_order_relaxed);     \
    }

typedef int (*epoll_create1_fn)(int);
typedef int (*epoll_ctl_fn)(int, int, int, struct epoll_event *);
typedef int (*epoll_wait_fn)(int, struct epoll_event *, int, int);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *,
                        const sigset_t *);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);
typedef int (*eventfd_fn)(unsigned, int);
typedef int (*signalfd_fn)(int, const sigset_t *, int);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*mprotect_fn)(void *, size_t, int);
typedef long (*syscall_fn)(long, ...);

int epoll_create1(int flags)
{
    RESOLVE(f, epoll_create1_fn, "epoll_create1");
    return plan_hit(FS_EPOLL_CREATE1) ? -1 : f(flags);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    RESOLVE(f, epoll_ctl_fn, "epoll_ctl");
    return plan_hit(FS_EPOLL_CTL) ? -1 : f(epfd, op, fd, ev);
}

int epoll_wait(int epfd, struct epoll_event *ev, int max, int ms)
{
    RESOLVE(f, epoll_wait_fn, "epoll_wait");
    return plan_hit(FS_EPOLL_WAIT) ? -1 : f(epfd, ev, max, ms);
}

int poll(struct pollfd *fds, nfds_t n, int ms)
{
    RESOLVE(f, poll_fn, "poll");
    return plan_hit(FS_POLL) ? -1 : f(fds, n, ms);
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
          const sigset_t *mask)
{
    RESOLVE(f, ppoll_fn, "ppoll");
    return plan_hit(FS_POLL) ? -1 : f(fds, n, ts, mask);
}

ssize_t read(int fd, void *buf, size_t len)
{
    RESOLVE(f, read_fn, "read");
    return plan_hit(FS_READ) ? -1 : f(fd, buf, len);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    RESOLVE(f, write_fn, "write");
    return plan_hit(FS_WRITE) ? -1 : f(fd, buf, len);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    RESOLVE(f, accept4_fn, "accept4");
    return plan_hit(FS_ACCEPT4) ? -1 : f(fd, addr, len, flags);
}

int eventfd(unsigned init, int flags)
{
    RESOLVE(f, eventfd_fn, "eventfd");
    return plan_hit(FS_EVENTFD) ? -1 : f(init, flags);
}

int signalfd(int fd, const sigset_t *mask, int flags)
{
    RESOLVE(f, signalfd_fn, "signalfd");
    return plan_hit(FS_SIGNALFD) ? -1 : f(fd, mask, flags);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    RESOLVE(f, mmap_fn, "mmap");
    return plan_hit(FS_MMAP) ? MAP_FAILED : f(addr, len, prot, flags, fd, off);
}

int mprotect(void *addr, size_t len, int prot)
{
    RESOLVE(f, mprotect_fn, "mprotect");
    return plan_hit(FS_MPROTECT) ? -1 : f(addr, len, prot);
}

/* corio waits with epoll_pwait2 through syscall(2) where the kernel has
 * it: that counts as an epoll wait. Its descriptor I/O (io.c's hot paths)
 * reads and writes through syscall(2) too: SYS_read and SYS_write count
 * as read and write (SYS_sendto, like send(2), is not counted). Every
 * other number is forwarded.
 * syscall(2) cannot know how many arguments its caller passed, so it
 * reads six, as the C library's does; a caller that passes fewer leaves
 * the rest unread by the kernel. AddressSanitizer would flag reading
 * past such a caller's arguments, so this function is not instrumented. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
__attribute__((no_sanitize("address")))
#endif
#endif
long syscall(long n, ...)
{
    va_list ap;
    long a[6];
    int i;
    RESOLVE(f, syscall_fn, "syscall");
    va_start(ap, n);
    for (i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
#ifdef SYS_epoll_pwait2
    if (n == SYS_epoll_pwait2 && plan_hit(FS_EPOLL_WAIT))
        return -1;
#endif
    if ((n == SYS_read && plan_hit(FS_READ)) ||
        (n == SYS_write && plan_hit(FS_WRITE)))
        return -1;
    return f(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* corio's descriptor I/O makes its reads and writes inline (src/io/io.c,
 * "system calls"), which no definition here could see, unless the
 * program defines this hook: then they come here, through the syscall(2)
 * above (SYS_read and SYS_write count as read and write). The result, or
 * -errno, as the kernel answers. */
long corio__io_sys_hook(long nr, long a, long b, long c, long d, long e,
                        long f);
long corio__io_sys_hook(long nr, long a, long b, long c, long d, long e,
                        long f)
{
    long r = syscall(nr, a, b, c, d, e, f);
    return r < 0 ? -errno : r;
}

/* A call made through the binary's PLT must reach the shim and come back
 * from the real function. */
void fault_sys_require(void)
{
    int p[2], ok;
    char c = 'p';
    if (pipe(p) != 0)
        corio_test_skip("no pipe for the shim's probe");
    fault_sys_fail(FS_READ, 1000000, 1, EIO);
    ok = write(p[1], &c, 1) == 1 && read(p[0], &c, 1) == 1 &&
         fault_sys_calls(FS_READ) == 1;
    fault_sys_reset();
    close(p[0]);
    close(p[1]);
    if (!ok)
        corio_test_skip("system calls do not reach the fault shim here");
}
