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

TEST(null_free)
{
    corio_free(NULL); /* nothing to free: does nothing */
}

/* A block corio hands out goes back through corio_free to the allocator
 * that made it: with a counting allocator set, the count returns to zero
 * and the allocator can be changed again (-EBUSY while a block lives). */
static long live_blocks;

static void *cm(void *ud, size_t n)
{
    (void)ud;
    live_blocks++;
    return malloc(n);
}

static void *cr(void *ud, void *p, size_t n)
{
    (void)ud;
    if (!p)
        live_blocks++;
    return realloc(p, n);
}

static void cf(void *ud, void *p)
{
    (void)ud;
    live_blocks--;
    free(p);
}

static int read_self(void *arg, void **result)
{
    void **data = arg;
    size_t len;
    (void)result;
    return corio_file_read_all("/proc/self/stat", 0, data, &len);
}

TEST(alloc_free_returns_to_its_allocator)
{
    corio_allocator a = {cm, cr, cf, NULL};
    void *data = NULL;
    void *r;
    CHECK_EQ(corio_set_allocator(&a), 0);
    CHECK_EQ(corio_run(read_self, &data, &r), 0);
    CHECK(data != NULL);
    CHECK(live_blocks > 0);
    CHECK_EQ(corio_set_allocator(NULL), -EBUSY);
    corio_free(data);
    CHECK_EQ(live_blocks, 0);
    CHECK_EQ(corio_set_allocator(NULL), 0);
}
