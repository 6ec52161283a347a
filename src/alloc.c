/*
 * alloc.c: corio's allocator hook (include/corio/alloc.h).
 *
 * One process-wide allocator, read on every call: libc's when none is set
 * (user.malloc NULL). A relaxed atomic count of live blocks lets
 * corio_set_allocator refuse to switch while blocks from the current one
 * are alive; it is never used for anything else.
 */
#include "alloc.h"

#include <corio/alloc.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static corio_allocator user; /* all NULL: libc */
static atomic_long live;

int corio_set_allocator(const corio_allocator *a)
{
    if (a && (!a->malloc || !a->realloc || !a->free))
        return -EINVAL;
    if (atomic_load_explicit(&live, memory_order_acquire) != 0)
        return -EBUSY;
    if (a)
        user = *a;
    else
        memset(&user, 0, sizeof user);
    return 0;
}

void *corio__malloc(size_t size)
{
    void *p = user.malloc ? user.malloc(user.ud, size ? size : 1)
                          : malloc(size ? size : 1);
    if (p)
        atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return p;
}

void *corio__calloc(size_t n, size_t size)
{
    void *p;
    if (size && n > SIZE_MAX / size)
        return NULL;
    if (!user.malloc) {
        p = calloc(n ? n : 1, size ? size : 1);
        if (p)
            atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
        return p;
    }
    p = corio__malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *corio__realloc(void *ptr, size_t size)
{
    if (!ptr)
        return corio__malloc(size);
    return user.malloc ? user.realloc(user.ud, ptr, size ? size : 1)
                       : realloc(ptr, size ? size : 1);
}

void corio__free(void *ptr)
{
    if (!ptr)
        return;
    atomic_fetch_sub_explicit(&live, 1, memory_order_release);
    if (user.malloc)
        user.free(user.ud, ptr);
    else
        free(ptr);
}

char *corio__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = corio__malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void corio_free(void *ptr)
{
    corio__free(ptr);
}
