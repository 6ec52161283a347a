/*
 * corio/alloc.h: the memory corio allocates, and who provides it.
 *
 * Every object corio makes (loops, coroutine records, tasks, futures,
 * groups, queues, topics, locks, context variables, poller tables...)
 * comes from one allocator: libc's malloc, realloc and free unless the
 * program sets its own with corio_set_allocator (Lua's lua_Alloc and
 * SQLite's sqlite3_mem_methods are the model). Coroutine stacks are not
 * heap memory: they are mapped with mmap in arenas and never go through
 * the allocator.
 *
 * Why one allocator for the process and not one per loop: coroutines can
 * be made and driven with no loop at all (coro.h), context variables and
 * async generators outlive any one task, and the thread pool allocates on
 * threads of its own. A single allocator covers all of them, and memory
 * is always freed by the allocator that made it.
 *
 * The contract for a custom allocator:
 *   - malloc(ud, size) returns size bytes (size > 0) aligned for any
 *     object, or NULL. realloc(ud, ptr, size) resizes a block it made
 *     (ptr never NULL, size > 0) or returns NULL and leaves ptr intact.
 *     free(ud, ptr) releases a block it made (ptr never NULL).
 *   - NULL is always an answer corio handles: the call that needed the
 *     memory fails with -ENOMEM (or reports it as its contract says) and
 *     keeps nothing it was given. corio never retries and never aborts.
 *   - It is called from any thread that runs corio code: the loop's
 *     thread, threads that call corio_loop_call_soon_threadsafe, and the
 *     thread pool's workers, possibly at the same time. It must be
 *     thread-safe.
 *   - It may be called at any point of a corio call that is documented to
 *     allocate (constructors, spawning, queueing a callback, growing a
 *     table), never from a signal handler, and it must not call back into
 *     corio.
 */
#ifndef CORIO_ALLOC_H
#define CORIO_ALLOC_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_allocator {
    void *(*malloc)(void *ud, size_t size);
    void *(*realloc)(void *ud, void *ptr, size_t size);
    void (*free)(void *ud, void *ptr);
    void *ud; /* passed to each of the three, untouched */
} corio_allocator;

/*
 * corio_set_allocator: make *a the allocator for everything corio
 * allocates from now on (the struct is copied); NULL restores libc's
 * malloc, realloc and free. Call it before corio allocates anything, or
 * once everything corio made has been freed: while any block from the
 * current allocator is live the call fails with -EBUSY and changes
 * nothing (a block must be freed by the allocator that made it). Not
 * thread-safe: no other thread may use corio meanwhile. Does not suspend.
 * Returns 0, -EBUSY, or -EINVAL (a given with a NULL malloc, realloc or
 * free).
 */
CORIO_API int corio_set_allocator(const corio_allocator *a);

/*
 * corio_free: free a block that a corio call handed to the caller
 * (corio_file_read_all's data, corio_process_communicate's output
 * buffers), through the allocator that made it. ptr NULL does nothing.
 * Never free such a block with free(3): with an allocator of your own set,
 * it did not come from malloc. Does not suspend; any thread.
 */
CORIO_API void corio_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_ALLOC_H */
