/*
 * oom.h: make large allocations fail for a moment, to test -ENOMEM paths
 * without a custom allocator. oom_begin lowers RLIMIT_AS to the address
 * space in use plus OOM_SLACK, so any allocation that needs fresh memory
 * much larger than the slack fails (glibc maps it, or grows the heap,
 * and both count); oom_end restores the limit. A test calls the function
 * under test with an input whose allocation is several MiB in between.
 * Not usable under ASan, TSan or Valgrind (their allocators reserve
 * memory their own way, and ASan aborts on a failed allocation), nor
 * under qemu-user (it does not apply the guest's RLIMIT_AS): oom_require()
 * checks, with a probe allocation, and reports the case SKIPPED there.
 */
#ifndef CORIO_TEST_OOM_H
#define CORIO_TEST_OOM_H

#include "test.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#define OOM_SLACK (1u << 20)

static struct rlimit oom_saved_;

static inline void oom_begin(void);
static inline void oom_end(void);

/* Skip the running case unless oom_begin really makes a large allocation
 * fail here. */
static inline void oom_require(void)
{
    void *p;
    if (corio_test_under_asan() || corio_test_under_tsan() ||
        corio_test_under_valgrind())
        corio_test_skip("a failing allocation cannot be forced under a "
                        "sanitizer or Valgrind");
    oom_begin();
    p = malloc(8u << 20);
    oom_end();
    free(p);
    if (p)
        corio_test_skip("RLIMIT_AS does not limit allocations here "
                        "(qemu-user?)");
}

static inline void oom_begin(void)
{
    unsigned long pages = 0;
    struct rlimit lim;
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK(f != NULL);
    CHECK_EQ(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    CHECK_EQ(getrlimit(RLIMIT_AS, &oom_saved_), 0);
    lim = oom_saved_;
    lim.rlim_cur = pages * (unsigned long)sysconf(_SC_PAGESIZE) + OOM_SLACK;
    CHECK_EQ(setrlimit(RLIMIT_AS, &lim), 0);
}

static inline void oom_end(void)
{
    CHECK_EQ(setrlimit(RLIMIT_AS, &oom_saved_), 0);
}

#endif /* CORIO_TEST_OOM_H */
