/*
 * corio.h: the one header corio users include.
 *
 * corio brings Python's coroutines and asyncio to C. Layers, lowest first:
 *   corio/error.h   error codes, corio_strerror
 *   corio/coro.h    coroutine objects driven by hand (no loop needed)
 *   corio/loop.h    the event loop, its clock and callbacks
 *   corio/future.h  futures
 *   corio/task.h    tasks, sleep, cancellation, corio_run
 *   corio/io.h      descriptors, non-blocking I/O, signals
 *   corio/scope.h   cancel scopes: timeouts, move-on, shields
 *   corio/group.h   task groups (TaskGroup, nurseries)
 *   corio/combine.h gather, wait, as_completed, wait_for, shield
 *   corio/sync.h    locks, events, conditions, semaphores, barriers
 *   corio/queue.h   queues (FIFO, LIFO, priority)
 *   corio/topic.h   publish/subscribe topics
 *   corio/ctxvar.h  task-local context variables (contextvars)
 *   corio/agen.h    async generators and async iteration
 */
#ifndef CORIO_H
#define CORIO_H

#include "corio/error.h"
#include "corio/coro.h"
#include "corio/loop.h"
#include "corio/future.h"
#include "corio/task.h"
#include "corio/io.h"
#include "corio/scope.h"
#include "corio/group.h"
#include "corio/combine.h"
#include "corio/sync.h"
#include "corio/queue.h"
#include "corio/topic.h"
#include "corio/ctxvar.h"
#include "corio/agen.h"

#endif /* CORIO_H */
