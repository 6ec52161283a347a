/*
 * alloc.h: the one door through which corio allocates heap memory.
 *
 * Every malloc, calloc, realloc, strdup and free in src/ is one of these:
 * they call the allocator set with corio_set_allocator (include/corio/
 * alloc.h), or libc's when none is set, and count the blocks that are
 * live so that changing allocators with objects alive is refused.
 * Stacks are mapped (core/stack/) and never come through here.
 * corio__realloc(NULL, n) allocates; corio__free(NULL) does nothing; a
 * size of 0 is never asked for (callers allocate at least one byte).
 */
#ifndef CORIO__ALLOC_H
#define CORIO__ALLOC_H

#include <stddef.h>

void *corio__malloc(size_t size);
void *corio__calloc(size_t n, size_t size);
void *corio__realloc(void *ptr, size_t size);
void corio__free(void *ptr);
char *corio__strdup(const char *s);

/* libc's realloc, never the hook: for memory a public contract hands to
 * the caller to release with free() (corio_process_communicate's output). */
void *corio__libc_realloc(void *ptr, size_t size);

#endif /* CORIO__ALLOC_H */
