/*
 * error.c: names and descriptions for corio's error codes and for negative
 * errno values. Pure tables; thread-safe.
 */
#include <corio/error.h>

#include <errno.h>
#include <string.h>

struct corio_err_name {
    int code;
    const char *name;
    const char *text;
};

static const struct corio_err_name own[] = {
    {CORIO_ECLOSED, "CORIO_ECLOSED", "coroutine is closed"},
    {CORIO_ERUNNING, "CORIO_ERUNNING", "coroutine is already running"},
    {CORIO_ENOTSTARTED, "CORIO_ENOTSTARTED",
     "cannot send a value into a coroutine that has not started"},
    {CORIO_EEXIT, "CORIO_EEXIT", "coroutine is being closed"},
    {CORIO_EIGNORED, "CORIO_EIGNORED", "coroutine ignored close"},
    {CORIO_ENOTCORO, "CORIO_ENOTCORO", "not inside a coroutine"},
    {CORIO_ESTACKBUSY, "CORIO_ESTACKBUSY",
     "shared stack is held by an active coroutine"},
    {CORIO_EWRONGTHREAD, "CORIO_EWRONGTHREAD",
     "object belongs to another thread"},
    {CORIO_ENOTASK, "CORIO_ENOTASK", "not inside a task"},
    {CORIO_ESCOPE, "CORIO_ESCOPE",
     "cancel scope closed out of order or by another task"},
    {CORIO_EYIELDSCOPE, "CORIO_EYIELDSCOPE",
     "async generator yielded inside a scope it opened"},
    {CORIO_ENOTFOUND, "CORIO_ENOTFOUND", "host or service name not found"},
    {CORIO_ENOADDRESS, "CORIO_ENOADDRESS",
     "host has no address of the requested family"},
    {CORIO_ETRYAGAIN, "CORIO_ETRYAGAIN",
     "temporary failure in name resolution"},
    {CORIO_ERESOLVE, "CORIO_ERESOLVE", "name resolution failed"},
    {CORIO_ESERVICE, "CORIO_ESERVICE",
     "service not known for the socket type"},
    {CORIO_ELIMIT, "CORIO_ELIMIT",
     "no delimiter within the stream's limit"},
    {CORIO_EINCOMPLETE, "CORIO_EINCOMPLETE",
     "stream ended before the requested bytes"},
    {CORIO_ESHUTTING, "CORIO_ESHUTTING", "server is shutting down"},
    {CORIO_ENOTBUILT, "CORIO_ENOTBUILT", "not built into this corio"},
};

#define E(x) {-x, #x, NULL}
static const struct corio_err_name sys[] = {
    E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
    E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
    E(EFAULT), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV), E(ENOTDIR),
    E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY), E(EFBIG),
    E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK), E(EPIPE), E(EDOM), E(ERANGE),
    E(EDEADLK), E(ENAMETOOLONG), E(ENOSYS), E(ENOTEMPTY), E(ENOTSUP),
    E(EOVERFLOW), E(ENOTSOCK), E(EDESTADDRREQ), E(EMSGSIZE), E(EPROTOTYPE),
    E(ENOPROTOOPT), E(EPROTONOSUPPORT), E(EAFNOSUPPORT), E(EADDRINUSE),
    E(EADDRNOTAVAIL), E(ENETDOWN), E(ENETUNREACH), E(ECONNABORTED),
    E(ECONNRESET), E(ENOBUFS), E(EISCONN), E(ENOTCONN), E(ESHUTDOWN),
    E(ETIMEDOUT), E(ECONNREFUSED), E(EHOSTUNREACH), E(EALREADY),
    E(EINPROGRESS), E(ECANCELED), E(EOWNERDEAD), E(ENOTRECOVERABLE),
    E(ENODATA), E(ESTALE), E(EILSEQ),
};
#undef E

static const struct corio_err_name *lookup(int code)
{
    size_t i;
    for (i = 0; i < sizeof own / sizeof own[0]; i++)
        if (own[i].code == code)
            return &own[i];
    for (i = 0; i < sizeof sys / sizeof sys[0]; i++)
        if (sys[i].code == code)
            return &sys[i];
    return NULL;
}

const char *corio_strerror(int code)
{
    const struct corio_err_name *e;
    if (code == 0)
        return "success";
    if (code == 1)
        return "yielded a value";
    if (code == 2)
        return "awaiting";
    if (code == CORIO_END)
        return "end of iteration";
    e = lookup(code);
    if (e && e->text)
        return e->text;
    if (e || (code < 0 && code > -4096 && strcmp(corio_errname(code), "E?")))
        return strerror(-code); /* glibc's table is static and immutable */
    return "unknown error";
}

const char *corio_errname(int code)
{
    const struct corio_err_name *e;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
    const char *g;
#endif
    if (code == 0)
        return "OK";
    if (code == 1)
        return "CORIO_YIELDED";
    if (code == 2)
        return "CORIO_AWAITING";
    if (code == CORIO_END)
        return "CORIO_END";
    e = lookup(code);
    if (e)
        return e->name;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
    /* -4096 < code: the kernel's errno range, and never -INT_MIN. */
    if (code < 0 && code > -4096 && (g = strerrorname_np(-code)) != NULL)
        return g; /* any errno our table lacks */
#endif
    return "E?";
}
