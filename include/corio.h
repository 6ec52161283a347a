/*
 * corio.h: the one header corio users include.
 *
 * corio brings Python's coroutines and asyncio to C. Layers, lowest first:
 *   corio/error.h   error codes, corio_strerror
 *   corio/alloc.h   the allocator corio uses (corio_set_allocator)
 *   corio/version.h CORIO_VERSION_*, corio_version
 *   corio/coro.h    coroutine objects driven by hand (no loop needed)
 *   corio/loop.h    the event loop, its clock and callbacks
 *   corio/future.h  futures
 *   corio/task.h    tasks, sleep, cancellation
 *   corio/run.h     corio_run: asyncio.run
 *   corio/io.h      descriptors, non-blocking I/O, signals
 *   corio/scope.h   cancel scopes: timeouts, move-on, shields
 *   corio/group.h   task groups (TaskGroup, nurseries)
 *   corio/combine.h gather, wait, as_completed, wait_for, shield
 *   corio/sync.h    locks, events, conditions, semaphores, barriers
 *   corio/queue.h   queues (FIFO, LIFO, priority)
 *   corio/topic.h   publish/subscribe topics
 *   corio/ctxvar.h  task-local context variables (contextvars)
 *   corio/agen.h    async generators and async iteration
 *   corio/process.h child processes: spawn, wait, signals, pipes
 *   corio/net.h     name resolution, TCP, Unix and UDP sockets
 *   corio/stream.h  buffered streams over descriptors
 *   corio/server.h  servers: a task per connection, graceful shutdown
 *
 * Conventions for every public function (docs/design.md, "Conventions"):
 *   - Errors: a fallible call returns 0 (or a documented non-negative
 *     value) or a negative errno / CORIO_E* code; its comment lists every
 *     error it can return. A call suspends only where its comment says so
 *     (queries, constructors, _free/_release/_retain never do).
 *   - NULL: a call that returns int (or ssize_t) returns -EINVAL when an
 *     object or a required pointer is NULL (pointers documented as "may be
 *     NULL" are optional); _free, _release and _retain of NULL do nothing
 *     (an int _free returns 0); a query never crashes on NULL and gives 0,
 *     NULL, "", CORIO_CORO_CLOSED or INFINITY as its comment says. A
 *     comment mentions NULL only where a call departs from this.
 *   - Cancellation: every call that would have to wait fails with
 *     -ECANCELED at once while a cancel stands (task.h); a call that need
 *     not wait succeeds, and the cancel is delivered at the next real
 *     wait. A call that behaves otherwise says so in its comment.
 */
#ifndef CORIO_H
#define CORIO_H

#include "corio/error.h"
#include "corio/alloc.h"
#include "corio/version.h"
#include "corio/coro.h"
#include "corio/loop.h"
#include "corio/future.h"
#include "corio/task.h"
#include "corio/run.h"
#include "corio/io.h"
#include "corio/scope.h"
#include "corio/group.h"
#include "corio/combine.h"
#include "corio/sync.h"
#include "corio/queue.h"
#include "corio/topic.h"
#include "corio/ctxvar.h"
#include "corio/agen.h"
#include "corio/process.h"
#include "corio/thread.h"
#include "corio/net.h"
#include "corio/stream.h"
#include "corio/server.h"
#include "corio/diag.h"

#endif /* CORIO_H */
