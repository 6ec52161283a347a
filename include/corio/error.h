/*
 * corio/error.h: error codes and their names.
 *
 * Every fallible corio call returns 0 (or a documented positive status) on
 * success and a negative number on failure. Most failures are negative errno
 * values (-ENOMEM, -ECANCELED, -ETIMEDOUT, -EINVAL...). A coroutine's own
 * failure is whatever negative errno its body returned.
 *
 * Two conditions have one code everywhere:
 *   -EAGAIN         a _try_ call (which never suspends) would have to wait:
 *                   the lock is held, the queue full or empty, no permit
 *                   is free; corio_future_result on a pending future too.
 *   CORIO_ENOTASK   not inside a task (below).
 * -EBUSY means something else: the object is in use (another task already
 * waits on it in a way that allows only one, or it cannot be freed yet).
 *
 * Conditions of the coroutine protocol itself have codes of their own, below
 * CORIO_EBASE, so that a driver can never confuse "the coroutine failed with
 * -EBUSY" with "you resumed a coroutine that is already running". They mirror
 * the exceptions Python raises for the same misuse.
 */
#ifndef CORIO_ERROR_H
#define CORIO_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CORIO_BUILDING) && defined(__GNUC__)
#define CORIO_API __attribute__((visibility("default")))
#else
#define CORIO_API
#endif

/*
 * CORIO_END: the end of a stream, from every "next" call:
 * corio_coro_next, corio_agen_next (and _send, _throw),
 * corio_topic_next, corio_as_completed_next. Each of them returns
 *     0          an item (in its out-parameter),
 *     CORIO_END  no more items (Python's StopIteration /
 *                StopAsyncIteration); every later call says so again,
 *     < 0        an error,
 * so every stream is read the same way:
 *     while ((rc = corio_topic_next(s, &item, NULL)) == 0)
 *         use(item);
 *     if (rc != CORIO_END) ...   // an error
 * The one other positive status a next call can give is corio_coro_next's
 * CORIO_AWAITING (a generator that awaits; see coro.h). CORIO_END's value
 * is unlike any other status's, so corio_errname names it unambiguously.
 */
#define CORIO_END 3

/* corio's own codes all lie in (CORIO_EBASE - 100, CORIO_EBASE]. */
#define CORIO_EBASE (-4200)

/* Resumed, thrown into or closed a coroutine that is already closed
 * (finished, failed or closed). Python: "cannot reuse already awaited
 * coroutine" / StopIteration from a finished generator. */
#define CORIO_ECLOSED (CORIO_EBASE - 1)
/* Resumed a coroutine that is running, or that is waiting on a coroutine it
 * resumed itself. Python: "generator already executing". */
#define CORIO_ERUNNING (CORIO_EBASE - 2)
/* Sent a non-NULL value into a coroutine that has not started. Python:
 * "can't send non-None value to a just-started coroutine". */
#define CORIO_ENOTSTARTED (CORIO_EBASE - 3)
/* What a suspending call returns inside a coroutine that is being closed
 * (Python's GeneratorExit): clean up and return. */
#define CORIO_EEXIT (CORIO_EBASE - 4)
/* The coroutine suspended again while being closed (Python: "coroutine
 * ignored GeneratorExit"). */
#define CORIO_EIGNORED (CORIO_EBASE - 5)
/* A call of the coroutine layer (corio_yield, corio_await) was made
 * outside any coroutine. That layer works with no loop and no task, so it
 * has this code of its own; loop-layer calls say CORIO_ENOTASK. */
#define CORIO_ENOTCORO (CORIO_EBASE - 6)
/* A lean coroutine's shared stack is held by a coroutine that is running or
 * waiting on the resume chain, so this one cannot be brought back now. */
#define CORIO_ESTACKBUSY (CORIO_EBASE - 7)
/* The call was made on a thread other than the one the object belongs to. */
#define CORIO_EWRONGTHREAD (CORIO_EBASE - 8)
/* Not inside a task: the call suspends the running task, or reads or
 * changes its state, and there is none (no loop runs on this thread, or
 * the caller is a loop callback or a plain function). The one code every
 * loop-layer call gives for that (asyncio: "no running event loop").
 * corio_spawn and corio_as_completed_new, which need only a running loop,
 * give it when no loop runs on this thread. */
#define CORIO_ENOTASK (CORIO_EBASE - 9)
/* A cancel scope or group was closed out of order or by another task
 * (Trio's "cancel scope stack corrupted"). */
#define CORIO_ESCOPE (CORIO_EBASE - 10)
/* An async generator yielded while a cancel scope or task group it opened
 * itself was still open (PEP 789); the item was not delivered. */
#define CORIO_EYIELDSCOPE (CORIO_EBASE - 11)

/* Networking (net.h, stream.h, server.h): CORIO_EBASE - 40 and below. */
/* Name resolution: the host (or service) name is not known (EAI_NONAME,
 * NXDOMAIN). */
#define CORIO_ENOTFOUND (CORIO_EBASE - 40)
/* The host is known but has no address of the requested family
 * (EAI_NODATA, EAI_ADDRFAMILY). */
#define CORIO_ENOADDRESS (CORIO_EBASE - 41)
/* Temporary failure in name resolution: no server answered in time, or
 * it failed (EAI_AGAIN, SERVFAIL); trying later may work. */
#define CORIO_ETRYAGAIN (CORIO_EBASE - 42)
/* Name resolution failed for good (EAI_FAIL: refused, malformed
 * answer). */
#define CORIO_ERESOLVE (CORIO_EBASE - 43)
/* The service name is not known for the socket type (EAI_SERVICE). */
#define CORIO_ESERVICE (CORIO_EBASE - 44)
/* A stream's read_until/read_line found no delimiter within its limit;
 * nothing was consumed. */
#define CORIO_ELIMIT (CORIO_EBASE - 45)
/* The stream ended before the requested bytes came (read_exactly,
 * read_until at end of file). */
#define CORIO_EINCOMPLETE (CORIO_EBASE - 46)
/* A read on a server connection waiting for new data was ended because
 * the server is shutting down gracefully. */
#define CORIO_ESHUTTING (CORIO_EBASE - 47)
/* The feature was not built into this corio (TLS without OpenSSL). */
#define CORIO_ENOTBUILT (CORIO_EBASE - 48)

/*
 * corio_strerror: a short English description of `code`, for corio's own
 * codes, negative errno values, and the positive statuses (1:
 * CORIO_YIELDED, 2: CORIO_AWAITING, 3: CORIO_END) alike. Never NULL; the
 * string is static. Unknown codes give "unknown error". Thread-safe.
 */
CORIO_API const char *corio_strerror(int code);

/*
 * corio_errname: the symbolic name of `code` ("ECANCELED", "CORIO_ECLOSED",
 * "OK" for 0, "CORIO_YIELDED" for 1), or "E?" when unknown. Never NULL; static. Thread-safe.
 */
CORIO_API const char *corio_errname(int code);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_ERROR_H */
