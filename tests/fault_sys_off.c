/*
 * fault_sys_off.c: the system-call fault shim's stand-in for a test binary
 * linked statically (the AArch64 cross build). Interposing libc's
 * functions needs libc linked dynamically (fault_sys.c finds the real
 * ones with dlsym); statically, its definitions would replace them with
 * nothing to forward to. Here plans do nothing and the cases that need
 * the shim report SKIPPED.
 */
#include "fault_sys.h"
#include "test.h"

void fault_sys_fail(int fn, long k, long times, int err)
{
    (void)fn;
    (void)k;
    (void)times;
    (void)err;
}

void fault_sys_reset(void)
{
}

long fault_sys_calls(int fn)
{
    (void)fn;
    return 0;
}

long fault_sys_failed(int fn)
{
    (void)fn;
    return 0;
}

long fault_sys_failed_hard(void)
{
    return 0;
}

void fault_sys_require(void)
{
    corio_test_skip("the test binary is linked statically: no system-call "
                    "fault shim");
}
