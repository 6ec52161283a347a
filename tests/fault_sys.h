/*
 * fault_sys.h: a system-call fault shim for tests. tests/fault_sys.c
 * defines epoll_create1, epoll_ctl, epoll_wait (and the epoll_pwait2 that
 * corio makes through syscall(2)), poll, ppoll, read, write, accept4,
 * eventfd, signalfd, mmap and mprotect in the test binary. corio is linked
 * into it statically and libc dynamically, so corio's calls reach these
 * definitions, which forward to the real function (found with dlsym: a
 * sanitizer's interceptor when there is one, else libc's).
 *
 * The shim is inert until a test arms it: with no plan every call is
 * forwarded untouched. A plan says "calls number k, k+1, ... k+times-1 of
 * FUNC (counted from when it was armed) fail with ERRNO, without reaching
 * the kernel" (times < 0: every call from k on). Plans for different
 * functions can stand together; fault_sys_reset() drops them all.
 *
 * Only calls made on the arming thread's process count (threads included),
 * so arm the plan right before the code under test. fault_sys_require()
 * reports the running case SKIPPED where the shim cannot work.
 */
#ifndef CORIO_TEST_FAULT_SYS_H
#define CORIO_TEST_FAULT_SYS_H

enum fault_sys_fn {
    FS_EPOLL_CREATE1,
    FS_EPOLL_CTL,
    FS_EPOLL_WAIT, /* epoll_wait, epoll_pwait2 */
    FS_POLL,       /* poll, ppoll */
    FS_READ,
    FS_WRITE,
    FS_ACCEPT4,
    FS_EVENTFD,
    FS_SIGNALFD,
    FS_MMAP,
    FS_MPROTECT,
    FS_NFN
};

void fault_sys_fail(int fn, long k, long times, int err);
void fault_sys_reset(void);
long fault_sys_calls(int fn);  /* calls since the plan was armed */
long fault_sys_failed(int fn); /* of those, how many it made fail */
/* Failures made so far, all functions, other than EINTR (which must
 * never be seen by corio's caller). */
long fault_sys_failed_hard(void);
void fault_sys_require(void);

#endif /* CORIO_TEST_FAULT_SYS_H */
