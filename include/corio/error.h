/*
 * corio/error.h: error codes and their names.
 *
 * Every fallible corio call returns 0 (or a documented positive status) on
 * success and a negative number on failure. Most failures are negative errno
 * values (-ENOMEM, -ECANCELED, -ETIMEDOUT, -EINVAL...). A coroutine's own
 * failure is whatever negative errno its body returned.
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
/* A call that must run inside a coroutine was made outside any. */
#define CORIO_ENOTCORO (CORIO_EBASE - 6)
/* A lean coroutine's shared stack is held by a coroutine that is running or
 * waiting on the resume chain, so this one cannot be brought back now. */
#define CORIO_ESTACKBUSY (CORIO_EBASE - 7)
/* The call was made on a thread other than the one the object belongs to. */
#define CORIO_EWRONGTHREAD (CORIO_EBASE - 8)
/* The call needs a running loop on this thread and there is none (asyncio:
 * "no running event loop"). */
#define CORIO_ENOTASK (CORIO_EBASE - 9)
/* A cancel scope or group was closed out of order or by another task
 * (Trio's "cancel scope stack corrupted"). */
#define CORIO_ESCOPE (CORIO_EBASE - 10)
/* An async generator yielded while a cancel scope or task group it opened
 * itself was still open (PEP 789); the item was not delivered. */
#define CORIO_EYIELDSCOPE (CORIO_EBASE - 11)

/*
 * corio_strerror: a short English description of `code`, for corio's own
 * codes, negative errno values, and the positive resume statuses
 * (1: CORIO_YIELDED, 2: CORIO_AWAITING) alike. Never NULL; the string is
 * static. Unknown codes give "unknown error". Thread-safe.
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
