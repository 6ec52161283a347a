/*
 * test_null_alloc.c: the NULL rule for corio/alloc.h. NULL is the one
 * argument with a meaning of its own there: back to libc's allocator.
 */
#include "test.h"

#include <corio.h>
#include <errno.h>

static void *m(void *ud, size_t n)
{
    (void)ud;
    return malloc(n);
}

TEST(null_set_allocator)
{
    corio_allocator a = {m, NULL, NULL, NULL};
    CHECK_EQ(corio_set_allocator(NULL), 0);
    CHECK_EQ(corio_set_allocator(&a), -EINVAL); /* NULL realloc and free */
    CHECK_EQ(corio_set_allocator(NULL), 0);
}
