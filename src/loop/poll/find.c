/*
 * find.c: picks a poller backend by name (contract in poll.h).
 *
 * The name comes from the caller, else from $CORIO_BACKEND (read at each
 * call, so tests can switch backends per loop), else "epoll". An unknown
 * name gives NULL rather than a silent default, so a typo in the
 * environment is reported by the loop instead of ignored. Thread-safe as
 * long as nobody calls setenv() meanwhile (getenv's own rule).
 */
#include "poll.h"

#include <stdlib.h>
#include <string.h>

static const corio__poller_ops *const backends[] = {
    &corio__poll_epoll,
    &corio__poll_poll,
};

const corio__poller_ops *corio__poll_find(const char *name)
{
    size_t i;
    if (!name) {
        name = getenv("CORIO_BACKEND");
        if (!name || !*name)
            name = "epoll";
    }
    for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strcmp(name, backends[i]->name) == 0)
            return backends[i];
    return NULL;
}
