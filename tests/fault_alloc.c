/*
 * fault_alloc.c: the counting, failing test allocator (fault_alloc.h).
 * It forwards to libc's malloc, realloc and free (so ASan, LeakSanitizer
 * and Valgrind still see every block) and decides before each call
 * whether this one fails. CORIO_FAULT_TRACE=N prints every allocation
 * and free to stderr (to find what leaked), and the stack of allocation N.
 */
#include "fault_alloc.h"
#include "test.h"

#include <corio/alloc.h>
#include <execinfo.h>
#include <stdatomic.h>
#include <stdlib.h>

static atomic_long calls, failed, live, fail_n;
static atomic_int fail_mode;

/* 1 if the allocation being asked for now must fail. */
static int must_fail(void)
{
    long n = atomic_fetch_add(&calls, 1) + 1;
    long at = atomic_load(&fail_n);
    if (at > 0 && (n == at || (n > at && atomic_load(&fail_mode) == FAULT_FROM))) {
        atomic_fetch_add(&failed, 1);
        return 1;
    }
    return 0;
}

static void *fa_malloc(void *ud, size_t size)
{
    void *p;
    (void)ud;
    if (must_fail())
        return NULL;
    p = malloc(size);
    if (p)
        atomic_fetch_add(&live, 1);
    if (getenv("CORIO_FAULT_TRACE")) {
        fprintf(stderr, "alloc %ld %p %zu\n", atomic_load(&calls), p, size);
        if (atol(getenv("CORIO_FAULT_TRACE")) == atomic_load(&calls)) {
            void *bt[16];
            backtrace_symbols_fd(bt, backtrace(bt, 16), 2);
        }
    }
    return p;
}

static void *fa_realloc(void *ud, void *ptr, size_t size)
{
    void *p;
    (void)ud;
    if (must_fail())
        return NULL;
    if (getenv("CORIO_FAULT_TRACE"))
        fprintf(stderr, "free %p\n", ptr);
    p = realloc(ptr, size);
    if (getenv("CORIO_FAULT_TRACE"))
        fprintf(stderr, "alloc %ld %p %zu\n", atomic_load(&calls), p, size);
    return p;
}

static void fa_free(void *ud, void *ptr)
{
    (void)ud;
    if (getenv("CORIO_FAULT_TRACE"))
        fprintf(stderr, "free %p\n", ptr);
    atomic_fetch_sub(&live, 1);
    free(ptr);
}

static const corio_allocator fa = {fa_malloc, fa_realloc, fa_free, NULL};

void fault_alloc_install(void)
{
    atomic_store(&calls, 0);
    atomic_store(&failed, 0);
    atomic_store(&live, 0);
    atomic_store(&fail_n, 0);
    CHECK_EQ(corio_set_allocator(&fa), 0);
}

void fault_alloc_uninstall(void)
{
    CHECK_EQ(atomic_load(&live), 0);
    CHECK_EQ(corio_set_allocator(NULL), 0);
}

void fault_alloc_fail_at(long n, int mode)
{
    atomic_store(&calls, 0);
    atomic_store(&failed, 0);
    atomic_store(&fail_mode, mode);
    atomic_store(&fail_n, n);
}

long fault_alloc_calls(void)
{
    return atomic_load(&calls);
}

long fault_alloc_failed(void)
{
    return atomic_load(&failed);
}

long fault_alloc_live(void)
{
    return atomic_load(&live);
}
